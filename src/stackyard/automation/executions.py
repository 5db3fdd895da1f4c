"""Executions (st2 `/executions`): created from `st2 run`, a rule or a re-run, listed, fetched,
cancelled. Running them is `execute.py`.

    requested ─(job enqueued)─> scheduled ─(a runner takes it)─> running ─> succeeded | failed | timeout
        └─ delayed (`delay` ms) ─┘            running ─(cancel)─> canceling ─> canceled
    a runner that dies while running: the next owner of its job marks the execution abandoned

Short native actions (`catalogue.INSTANT`: core.noop, core.echo...) run inside the transaction that
creates them, so they are finished when the request answers and cost no job. Everything else is a
durable job (`automation.execution`) taken by any process that runs jobs. Secret parameters are
stored encrypted with the key-value store's key (`stored_values` / `values_of`: the runner needs
them) and masked as ******** in every answer and stream event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stackyard.automation import actions, bus, catalogue, keys, params, render, totals
from stackyard.automation.common import Principal, as_bool, iso, not_found, oid, parse_iso
from stackyard.core import jobs
from stackyard.errors import BadRequest
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx, jdump, jload

KIND = "automation.execution"
# (tx, settings, prepared execution) -> (status, result, stdout, stderr)
RunNow = Callable[[Tx, Settings, dict[str, Any]], tuple[str, Any, str, str]]
COMPLETED = bus.COMPLETED
CANCELABLE = {"requested", "scheduled", "delayed", "running", "pausing", "paused", "resuming"}
REFUSED_ACTIONS = {
    "core.local_sudo": "sudo is not available: actions never run as another user on this server",
    "core.remote": "remote (SSH) actions are not supported by this server",
    "core.remote_sudo": "remote (SSH) actions are not supported by this server",
}


@dataclass(frozen=True)
class Origin:
    """What caused an execution besides a user: a rule enforcement, a parent, a re-run."""

    rule: dict[str, Any] | None = None
    trigger_instance: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    trigger_type: dict[str, Any] | None = None
    parent: str | None = None
    extra_context: Mapping[str, Any] | None = None


def refusal(action: Mapping[str, Any], values: Mapping[str, Any], settings: Settings) -> str | None:
    """Why this action may not run here, or None."""
    ref = action["ref"]
    if ref in REFUSED_ACTIONS:
        return f"{ref} is refused: {REFUSED_ACTIONS[ref]}."
    runner = action["runner_type"]
    if runner in catalogue.REFUSED_RUNNERS:
        return f"Runner {runner} is refused: {catalogue.REFUSED_RUNNERS[runner]}."
    if values.get("sudo"):
        return f"{ref} is refused: sudo is not available on this server."
    if runner in catalogue.HOST_RUNNERS and ref not in catalogue.NATIVE and not settings.allow_local_runners:
        return (
            f"Runner {runner} runs programs on the server's host, which this server does not allow; "
            "start it with --allow-local-runners (STACKYARD_ALLOW_LOCAL_RUNNERS=1) to run "
            f"{ref}."
        )
    return None


def spec_of(action: Mapping[str, Any]) -> dict[str, Any]:
    return params.merged(
        actions.runner(action["runner_type"])["runner_parameters"], action.get("parameters") or {}
    )


def prepare(
    tx: Tx,
    settings: Settings,
    org_uid: str,
    username: str,
    action: Mapping[str, Any],
    given: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    origin: Origin | None = None,
    delay_ms: int = 0,
    template_context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate and render an execution without writing anything (reads only: it may run in a read
    transaction before the write that `store`s it). Raises BadRequest for anything that cannot run."""
    if not action.get("enabled", True):
        raise BadRequest(f'Action "{action["ref"]}" is disabled.')
    spec = spec_of(action)
    why = refusal(action, {}, settings)
    if why:
        raise BadRequest(why)
    values = params.validate(spec, given)
    why = refusal(action, values, settings)
    if why:
        raise BadRequest(why)
    origin = origin or Origin()
    ctx: dict[str, Any] = {"user": username, "pack": action["pack"], **dict(context or {})}
    if origin.extra_context:
        ctx.update(origin.extra_context)
    tmpl = {"action_context": ctx, **dict(template_context or {})}
    values = render.render(
        values, tmpl, keys.lookup_for(tx, org_uid, username), lambda v: keys.decrypt(settings, v)
    )
    values = {k: params.coerce(spec.get(k, {}), v) for k, v in values.items()}
    execution_id = oid()
    start = iso()
    status = "delayed" if delay_ms > 0 else "requested"
    stored = params.sealed(spec, values, lambda text: keys.encrypt(settings, text))
    doc: dict[str, Any] = {
        "action": dict(action),
        "runner": actions.runner(action["runner_type"]),
        "parameters": stored,
        "context": ctx,
        "liveaction": {"id": execution_id, "action": action["ref"], "parameters": stored, "context": ctx},
        "log": [{"timestamp": start, "status": status}],
        "children": [],
    }
    if delay_ms:
        doc["delay"] = delay_ms
    for k in ("rule", "trigger_instance", "trigger", "trigger_type"):
        value = getattr(origin, k)
        if value is not None:
            doc[k] = value
    if origin.parent:
        doc["parent"] = origin.parent
    return {
        "id": execution_id,
        "org_uid": org_uid,
        "username": username,
        "action": action,
        "values": values,
        "status": status,
        "start": start,
        "doc": doc,
        "origin": origin,
        "delay_ms": delay_ms,
    }


