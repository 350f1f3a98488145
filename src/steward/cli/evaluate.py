"""Commands for evaluation: experiments from files, the daily report, the contact ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward import db
from steward.cli.common import (
    JsonFlag,
    app,
    context_of,
    emit,
    fail,
    parse_day,
    print_mapping,
    print_rows,
)

evaluate_app = typer.Typer(no_args_is_help=True, help="Evaluate campaigns and experiments.")
app.add_typer(evaluate_app, name="evaluate")
contacts_app = typer.Typer(no_args_is_help=True, help="The contact ledger.")
app.add_typer(contacts_app, name="contacts")


@evaluate_app.command("experiment")
def evaluate_experiment(
    path: Annotated[Path, typer.Argument(help="A CSV (UTF-8) or Parquet file, one row a unit.")],
    arm: Annotated[str, typer.Option(help="The column naming each row's arm.")],
    control: Annotated[str, typer.Option(help="The arm value of the control group.")],
    outcome: Annotated[str, typer.Option(help="The success column: 1/0, true/false, yes/no.")],
    as_json: JsonFlag = False,
) -> None:
    """Each arm against the control: rates, absolute lift, its 95 % interval and p-value."""
    from steward.evaluation.experiment import ExperimentError, evaluate_file

    try:
        report = evaluate_file(path, arm=arm, control=control, outcome=outcome)
    except ExperimentError as exc:
        raise fail(str(exc)) from exc
    document = report.to_dict()
    emit(as_json, document, lambda: print_comparisons(document))


def print_comparisons(document: dict[str, Any]) -> None:
    print_rows(
        f"{document['file']}: {document['rows']} rows, control {document['control']!r}",
        ("arm", "n", "rate", "control rate", "lift", "95% interval", "p-value"),
        (
            [
                c["arm"],
                c["n_arm"],
                f"{c['rate_arm']:.4f}",
                f"{c['rate_control']:.4f}",
                f"{c['lift']:+.4f}",
                f"[{c['ci_low']:+.4f}, {c['ci_high']:+.4f}]",
                f"{c['p_value']:.4g}",
            ]
            for c in document["comparisons"]
        ),
    )


@evaluate_app.command("daily")
def evaluate_daily(
    ctx: typer.Context,
    until: Annotated[str | None, typer.Option(help="The last day (default: today).")] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the report as CSV.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The daily execution report (R-EVAL-3) by date, city, county, brand, campaign, channel."""
    from steward.evaluation import service as evaluation

    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        table = evaluation.daily_report(session, context.lake(), until=parse_day(until))
    if out is not None:
        import pyarrow.csv as pacsv

        out.parent.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(table, out)
    rows = table.to_pylist()
    emit(as_json, rows, lambda: print_daily(rows))


def print_daily(rows: list[dict[str, Any]]) -> None:
    columns = (
        "day",
        "city",
        "county",
        "brand",
        "campaign_id",
        "channel",
        "target_users",
        "contacted_today",
        "new_orders_today",
        "cumulative_contacted",
        "cumulative_orders",
    )
    print_rows(f"daily report: {len(rows)} rows", columns, ([r[c] for c in columns] for r in rows))


@contacts_app.command("export")
def contacts_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The Parquet file to write.")],
    as_json: JsonFlag = False,
) -> None:
    """Write the whole contact ledger as Parquet (columns in docs/contacts.md)."""
    from steward.contacts import service as ledger

    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        rows = ledger.export(session, out)
    document = {"file": str(out), "rows": rows}
    emit(as_json, document, lambda: print_rows("contacts export", ("file", "rows"), [[out, rows]]))


@contacts_app.command("feedback")
def contacts_feedback(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A feedback file (docs/feedback-files.md).")],
    source: Annotated[str, typer.Option(help="Who sent it: a partner, a hall, a gateway.")],
    as_json: JsonFlag = False,
) -> None:
    """Channel results from a file (R-EVAL-2): checked, bad rows quarantined, all or nothing."""
    from steward.channels.feedback import FeedbackFileError, FeedbackStatus, import_feedback

    context = context_of(ctx)
    settings = context.settings
    try:
        with db.transaction(context.sessions) as session:
            report = import_feedback(
                session,
                context.lake(),
                path=path,
                source=source,
                max_bad_share=settings.ingest_max_bad_share,
                quarantine_root=settings.quarantine_path,
            )
    except FeedbackFileError as exc:
        raise fail(str(exc)) from exc
    document = report.to_dict()
    emit(as_json, document, lambda: print_mapping(f"feedback {path.name}", document))
    if report.status is FeedbackStatus.REJECTED:
        raise typer.Exit(1)
