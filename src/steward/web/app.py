"""The application factory: one FastAPI app, every domain adds its router here."""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Awaitable, Callable
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import make_asgi_app

from steward import db
from steward.auth import api as auth_api
from steward.auth.service import AuthError
from steward.campaigns import api as campaigns_api
from steward.campaigns.service import CampaignError
from steward.channels import api as channels_api
from steward.channels.orders import SimulatedOrderCentre
from steward.evaluation import api as evaluation_api
from steward.events import api as events_api
from steward.events import metrics
from steward.lake.engine import make_engine
from steward.lake.service import Lake
from steward.offers import api as offers_api
from steward.offers.service import OfferError
from steward.ops import api as ops_api
from steward.policy.config import load_policy
from steward.realtime import api as realtime_api
from steward.rules import RuleError
from steward.segments import api as segments_api
from steward.segments.service import SegmentError
from steward.settings import Settings
from steward.tags import api as tags_api
from steward.tags.service import TagError, load_catalogue
from steward.web import pages, render

# Domains with workbench screens: each has a ``pages.py`` with a ``router`` (issue 6).
PAGE_DOMAINS = (
    "tags",
    "segments",
    "offers",
    "campaigns",
    "evaluation",
    "channels",
    "events",
    "policy",
    "contacts",
)


def page_modules() -> list[ModuleType]:
    """The domains' page modules that exist, in menu order."""
    names = [f"steward.{d}.pages" for d in PAGE_DOMAINS]
    return [importlib.import_module(n) for n in names if importlib.util.find_spec(n)]


def create_app(settings: Settings) -> FastAPI:
    """Build the app for ``settings``: database migrated, lake opened, catalogue loaded."""
    app = FastAPI(
        title="Steward",
        version="0.1.0",
        description="A dedicated, intelligent customer manager for every subscriber.",
    )
    engine = db.make_engine(settings.database_url)
    db.migrate(engine)
    app.state.sessions = db.session_factory(engine)
    app.state.lake = Lake(
        settings.lake,
        make_engine(
            settings.analytics_engine,
            memory_limit=settings.analytics_memory_limit,
            temp_directory=settings.home / "tmp",
        ),
        cache_tables=True,
    )
    app.state.lake_lock = threading.Lock()
    app.state.catalogue = load_catalogue()
    app.state.policy = load_policy(app.state.catalogue)
    # the simulated billing order centre until a real one is configured (docs/channels)
    app.state.order_centre = SimulatedOrderCentre()
    app.include_router(auth_api.router)
    app.include_router(tags_api.router)
    app.include_router(segments_api.router)
    app.include_router(offers_api.router)
    app.include_router(campaigns_api.router)
    app.include_router(channels_api.router)
    app.include_router(evaluation_api.router)
    app.include_router(events_api.router)
    app.include_router(events_api.watch_router)
    app.include_router(ops_api.router)
    app.include_router(realtime_api.router)
    app.include_router(pages.router)
    for domain_pages in page_modules():
        app.include_router(domain_pages.router)
    app.mount("/static", StaticFiles(directory=render.STATIC), name="static")
    app.middleware("http")(_refuse_oversized_bodies)
    # counts and latencies only, no subscriber data: open to the scraper like a health check
    app.mount("/metrics", make_asgi_app(registry=metrics.REGISTRY))
    app.add_exception_handler(RuleError, _rule_error)
    app.add_exception_handler(SegmentError, _unprocessable)
    app.add_exception_handler(TagError, _unprocessable)
    app.add_exception_handler(AuthError, _unprocessable)
    app.add_exception_handler(OfferError, _unprocessable)
    app.add_exception_handler(CampaignError, _unprocessable)
    app.add_exception_handler(render.PageRefused, _page_refused)
    return app


def _page_refused(_request: Request, refused: Exception) -> Response:
    """A page's other answer: sign in first, or "not allowed" (``render.page``)."""
    assert isinstance(refused, render.PageRefused)
    return refused.response


MAX_EVENTS_BODY = 2 * 1024 * 1024  # a full batch of 1 000 events is far below this
# A file upload (a number list, an opt-out list, an evaluation report) is spooled to disk
# before any route reads it: refuse a larger one first. A province-wide list of 18 M
# numbers is about 220 MB; the routes hold their own, smaller limits for their files.
MAX_UPLOAD_BODY = 256 * 1024 * 1024


def _body_limit(request: Request) -> int | None:
    """The largest body this request may send, when one is set for it."""
    if request.method != "POST":
        return None
    if request.url.path.rstrip("/") == "/events":
        return MAX_EVENTS_BODY
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return MAX_UPLOAD_BODY
    return None


async def _refuse_oversized_bodies(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """An events body larger than any valid batch, or an upload larger than any file a
    route takes, is refused before it is read (413); it must state its length."""
    limit = _body_limit(request)
    if limit is not None:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > limit:
            detail = f"this body must state its length, at most {limit} bytes"
            return JSONResponse({"detail": detail}, status_code=413)
    return await call_next(request)


async def _rule_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleError)
    detail = {
        "message": exc.message,
        "position": exc.position,
        "line": exc.line,
        "column": exc.column,
        "suggestions": exc.suggestions,
        "pointer": exc.pointer(),
    }
    return JSONResponse(status_code=422, content={"detail": detail})


async def _unprocessable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": {"message": str(exc)}})
