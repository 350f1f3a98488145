"""The segment screens (issue 6): the list of segments, a list upload, and the builder —
conditions picked visually or typed as a rule, each kept in step with the other by the rule
language itself, with a live trial count (试算) and a masked sample.

Roles and districts as the API's segment routes: readers (planner, approver, analyst) see
the list and trial-count within their district; makers (planner, analyst) save and upload.
The screens live under ``/workbench``: the API owns ``/segments`` and ``/segments/{id}``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from steward.auth.models import Role, User
from steward.auth.service import district_rule
from steward.rules import RuleError, TagType, parse_rule
from steward.rules.types import And as AndNode
from steward.rules.types import Between, Compare, Const, Expr, InList, Is, Not, Tag
from steward.rules.types import Or as OrNode
from steward.segments import service
from steward.segments.schemas import SegmentCreate
from steward.segments.service import SegmentError
from steward.tags import service as tags_service
from steward.tags.schemas import TagCatalogue
from steward.web import i18n
from steward.web.deps import Catalogue, DbSession, LakeDep
from steward.web.render import (
    N_,
    PageRefused,
    Refusal,
    Screen,
    forbidden,
    language_of,
    page,
    refusal,
    render,
    screen,
    signed_in,
)

READERS = (Role.PLANNER, Role.APPROVER, Role.ANALYST)  # the API's readers
MAKERS = frozenset({Role.PLANNER, Role.ANALYST, Role.SYSTEM_ADMIN})  # the API's makers
SEGMENTS = screen("/workbench/segments", N_("Segments"), *READERS)
# Reached from the list, not the menu: a trial count is a reader's, saving a maker's.
BUILDER = Screen("/workbench/segments/new", N_("New segment"), SEGMENTS.roles)
router = APIRouter(prefix="/workbench/segments", include_in_schema=False)

KIND_NAMES = {"rule": N_("Rule"), "list": N_("List"), "combination": N_("Combination")}
# The builder's operators: those of the rule language a condition on one tag uses.
OPERATORS = ("=", "<>", "<", "<=", ">", ">=", "in", "between", "is null", "is not null")
FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# The builder's fields a refusal names, and pydantic's errors of them in our words.
FIELD_NAMES = {"name": N_("Name"), "description": N_("Description"), "rule": N_("Rule")}
WORDINGS = {
    "missing": N_("Required."),
    "string_too_short": N_("Required."),
    "string_too_long": N_("Too long: at most %(limit)s characters."),
}


# -- the builder's tree and the rule text ------------------------------------------------


def tree_of(expr: Expr) -> dict[str, Any] | None:
    """The builder's tree of a checked rule: groups (AND/OR, maybe negated) of conditions
    on one tag; None when the rule uses more than the builder shows (arithmetic, LIKE...)."""
    match expr:
        case AndNode(operands=operands) | OrNode(operands=operands):
            items = [tree_of(o) for o in operands]
            if any(i is None for i in items):
                return None
            op = "AND" if isinstance(expr, AndNode) else "OR"
            return {"kind": "group", "op": op, "not": False, "items": items}
        case Not(operand=operand):
            inner = tree_of(operand)
            if inner is None:
                return None
            if inner["kind"] == "group" and not inner["not"]:
                return inner | {"not": True}
            return {"kind": "group", "op": "AND", "not": True, "items": [inner]}
    condition = _condition(expr)
    return None if condition is None else {"kind": "cond", **condition}


def _condition(expr: Expr) -> dict[str, str] | None:
    match expr:
        case Tag(name=name, type=TagType.BOOL):
            return {"tag": name, "op": "=", "value": "true"}
        case Compare(op=op, left=Tag(name=name), right=Const() as right):
            return {"tag": name, "op": op, "value": _shown(right)}
        case Compare(op=op, left=Const() as left, right=Tag(name=name)):
            return {"tag": name, "op": FLIPPED[op], "value": _shown(left)}
        case InList(operand=Tag(name=name), items=items):
            return {"tag": name, "op": "in", "value": ", ".join(_shown(i) for i in items)}
        case Between(operand=Tag(name=name), low=Const() as low, high=Const() as high):
            return {"tag": name, "op": "between", "value": f"{_shown(low)}, {_shown(high)}"}
        case Is(operand=Tag(name=name), value=None, negated=negated):
            return {"tag": name, "op": "is not null" if negated else "is null", "value": ""}
    return None


def _shown(const: Const) -> str:
    value = const.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def rule_text(node: dict[str, Any], types: dict[str, str], *, top: bool = True) -> str:
    """The rule text of a builder tree; incomplete conditions are left out. Values are
    written as the tag's type wants them, so the parser, not this, judges the rule."""
    if node.get("kind") == "cond":
        return _condition_text(node, types)
    parts = [rule_text(item, types, top=False) for item in node.get("items", [])]
    parts = [p for p in parts if p]
    if not parts:
        return ""
    op = " OR " if node.get("op") == "OR" else " AND "
    text = op.join(parts)
    if node.get("not"):
        return f"NOT ({text})"
    return text if top or len(parts) == 1 else f"({text})"


def _condition_text(node: dict[str, Any], types: dict[str, str]) -> str:
    tag, op, value = str(node.get("tag", "")), str(node.get("op", "=")), str(node.get("value", ""))
    kind = types.get(tag)
    if kind is None or op not in OPERATORS:
        return ""
    if op in ("is null", "is not null"):
        return f"{tag} {op.upper()}"
    values = [v.strip() for v in value.split(",")] if op in ("in", "between") else [value.strip()]
    if not all(values) or (op == "between" and len(values) != 2):
        return ""
    literals = [_literal(v, TagType(kind)) for v in values]
    if op == "in":
        return f"{tag} IN ({', '.join(literals)})"
    if op == "between":
        return f"{tag} BETWEEN {literals[0]} AND {literals[1]}"
    return f"{tag} {op} {literals[0]}"


def _literal(value: str, kind: TagType) -> str:
    quoted = "'" + value.replace("'", "''") + "'"
    if kind in (TagType.INT, TagType.FLOAT) and NUMBER.match(value):
        return value
    if kind is TagType.BOOL and value.lower() in ("true", "false"):
        return value.lower()
    if kind is TagType.DATE:
        return f"DATE {quoted}"
    return quoted


def _gettext(request: Request) -> Callable[[str], str]:
    return i18n.translations(language_of(request)).gettext


def _rule_error(request: Request, error: RuleError) -> dict[str, Any]:
    """The parser's refusal for the page: its message in the reader's language; where it
    is (line, column, the rule's line with a caret under it) as it is."""
    return {
        "message": error.worded(_gettext(request)),
        "line": error.line,
        "column": error.column,
        "pointer": error.pointer(),
        "suggestions": error.suggestions,
    }


# -- screens ----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def segment_list(request: Request, session: DbSession, saved: int | None = None) -> Response:
    user = page(request, session, SEGMENTS)
    return render(
        request,
        "segments/list.html",
        user,
        segments=service.list_all(session),
        saved=saved,
        maker=Role(user.role) in MAKERS,
        kind_names=KIND_NAMES,
    )


@router.get("/new", response_class=HTMLResponse)
def builder(request: Request, session: DbSession, catalogue: Catalogue, rule: str = "") -> Response:
    user = page(request, session, BUILDER)
    return _builder_page(request, user, catalogue, rule=rule)


def _builder_page(
    request: Request,
    user: User,
    catalogue: TagCatalogue,
    *,
    rule: str = "",
    name: str = "",
    description: str = "",
    error: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    zh = language_of(request) == "zh_CN"
    tags = [
        {"name": t.name, "label": t.label_zh if zh else t.label_en, "type": t.type.value}
        for t in catalogue.tags
    ]
    response = render(
        request,
        "segments/builder.html",
        user,
        tags=tags,
        operators=OPERATORS,
        rule=rule,
        segment_name=name,
        description=description,
        error=error,
        maker=Role(user.role) in MAKERS,
        district=user.district,
    )
    response.status_code = status_code
    return response


@router.post("/new", response_class=HTMLResponse)
def save(
    request: Request,
    session: DbSession,
    catalogue: Catalogue,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    rule: Annotated[str, Form()] = "",
) -> Response:
    """Save a rule segment as the API does (``service.create``); a refused one comes back
    on the builder with the reason."""
    user = signed_in(request, session)
    if user is None:
        return RedirectResponse("/", status_code=303)
    if Role(user.role) not in MAKERS:
        return forbidden(request, user)
    fields = {"rule": rule, "name": name, "description": description}
    try:
        segment_in = SegmentCreate(name=name.strip(), description=description, rule=rule)
        segment = service.create(session, catalogue, segment_in=segment_in, by=user.username)
    except RuleError as refused:
        return _builder_page(
            request,
            user,
            catalogue,
            **fields,
            error=_rule_error(request, refused),
            status_code=422,
        )
    except (SegmentError, ValidationError) as refused:
        message = (
            _invalid(request, refused)
            if isinstance(refused, ValidationError)
            else refusal(request, refused)
        )
        return _builder_page(
            request, user, catalogue, **fields, error={"message": message}, status_code=422
        )
    return RedirectResponse(f"/workbench/segments?saved={segment.id}", status_code=303)


def _invalid(request: Request, error: ValidationError) -> str:
    """SegmentCreate's errors in the page's language, each after the field it is about;
    a wording of pydantic's we have none for stays as pydantic says it."""
    gettext = _gettext(request)
    texts = []
    for found in error.errors():
        ctx = found.get("ctx") or {}
        own = ctx.get("error")
        if isinstance(own, Refusal):
            texts.append(refusal(request, own))
            continue
        wording = WORDINGS.get(found["type"])
        limit = ctx.get("max_length", ctx.get("min_length", ""))
        text = gettext(wording) % {"limit": limit} if wording else found["msg"]
        name = str(found["loc"][0]) if found["loc"] else ""
        label = FIELD_NAMES.get(name)
        texts.append(
            gettext(N_("%(field)s: %(message)s")) % {"field": gettext(label), "message": text}
            if label
            else text
        )
    return "; ".join(texts)


# -- fragments the builder and the list ask for ------------------------------------------


def _fragment_user(request: Request, session: Session, roles: frozenset[Role]) -> User:
    """The user of a fragment request; a short refusal instead (no page around it)."""
    user = signed_in(request, session)
    if user is None:
        raise PageRefused(Response("", status_code=401))
    if Role(user.role) not in roles:
        raise PageRefused(render(request, "segments/refused.html", user))
    return user


@router.post("/trial", response_class=HTMLResponse)
def trial(
    request: Request,
    session: DbSession,
    lake: LakeDep,
    catalogue: Catalogue,
    rule: Annotated[str, Form()] = "",
) -> Response:
    """The trial count of the rule being built, within the user's district (a fragment)."""
    user = _fragment_user(request, session, SEGMENTS.roles)
    context: dict[str, Any] = {"rule": rule}
    if rule.strip():
        try:
            context["result"] = service.trial_count(
                session, lake, catalogue, rule=rule, scope=district_rule(user.district)
            )
        except RuleError as refused:
            context["error"] = _rule_error(request, refused)
        except SegmentError as refused:
            context["error"] = {"message": refusal(request, refused)}
    return render(request, "segments/trial.html", user, **context)


@router.post("/tree")
def tree(
    request: Request,
    session: DbSession,
    catalogue: Catalogue,
    rule: Annotated[str, Form()] = "",
) -> Response:
    """The builder's tree of a typed rule, parsed by the rule language (JSON)."""
    _fragment_user(request, session, SEGMENTS.roles)
    if not rule.strip():
        return JSONResponse({"tree": {"kind": "group", "op": "AND", "not": False, "items": []}})
    try:
        parsed = parse_rule(rule, tags_service.rule_types(catalogue))
    except RuleError as refused:
        return JSONResponse({"error": _rule_error(request, refused)})
    built = tree_of(parsed.tree)
    if built is not None and built["kind"] == "cond":
        built = {"kind": "group", "op": "AND", "not": False, "items": [built]}
    return JSONResponse({"tree": built})


@router.post("/text")
def text(
    request: Request,
    session: DbSession,
    catalogue: Catalogue,
    tree_in: Annotated[dict[str, Any], Body()],
) -> Response:
    """The rule text of the builder's tree (JSON), written by the same rules for every tag."""
    _fragment_user(request, session, SEGMENTS.roles)
    return JSONResponse({"rule": rule_text(tree_in, tags_service.rule_types(catalogue))})


@router.post("/upload", response_class=HTMLResponse)
def upload(
    request: Request,
    session: DbSession,
    lake: LakeDep,
    name: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    description: Annotated[str, Form()] = "",
    dry_run: Annotated[bool, Form()] = False,
) -> Response:
    """Save an uploaded list of numbers as a segment (as the API's import); the report of
    bad lines and unknown numbers comes back as a fragment."""
    user = _fragment_user(request, session, MAKERS)
    context: dict[str, Any] = {}
    if not name.strip():
        context["error"] = N_("Give the list a name.")
        return render(request, "segments/upload.html", user, **context)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "list.txt"
        path.write_bytes(file.file.read())
        try:
            context["report"] = service.import_list(
                session,
                lake,
                name=name.strip(),
                path=path,
                description=description,
                by=user.username if user is not None else "",
                dry_run=dry_run,
            )
        except SegmentError as refused:
            context["problem"] = refusal(request, refused)
    return render(request, "segments/upload.html", user, dry_run=dry_run, **context)
