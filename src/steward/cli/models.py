"""Commands for models (issue 7): today, training and evaluating one from any table file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from steward.cli.common import JsonFlag, app, emit, fail, print_mapping, print_rows

models_app = typer.Typer(no_args_is_help=True, help="Models: train and evaluate.")
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
