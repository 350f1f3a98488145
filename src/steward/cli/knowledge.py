"""Commands for customer knowledge: the tag library and segments."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from steward import db
from steward.cli.common import (
    USER,
    JsonFlag,
    context_of,
    day_of,
    emit,
    fail,
    print_count,
    print_mapping,
    progress_bar,
    segment_errors,
    segments_app,
    tag_catalogue,
    tags_app,
)


@tags_app.command("list")
def tags_list(
    group: Annotated[str | None, typer.Option(help="Only this group.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every tag in the catalogue: name, labels, type, source, window, refresh."""

    tags = [
        t.model_dump(mode="json") for t in tag_catalogue().tags if group is None or t.group == group
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
    from steward.tags.service import distribution

    tag = tag_catalogue().get(name)
    if tag is None:
        raise fail(f"unknown tag {name!r}")
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        document = {
            "tag": tag.model_dump(mode="json"),
            "distribution": distribution(session, context.lake(), tag),
        }
    emit(
        as_json,
        document,
        lambda: print_mapping(name, document["tag"] | {"distribution": document["distribution"]}),
    )


@tags_app.command("refresh")
def tags_refresh(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Snapshot date, YYYY-MM-DD.")],
    as_json: JsonFlag = False,
) -> None:
    """Compute every tag for every subscriber as of a date; publish the profile snapshot."""
    from steward.tags.service import TagError, refresh

    context = context_of(ctx)
    catalogue = tag_catalogue()
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
    emit(as_json, document, lambda: print_mapping("profile snapshot", document))


@segments_app.command("count")
def segments_count(
    ctx: typer.Context,
    rule: Annotated[str, typer.Argument(help="A condition over tags, in the rule language.")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot date.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the breakdown for Excel.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Trial-count a rule (试算): total, by city / brand / VIP level, a masked sample."""
    from steward.segments import service

    context = context_of(ctx)
    with segment_errors(), db.transaction(context.sessions) as session:
        result = service.trial_count(
            session, context.lake(), tag_catalogue(), rule=rule, as_of=day_of(as_of)
        )
    if csv is not None:
        service.write_count_csv(result, rule, csv)
    document = result.model_dump(mode="json")
    emit(as_json, document, lambda: print_count(document))


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
    context = context_of(ctx)
    with segment_errors(), db.transaction(context.sessions) as session:
        segment = service.create(
            session, tag_catalogue(), segment_in=SegmentCreate.model_validate(payload), by=user
        )
        document = SegmentRead.model_validate(segment).model_dump(mode="json")
    emit(as_json, document, lambda: print_mapping(f"segment {document['id']}", document))


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

    context = context_of(ctx)
    with segment_errors(), db.transaction(context.sessions) as session:
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
    emit(as_json, document, lambda: print_mapping("list import", document))
    if report.accepted == 0:
        raise typer.Exit(1)


@segments_app.command("list")
def segments_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every saved segment."""
    from steward.segments import service
    from steward.segments.schemas import SegmentRead

    context = context_of(ctx)
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

    context = context_of(ctx)
    with segment_errors(), db.transaction(context.sessions) as session:
        segment = service.get(session, segment_id)
        if segment is None:
            raise fail(f"no segment {segment_id}")
        lake = context.lake()
        document: dict[str, Any] = {
            "segment": SegmentRead.model_validate(segment).model_dump(mode="json"),
            "count": service.count(
                session, lake, tag_catalogue(), segment, day_of(as_of)
            ).model_dump(mode="json"),
        }
        if snapshot:
            members = service.snapshot_members(
                session, lake, tag_catalogue(), segment, day_of(as_of)
            )
            document["snapshot"] = {k: str(v) for k, v in members.items()}

    def render() -> None:
        print_mapping(document["segment"]["name"], document["segment"])
        print_count(document["count"])

    emit(as_json, document, render)
