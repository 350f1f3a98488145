"""Reading what subscribers text back, however their phones type it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.channels.replies import ParsedReply, ReplyKind, parse_reply

ACCEPT = ("Y", "YES", "是", "好", "办理", "确认", "1")
REJECT = ("N", "NO", "否", "不", "不要", "不办理", "2")
UNSUBSCRIBE = ("TD", "T", "0000", "退订", "取消")
SPACES = (" ", "\t", "\n", "\u3000", "\u00a0")


@pytest.mark.parametrize(
    ("words", "kind"),
    [(ACCEPT, ReplyKind.ACCEPT), (REJECT, ReplyKind.REJECT), (UNSUBSCRIBE, ReplyKind.UNSUBSCRIBE)],
)
def test_the_fixed_words_mean_yes_no_and_stop(words: tuple[str, ...], kind: ReplyKind) -> None:
    assert {parse_reply(w) for w in words} == {ParsedReply(kind)}


@pytest.mark.parametrize("text", ["kt10g", " KT 10G ", "ＫＴ１０Ｇ", "kt10g。"])
def test_an_offer_reply_code_is_read_as_typed(text: str) -> None:
    assert parse_reply(text) == ParsedReply(ReplyKind.CODE, code="KT10G")


@pytest.mark.parametrize("text", ["", "   ", "?", "是的吧", "who's this?", "X", "好的谢谢你" * 9])
def test_anything_else_is_unknown(text: str) -> None:
    assert parse_reply(text).kind is ReplyKind.UNKNOWN


def test_the_fixed_words_win_over_reply_codes() -> None:
    assert parse_reply("0000").kind is ReplyKind.UNSUBSCRIBE
    assert parse_reply("no").kind is ReplyKind.REJECT


def test_edge_punctuation_is_ignored() -> None:
    assert parse_reply("好！").kind is ReplyKind.ACCEPT
    assert parse_reply("“退订”").kind is ReplyKind.UNSUBSCRIBE


@given(st.text())
def test_parsing_never_raises(text: str) -> None:
    assert parse_reply(text).kind in ReplyKind


def _full_width(char: str) -> str:
    return chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char


@st.composite
def typed_like_a_phone(draw: st.DrawFn, word: str) -> str:
    """``word`` with random case, full-width letters and spaces around and inside it."""
    chars = []
    for char in word:
        char = char.lower() if draw(st.booleans()) else char
        chars.append(_full_width(char) if draw(st.booleans()) else char)
        chars.append(draw(st.text(st.sampled_from(SPACES), max_size=2)))
    before = draw(st.text(st.sampled_from(SPACES), max_size=3))
    return before + "".join(chars)


@given(st.sampled_from(ACCEPT).flatmap(lambda w: st.tuples(st.just(w), typed_like_a_phone(w))))
def test_every_way_of_typing_a_yes_is_a_yes(typed: tuple[str, str]) -> None:
    word, variant = typed
    assert parse_reply(variant) == parse_reply(word) == ParsedReply(ReplyKind.ACCEPT)
