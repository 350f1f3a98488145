"""Every string of the workbench is in the catalogue and translated: none is left in English
on a Chinese page (issue 6)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from steward.web import i18n

ROOT = Path(__file__).parents[2]


def extracted() -> set[str]:
    """The strings ``make messages`` extracts today (babel.cfg, keyword N_ as well)."""
    found: set[str] = set()
    method_map = [
        ("src/steward/**.py", "python"),
        ("src/steward/web/templates/**.html", "jinja2"),
    ]
    options = {"src/steward/web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "N_": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_a_chinese_translation() -> None:
    translated: set[str] = set()
    for path in i18n.catalogues("zh_CN"):
        with path.open("rb") as po:
            catalogue = read_po(po, locale="zh_CN")
        translated |= {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = sorted(extracted() - translated)
    assert not missing, f"untranslated (run make messages, then translate): {missing}"


def test_placeholders_survive_translation() -> None:
    translations = i18n.translations("zh_CN")
    for message in extracted():
        if "%(" in message:
            names = sorted(part.split(")")[0] for part in message.split("%(")[1:])
            chinese = translations.gettext(message)
            assert sorted(p.split(")")[0] for p in chinese.split("%(")[1:]) == names, message


def test_the_browser_language_is_negotiated() -> None:
    assert i18n.negotiate(None, "en-US,en;q=0.9") == "en"
    assert i18n.negotiate(None, "zh-TW") == "zh_CN"
    assert i18n.negotiate(None, "fr-FR") == i18n.DEFAULT
    assert i18n.negotiate("en", "zh-CN") == "en"
    assert i18n.negotiate("xx", "en") == "en"


def test_a_string_reads_the_same_in_every_catalogue() -> None:
    """Catalogues are merged: one English string, one Chinese wording, on every screen."""
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in i18n.catalogues("zh_CN"):
        with path.open("rb") as po:
            for message in read_po(po, locale="zh_CN"):
                if not message.id:
                    continue
                first = seen.setdefault(message.id, (str(message.string), path.name))
                if first[0] != message.string:
                    clashes.append(f"{message.id!r}: {first} vs {(message.string, path.name)}")
    assert not clashes, clashes
