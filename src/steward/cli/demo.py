"""The demo and the API server."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console

from steward import db
from steward.cli.campaigns import print_funnels, print_run
from steward.cli.common import (
    JsonFlag,
    app,
    context_of,
    emit,
    print_load,
    print_rows,
    progress_bar,
)
from steward.cli.data import load_delivery
from steward.ingest.report import LoadStatus


@app.command()
def demo(
    ctx: typer.Context,
    subscribers: Annotated[int, typer.Option(min=1)] = 20_000,
    days: Annotated[int, typer.Option(min=1)] = 2,
    seed: Annotated[int, typer.Option()] = 7,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Leave the API server running after.")
    ] = True,
    as_json: JsonFlag = False,
) -> None:
    """The whole loop on a small synthetic city, then the API server.

    Generate, load, tag, target, approve, arbitrate, send, simulate the customers' answers
    (a clearly named simulation), evaluate; then serve the API (--no-serve stops before).
    """
    from steward.mining.models import ModelKind
    from steward.policy.config import load_policy
    from steward.simulation import demo as loop
    from steward.synth.service import TRUTH_FILE
    from steward.synth.service import generate as run_generate
    from steward.tags import service as tags

    context = context_of(ctx)
    today = date.today()
    delivery = context.settings.home / "deliveries" / f"demo-seed{seed}-{today.isoformat()}"
    with progress_bar("generating", not as_json) as update:
        generated = run_generate(
            subscribers=subscribers,
            days=days,
            seed=seed,
            out=delivery,
            start=today - timedelta(days=days),
            progress=update,
        )
    report = load_delivery(context, delivery, "auto", None, show_progress=not as_json)
    if report.status is not LoadStatus.PUBLISHED:
        emit(as_json, report.to_dict(), lambda: print_load(report.to_dict()))
        raise typer.Exit(1)
    catalogue = tags.load_catalogue()
    policy = load_policy(catalogue)
    lake = context.lake()
    data_day = today - timedelta(days=1)
    churn_models = (ModelKind.CHURN_30D, ModelKind.CHURN_60D)
    published = loop.publish_models(context.sessions, lake, kinds=churn_models, data_day=data_day)
    with db.transaction(context.sessions) as session:
        refreshed = tags.refresh(session, lake, catalogue, data_day)
    with db.transaction(context.sessions) as session:
        campaign_ids = loop.prepare(session, lake, catalogue, day=today)
    steps = loop.run_loop(
        context.sessions,
        lake,
        catalogue,
        policy,
        day=today,
        truth=generated.truth_out / TRUTH_FILE,
        seed=seed,
        quarantine=context.settings.quarantine_path,
    )
    with db.transaction(context.sessions) as session:
        results = loop.evaluate(session, lake, campaign_ids)
    # the day's answers teach the propensity model; from tomorrow arbitration reads it
    kinds = (ModelKind.PROPENSITY,)
    published |= loop.publish_models(context.sessions, lake, kinds=kinds, data_day=data_day)
    with db.transaction(context.sessions) as session:
        tags.refresh(session, lake, catalogue, data_day)
    document = {
        "generated": generated.to_dict(),
        "load": report.to_dict(),
        "tags": refreshed.to_dict(),
        "steps": {k: _plain(v) for k, v in steps.items()},
        "campaigns": results,
        "models": published,
    }
    emit(as_json, document, lambda: print_loop(document))
    if serve_after:
        Console(stderr=True).print(
            "serving the API on http://127.0.0.1:8000 (OpenAPI at /docs); demo users: "
            f"{', '.join(name for name, _ in loop.USERS)} (password {loop.PASSWORD!r}); "
            "Ctrl-C stops"
        )
        serve(ctx)


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def print_loop(document: dict[str, Any]) -> None:
    print_load(document["load"])
    tagged = document["tags"]
    Console().print(f"tags: {tagged['tags']} for {tagged['subscribers']:,} subscribers")
    print_run(document["steps"]["arbitration"])
    results = document["campaigns"]
    print_funnels([r["funnel"] | {"campaign_id": r["name"]} for r in results], rules=False)
    print_rows(
        "exclusions by rule (latest run, top 5 per campaign)",
        ("campaign", "rule", "subscribers"),
        (
            [r["name"], rule, n]
            for r in results
            for rule, n in sorted(r["funnel"]["exclusions"].items(), key=lambda i: -i[1])[:5]
        ),
    )
    published = document["models"]
    print_rows(
        "models published (out-of-time validation; signed off by demo.approver)",
        ("model", "version", "AUC", "top-decile lift", "positives"),
        (
            [kind, m["version"], m["auc"], m["top_decile_lift"], m["positives"]]
            for kind, m in published.items()
            if kind != "scored" and m["published"]
        ),
    )
    for kind, m in published.items():
        if kind != "scored" and not m["published"]:
            Console(stderr=True).print(f"model {kind} not published: {m['reason']}")
    print_rows(
        "orders: target against control (lift with 95 % interval, p-value)",
        ("campaign", "target", "control", "lift", "95% interval", "p"),
        (_lift_row(r["name"], r["lift"]) for r in results),
    )


def _lift_row(name: str, lift: dict[str, Any]) -> list[str]:
    target, control, found = lift["target"], lift["control"], lift["order_lift"]
    if found is None:
        return [name, _rate(target), _rate(control), "—", "—", "—"]
    return [
        name,
        _rate(target),
        _rate(control),
        f"{found['lift']:+.2%}",
        f"[{found['ci_low']:+.2%}, {found['ci_high']:+.2%}]",
        f"{found['p_value']:.3g}",
    ]


def _rate(arm: dict[str, Any] | None) -> str:
    if not arm or not arm["n"]:
        return "—"
    return f"{arm['ordered']}/{arm['n']} = {arm['ordered'] / arm['n']:.2%}"


DEMO_RULE = "brand = 'gotone' AND arpu_3m BETWEEN 50 AND 300 AND NOT complaint_sensitive"


@app.command()
def serve(
    ctx: typer.Context,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> None:
    """Serve the REST API (OpenAPI at /docs) on embedded defaults."""
    import uvicorn

    from steward.web.app import create_app

    uvicorn.run(create_app(context_of(ctx).settings), host=host, port=port)
