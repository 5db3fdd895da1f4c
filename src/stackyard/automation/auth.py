"""Automation credentials: tokens (`POST /auth/v1/tokens`), API keys, and who a request's credential is.

A token is issued for HTTP Basic `email:password` of a Stackyard user and acts in ONE organization
of that user. Which one:

- the Basic user name may name it: `email#<organization uid or name>` (the token's `user` is then
  that whole login name, so the st2 CLI's token cache keeps working);
- the token request body may name it: `{"ttl": 3600, "organization": "<uid or name>"}`;
- otherwise it is the user's first organization by standing (owned, then administered, then
  member of), oldest first. A user of one organization never needs to say anything.

An API key is created by a principal and acts in the principal's organization, as its user.
Tokens and keys are stored as SHA-256 digests; a key is shown once, when it is created. The
principal's role follows the organization's membership at every request (owner/admin: automation
admin; member: observer), so a demoted user loses write access at once.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from collections.abc import Mapping
from typing import Any

from stackyard.automation.common import ADMIN, OBSERVER, Principal, iso, not_found, oid
from stackyard.core import spine
from stackyard.errors import BadRequest, Unauthorized
from stackyard.identity import passwords
from stackyard.ids import digest, now
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, Tx, jdump, jload

MASK = "********"
_RANK = {"owner": 0, "admin": 1, "member": 2}


def _role(org_role: str) -> str:
    return ADMIN if org_role in ("owner", "admin") else OBSERVER


def basic_credentials(header: str | None) -> tuple[str, str]:
    """(login, password) of an `Authorization: Basic` header; 401 otherwise."""
    if not header or not header.lower().startswith("basic "):
        raise Unauthorized("Invalid or missing credentials")
    try:
        login, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("Invalid or missing credentials") from None
    if not login or not password:
        raise Unauthorized("Invalid or missing credentials")
    return login, password


def organization_for(tx: Tx, user_uid: str, wanted: str | None) -> tuple[str, str]:
    """(org uid, org role) the user acts in: `wanted` (uid or name) or their first organization."""
    rows = tx.all(
        "SELECT o.uid, o.name, o.created_at, m.role FROM org_members m JOIN organizations o ON o.uid = m.org_uid "
        "WHERE m.user_uid = ? AND o.enabled = 1",
        user_uid,
    )
    if wanted:
        rows = [r for r in rows if wanted in (r["uid"], r["name"])]
    if not rows:
        if wanted:
            raise Unauthorized(f'You are not a member of the organization "{wanted}".')
        raise Unauthorized("This user belongs to no organization, so it has no automation to use.")
    rows.sort(key=lambda r: (_RANK.get(r["role"], 3), r["created_at"]))
    return str(rows[0]["uid"]), str(rows[0]["role"])


def issue_token(
    tx: Tx, user_uid: str, login: str, org_uid: str, ttl: int, metadata: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A new token for a user already authenticated; answers the st2 Token object."""
    token = secrets.token_hex(16)
    expires = time.time() + ttl
    token_id = oid()
    tx.run(
        "INSERT INTO st2_tokens (token_hash, id, user_uid, org_uid, username, expires_at, metadata, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        digest(token),
        token_id,
        user_uid,
        org_uid,
        login,
        expires,
        jdump(dict(metadata or {})),
        iso(),
    )
    return {
        "id": token_id,
        "user": login,
        "token": token,
        "expiry": iso(expires),
        "metadata": dict(metadata or {}),
    }


def check_ttl(body: Mapping[str, Any], default: int, maximum: int) -> int:
    ttl = body.get("ttl")
    if ttl is None:
        return min(default, maximum)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
        raise BadRequest("ttl must be a positive integer (seconds).")
    if ttl > maximum:
        raise BadRequest(f"TTL specified {ttl} is greater than max allowed {maximum}.")
    return ttl


# A credential's row with its user's role in its organization (NULL once the user left it), read
# in one statement: every request is authenticated.
_WITH_ROLE = (
    "SELECT c.*, m.role AS org_role FROM {table} c "
    "LEFT JOIN org_members m ON m.org_uid = c.org_uid AND m.user_uid = c.user_uid WHERE c.{column} = ?"
)
_TOKEN_ROW = _WITH_ROLE.format(table="st2_tokens", column="token_hash")
_KEY_ROW = _WITH_ROLE.format(table="st2_api_keys", column="key_hash")


