"""Commands for the offer catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from steward import db
from steward.cli.common import (
    USER,
    JsonFlag,
    app,
    context_of,
    emit,
    fail,
    print_mapping,
    print_rows,
    tag_catalogue,
)
from steward.offers.service import SAMPLES

offers_app = typer.Typer(no_args_is_help=True, help="The offer catalogue.")
app.add_typer(offers_app, name="offers")


@offers_app.command("import")
def offers_import(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A YAML file with a list under 'offers'.")] = SAMPLES,
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Add offers from a file, all or none; each must name a published billing product."""
    from steward.offers import service
    from steward.offers.schemas import OfferRead

    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            offers = service.import_file(
                session, context.lake(), tag_catalogue(), path=path, by=user
            )
            rows = [OfferRead.model_validate(o).model_dump(mode="json") for o in offers]
    except service.OfferError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, rows, lambda: Console().print(f"imported {len(rows)} offer(s)"))


@offers_app.command("list")
def offers_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every offer: code, names, billing product, type, price, channels."""
    from steward.offers import service
    from steward.offers.schemas import OfferRead

    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        rows = [
            OfferRead.model_validate(o).model_dump(mode="json") for o in service.list_all(session)
        ]

    def render() -> None:
        print_rows(
            f"{len(rows)} offers",
            ("code", "name", "billing product", "type", "price", "channels"),
            (
                [
                    r["code"],
                    f"{r['name_zh']} / {r['name_en']}",
                    r["billing_product_id"] or "-",
                    r["offer_type"],
                    f"{r['price']:g}",
                    ", ".join(sorted(r["channel_fit"], key=r["channel_fit"].get)),
                ]
                for r in rows
            ),
        )

    emit(as_json, rows, render)


@offers_app.command("show")
def offers_show(ctx: typer.Context, code: str, as_json: JsonFlag = False) -> None:
    """One offer, whole: eligibility, channel fit, scripts, SMS templates."""
    from steward.offers import service
    from steward.offers.schemas import OfferRead

    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        offer = next((o for o in service.list_all(session) if o.code == code), None)
        if offer is None:
            raise fail(f"no offer {code!r}")
        document: dict[str, Any] = OfferRead.model_validate(offer).model_dump(mode="json")
    emit(as_json, document, lambda: print_mapping(code, document))
