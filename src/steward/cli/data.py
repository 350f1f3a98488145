"""Commands for the operator's data: generate, ingest, map, interfaces, the lake."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from steward import db
from steward.cli.common import (
    Context,
    JsonFlag,
    app,
    context_of,
    emit,
    err,
    fail,
    lake_app,
    print_load,
    print_mapping,
    print_tables,
    progress_bar,
)
from steward.ingest import service as ingest_service
from steward.ingest.report import LoadReport, LoadStatus


@app.command()
def generate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for the interface files.")],
    subscribers: Annotated[int, typer.Option(min=1, help="Subscribers in the province.")] = 10_000,
    days: Annotated[int, typer.Option(min=1, help="Days of usage records.")] = 1,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")] = "2026-11-01",
    truth: Annotated[
        Path | None, typer.Option(help="Ground-truth folder (default OUT.truth).")
    ] = None,
    text_encoding: Annotated[
        str | None, typer.Option(help="Write |-delimited text in this encoding (utf-8, gbk).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write a synthetic province as an operator's interface files, with hidden ground truth."""
    from steward.synth.service import generate as run_generate

    with progress_bar("generating", not as_json) as update:
        summary = run_generate(
            subscribers=subscribers,
            days=days,
            seed=seed,
            out=out,
            start=date.fromisoformat(start),
            truth_out=truth,
            text_encoding=text_encoding,
            progress=update,
        )
    document = summary.to_dict()
    emit(as_json, document, lambda: print_mapping("generated", document))


@app.command()
def ingest(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A delivery folder or one interface file.")],
    encoding: Annotated[
        str, typer.Option(help="Text encoding, or auto (UTF-8, else GBK).")
    ] = "auto",
    max_bad_share: Annotated[
        float | None, typer.Option(help="Reject a file with a larger share of bad rows.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Validate and load interface files; bad rows go to quarantine, the load is all-or-nothing.

    Exits 1 when the load was rejected (nothing published), 2 on a delivery error.
    """
    report = load_delivery(
        context_of(ctx), source, encoding, max_bad_share, show_progress=not as_json
    )
    document = report.to_dict()
    emit(as_json, document, lambda: print_load(document))
    if report.status is not LoadStatus.PUBLISHED:
        raise typer.Exit(1)


@app.command(name="map")
def map_foreign(
    mapping: Annotated[Path, typer.Argument(help="Mapping config (YAML).")],
    source: Annotated[Path, typer.Argument(help="The foreign file.")],
    out: Annotated[Path, typer.Option(help="Folder for the interface files it becomes.")],
    as_of: Annotated[
        str | None, typer.Option(help="Snapshot date, YYYY-MM-DD (default: the mapping's).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Turn a foreign customer file into interface files (then load them with ``ingest``)."""
    from steward.ingest.mapping import MappingError, apply_mapping, load_mapping

    day = date.fromisoformat(as_of) if as_of else None
    try:
        report = apply_mapping(load_mapping(mapping), source, out, as_of=day, overwrite=overwrite)
    except MappingError as exc:
        raise fail(str(exc)) from exc
    document = report.to_dict()
    emit(as_json, document, lambda: print_mapping("mapped", document))


@app.command()
def interfaces(
    as_json: JsonFlag = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the reference.")] = False,
) -> None:
    """The interface files Steward reads: fields, types and checks."""
    from steward.ingest.describe import interfaces_markdown
    from steward.ingest.schemas import INTERFACES

    if markdown:
        sys.stdout.write(interfaces_markdown())
        return
    document: dict[str, dict[str, Any]] = {
        name: {
            "description": i.description,
            "key": list(i.key),
            "date_field": i.date_field,
            "references": i.references,
            "fields": [
                {"name": f.name, "type": f.type.value, "required": f.required} for f in i.fields
            ],
        }
        for name, i in INTERFACES.items()
    }
    emit(
        as_json,
        document,
        lambda: print_mapping(
            "interfaces",
            {n: ", ".join(f["name"] for f in d["fields"]) for n, d in document.items()},
        ),
    )


@lake_app.command("tables")
def lake_tables(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The lake's published tables: partitions, rows and days."""
    context = context_of(ctx)
    lake = context.lake()
    with db.transaction(context.sessions) as session:
        summaries = [s.to_dict() for s in lake.summary(session)]
    emit(as_json, summaries, lambda: print_tables(summaries))


@lake_app.command("late")
def lake_late(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="The day whose files are due.")],
    as_json: JsonFlag = False,
) -> None:
    """Daily interface files not yet delivered for a day; exits 1 when any is late."""
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        late = ingest_service.late_interfaces(session, context.lake(), date.fromisoformat(as_of))
    emit(
        as_json,
        late,
        lambda: print_mapping(
            f"late files for {as_of}", {str(r["interface"]): r["last_published"] for r in late}
        ),
    )
    if late:
        raise typer.Exit(1)


@lake_app.command("vacuum")
def lake_vacuum(
    ctx: typer.Context,
    grace_s: Annotated[float | None, typer.Option(help="Keep files younger than this.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete lake files no catalogue entry points at (left by killed or replaced loads)."""
    context = context_of(ctx)
    grace = context.settings.lake_vacuum_grace_s if grace_s is None else grace_s
    with db.transaction(context.sessions) as session:
        removed = context.lake().vacuum(session, grace_s=grace)
    document = {"removed": [str(p) for p in removed]}
    emit(as_json, document, lambda: err.print(f"removed {len(removed)} file(s)"))


def load_delivery(
    context: Context,
    source: Path,
    encoding: str,
    max_bad_share: float | None,
    *,
    show_progress: bool,
) -> LoadReport:
    settings = context.settings
    options = ingest_service.IngestOptions(
        quarantine_root=settings.quarantine_path,
        max_bad_share=settings.ingest_max_bad_share if max_bad_share is None else max_bad_share,
        encoding=encoding,
        vacuum_grace_s=settings.lake_vacuum_grace_s,
    )
    try:
        with (
            db.transaction(context.sessions) as session,
            progress_bar("ingesting", show_progress) as update,
        ):
            return ingest_service.ingest(
                session,
                context.lake(),
                source,
                options,
                progress=lambda _name, done, total: update(done, total),
            )
    except ingest_service.DeliveryError as exc:
        raise fail(str(exc)) from exc
