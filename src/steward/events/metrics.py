"""Prometheus counters and histograms of the real-time path, served at ``/metrics``.

One registry for the process (the API, the relay and the workers of ``steward run`` share
it). Names follow Prometheus' conventions: ``_total`` counters, ``_seconds`` histograms.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_IN = Counter(
    "steward_events_in_total", "Events accepted at the edge, by type.", ["type"], registry=REGISTRY
)
EVENTS_REJECTED = Counter(
    "steward_events_rejected_total",
    "Events refused at the edge or quarantined by a worker, by where.",
    ["where"],
    registry=REGISTRY,
)
EVENTS_DUPLICATE = Counter(
    "steward_events_duplicate_total",
    "Redelivered or retried events that changed nothing.",
    registry=REGISTRY,
)
DECISIONS = Counter(
    "steward_decisions_total",
    "Online decisions, by outcome (planned, held_back, or the rule that excluded).",
    ["outcome"],
    registry=REGISTRY,
)
CONTACTS = Counter(
    "steward_contacts_total",
    "Contacts the online path added to the ledger, by channel.",
    ["channel"],
    registry=REGISTRY,
)
DECISION_SECONDS = Histogram(
    "steward_decision_batch_seconds",
    "Time to decide and commit one batch of events.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
EVENT_LAG_SECONDS = Histogram(
    "steward_event_lag_seconds",
    "From an event's time to its decision's commit.",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5, 30, 60, 300, 3600),
    registry=REGISTRY,
)
DECIDE_REQUESTS = Histogram(
    "steward_decide_request_seconds",
    "Inbound decision API (GET /decide) latency, by channel.",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
    registry=REGISTRY,
)
BACKLOG = Gauge(
    "steward_event_backlog",
    "Accepted events not yet handed to the bus or not yet decided.",
    registry=REGISTRY,
)
