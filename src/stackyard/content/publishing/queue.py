"""The publish queue: every publish, unpublish and release deployment is an item with a status.

    pending ──(its job runs, on time)──> in progress ──> success | failed
       └──unschedule──> canceled

An action for now runs in the request's transaction and its item is written as `success` with it.
A scheduled one is `pending` with the durable job `publishing.run` due at `scheduled_at`; the job
runs it in one transaction that also marks the item done, and only while the item is still
pending, so it happens exactly once however often the job runs (jobs run at least once), in
whichever process takes it. A scheduled publish of version N publishes version N.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.policy import require
from stackyard.core import jobs
from stackyard.core.job_runner import handler
from stackyard.core.jobs import Job
from stackyard.errors import APIError, UnprocessableEntity, invalid, not_found
from stackyard.ids import now, uid
from stackyard.store.engine import Database, Row, Tx, jdump, jload

PENDING, IN_PROGRESS, SUCCESS, FAILED, CANCELED = "pending", "in progress", "success", "failed", "canceled"
KIND = "publishing.run"
NOT_SCHEDULED = 141

# type ('entry', 'asset', 'release') -> runs a queued action: (tx, access, item row) -> details.
Runner = Callable[[Tx, StackAccess, Row], dict[str, Any]]
runners: dict[str, Runner] = {}


def add(
    tx: Tx,
    access: StackAccess,
    *,
    type: str,
    action: str,
    item_uid: str,
    payload: dict[str, Any],
    title: str | None,
    content_type_uid: str = "",
    locale: str | None = None,
    version: int | None = None,
    environments: tuple[str, ...] | list[str] = (),
    locales: tuple[str, ...] | list[str] = (),
    when: datetime | None = None,
    bulk_job: str | None = None,
    deferred: bool = False,
) -> str:
    """Add a queue item; with `when` (or `deferred`: run by a job now), pending and scheduled, else
    already done (`success`). Answers its uid."""
    item = uid()
    stamp = now()
    job_id = None
    pending = when is not None or deferred
    if pending:
        job_id = jobs.enqueue(
            tx,
            KIND,
            {"api_key": access.api_key, "uid": item},
            run_at=when,
            idempotency_key=f"{access.api_key}:{item}",
            api_key=access.api_key,
        )
    row = (
        access.api_key,
        access.branch,
        item,
        type,
        action,
        item_uid,
        content_type_uid,
        title,
        locale,
        version,
        jdump(list(environments)),
        jdump(list(locales)),
        0,
        PENDING if pending else SUCCESS,
        jdump({"request": payload, "caller": caller_of(access.caller)}),
        _iso(when) if when is not None else None,
        job_id,
        bulk_job,
        access.caller.actor,
        stamp,
        stamp,
    )
    # Buffered, and written in one round at the end of the transaction (a bulk chunk adds hundreds).
    buffered: list[tuple[Any, ...]] | None = tx.state.get(_BUFFER)
    if buffered is None:
        buffered = tx.state[_BUFFER] = []
        tx.before_commit(_BUFFER, _flush)
    buffered.append(row)
    return item


_BUFFER = "publish_queue.pending"


def _flush(tx: Tx) -> None:
    tx.run_many(
        "INSERT INTO publish_queue (api_key, branch, uid, type, action, item_uid, content_type_uid, title, locale, "
        "version, environments, locales, with_references, status, details, scheduled_at, job_id, bulk_job, "
        "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tx.state.pop(_BUFFER, []),
    )


def _iso(when: datetime) -> str:
    return when.astimezone().strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def caller_of(c: Caller) -> dict[str, Any]:
    return {"kind": c.kind, "user_uid": c.user_uid, "token_uid": c.token_uid, "email": c.email}


def access_for(tx: Tx, api_key: str, branch: str, caller: dict[str, Any]) -> StackAccess | None:
    """The standing a scheduled action runs with: the stack, as whoever scheduled it (their
    permission was checked when they did); None when the stack is gone."""
    stack = tx.one("SELECT * FROM stacks WHERE api_key = ?", api_key)
    if stack is None:
        return None
    who = Caller(
        kind=caller.get("kind") or "user",
        user_uid=caller.get("user_uid"),
        token_uid=caller.get("token_uid"),
        email=caller.get("email"),
        token_api_key=api_key if caller.get("token_uid") else None,
        request_id="scheduled",
    )
    return StackAccess(caller=who, stack=dict(stack), level="owner", branch=branch)


@handler(KIND)
def run(db: Database, job: Job) -> None:
    """Run one scheduled item, exactly once: fenced, and only while it is still pending. An action
    that cannot be done (its entry was deleted since) rolls back whole and marks the item failed."""
    api_key, item = job.payload["api_key"], job.payload["uid"]
    try:
        with db.write() as tx:
            jobs.fence(tx, job)
            row = _locked(tx, api_key, item)
            if row is None or row["status"] != PENDING:
                return
            details = jload(row["details"])
            access = access_for(tx, api_key, row["branch"], details.get("caller") or {})
            if access is None:
                return
            outcome = runners[row["type"]](tx, access, row)
            _finish(tx, api_key, item, SUCCESS, {**details, **outcome})
    except APIError as e:
        with db.write() as tx:
            jobs.fence(tx, job)
            row = _locked(tx, api_key, item)
            if row is not None and row["status"] == PENDING:
                error = {"error_message": e.error_message, "error_code": e.error_code, "errors": e.errors}
                _finish(tx, api_key, item, FAILED, {**jload(row["details"]), "error": error})


def _locked(tx: Tx, api_key: str, item: str) -> Row | None:
    return tx.one("SELECT * FROM publish_queue WHERE api_key = ? AND uid = ?" + tx.for_update, api_key, item)


def _finish(tx: Tx, api_key: str, item: str, status: str, details: dict[str, Any]) -> None:
    tx.run(
        "UPDATE publish_queue SET status = ?, details = ?, updated_at = ? WHERE api_key = ? AND uid = ?",
        status,
        jdump(details),
        now(),
        api_key,
        item,
    )


def render(r: Row) -> dict[str, Any]:
    details = jload(r["details"])
    out: dict[str, Any] = {
        "uid": r["uid"],
        "stack": r["api_key"],
        "type": r["type"],
        "action": r["action"],
        "environment": jload(r["environments"]),
        "locale": jload(r["locales"]),
        "publish_details": {"status": r["status"]},
        "approval_status": None,
        "scheduled_at": r["scheduled_at"],
        "published_at": r["updated_at"] if r["status"] == SUCCESS else None,
        "created_at": r["created_at"],
        "created_by": r["created_by"],
        "updated_at": r["updated_at"],
    }
    item: dict[str, Any] = {
        "uid": r["item_uid"],
        "title": r["title"],
        "locale": r["locale"],
        "version": r["version"],
    }
    if r["type"] == "release":
        item = {
            "uid": r["item_uid"],
            "title": r["title"],
            "release": {"uid": r["item_uid"], "title": r["title"]},
        }
    elif r["content_type_uid"]:
        item["content_type"] = {"uid": r["content_type_uid"]}
    out["entry" if r["type"] != "asset" else "asset"] = item
    if "error" in details:
        out["publish_details"]["error"] = details["error"]
    if r["bulk_job"]:
        out["job_id"] = r["bulk_job"]
    return out


FILTERS = {
    "type": "type",
    "action": "action",
    "status": "status",
    "content_type": "content_type_uid",
    "content_type_uid": "content_type_uid",
    "entry": "item_uid",
    "uid": "item_uid",
    "locale": "locale",
}


def _filter(query: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL for a `query` of queue filters ({"type": "entry", "status": {"$in": [...]}}), bound params only."""
    clauses: list[str] = []
    params: list[Any] = []
    for key, value in query.items():
        if key in ("environment", "environments"):
            clauses.append("environments LIKE ?")
            params.append(f'%"{value}"%')
            continue
        column = FILTERS.get(key)
        if column is None:
            raise invalid(
                {
                    "query": [
                        f"'{key}' is not a publish queue filter: use one of {sorted({*FILTERS, 'environment'})}."
                    ]
                }
            )
        if isinstance(value, dict) and set(value) == {"$in"} and isinstance(value["$in"], list):
            values = [str(v) for v in value["$in"]] or [""]
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            clauses.append(f"{column} = ?")
            params.append(str(value))
        else:
            raise invalid({"query": [f"'{key}' must be a string or {{\"$in\": [...]}}."]})
    return " AND ".join(clauses) or "1 = 1", params


