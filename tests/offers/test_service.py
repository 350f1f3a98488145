"""The offer catalogue: every offer checked against billing, rules, codes and templates."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.offers import service
from steward.offers.schemas import OfferCreate
from steward.synth.catalogue import CATALOGUE
from steward.tags import service as tags_service
from steward.tags.schemas import TagCatalogue
from tests.tags import factories as f

SAMPLES = Path(__file__).parents[2] / "src" / "steward" / "offers" / "samples.yaml"


@pytest.fixture
def catalogue() -> TagCatalogue:
    return tags_service.load_catalogue()


@pytest.fixture
def billing(session: Session, lake: Lake) -> Lake:
    f.publish(session, lake, "product", date(2026, 11, 1), [asdict(p) for p in CATALOGUE])
    return lake


def data_pack(**overrides: Any) -> OfferCreate:
    offer: dict[str, Any] = {
        "code": "DP5G",
        "name_zh": "5GB流量包",
        "name_en": "5 GB pack",
        "billing_product_id": "DP_5GB_20",
        "offer_type": "data_pack",
        "category": "data",
        "price": 20,
        "sms_zh": "回复{reply_code}订购{offer_name}",
        "reply_code": "KT5G",
    }
    return OfferCreate.model_validate(offer | overrides)


def test_the_sample_offers_load_with_their_channel_fit(
    session: Session, billing: Lake, catalogue: TagCatalogue
) -> None:
    offers = service.import_file(session, billing, catalogue, path=SAMPLES, by="planner")
    by_code = {o.code: o for o in offers}
    assert set(by_code) == {"DP10G", "FAMSHARE", "HS5G24", "BIRTHDAY", "LOWBAL", "RETAIN200"}
    assert (
        min(by_code["RETAIN200"].channel_fit, key=by_code["RETAIN200"].channel_fit.get)
        == "outbound"
    )
    assert min(by_code["DP10G"].channel_fit, key=by_code["DP10G"].channel_fit.get) == "sms"
    assert min(by_code["HS5G24"].channel_fit, key=by_code["HS5G24"].channel_fit.get) == "hall"
    assert service.by_reply_code(session, "kt 10g") is by_code["DP10G"]


def test_an_offer_for_a_product_billing_does_not_know_is_refused(
    session: Session, billing: Lake, catalogue: TagCatalogue
) -> None:
    with pytest.raises(service.OfferError, match="DP_NOPE is not in the published product"):
        service.create(
            session,
            billing,
            catalogue,
            offer_in=data_pack(billing_product_id="DP_NOPE"),
            by="planner",
        )


def test_without_a_product_catalogue_nothing_can_be_checked(
    session: Session, lake: Lake, catalogue: TagCatalogue
) -> None:
    with pytest.raises(service.OfferError, match="no product catalogue is published"):
        service.create(session, lake, catalogue, offer_in=data_pack(), by="planner")


def test_eligibility_is_a_checked_rule(
    session: Session, billing: Lake, catalogue: TagCatalogue
) -> None:
    with pytest.raises(service.OfferError, match=r"DP5G: eligibility .*unknown tag 'arpu'"):
        service.create(
            session, billing, catalogue, offer_in=data_pack(eligibility="arpu > 50"), by="planner"
        )


def test_codes_and_reply_codes_are_unique(
    session: Session, billing: Lake, catalogue: TagCatalogue
) -> None:
    service.create(session, billing, catalogue, offer_in=data_pack(), by="planner")
    with pytest.raises(service.OfferError) as caught:
        service.create(
            session,
            billing,
            catalogue,
            offer_in=data_pack(code="DP5G", reply_code="KT5G"),
            by="planner",
        )
    assert "exists already" in str(caught.value)
    assert "reply code KT5G is taken" in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sms_zh": "您好{name}"}, "unknown placeholder"),
        ({"sms_zh": "回复{reply_code}", "reply_code": None}, "names {reply_code}"),
        ({"billing_product_id": None}, "needs its billing_product_id"),
        ({"sms_zh": None}, "needs an sms_zh template"),
        ({"channel_fit": {"sms": 0}}, "priorities 1"),
        ({"code": "dp 5g"}, "String should match pattern"),
        ({"price": -1}, "greater than or equal to 0"),
    ],
)
def test_a_malformed_offer_is_refused_with_the_reason(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        data_pack(**overrides)


def test_an_import_reports_every_bad_offer_and_saves_none(
    session: Session, billing: Lake, catalogue: TagCatalogue, tmp_path: Path
) -> None:
    good = yaml.safe_load(SAMPLES.read_text(encoding="utf-8"))["offers"]
    bad = [good[0], good[1] | {"price": "free"}, good[2] | {"billing_product_id": "HS_NONE"}]
    path = tmp_path / "offers.yaml"
    path.write_text(yaml.safe_dump({"offers": bad}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(service.OfferError, match="FAMSHARE: price"):
        service.import_file(session, billing, catalogue, path=path, by="planner")
    assert service.list_all(session) == []


def test_offers_through_the_api(api: Any) -> None:
    planner, clerk = api.as_("planner"), api.as_("clerk")
    body = data_pack().model_dump(mode="json")
    refused = api.client.post("/offers", json=body, headers=planner)
    assert refused.status_code == 422  # the test app has no product catalogue published
    assert "no product catalogue" in refused.json()["detail"]["message"]
    assert api.client.get("/offers", headers=clerk).json() == []
    assert api.client.post("/offers", json=body, headers=clerk).status_code == 403
