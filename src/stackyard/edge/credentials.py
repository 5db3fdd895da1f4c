"""Edge API credentials (client id and secret) and the bearer tokens they are exchanged for.

An organization's owner or admin creates a credential; its secret is shown once, in the create
answer, and only its SHA-256 is stored (DESIGN §4). `POST /identity/v1/oauth2/token` trades a live
credential for a bearer token that expires after `edge_token_ttl_seconds`. Real StackPath client
ids are 32 hex digits and secrets 64; ours have the same shape.

The token endpoint never answers 401: pystackpath's login re-enters its own 401 handling, so a 401
there recurses until RecursionError (reference/stackpath_api.md §2.2). Bad credentials are a 400.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from stackyard.access.caller import Caller
from stackyard.core import spine
from stackyard.errors import BadRequest, Forbidden, NotFound, invalid
from stackyard.identity import organizations
from stackyard.ids import digest, now, same
from stackyard.store.engine import Row, Tx

NAME_LIMIT = 200


def _admin(tx: Tx, caller: Caller, org_uid: str) -> None:
    role = organizations.role_of(tx, org_uid, str(caller.user_uid)) if caller.user_uid else None
    if role is None:
        raise NotFound("Organization not found.", status=404)
    if role not in ("owner", "admin"):
        raise Forbidden("Only an organization's owner or admins manage its edge API credentials.")


def render(row: Row) -> dict[str, Any]:
    return {
        "client_id": row["client_id"],
        "name": row["name"],
        "account_id": row["org_uid"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "revoked_at": row["revoked_at"],
    }


def create(tx: Tx, caller: Caller, org_uid: str, name: object) -> dict[str, Any]:
    """A new credential; the answer holds `client_secret`, which is never shown again."""
    _admin(tx, caller, org_uid)
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
        raise invalid({"name": [f"must be a non-empty string of at most {NAME_LIMIT} characters."]})
    client_id, client_secret = secrets.token_hex(16), secrets.token_hex(32)
    tx.run(
        "INSERT INTO edge_credentials (client_id, org_uid, name, secret_hash, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        client_id,
        org_uid,
        name.strip(),
        digest(client_secret),
        caller.actor,
        now(),
    )
    spine.record_org(
        tx, caller, "edge_credential.create", org_uid, {"client_id": client_id, "name": name.strip()}
    )
    row = tx.one("SELECT * FROM edge_credentials WHERE client_id = ?", client_id)
    assert row is not None
    return {**render(row), "client_secret": client_secret}


def find(tx: Tx, caller: Caller, org_uid: str) -> list[dict[str, Any]]:
    _admin(tx, caller, org_uid)
    rows = tx.all("SELECT * FROM edge_credentials WHERE org_uid = ? ORDER BY created_at, client_id", org_uid)
    return [render(r) for r in rows]


def revoke(tx: Tx, caller: Caller, org_uid: str, client_id: str) -> None:
    """Revoke a credential: its tokens stop working at once."""
    _admin(tx, caller, org_uid)
    row = tx.one(
        "SELECT * FROM edge_credentials WHERE org_uid = ? AND client_id = ? AND revoked_at IS NULL",
        org_uid,
        client_id,
    )
    if row is None:
        raise NotFound("Credential not found.", status=404)
    tx.run("UPDATE edge_credentials SET revoked_at = ? WHERE client_id = ?", now(), client_id)
    tx.run("DELETE FROM edge_tokens WHERE client_id = ?", client_id)
    spine.record_org(
        tx, caller, "edge_credential.delete", org_uid, {"client_id": client_id, "name": row["name"]}
    )


def issue_token(tx: Tx, body: dict[str, Any], ttl_seconds: int) -> dict[str, Any]:
    """Client credentials -> `{access_token, token_type, expires_in}`; 400 (never 401) when refused."""
    grant = body.get("grant_type", "client_credentials")
    client_id, client_secret = body.get("client_id"), body.get("client_secret")
    if grant != "client_credentials":
        raise BadRequest(
            "grant_type must be client_credentials.", errors={"grant_type": ["is not supported."]}
        )
    if (
        not isinstance(client_id, str)
        or not isinstance(client_secret, str)
        or not client_id
        or not client_secret
    ):
        raise BadRequest("client_id and client_secret are required.")
    row = tx.one("SELECT * FROM edge_credentials WHERE client_id = ?", client_id)
    if (
        row is None
        or row["revoked_at"] is not None
        or not same(str(row["secret_hash"]), digest(client_secret))
    ):
        raise BadRequest("The client credentials are not valid.", errors={"client_secret": ["is not valid."]})
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(seconds=ttl_seconds)
    tx.run("DELETE FROM edge_tokens WHERE client_id = ? AND expires_at <= ?", client_id, now())
    tx.run(
        "INSERT INTO edge_tokens (token_hash, client_id, org_uid, expires_at) VALUES (?, ?, ?, ?)",
        digest(token),
        client_id,
        row["org_uid"],
        expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z",
    )
    return {"access_token": token, "token_type": "bearer", "expires_in": ttl_seconds}
