"""Do-not-disturb management as a workbench screen (issue 6, screen 9; R-POL-2).

The categories with their default (always excluded, or excluded unless a planner includes
them), how many subscribers each excludes in the latest snapshot, the opt-out lists per
channel, and the upload of a list with its validation report — checked first, saved only
when asked, every upload audited, exactly as ``steward policy optouts`` does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select

from steward.auth.models import Role
from steward.ingest import numbers as number_lists
from steward.offers.models import Channel
from steward.policy import dnd
from steward.policy import service as lists
from steward.policy.models import ChannelOptOut
from steward.tags import service as tags
from steward.web.deps import Catalogue, DbSession, LakeDep, PolicyDep
from steward.web.render import N_, Refusal, forbidden, page, render, screen

router = APIRouter(include_in_schema=False)
DND = screen(
    "/dnd",
    N_("Do not disturb"),
    Role.PLANNER,
    Role.APPROVER,
    Role.ANALYST,
    Role.DATA_ADMIN,
)
UPLOADERS = frozenset({Role.DATA_ADMIN, Role.SYSTEM_ADMIN})
EXCLUSION_NAMES = {
    "always": N_("Always excluded"),
    "default": N_("Excluded unless included by the planner"),
}
MAX_UPLOAD_MB = 20
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
SHOWN_LINES = 50  # bad lines the report lists


@router.get("/dnd", response_class=HTMLResponse)
def categories(
    request: Request, session: DbSession, lake: LakeDep, catalogue: Catalogue, policy: PolicyDep
) -> Response:
    user = page(request, session, DND)
    latest = tags.latest_snapshot(session, lake)
    counts: dict[str, int] = {}
    if latest is not None:
        found = dnd.checks(policy)
        counts = dnd.exclusion_counts(lake.engine, f"SELECT * FROM {latest[1]}", catalogue, found)
    listed = dict(
        session.execute(
            select(ChannelOptOut.channel, func.count()).group_by(ChannelOptOut.channel)
        ).all()
    )
    return render(
        request,
        "policy/dnd.html",
        user,
        categories=policy.dnd,
        counts=counts,
        snapshot=latest[0] if latest else None,
        listed=listed,
        channels=[c.value for c in dnd.OPT_OUT_TAGS],
        exclusions=EXCLUSION_NAMES,
        may_upload=Role(user.role) in UPLOADERS,
    )


@router.post("/dnd/optouts", response_class=HTMLResponse)
def upload(
    request: Request,
    session: DbSession,
    lake: LakeDep,
    channel: Annotated[str, Form()],
    numbers: Annotated[UploadFile, File()],
    save: Annotated[bool, Form()] = False,
) -> Response:
    """Check an opt-out list (and with ``save``, add its good numbers); the report is the
    answer, a fragment htmx puts under the form."""
    user = page(request, session, DND)
    if Role(user.role) not in UPLOADERS:
        return forbidden(request, user)
    data = numbers.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        too_big = Refusal(N_("file over %(limit)s MB"), field="numbers", limit=MAX_UPLOAD_MB)
        return render(request, "policy/upload_error.html", user, error=too_big)
    try:
        wanted = Channel(channel)
    except ValueError:
        unknown = Refusal(N_("no channel %(channel)r"), field="channel", channel=channel)
        return render(request, "policy/upload_error.html", user, error=unknown)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(numbers.filename or "numbers.txt").name
        path.write_bytes(data)
        try:
            report = lists.upload_opt_outs(
                session, lake.engine, path=path, channel=wanted, by=user.username, dry_run=not save
            )
        except (lists.ListError, ValueError) as exc:
            return render(request, "policy/upload_error.html", user, error=exc)
    # each bad line's problem as a wording, shown in the page's language
    problems = [number_lists.problem(str(bad["problem"])) for bad in report.bad_lines[:SHOWN_LINES]]
    return render(
        request,
        "policy/upload_report.html",
        user,
        report=report,
        bad_lines=list(zip(report.bad_lines, problems, strict=False)),
    )
