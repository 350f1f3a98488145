"""SIMULATION commands, for demos: play the customers' side from the synthetic hidden truth."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from steward import db
from steward.cli.common import JsonFlag, app, context_of, emit, fail, parse_day, print_mapping

simulate_app = typer.Typer(
    no_args_is_help=True, help="Simulations for demos (never part of the platform's decisions)."
)
app.add_typer(simulate_app, name="simulate")


@simulate_app.command("responses")
def simulate_responses(
    ctx: typer.Context,
    truth: Annotated[Path, typer.Option(help="The generator's truth file (subscribers.parquet).")],
    day: Annotated[str | None, typer.Option(help="The contacts' day (default: today).")] = None,
    seed: Annotated[int, typer.Option()] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Customers answer the day's SMS and calls, and some order on their own (control too)."""
    from steward.channels import service as channels
    from steward.channels.orders import SimulatedOrderCentre
    from steward.channels.sms import SimulatedSmsCentre
    from steward.simulation.responses import simulate_responses as simulate

    if not truth.is_file():
        raise fail(f"{truth}: no such truth file (the generator writes OUT.truth/)")
    context = context_of(ctx)
    business_day = parse_day(day)
    now = datetime.combine(business_day, time(10, 0), tzinfo=UTC)
    centre, orders = SimulatedSmsCentre(), SimulatedOrderCentre()
    lake = context.lake()
    with db.transaction(context.sessions) as session:
        channels.collect_receipts(session, centre)
    with db.transaction(context.sessions) as session:
        report = simulate(
            session,
            lake,
            truth=truth,
            day=business_day,
            now=now,
            seed=seed,
            centre=centre,
            orders=orders,
        )
    with db.transaction(context.sessions) as session:
        replies = channels.process_replies(session, centre, orders)
    document = report.to_dict() | {"replies_processed": replies.processed}
    emit(as_json, document, lambda: print_mapping("simulated responses", document))
