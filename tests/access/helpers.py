"""Helpers for tests that need stack members with roles, and tokens, made over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Live, User, make_user


def role_uid(cma: httpx.Client, name: str) -> str:
    """The uid of the stack's role called `name` (built-in: Admin, Developer, Content Manager)."""
    r = cma.get("/v3/roles")
    assert r.status_code == 200, r.text
    return next(role["uid"] for role in r.json()["roles"] if role["name"] == name)


def member(live: Live, cma: httpx.Client, email: str, *role_names: str) -> User:
    """A new user (without an organization of their own) to whom the stack is shared with these roles."""
    user = make_user(live, email, org=False)
    roles = [role_uid(cma, n) for n in role_names]
    r = cma.post("/v3/stacks/share", json={"emails": [email], "roles": {email: roles}})
    assert r.status_code == 200, r.text
    return user


def custom_role(cma: httpx.Client, name: str, rules: list[dict[str, Any]]) -> str:
    r = cma.post("/v3/roles", json={"role": {"name": name, "rules": rules}})
    assert r.status_code == 201, r.text
    return str(r.json()["role"]["uid"])


def delivery_token(cma: httpx.Client, name: str, *environments: str) -> str:
    r = cma.post(
        "/v3/stacks/delivery_tokens",
        json={
            "token": {"name": name, "scope": [{"module": "environment", "environments": list(environments)}]}
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["token"]["token"])


def management_token(cma: httpx.Client, name: str, scope: list[dict[str, Any]]) -> str:
    r = cma.post("/v3/stacks/management_tokens", json={"token": {"name": name, "scope": scope}})
    assert r.status_code == 201, r.text
    return str(r.json()["token"]["token"])
