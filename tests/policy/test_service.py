"""Opt-out lists by upload: checked, reported, added once, audited; arbitration reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from steward.auth.models import AuditEntry
from steward.lake.service import Lake
from steward.offers.models import Channel
from steward.policy import service
from steward.policy.models import ChannelOptOut


def listed(session: Session, channel: str) -> list[str]:
    query = select(ChannelOptOut.msisdn).where(ChannelOptOut.channel == channel)
    return sorted(session.scalars(query))


def test_an_upload_names_bad_lines_and_adds_each_number_once(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    path = tmp_path / "optout.txt"
    path.write_text("msisdn\n13800000001\n1380000000X\n13800000002\n13800000001\n", "utf-8")
    dry = service.upload_opt_outs(
        session, lake.engine, path=path, channel=Channel.SMS, by="admin", dry_run=True
    )
    assert (dry.accepted, dry.duplicates, dry.added) == (2, 1, 0)
    assert dry.bad_lines == [
        {"line": 3, "value": "1380000000X", "problem": "not an 11-digit mobile number"}
    ]
    assert listed(session, "sms") == []
    done = service.upload_opt_outs(session, lake.engine, path=path, channel=Channel.SMS, by="admin")
    assert done.added == 2
    assert listed(session, "sms") == ["13800000001", "13800000002"]
    again = service.upload_opt_outs(
        session, lake.engine, path=path, channel=Channel.SMS, by="admin"
    )
    assert (again.added, again.already_listed) == (0, 2)
    actions = session.scalars(select(AuditEntry.action)).all()
    assert actions.count("policy.optouts.upload") == 1


def test_a_channel_without_an_opt_out_list_is_refused(
    session: Session, lake: Lake, tmp_path: Path
) -> None:
    path = tmp_path / "optout.txt"
    path.write_text("13800000001\n", "utf-8")
    with pytest.raises(service.ListError, match="no opt-out list for hall"):
        service.upload_opt_outs(session, lake.engine, path=path, channel=Channel.HALL, by="a")
