"""Commands for the system administrator: users, roles and districts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from steward import db
from steward.auth import service as auth
from steward.auth.models import Role
from steward.cli.common import USER, JsonFlag, app, context_of, emit, fail, print_rows

users_app = typer.Typer(no_args_is_help=True, help="Users, roles and districts.")
app.add_typer(users_app, name="users")


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="What the user may do.")],
    district: Annotated[str, typer.Option(help="province, a city, or city/county.")] = "province",
    display_name: str = "",
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="STEWARD_NEW_PASSWORD",
            help="At least 10 characters.",
        ),
    ] = "",
    user: USER = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Add a user (the password is stored only as an Argon2 hash)."""
    context = context_of(ctx)
    try:
        with db.transaction(context.sessions) as session:
            created = auth.create_user(
                session,
                username=username,
                password=password,
                role=role,
                district=district,
                display_name=display_name,
                by=user,
            )
            document = {
                "username": created.username,
                "role": created.role,
                "district": created.district,
            }
    except auth.AuthError as exc:
        raise fail(str(exc)) from exc
    emit(as_json, document, lambda: Console().print(f"created {document}"))


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every user with role and district."""
    context = context_of(ctx)
    with db.transaction(context.sessions) as session:
        rows = [
            {"username": u.username, "role": u.role, "district": u.district, "active": u.active}
            for u in auth.list_users(session)
        ]

    def render() -> None:
        print_rows(
            f"{len(rows)} users",
            ("username", "role", "district", "active"),
            ([r["username"], r["role"], r["district"], r["active"]] for r in rows),
        )

    emit(as_json, rows, render)
