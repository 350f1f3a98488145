"""Feedback files from channels Steward does not drive: checked like interface files, then
appended to the contact ledger all or nothing, and never twice."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.channels.feedback import FeedbackReport, FeedbackStatus, import_feedback
from steward.contacts.models import ContactEvent, State
from steward.contacts.service import append, holding_units, states_of
from steward.lake.service import Lake

DAY = date(2026, 11, 2)
HEADER = "contact_key,state,at,detail"
SENT = (State.RESERVED, State.SENT)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def contact(
    session: Session, key: str, *states: State, msisdn: str = "13800000001", **fields: Any
) -> str:
    """Ledger rows for contact ``key``, one per state (a marketing SMS contact of campaign 7)."""
    row: dict[str, Any] = {
        "contact_key": key,
        "day": DAY,
        "msisdn": msisdn,
        "campaign_id": 7,
        "kind": "marketing",
        "offer_id": 3,
        "category": "data",
        "exclusion_group": "data-packs",
        "channel": "hall",
        "arm": "target",
        "source": "run 2026-11-02",
    }
    append(session, [row | fields | {"state": s.value} for s in states])
    return key


def write_csv(path: Path, *lines: str, encoding: str = "utf-8", header: str = HEADER) -> Path:
    path.write_bytes("\n".join((header, *lines)).encode(encoding) + b"\n")
    return path


def run(session: Session, lake: Lake, path: Path, *, max_bad_share: float = 0.5) -> FeedbackReport:
    return import_feedback(
        session, lake, path=path, source="partner-cc", max_bad_share=max_bad_share
    )


def quarantined(report: FeedbackReport) -> list[dict[str, str]]:
    assert report.quarantine is not None
    with open(report.quarantine, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def events(session: Session, key: str) -> list[ContactEvent]:
    query = select(ContactEvent).where(ContactEvent.contact_key == key).order_by(ContactEvent.id)
    return list(session.scalars(query))


def utc(moment: datetime) -> datetime:
    """SQLite gives back naive UTC, PostgreSQL an aware moment: compare them as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def test_a_good_file_appends_and_the_states_follow(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    for key in ("k1", "k2", "k3"):
        contact(session, key, *SENT)
    path = write_csv(
        tmp_path / "hall_20261102.csv",
        "k1,delivered,2026-11-02T01:00:00,",
        "k1,answered,2026-11-02T09:05:00+08:00,accepted",
        'k1,ordered,2026-11-02 10:00:00Z,"ORD-1, hall 12"',
        "k2,failed,2026-11-02T09:00:00,number switched off",
        "k3,cancelled,2026-11-02T08:00:00,",
        header="\ufeff" + HEADER,
    )
    report = run(session, lake, path)

    assert report.status is FeedbackStatus.APPENDED
    assert (report.rows, report.appended, report.already_present, report.bad) == (5, 5, 0, 0)
    assert report.quarantine is None
    assert states_of(session, "k1") == ["reserved", "sent", "delivered", "answered", "ordered"]
    assert states_of(session, "k2") == ["reserved", "sent", "failed"]
    assert states_of(session, "k3") == ["reserved", "sent", "cancelled"]
    *_, delivered, answered, ordered = events(session, "k1")
    assert utc(delivered.at) == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # naive is UTC
    assert utc(answered.at) == datetime(2026, 11, 2, 1, 5, tzinfo=UTC)  # +08:00 kept
    assert (answered.detail, ordered.detail) == ("accepted", "ORD-1, hall 12")
    copied = {
        (e.source, e.msisdn, e.campaign_id, e.offer_id, e.channel, e.day)
        for e in events(session, "k1")[2:]
    }
    assert copied == {("partner-cc", "13800000001", 7, 3, "hall", DAY)}
    assert set(report.to_dict()) >= {
        "file",
        "rows",
        "appended",
        "already_present",
        "bad",
        "errors",
        "quarantine",
        "status",
    }
    written = json.loads((tmp_path / "quarantine" / report.import_id / "report.json").read_text())
    assert written["status"] == "appended"


@pytest.mark.parametrize(
    "at",
    [
        pa.array(["2026-11-02T17:00:00+08:00"]),
        pa.array(
            [datetime(2026, 11, 2, 17, 0, tzinfo=SHANGHAI)], pa.timestamp("ms", tz="Asia/Shanghai")
        ),
        pa.array([datetime(2026, 11, 2, 9, 0)], pa.timestamp("us")),
    ],
    ids=["text", "zoned", "naive"],
)
def test_a_parquet_file_is_read_like_a_csv(
    session: Session, lake: Lake, tmp_path: Path, at: pa.Array
) -> None:
    contact(session, "k1", *SENT)
    path = tmp_path / "gateway.parquet"
    pq.write_table(pa.table({"contact_key": ["k1"], "state": ["delivered"], "at": at}), path)
    report = run(session, lake, path)
    assert (report.status, report.appended) == (FeedbackStatus.APPENDED, 1)
    assert utc(events(session, "k1")[-1].at) == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_a_parquet_row_is_named_by_its_row_number(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT)
    path = tmp_path / "gateway.parquet"
    rows = {"contact_key": ["k1", "k1"], "state": ["delivered", "bounced"]}
    pq.write_table(pa.table(rows | {"at": ["2026-11-02T09:00:00"] * 2}), path)
    report = run(session, lake, path)
    assert [(e["line"], e["field"]) for e in report.errors] == [(2, "state")]
    assert quarantined(report)[0]["raw"] == "k1,bounced,2026-11-02T09:00:00,"


LONG = "x" * 201
FUTURE = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")

# Each bad line of one file: (line, what it says, field, code, words of the reason).
BAD_LINES: list[tuple[int, str, str, str, str]] = [
    (3, "k1,bounced,2026-11-02T09:00:00,", "state", "choice", "'bounced' is not one of"),
    (4, "k1,delivered,2026-11-02 25:00,", "at", "type", "not an ISO timestamp"),
    (5, "k1,delivered,02/11/2026 09:00,", "at", "type", "'02/11/2026 09:00'"),
    (6, f"k1,delivered,{FUTURE},", "at", "range", "future"),
    (7, "k1,answered,2026-11-02T09:00:00,", "detail", "required", "needs the answer"),
    (8, "k1,answered,2026-11-02T09:00:00,maybe", "detail", "choice", "'maybe' is not one of"),
    (9, "k1,failed,2026-11-02T09:00:00,", "detail", "required", "needs a reason"),
    (10, f"k1,failed,2026-11-02T09:00:00,{LONG}", "detail", "length", "longer than 200"),
    (11, ",delivered,2026-11-02T09:00:00,", "contact_key", "required", "is required"),
    (12, "nobody,delivered,2026-11-02T09:00:00,", "contact_key", "reference", "no contact"),
    (13, "k-reserved,delivered,2026-11-02T09:00:00,", "state", "transition", "never sent"),
    (14, "k-ordered,ordered,2026-11-02T09:00:00,ORD-2", "state", "transition", "ordered already"),
    (15, "k-cancelled,answered,2026-11-02T09:00:00,accepted", "state", "transition", "cancelled"),
    (16, "k-control,answered,2026-11-02T09:00:00,accepted", "state", "transition", "held back"),
    (17, "k1,ordered,2026-11-02T10:00:00,ORD-3", "state", "transition", "ordered already"),
    (18, "k2,delivered,2026-11-02T17:00:00+08:00,", "*", "duplicate", "repeats line 2"),
    (19, "k1,delivered", "*", "line", "expected 4 fields, found 2"),
    (20, 'k1,answered,2026-11-02T09:00:00,"accepted', "*", "line", "quoted field"),
    (21, "k2,failed,2026-11-02T10:00:00,no signal", "state", "transition", "cannot fail now"),
    (22, "k2,cancelled,2026-11-02T10:00:00,", "state", "transition", "too late to cancel"),
]


def test_every_kind_of_bad_row_is_named_with_line_and_field_and_quarantined(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    for key in ("k1", "k2"):
        contact(session, key, *SENT)
    contact(session, "k-reserved", State.RESERVED)
    contact(session, "k-ordered", *SENT, State.ORDERED)
    contact(session, "k-cancelled", *SENT, State.CANCELLED)
    contact(session, "k-control", State.HELD_BACK, arm="control")
    lines = [text for _, text, *_ in BAD_LINES]
    # line 2 is good; line 17 orders k1 a second time, after line 23's earlier first order
    good = ("k2,delivered,2026-11-02T09:00:00,", "k1,ordered,2026-11-02T09:30:00,ORD-1")
    path = write_csv(tmp_path / "cc.csv", good[0], *lines, good[1])
    report = run(session, lake, path, max_bad_share=1.0)

    found = {(e["line"], e["field"], e["code"]): e["reason"] for e in report.errors}
    for line, _, field, code, words in BAD_LINES:
        assert words in found.pop((line, field, code)), (line, field, code)
    assert found == {}
    assert (report.rows, report.bad, report.appended) == (22, 20, 2)
    assert report.errors[0]["file"] == "cc.csv"
    rows = quarantined(report)
    assert [(int(r["line"]), r["field"], r["code"]) for r in rows] == [
        (line, field, code) for line, _, field, code, _ in BAD_LINES
    ]
    assert {r["file"] for r in rows} == {"cc.csv"}
    assert [r["raw"] for r in rows] == lines
    assert states_of(session, "k1") == ["reserved", "sent", "ordered"]
    assert states_of(session, "k-ordered") == ["reserved", "sent", "ordered"]


def test_over_the_threshold_nothing_is_appended(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT)
    path = write_csv(
        tmp_path / "cc.csv",
        "k1,delivered,2026-11-02T09:00:00,",
        "k1,bounced,2026-11-02T09:00:00,",
        "nobody,delivered,2026-11-02T09:00:00,",
    )
    report = run(session, lake, path, max_bad_share=0.5)
    assert report.status is FeedbackStatus.REJECTED
    assert (report.bad, report.appended) == (2, 0)
    assert "67%" in report.message
    assert len(quarantined(report)) == 2
    assert states_of(session, "k1") == ["reserved", "sent"]


def test_at_the_threshold_the_good_rows_are_appended(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT)
    path = write_csv(
        tmp_path / "cc.csv", "k1,delivered,2026-11-02T09:00:00,", "k1,bounced,2026-11-02T09:00:00,"
    )
    report = run(session, lake, path, max_bad_share=0.5)
    assert (report.status, report.appended, report.bad) == (FeedbackStatus.APPENDED, 1, 1)


def test_a_second_import_of_the_same_file_appends_nothing(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT)
    path = write_csv(
        tmp_path / "cc.csv",
        "k1,delivered,2026-11-02T09:00:00+00:00,",
        "k1,answered,2026-11-02T09:05:00,accepted",
        "k1,ordered,2026-11-02T09:06:00,ORD-1",
    )
    first = run(session, lake, path)
    again = run(session, lake, path)
    assert (first.appended, first.already_present) == (3, 0)
    assert again.status is FeedbackStatus.NOTHING_TO_DO
    assert (again.appended, again.already_present, again.bad) == (0, 3, 0)
    assert states_of(session, "k1") == ["reserved", "sent", "delivered", "answered", "ordered"]


def test_a_gbk_file_with_chinese_detail_is_read(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT)
    contact(session, "k2", *SENT, msisdn="13800000002")
    path = write_csv(
        tmp_path / "营业厅反馈.csv",
        "k1,failed,2026-11-02T09:00:00,用户已关机",
        "k2,ordered,2026-11-02T09:00:00,营业厅订单 甘肃-001",
        encoding="gbk",
    )
    report = run(session, lake, path)
    assert (report.encoding, report.appended) == ("gb18030", 2)
    assert events(session, "k1")[-1].detail == "用户已关机"
    assert events(session, "k2")[-1].detail == "营业厅订单 甘肃-001"


def test_a_failed_row_releases_the_cap_unit(session: Session, lake: Lake, tmp_path: Path) -> None:
    contact(session, "k1", *SENT)
    contact(session, "k2", *SENT, msisdn="13800000002")
    assert sorted(holding_units(session, since=DAY).column("msisdn").to_pylist()) == [
        "13800000001",
        "13800000002",
    ]
    path = write_csv(tmp_path / "cc.csv", "k1,failed,2026-11-02T09:00:00,no answer")
    assert run(session, lake, path).appended == 1
    assert holding_units(session, since=DAY).column("msisdn").to_pylist() == ["13800000002"]


def test_a_file_without_a_required_column_is_rejected_whole(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT)
    path = write_csv(tmp_path / "cc.csv", "k1,delivered", header="contact_key,state")
    report = run(session, lake, path)
    assert report.status is FeedbackStatus.REJECTED
    assert "missing column(s) at" in report.message
    assert states_of(session, "k1") == ["reserved", "sent"]


def test_the_report_shows_the_first_hundred_errors_and_quarantines_all(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    lines = [f"nobody{i},delivered,2026-11-02T09:00:00," for i in range(150)]
    report = run(session, lake, write_csv(tmp_path / "cc.csv", *lines), max_bad_share=1.0)
    assert (report.bad, len(report.errors), len(quarantined(report))) == (150, 100, 150)
    assert report.status is FeedbackStatus.NOTHING_TO_DO


def test_a_rejected_row_does_not_count_against_the_rows_after_it(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "k1", *SENT, State.DELIVERED)
    path = write_csv(
        tmp_path / "cc.csv",
        "k1,cancelled,2026-11-02T09:00:00,",
        "k1,answered,2026-11-02T10:00:00,considering",
        "k1,answered,2026-11-02T11:00:00,accepted",
    )
    report = run(session, lake, path)
    assert [(e["line"], e["reason"]) for e in report.errors] == [
        (2, "the contact was reached already: too late to cancel")
    ]
    assert states_of(session, "k1")[-2:] == ["answered", "answered"]


def test_a_partners_accepted_call_cancels_the_campaigns_pending_sms_once(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "call", *SENT, channel="outbound")
    sms = contact(session, "sms", State.RESERVED, channel="sms")
    elsewhere = contact(session, "sms-c8", State.RESERVED, channel="sms", campaign_id=8)
    neighbour = contact(session, "sms-n", State.RESERVED, channel="sms", msisdn="13800000002")
    path = write_csv(tmp_path / "cc.csv", "call,answered,2026-11-02T09:05:00,accepted")

    first = run(session, lake, path)
    again = run(session, lake, path)

    assert (first.appended, first.cancelled_elsewhere) == (1, 1)
    assert "1 pending contact(s) of other channels cancelled" in first.message
    assert (again.appended, again.cancelled_elsewhere) == (0, 0)
    assert states_of(session, sms) == ["reserved", "cancelled"]
    detail = session.scalars(
        select(ContactEvent.detail).where(
            ContactEvent.contact_key == sms, ContactEvent.state == State.CANCELLED.value
        )
    ).one()
    assert detail == "cross-channel rule: outbound accepted"
    assert states_of(session, elsewhere) == ["reserved"]  # another campaign
    assert states_of(session, neighbour) == ["reserved"]  # another subscriber


def test_an_answer_and_an_order_of_one_file_cancel_once_and_a_not_reached_call_keeps(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    contact(session, "call", *SENT, channel="outbound")
    contact(session, "call-2", *SENT, channel="outbound", msisdn="13800000002")
    sms = contact(session, "sms", State.RESERVED, channel="sms")
    kept = contact(session, "sms-2", State.RESERVED, channel="sms", msisdn="13800000002")
    path = write_csv(
        tmp_path / "cc.csv",
        "call,answered,2026-11-02T09:05:00,accepted",
        "call,ordered,2026-11-02T09:06:00,ORD-1",
        "call-2,failed,2026-11-02T09:07:00,no answer",
    )

    report = run(session, lake, path)

    assert (report.appended, report.cancelled_elsewhere) == (3, 1)
    assert states_of(session, sms) == ["reserved", "cancelled"]
    assert states_of(session, kept) == ["reserved"]  # not reached: the rule keeps
