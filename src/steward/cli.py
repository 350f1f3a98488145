"""The ``steward`` command. Every command that reports accepts ``--json`` and then prints one
JSON document on standard output; progress bars go to standard error."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from steward import db
from steward.ingest import service as ingest_service
from steward.ingest.report import LoadReport, LoadStatus
from steward.lake.engine import make_engine
from steward.lake.service import Lake
from steward.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
lake_app = typer.Typer(no_args_is_help=True, help="Inspect and maintain the lake.")
app.add_typer(lake_app, name="lake")
tags_app = typer.Typer(no_args_is_help=True, help="The tag library and profile snapshots.")
app.add_typer(tags_app, name="tags")
segments_app = typer.Typer(no_args_is_help=True, help="Customer groups: rules, lists, sets.")
app.add_typer(segments_app, name="segments")
USER = Annotated[str, typer.Option("--user", envvar="STEWARD_USER", help="Acting user.")]

err = Console(stderr=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


@dataclass
class Context:
    """What every command needs, built once per invocation from the environment."""

    settings: Settings
    _engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = db.make_engine(self.settings.database_url)
            db.migrate(self._engine)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        return db.session_factory(self.engine)

    def lake(self) -> Lake:
        engine = make_engine(
            self.settings.analytics_engine,
            memory_limit=self.settings.analytics_memory_limit,
            temp_directory=self.settings.home / "tmp",
        )
        return Lake(self.settings.lake, engine)


def _context(ctx: typer.Context) -> Context:
    obj = ctx.ensure_object(dict)
    if "context" not in obj:
        try:
            obj["context"] = Context(Settings())
        except ValidationError as exc:
            problems = "; ".join(
                f"STEWARD_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise fail(f"bad settings: {problems}") from None
    context: Context = obj["context"]
    return context


def emit(as_json: bool, document: Any, render: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    else:
        render()


@contextmanager
def progress_bar(description: str, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on standard error, fed by ``update(done, total)``."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not enabled,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


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
    emit(as_json, document, lambda: _print_mapping("generated", document))


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
    report = _load(_context(ctx), source, encoding, max_bad_share, show_progress=not as_json)
    document = report.to_dict()
    emit(as_json, document, lambda: _print_load(document))
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
    emit(as_json, document, lambda: _print_mapping("mapped", document))


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
        lambda: _print_mapping(
            "interfaces",
            {n: ", ".join(f["name"] for f in d["fields"]) for n, d in document.items()},
        ),
    )


@lake_app.command("tables")
def lake_tables(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The lake's published tables: partitions, rows and days."""
    context = _context(ctx)
    lake = context.lake()
    with db.transaction(context.sessions) as session:
        summaries = [s.to_dict() for s in lake.summary(session)]
    emit(as_json, summaries, lambda: _print_tables(summaries))


