"""Bulk operations (catalogue §2.7): accepted at once with a `job_id`, run as the durable job
`publishing.bulk`, item by item, with a result per item.

The request is checked whole when it arrives (environments, locales, the shape of every item), so
a bad one is a 422 and nothing runs; what can only fail when it runs (an entry deleted since) fails
that item alone, its writes undone, the others standing. Items run in chunks of `bulk_chunk_items` (a setting),
each chunk one transaction that also moves the job's `done` mark, so a process that dies mid-job
leaves a job that resumes after the last committed chunk: every item is applied exactly once. A
repeated request with the same `Idempotency-Key` header answers the first one's job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.access.policy import require
from stackyard.content.entries import entries as entry_service
from stackyard.content.publishing import actions, queue, release_items, releases, snapshots
from stackyard.content.publishing import entries as entry_publishing
from stackyard.core import jobs
from stackyard.core.job_runner import handler
from stackyard.core.jobs import Job
from stackyard.errors import APIError, NotFound, invalid
from stackyard.ids import now, uid
from stackyard.store.engine import Database, Row, Tx, jdump, jload

KIND = "publishing.bulk"
PENDING, IN_PROGRESS, COMPLETED = "pending", "in_progress", "completed"
OPERATIONS = {
    "publish": "Your publish request is in progress.",
    "unpublish": "Your unpublish request is in progress.",
    "delete": "Your delete request is in progress.",
    "release_add": "Your add to release request is in progress.",
    "release_update": "Your update release items to latest version request is in progress.",
}
CHUNK = 200
MAX_ITEMS = 10_000

# operation -> what applies one item: (tx, access, item, request) -> None, raising APIError to fail it.
Apply = Callable[[Tx, StackAccess, dict[str, Any], dict[str, Any]], None]
appliers: dict[str, Apply] = {}


def _items(body: dict[str, Any], operation: str, max_items: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for kind, key in ((snapshots.ENTRY, "entries"), (snapshots.ASSET, "assets")):
        listed = body.get(key, [])
        if not isinstance(listed, list):
            errors[key] = ["must be a list."]
            continue
        for i, item in enumerate(listed):
            where = f"{key}[{i}]"
            if not isinstance(item, dict) or not isinstance(item.get("uid"), str) or not item["uid"]:
                errors[where] = ["must be an object with a 'uid'."]
                continue
            ct = item.get("content_type", item.get("content_type_uid"))
            if kind == snapshots.ENTRY and (not isinstance(ct, str) or not ct):
                errors[where] = ["needs its 'content_type'."]
                continue
            locale = item.get("locale")
            if locale is not None and not isinstance(locale, str):
                errors[where] = ["'locale' must be a locale code."]
                continue
            version = actions.version_of(item.get("version"), errors)
            out.append(
                {
                    "kind": kind,
                    "uid": item["uid"],
                    "content_type": ct or "",
                    "locale": locale,
                    "version": version,
                }
            )
    if not out and not errors:
        errors["entries"] = [f"list at least one entry or asset to {operation}."]
    if len(out) > max_items:
        errors["entries"] = [f"a bulk request takes at most {max_items} items; this one has {len(out)}."]
    if errors:
        raise invalid(errors, f"The bulk {operation} request is not valid.")
    return out


def _release_items(
    tx: Tx, access: StackAccess, body: dict[str, Any], operation: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Items of `bulk/release/items` ({release, action, locale: [...], items: [{uid, content_type_uid}]})
    and `bulk/release/update_items` ({release, items: [{uid, locale}] or ["$all"]})."""
    release = body.get("release")
    if not isinstance(release, str) or not release:
        raise invalid({"release": ["is required: the uid of the release."]})
    releases.fetch(tx, access, release)  # 422 when there is no such release
    listed = body.get("items")
    if operation == "release_update" and listed == ["$all"]:
        return [{"kind": "release", "uid": "$all"}], {"release": release}
    if (
        not isinstance(listed, list)
        or not listed
        or not all(isinstance(i, dict) and isinstance(i.get("uid"), str) for i in listed)
    ):
        raise invalid({"items": ["must list objects with a 'uid'."]})
    codes = body.get("locale") or body.get("locales") or [None]
    if not isinstance(codes, list):
        codes = [codes]
    action = body.get("action", "publish")
    items = [
        {
            "kind": "release",
            "uid": i["uid"],
            "content_type_uid": i.get("content_type_uid"),
            "locale": i.get("locale", code),
            "version": i.get("version"),
            "action": i.get("action", action),
        }
        for i in listed
        for code in (codes if operation == "release_add" else [i.get("locale")])
    ]
    return items, {"release": release}


