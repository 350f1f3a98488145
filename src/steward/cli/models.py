"""Commands for models (issue 7): today, training and evaluating one from any table file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from sqlalchemy.orm import Session

from steward import db
from steward.cli.common import (
    USER,
    JsonFlag,
    acting,
    app,
    context_of,
    emit,
    fail,
    parse_day,
    print_mapping,
    print_rows,
)
from steward.lake.service import Lake
from steward.mining import service
from steward.mining.models import ModelKind, ModelVersion

models_app = typer.Typer(
    no_args_is_help=True, help="Models: train, validate, publish, score, roll back."
)
app.add_typer(models_app, name="models")


@models_app.command("train-file")
def train_file(
    file: Annotated[Path, typer.Argument(help="A customer table: CSV or Parquet.")],
    label: Annotated[str, typer.Option(help="The column to predict (two values).")],
    id_column: Annotated[
        str | None, typer.Option("--id", help="The customer id column (left out).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="An ingest mapping whose source section says how to read the file."),
    ] = None,
    folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="The seed: the same seed, the same result.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Cross-validated AUC and the columns that matter, for a model of LABEL on FILE.

    Each fold's model is scored on rows it never saw; a column that alone nearly separates
    the label is flagged as a likely leak. Exit 2 on a file that cannot be modelled.
    """
    from steward.mining.tabular import TableError
    from steward.mining.train_file import train_file as run

    try:
        report = run(
            file,
            label=label,
            id_column=id_column,
            source=_source(mapping),
            folds=folds,
            seed=seed,
        )
    except TableError as exc:
        raise fail(str(exc)) from exc
    document = report.to_dict()
    emit(as_json, document, lambda: _print(document))


def _source(mapping: Path | None) -> dict[str, Any] | None:
    if mapping is None:
        return None
    try:
        loaded = yaml.safe_load(mapping.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"{mapping}: {exc}") from exc
    source = loaded.get("source") if isinstance(loaded, dict) else None
    if not isinstance(source, dict):
        raise fail(f"{mapping}: no source section")
    return source


def _print(document: dict[str, Any]) -> None:
    summary = {
        k: document[k] for k in ("file", "rows", "label", "positive", "positive_share", "auc")
    }
    summary["auc_folds"] = document["auc_folds"]
    print_mapping("model", summary)
    print_rows(
        "top features (AUC drop when shuffled)",
        ("column", "auc_drop"),
        [(f["column"], f["auc_drop"]) for f in document["top_features"]],
    )
    for warning in document["warnings"]:
        typer.echo(f"warning: {warning}", err=True)


# --- the registry (R-MINE-1) ----------------------------------------------------------

KIND = Annotated[str, typer.Argument(help="churn_30d, churn_60d or propensity.")]
ACTOR = USER


def _kind(text: str) -> ModelKind:
    try:
        return ModelKind(text)
    except ValueError:
        known = ", ".join(k.value for k in ModelKind)
        raise fail(f"unknown model kind {text!r} (kinds: {known})") from None


def _read(version: ModelVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "kind": version.kind,
        "version": version.version,
        "status": version.status,
        "as_of": version.as_of.isoformat(),
        "seed": version.seed,
        "trained_by": version.trained_by,
        "auc": version.metrics.get("auc"),
        "top_decile_lift": version.metrics.get("top_decile_lift"),
        "psi_vs_published": version.metrics.get("psi_vs_published"),
        "artifact_sha256": version.artifact_sha256,
    }


@contextmanager
def _registry(ctx: typer.Context) -> Iterator[tuple[Session, Lake]]:
    from steward.mining import churn, propensity

    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            yield session, context.lake()
    except (
        service.ModelError,
        churn.ChurnError,
        propensity.PropensityError,
    ) as exc:
        raise fail(str(exc)) from exc


