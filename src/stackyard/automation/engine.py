"""The rules engine: a trigger instance is recorded, every enabled rule on its trigger is matched
against the payload, and each match is a rule enforcement and an execution, linked by a trace
(trigger instance -> enforcement -> execution), all in the transaction that records the instance.

Triggers come from webhooks (`webhook`), timers (`fire_timer`, the `automation.timer` job), the
actions core.inject_trigger and execution completions (the `automation.trigger` job), and every
content event of the spine (`ContentTriggers`, a consumer with a durable cursor: an event is
dispatched exactly once, in the transaction that moves the cursor, across restarts and processes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stackyard.automation import (
    actions,
    catalogue,
    criteria,
    executions,
    launch,
    render,
    rules,
    timers,
    triggers,
)
from stackyard.automation.common import iso, oid
from stackyard.automation.executions import Origin
from stackyard.core import events
from stackyard.core.job_runner import handler
from stackyard.core.jobs import Job
from stackyard.errors import APIError, NotFound
from stackyard.settings import Settings
from stackyard.store.engine import Database, NeedsThread, Row, Tx, in_reads_only, jdump, jload

log = logging.getLogger("stackyard.automation")
TRIGGER_KIND = "automation.trigger"
CONSUMER = "automation-content-triggers"
_SETTINGS: dict[str, Settings] = {}


def configure(db: Database, settings: Settings) -> None:
    _SETTINGS[db.url] = settings


def _settings(db: Database) -> Settings:
    return _SETTINGS.get(db.url) or Settings()


def _rendered_criteria(spec: Mapping[str, Any], payload: Any) -> dict[str, Any]:
    return render.render(spec, {"trigger": payload})


@dataclass
class Plan:
    """What a trigger instance will do, decided with reads only (`prepare`), written by `commit`."""

    org_uid: str
    trigger: Mapping[str, Any]
    payload: Any
    trace_tag: str | None
    instance: dict[str, Any]
    # (rule, prepared execution or None, failure reason or None), for each rule whose criteria hold
    enforced: list[tuple[dict[str, Any], dict[str, Any] | None, str | None]] = field(default_factory=list)
    # a trigger type named by `generic` that has no trigger yet: its trigger is made by the write
    new_trigger_type: str | None = None


def prepare(
    tx: Tx,
    settings: Settings,
    org_uid: str,
    trigger: Mapping[str, Any],
    payload: Any,
    trace_tag: str | None = None,
    listening: list[dict[str, Any]] | None = None,
) -> Plan:
    """Match the rules listening to `trigger` (`listening`, when the caller read them already) and
    prepare their executions, reading only (so a webhook does this before it takes the writer)."""
    plan = Plan(org_uid, trigger, payload, trace_tag, {"id": oid(), "occurrence_time": iso()})
    instance = plan.instance
    if listening is None:
        listening = rules.listening(tx, org_uid, trigger["ref"])
    for rule in listening:
        try:
            if not criteria.matches(_rendered_criteria(rule["criteria"], payload), payload):
                continue
        except APIError as e:
            log.warning("rule %s: criteria failed to evaluate: %s", rule["ref"], e.error_message)
            continue
        action = actions.find(tx, org_uid, rule["action"]["ref"])
        try:
            if action is None:
                raise NotFound(f'Action "{rule["action"]["ref"]}" is not found.')
            username = rule.get("context", {}).get("user") or "stackyard"
            origin = Origin(
                rule={"ref": rule["ref"], "id": rule["id"], "name": rule["name"], "pack": rule["pack"]},
                trigger_instance=dict(instance),
                trigger={"ref": trigger["ref"], "type": trigger["type"]},
                trigger_type={"ref": trigger["type"]},
                extra_context={
                    "rule": {"ref": rule["ref"], "id": rule["id"]},
                    "trigger_instance": {"id": instance["id"]},
                    **({"trace_context": {"trace_tag": trace_tag}} if trace_tag else {}),
                },
            )
            prepared = executions.prepare(
                tx,
                settings,
                org_uid,
                username,
                action,
                rule["action"]["parameters"],
                origin=origin,
                template_context={"trigger": payload},
            )
            plan.enforced.append((rule, prepared, None))
        except APIError as e:
            plan.enforced.append((rule, None, e.error_message))
    return plan


def commit(tx: Tx, settings: Settings, plan: Plan) -> dict[str, Any]:
    """Write a prepared trigger instance: the instance, each enforcement and its execution, a trace."""
    return commit_many(tx, settings, [plan])[0]


_ENFORCEMENT = (
    "INSERT INTO st2_enforcements (id, org_uid, rule_ref, rule_id, trigger_instance_id, execution_id, "
    "status, failure_reason, enforced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TRACE = "INSERT INTO st2_traces (id, org_uid, trace_tag, start_timestamp, doc) VALUES (?, ?, ?, ?, ?)"


def commit_many(tx: Tx, settings: Settings, plans: list[Plan]) -> list[dict[str, Any]]:
    """Write prepared trigger instances (`commit` for each), every table's rows in one statement
    round: the instances, then the executions (each run or scheduled once its row exists), then
    the enforcements and the traces. Answers the recorded instances, in order."""
    for p in plans:
        if p.new_trigger_type is not None:
            triggers.ensure(tx, p.org_uid, p.new_trigger_type, {})
    tx.run_many(
        triggers.NEW_INSTANCE,
        [
            triggers.instance_params(
                p.org_uid, p.trigger["ref"], p.payload, p.instance["id"], p.instance["occurrence_time"]
            )
            for p in plans
        ],
    )
    wanted = [prepared for p in plans for _, prepared, _ in p.enforced if prepared is not None]
    started = iter(launch.store_many(tx, settings, wanted))
    enforcements: list[tuple[Any, ...]] = []
    traces: list[tuple[Any, ...]] = []
    for plan in plans:
        org_uid, trigger, instance = plan.org_uid, plan.trigger, plan.instance
        enforced: list[dict[str, Any]] = []
        ran: list[dict[str, Any]] = []
        for rule, prepared, failure in plan.enforced:
            execution_id = None
            if prepared is not None:
                row = next(started)
                execution_id = row["id"]
                cause = {"id": f"{rule['id']}:{instance['id']}", "type": "rule"}
                ran.append(
                    {
                        "object_id": execution_id,
                        "ref": row["doc"]["action"]["ref"],
                        "updated_at": iso(),
                        "caused_by": cause,
                    }
                )
            status = "failed" if failure else "succeeded"
            enforcements.append(
                (
                    oid(),
                    org_uid,
                    rule["ref"],
                    rule["id"],
                    instance["id"],
                    execution_id,
                    status,
                    failure,
                    iso(),
                )
            )
            cause = {"id": instance["id"], "type": "trigger_instance"}
            enforced.append(
                {"object_id": rule["id"], "ref": rule["ref"], "updated_at": iso(), "caused_by": cause}
            )
        if enforced or plan.trace_tag:
            tag = plan.trace_tag or f"trigger-{trigger['ref']}-{instance['id']}"
            first = {
                "object_id": instance["id"],
                "ref": trigger["ref"],
                "updated_at": instance["occurrence_time"],
                "caused_by": {},
            }
            doc = {
                "trace_tag": tag,
                "trigger_instances": [first],
                "rules": enforced,
                "action_executions": ran,
            }
            traces.append((oid(), org_uid, tag, instance["occurrence_time"], jdump(doc)))
    tx.run_many(_ENFORCEMENT, enforcements)
    tx.run_many(_TRACE, traces)
    return [{**p.instance, "trigger": p.trigger["ref"], "payload": p.payload} for p in plans]


def dispatch(
    tx: Tx,
    settings: Settings,
    org_uid: str,
    trigger: Mapping[str, Any],
    payload: Any,
    *,
    trace_tag: str | None = None,
    listening: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record a trigger instance and enforce the rules listening to it (`listening`, when the
    caller read them already), in one write transaction."""
    return commit(tx, settings, prepare(tx, settings, org_uid, trigger, payload, trace_tag, listening))


