"""Logging in, and every route walked with every role: a guard says who may call it."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from steward.auth.models import Role
from steward.web.deps import RequireRole
from tests.web_fixtures import PASSWORD, Api

OPEN = {"/auth/token", "/auth/me", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def test_a_user_logs_in_with_a_password_and_gets_a_token(api: Api) -> None:
    response = api.client.post("/auth/token", data={"username": "planner", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["access_token"]
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "planner"


@pytest.mark.parametrize("password", ["wrong password!", ""])
def test_a_wrong_password_gets_no_token(api: Api, password: str) -> None:
    response = api.client.post("/auth/token", data={"username": "planner", "password": password})
    assert response.status_code in (401, 422)


def test_an_administrator_creates_users_and_nobody_else_can(api: Api) -> None:
    body = {
        "username": "new.clerk",
        "password": PASSWORD,
        "role": "clerk",
        "district": "lanzhou/chengguan",
    }
    assert api.client.post("/users", json=body, headers=api.as_("planner")).status_code == 403
    created = api.client.post("/users", json=body, headers=api.as_("system_admin"))
    assert created.status_code == 201, created.text
    assert created.json()["district"] == "lanzhou/chengguan"
    bad = api.client.post(
        "/users",
        json=body | {"username": "x2y", "district": "Lan Zhou"},
        headers=api.as_("system_admin"),
    )
    assert bad.status_code == 422


def guarded_routes(api: Api) -> list[tuple[APIRoute, frozenset[Role]]]:
    found = []
    for route in _routes(api.client.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or route.path in OPEN:
            continue
        if route.endpoint.__module__.endswith(".pages"):
            continue  # HTML pages sign in by cookie: tests/web checks each screen's roles
        guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, RequireRole)]
        guards += [
            d.call for d in _all_dependencies(route.dependant) if isinstance(d.call, RequireRole)
        ]
        assert guards, f"{route.path} has no role guard"
        found.append((route, guards[0].roles))
    return found


def _routes(routes):  # type: ignore[no-untyped-def]
    for route in routes:
        included = getattr(route, "original_router", None)  # a router included in the app
        yield from (_routes(included.routes) if included is not None else [route])


def _all_dependencies(dependant):  # type: ignore[no-untyped-def]
    for dependency in dependant.dependencies:
        yield dependency
        yield from _all_dependencies(dependency)


def test_every_route_with_every_role_is_allowed_exactly_as_its_guard_says(api: Api) -> None:
    routes = guarded_routes(api)
    assert len(routes) >= 10
    for route, roles in routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods:
            assert api.client.request(method, path).status_code == 401, (method, path)
            for role in Role:
                status = api.client.request(method, path, headers=api.as_(role.value)).status_code
                if role in roles:
                    assert status != 403, (method, path, role)
                else:
                    assert status == 403, (method, path, role, status)
