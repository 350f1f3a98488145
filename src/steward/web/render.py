"""Rendering a workbench page (issue 6): one Jinja environment a language, the screens a
role reaches, and the signed-in user from the session cookie. Domain ``pages.py`` modules
use it as routes use ``web.deps``; each adds its screens to ``SCREENS`` by declaring them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from steward.auth import service as auth
from steward.auth.models import Role, User
from steward.web import i18n, values
from steward.wording import N_, Refusal

__all__ = [
    "N_",
    "PageRefused",
    "Refusal",
    "Screen",
    "forbidden",
    "page",
    "refusal",
    "render",
    "screen",
    "signed_in",
]

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
SESSION_COOKIE = "steward_session"


ROLE_NAMES = {
    Role.PLANNER: N_("Planner"),
    Role.APPROVER: N_("Approver"),
    Role.ANALYST: N_("Analyst"),
    Role.AGENT: N_("Call-centre agent"),
    Role.CLERK: N_("Hall clerk"),
    Role.DATA_ADMIN: N_("Data administrator"),
    Role.SYSTEM_ADMIN: N_("System administrator"),
}
CHANNEL_NAMES = {
    "sms": N_("SMS"),
    "outbound": N_("Outbound call"),
    "inbound": N_("Inbound call"),
    "app": N_("App"),
    "web": N_("Web"),
    "hall": N_("Hall"),
}
KIND_NAMES = {"care": N_("Care"), "marketing": N_("Marketing")}


@dataclass(frozen=True)
class Screen:
    path: str
    title: str  # an English source string: translated where it is shown
    roles: frozenset[Role]


def _roles(*roles: Role) -> frozenset[Role]:
    return frozenset(roles) | {Role.SYSTEM_ADMIN}


# The screens a role reaches from its home, in menu order; domain pages add theirs.
SCREENS: list[Screen] = []


@cache
def environment(language: str) -> Environment:
    """One Jinja environment a language, its gettext installed (``{% trans %}``, ``_()``)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    translations = i18n.translations(language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["t"] = translations.gettext
    env.filters["role_name"] = lambda code: ROLE_NAMES.get(Role(code), code)
    env.filters["channel_name"] = lambda code: CHANNEL_NAMES.get(code, code)
    env.filters["kind_name"] = lambda code: KIND_NAMES.get(code, code)
    env.filters["value_name"] = partial(values.value_name, translations.gettext)
    env.filters["refusal"] = partial(_refusal, translations.gettext)
    return env


def _refusal(gettext: Callable[[str], str], error: Exception) -> str:
    """A service's refusal in the reader's language: its wording translated, then its values
    put in. An error that is not a ``Refusal`` keeps its own (English) text."""
    if not isinstance(error, Refusal):
        return str(error)
    wording = gettext(error.template)
    return wording % error.params if error.params else wording


def refusal(request: Request, error: Exception) -> str:
    """``error`` as the page's reader should read it (the ``refusal`` filter in templates)."""
    return _refusal(i18n.translations(language_of(request)).gettext, error)


def language_of(request: Request) -> str:
    return i18n.negotiate(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def render(
    request: Request, name: str, user: User | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    language = language_of(request)
    template = environment(language).get_template(name)
    screens = [s for s in SCREENS if user is not None and Role(user.role) in s.roles]
    html = template.render(
        request=request,
        user=user,
        screens=screens,
        language=language,
        languages=i18n.LANGUAGES,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def signed_in(request: Request, session: Session) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    return auth.user_for_token(session, token) if token else None


def screen(path: str, title: str, *roles: Role) -> Screen:
    """Declare a screen (title: an English string marked with ``N_``); it shows in the menu
    of ``roles`` and of the system administrator."""
    found = Screen(path, title, _roles(*roles))
    SCREENS.append(found)
    return found


class PageRefused(Exception):  # noqa: N818 - not an error: another answer than the screen
    """What ``page`` raises when a request gets another answer than its screen: the app
    sends ``response`` (``web.app`` registers the handler), so a page reads on."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def forbidden(request: Request, user: User) -> HTMLResponse:
    """ "Not allowed" (403): the screen, or the action, is not open to the user's role."""
    return render(request, "forbidden.html", user, status_code=403)


def page(request: Request, session: Session, wanted: Screen) -> User:
    """The signed-in user of a screen's request. A visitor is sent to sign in, and a role
    the screen is not open to gets "not allowed" (``PageRefused``)."""
    user = signed_in(request, session)
    if user is None:
        raise PageRefused(RedirectResponse("/", status_code=303))
    if Role(user.role) not in wanted.roles:
        raise PageRefused(forbidden(request, user))
    return user


DASHBOARD = screen(
    "/dashboard", N_("Dashboard"), Role.PLANNER, Role.APPROVER, Role.ANALYST, Role.DATA_ADMIN
)
