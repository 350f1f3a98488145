"""What a subscriber's SMS reply means: yes, no, stop, an offer's reply code, or nothing.

Customers type on every kind of phone: full-width letters, stray spaces, lower case, a
trailing full stop. The text is normalised (NFKC, spaces and edge punctuation dropped, upper
case) before it is compared, so "  ｙｅｓ。" is a yes like "Y".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# An offer's reply code, as offers.schemas.OfferCreate.reply_code allows it.
REPLY_CODE = re.compile(r"[A-Z0-9]{2,16}")


class ReplyKind(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    UNSUBSCRIBE = "unsubscribe"
    CODE = "code"  # an offer's reply code: a yes to that offer
    UNKNOWN = "unknown"


# The fixed words win over reply codes: an offer cannot take "NO" or "TD" from customers.
WORDS: dict[str, ReplyKind] = {
    **dict.fromkeys(("Y", "YES", "是", "好", "办理", "确认", "1"), ReplyKind.ACCEPT),
    **dict.fromkeys(("N", "NO", "否", "不", "不要", "不办理", "2"), ReplyKind.REJECT),
    **dict.fromkeys(("TD", "T", "0000", "退订", "取消"), ReplyKind.UNSUBSCRIBE),
}


@dataclass(frozen=True)
class ParsedReply:
    kind: ReplyKind
    code: str | None = None  # the normalised reply code when ``kind`` is CODE

    @property
    def is_yes(self) -> bool:
        return self.kind in (ReplyKind.ACCEPT, ReplyKind.CODE)


def normalise(text: str) -> str:
    """The reply as compared: NFKC, no whitespace, no punctuation at the edges, upper case."""
    folded = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    start, end = 0, len(folded)
    while start < end and _edge(folded[start]):
        start += 1
    while end > start and _edge(folded[end - 1]):
        end -= 1
    return folded[start:end]


def _edge(char: str) -> bool:
    return unicodedata.category(char)[0] in "PZC"


def parse_reply(text: str) -> ParsedReply:
    """Classify one reply; never raises, whatever the phone sent."""
    token = normalise(text)
    kind = WORDS.get(token)
    if kind is not None:
        return ParsedReply(kind)
    if REPLY_CODE.fullmatch(token):
        return ParsedReply(ReplyKind.CODE, code=token)
    return ParsedReply(ReplyKind.UNKNOWN)
