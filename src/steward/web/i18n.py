"""The workbench's languages: English source strings, Simplified Chinese from a Babel message
catalogue (``locale/zh_CN/LC_MESSAGES/messages.po``), read at start-up — no compiled ``.mo``
file is kept in the repository, so the catalogue is the one thing translators edit.

Each domain's screens may bring their own catalogue, ``<domain>.po``, beside ``messages.po``.

A request's language is, in order: the ``lang`` cookie (the switch in the page header),
then the browser's ``Accept-Language``; Chinese when neither names a language we have.
``make messages`` extracts the strings of the templates and pages into ``messages.pot`` and
merges them into the catalogue; a test fails on any string without a Chinese translation.
"""

from __future__ import annotations

import io
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE = Path(__file__).with_name("locale")
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT = "zh_CN"
COOKIE = "lang"


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of ``language`` (English: the source strings themselves)."""
    if language == "en":
        return NullTranslations()
    catalogue = Catalog(locale=language)
    for path in catalogues(language):  # the shell's messages.po, then one a screen
        with path.open("rb") as po:
            for message in read_po(po, locale=language):
                if message.id:
                    catalogue[message.id] = message
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


def catalogues(language: str) -> list[Path]:
    """The language's catalogues: ``messages.po`` (the shell) and one for each domain's
    screens (``<domain>.po``), so screens are translated without touching one shared file."""
    return sorted((LOCALE / language / "LC_MESSAGES").glob("*.po"))


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The language of a request: the cookie's, else the browser's first we have."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower().replace("-", "_")
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT
