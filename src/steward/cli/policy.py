"""Commands for the contact policy: show it, and explain why a subscriber is left out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward import db
from steward.cli.common import (
    USER,
    JsonFlag,
    app,
    context_of,
    emit,
    fail,
    parse_day,
    print_mapping,
    tag_catalogue,
)
from steward.offers.models import Channel

policy_app = typer.Typer(no_args_is_help=True, help="The contact policy.")
app.add_typer(policy_app, name="policy")


@policy_app.command("why-not")
def policy_why_not(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The subscriber's number.")],
    channel: Annotated[Channel, typer.Option(help="The channel of the contact.")] = Channel.SMS,
    include: Annotated[
        list[str] | None, typer.Option(help="A default-excluded category the planner includes.")
    ] = None,
    campaign: Annotated[
        int | None, typer.Option(help="Explain the whole policy for this campaign instead.")
    ] = None,
    day: Annotated[str | None, typer.Option(help="The day (default: today).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Which rule stops a contact to this subscriber: do-not-disturb on a channel, or with
    --campaign every rule of the day's arbitration (intervals, caps, channels, control…)."""
    if campaign is not None:
        explain_campaign(ctx, msisdn, campaign, day, as_json)
        return
    from steward.policy import dnd
    from steward.policy.config import load_policy
    from steward.tags.service import latest_snapshot

    catalogue = tag_catalogue()
    try:
        found = dnd.checks(load_policy(catalogue), include=include or [], channel=channel)
    except dnd.DndError as exc:
        raise fail(str(exc)) from exc
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        lake = context.lake()
        latest = latest_snapshot(session, lake)
        if latest is None:
            raise fail("no profile snapshot: run steward tags refresh first")
        rows = lake.engine.query(f"SELECT * FROM {latest[1]} WHERE msisdn = ?", [msisdn])
    if rows.num_rows == 0:
        raise fail(f"{msisdn} is not in the snapshot of {latest[0]}")
    reason = dnd.why_not(catalogue, found)(rows.to_pylist()[0])
    document: dict[str, Any] = {
        "msisdn": msisdn,
        "as_of": latest[0].isoformat(),
        "channel": channel.value,
        "excluded_by": reason,
    }
    emit(as_json, document, lambda: print_mapping("why not", document))


def explain_campaign(
    ctx: typer.Context, msisdn: str, campaign_id: int, day: str | None, as_json: bool
) -> None:
    from steward.campaigns import batch
    from steward.policy.config import load_policy

    catalogue = tag_catalogue()
    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            document = batch.explain(
                session,
                context.lake(),
                catalogue,
                load_policy(catalogue),
                msisdn=msisdn,
                campaign_id=campaign_id,
                day=parse_day(day),
            )
    except batch.RunError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: print_mapping("why not", document))


@policy_app.command("optouts")
def policy_optouts(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="One number a line (UTF-8 or GBK).")],
    channel: Annotated[Channel, typer.Option(help="The channel opted out of.")] = Channel.SMS,
    dry_run: Annotated[bool, typer.Option(help="Check and report; save nothing.")] = False,
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Add a file of numbers to a channel's opt-out list, with a report of what it held."""
    from steward.policy import service

    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            report = service.upload_opt_outs(
                session,
                context.lake().engine,
                path=path,
                channel=channel,
                by=user,
                dry_run=dry_run,
            ).to_dict()
    except service.ListError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, report, lambda: print_mapping(f"opt-out list: {channel.value}", report))