def _quick(rule: Mapping[str, Any]) -> bool:
    """Is preparing this rule's execution quick whatever the payload: a core action, no template in
    its criteria or parameters, no regular expression in its criteria?"""
    return (
        rule["action"]["ref"] in catalogue.CORE_ACTIONS
        and criteria.bounded(rule["criteria"])
        and not render.templated(rule["criteria"])
        and not render.templated(rule["action"]["parameters"])
    )


WEBHOOK_STRIPPED = {"x-auth-token", "st2-api-key", "cookie", "authorization"}


def webhook_plan(
    tx: Tx, settings: Settings, org_uid: str, url: str, headers: Mapping[str, str], body: Any
) -> Plan | None:
    """A POST to /webhooks/<url>, prepared (reads only); None when no rule registered that URL."""
    found = rules.for_webhook(tx, org_uid, url)
    if found is None:
        return None
    trigger, listening = found
    kept = {k: v for k, v in headers.items() if k.lower() not in WEBHOOK_STRIPPED}
    payload = {"headers": kept, "headers_lower": {k.lower(): v for k, v in kept.items()}, "body": body}
    trace_tag = headers.get("st2-trace-tag") or None
    return _prepare_inline(tx, settings, org_uid, trigger, payload, trace_tag, listening)


def _prepare_inline(
    tx: Tx,
    settings: Settings,
    org_uid: str,
    trigger: Mapping[str, Any],
    payload: Any,
    trace_tag: str | None,
    listening: list[dict[str, Any]],
) -> Plan:
    """`prepare`, refusing to run on the event loop (`NeedsThread`) what may take long there."""
    if in_reads_only() and not all(_quick(rule) for rule in listening):
        raise NeedsThread  # a rule's templates or regular expressions never run on the event loop
    return prepare(tx, settings, org_uid, trigger, payload, trace_tag, listening)


