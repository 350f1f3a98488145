"""An experiment file: every arm against the control, and every bad line named, not dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steward.evaluation.experiment import ExperimentError, evaluate_file
from steward.evaluation.stats import compare

ARM = "组别"
OUTCOME = "是否订购"
CONTROL = "对照组"


def write_csv(folder: Path, text: str, *, name: str = "experiment.csv", bom: bool = False) -> Path:
    path = folder / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def rows(*groups: tuple[str, int, int]) -> str:
    """CSV data lines: for each (arm, successes, failures), that many 1s then 0s."""
    return "".join(f"{arm},1\n" * ok + f"{arm},0\n" * ko for arm, ok, ko in groups)


def rejected(path: Path, *, arm: str = ARM, control: str = CONTROL, outcome: str = OUTCOME) -> str:
    with pytest.raises(ExperimentError) as caught:
        evaluate_file(path, arm=arm, control=control, outcome=outcome)
    return str(caught.value)


def test_csv_with_bom_and_chinese_arms_matches_compare_for_each_arm(tmp_path: Path) -> None:
    text = f"{ARM},{OUTCOME}\n" + rows((CONTROL, 30, 70), ("短信组", 45, 55), ("外呼组", 9, 1))
    path = write_csv(tmp_path, text, bom=True)

    report = evaluate_file(path, arm=ARM, control=CONTROL, outcome=OUTCOME)

    assert (report.file, report.rows, report.control) == ("experiment.csv", 210, CONTROL)
    assert [c.arm for c in report.comparisons] == ["外呼组", "短信组"]  # sorted by arm
    expected = [
        compare(
            arm=name,
            n_arm=n,
            successes_arm=ok,
            control=CONTROL,
            n_control=100,
            successes_control=30,
        )
        for name, ok, n in (("外呼组", 9, 10), ("短信组", 45, 100))
    ]
    assert list(report.comparisons) == expected


def test_outcome_spellings_and_padded_arms_are_understood(tmp_path: Path) -> None:
    text = (
        "arm,ordered\n"
        "  control ,1\ncontrol,0\ncontrol, no\ncontrol,F\ncontrol,N\n"
        "B\t, Yes\nB,TRUE\nB,t\nB,y\nB,false\n"
    )
    path = write_csv(tmp_path, text)

    report = evaluate_file(path, arm="arm", control=" control", outcome="ordered")

    (result,) = report.comparisons
    assert (result.arm, result.n_arm, result.successes_arm) == ("B", 5, 4)
    assert (result.control, result.n_control, result.successes_control) == ("control", 5, 1)


@pytest.mark.parametrize(
    "outcomes",
    [
        pa.array([True, False, True, True, False, False], pa.bool_()),
        pa.array([1, 0, 1, 1, 0, 0], pa.int8()),
        pa.array(["yes", "no", "Y", "1", "n", "false"], pa.string()),
    ],
)
def test_parquet_is_read_whatever_the_outcome_column_type(
    tmp_path: Path, outcomes: pa.Array
) -> None:
    path = tmp_path / "experiment.parquet"
    arms = pa.array([CONTROL, CONTROL, CONTROL, "短信组", "短信组", "短信组"])
    pq.write_table(pa.table({ARM: arms, OUTCOME: outcomes, "msisdn": pa.array(range(6))}), path)

    report = evaluate_file(path, arm=ARM, control=CONTROL, outcome=OUTCOME)

    (result,) = report.comparisons
    assert (result.n_arm, result.successes_arm, result.n_control, result.successes_control) == (
        3,
        1,
        3,
        2,
    )


def test_the_report_serialises_to_json(tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{ARM},{OUTCOME}\n" + rows((CONTROL, 2, 8), ("短信组", 5, 5)))

    report = evaluate_file(path, arm=ARM, control=CONTROL, outcome=OUTCOME)

    shown = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert shown["file"] == "experiment.csv"
    assert (shown["rows"], shown["control"], shown["arm_column"]) == (20, CONTROL, ARM)
    assert [c["arm"] for c in shown["comparisons"]] == ["短信组"]
    assert shown["comparisons"][0]["lift"] == pytest.approx(0.3)


def test_a_missing_column_names_the_header_line_and_the_columns_there_are(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path, f"{ARM},订购\n" + rows((CONTROL, 1, 1)), bom=True)

    message = rejected(path)

    assert message.startswith(f"experiment.csv: line 1 (header), no column '{OUTCOME}'")
    assert f"the columns are: '{ARM}', '订购'" in message


def test_a_missing_parquet_column_lists_the_columns_there_are(tmp_path: Path) -> None:
    path = tmp_path / "experiment.parquet"
    pq.write_table(pa.table({"arm": ["a"], "outcome": [1]}), path)

    message = rejected(path, arm="group", outcome="outcome")

    assert message == ("experiment.parquet: no column 'group'; the columns are: 'arm', 'outcome'")


def test_a_control_value_absent_from_the_arm_column_lists_the_arms_found(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path, f"{ARM},{OUTCOME}\n" + rows(("短信组", 1, 1), ("外呼组", 1, 0)))

    message = rejected(path)

    assert message == (
        f"experiment.csv: field '{ARM}': no row has the control arm '{CONTROL}'; "
        "the arms found are: '外呼组', '短信组'"
    )


def test_an_outcome_not_understood_names_its_physical_line_and_value(tmp_path: Path) -> None:
    # A blank line and a quoted field spanning two lines come first: line 7 is the 6th record.
    text = (
        f"{ARM},{OUTCOME},note\n"
        f"{CONTROL},1,\n"
        "\n"
        f'{CONTROL},0,"two\nlines"\n'
        "短信组,1,\n"
        "短信组,maybe,\n"
        "短信组,0,\n"
    )
    path = write_csv(tmp_path, text, bom=True)

    message = rejected(path)

    assert message == (
        "experiment.csv: 1 line not understood; the file is rejected rather than evaluated "
        f"without them:\n  line 7, field '{OUTCOME}': 'maybe' is not an outcome "
        "(use 1/0, true/false, yes/no, y/n, t/f)"
    )


def test_line_numbers_hold_with_windows_line_ends(tmp_path: Path) -> None:
    text = f"{ARM},{OUTCOME}\r\n{CONTROL},1\r\n\r\n短信组,2\r\n"
    path = write_csv(tmp_path, text)

    assert f"line 4, field '{OUTCOME}': '2' is not an outcome" in rejected(path)


def test_empty_arms_and_outcomes_are_named_by_line_and_field(tmp_path: Path) -> None:
    text = f"{ARM},{OUTCOME}\n{CONTROL},1\n  ,1\n短信组,\n,\n"
    path = write_csv(tmp_path, text)

    message = rejected(path)

    assert message.startswith("experiment.csv: 3 lines not understood; the file is rejected")
    assert message.splitlines()[1:] == [
        f"  line 3, field '{ARM}': the arm is empty",
        f"  line 4, field '{OUTCOME}': the outcome is empty",
        f"  line 5, field '{ARM}': the arm is empty",
        f"  line 5, field '{OUTCOME}': the outcome is empty",
    ]


def test_every_bad_line_is_counted_and_the_first_ten_are_shown(tmp_path: Path) -> None:
    bad = "".join(f"短信组,bad{i}\n" for i in range(12))  # lines 4..15
    path = write_csv(tmp_path, f"{ARM},{OUTCOME}\n{CONTROL},1\n{CONTROL},0\n" + bad)

    message = rejected(path)

    assert message.splitlines()[0].startswith("experiment.csv: 12 lines not understood")
    assert message.splitlines()[0].endswith("(the first 10 shown):")
    shown = message.splitlines()[1:]
    assert len(shown) == 10
    assert shown[0].startswith(f"  line 4, field '{OUTCOME}': 'bad0'")
    assert shown[-1].startswith(f"  line 13, field '{OUTCOME}': 'bad9'")


def test_a_bad_parquet_value_is_named_by_row(tmp_path: Path) -> None:
    path = tmp_path / "experiment.parquet"
    table = pa.table({"arm": ["c", "c", "b", "b"], "outcome": ["1", "0", "2", "1"]})
    pq.write_table(table, path)

    message = rejected(path, arm="arm", control="c", outcome="outcome")

    assert "row 3, field 'outcome': '2' is not an outcome" in message


def test_old_mac_line_ends_name_the_data_row_rather_than_guess_a_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{ARM},{OUTCOME}\r{CONTROL},1\r短信组,x\r")

    assert f"data row 2, field '{OUTCOME}': 'x' is not an outcome" in rejected(path)


def test_a_file_with_only_the_control_arm_has_nothing_to_compare(tmp_path: Path) -> None:
    path = write_csv(tmp_path, f"{ARM},{OUTCOME}\n" + rows((CONTROL, 3, 4)))

    assert "every row is in the control arm '对照组'" in rejected(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "experiment.csv: the file is empty"),
        (f"{ARM},{OUTCOME}\n".encode(), "experiment.csv: no data rows, only a header"),
        (
            f"{ARM},{OUTCOME}\n{CONTROL},1\n".encode() + "短信组,1\n".encode("gb18030"),
            "experiment.csv: cannot be read as CSV",
        ),
    ],
)
def test_files_without_an_experiment_in_them_are_refused(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "experiment.csv"
    path.write_bytes(content)

    assert rejected(path).startswith(reason)


def test_a_missing_file_and_a_column_used_twice_are_refused(tmp_path: Path) -> None:
    assert rejected(tmp_path / "nowhere.csv").endswith("nowhere.csv: no such file")
    path = write_csv(tmp_path, f"{ARM},{OUTCOME}\n" + rows((CONTROL, 1, 1)))
    assert "must differ" in rejected(path, outcome=ARM)
