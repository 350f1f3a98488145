"""Campaign lifecycle with maker-checker approval (R-CAMP-1..6).

draft → submitted → approved → running ⇄ paused → completed, or rejected / terminated.
The approver is never the maker. An administrator may act outside the flow — approve their
own campaign, or stand in for an approver — and each such override leaves a warning that
approvers must see. Every transition records who, when, in what role and why. Only approved
(or running) campaigns may reach a customer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import audit, within
from steward.campaigns.models import (
    Campaign,
    CampaignVersion,
    CampaignWarning,
    Status,
    Transition,
)
from steward.campaigns.schemas import CampaignCreate
from steward.events.library import load_library
from steward.events.triggers import TriggerError, check_condition
from steward.offers.service import get as get_offer
from steward.segments.service import get as get_segment
from steward.tags.service import load_catalogue
from steward.wording import N_, Refusal

# to-status -> (allowed from-statuses, roles that may do it)
MOVES: dict[Status, tuple[frozenset[Status], frozenset[Role]]] = {
    Status.SUBMITTED: (frozenset({Status.DRAFT}), frozenset({Role.PLANNER})),
    Status.DRAFT: (frozenset({Status.SUBMITTED, Status.REJECTED}), frozenset({Role.PLANNER})),
    Status.APPROVED: (frozenset({Status.SUBMITTED}), frozenset({Role.APPROVER})),
    Status.REJECTED: (frozenset({Status.SUBMITTED}), frozenset({Role.APPROVER})),
    Status.RUNNING: (
        frozenset({Status.APPROVED, Status.PAUSED}),
        frozenset({Role.PLANNER, Role.APPROVER}),
    ),
    Status.PAUSED: (frozenset({Status.RUNNING}), frozenset({Role.PLANNER, Role.APPROVER})),
    Status.COMPLETED: (
        frozenset({Status.RUNNING, Status.PAUSED}),
        frozenset({Role.PLANNER, Role.APPROVER}),
    ),
    Status.TERMINATED: (
        frozenset({Status.APPROVED, Status.RUNNING, Status.PAUSED}),
        frozenset({Role.APPROVER}),
    ),
}
CHECKER_MOVES = frozenset({Status.APPROVED, Status.REJECTED})
REACHES_CUSTOMERS = frozenset({Status.APPROVED, Status.RUNNING})


class CampaignError(Refusal):
    """A campaign request that cannot be honoured; the message says why (a ``Refusal``:
    its wording apart from its values, ``field`` the input at fault)."""


def create(
    session: Session, *, campaign_in: CampaignCreate, by: User, copied_from: int | None = None
) -> Campaign:
    """A new draft, owned by its maker, in the maker's district unless a narrower one is named."""
    district = _checked(session, campaign_in, by=by, default_district=by.district)
    data = campaign_in.model_dump(mode="json", exclude={"district", "start_date", "end_date"})
    campaign = Campaign(
        **data,
        start_date=campaign_in.start_date,
        end_date=campaign_in.end_date,
        owner=by.username,
        district=district,
        status=Status.DRAFT.value,
        copied_from=copied_from,
    )
    session.add(campaign)
    session.flush()
    audit(
        session,
        actor=by.username,
        action="campaign.create",
        entity="campaign",
        entity_id=str(campaign.id),
        detail={"copied_from": copied_from},
    )
    return campaign


def _checked(
    session: Session,
    campaign_in: CampaignCreate,
    *,
    by: User,
    default_district: str,
    renaming: Campaign | None = None,
) -> str:
    """Check what a new or edited campaign names; returns its district."""
    _check_references(session, campaign_in)
    taken = session.scalar(select(Campaign.id).where(Campaign.name == campaign_in.name))
    if taken is not None and (renaming is None or taken != renaming.id):
        raise CampaignError(
            N_("a campaign named %(name)r exists already"), field="name", name=campaign_in.name
        )
    district = campaign_in.district or default_district
    if not within(district, by.district):
        raise CampaignError(
            N_("district %(district)r lies outside yours (%(yours)r)"),
            field="district",
            district=district,
            yours=by.district,
        )
    return district