def accept(
    tx: Tx,
    access: StackAccess,
    operation: str,
    body: dict[str, Any],
    idempotency_key: str | None,
    *,
    chunk: int = CHUNK,
    max_items: int = MAX_ITEMS,
) -> str:
    """Check the request and queue its job; answers the job id (the earlier one's for a known key).
    `chunk`: items per transaction when it runs; `max_items`: the most one request may list."""
    if idempotency_key:
        known = tx.scalar(
            "SELECT uid FROM bulk_jobs WHERE api_key = ? AND idempotency_key = ?",
            access.api_key,
            idempotency_key,
        )
        if known is not None:
            return str(known)
    request: dict[str, Any] = {"chunk": max(1, chunk)}
    errors: dict[str, list[str]] = {}
    when: datetime | None = None
    if operation.startswith("release_"):
        items, more = _release_items(tx, access, body, operation)
        request.update(more)
        if len(items) > max_items:
            raise invalid({"items": [f"a bulk request takes at most {max_items} items."]})
    else:
        items = _items(body, operation, max_items)
    if operation not in ("delete", "release_add", "release_update"):
        envs = body.get("environments")
        if not isinstance(envs, list) or not envs or not all(isinstance(e, str) for e in envs):
            raise invalid({"environments": ["must be a non-empty list of environment names."]})
        request["environments"] = list(actions.environments(tx, access, envs))
        codes = body.get("locales")
        if codes is not None and (not isinstance(codes, list) or not all(isinstance(c, str) for c in codes)):
            raise invalid({"locales": ["must be a list of locale codes."]})
        request["locales"] = list(actions.locales(tx, access, codes or []))
        request["with_references"] = body.get("publish_with_reference") is True
        when = actions.scheduled_at(body.get("scheduled_at"), errors)
        if errors:
            raise invalid(errors)
    for item in items:
        if item["kind"] == snapshots.ENTRY:
            require(access, "entry", "publish" if operation != "delete" else "delete", item["content_type"])
    job = uid()
    stamp = now()
    tx.run(
        "INSERT INTO bulk_jobs (api_key, branch, uid, operation, status, request, total, idempotency_key, "
        "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        access.api_key,
        access.branch,
        job,
        operation,
        PENDING,
        jdump({**request, "caller": queue.caller_of(access.caller)}),
        len(items),
        idempotency_key or None,
        access.caller.actor,
        stamp,
        stamp,
    )
    tx.run_many(
        "INSERT INTO bulk_job_items (api_key, job_uid, n, item, status) VALUES (?, ?, ?, ?, ?)",
        [(access.api_key, job, n, jdump(item), PENDING) for n, item in enumerate(items)],
    )
    jobs.enqueue(tx, KIND, {"api_key": access.api_key, "uid": job}, run_at=when, api_key=access.api_key)
    return job


def _apply_entry(
    tx: Tx, access: StackAccess, item: dict[str, Any], operation: str, request: dict[str, Any], job: str
) -> None:
    if operation == "delete":
        codes = [item["locale"].lower()] if item.get("locale") else None
        entry_service.delete(tx, access, item["content_type"], item["uid"], codes)
        return
    entry_publishing.request(tx, access, _action(access, item, operation, request), None, bulk_job=job)


def _action(
    access: StackAccess, item: dict[str, Any], operation: str, request: dict[str, Any]
) -> actions.Action:
    locale = (item.get("locale") or str(access.stack["master_locale"])).lower()
    return actions.Action(
        action=operation,
        kind=snapshots.ENTRY,
        uid=item["uid"],
        content_type_uid=item["content_type"],
        environments=tuple(request["environments"]),
        locales=tuple(request["locales"] or [locale]),
        locale=locale,
        version=item.get("version"),
        with_references=bool(request.get("with_references")),
    )


def apply(
    tx: Tx, access: StackAccess, item: dict[str, Any], operation: str, request: dict[str, Any], job: str
) -> None:
    if item["kind"] == "release":
        raw = {k: v for k, v in item.items() if k != "kind" and v is not None}
        if operation == "release_add":
            release_items.add_items(tx, access, request["release"], [raw])
        else:
            release_items.update_items(
                tx, access, request["release"], ["$all"] if raw["uid"] == "$all" else [raw]
            )
        return
    if item["kind"] == snapshots.ENTRY:
        _apply_entry(tx, access, item, operation, request, job)
        return
    other = appliers.get(f"{item['kind']}.{operation}")
    if other is None:
        raise NotFound(
            f"Bulk {operation} of {item['kind']}s is not supported by this server yet.", error_code=141
        )
    other(tx, access, item, request)