@lake_app.command("vacuum")
def lake_vacuum(
    ctx: typer.Context,
    grace_s: Annotated[float | None, typer.Option(help="Keep files younger than this.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete lake files no catalogue entry points at (left by killed or replaced loads)."""
    context = _context(ctx)
    grace = context.settings.lake_vacuum_grace_s if grace_s is None else grace_s
    with db.transaction(context.sessions) as session:
        removed = context.lake().vacuum(session, grace_s=grace)
    document = {"removed": [str(p) for p in removed]}
    emit(as_json, document, lambda: err.print(f"removed {len(removed)} file(s)"))


@app.command()
def demo(
    ctx: typer.Context,
    subscribers: Annotated[int, typer.Option(min=1)] = 20_000,
    days: Annotated[int, typer.Option(min=1)] = 2,
    seed: Annotated[int, typer.Option()] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Generate a small province, load it, refresh the tags and trial-count a rule."""
    from steward.segments import service as segments
    from steward.synth.service import generate as run_generate
    from steward.tags import service as tags

    context = _context(ctx)
    delivery = context.settings.home / "deliveries" / f"demo-seed{seed}"
    with progress_bar("generating", not as_json) as update:
        generated = run_generate(
            subscribers=subscribers, days=days, seed=seed, out=delivery, progress=update
        )
    report = _load(context, delivery, "auto", None, show_progress=not as_json)
    if report.status is not LoadStatus.PUBLISHED:
        emit(as_json, report.to_dict(), lambda: _print_load(report.to_dict()))
        raise typer.Exit(1)
    as_of = generated.start + timedelta(days=days - 1)
    catalogue = tags.load_catalogue()
    lake = context.lake()
    with db.transaction(context.sessions) as session:
        refreshed = tags.refresh(session, lake, catalogue, as_of)
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
        "trial_count": trial,
    }

    def render() -> None:
        _print_load(load)
        _print_tables(tables)
        Console().print(
            f"tags: {refreshed.tags} for {refreshed.subscribers:,} subscribers "
            f"as of {as_of} in {refreshed.seconds:.2f} s"
        )
        Console().print(f"trial count of [bold]{DEMO_RULE}[/bold]:")
        _print_count(trial)

    emit(as_json, document, render)


DEMO_RULE = "brand = 'gotone' AND arpu_3m BETWEEN 50 AND 300 AND NOT complaint_sensitive"


def _load(
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


@tags_app.command("list")
def tags_list(
    group: Annotated[str | None, typer.Option(help="Only this group.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every tag in the catalogue: name, labels, type, source, window, refresh."""
    from steward.tags.service import load_catalogue

    tags = [
        t.model_dump(mode="json")
        for t in load_catalogue().tags
        if group is None or t.group == group
    ]

    def render() -> None:
        table = Table(title=f"{len(tags)} tags")
        for column in ("name", "label", "type", "source", "window", "refresh"):
            table.add_column(column)
        for t in tags:
            table.add_row(
                t["name"],
                f"{t['label_zh']} / {t['label_en']}",
                t["type"],
                t["source"],
                t["window"],
                t["refresh"],
            )
        Console().print(table)

    emit(as_json, tags, render)


@tags_app.command("show")
def tags_show(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """A tag's definition and its distribution in the latest snapshot."""
    from steward.tags.service import distribution, load_catalogue

    tag = load_catalogue().get(name)
    if tag is None:
        raise fail(f"unknown tag {name!r}")
    context = _context(ctx)
    with db.transaction(context.sessions) as session:
        document = {
            "tag": tag.model_dump(mode="json"),
            "distribution": distribution(session, context.lake(), tag),
        }
    emit(
        as_json,
        document,
        lambda: _print_mapping(name, document["tag"] | {"distribution": document["distribution"]}),
    )


@tags_app.command("refresh")
def tags_refresh(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Snapshot date, YYYY-MM-DD.")],
    as_json: JsonFlag = False,
) -> None:
    """Compute every tag for every subscriber as of a date; publish the profile snapshot."""
    from steward.tags.service import TagError, load_catalogue, refresh

    context = _context(ctx)
    catalogue = load_catalogue()
    try:
        with (
            db.transaction(context.sessions) as session,
            progress_bar("refreshing tags", not as_json) as update,
        ):
            update(0, 1)
            report = refresh(session, context.lake(), catalogue, date.fromisoformat(as_of))
    except TagError as exc:
        raise fail(str(exc)) from exc
    document = report.to_dict()
    emit(as_json, document, lambda: _print_mapping("profile snapshot", document))


@segments_app.command("count")
def segments_count(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="A condition over tags, in the rule language.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot date.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Trial-count a rule (试算): total, by city / brand / VIP level, a masked sample."""
    from steward.segments import service

    context = _context(ctx)
    with _segment_errors(), db.transaction(context.sessions) as session:
        result = service.trial_count(
            session, context.lake(), _catalogue(), rule=rule, as_of=_day(as_of)
        )
    document = result.model_dump(mode="json")
    emit(as_json, document, lambda: _print_count(document))


@segments_app.command("create")
def segments_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="A unique name.")],
    rule: Annotated[str | None, typer.Option(help="A condition over tags.")] = None,
    union: Annotated[str | None, typer.Option(help="Segment ids, comma-separated.")] = None,
    intersect: Annotated[str | None, typer.Option(help="Segment ids, comma-separated.")] = None,
    minus: Annotated[str | None, typer.Option(help="Segment ids: first minus the rest.")] = None,
    description: str = "",
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Save a rule segment, or a union / intersection / difference of segments."""
    from steward.segments import service
    from steward.segments.schemas import SegmentCreate, SegmentRead

    combos = {"union": union, "intersect": intersect, "minus": minus}
    chosen = {k: v for k, v in combos.items() if v}
    if len(chosen) > 1:
        raise fail("give one of --union, --intersect, --minus")
    payload: dict[str, Any] = {"name": name, "description": description, "rule": rule}
    for op, ids in chosen.items():
        payload |= {"combine": op, "operands": [int(i) for i in ids.split(",")]}
    context = _context(ctx)
    with _segment_errors(), db.transaction(context.sessions) as session:
        segment = service.create(
            session, _catalogue(), segment_in=SegmentCreate.model_validate(payload), by=user
        )
        document = SegmentRead.model_validate(segment).model_dump(mode="json")
    emit(as_json, document, lambda: _print_mapping(f"segment {document['id']}", document))


@segments_app.command("import")
def segments_import(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name.")],
    path: Annotated[Path, typer.Argument(help="A file of numbers, one a line.")],
    description: str = "",
    dry_run: Annotated[bool, typer.Option(help="Check the file, save nothing.")] = False,
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Save a static list of numbers as a segment; bad lines are reported by line number."""
    from steward.segments import service

    context = _context(ctx)
    with _segment_errors(), db.transaction(context.sessions) as session:
        report = service.import_list(
            session,
            context.lake(),
            name=name,
            path=path,
            description=description,
            by=user,
            dry_run=dry_run,
        )
    document = report.model_dump(mode="json")
    emit(as_json, document, lambda: _print_mapping("list import", document))
    if report.accepted == 0:
        raise typer.Exit(1)


@segments_app.command("list")
def segments_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every saved segment."""
    from steward.segments import service
    from steward.segments.schemas import SegmentRead

    context = _context(ctx)
    with db.transaction(context.sessions) as session:
        rows = [
            SegmentRead.model_validate(s).model_dump(mode="json") for s in service.list_all(session)
        ]

    def render() -> None:
        table = Table(title=f"{len(rows)} segments")
        for column in ("id", "name", "kind", "definition", "owner"):
            table.add_column(column)
        for r in rows:
            definition = r["rule"] or (
                f"{r['combine_op']} {r['operands']}"
                if r["combine_op"]
                else f"{r['list_size']} numbers"
            )
            table.add_row(str(r["id"]), r["name"], r["kind"], definition, r["owner"])
        Console().print(table)

    emit(as_json, rows, render)


@segments_app.command("show")
def segments_show(
    ctx: typer.Context,
    segment_id: int,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
    snapshot: Annotated[bool, typer.Option(help="Write the membership to the lake.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """A segment's definition and its count (optionally snapshot its members)."""
    from steward.segments import service
    from steward.segments.schemas import SegmentRead

    context = _context(ctx)
    with _segment_errors(), db.transaction(context.sessions) as session:
        segment = service.get(session, segment_id)
        if segment is None:
            raise fail(f"no segment {segment_id}")
        lake = context.lake()
        document: dict[str, Any] = {
            "segment": SegmentRead.model_validate(segment).model_dump(mode="json"),
            "count": service.count(session, lake, _catalogue(), segment, _day(as_of)).model_dump(
                mode="json"
            ),
        }
        if snapshot:
            members = service.snapshot_members(session, lake, _catalogue(), segment, _day(as_of))
            document["snapshot"] = {k: str(v) for k, v in members.items()}

    def render() -> None:
        _print_mapping(document["segment"]["name"], document["segment"])
        _print_count(document["count"])

    emit(as_json, document, render)


@app.command()
def serve(
    ctx: typer.Context,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Serve the REST API (OpenAPI at /docs) on embedded defaults."""
    import uvicorn

    from steward.web.app import create_app

    uvicorn.run(create_app(_context(ctx).settings), host=host, port=port)


def _catalogue() -> Any:
    from steward.tags.service import load_catalogue

    return load_catalogue()


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@contextmanager
def _segment_errors() -> Iterator[None]:
    from steward.rules import RuleError
    from steward.segments.service import SegmentError

    try:
        yield
    except RuleError as exc:
        raise fail(str(exc)) from exc
    except (SegmentError, ValueError) as exc:
        raise fail(str(exc)) from exc


def _print_count(document: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]{document['total']:,}[/bold] subscribers as of {document['as_of']}")
    for dim in ("by_city", "by_brand", "by_vip_level"):
        parts = ", ".join(f"{k} {v:,}" for k, v in list(document[dim].items())[:8])
        console.print(f"  {dim.removeprefix('by_')}: {parts}")
    for row in document["sample"]:
        console.print("  " + "  ".join(str(v) for v in row.values()))


def _print_mapping(title: str, document: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False)
    for key, value in document.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        table.add_row(str(key), str(shown))
    Console().print(table)


def _print_load(document: dict[str, Any]) -> None:
    table = Table(title=f"load {document['load_id']}: {document['status']}")
    for column in ("file", "status", "rows read", "loaded", "quarantined", "by reason"):
        table.add_column(column)
    for f in document["files"]:
        reasons = ", ".join(f"{k} {v}" for k, v in f["by_reason"].items())
        table.add_row(
            f["file"],
            f["status"],
            str(f["rows_read"]),
            str(f["rows_loaded"]),
            str(f["rows_quarantined"]),
            reasons or f["message"],
        )
    Console().print(table)
    Console().print(document["message"])


def _print_tables(tables: list[dict[str, Any]]) -> None:
    table = Table(title="the lake")
    for column in ("table", "partitions", "rows", "first day", "last day"):
        table.add_column(column)
    for t in tables:
        table.add_row(
            t["table"], str(t["partitions"]), f"{t['rows']:,}", t["first_day"], t["last_day"]
        )
    Console().print(table)


if __name__ == "__main__":  # pragma: no cover
    app()