_INSERT = (
    "INSERT INTO st2_executions (id, org_uid, action_ref, status, username, parent, rule_ref, trigger_instance, "
    "start_timestamp, end_timestamp, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def store(tx: Tx, settings: Settings, plan: dict[str, Any], run_now: RunNow | None = None) -> dict[str, Any]:
    """Write a prepared execution. An instant action is run by `run_now` first, so its row is
    written once, finished (`instant` is then true in the answer); others are stored `requested`
    for `schedule`."""
    return store_many(tx, settings, [plan], run_now)[0]


def store_many(
    tx: Tx, settings: Settings, plans: list[dict[str, Any]], run_now: RunNow | None = None
) -> list[dict[str, Any]]:
    """`store` for each plan, the rows written in one statement round."""
    rows: list[dict[str, Any]] = []
    values: list[tuple[Any, ...]] = []
    for plan in plans:
        row, params = _stored_row(tx, settings, plan, run_now)
        rows.append(row)
        values.append(params)
    tx.run_many(_INSERT, values)
    return rows


def _stored_row(
    tx: Tx, settings: Settings, plan: dict[str, Any], run_now: RunNow | None
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    execution_id, org_uid, username, action = (plan[k] for k in ("id", "org_uid", "username", "action"))
    status, start, doc, origin, delay_ms = (plan[k] for k in ("status", "start", "doc", "origin", "delay_ms"))
    # The plan stays as prepared (a batch that failed writes it again, `intake`): the row gets a
    # document and a log of its own.
    doc = {**doc, "log": list(doc["log"])}
    instant = run_now is not None and action["ref"] in catalogue.INSTANT and delay_ms <= 0
    end = None
    outputs: tuple[str, str] = ("", "")
    if instant:
        assert run_now is not None
        status, result, out, err = run_now(tx, settings, plan)
        end = iso()
        doc["log"] += [{"timestamp": start, "status": "running"}, {"timestamp": end, "status": status}]
        doc["result"] = result
        outputs = (out, err)
    params = (
        execution_id,
        org_uid,
        action["ref"],
        status,
        username,
        origin.parent,
        (origin.rule or {}).get("ref"),
        (origin.trigger_instance or {}).get("id"),
        start,
        end,
        jdump(doc),
    )
    row: dict[str, Any] = {
        "id": execution_id,
        "org_uid": org_uid,
        "status": status,
        "start_timestamp": start,
        "end_timestamp": end,
        "doc": doc,
        "instant": instant,
        "outputs": outputs,
    }
    return row, params


def schedule(tx: Tx, row: Row, delay_ms: int = 0) -> Row:
    """Enqueue the job that runs a stored execution (scheduled, or delayed by `delay_ms`)."""
    job_id = jobs.enqueue(
        tx,
        KIND,
        {"id": row["id"]},
        run_at=time.time() + delay_ms / 1000,
        org_uid=row["org_uid"],
        max_attempts=3,
    )
    doc = row["doc"]
    if row["status"] == "requested":
        row["status"] = "scheduled"
        doc["log"].append({"timestamp": iso(), "status": "scheduled"})
    tx.run(
        "UPDATE st2_executions SET status = ?, job_id = ?, doc = ? WHERE id = ?",
        row["status"],
        job_id,
        jdump(doc),
        row["id"],
    )
    publish(tx, row, "st2.execution__create")
    return row


def values_of(settings: Settings, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored execution's parameters as the runner gets them (secret ones decrypted)."""
    return params.opened(doc.get("parameters") or {}, lambda token: keys.decrypt(settings, token))


def rendered(row: Mapping[str, Any]) -> dict[str, Any]:
    """The st2 Execution object of a stored row (secrets masked; falsy fields left out)."""
    doc = row["doc"] if isinstance(row["doc"], dict) else jload(row["doc"])
    out: dict[str, Any] = {"id": row["id"], **doc}
    spec = spec_of(doc["action"])
    out["parameters"] = params.masked(spec, doc.get("parameters") or {})
    out["liveaction"] = {
        **doc.get("liveaction", {}),
        "parameters": out["parameters"],
        "status": row["status"],
    }
    out["status"] = row["status"]
    out["start_timestamp"] = row["start_timestamp"]
    if row.get("end_timestamp"):
        out["end_timestamp"] = row["end_timestamp"]
        out["elapsed_seconds"] = round(parse_iso(row["end_timestamp"]) - parse_iso(row["start_timestamp"]), 6)
    out["web_url"] = ""
    return {k: v for k, v in out.items() if v not in (None, "", [], {}) or k in ("result", "parameters")}


def publish(tx: Tx, row: Mapping[str, Any], name: str = "st2.execution__update") -> None:
    """Stream the execution's state once `tx` commits (rendered only when someone listens)."""
    key = f"st2x:{row['id']}:{name}:{row['status']}"
    if bus.listening(tx):
        snapshot = {**row, "doc": jload(jdump(row["doc"]))} if isinstance(row["doc"], dict) else dict(row)
        bus.publish_after(tx, row["org_uid"], name, lambda: rendered(snapshot), key)
    elif name == "st2.execution__update" and row["status"] in COMPLETED:
        execution_id, status = row["id"], row["status"]
        tx.after_commit(key, lambda: bus.finished(execution_id, status))


def load(tx: Tx, execution_id: str, org_uid: str | None = None, lock: bool = False) -> Row | None:
    where = "id = ?" + (" AND org_uid = ?" if org_uid else "")
    args = [execution_id] + ([org_uid] if org_uid else [])
    suffix = tx.for_update if lock else ""
    row = tx.one(
        f"SELECT id, org_uid, status, start_timestamp, end_timestamp, job_id, doc FROM st2_executions WHERE {where}{suffix}",
        *args,
    )
    if row is not None:
        row["doc"] = jload(row["doc"])
    return row


def get(tx: Tx, p: Principal, execution_id: str) -> Row:
    if execution_id == "last":
        found = tx.scalar(
            "SELECT id FROM st2_executions WHERE org_uid = ? ORDER BY start_timestamp DESC, id DESC LIMIT 1",
            p.org_uid,
        )
        if found is None:
            raise not_found("Execution", execution_id)
        execution_id = str(found)
    row = load(tx, execution_id, p.org_uid)
    if row is None:
        raise not_found("ActionExecution", execution_id)
    return row


_FILTERS = {
    "action": "action_ref",
    "status": "status",
    "user": "username",
    "trigger_instance": "trigger_instance",
    "rule": "rule_ref",
}


def list_(
    tx: Tx, p: Principal, query: Mapping[str, str], offset: int, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    where, args = ["org_uid = ?"], [p.org_uid]
    for name, column in _FILTERS.items():
        value = query.get(name)
        if value:
            values = [v for v in value.split(",") if v]
            where.append(f"{column} IN ({', '.join('?' for _ in values)})")
            args += values
    parent = query.get("parent")
    if parent == "null":
        where.append("parent IS NULL")
    elif parent:
        where.append("parent = ?")
        args.append(parent)
    if query.get("id"):
        ids = query["id"].split(",")[:100]
        where.append(f"id IN ({', '.join('?' for _ in ids)})")
        args += ids
    for name, op in (("timestamp_gt", ">"), ("timestamp_lt", "<")):
        if query.get(name):
            where.append(f"start_timestamp {op} ?")
            args.append(iso(parse_iso(query[name])))
    order = "ASC" if as_bool(query.get("sort_asc")) else "DESC"
    clause = " AND ".join(where)
    lasting = not any(query.get(k) for k in ("status", "id", "timestamp_gt", "timestamp_lt"))
    key = (clause, *args) if lasting else None
    total = totals.executions(tx, clause, args, key)
    page = f" LIMIT {int(limit)}" if limit is not None else (" LIMIT -1" if tx.dialect == "sqlite" else "")
    rows = tx.all(
        f"SELECT id, org_uid, status, start_timestamp, end_timestamp, doc FROM st2_executions WHERE {clause} "
        f"ORDER BY start_timestamp {order}, id {order}{page} OFFSET {int(offset)}",
        *args,
    )
    return [rendered(r) for r in rows], total


def children(tx: Tx, p: Principal, execution_id: str, depth: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    frontier, level = [get(tx, p, execution_id)["id"]], 0
    while frontier and (depth < 0 or level < depth):
        rows = tx.all(
            f"SELECT id, org_uid, status, start_timestamp, end_timestamp, doc FROM st2_executions WHERE org_uid = ? AND parent IN ({', '.join('?' for _ in frontier)}) ORDER BY start_timestamp",
            p.org_uid,
            *frontier,
        )
        out += [rendered(r) for r in rows]
        frontier, level = [r["id"] for r in rows], level + 1
    return out


def set_status(tx: Tx, row: Row, status: str, **fields: Any) -> Row:
    """Write a new status (and result fields) into a loaded row, log it, publish the update."""
    doc = row["doc"]
    doc["log"].append({"timestamp": iso(), "status": status})
    doc.update(fields)
    end = iso() if status in COMPLETED else None
    tx.run(
        "UPDATE st2_executions SET status = ?, end_timestamp = COALESCE(?, end_timestamp), doc = ? WHERE id = ?",
        status,
        end,
        jdump(doc),
        row["id"],
    )
    row["status"] = status
    if end:
        row["end_timestamp"] = end
    publish(tx, row)
    return row


def cancel(tx: Tx, p: Principal, execution_id: str) -> dict[str, Any]:
    """st2's DELETE: cancel a queued execution now, ask a running one to stop (canceling)."""
    p.require_admin()
    row = get(tx, p, execution_id)
    row = load(tx, row["id"], p.org_uid, lock=True) or row
    status = row["status"]
    if status == "canceled":
        return rendered(row)
    if status in COMPLETED:
        return {"faultstring": f"Action cannot be canceled. State = {status}."}
    if status in ("requested", "scheduled", "delayed"):
        job_id = tx.scalar("SELECT job_id FROM st2_executions WHERE id = ?", row["id"])
        if job_id is not None:
            jobs.cancel(tx, int(job_id))
        set_status(tx, row, "canceled", result={})
    else:
        set_status(tx, row, "canceling")
    return rendered(row)


def rerun_request(
    tx: Tx, settings: Settings, p: Principal, execution_id: str, body: Mapping[str, Any]
) -> dict[str, Any]:
    """What a re-run starts: the old execution's action and parameters, overridden by `body`."""
    p.require_admin()
    old = get(tx, p, execution_id)
    if body.get("tasks"):
        raise BadRequest("Only orquesta workflows can be re-run from given tasks; this is not one.")
    action = actions.get(tx, p, old["doc"]["action"]["ref"])
    overrides = body.get("parameters") or {}
    if not isinstance(overrides, dict):
        raise BadRequest("parameters must be an object.")
    spec = spec_of(action)
    previous = {
        k: v for k, v in values_of(settings, old["doc"]).items() if k in spec and not spec[k].get("immutable")
    }
    delay = body.get("delay") or 0
    if not isinstance(delay, int) or delay < 0:
        raise BadRequest("delay must be a non-negative integer (milliseconds).")
    return {
        "action": action,
        "parameters": {**previous, **overrides},
        "context": {"re-run": {"ref": old["id"]}},
        "delay": delay,
    }


def output(tx: Tx, p: Principal, execution_id: str, output_type: str | None) -> str:
    row = get(tx, p, execution_id)
    where, args = "execution_id = ?", [row["id"]]
    if output_type and output_type != "all":
        where, args = where + " AND output_type = ?", [*args, output_type]
    return "".join(
        r["data"] for r in tx.all(f"SELECT data FROM st2_output WHERE {where} ORDER BY seq", *args)
    )
