"""Turning credential headers into a Caller, and a Caller plus an api_key into a StackAccess.

Sessions, token scopes, the stack row with the caller's organization role, and a user's roles in
a stack come from the per-process cache (`core.cache`), which their events keep current.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard.access.caller import ANONYMOUS, Caller, Level, StackAccess
from stackyard.access.policy import branch_allowed
from stackyard.core import cache
from stackyard.errors import Forbidden, PreconditionFailed, Unauthorized, not_found
from stackyard.ids import digest, now
from stackyard.store.engine import Row, Tx, jload

_RANK: dict[str, int] = {"admin": 3, "developer": 2, "content_manager": 1, "custom": 0}


def authenticate(tx: Tx, headers: Mapping[str, str], request_id: str = "", remote_addr: str = "") -> Caller:
    """Who is calling. A credential that is present but dead is an error, never anonymous."""
    base: dict[str, Any] = {"request_id": request_id, "remote_addr": remote_addr}
    authtoken = headers.get("authtoken")
    if authtoken:
        h = digest(authtoken)
        row = _session(tx, h)
        if row is None or row["expires_at"] <= now():
            raise Unauthorized(error_code=105)
        return Caller(kind="user", user_uid=row["user_uid"], email=row["email"], session_hash=h, **base)
    authorization = headers.get("authorization")
    if authorization:
        secret = authorization.removeprefix("Bearer ").strip()
        row = _token(tx, "management_token", digest(secret))
        if row is None or (row["expires_on"] and row["expires_on"] <= now()):
            raise Unauthorized(error_code=106)
        return Caller(
            kind="management_token",
            token_uid=row["uid"],
            token_api_key=row["api_key"],
            token_scope=row["scope"],
            **base,
        )
    access_token = headers.get("access_token")
    if access_token:
        row = _token(tx, "delivery_token", digest(access_token))
        if row is None:
            raise Unauthorized("The access token is not valid.", error_code=105)
        return Caller(
            kind="delivery_token",
            token_uid=row["uid"],
            token_api_key=row["api_key"],
            token_scope=row["scope"],
            **base,
        )
    if request_id or remote_addr:
        return Caller(kind="anonymous", **base)
    return ANONYMOUS


_TOKEN_SQL = {
    "management_token": "SELECT uid, api_key, scope, expires_on FROM management_tokens WHERE token_hash = ?",
    "delivery_token": "SELECT uid, api_key, scope, NULL AS expires_on FROM delivery_tokens WHERE token_hash = ?",
}


def _session(tx: Tx, token_hash: str) -> Row | None:
    """The user uid, email and expiry of a session of an active account, by its token's hash."""

    def load() -> Row | None:
        return tx.one(
            "SELECT s.user_uid, s.expires_at, u.email FROM sessions s JOIN users u ON u.uid = s.user_uid "
            "WHERE s.token_hash = ? AND u.active = 1",
            token_hash,
        )

    def tags(row: Row | None) -> tuple[cache.Tag, ...]:
        return cache.session_tags(row["user_uid"]) if row is not None else ()

    return cache.cached(tx, ("session", token_hash), load, tags)


def _token(tx: Tx, kind: str, token_hash: str) -> Row | None:
    """A token's uid, api_key, scope (a tuple of rules) and expiry, by the hash of its secret."""

    def load() -> Row | None:
        row = tx.one(_TOKEN_SQL[kind], token_hash)
        if row is not None:
            row["scope"] = tuple(jload(row["scope"]))
        return row

    def tags(row: Row | None) -> tuple[cache.Tag, ...]:
        return cache.token_tags(row["api_key"], row["uid"]) if row is not None else ()

    return cache.cached(tx, (kind, token_hash), load, tags)


def require_user(caller: Caller) -> str:
    """Routes that only a logged-in user may call (profile, organizations, stack creation)."""
    if caller.kind == "user" and caller.user_uid:
        return caller.user_uid
    if caller.kind == "delivery_token":
        raise Unauthorized(error_code=107)
    if caller.kind == "management_token":
        raise Forbidden("Management tokens cannot be used for this request; log in as a user.")
    raise Unauthorized(error_code=105)


