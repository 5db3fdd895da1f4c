"""Instant executions: native core actions run inside the transaction that creates them
(`instant_result`), and what follows any finished execution (`finish`: output, stream events,
`core.st2.generic.actiontrigger`)."""

from __future__ import annotations

import uuid
from typing import Any

from stackyard.automation import bus, catalogue, executions, keys, output, packs, rules
from stackyard.core import jobs
from stackyard.errors import APIError
from stackyard.identity import mail
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx

TRIGGER_KIND = "automation.trigger"


def shell_result(stdout: str, stderr: str, code: int) -> dict[str, Any]:
    return {
        "failed": code != 0,
        "succeeded": code == 0,
        "return_code": code,
        "stdout": stdout.rstrip("\n"),
        "stderr": stderr.rstrip("\n"),
    }


def _output(tx: Tx, row: Row, stdout: str, stderr: str) -> None:
    output.write(tx, row, "stdout", stdout)
    output.write(tx, row, "stderr", stderr)


def finish(tx: Tx, row: Row, status: str, result: Any, stdout: str = "", stderr: str = "") -> Row:
    _output(tx, row, stdout, stderr)
    executions.set_status(tx, row, status, result=result)
    _action_trigger(tx, row)
    return row


def _action_trigger(tx: Tx, row: Row) -> None:
    """`core.st2.generic.actiontrigger`, only when an enabled rule of the organization listens to it
    (looked up once per transaction and organization: a batch of webhooks finishes many)."""
    known = tx.state.setdefault(rules.ACTION_TRIGGER_KNOWN, {})
    wanted = known.get(row["org_uid"])
    if wanted is None:
        wanted = known[row["org_uid"]] = bool(
            tx.scalar(
                "SELECT 1 FROM st2_rules WHERE org_uid = ? AND trigger_type = ? AND enabled = 1 LIMIT 1",
                row["org_uid"],
                catalogue.ACTION_TRIGGER,
            )
        )
    if not wanted or row["doc"].get("context", {}).get("actiontrigger_depth", 0) >= 5:
        return
    doc = row["doc"]
    payload = {
        "execution_id": row["id"],
        "status": row["status"],
        "start_timestamp": row["start_timestamp"],
        "action_name": doc["action"]["name"],
        "action_ref": doc["action"]["ref"],
        "runner_ref": doc["action"]["runner_type"],
        "parameters": executions.rendered(row)["parameters"],
        "result": doc.get("result"),
    }
    jobs.enqueue(
        tx,
        TRIGGER_KIND,
        {"org_uid": row["org_uid"], "trigger": catalogue.ACTION_TRIGGER, "payload": payload},
        org_uid=row["org_uid"],
    )


def instant_result(tx: Tx, settings: Settings, plan: dict[str, Any]) -> tuple[str, Any, str, str]:
    """Run a native instant action (catalogue.INSTANT) of a prepared execution in the creating
    transaction: (status, result, stdout, stderr). Its effects (a mail, a key, a trigger, a pack)
    commit with the execution."""
    org_uid, execution_id, values = plan["org_uid"], plan["id"], plan["values"]
    ref = plan["action"]["ref"]
    if ref == "core.noop":
        return "succeeded", shell_result("", "", 0), "", ""
    if ref == "core.echo":
        message = str(values.get("message", ""))
        return "succeeded", shell_result(message, "", 0), message + "\n", ""
    if ref == "core.error":
        message = str(values.get("message", ""))
        return "failed", shell_result("", message, 1), "", message + "\n"
    if ref == "st2.kv.set":
        keys.set_system(tx, org_uid, str(values["key"]), str(values["value"]), values.get("ttl"))
        return "succeeded", {"result": {"key": values["key"], "value": values["value"]}}, "", ""
    if ref == "core.uuid":
        made = uuid.uuid1() if values.get("uuid_type") == "uuid1" else uuid.uuid4()
        return "succeeded", {"result": str(made)}, "", ""
    if ref == "core.sendmail":
        to = str(values["to"])
        mail_uid = mail.queue(tx, to, str(values["subject"]), str(values["body"]))
        return "succeeded", {"result": {"outbox_uid": mail_uid, "to": to}, **shell_result("", "", 0)}, "", ""
    if ref == "core.announcement":
        route = str(values.get("route") or "general")
        event = {"message": values.get("message")}
        bus.publish_after(tx, org_uid, f"st2.announcement__{route}", event, f"ann:{execution_id}")
        return "succeeded", {}, "", ""
    if ref == "core.inject_trigger":
        payload = values.get("payload") or {}
        job = {
            "org_uid": org_uid,
            "trigger": values.get("trigger") or values.get("trigger_name"),
            "payload": payload,
            "trace_tag": values.get("trace_tag"),
        }
        jobs.enqueue(tx, TRIGGER_KIND, job, org_uid=org_uid)
        return "succeeded", {"result": None}, "", ""
    if ref == "packs.install":
        try:
            output = packs.install_local(tx, packs.acting(tx, org_uid, plan["username"]), settings, values)
        except APIError as e:
            return "failed", {"error": e.error_message, "output": None}, "", e.error_message + "\n"
        return "succeeded", {"output": output}, output["message"] + "\n", ""
    return "failed", {"error": f"{ref} is not an instant action."}, "", ""


def after_instant(tx: Tx, row: Row) -> Row:
    """What follows an instant execution written finished: its output, its stream events, the
    action trigger."""
    out, err = row.pop("outputs", ("", ""))
    _output(tx, row, out, err)
    executions.publish(tx, row, "st2.execution__create")
    executions.publish(tx, row)
    _action_trigger(tx, row)
    return row
