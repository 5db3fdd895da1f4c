"""Who calls the edge control plane: an API credential's bearer token, bound to one account.

    caller = access.authenticate(tx, headers.get("authorization"))   # 401 unless a live token
    access.stack_row(tx, caller, "my-stack")                          # by id or slug, in its account

A StackPath account is a Stackyard organization (DESIGN §7), so every query here is filtered by the
caller's organization: a stack, site or certificate of another account is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackyard.errors import NotFound, Unauthorized
from stackyard.ids import digest, now
from stackyard.store.engine import Row, Tx


@dataclass(frozen=True)
class EdgeCaller:
    """A request made with an edge API credential (what the spine records as the actor)."""

    org_uid: str
    client_id: str
    request_id: str = ""
    remote_addr: str = ""

    @property
    def actor(self) -> str:
        return self.client_id

    @property
    def kind(self) -> str:
        return "edge_credential"


def authenticate(
    tx: Tx, authorization: str | None, request_id: str = "", remote_addr: str = ""
) -> EdgeCaller:
    """The caller of a bearer token; 401 for none, an unknown one, an expired one or a revoked
    credential's (pystackpath logs in on its first 401 and retries once)."""
    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise Unauthorized("A bearer token is required: POST /identity/v1/oauth2/token first.")
    row = tx.one(
        "SELECT t.client_id, t.org_uid, t.expires_at, c.revoked_at FROM edge_tokens t "
        "JOIN edge_credentials c ON c.client_id = t.client_id WHERE t.token_hash = ?",
        digest(token),
    )
    if row is None or row["revoked_at"] is not None or str(row["expires_at"]) <= now():
        raise Unauthorized("The bearer token is not valid or has expired.")
    return EdgeCaller(str(row["org_uid"]), str(row["client_id"]), request_id, remote_addr)


def stack_row(tx: Tx, caller: EdgeCaller, stack: str) -> Row:
    """The caller's stack named by id or slug (the OAS accepts either)."""
    row = tx.one(
        "SELECT * FROM edge_stacks WHERE account_id = ? AND (id = ? OR slug = ?)",
        caller.org_uid,
        stack,
        stack,
    )
    if row is None:
        raise NotFound(f"Stack {stack!r} was not found.", status=404)
    return row


def site_row(tx: Tx, caller: EdgeCaller, stack: str, site_id: str) -> Row:
    """A CDN site of the caller's stack."""
    stack_id = stack_row(tx, caller, stack)["id"]
    row = tx.one("SELECT * FROM edge_sites WHERE stack_id = ? AND id = ?", stack_id, site_id)
    if row is None:
        raise NotFound(f"Site {site_id!r} was not found.", status=404)
    return row
