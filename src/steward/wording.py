"""What Steward says to people: English wordings, translated where they are shown.

Any layer may mark a wording for the workbench's catalogues (``N_``) and refuse a request
with one (``Refusal``). The wording travels apart from its values, so a page shows it in the
reader's language (``web.render.refusal``) while the API and the logs keep the English.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction only"
    """Mark an English string for the catalogue; it is translated where it is shown."""
    return text


class Refusal(ValueError):  # noqa: N818 - a refusal is what a person reads, not a bug
    """A request Steward will not honour, and why, in words a user can act on.

    ``template`` is an English wording marked with ``N_`` with ``%(name)s`` placeholders,
    ``params`` their values and ``field`` the input at fault, if one is ("" otherwise).
    ``str()`` is the English sentence, as the API returns it.
    """

    def __init__(self, template: str, /, *, field: str = "", **params: object) -> None:
        self.template, self.params, self.field = template, params, field
        super().__init__(template % params if params else template)