@models_app.command("train")
def models_train(
    ctx: typer.Context,
    kind: KIND,
    seed: Annotated[int, typer.Option(help="The same inputs and seed train the same model.")] = 0,
    settle_days: Annotated[
        int, typer.Option(help="Propensity: days after which an unanswered contact is a no.")
    ] = 7,
    user: ACTOR = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Train a new version from the lake (and the ledger): it starts as a candidate."""
    with _registry(ctx) as (session, lake):
        version = service.train(
            session,
            lake,
            kind=_kind(kind),
            by=acting(session, user),
            seed=seed,
            settle_days=settle_days,
        )
        document = _read(version) | {"metrics": version.metrics}
    emit(as_json, document, lambda: print_mapping(f"model {document['id']}", _read_only(document)))


@models_app.command("validate")
def models_validate(
    ctx: typer.Context,
    model_id: int,
    day: Annotated[str | None, typer.Option(help="Base to compare scores on (YYYY-MM-DD).")] = None,
    user: ACTOR = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Check the report and the stability against the published version."""
    with _registry(ctx) as (session, lake):
        version = service.validate(
            session, lake, model_id=model_id, by=acting(session, user), as_of=parse_day(day)
        )
        document = _read(version)
    emit(as_json, document, lambda: print_mapping(f"model {model_id}", document))


@models_app.command("publish")
def models_publish(
    ctx: typer.Context,
    model_id: int,
    note: Annotated[str, typer.Option(help="What the signer checked in the report.")],
    user: ACTOR = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Sign off and publish a validated version (an approver other than its trainer)."""
    _step(ctx, service.publish, f"model {model_id}", user, as_json, model_id=model_id, note=note)


@models_app.command("reject")
def models_reject(
    ctx: typer.Context,
    model_id: int,
    note: Annotated[str, typer.Option(help="Why.")],
    user: ACTOR = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Reject a candidate version."""
    _step(ctx, service.reject, f"model {model_id}", user, as_json, model_id=model_id, note=note)


@models_app.command("rollback")
def models_rollback(
    ctx: typer.Context,
    kind: KIND,
    note: Annotated[str, typer.Option(help="Why.")],
    user: ACTOR = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Retire the published version of KIND and publish again the one it replaced."""
    _step(ctx, service.rollback, f"{kind} now", user, as_json, kind=_kind(kind), note=note)


def _step(
    ctx: typer.Context,
    step: Callable[..., ModelVersion],
    title: str,
    user: str,
    as_json: bool,
    **arguments: Any,
) -> None:
    """A signed step of the lifecycle (publish, reject, roll back) as ``user``."""
    with _registry(ctx) as (session, _):
        document = _read(step(session, by=acting(session, user), **arguments))
    emit(as_json, document, lambda: print_mapping(title, document))


@models_app.command("score")
def models_score(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="Score the lines active on (YYYY-MM-DD).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Score every published model into model_scores (then `steward tags refresh`)."""
    with _registry(ctx) as (session, lake):
        document = service.score(session, lake, as_of=parse_day(day)).to_dict()
    emit(as_json, document, lambda: print_mapping("scores", document))


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    kind: Annotated[str | None, typer.Argument(help="One kind only.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every version: status, AUC, lift, stability, who trained it."""
    with _registry(ctx) as (session, _):
        rows = [_read(v) for v in service.versions(session, _kind(kind) if kind else None)]
    columns = ("id", "kind", "version", "status", "as_of", "auc", "top_decile_lift", "trained_by")
    emit(
        as_json,
        rows,
        lambda: print_rows("models", columns, [[r[c] for c in columns] for r in rows]),
    )


@models_app.command("show")
def models_show(ctx: typer.Context, model_id: int, as_json: JsonFlag = False) -> None:
    """One version: its report, its inputs, and its history."""
    with _registry(ctx) as (session, _):
        versions = [v for v in service.versions(session) if v.id == model_id]
        if not versions:
            raise fail(f"no model {model_id}")
        version = versions[0]
        document = _read(version) | {
            "params": version.params,
            "inputs": version.inputs,
            "metrics": version.metrics,
            "history": [
                {"action": e.action, "actor": e.actor, "note": e.note, "at": e.at.isoformat()}
                for e in service.history(session, model_id)
            ],
        }
    emit(as_json, document, lambda: print_mapping(f"model {model_id}", _read_only(document)))


def _read_only(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if not isinstance(v, dict | list)}
