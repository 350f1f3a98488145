"""Commands for campaigns and their approval flow; the CLI acts as a named user."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError

from steward import db
from steward.campaigns import service
from steward.campaigns.models import Status
from steward.campaigns.schemas import CampaignCreate, CampaignRead, TransitionRead
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
    tag_catalogue,
)

campaigns_app = typer.Typer(no_args_is_help=True, help="Campaigns and their approval flow.")
app.add_typer(campaigns_app, name="campaigns")


@campaigns_app.command("create")
def campaigns_create(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A YAML file with the campaign's fields.")],
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """A new draft campaign from a file (segments, offers, channels, waves, budget …)."""
    context = context_of(ctx)
    try:
        campaign_in = CampaignCreate.model_validate(yaml.safe_load(path.read_text("utf-8")))
        with db.transaction(context.sessions) as session:
            campaign = service.create(session, campaign_in=campaign_in, by=acting(session, user))
            document = CampaignRead.model_validate(campaign).model_dump(mode="json")
    except (ValidationError, service.CampaignError) as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: print_mapping(f"campaign {document['id']}", document))


@campaigns_app.command("list")
def campaigns_list(ctx: typer.Context, user: USER = "cli", as_json: JsonFlag = False) -> None:
    """The campaigns of the acting user's district."""
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        rows = [
            CampaignRead.model_validate(c).model_dump(mode="json")
            for c in service.visible(session, acting(session, user))
        ]

    def render() -> None:
        print_rows(
            f"{len(rows)} campaigns",
            ("id", "name", "kind", "status", "owner", "district", "dates"),
            (
                [
                    r["id"],
                    r["name"],
                    r["kind"],
                    r["status"],
                    r["owner"],
                    r["district"],
                    f"{r['start_date']} – {r['end_date']}",
                ]
                for r in rows
            ),
        )

    emit(as_json, rows, render)


@campaigns_app.command("move")
def campaigns_move(
    ctx: typer.Context,
    campaign_id: int,
    to: Annotated[Status, typer.Option(help="The new status.")],
    comment: str = "",
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Submit, approve, reject, start, pause, complete or terminate a campaign."""
    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            campaign = service.get(session, campaign_id)
            if campaign is None:
                raise fail(f"no campaign {campaign_id}")
            step = service.move(session, campaign, to=to, by=acting(session, user), comment=comment)
            document: dict[str, Any] = TransitionRead.model_validate(step).model_dump(mode="json")
    except service.CampaignError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: print_mapping(f"campaign {campaign_id}", document))


@campaigns_app.command("run")
def campaigns_run(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="The business day (default: today).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Arbitrate every running campaign for the day and reserve the plan in the ledger."""
    from steward.campaigns import batch
    from steward.policy.config import load_policy

    context = context_of(ctx)
    catalogue = tag_catalogue()
    policy = load_policy(catalogue)
    try:
        with db.transaction(context.sessions) as session:
            report = batch.run_day(
                session, context.lake(), catalogue, policy, day=parse_day(day)
            ).to_dict()
    except batch.RunError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, report, lambda: print_run(report))


def print_run(report: dict[str, Any]) -> None:
    rows = [
        [campaign, outcome, n]
        for campaign, counted in report["outcomes"].items()
        for outcome, n in sorted(counted.items(), key=lambda item: -item[1])
    ]
    title = (
        f"run of {report['day']} (snapshot {report['snapshot']}): "
        f"{report['reserved']} reserved, {report['held_back']} held back"
    )
    print_rows(title, ("campaign", "outcome", "subscribers"), rows)


@campaigns_app.command("funnel")
def campaigns_funnel(
    ctx: typer.Context,
    campaign_ids: Annotated[list[int], typer.Argument(help="Campaign ids.")],
    as_json: JsonFlag = False,
) -> None:
    """Targets → after policy → planned → contacted → responded → ordered, per campaign."""
    from steward.evaluation import service as evaluation

    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        found = [f.to_dict() for f in evaluation.funnels(session, context.lake(), campaign_ids)]
    emit(as_json, found, lambda: print_funnels(found))


FUNNEL_STEPS = (
    "targets",
    "after_policy",
    "held_back",
    "planned",
    "contacted",
    "delivered",
    "responded",
    "ordered",
)


def print_funnels(found: list[dict[str, Any]], *, rules: bool = True) -> None:
    extra = ("exclusions by rule",) if rules else ()
    print_rows(
        "funnel",
        ("campaign", *FUNNEL_STEPS, *extra),
        (
            [f["campaign_id"], *(f[s] for s in FUNNEL_STEPS)]
            + ([_exclusions(f["exclusions"])] if rules else [])
            for f in found
        ),
    )


def _exclusions(counted: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counted.items(), key=lambda item: -item[1]))
