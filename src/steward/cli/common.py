"""What every command shares: the apps, the context built from settings, output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from steward import db
from steward.lake.engine import make_engine
from steward.lake.service import Lake
from steward.settings import Settings

if TYPE_CHECKING:
    from steward.auth.models import User
    from steward.tags.schemas import TagCatalogue

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Steward: a dedicated, intelligent customer manager for every subscriber. "
    "Every command that reports accepts --json and then prints one JSON document.",
)
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


def context_of(ctx: typer.Context) -> Context:
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


def acting(session: Session, username: str) -> User:
    """The active user a command acts as (``--user``)."""
    from sqlalchemy import select

    from steward.auth.models import User

    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise fail(f"no active user {username!r}: add one with steward users create")
    return user


def parse_day(text: str | None) -> date:
    """A YYYY-MM-DD option, today when absent; a bad value names itself."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is not a date (YYYY-MM-DD)") from None


def tag_catalogue() -> TagCatalogue:
    """The tag catalogue, loaded when a command needs it (not at import: startup stays fast)."""
    from steward.tags.service import load_catalogue

    return load_catalogue()


def day_of(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@contextmanager
def segment_errors() -> Iterator[None]:
    from steward.rules import RuleError
    from steward.segments.service import SegmentError

    try:
        yield
    except RuleError as exc:
        raise fail(str(exc)) from exc
    except (SegmentError, ValueError) as exc:
        raise fail(str(exc)) from exc


def print_count(document: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]{document['total']:,}[/bold] subscribers as of {document['as_of']}")
    for dim in ("by_city", "by_brand", "by_vip_level"):
        parts = ", ".join(f"{k} {v:,}" for k, v in list(document[dim].items())[:8])
        console.print(f"  {dim.removeprefix('by_')}: {parts}")
    for row in document["sample"]:
        console.print("  " + "  ".join(str(v) for v in row.values()))


def print_mapping(title: str, document: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False)
    for key, value in document.items():
        shown = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        table.add_row(str(key), str(shown))
    Console().print(table)


def print_load(document: dict[str, Any]) -> None:
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


def print_tables(tables: list[dict[str, Any]]) -> None:
    table = Table(title="the lake")
    for column in ("table", "partitions", "rows", "first day", "last day"):
        table.add_column(column)
    for t in tables:
        table.add_row(
            t["table"], str(t["partitions"]), f"{t['rows']:,}", t["first_day"], t["last_day"]
        )
    Console().print(table)


def print_rows(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A titled table of rows for people (``--json`` gives the same rows to scripts)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row))
    Console().print(table)
