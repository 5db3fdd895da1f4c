"""Edge stacks: an account's containers of CDN sites, certificates and purges (StackPath §4.1).

A stack is created with a name; its slug is generated from it (pystackpath never sends one). The
billing calls (subscriptions, cancel) are accepted: a self-hosted edge has nothing to bill, but a
cancelled stack says so in its status.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from stackyard.core import spine
from stackyard.edge.access import EdgeCaller, stack_row
from stackyard.errors import Forbidden, invalid
from stackyard.ids import now
from stackyard.store.engine import Row, Tx

FIELDS = ("id", "accountId", "slug", "name", "status", "createdAt", "updatedAt")
NAME_LIMIT = 200
CANCEL_REASONS = {
    "not-reliable",
    "no-desired-location",
    "missing-feature",
    "taking-too-long",
    "setup-difficult",
    "price",
    "other",
}


def render(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "accountId": row["account_id"],
        "slug": row["slug"],
        "name": row["name"],
        "status": row["status"],
        "createdAt": _rfc3339(row["created_at"]),
        "updatedAt": _rfc3339(row["updated_at"]),
    }


def _rfc3339(value: Any) -> str:
    return str(value)


def find(tx: Tx, caller: EdgeCaller, account_id: str | None = None) -> list[dict[str, Any]]:
    if account_id and account_id != caller.org_uid:
        return []
    rows = tx.all("SELECT * FROM edge_stacks WHERE account_id = ? ORDER BY created_at, id", caller.org_uid)
    return [render(r) for r in rows]


def fetch(tx: Tx, caller: EdgeCaller, stack: str) -> dict[str, Any]:
    return render(stack_row(tx, caller, stack))


def _slug(tx: Tx, name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "stack"
    slug = base
    while tx.scalar("SELECT 1 FROM edge_stacks WHERE slug = ?", slug):
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def create(tx: Tx, caller: EdgeCaller, data: dict[str, Any]) -> dict[str, Any]:
    account_id, name = data.get("accountId") or caller.org_uid, data.get("name")
    if account_id != caller.org_uid:
        raise Forbidden("This credential cannot create stacks in another account.")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_LIMIT:
        raise invalid({"name": [f"must be a non-empty string of at most {NAME_LIMIT} characters."]})
    slug = data.get("slug")
    if slug is not None and (not isinstance(slug, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", slug)):
        raise invalid({"slug": ["must be lowercase letters, digits and dashes."]})
    if slug and tx.scalar("SELECT 1 FROM edge_stacks WHERE slug = ?", slug):
        raise invalid({"slug": ["is taken."]})
    stack_id, t = str(uuid.uuid4()), now()
    tx.run(
        "INSERT INTO edge_stacks (id, account_id, slug, name, status, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, 'ACTIVE', ?, ?)",
        stack_id,
        caller.org_uid,
        slug or _slug(tx, name.strip()),
        name.strip(),
        t,
        t,
    )
    spine.record_org(tx, caller, "edge_stack.create", caller.org_uid, {"id": stack_id, "name": name.strip()})
    return fetch(tx, caller, stack_id)


def subscribe(tx: Tx, caller: EdgeCaller, stack: str, data: dict[str, Any]) -> dict[str, Any]:
    row = stack_row(tx, caller, stack)
    products = data.get("productIds") or []
    if not isinstance(products, list) or not all(isinstance(p, str) for p in products):
        raise invalid({"productIds": ["must be a list of strings."]})
    spine.record_org(
        tx, caller, "edge_stack.update", caller.org_uid, {"id": row["id"], "action": "subscribe"}
    )
    return {"stackId": row["id"], "productIds": products}


def cancel(tx: Tx, caller: EdgeCaller, stack: str, data: dict[str, Any]) -> dict[str, Any]:
    row = stack_row(tx, caller, stack)
    reason = data.get("reasonSlug", "other")
    if reason not in CANCEL_REASONS:
        raise invalid({"reasonSlug": [f"must be one of {', '.join(sorted(CANCEL_REASONS))}."]})
    tx.run("UPDATE edge_stacks SET status = 'CANCELLED', updated_at = ? WHERE id = ?", now(), row["id"])
    spine.record_org(tx, caller, "edge_stack.update", caller.org_uid, {"id": row["id"], "action": "cancel"})
    return {"stackId": row["id"], "status": "CANCELLED"}