def _check_references(session: Session, campaign_in: CampaignCreate) -> None:
    segments = ", ".join(str(i) for i in campaign_in.segment_ids if get_segment(session, i) is None)
    offers = ", ".join(
        str(i)
        for i in campaign_in.offer_ids
        if (offer := get_offer(session, i)) is None or not offer.active
    )
    if segments and offers:
        raise CampaignError(
            N_("no segment %(segments)s, no active offer %(offers)s"),
            field="segment_ids",
            segments=segments,
            offers=offers,
        )
    if segments:
        raise CampaignError(N_("no segment %(segments)s"), field="segment_ids", segments=segments)
    if offers:
        raise CampaignError(N_("no active offer %(offers)s"), field="offer_ids", offers=offers)
    trigger = campaign_in.trigger
    if trigger is not None:
        try:
            check_condition(load_library(), load_catalogue(), trigger.event, trigger.condition)
        except TriggerError as exc:
            # the trigger's own wording when it has one, else its English message
            if isinstance(exc, Refusal):
                raise CampaignError(exc.template, field="trigger", **exc.params) from None
            raise CampaignError(str(exc), field="trigger") from None


def editable(campaign: Campaign) -> dict[str, Any]:
    """The fields a planner writes, as JSON: what a version keeps and a copy takes."""
    data = {k: getattr(campaign, k) for k in CampaignCreate.model_fields if hasattr(campaign, k)}
    return CampaignCreate.model_validate(data).model_dump(mode="json")


def copy(session: Session, campaign: Campaign, *, name: str, by: User) -> Campaign:
    """A new draft with everything of ``campaign`` but its name, owner and history."""
    data = editable(campaign) | {"name": name}
    return create(
        session, campaign_in=CampaignCreate.model_validate(data), by=by, copied_from=campaign.id
    )


def move(
    session: Session, campaign: Campaign, *, to: Status, by: User, comment: str = ""
) -> Transition:
    """Take the campaign to ``to`` if the flow allows it for this user; record the step."""
    current = Status(campaign.status)
    allowed_from, roles = MOVES.get(to, (frozenset(), frozenset()))
    if current not in allowed_from:
        raise CampaignError(
            N_("a %(status)s campaign cannot become %(to)s"), status=current.value, to=to.value
        )
    role = Role(by.role)
    override = False
    if role is Role.SYSTEM_ADMIN and role not in roles:
        override = True  # allowed, but everyone must see it
    elif role not in roles:
        raise CampaignError(
            N_("a %(role)s may not make a campaign %(to)s"), role=role.value, to=to.value
        )
    if to in CHECKER_MOVES and by.username == campaign.owner:
        if role is not Role.SYSTEM_ADMIN:
            raise CampaignError(N_("the approver is never the maker: ask another approver"))
        override = True
    if to in CHECKER_MOVES and not comment:
        raise CampaignError(
            N_("say why the campaign is %(to)s (a comment is required)"),
            field="comment",
            to=to.value,
        )
    step = Transition(
        campaign_id=campaign.id,
        from_status=current.value,
        to_status=to.value,
        actor=by.username,
        actor_role=role.value,
        comment=comment,
        override=override,
    )
    campaign.status = to.value
    session.add(step)
    if to is Status.SUBMITTED:
        _record_version(session, campaign, by)
    if override:
        session.add(
            CampaignWarning(
                campaign_id=campaign.id,
                actor=by.username,
                message=f"administrator {by.username} made campaign {campaign.name!r} "
                f"{to.value} outside the approval flow: {comment or 'no comment'}",
            )
        )
    session.flush()
    audit(
        session,
        actor=by.username,
        action=f"campaign.{to.value}",
        entity="campaign",
        entity_id=str(campaign.id),
        comment=comment,
        detail={"override": override},
    )
    return step


