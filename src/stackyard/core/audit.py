"""The audit log: one entry for every write, naming the actor, module, event and request id.

Entries are written by the spine (`core.spine.record`), together with the write's event.

Entries never hold credentials: metadata passes through `safe()`, which drops secret-looking keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, overload

from stackyard.errors import not_found
from stackyard.ids import now, uid
from stackyard.store.engine import Row, Tx, jdump, jload

_PENDING = "audit.pending"
_SECRET_KEYS = ("password", "token", "secret", "authtoken", "authorization", "tfa", "otp")


@dataclass(frozen=True)
class Actor:
    """Who made a change: a user uid or a token uid (never a secret), and the request it came in."""

    uid: str
    kind: str
    request_id: str = ""
    remote_addr: str = ""


def safe(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in metadata.items()
        if not any(s in k.lower() for s in _SECRET_KEYS) or k in ("token_uid",)
    }


def write(
    tx: Tx,
    actor: Actor,
    module: str,
    event_type: str,
    *,
    api_key: str | None,
    org_uid: str | None,
    branch: str | None,
    metadata: dict[str, Any],
) -> str:
    """Add an entry, inserted with the transaction's other entries at its end (one `executemany`);
    answers its uid. Only `core.spine.record` calls this."""
    entry_uid = uid()
    row = (entry_uid, org_uid, api_key, branch, module, event_type, actor.uid, actor.kind)
    pending: list[tuple[Any, ...]] | None = tx.state.get(_PENDING)
    if pending is None:
        pending = tx.state[_PENDING] = []
        tx.before_commit(_PENDING, _flush)
    pending.append((*row, actor.request_id, actor.remote_addr, jdump(safe(metadata)), now()))
    return entry_uid


def _flush(tx: Tx) -> None:
    tx.run_many(
        "INSERT INTO audit_logs (uid, org_uid, api_key, branch, module, event_type, actor_uid, actor_kind, "
        "request_id, remote_addr, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tx.state.pop(_PENDING, []),
    )


def render(row: Row) -> dict[str, Any]:
    return {
        "uid": row["uid"],
        "stack": row["api_key"],
        "org_uid": row["org_uid"],
        "branch": row["branch"],
        "created_at": row["created_at"],
        "created_by": row["actor_uid"],
        "actor_kind": row["actor_kind"],
        "module": row["module"],
        "event_type": row["event_type"],
        "request_id": row["request_id"],
        "remote_addr": row["remote_addr"],
        "metadata": jload(row["metadata"]),
    }


@overload
def find(
    tx: Tx,
    *,
    api_key: str | None = None,
    org_uid: str | None = None,
    skip: int = 0,
    limit: int = 100,
    count: Literal[True] = True,
) -> tuple[list[dict[str, Any]], int]: ...


@overload
def find(
    tx: Tx,
    *,
    api_key: str | None = None,
    org_uid: str | None = None,
    skip: int = 0,
    limit: int = 100,
    count: bool,
) -> tuple[list[dict[str, Any]], int | None]: ...


def find(
    tx: Tx,
    *,
    api_key: str | None = None,
    org_uid: str | None = None,
    skip: int = 0,
    limit: int = 100,
    count: bool = True,
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first, for one stack or one organization; answers (page, total), total None unless `count`."""
    column, value = ("api_key", api_key) if api_key is not None else ("org_uid", org_uid)
    rows, total = tx.page("audit_logs", f"{column} = ?", (value,), "seq DESC", skip, limit, count=count)
    return [render(r) for r in rows], total


def fetch(tx: Tx, api_key: str, log_uid: str) -> dict[str, Any]:
    row = tx.one("SELECT * FROM audit_logs WHERE api_key = ? AND uid = ?", api_key, log_uid)
    if row is None:
        raise not_found()
    return render(row)
