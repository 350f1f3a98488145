"""The offer catalogue: create and import offers, each checked against billing (R-OFFER-1..4).

An offer names the billing product it orders; the product must be in the latest published
product catalogue, so a campaign can never promise what billing cannot open. Its eligibility
is a rule over tags, checked when the offer is saved.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.lake.service import Lake
from steward.offers.models import Offer
from steward.offers.schemas import OfferCreate, reply_code_of
from steward.rules import RuleError, parse_rule
from steward.tags.schemas import TagCatalogue
from steward.tags.service import rule_types
from steward.wording import N_, Refusal

SAMPLES = Path(__file__).with_name("samples.yaml")


class OfferError(Refusal):
    """An offer that cannot be saved; the message names the offer and the reason (a
    ``Refusal``: its wording apart from its values)."""


def billing_products(session: Session, lake: Lake, product_ids: set[str]) -> set[str]:
    """Which of ``product_ids`` the latest published product catalogue holds."""
    day = lake.latest_day(session, "product", date.max)
    if day is None:
        raise OfferError(N_("no product catalogue is published: load a product_<date> file first"))
    files = lake.files(session, "product", days=(day, day))
    known = (
        lake.engine.query(f"SELECT DISTINCT product_id FROM {lake.engine.scan_parquet(files)}")
        .column("product_id")
        .to_pylist()
    )
    return product_ids & {str(p) for p in known}


def create(
    session: Session, lake: Lake, catalogue: TagCatalogue, *, offer_in: OfferCreate, by: str
) -> Offer:
    """Save one offer after checking its billing product, eligibility rule and codes."""
    return create_many(session, lake, catalogue, offers_in=[offer_in], by=by)[0]


def create_many(
    session: Session, lake: Lake, catalogue: TagCatalogue, *, offers_in: list[OfferCreate], by: str
) -> list[Offer]:
    """Save offers all or none: every problem of every offer is reported together."""
    wanted = {o.billing_product_id for o in offers_in if o.billing_product_id}
    known = billing_products(session, lake, wanted) if wanted else set()
    types = rule_types(catalogue)
    problems: list[str] = []
    codes: set[str] = set()
    for offer_in in offers_in:
        problems += _problems(session, offer_in, known, types, codes)
    if problems:
        # every offer's problems at once: a list in English (the API's), no one wording
        raise OfferError("; ".join(problems))
    offers = [_offer(o, by) for o in offers_in]
    session.add_all(offers)
    session.flush()
    return offers


def _problems(
    session: Session,
    offer_in: OfferCreate,
    known: set[str],
    types: dict[str, str],
    seen: set[str],
) -> list[str]:
    found = []
    code = offer_in.code
    if offer_in.billing_product_id and offer_in.billing_product_id not in known:
        found.append(
            f"{code}: billing product {offer_in.billing_product_id} is not in the "
            "published product catalogue"
        )
    try:
        parse_rule(offer_in.eligibility, types)
    except RuleError as exc:
        found.append(f"{code}: eligibility {exc}")
    if code in seen or session.scalar(select(Offer.id).where(Offer.code == code)):
        found.append(f"{code}: an offer with this code exists already")
    reply = offer_in.reply_code
    if reply and (f"reply:{reply}" in seen or by_reply_code(session, reply) is not None):
        found.append(f"{code}: reply code {reply} is taken")
    seen.update({code, f"reply:{reply}"})
    return found


def _offer(offer_in: OfferCreate, by: str) -> Offer:
    data = offer_in.model_dump(mode="json", exclude={"channel_fit"})
    data["channel_fit"] = {c.value: p for c, p in offer_in.effective_channel_fit().items()}
    data["offer_type"] = offer_in.offer_type.value
    return Offer(**data, created_by=by)


def import_file(
    session: Session, lake: Lake, catalogue: TagCatalogue, *, path: Path, by: str
) -> list[Offer]:
    """Load offers from a YAML file (``offers: [...]``), all or none."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = document.get("offers") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise OfferError(N_("%(file)s: expected a list under 'offers'"), file=path.name)
    offers_in, problems = [], []
    for number, item in enumerate(items, start=1):
        try:
            offers_in.append(OfferCreate.model_validate(item))
        except ValidationError as exc:
            name = item.get("code", f"offer {number}") if isinstance(item, dict) else number
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "offer"
                problems.append(f"{name}: {where}: {error['msg']}")
    if problems:
        raise OfferError(f"{path.name}: " + "; ".join(problems))  # a list, as above
    return create_many(session, lake, catalogue, offers_in=offers_in, by=by)


def get(session: Session, offer_id: int) -> Offer | None:
    return session.get(Offer, offer_id)


def list_all(session: Session, *, active_only: bool = False) -> list[Offer]:
    query = select(Offer).order_by(Offer.code)
    if active_only:
        query = query.where(Offer.active)
    return list(session.scalars(query))


def by_reply_code(session: Session, text: str) -> Offer | None:
    """The offer a customer's SMS reply orders ('kt 10g' finds reply code KT10G)."""
    return session.scalar(select(Offer).where(Offer.reply_code == reply_code_of(text)))
