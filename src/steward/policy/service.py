"""The policy's lists, maintained by people: opt-out lists uploaded per channel (R-POL-2).

An upload is checked like any list of numbers (bad lines named, repeats counted once) and
reported before anything is saved; with ``dry_run`` nothing is. Numbers already on the list
are counted, not added twice. Every upload is audited with who made it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from steward.auth.service import audit
from steward.ingest import numbers
from steward.lake.engine import AnalyticsEngine
from steward.offers.models import Channel
from steward.policy.dnd import OPT_OUT_TAGS
from steward.policy.models import ChannelOptOut
from steward.wording import N_, Refusal


class ListError(Refusal):
    """An upload that cannot be taken; the message says why."""


@dataclass
class OptOutUpload:
    channel: str
    lines: int
    accepted: int
    duplicates: int
    already_listed: int = 0
    added: int = 0
    bad_lines: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def upload_opt_outs(
    session: Session,
    engine: AnalyticsEngine,
    *,
    path: Path,
    channel: Channel,
    by: str,
    dry_run: bool = False,
) -> OptOutUpload:
    """Add the file's numbers to ``channel``'s opt-out list; report what the file held."""
    if channel not in OPT_OUT_TAGS:
        known = ", ".join(c.value for c in OPT_OUT_TAGS)
        raise ListError(
            N_("no opt-out list for %(channel)s: one of %(known)s"),
            field="channel",
            channel=channel.value,
            known=known,
        )
    checked = numbers.check_number_list(engine, path)
    good = [str(r["msisdn"]) for r in engine.query(numbers.GOOD).to_pylist()]
    listed = set(
        session.scalars(select(ChannelOptOut.msisdn).where(ChannelOptOut.channel == channel.value))
    )
    new = [m for m in good if m not in listed]
    report = OptOutUpload(
        channel=channel.value,
        lines=checked.lines,
        accepted=checked.accepted,
        duplicates=checked.duplicates,
        already_listed=len(good) - len(new),
        bad_lines=checked.bad_lines,
        dry_run=dry_run,
    )
    if dry_run or not new:
        return report
    session.execute(
        insert(ChannelOptOut),
        [{"msisdn": m, "channel": channel.value, "source": f"upload {by}"[:32]} for m in new],
    )
    report.added = len(new)
    audit(
        session,
        actor=by,
        action="policy.optouts.upload",
        entity="opt_out_list",
        entity_id=channel.value,
        detail={"file": path.name, "added": len(new), "bad_lines": len(checked.bad_lines)},
    )
    return report