def principal_for_token(
    tx: Tx, token: str, location: str, request_id: str = "", remote_addr: str = ""
) -> Principal:
    row = tx.one(_TOKEN_ROW, digest(token))
    if row is None:
        raise Unauthorized("Unauthorized - Token is invalid.")
    if row["expires_at"] <= time.time():
        raise Unauthorized("Unauthorized - Token has expired.")
    org_role = row["org_role"]
    if org_role is None:
        raise Unauthorized("Unauthorized - the token's user is no longer a member of its organization.")
    return Principal(
        user_uid=row["user_uid"],
        username=row["username"],
        org_uid=row["org_uid"],
        role=_role(org_role),
        location=location,
        token_expires_at=row["expires_at"],
        request_id=request_id,
        remote_addr=remote_addr,
    )


def principal_for_key(
    tx: Tx, key: str, location: str, request_id: str = "", remote_addr: str = ""
) -> Principal:
    row = tx.one(_KEY_ROW, digest(key))
    if row is None:
        raise Unauthorized("Unauthorized - API key is invalid.")
    if not row["enabled"]:
        raise Unauthorized("Unauthorized - API key is disabled.")
    org_role = row["org_role"]
    if org_role is None:
        raise Unauthorized("Unauthorized - the API key's user is no longer a member of its organization.")
    return Principal(
        user_uid=row["user_uid"],
        username=row["username"],
        org_uid=row["org_uid"],
        role=_role(org_role),
        method="API key",
        location=location,
        request_id=request_id,
        remote_addr=remote_addr,
    )


def authenticate(
    tx: Tx,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    cookies: Mapping[str, str],
    request_id: str = "",
    remote_addr: str = "",
) -> Principal:
    """The principal of a request: the first credential in st2's order (header token, header key,
    query token, query key, cookie)."""
    for value, kind, location in (
        (headers.get("x-auth-token"), "token", "header"),
        (headers.get("st2-api-key"), "key", "header"),
        (query.get("x-auth-token"), "token", "query"),
        (query.get("st2-api-key"), "key", "query"),
        (cookies.get("auth-token"), "token", "cookie"),
    ):
        if value:
            if kind == "token":
                return principal_for_token(tx, value, location, request_id, remote_addr)
            return principal_for_key(tx, value, location, request_id, remote_addr)
    raise Unauthorized("Unauthorized - One of Token or API key required.")


def whoami(p: Principal) -> dict[str, Any]:
    auth: dict[str, Any] = {"method": p.method, "location": p.location}
    if p.token_expire:
        auth["token_expire"] = p.token_expire
    return {
        "username": p.username,
        "authentication": auth,
        "rbac": {"enabled": True, "roles": [p.role], "is_admin": p.is_admin},
        "organization": p.org_uid,
    }


# -- API keys ------------------------------------------------------------------------------------


def _render_key(row: Row, show_secrets: bool = False) -> dict[str, Any]:
    return {
        "id": row["id"],
        "uid": f"api_key:{row['key_hash']}" if show_secrets else f"api_key:{row['id']}",
        "user": row["username"],
        "key_hash": row["key_hash"] if show_secrets else MASK,
        "metadata": jload(row["metadata"]),
        "created_at": row["created_at"],
        "enabled": bool(row["enabled"]),
    }


