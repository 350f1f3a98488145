"""The demo and the API server."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console

from steward import db
from steward.cli.common import (
    JsonFlag,
    app,
    context_of,
    emit,
    print_count,
    print_load,
    print_tables,
    progress_bar,
)
from steward.cli.data import load_delivery
from steward.ingest.report import LoadStatus


@app.command()
def demo(
    ctx: typer.Context,
    subscribers: Annotated[int, typer.Option(min=1)] = 20_000,
    days: Annotated[int, typer.Option(min=1)] = 2,
    seed: Annotated[int, typer.Option()] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Generate a small province, load it, refresh the tags and trial-count a rule."""
    from steward.offers import service as offers
    from steward.segments import service as segments
    from steward.synth.service import generate as run_generate
    from steward.tags import service as tags

    context = context_of(ctx)
    delivery = context.settings.home / "deliveries" / f"demo-seed{seed}"
    with progress_bar("generating", not as_json) as update:
        generated = run_generate(
            subscribers=subscribers, days=days, seed=seed, out=delivery, progress=update
        )
    report = load_delivery(context, delivery, "auto", None, show_progress=not as_json)
    if report.status is not LoadStatus.PUBLISHED:
        emit(as_json, report.to_dict(), lambda: print_load(report.to_dict()))
        raise typer.Exit(1)
    as_of = generated.start + timedelta(days=days - 1)
    catalogue = tags.load_catalogue()
    lake = context.lake()
    with db.transaction(context.sessions) as session:
        refreshed = tags.refresh(session, lake, catalogue, as_of)
    with db.transaction(context.sessions) as session:
        if not offers.list_all(session):  # a second demo keeps the offers of the first
            offers.import_file(session, lake, catalogue, path=offers.SAMPLES, by="demo")
        offer_codes = [o.code for o in offers.list_all(session)]
    with db.transaction(context.sessions) as session:
        tables = [s.to_dict() for s in lake.summary(session)]
        counted = segments.trial_count(session, lake, catalogue, rule=DEMO_RULE)
    load = report.to_dict()
    trial = {"rule": DEMO_RULE} | counted.model_dump(mode="json")
    document = {
        "generated": generated.to_dict(),
        "load": load,
        "lake": tables,
        "tags": refreshed.to_dict(),
        "offers": offer_codes,
        "trial_count": trial,
    }

    def render() -> None:
        print_load(load)
        print_tables(tables)
        Console().print(
            f"tags: {refreshed.tags} for {refreshed.subscribers:,} subscribers "
            f"as of {as_of} in {refreshed.seconds:.2f} s"
        )
        Console().print(f"offers in the catalogue: {', '.join(offer_codes)}")
        Console().print(f"trial count of [bold]{DEMO_RULE}[/bold]:")
        print_count(trial)

    emit(as_json, document, render)


DEMO_RULE = "brand = 'gotone' AND arpu_3m BETWEEN 50 AND 300 AND NOT complaint_sensitive"


@app.command()
def serve(
    ctx: typer.Context,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Serve the REST API (OpenAPI at /docs) on embedded defaults."""
    import uvicorn

    from steward.web.app import create_app

    uvicorn.run(create_app(context_of(ctx).settings), host=host, port=port)
