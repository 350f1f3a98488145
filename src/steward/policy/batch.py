"""Arbitration over the whole base at once, set-based in the analytics engine.

The same semantics as ``online.py`` (docs/arbitration.md), as a handful of SQL statements:
candidates and the policy's verdict on each, channels, the control draw, the per-subscriber
competition, then channel capacity in the global order. No Python loop runs per subscriber;
the only loop is capacity's, once per channel that fills up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import pyarrow as pa

from steward.lake.engine import AnalyticsEngine
from steward.offers.models import Channel
from steward.policy import dnd
from steward.policy.arbitration import (
    BEGUN,
    EXCLUDED_CAMPAIGN_DAYS,
    HELD_BACK,
    MARKETING,
    PLAN_SCHEMA,
    PLANNED,
    REACHED,
    CampaignSpec,
    LedgerFacts,
    OfferSpec,
    Plan,
    interval_since,
    period_start,
    propensity_tag,
    stage_sql,
)
from steward.policy.config import Policy, Scope
from steward.rules import parse_rule, to_sql
from steward.tags.schemas import TagCatalogue
from steward.tags.service import rule_types

# A subscriber's candidates compete in the order (score desc, campaign, offer); the score is
# the subscriber's own where a propensity model has scored them.
RANK_IN_SUBSCRIBER = "struct_pack(s := -score, c := campaign_id, o := offer_id)"
# Subscribers judged at once: bounds the engine's memory at the province's scale.
CHUNK_SUBSCRIBERS = 2_000_000


class Arbiter:
    """One run's SQL, built from the policy, campaigns and offers; ``run`` executes it."""

    def __init__(
        self,
        engine: AnalyticsEngine,
        *,
        day: date,
        policy: Policy,
        catalogue: TagCatalogue,
        campaigns: Sequence[CampaignSpec],
        offers: Sequence[OfferSpec],
        chunk_subscribers: int = CHUNK_SUBSCRIBERS,
    ) -> None:
        self.engine = engine
        self.chunk_subscribers = max(chunk_subscribers, 1)
        self.day = day
        self.policy = policy
        self.catalogue = catalogue
        self.campaigns = list(campaigns)
        self.offers = list(offers)
        self.types = rule_types(catalogue)
        self.dialect = engine.dialect
        self.cap_keys = sorted(k for k in policy.caps.periods if k != "overall")
        # Candidate id = (subscriber row × campaigns + campaign) × offers + offer: integers
        # to group by, instead of the number's text.
        self._per_campaign = max(len(self.offers), 1)
        self._per_sub = max(len(self.campaigns), 1) * self._per_campaign

    def run(self, *, members: str, profile: str, facts: LedgerFacts) -> Plan:
        """``members``: rows (campaign_id, msisdn); ``profile``: the tag snapshot's rows."""
        self._register(facts)
        steps = {
            "arb_members": "SELECT DISTINCT CAST(campaign_id AS BIGINT) AS campaign_id, msisdn "
            f"FROM ({members})",
            "arb_sub": self._subscribers(profile),
            **self._facts(),
        }
        for table, query in steps.items():
            self.engine.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {query}")
        self._judge_in_chunks()
        self._capacity()
        return self._plan()

    def _judge_in_chunks(self) -> None:
        """Judge the candidates a block of subscribers at a time (memory stays bounded).

        Arbitration is per subscriber but for capacity, so each block keeps only its
        winners — whose outcome capacity decides — and the final outcome counts of every
        (campaign, subscriber) the winner is not in.
        """
        self.engine.execute(
            "CREATE OR REPLACE TEMP TABLE arb_winners (cid BIGINT, campaign_id BIGINT, "
            "offer_id BIGINT, score DOUBLE, first_open VARCHAR, open_channels VARCHAR)"
        )
        self.engine.execute(
            "CREATE OR REPLACE TEMP TABLE arb_counts "
            "(campaign_id BIGINT, outcome VARCHAR, subscribers BIGINT)"
        )
        (total,) = self.engine.query("SELECT count(*) AS n FROM arb_sub").column("n").to_pylist()
        for low in range(0, int(total), self.chunk_subscribers):
            high = low + self.chunk_subscribers
            self.engine.execute(
                f"CREATE OR REPLACE TEMP TABLE arb_judged AS {self._judged(low, high)}"
            )
            self.engine.execute(
                # the subscriber's best passing candidate wins; ties: lower campaign, offer
                "CREATE OR REPLACE TEMP TABLE arb_winner AS SELECT arg_min(cid, "
                f"{RANK_IN_SUBSCRIBER}) AS cid "
                f"FROM arb_judged WHERE outcome IS NULL GROUP BY cid // {self._per_sub}"
            )
            self.engine.execute(
                "INSERT INTO arb_winners SELECT cid, campaign_id, offer_id, score, first_open, "
                "open_channels FROM arb_judged SEMI JOIN arb_winner USING (cid)"
            )
            self.engine.execute(f"INSERT INTO arb_counts {self._settled_counts()}")

    def _settled_counts(self) -> str:
        """Outcome counts of the (campaign, subscriber) pairs without the winner: final."""
        group = f"cid // {self._per_campaign}"
        return f"""
        SELECT campaign_id, outcome, count(*) FROM (
          SELECT any_value(campaign_id) AS campaign_id, arg_min(outcome, key) AS outcome
          FROM (
            SELECT cid, campaign_id, coalesce(outcome, 'arbitration.lost') AS outcome,
              struct_pack(stage := {stage_sql("coalesce(outcome, 'arbitration.lost')")},
                s := -score, o := offer_id) AS key
            FROM arb_judged
            WHERE {group} NOT IN (SELECT {group} FROM arb_winner)
          ) GROUP BY {group}
        ) GROUP BY ALL
        """

    # -- inputs --------------------------------------------------------------------------

    def _register(self, facts: LedgerFacts) -> None:
        c = self.campaigns
        tables: dict[str, dict[str, list[object]]] = {
            "arb_campaign": {
                "campaign_id": [x.id for x in c],
                "kind": [x.kind for x in c],
                "priority": [x.priority for x in c],
                "expected_rate": [x.expected_rate for x in c],
                "control_share": [x.control_share for x in c],
                "wave_start": [x.wave_start for x in c],
                "cpos": list(range(len(c))),
            },
            "arb_campaign_offer": self._campaign_offers(),
            "arb_excluded": _pairs(
                "campaign_id", "excluded_id", [(x.id, e) for x in c for e in x.exclude_campaigns]
            ),
            "arb_offer": self._offer_columns(),
        }
        for name, columns in tables.items():
            self.engine.register(name, _typed(columns))
        self.engine.register("arb_units", facts.units)
        self.engine.register("arb_history", facts.history)
        self.engine.register("arb_opt_outs", facts.opt_outs)

    def _campaign_offers(self) -> dict[str, list[object]]:
        """Each (campaign, offer) with the learning factor of its answers (1 without)."""
        pairs = [(c, o) for c in self.campaigns for o in c.offers]
        return {
            "campaign_id": [c.id for c, _ in pairs],
            "offer_id": [o for _, o in pairs],
            "factor": [c.factor(o) for c, o in pairs],
        }

    def _offer_columns(self) -> dict[str, list[object]]:
        columns: dict[str, list[object]] = {
            "offer_id": [o.id for o in self.offers],
            "category": [o.category for o in self.offers],
            "grp": [o.group for o in self.offers],
            "value": [o.value for o in self.offers],
            "opos": list(range(len(self.offers))),
        }
        for ch in Channel:  # which channels each offer fits, one flag column per channel
            columns[f"fit_{ch.value}"] = [ch in o.fit for o in self.offers]
        return columns

    # -- the policy's verdict per candidate -------------------------------------------------

    def _subscribers(self, profile: str) -> str:
        """What the policy needs of each member, computed once per subscriber: eligibility
        for every offer, the DND reason for every set of included categories, the cap class,
        opt-outs and the units used."""
        elig = [f"coalesce({self._rule(o.eligibility)}, FALSE) AS elig_{o.id}" for o in self.offers]
        dnd_sets = [
            dnd.exclusion_sql(self.catalogue, dnd.checks(self.policy, include=inc), self.dialect)
            + f" AS dnd_{k}"
            for k, inc in enumerate(self._include_sets())
        ]
        return f"""
        WITH used AS (
          SELECT msisdn, {self._used_counts()} FROM arb_units
          WHERE kind = '{MARKETING}' GROUP BY msisdn
        ),
        listed AS (SELECT msisdn, {self._listed()} FROM arb_opt_outs GROUP BY msisdn),
        today AS (  -- contacted today, or held back today: their day is done
          SELECT msisdn FROM arb_units WHERE day = {_date(self.day)}
          UNION
          SELECT msisdn FROM arb_history WHERE day = {_date(self.day)} AND state = 'held_back'
        )
        SELECT p.msisdn, {", ".join(elig + dnd_sets + self._propensity_columns())},
          {self._class()} AS cap_class,
          t.msisdn IS NOT NULL AS contacted_today,
          {self._opt_outs()}, {self._used_columns()}
        FROM {profile} p
        SEMI JOIN (SELECT DISTINCT msisdn FROM arb_members) m ON m.msisdn = p.msisdn
        LEFT JOIN used u ON u.msisdn = p.msisdn
        LEFT JOIN listed l ON l.msisdn = p.msisdn
        LEFT JOIN today t ON t.msisdn = p.msisdn
        """

    def _scored_offers(self) -> list[OfferSpec]:
        """Offers whose category a propensity tag covers (NULL until a model scores it)."""
        return [o for o in self.offers if propensity_tag(o) in self.types]

    def _propensity_columns(self) -> list[str]:
        return [f'p."{propensity_tag(o)}" AS prop_{o.id}' for o in self._scored_offers()]

    def _propensity(self) -> str:
        """The candidate's subscriber's propensity for its offer, per the offer's category."""
        whens = " ".join(f"WHEN {o.id} THEN s.prop_{o.id}" for o in self._scored_offers())
        return f"CASE co.offer_id {whens} END" if whens else "CAST(NULL AS DOUBLE)"

    def _include_sets(self) -> list[tuple[str, ...]]:
        return sorted({tuple(sorted(c.dnd_include)) for c in self.campaigns})

    def _candidates(self, low: int, high: int) -> str:
        carried = [
            "cap_class",
            "contacted_today",
            *(f"optout_{ch.value}" for ch in dnd.OPT_OUT_TAGS),
        ]
        carried += [f"used_{k}" for k in ("overall", *self.cap_keys)]
        return f"""
        WITH judged AS (
          SELECT (s.rowid * {len(self.campaigns)} + c.cpos) * {self._per_campaign} + o.opos AS cid,
            m.msisdn, m.campaign_id, co.offer_id, c.kind, c.control_share,
            (c.priority * coalesce({self._propensity()} * co.factor, c.expected_rate)) * o.value
              AS score,
            b.sid IS NOT NULL AS begun, x.sid IS NOT NULL AS excluded,
            {self._eligible()} AS eligible, {self._dnd()} AS dnd_reason,
            {", ".join(f"s.{c}" for c in carried)},
            {", ".join(f"o.fit_{ch.value}" for ch in self._channels_used())},
            least(io.pos, ic.pos, ig.pos, ia.pos) AS interval_pos
          FROM arb_members m
          JOIN arb_campaign c USING (campaign_id)
          JOIN arb_campaign_offer co USING (campaign_id)
          JOIN arb_offer o USING (offer_id)
          JOIN arb_sub s ON s.msisdn = m.msisdn
          LEFT JOIN arb_begun b ON b.campaign_id = m.campaign_id AND b.sid = s.rowid
          LEFT JOIN arb_excl x ON x.campaign_id = m.campaign_id AND x.sid = s.rowid
          LEFT JOIN arb_hits_offer io ON io.sid = s.rowid AND io.key = co.offer_id
          LEFT JOIN arb_hits_category ic ON ic.sid = s.rowid AND ic.key = o.category
          LEFT JOIN arb_hits_group ig ON ig.sid = s.rowid AND ig.key = o.grp
          LEFT JOIN arb_hits_any ia ON ia.sid = s.rowid
          WHERE s.rowid >= {low} AND s.rowid < {high}
        )
        SELECT *, {self._verdict()} AS verdict,
          {self._by_campaign(lambda c: self._block(c.channels[0]))} AS first_block,
          {self._by_campaign(self._first_open)} AS first_open,
          {self._by_campaign(self._open_list)} AS open_channels
        FROM judged
        """

    def _facts(self) -> dict[str, str]:
        """The ledger's facts about members, keyed by the subscriber's row (integers)."""
        begun = ", ".join(f"'{s.value}'" for s in BEGUN)
        reached = ", ".join(f"'{s.value}'" for s in REACHED)
        since_excluded = _date(date.fromordinal(self.day.toordinal() - EXCLUDED_CAMPAIGN_DAYS))
        sid = "JOIN arb_sub s ON s.msisdn = h.msisdn"
        facts = {
            "arb_begun": f"""
              SELECT DISTINCT h.campaign_id, s.rowid AS sid
              FROM arb_history h JOIN arb_campaign c USING (campaign_id) {sid}
              WHERE h.state IN ({begun}) AND h.day >= c.wave_start""",
            "arb_excl": f"""
              SELECT DISTINCT x.campaign_id, s.rowid AS sid FROM arb_history h
              JOIN arb_excluded x ON h.campaign_id = x.excluded_id {sid}
              WHERE h.state IN ({reached}) AND h.arm = 'target' AND h.day >= {since_excluded}""",
            "arb_hits": f"""
              SELECT s.rowid AS sid, h.scope, h.key, h.pos
              FROM ({self._interval_hits()}) h {sid}""",
        }
        for scope in Scope:
            key = "CAST(key AS BIGINT) AS key" if scope is Scope.OFFER else "key"
            facts[f"arb_hits_{scope.value}"] = (
                f"SELECT sid, {key}, pos FROM arb_hits WHERE scope = '{scope.value}'"
            )
        return facts

    def _used_counts(self) -> str:
        periods = self.policy.caps.periods
        outside = ", ".join(f"'{c.value}'" for c in self.policy.caps.outside_overall) or "''"
        columns = [
            f"count(*) FILTER (WHERE channel NOT IN ({outside}) "
            f"AND day >= {_date(period_start(self.day, periods['overall']))}) AS used_overall"
        ]
        columns += [
            f"count(*) FILTER (WHERE channel = '{k}' "
            f"AND day >= {_date(period_start(self.day, periods[k]))}) AS used_{k}"
            for k in self.cap_keys
        ]
        return ", ".join(columns)

    def _used_columns(self) -> str:
        keys = ["overall", *self.cap_keys]
        used = [f"coalesce(u.used_{k}, 0) AS used_{k}" for k in keys]
        return ", ".join(used)

    def _interval_hits(self) -> str:
        keys = {
            Scope.OFFER: "CAST(offer_id AS VARCHAR)",
            Scope.CATEGORY: "category",
            Scope.GROUP: "exclusion_group",
            Scope.ANY: "''",
        }
        parts = []
        for pos, interval in enumerate(self.policy.intervals):
            states = ", ".join(f"'{s.value}'" for s in interval.states)
            where = [
                f"kind = '{MARKETING}'",
                "arm = 'target'",
                f"state IN ({states})",
                f"day >= {_date(interval_since(self.day, interval))}",
                f"{keys[interval.scope]} IS NOT NULL",
            ]
            if interval.channels:
                where.append(
                    "channel IN (" + ", ".join(f"'{c.value}'" for c in interval.channels) + ")"
                )
            if interval.details:
                where.append("detail IN (" + ", ".join(_literal(d) for d in interval.details) + ")")
            parts.append(
                f"SELECT msisdn, '{interval.scope.value}' AS scope, {keys[interval.scope]} AS key, "
                f"{pos} AS pos FROM arb_history WHERE {' AND '.join(where)}"
            )
        if not parts:
            return (
                "SELECT NULL::VARCHAR AS msisdn, NULL::VARCHAR AS scope, NULL::VARCHAR AS key, "
                "NULL::INTEGER AS pos WHERE FALSE"
            )
        union = " UNION ALL ".join(parts)
        return f"SELECT msisdn, scope, key, min(pos) AS pos FROM ({union}) GROUP BY ALL"

    def _rule(self, text: str) -> str:
        return to_sql(parse_rule(text, self.types), dialect=self.dialect)

    def _eligible(self) -> str:
        whens = " ".join(f"WHEN {o.id} THEN s.elig_{o.id}" for o in self.offers)
        return f"CASE co.offer_id {whens} END"

    def _dnd(self) -> str:
        sets = self._include_sets()
        whens = " ".join(
            f"WHEN {c.id} THEN s.dnd_{sets.index(tuple(sorted(c.dnd_include)))}"
            for c in self.campaigns
        )
        return f"CASE m.campaign_id {whens} END"

    def _class(self) -> str:
        whens = " ".join(
            f"WHEN {self._rule(r)} THEN '{n}'" for n, r in self.policy.caps.classes.items()
        )
        return f"CASE {whens} END"

    def _listed(self) -> str:
        return ", ".join(
            f"bool_or(channel = '{ch.value}') AS {ch.value}" for ch in dnd.OPT_OUT_TAGS
        )

    def _opt_outs(self) -> str:
        """Opted out of a channel: the profile's flag (interface file) or the opt-out list."""
        has_opt_out = any(d.per_channel for d in self.policy.dnd)
        columns = []
        for channel, tag in dnd.OPT_OUT_TAGS.items():
            flag = f"coalesce(p.{tag}, FALSE) OR coalesce(l.{channel.value}, FALSE)"
            columns.append(f"{flag if has_opt_out else 'FALSE'} AS optout_{channel.value}")
        return ", ".join(columns)

    def _cap(self, key: str, class_column: str) -> str:
        """The cap on ``key`` for the subscriber's class (NULL: no cap)."""
        whens = " ".join(
            f"WHEN '{name}' THEN {row[key]}"
            for name, row in self.policy.caps.table.items()
            if key in row
        )
        return f"CASE {class_column} {whens} END" if whens else "NULL"

    def _verdict(self) -> str:
        names = "[" + ", ".join(_literal(i.name) for i in self.policy.intervals) + "]::VARCHAR[]"
        return f"""CASE
          WHEN begun THEN 'campaign.contacted'
          WHEN contacted_today THEN 'day.contacted'
          WHEN NOT eligible THEN 'offer.not_eligible'
          WHEN dnd_reason IS NOT NULL THEN dnd_reason
          WHEN excluded THEN 'campaign.excluded'
          WHEN kind = '{MARKETING}' AND interval_pos IS NOT NULL
            THEN 'interval.' || ({names})[interval_pos + 1]
          WHEN kind = '{MARKETING}' AND used_overall >= {self._cap("overall", "cap_class")}
            THEN 'cap.overall'
        END"""

    # -- channels, control, competition -----------------------------------------------------

    def _channels_used(self) -> list[Channel]:
        return sorted({ch for c in self.campaigns for ch in c.channels})

    def _block(self, channel: Channel) -> str:
        """Why ``channel`` cannot carry a candidate: not fit, opted out, cap reached, or NULL."""
        whens = [f"WHEN NOT fit_{channel.value} THEN 'channel.no_fit'"]
        if channel in dnd.OPT_OUT_TAGS:
            whens.append(f"WHEN optout_{channel.value} THEN 'dnd.{dnd.OPT_OUT}'")
        if channel.value in self.cap_keys:
            cap = self._cap(channel.value, "cap_class")
            whens.append(
                f"WHEN kind = '{MARKETING}' AND used_{channel.value} >= {cap} "
                f"THEN 'cap.{channel.value}'"
            )
        return f"CASE {' '.join(whens)} END"

    def _first_open(self, campaign: CampaignSpec) -> str:
        whens = " ".join(
            f"WHEN ({self._block(ch)}) IS NULL THEN '{ch.value}'" for ch in campaign.channels
        )
        return f"CASE {whens} END"

    def _open_list(self, campaign: CampaignSpec) -> str:
        """The open channels in the campaign's order, comma-separated (kept for winners)."""
        items = ", ".join(
            f"CASE WHEN ({self._block(ch)}) IS NULL THEN '{ch.value}' END"
            for ch in campaign.channels
        )
        return f"concat_ws(',', {items})"

    def _by_campaign(self, expression: Callable[[CampaignSpec], str]) -> str:
        whens = " ".join(f"WHEN {c.id} THEN {expression(c)}" for c in self.campaigns)
        return f"CASE campaign_id {whens} END"

    def _judged(self, low: int, high: int) -> str:
        return f"""
        WITH candidates AS ({self._candidates(low, high)})
        SELECT cid, campaign_id, offer_id, score, first_open,
          CASE WHEN verdict IS NULL AND first_open IS NOT NULL THEN open_channels END
            AS open_channels,
          CASE WHEN verdict IS NOT NULL THEN verdict
               WHEN first_open IS NULL THEN first_block
          END AS outcome
        FROM candidates
        """

    # -- capacity ------------------------------------------------------------------------

    def _capacity(self) -> None:
        """Winners take their first channel with room, in the order (score, hash of number).

        Sequentially this is a loop; set-based it is a fixed point: with each full channel's
        last admitted position known, every winner's channel follows at once. Starting with
        none known, the channel that fills first is found exactly in each pass, so there are
        at most as many passes as limited channels.
        """
        self.engine.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE arb_win AS
            SELECT w.cid, row_number() OVER (ORDER BY w.score DESC, md5(s.msisdn)) AS gpos,
              {self._control_draw()} AS held
            FROM arb_winners w
            JOIN arb_campaign c ON c.campaign_id = w.campaign_id
            JOIN arb_sub s ON s.rowid = w.cid // {self._per_sub}
            """
        )
        self.engine.execute(f"CREATE OR REPLACE TEMP TABLE arb_win_ch AS {self._open_channels()}")
        remaining = self._remaining_capacity()
        fills: dict[str, int] = {}
        while True:
            self._assign(fills)
            over = self._over_capacity(remaining, fills)
            if not over:
                return
            channel, last = min(over.items(), key=lambda item: item[1])
            fills[channel] = last

    @staticmethod
    def _control_draw() -> str:
        """``control_draw`` in SQL: the first 32 bits of md5("campaign:msisdn") / 2^32."""
        return (
            "('0x' || left(md5(CAST(c.campaign_id AS VARCHAR) || ':' || s.msisdn), 8))"
            "::UBIGINT::DOUBLE / 4294967296.0::DOUBLE < c.control_share"
        )

    def _open_channels(self) -> str:
        """Each winner's open channels, with their position in its campaign's order."""
        return (
            "SELECT gpos, unnest(string_split(open_channels, ',')) AS channel, "
            "generate_subscripts(string_split(open_channels, ','), 1) AS pos "
            "FROM arb_win JOIN arb_winners USING (cid)"
        )

    def _remaining_capacity(self) -> dict[str, int]:
        used = {
            r["channel"]: int(r["n"])
            for r in self.engine.query(
                "SELECT channel, count(*) AS n FROM arb_units "
                f"WHERE day = {_date(self.day)} GROUP BY 1"
            ).to_pylist()
        }
        return {
            ch.value: max(cap - used.get(ch.value, 0), 0)
            for ch, cap in self.policy.capacity.items()
        }

    def _assign(self, fills: dict[str, int]) -> None:
        whens = " ".join(f"WHEN '{ch}' THEN gpos <= {last}" for ch, last in fills.items())
        allowed = f"CASE channel {whens} ELSE TRUE END" if whens else "TRUE"
        self.engine.execute(
            "CREATE OR REPLACE TEMP TABLE arb_assigned AS "
            "SELECT gpos, arg_min(channel, pos) AS channel FROM arb_win_ch "
            f"WHERE {allowed} GROUP BY gpos"
        )

    def _over_capacity(self, remaining: dict[str, int], fills: dict[str, int]) -> dict[str, int]:
        """Unfixed channels given more winners than room, with the last position that fits."""
        over = {}
        counts = self.engine.query(
            "SELECT channel, count(*) AS n FROM arb_assigned GROUP BY 1"
        ).to_pylist()
        for row in counts:
            channel, n = str(row["channel"]), int(row["n"])
            if channel in remaining and channel not in fills and n > remaining[channel]:
                room = remaining[channel]
                last = self.engine.query(
                    "SELECT gpos FROM arb_assigned WHERE channel = ? "
                    "ORDER BY gpos LIMIT 1 OFFSET ?",
                    [channel, max(room - 1, 0)],
                ).to_pylist()
                over[channel] = int(last[0]["gpos"]) if room > 0 else 0
        return over

    # -- the plan --------------------------------------------------------------------------

    def _plan(self) -> Plan:
        """The winners' outcomes (capacity, control), the plan, and every outcome counted."""
        self.engine.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE arb_final AS
            SELECT w.cid, w.campaign_id, w.offer_id, w.score,
              CASE WHEN a.channel IS NULL THEN 'capacity.' || w.first_open
                   WHEN v.held THEN '{HELD_BACK}' ELSE '{PLANNED}' END AS outcome,
              CASE WHEN v.held AND a.channel IS NOT NULL THEN 'control' ELSE 'target' END
                AS arm,
              a.channel
            FROM arb_winners w
            JOIN arb_win v USING (cid)
            LEFT JOIN arb_assigned a ON a.gpos = v.gpos
            """
        )
        contacts = self.engine.query(
            "SELECT s.msisdn, f.campaign_id, f.offer_id, f.channel, f.arm, f.score "
            f"FROM arb_final f JOIN arb_sub s ON s.rowid = f.cid // {self._per_sub} "
            f"WHERE f.outcome IN ('{PLANNED}', '{HELD_BACK}') ORDER BY f.campaign_id, s.msisdn"
        ).cast(PLAN_SCHEMA)
        counted = self.engine.query(
            "SELECT campaign_id, outcome, sum(n) AS n FROM ("
            "SELECT campaign_id, outcome, subscribers AS n FROM arb_counts UNION ALL "
            "SELECT campaign_id, outcome, count(*) AS n FROM arb_final GROUP BY ALL"
            ") GROUP BY ALL"
        ).to_pylist()
        outcomes = {(int(r["campaign_id"]), str(r["outcome"])): int(r["n"]) for r in counted}
        return Plan(contacts, outcomes)


def _pairs(left: str, right: str, rows: list[tuple[object, object]]) -> dict[str, list[object]]:
    return {left: [r[0] for r in rows], right: [r[1] for r in rows]}


INPUT_TYPES = {
    "campaign_id": pa.int64(),
    "excluded_id": pa.int64(),
    "offer_id": pa.int64(),
    "priority": pa.int64(),
    "expected_rate": pa.float64(),
    "control_share": pa.float64(),
    "value": pa.float64(),
    "wave_start": pa.date32(),
    "cpos": pa.int64(),
    "opos": pa.int64(),
    "factor": pa.float64(),
} | {f"fit_{ch.value}": pa.bool_() for ch in Channel}


def _typed(columns: dict[str, list[object]]) -> pa.Table:
    return pa.table(
        {
            name: pa.array(values, type=INPUT_TYPES.get(name, pa.string()))
            for name, values in columns.items()
        }
    )


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