def generic_plan(
    tx: Tx, settings: Settings, org_uid: str, trigger_ref: str, payload: Any, trace_tag: str | None = None
) -> Plan:
    """A trigger named by ref (a trigger, or a trigger type: its trigger without parameters, made
    by the write when it is new), prepared with reads only, as `webhook_plan` is."""
    row = tx.one("SELECT id, doc FROM st2_triggers WHERE org_uid = ? AND ref = ?", org_uid, trigger_ref)
    new_type = None
    if row is not None:
        trigger: dict[str, Any] = {**jload(row["doc"]), "id": row["id"]}
    elif triggers.find_type(tx, org_uid, trigger_ref) is not None:
        trigger, new_type = triggers.unsaved(trigger_ref), trigger_ref
    else:
        raise NotFound(f'Trigger "{trigger_ref}" is not found.', error_code=116)
    listening = rules.listening(tx, org_uid, trigger["ref"])
    plan = _prepare_inline(tx, settings, org_uid, trigger, payload, trace_tag, listening)
    plan.new_trigger_type = new_type
    return plan


def generic(
    tx: Tx, settings: Settings, org_uid: str, trigger_ref: str, payload: Any, trace_tag: str | None = None
) -> dict[str, Any]:
    """A trigger named by ref (a trigger or its type) recorded in `tx`: core.inject_trigger's job
    and a trigger instance's re-emit (`POST /webhooks/st2` prepares with `generic_plan` and records
    through `automation.intake`)."""
    return commit(tx, settings, generic_plan(tx, settings, org_uid, trigger_ref, payload, trace_tag))


@handler(TRIGGER_KIND)
def run_trigger(db: Database, job: Job) -> None:
    p = job.payload
    with db.write() as tx:
        try:
            generic(tx, _settings(db), p["org_uid"], p["trigger"], p.get("payload") or {}, p.get("trace_tag"))
        except NotFound as e:
            log.warning("trigger job %s: %s", job.id, e.error_message)


@handler(timers.KIND)
def fire_timer(db: Database, job: Job) -> None:
    p = job.payload
    early = float(p["due"]) - time.time()  # its job is due a little ahead (timers.LEAD_SECONDS)
    if early > 0:
        time.sleep(min(early, timers.LEAD_SECONDS))
    with db.write() as tx:
        row = tx.one(
            "SELECT id, doc FROM st2_triggers WHERE id = ? AND org_uid = ?", p["trigger_id"], p["org_uid"]
        )
        if row is None:
            return
        trigger = {**jload(row["doc"]), "id": row["id"]}
        listening = rules.listening(tx, p["org_uid"], trigger["ref"])
        if not listening:
            return  # no enabled rule uses it any more: the chain ends
        payload = {
            "executed_at": iso(time.time()),
            "schedule": trigger["parameters"],
            "due_at": iso(p["due"]),
        }
        dispatch(tx, _settings(db), p["org_uid"], trigger, payload, listening=listening)
        timers.schedule_next(tx, p["org_uid"], trigger, previous=float(p["due"]))