def update(
    session: Session, campaign: Campaign, *, campaign_in: CampaignCreate, by: User
) -> Campaign:
    """Edit a draft (a rejected campaign goes back to draft first); only its maker may."""
    if campaign.status != Status.DRAFT.value:
        raise CampaignError(
            N_("a %(status)s campaign cannot be edited: only a draft can"),
            status=campaign.status,
        )
    if by.username != campaign.owner and Role(by.role) is not Role.SYSTEM_ADMIN:
        raise CampaignError(
            N_("only %(owner)s, its maker, may edit this campaign"), owner=campaign.owner
        )
    district = _checked(
        session, campaign_in, by=by, default_district=campaign.district, renaming=campaign
    )
    before = editable(campaign)
    data = campaign_in.model_dump(mode="json", exclude={"district", "start_date", "end_date"})
    for key, value in data.items():
        setattr(campaign, key, value)
    campaign.start_date, campaign.end_date = campaign_in.start_date, campaign_in.end_date
    campaign.district = district
    session.flush()
    audit(
        session,
        actor=by.username,
        action="campaign.edit",
        entity="campaign",
        entity_id=str(campaign.id),
        detail={"changed": sorted(_diff(before, editable(campaign)))},
    )
    return campaign


def _record_version(session: Session, campaign: Campaign, by: User) -> None:
    latest = session.scalar(
        select(func.max(CampaignVersion.version)).where(CampaignVersion.campaign_id == campaign.id)
    )
    session.add(
        CampaignVersion(
            campaign_id=campaign.id,
            version=(latest or 0) + 1,
            fields=editable(campaign),
            by=by.username,
        )
    )


def changes(session: Session, campaign: Campaign) -> dict[str, Any]:
    """What changed between the last two submitted versions (the approver's question)."""
    versions = list(
        session.scalars(
            select(CampaignVersion)
            .where(CampaignVersion.campaign_id == campaign.id)
            .order_by(CampaignVersion.version.desc())
            .limit(2)
        )
    )
    if not versions:
        return {"version": None, "previous": None, "changed": {}}
    latest = versions[0]
    previous = versions[1] if len(versions) > 1 else None
    changed = _diff(previous.fields if previous else {}, latest.fields)
    return {
        "version": latest.version,
        "previous": previous.version if previous else None,
        "changed": changed,
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    keys = sorted(set(before) | set(after))
    return {
        k: {"from": before.get(k), "to": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    }


def may_reach_customers(campaign: Campaign) -> bool:
    """Only an approved or running campaign may plan a contact."""
    return Status(campaign.status) in REACHES_CUSTOMERS


def get(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


def visible(session: Session, user: User) -> list[Campaign]:
    """The campaigns of the user's district (and the districts inside it)."""
    campaigns = session.scalars(select(Campaign).order_by(Campaign.id))
    return [c for c in campaigns if within(c.district, user.district)]


def history(session: Session, campaign: Campaign) -> list[Transition]:
    return list(
        session.scalars(
            select(Transition).where(Transition.campaign_id == campaign.id).order_by(Transition.id)
        )
    )


def warnings(session: Session, *, unacknowledged: bool = True) -> list[CampaignWarning]:
    query = select(CampaignWarning).order_by(CampaignWarning.id)
    if unacknowledged:
        query = query.where(CampaignWarning.acknowledged_by.is_(None))
    return list(session.scalars(query))


def acknowledge_warning(session: Session, warning_id: int, *, by: User) -> CampaignWarning:
    """An approver (or administrator) saw an override's warning; who it was is kept."""
    if Role(by.role) not in (Role.APPROVER, Role.SYSTEM_ADMIN):
        raise CampaignError(N_("a %(role)s may not acknowledge warnings"), role=by.role)
    warning = session.get(CampaignWarning, warning_id)
    if warning is None:
        raise CampaignError(N_("no warning %(id)s"), id=warning_id)
    if warning.acknowledged_by is not None:
        raise CampaignError(
            N_("warning %(id)s was acknowledged by %(by)s"),
            id=warning_id,
            by=warning.acknowledged_by,
        )
    warning.acknowledged_by = by.username
    session.flush()
    audit(
        session,
        actor=by.username,
        action="campaign.warning.ack",
        entity="campaign",
        entity_id=str(warning.campaign_id),
        detail={"warning": warning_id},
    )
    return warning