def stack_access(tx: Tx, caller: Caller, api_key: str | None, branch: str | None = None) -> StackAccess:
    """The caller's standing in the stack `api_key`. A stack the caller cannot see is not found (412)."""
    if caller.kind == "anonymous":
        raise Unauthorized(error_code=105)
    if caller.kind == "delivery_token":
        raise Unauthorized(error_code=107)
    if not api_key:
        raise PreconditionFailed(error_code=110, errors={"api_key": ["is required."]})
    found = _stack_row(tx, api_key, caller.user_uid or "")
    if found is None:
        raise PreconditionFailed(error_code=109, errors={"api_key": ["is not valid."]})
    stack, org_role = found
    level: Level
    rules: tuple[dict, ...] = ()
    role_uids: tuple[str, ...] = ()
    if caller.kind == "management_token":
        if caller.token_api_key != api_key:
            raise PreconditionFailed(error_code=109, errors={"api_key": ["is not valid."]})
        level, rules = "management_token", caller.token_scope
    else:
        level, role_uids, rules = _user_level(tx, stack, str(caller.user_uid), org_role)
    access = StackAccess(
        caller=caller, stack=stack, level=level, role_uids=role_uids, rules=rules, branch=branch or "main"
    )
    if access.branch != "main":
        # Branches other than main arrive with the branch API; until then they do not exist.
        raise not_found("branch", 141)
    if not branch_allowed(access, access.branch):
        raise Forbidden(f"You don't have access to the branch '{access.branch}'.")
    return access


def _stack_row(tx: Tx, api_key: str, user_uid: str) -> tuple[Row, str | None] | None:
    """The stack row and the user's role in its organization (one query; shared: read-only)."""

    def load() -> tuple[Row, str | None] | None:
        row = tx.one(
            "SELECT s.api_key, s.uid, s.org_uid, s.name, s.owner_uid, s.master_locale, "
            "(SELECT m.role FROM org_members m WHERE m.org_uid = s.org_uid AND m.user_uid = ?) AS org_role "
            "FROM stacks s WHERE s.api_key = ?",
            user_uid,
            api_key,
        )
        return None if row is None else (row, row.pop("org_role"))

    def tags(found: tuple[Row, str | None] | None) -> tuple[cache.Tag, ...]:
        return cache.stack_row_tags(api_key, str(found[0]["org_uid"])) if found is not None else ()

    return cache.cached(tx, ("stack_row", api_key, user_uid), load, tags)


def _user_level(
    tx: Tx, stack: dict, user_uid: str, org_role: str | None
) -> tuple[Level, tuple[str, ...], tuple[dict, ...]]:
    if stack["owner_uid"] == user_uid:
        return "owner", (), ()
    if org_role == "owner":
        return "owner", (), ()
    rows = _member_roles(tx, str(stack["api_key"]), user_uid)
    if org_role == "admin":
        return "admin", tuple(r["uid"] for r in rows), ()
    if not rows:
        raise PreconditionFailed(error_code=109, errors={"api_key": ["is not valid."]})
    best = max(rows, key=lambda r: _RANK.get(r["kind"], 0))
    level: Level = best["kind"] if best["kind"] in _RANK else "custom"
    rules: tuple[dict, ...] = ()
    if level == "custom":
        rules = tuple(rule for r in rows for rule in r["rules"])
    return level, tuple(r["uid"] for r in rows), rules


def _member_roles(tx: Tx, api_key: str, user_uid: str) -> tuple[Row, ...]:
    """The roles a user holds in a stack: uid, kind and rules (decoded) of each."""

    def load() -> tuple[Row, ...]:
        rows = tx.all(
            "SELECT r.uid, r.kind, r.rules FROM member_roles m JOIN roles r ON r.api_key = m.api_key AND r.uid = m.role_uid "
            "WHERE m.api_key = ? AND m.user_uid = ?",
            api_key,
            user_uid,
        )
        return tuple({**r, "rules": jload(r["rules"])} for r in rows)

    return cache.cached(tx, ("member_roles", api_key, user_uid), load, lambda _: cache.access_tags(api_key))