def content_payload(event: Row) -> dict[str, Any]:
    e = events.render(event)
    return {
        "api_key": e.get("api_key"),
        "branch": e.get("branch"),
        "type": e.get("type"),
        "module": e.get("module"),
        "uid": e.get("object_uid") or e.get("uid"),
        "locale": e.get("locale"),
        "seq": e.get("seq"),
        "data": e.get("data") or {},
        "content_type": e.get("content_type_uid"),
        "environment": e.get("environment"),
        "version": e.get("version"),
    }


def content_events(settings: Settings) -> Any:
    """The handler of the content-triggers consumer: each event -> trigger `stackyard.<type>` of its
    organization, when a rule listens to it (otherwise nothing is recorded)."""

    def handle(tx: Tx, batch: list[Row]) -> None:
        for event in batch:
            org_uid = event.get("org_uid")
            if not org_uid:
                continue
            ref = f"stackyard.{event['type']}"
            if not tx.scalar(
                "SELECT 1 FROM st2_rules WHERE org_uid = ? AND trigger_ref = ? AND enabled = 1 LIMIT 1",
                org_uid,
                ref,
            ):
                continue
            trigger = triggers.ensure(tx, org_uid, ref, {})
            dispatch(tx, settings, org_uid, trigger, content_payload(event))

    return handle


def enforcements(
    tx: Tx, org_uid: str, query: Mapping[str, str], offset: int, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    where, args = ["org_uid = ?"], [org_uid]
    for name, column in (
        ("trigger_instance", "trigger_instance_id"),
        ("execution", "execution_id"),
        ("rule_ref", "rule_ref"),
        ("rule_id", "rule_id"),
    ):
        if query.get(name):
            where.append(f"{column} = ?")
            args.append(query[name])
    clause = " AND ".join(where)
    total = int(tx.scalar(f"SELECT COUNT(*) FROM st2_enforcements WHERE {clause}", *args))
    page = f" LIMIT {int(limit)}" if limit is not None else (" LIMIT -1" if tx.dialect == "sqlite" else "")
    rows = tx.all(
        f"SELECT * FROM st2_enforcements WHERE {clause} ORDER BY enforced_at DESC, id DESC{page} OFFSET {int(offset)}",
        *args,
    )
    return [_enforcement(r) for r in rows], total


def _enforcement(r: Row) -> dict[str, Any]:
    out = {
        "id": r["id"],
        "trigger_instance_id": r["trigger_instance_id"],
        "execution_id": r["execution_id"],
        "failure_reason": r["failure_reason"],
        "rule": {
            "ref": r["rule_ref"],
            "id": r["rule_id"],
            "uid": "rule:" + r["rule_ref"].replace(".", ":", 1),
        },
        "enforced_at": r["enforced_at"],
        "status": r["status"],
    }
    return {k: v for k, v in out.items() if v}


def enforcement(tx: Tx, org_uid: str, enforcement_id: str) -> dict[str, Any]:
    r = tx.one("SELECT * FROM st2_enforcements WHERE org_uid = ? AND id = ?", org_uid, enforcement_id)
    if r is None:
        raise NotFound(f'RuleEnforcement "{enforcement_id}" is not found.', error_code=116)
    return _enforcement(r)


def traces(
    tx: Tx, org_uid: str, query: Mapping[str, str], offset: int, limit: int | None
) -> tuple[list[dict[str, Any]], int]:
    where, args = ["org_uid = ?"], [org_uid]
    if query.get("trace_tag"):
        where.append("trace_tag = ?")
        args.append(query["trace_tag"])
    clause = " AND ".join(where)
    total = int(tx.scalar(f"SELECT COUNT(*) FROM st2_traces WHERE {clause}", *args))
    order = "ASC" if str(query.get("sort_asc")) == "True" else "DESC"
    page = f" LIMIT {int(limit)}" if limit is not None else (" LIMIT -1" if tx.dialect == "sqlite" else "")
    rows = tx.all(
        f"SELECT * FROM st2_traces WHERE {clause} ORDER BY start_timestamp {order}{page} OFFSET {int(offset)}",
        *args,
    )
    return [_trace(r) for r in rows], total


def _trace(r: Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "uid": f"trace:{r['id']}",
        "start_timestamp": r["start_timestamp"],
        **jload(r["doc"]),
    }


def trace(tx: Tx, org_uid: str, trace_id: str) -> dict[str, Any]:
    r = tx.one("SELECT * FROM st2_traces WHERE org_uid = ? AND id = ?", org_uid, trace_id)
    if r is None:
        raise NotFound(f'Trace "{trace_id}" is not found.', error_code=116)
    return _trace(r)
