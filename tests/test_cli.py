"""The CLI: --json prints one document; exit codes say what happened."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from steward.cli import app
from tests.ingest import factories as f


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path / "home"))
    return CliRunner()


def test_ingest_json_reports_the_load_and_lake_tables_lists_it(
    run: CliRunner, tmp_path: Path
) -> None:
    f.basic_delivery(tmp_path / "in", subscribers=4)
    result = run.invoke(app, ["ingest", str(tmp_path / "in"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["status"], report["rows_loaded"], report["rows_quarantined"]) == (
        "published",
        9,
        0,
    )
    tables = json.loads(run.invoke(app, ["lake", "tables", "--json"]).stdout)
    assert {t["table"]: t["rows"] for t in tables} == {"product": 1, "profile": 4, "voice": 4}


def test_a_rejected_load_exits_1_and_still_prints_its_report(
    run: CliRunner, tmp_path: Path
) -> None:
    f.write_text(tmp_path / "in", "product", [f.product(kind="?")])
    result = run.invoke(app, ["ingest", str(tmp_path / "in"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "rejected"


def test_a_delivery_error_exits_2_with_the_reason(run: CliRunner, tmp_path: Path) -> None:
    result = run.invoke(app, ["ingest", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr


def test_the_interface_reference_in_docs_is_current(run: CliRunner) -> None:
    result = run.invoke(app, ["interfaces", "--markdown"])
    docs = Path(__file__).parents[1] / "docs" / "interface-files.md"
    assert result.stdout == docs.read_text(encoding="utf-8"), "run: make docs"


def test_the_demo_runs_the_whole_loop_and_a_second_run_adds_nothing(run: CliRunner) -> None:
    args = ["demo", "--subscribers", "1500", "--days", "2", "--no-serve", "--json"]
    result = run.invoke(app, args)
    assert result.exit_code == 0, result.output
    demo = json.loads(result.stdout)
    assert demo["load"]["status"] == "published"
    assert demo["load"]["rows_loaded"] == demo["generated"]["total_rows"]
    assert demo["tags"]["subscribers"] == 1500
    assert len(demo["campaigns"]) == 7
    for campaign in demo["campaigns"]:
        f = campaign["funnel"]
        assert f["targets"] >= f["after_policy"] >= f["planned"] >= f["contacted"]
        assert f["contacted"] >= f["responded"] >= f["ordered"]
        assert f["targets"] - f["after_policy"] == sum(f["exclusions"].values())
    batch = [c for c in demo["campaigns"] if not c["triggered"]]
    planned = sum(c["funnel"]["planned"] for c in batch)
    assert planned == demo["steps"]["arbitration"]["reserved"] > 0
    events = demo["steps"]["events"]  # the day's events, decided by the triggered campaigns
    triggered = [c for c in demo["campaigns"] if c["triggered"]]
    assert sum(c["funnel"]["planned"] for c in triggered) == events["outcomes"]["planned"] > 0
    assert demo["steps"]["sms"]["sent"] > 0
    for kind in ("churn_30d", "churn_60d", "propensity"):  # published, or why not
        model = demo["models"][kind]
        assert model["auc"] >= 0.55 if model["published"] else model["reason"], model
    again = run.invoke(app, args)
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["load"]["rows_loaded"] == 0  # nothing new to load
    ledger = Path(os.environ["STEWARD_HOME"]) / "ledger.parquet"
    assert run.invoke(app, ["contacts", "export", str(ledger)]).exit_code == 0
    twice = duckdb.sql(
        f"""
        WITH reserved AS (
          SELECT msisdn, contact_key, id FROM '{ledger}'
          WHERE state = 'reserved' AND kind <> 'service'
        ),
        released AS (
          SELECT DISTINCT contact_key FROM '{ledger}' WHERE state IN ('failed', 'cancelled')
        )
        SELECT count(*) FILTER (WHERE later.id IS NOT NULL) AS again,
          count(*) FILTER (WHERE later.id IS NOT NULL AND r.contact_key NOT IN
                           (SELECT contact_key FROM released)) AS again_while_held
        FROM reserved r LEFT JOIN reserved later ON later.msisdn = r.msisdn AND later.id > r.id
        """
    ).fetchall()[0]
    # one contact a subscriber a day: only those whose first contact failed get another
    assert twice[0] == second["steps"]["arbitration"]["reserved"]
    assert twice[1] == 0
    truth = Path(demo["generated"]["truth_out"]) / "subscribers.parquet"
    played = run.invoke(app, ["simulate", "responses", "--truth", str(truth), "--json"])
    assert played.exit_code == 0, played.output
    assert "organic_orders" in json.loads(played.stdout)
    missing = run.invoke(app, ["simulate", "responses", "--truth", "nowhere.parquet"])
    assert missing.exit_code == 2


def test_generated_gbk_text_loads_without_a_quarantined_row(run: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "gbk"
    generated = run.invoke(
        app,
        ["generate", "--subscribers", "200", "--out", str(out), "--text-encoding", "gbk", "--json"],
    )
    assert generated.exit_code == 0, generated.output
    loaded = json.loads(run.invoke(app, ["ingest", str(out), "--json"]).stdout)
    assert loaded["rows_quarantined"] == 0
    assert {f["encoding"] for f in loaded["files"]} >= {"gb18030"}


def test_a_bad_setting_is_named_without_a_traceback(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEWARD_ANALYTICS_MEMORY_LIMIT", "lots")
    result = run.invoke(app, ["lake", "tables"])
    assert result.exit_code == 2
    assert "STEWARD_ANALYTICS_MEMORY_LIMIT" in result.stderr


def test_a_late_daily_file_is_noticed(run: CliRunner, tmp_path: Path) -> None:
    f.basic_delivery(tmp_path / "in", subscribers=2)
    assert run.invoke(app, ["ingest", str(tmp_path / "in")]).exit_code == 0
    result = run.invoke(app, ["lake", "late", "--as-of", "2026-11-01", "--json"])
    assert result.exit_code == 1
    late = {r["interface"]: r["last_published"] for r in json.loads(result.stdout)}
    assert "voice" not in late
    assert late["data"] is None
    assert "profile" not in late


def test_an_administrator_adds_a_user_from_the_command_line(run: CliRunner) -> None:
    result = run.invoke(
        app,
        [
            "users",
            "create",
            "lz.planner",
            "--role",
            "planner",
            "--district",
            "lanzhou",
            "--password",
            "long enough pw",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    listed = json.loads(run.invoke(app, ["users", "list", "--json"]).stdout)
    assert listed == [
        {"username": "lz.planner", "role": "planner", "district": "lanzhou", "active": True}
    ]
    short = run.invoke(app, ["users", "create", "x.y.z", "--role", "clerk", "--password", "short"])
    assert short.exit_code == 2
    assert "at least 10 characters" in short.stderr


def test_a_campaign_from_file_through_approval_on_the_command_line(
    run: CliRunner, tmp_path: Path
) -> None:
    assert (
        run.invoke(app, ["demo", "--subscribers", "300", "--days", "1", "--no-serve"]).exit_code
        == 0
    )
    for name, role in [("maker.one", "planner"), ("checker.one", "approver")]:
        made = run.invoke(
            app, ["users", "create", name, "--role", role, "--password", "long enough pw"]
        )
        assert made.exit_code == 0, made.output
    segment = run.invoke(
        app, ["segments", "create", "--name", "heavy", "--rule", "data_heavy", "--json"]
    )
    offers = json.loads(run.invoke(app, ["offers", "list", "--json"]).stdout)
    plan = tmp_path / "campaign.yaml"
    plan.write_text(
        json.dumps(
            {
                "name": "heavy data users",
                "kind": "marketing",
                "segment_ids": [json.loads(segment.stdout)["id"]],
                "offer_ids": [offers[0]["id"]],
                "channels": ["sms"],
                "start_date": "2026-12-01",
                "end_date": "2026-12-31",
            }
        )
    )
    created = run.invoke(app, ["campaigns", "create", str(plan), "--user", "maker.one", "--json"])
    assert created.exit_code == 0, created.output
    campaign_id = str(json.loads(created.stdout)["id"])
    steps = [("maker.one", "submitted", ""), ("checker.one", "approved", "looks right")]
    for who, to, comment in steps:
        moved = run.invoke(
            app,
            [
                "campaigns",
                "move",
                campaign_id,
                "--to",
                to,
                "--comment",
                comment,
                "--user",
                who,
                "--json",
            ],
        )
        assert moved.exit_code == 0, moved.output
    own = run.invoke(
        app, ["campaigns", "move", campaign_id, "--to", "terminated", "--user", "maker.one"]
    )
    assert own.exit_code == 2
    assert "planner may not" in own.stderr
    listed = json.loads(
        run.invoke(app, ["campaigns", "list", "--user", "maker.one", "--json"]).stdout
    )
    assert [c["status"] for c in listed if c["owner"] == "maker.one"] == ["approved"]


def test_why_not_names_the_rule_that_stops_a_contact(run: CliRunner) -> None:
    assert (
        run.invoke(app, ["demo", "--subscribers", "300", "--days", "1", "--no-serve"]).exit_code
        == 0
    )
    listed = run.invoke(app, ["segments", "count", "dnd_optout_sms", "--json"])
    assert json.loads(listed.stdout)["total"] > 0
    home = Path(os.environ["STEWARD_HOME"])
    snapshot = next((home / "lake" / "profile_snapshot").rglob("*.parquet"))
    ((number,),) = duckdb.sql(
        f"SELECT msisdn FROM '{snapshot}' WHERE dnd_optout_sms AND NOT dnd_vip_diamond_gold "
        "AND NOT dnd_vip_silver AND NOT complaint_sensitive AND NOT dnd_corporate_group "
        "AND NOT dnd_staff AND NOT dnd_government AND NOT dnd_special_org "
        "AND NOT dnd_unit_account AND NOT dnd_foreigner AND NOT dnd_blacklisted "
        "AND NOT dnd_data_card AND NOT dnd_suspended AND NOT dnd_cancelled LIMIT 1"
    ).fetchall()
    why = json.loads(run.invoke(app, ["policy", "why-not", number, "--json"]).stdout)
    assert why["excluded_by"] == "dnd.optout_channel"
    by_call = json.loads(
        run.invoke(app, ["policy", "why-not", number, "--channel", "hall", "--json"]).stdout
    )
    assert by_call["excluded_by"] is None
    missing = run.invoke(app, ["policy", "why-not", "13999999999"])
    assert missing.exit_code == 2


def test_a_feedback_file_of_unknown_contacts_is_rejected_with_its_lines_named(
    run: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "feedback.csv"
    path.write_text(
        "contact_key,state,at,detail\nnope,delivered,2026-12-02T10:00:00,\n", encoding="utf-8"
    )
    result = run.invoke(app, ["contacts", "feedback", str(path), "--source", "hall", "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "rejected"
    assert report["errors"][0]["line"] == 2
