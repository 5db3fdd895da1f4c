"""Helpers for tests that need stack members with roles, and tokens, made over HTTP."""

from __future__ import annotations

import re
from typing import Any

import httpx

from stackyard.identity import mail
from tests.conftest import Live, User, make_user


def role_uid(cma: httpx.Client, name: str) -> str:
    """The uid of the stack's role called `name` (built-in: Admin, Developer, Content Manager)."""
    r = cma.get("/v3/roles")
    assert r.status_code == 200, r.text
    return next(role["uid"] for role in r.json()["roles"] if role["name"] == name)


def member(live: Live, cma: httpx.Client, email: str, *role_names: str) -> User:
    """A new user (without an organization of their own) to whom the stack is shared with these
    roles, and who accepted the invitation."""
    user = make_user(live, email, org=False)
    roles = [role_uid(cma, n) for n in role_names]
    r = cma.post("/v3/stacks/share", json={"emails": [email], "roles": {email: roles}})
    assert r.status_code == 200, r.text
    accept_invitation(live, user)
    return user


def invitation_token(live: Live, email: str) -> str:
    """The newest invitation token mailed to `email`."""
    with live.db.read() as tx:
        messages = mail.outbox(tx, email)
    for message in messages:
        found = re.search(r"/v3/user/invitations/(inv[0-9a-f]{32})/accept", message["body"])
        if found:
            return found.group(1)
    raise AssertionError(f"no invitation mailed to {email}: {[m['subject'] for m in messages]}")


def accept_invitation(live: Live, user: User) -> dict[str, Any]:
    """The user accepts the newest invitation mailed to them; answers what they joined."""
    token = invitation_token(live, user.email)
    with live.client(authtoken=user.authtoken) as c:
        r = c.post(f"/v3/user/invitations/{token}/accept")
    assert r.status_code == 200, r.text
    return dict(r.json()["invitation"])


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