def create_key(tx: Tx, p: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    """A new API key acting as the caller (admins may name another member with `user`)."""
    p.require_admin()
    user_uid, username = p.user_uid, p.username
    wanted = body.get("user")
    if wanted and wanted != p.username:
        row = tx.one(
            "SELECT u.uid, u.email FROM users u JOIN org_members m ON m.user_uid = u.uid "
            "WHERE m.org_uid = ? AND u.email = ?",
            p.org_uid,
            wanted,
        )
        if row is None:
            raise BadRequest(f'User "{wanted}" is not a member of this organization.')
        user_uid, username = row["uid"], row["email"]
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object.")
    key = secrets.token_urlsafe(36)
    key_id = oid()
    tx.run(
        "INSERT INTO st2_api_keys (id, org_uid, user_uid, username, key_hash, metadata, enabled, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
        key_id,
        p.org_uid,
        user_uid,
        username,
        digest(key),
        jdump(metadata),
        iso(),
    )
    row = tx.one("SELECT * FROM st2_api_keys WHERE id = ?", key_id)
    assert row is not None
    spine.record_org(tx, p, "automation_api_key.create", p.org_uid, {"id": key_id, "enabled": True})
    out = _render_key(row)
    out.pop("key_hash")
    out["key"] = key
    return out


def _key_row(tx: Tx, p: Principal, key_or_id: str) -> Row:
    row = tx.one(
        "SELECT * FROM st2_api_keys WHERE org_uid = ? AND (id = ? OR key_hash = ?)",
        p.org_uid,
        key_or_id,
        digest(key_or_id),
    )
    if row is None:
        raise not_found("ApiKey", key_or_id)
    return row


def list_keys(
    tx: Tx, p: Principal, user: str | None, show_secrets: bool, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    where, params = "org_uid = ?", [p.org_uid]
    if user:
        where, params = where + " AND username = ?", [*params, user]
    total = int(tx.scalar(f"SELECT COUNT(*) FROM st2_api_keys WHERE {where}", *params))
    rows = tx.all(
        f"SELECT * FROM st2_api_keys WHERE {where} ORDER BY created_at, id LIMIT ? OFFSET ?",
        *params,
        limit,
        offset,
    )
    return [_render_key(r, show_secrets and p.is_admin) for r in rows], total


def get_key(tx: Tx, p: Principal, key_or_id: str, show_secrets: bool) -> dict[str, Any]:
    return _render_key(_key_row(tx, p, key_or_id), show_secrets and p.is_admin)


def update_key(tx: Tx, p: Principal, key_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Enable, disable or change the metadata of a key; the (masked) `key_hash` sent back is ignored."""
    p.require_admin()
    row = _key_row(tx, p, key_id)
    enabled = body.get("enabled", bool(row["enabled"]))
    if not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false.")
    metadata = body.get("metadata", jload(row["metadata"]))
    if not isinstance(metadata, dict):
        raise BadRequest("metadata must be an object.")
    tx.run(
        "UPDATE st2_api_keys SET enabled = ?, metadata = ? WHERE id = ?",
        int(enabled),
        jdump(metadata),
        row["id"],
    )
    spine.record_org(tx, p, "automation_api_key.update", p.org_uid, {"id": row["id"], "enabled": enabled})
    return get_key(tx, p, row["id"], False)


def delete_key(tx: Tx, p: Principal, key_id: str) -> None:
    p.require_admin()
    row = _key_row(tx, p, key_id)
    tx.run("DELETE FROM st2_api_keys WHERE id = ?", row["id"])
    spine.record_org(
        tx, p, "automation_api_key.delete", p.org_uid, {"id": row["id"], "enabled": bool(row["enabled"])}
    )


def login(db: Database, header: str | None, body: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """`POST /auth/v1/tokens`: check HTTP Basic `email[#organization]:password` (argon2, outside any
    transaction) and issue a token in the chosen organization."""
    login_name, password = basic_credentials(header)
    email, _, org_hint = login_name.partition("#")
    wanted = org_hint or body.get("organization")
    if wanted is not None and not isinstance(wanted, str):
        raise BadRequest("organization must be a string (an organization uid or name).")
    ttl = check_ttl(body, settings.automation_token_ttl_seconds, settings.automation_token_max_ttl_seconds)
    with db.read() as tx:
        row = tx.one("SELECT * FROM users WHERE email = ?", email.strip().lower())
    matches = passwords.verify(row["password_hash"] if row else None, password, settings)
    if (
        row is None
        or not matches
        or not row["active"]
        or (row["locked_until"] and row["locked_until"] > now())
    ):
        raise Unauthorized("Invalid or missing credentials")
    if row["tfa_enabled"]:
        raise Unauthorized(
            "Invalid or missing credentials: this account uses two-factor login; create an API key "
            "for automation from a logged-in session instead."
        )
    with db.write() as tx:
        org_uid, _ = organization_for(tx, row["uid"], wanted)
        metadata = {"organization": org_uid}
        return issue_token(tx, row["uid"], login_name, org_uid, ttl, metadata)


def validate(tx: Tx, token: object) -> dict[str, bool]:
    if not isinstance(token, str) or not token:
        raise BadRequest("token is required.")
    try:
        principal_for_token(tx, token, "body")
    except Unauthorized:
        return {"valid": False}
    return {"valid": True}
