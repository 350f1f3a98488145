"""A model from any customer table: a file in the shape of IBM's Telco file, with a known
answer, read messy (blanks, another delimiter and encoding), with leaks flagged."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from steward.cli import app
from steward.mining.tabular import TableError
from steward.mining.train_file import train_file

COLUMNS = ["customerID", "gender", "tenure", "Contract", "MonthlyCharges", "TotalCharges", "Churn"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]
CHINESE = {"Month-to-month": "按月", "One year": "一年", "Two year": "两年"}


def telco_like(
    path: Path,
    rows: int = 600,
    *,
    seed: int = 3,
    leak: bool = False,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    """Churn driven by contract and tenure (the known answer); gender is noise; a few
    TotalCharges blank, as in the real file."""
    r = random.Random(seed)
    with path.open("w", newline="", encoding=encoding) as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow([*COLUMNS, *(["Leak"] if leak else [])])
        for n in range(rows):
            contract = r.choice(CONTRACTS)
            tenure = r.randint(0, 72)
            monthly = round(r.uniform(20, 110), 2)
            risk = {"Month-to-month": 0.55, "One year": 0.15, "Two year": 0.04}[contract]
            churn = r.random() < risk * (1.4 if tenure < 12 else 0.6)
            total = "" if n % 97 == 0 else f"{monthly * max(tenure, 1):.2f}"
            row = [
                f"{n:04d}-ABCDE",
                r.choice(["Male", "Female"]),
                tenure,
                CHINESE[contract] if encoding == "gbk" else contract,
                monthly,
                total,
                "Yes" if churn else "No",
            ]
            writer.writerow([*row, *(["Y" if churn else "N"] if leak else [])])
    return path


def test_the_known_drivers_come_first_and_the_auc_is_real(tmp_path: Path) -> None:
    report = train_file(telco_like(tmp_path / "t.csv"), label="Churn", id_column="customerID")
    assert report.positive == "Yes"
    assert 0.7 < report.auc < 0.95
    assert len(report.auc_folds) == 5
    top = [f["column"] for f in report.top_features[:2]]
    assert set(top) == {"Contract", "tenure"}
    assert report.numeric == ["tenure", "MonthlyCharges", "TotalCharges"]  # blanks allowed
    assert report.categorical == ["gender", "Contract"]
    assert report.left_out == {"customerID": "the id"}
    assert report.warnings == []


def test_the_same_seed_gives_the_same_report(tmp_path: Path) -> None:
    path = telco_like(tmp_path / "t.csv")
    first = train_file(path, label="Churn", id_column="customerID", seed=4)
    again = train_file(path, label="Churn", id_column="customerID", seed=4)
    assert first.to_dict() == again.to_dict()


def test_a_column_that_is_the_label_in_disguise_is_flagged(tmp_path: Path) -> None:
    report = train_file(
        telco_like(tmp_path / "t.csv", leak=True), label="Churn", id_column="customerID"
    )
    assert any("'Leak' alone separates the label" in w for w in report.warnings)
    assert any("look for leakage" in w for w in report.warnings)


def test_without_the_id_the_id_is_left_out_as_free_text(tmp_path: Path) -> None:
    report = train_file(telco_like(tmp_path / "t.csv"), label="Churn")
    assert "customerID" in report.left_out
    assert "distinct values" in report.left_out["customerID"]


@pytest.mark.parametrize(
    ("label", "message"),
    [("Nope", "no label column 'Nope'"), ("Contract", "must have two values, has 3")],
)
def test_a_file_that_cannot_be_modelled_says_why(tmp_path: Path, label: str, message: str) -> None:
    with pytest.raises(TableError, match=message):
        train_file(telco_like(tmp_path / "t.csv"), label=label)


def test_the_command_reads_a_messy_file_through_an_ingest_mapping(tmp_path: Path) -> None:
    path = telco_like(tmp_path / "t.txt", delimiter=";", encoding="gbk")
    mapping = tmp_path / "m.yaml"
    mapping.write_text('source: {delimiter: ";", encoding: gbk, header: true}\n')
    result = CliRunner().invoke(
        app,
        [
            "models",
            "train-file",
            str(path),
            "--label",
            "Churn",
            "--id",
            "customerID",
            "--mapping",
            str(mapping),
            "--folds",
            "3",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["folds"] == 3
    assert report["top_features"][0]["column"] in {"Contract", "tenure"}
    bad = CliRunner().invoke(app, ["models", "train-file", str(path), "--label", "Churn"])
    assert bad.exit_code == 2  # GBK read as UTF-8: refused, saying so
    assert "cannot be read" in bad.stderr
