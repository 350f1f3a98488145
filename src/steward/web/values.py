"""Words for the codes the workbench shows (issue 6): a tag's categorical values (brand
``gotone``, VIP level ``silver``…), the policy's exclusion reasons (``dnd.vip_silver``,
``cap.sms``…) and the ledger's states, in the page's language.

One mapping, keyed ``"<kind>:<code>"`` (a kind is a tag's name, or ``reason``, ``state``,
``arm``, ``category``), of English source strings marked for the catalogue; the
``value_name`` filter of ``render.environment`` translates them. A code the mapping does
not know is shown as itself, so a new category or rule is never hidden.
"""

from __future__ import annotations

from collections.abc import Callable

from steward.wording import N_


def _kind(kind: str, names: dict[str, str]) -> dict[str, str]:
    return {f"{kind}:{code}": name for code, name in names.items()}


CHANNELS = {
    "sms": N_("SMS"),
    "outbound": N_("Outbound call"),
    "inbound": N_("Inbound call"),
    "app": N_("App"),
    "web": N_("Web"),
    "hall": N_("Hall"),
}
# The tags whose values are codes (steward/tags/catalogue.yaml, type category; the codes
# from the interface contract, steward/ingest/schemas.py, and the synthetic province).
TAG_VALUES = {
    **_kind("brand", {"gotone": N_("GoTone"), "mzone": N_("M-Zone"), "easyown": N_("Easy Own")}),
    **_kind(
        "vip_level",
        {
            "none": N_("No VIP card"),
            "silver": N_("Silver card"),
            "gold": N_("Gold card"),
            "diamond": N_("Diamond card"),
        },
    ),
    **_kind("payment_type", {"prepaid": N_("Prepaid"), "postpaid": N_("Postpaid")}),
    **_kind(
        "status",
        {"active": N_("In service"), "suspended": N_("Suspended"), "cancelled": N_("Closed line")},
    ),
    **_kind(
        "customer_type",
        {
            "personal": N_("Personal"),
            "corporate_group": N_("Corporate group"),
            "staff": N_("Company staff"),
            "government": N_("Government and police lines"),
            "special_org": N_("Special organisation"),
            "unit_account": N_("Work-unit account"),
        },
    ),
    **_kind("gender", {"M": N_("Male"), "F": N_("Female"), "U": N_("Not known")}),
    **_kind(
        "contract_type",
        {
            "none": N_("No contract"),
            "monthly": N_("Month to month"),
            "one_year": N_("One-year contract"),
            "two_year": N_("Two-year contract"),
        },
    ),
    **_kind(
        "age_band",
        {
            "under_18": N_("Under 18"),
            "18_24": N_("18 to 24"),
            "25_34": N_("25 to 34"),
            "35_44": N_("35 to 44"),
            "45_54": N_("45 to 54"),
            "55_64": N_("55 to 64"),
            "65_plus": N_("65 and over"),
        },
    ),
    **_kind("preferred_channel", CHANNELS),
    **_kind("handset_network", {g: g.upper() for g in ("2g", "3g", "4g", "5g")}),
    **_kind(
        "city",
        {
            "lanzhou": N_("Lanzhou"),
            "tianshui": N_("Tianshui"),
            "baiyin": N_("Baiyin"),
            "wuwei": N_("Wuwei"),
            "zhangye": N_("Zhangye"),
            "jiuquan": N_("Jiuquan"),
            "jiayuguan": N_("Jiayuguan"),
            "jinchang": N_("Jinchang"),
            "pingliang": N_("Pingliang"),
            "qingyang": N_("Qingyang"),
            "dingxi": N_("Dingxi"),
            "longnan": N_("Longnan"),
            "linxia": N_("Linxia"),
            "gannan": N_("Gannan"),
        },
    ),
}
# A complaint ticket's fields (the complaint interface) and a billing order's answer.
RECORDS = {
    **_kind("complaint_kind", {"complaint": N_("Complaint"), "consultation": N_("Consultation")}),
    **_kind("complaint_status", {"open": N_("Open"), "closed": N_("Closed ticket")}),
    **_kind(
        "complaint_category",
        {
            "billing": N_("About billing"),
            "network": N_("About the network"),
            "service": N_("About service"),
            "product": N_("About a product"),
            "marketing": N_("About marketing"),
            "roaming": N_("About roaming"),
            "handset": N_("About the handset"),
            "other": N_("About something else"),
        },
    ),
    **_kind("order", {"accepted": N_("Accepted"), "rejected": N_("Refused by billing")}),
}
# Why a subscriber was or was not contacted: the outcomes of arbitration
# (policy/arbitration.py STAGES, the DND categories and intervals of policy/defaults.yaml)
# and of the one-subscriber "why not" (campaigns/batch.py explain).
REASONS = _kind(
    "reason",
    {
        "winner": N_("Passes every rule: contacted, channel capacity allowing"),
        "planned": N_("Planned for contact"),
        "held_back": N_("Control group: deliberately not contacted"),
        "arbitration.lost": N_("Another campaign won the subscriber"),
        "channel.no_fit": N_("The offer fits none of the campaign's channels"),
        "cap.overall": N_("Monthly contact cap reached"),
        "cap.sms": N_("SMS contact cap reached"),
        "cap.outbound": N_("Outbound-call contact cap reached"),
        "cap.inbound": N_("Inbound-call contact cap reached"),
        "cap.web": N_("Web contact cap reached"),
        "cap.app": N_("App contact cap reached"),
        "cap.hall": N_("Hall contact cap reached"),
        "capacity.sms": N_("SMS capacity of the day full"),
        "capacity.outbound": N_("Outbound-call capacity of the day full"),
        "capacity.inbound": N_("Inbound-call capacity of the day full"),
        "capacity.web": N_("Web capacity of the day full"),
        "capacity.app": N_("App capacity of the day full"),
        "capacity.hall": N_("Hall capacity of the day full"),
        "interval.ordered_offer": N_("Already ordered this offer"),
        "interval.same_group": N_("An offer of the same exclusion group within 6 months"),
        "interval.declined_6m": N_("Declined this offer within 6 months"),
        "interval.telemarketed_60d": N_("Telemarketed within 60 days"),
        "interval.marketed_3m": N_("Marketed this offer within 3 months"),
        "interval.conflict_category": N_("Conflict: an offer of the same category within 14 days"),
        "campaign.excluded": N_("Contacted by a campaign this one excludes"),
        "campaign.contacted": N_("Already in this campaign's wave"),
        "day.contacted": N_("Already contacted today"),
        "offer.not_eligible": N_("Not eligible for the offer"),
        "segment.not_member": N_("Not a member of the campaign's segments"),
        "not.in_snapshot": N_("Not in the latest profile snapshot"),
        "campaign.not_today": N_("The campaign does not run today"),
        "campaign.draft": N_("The campaign is a draft"),
        "campaign.submitted": N_("The campaign awaits approval"),
        "campaign.approved": N_("The campaign is approved, not started"),
        "campaign.paused": N_("The campaign is paused"),
        "campaign.completed": N_("The campaign has ended"),
        "campaign.rejected": N_("The campaign was rejected"),
        "campaign.terminated": N_("The campaign was terminated"),
        "trigger.none_matched": N_("No listening campaign's condition held"),
        "trigger.late": N_("The event came too late to act on"),
        "trigger.condition": N_("The trigger's condition did not hold"),
        "dnd.optout_channel": N_("Do not disturb: opted out of the channel"),
        "dnd.complaint_sensitive": N_("Do not disturb: complained in the last 90 days"),
        "dnd.vip_diamond_gold": N_("Do not disturb: VIP diamond or gold"),
        "dnd.vip_silver": N_("Do not disturb: VIP silver"),
        "dnd.corporate_group": N_("Do not disturb: corporate-group customer"),
        "dnd.staff": N_("Do not disturb: company staff"),
        "dnd.government": N_("Do not disturb: government and police lines"),
        "dnd.special_org": N_("Do not disturb: special organisation"),
        "dnd.unit_account": N_("Do not disturb: unit account"),
        "dnd.foreigner": N_("Do not disturb: foreigner"),
        "dnd.blacklisted": N_("Do not disturb: blacklisted"),
        "dnd.data_card": N_("Do not disturb: data-card-only line"),
        "dnd.suspended": N_("Do not disturb: suspended line"),
        "dnd.cancelled": N_("Do not disturb: cancelled line"),
    },
)
# A contact's state in the ledger (contacts/models.py State) and its arm.
STATES = _kind(
    "state",
    {
        "planned": N_("Planned for contact"),
        "reserved": N_("In today's plan"),
        "held_back": N_("Held back (control group)"),
        "sent": N_("Sent"),
        "delivered": N_("Delivered"),
        "failed": N_("Not reached"),
        "answered": N_("Answered"),
        "ordered": N_("Ordered"),
        "cancelled": N_("Withdrawn"),
    },
)
ARMS = _kind("arm", {"target": N_("Target group"), "control": N_("Control group")})
VALUE_NAMES: dict[str, str] = {**TAG_VALUES, **RECORDS, **REASONS, **STATES, **ARMS}


def value_name(gettext: Callable[[str], str], code: object, kind: str) -> str:
    """``code`` of ``kind`` in words of the language ``gettext`` translates to; an unknown
    code as itself, a flag as yes or no, and no value as an empty string."""
    if code is None:
        return ""
    if isinstance(code, bool):  # a flag tag
        return gettext(N_("Yes") if code else N_("No"))
    name = VALUE_NAMES.get(f"{kind}:{code}")
    return gettext(name) if name is not None else str(code)