@handler(KIND)
def run(db: Database, job: Job) -> None:
    """Apply the job's items chunk by chunk from where the last committed chunk left off."""
    api_key, job_uid = job.payload["api_key"], job.payload["uid"]
    while True:
        with db.write() as tx:
            jobs.fence(tx, job)
            row = tx.one(
                f"SELECT * FROM bulk_jobs WHERE api_key = ? AND uid = ?{tx.for_update}", api_key, job_uid
            )
            if row is None or row["status"] == COMPLETED:
                return
            request = jload(row["request"])
            access = queue.access_for(tx, api_key, row["branch"], request.get("caller") or {})
            if access is None:
                return
            if _chunk(tx, access, row, request) == 0:
                return


def _chunk(tx: Tx, access: StackAccess, row: Row, request: dict[str, Any]) -> int:
    """Apply the next chunk of items; answers how many it applied (0: the job is complete)."""
    items = tx.all(
        "SELECT n, item FROM bulk_job_items WHERE api_key = ? AND job_uid = ? AND n >= ? ORDER BY n LIMIT ?",
        access.api_key,
        row["uid"],
        row["done"],
        int(request.get("chunk") or CHUNK),
    )
    loaded = [(int(it["n"]), jload(it["item"])) for it in items]
    errors: dict[int, APIError | None] = {}
    # Entry publishes without references go in one batch (one read, one write for the chunk);
    # they check everything before writing, so one refused writes nothing and fails alone.
    batch = [(n, i) for n, i in loaded if i["kind"] == snapshots.ENTRY and row["operation"] == "publish"]
    if batch and not request.get("with_references"):
        acts = [_action(access, i, "publish", request) for _, i in batch]
        results = entry_publishing.publish_chunk(tx, access, acts, bulk_job=row["uid"])
        errors.update({n: e for (n, _), e in zip(batch, results, strict=True)})
    for n, item in loaded:
        if n in errors:
            continue
        try:
            with tx.savepoint("bulk_item"):
                apply(tx, access, item, row["operation"], request, row["uid"])
            errors[n] = None
        except APIError as e:
            errors[n] = e
    outcomes = [
        (
            "success" if e is None else "failed",
            None if e is None else jdump({"error_message": e.error_message, "errors": e.errors}),
            access.api_key,
            row["uid"],
            n,
        )
        for n, e in sorted(errors.items())
    ]
    tx.run_many(
        "UPDATE bulk_job_items SET status = ?, error = ? WHERE api_key = ? AND job_uid = ? AND n = ?",
        outcomes,
    )
    failed = sum(1 for o in outcomes if o[0] == "failed")
    done = row["done"] + len(items)
    tx.run(
        "UPDATE bulk_jobs SET done = ?, succeeded = succeeded + ?, failed = failed + ?, status = ?, updated_at = ? "
        "WHERE api_key = ? AND uid = ?",
        done,
        len(items) - failed,
        failed,
        COMPLETED if done >= row["total"] else IN_PROGRESS,
        now(),
        access.api_key,
        row["uid"],
    )
    return len(items)


def status(tx: Tx, access: StackAccess, job_uid: str, skip: int = 0, limit: int = 100) -> dict[str, Any]:
    """The job's progress and its items' results (a page of them)."""
    row = tx.one(
        "SELECT * FROM bulk_jobs WHERE api_key = ? AND branch = ? AND uid = ?",
        access.api_key,
        access.branch,
        job_uid,
    )
    if row is None:
        raise NotFound("The bulk job was not found.", error_code=141)
    items = tx.all(
        "SELECT n, item, status, error FROM bulk_job_items WHERE api_key = ? AND job_uid = ? ORDER BY n LIMIT ? OFFSET ?",
        access.api_key,
        job_uid,
        limit,
        skip,
    )
    return {
        "notice": "Your job status request is successful.",
        "job_id": row["uid"],
        "operation": row["operation"],
        "status": row["status"],
        "total": row["total"],
        "processed": row["done"],
        "succeeded": row["succeeded"],
        "failed": row["failed"],
        "progress": (row["done"] / row["total"]) if row["total"] else 1.0,
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "items": [
            {
                **jload(i["item"]),
                "status": i["status"],
                **({"error": jload(i["error"])} if i["error"] else {}),
            }
            for i in items
        ],
    }