def find(
    tx: Tx, access: StackAccess, query: dict[str, Any], skip: int, limit: int, *, ascending: bool = False
) -> tuple[list[dict[str, Any]], int]:
    require(access, "stack", "read")
    sql, values = _filter(query)
    where = f"api_key = ? AND branch = ? AND {sql}"
    params = (access.api_key, access.branch, *values)
    order = "ASC" if ascending else "DESC"
    rows = tx.all(
        f"SELECT * FROM publish_queue WHERE {where} ORDER BY created_at {order}, uid {order} LIMIT ? OFFSET ?",
        *params,
        limit,
        skip,
    )
    count = int(tx.scalar(f"SELECT COUNT(*) FROM publish_queue WHERE {where}", *params))
    return [render(r) for r in rows], count


def fetch(tx: Tx, access: StackAccess, item: str) -> dict[str, Any]:
    require(access, "stack", "read")
    r = tx.one(
        "SELECT * FROM publish_queue WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        item,
    )
    if r is None:
        raise not_found()
    return render(r)


def unschedule(tx: Tx, access: StackAccess, item: str) -> dict[str, Any]:
    """Cancel a pending item (its job too); 422 when it already ran or was canceled."""
    r = _locked(tx, access.api_key, item)
    if r is None or r["branch"] != access.branch:
        raise not_found()
    if r["status"] != PENDING:
        raise UnprocessableEntity(
            f"Only a scheduled action that has not run can be unscheduled; this one is {r['status']}.",
            error_code=NOT_SCHEDULED,
            errors={"status": [f"is {r['status']}."]},
        )
    if r["job_id"] is not None:
        jobs.cancel(tx, int(r["job_id"]))
    _finish(tx, access.api_key, item, CANCELED, jload(r["details"]))
    return render({**r, "status": CANCELED})
