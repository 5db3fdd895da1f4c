"""The `action-chain` runner: a YAML entry point names steps, each an action run as a child
execution (`parent` = the chain's execution, `context.chain.name` = the step), one after another:

    chain:
      - name: first
        ref: core.echo
        parameters: {message: "{{ who }}"}
        on-success: second          # the next step; on-failure names the one after a failure
      - name: second
        ref: core.local
        parameters: {cmd: "echo {{ first.stdout }}"}
    default: first                  # the first step (default: the first listed)

Step parameters are rendered with the chain's parameters and each finished step's result by name.
The chain succeeds when its last step succeeded; it stops at the first failure without an
`on-failure`, and when it is cancelled (the running child is cancelled too).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import yaml

from stackyard.automation import actions, executions, instant, packs
from stackyard.automation.executions import Origin
from stackyard.errors import APIError
from stackyard.settings import Settings
from stackyard.store.engine import Database, Row, jdump

MAX_STEPS = 100


def _load(settings: Settings, row: Row) -> tuple[list[dict[str, Any]], str]:
    spec = yaml.safe_load(packs.entry_point(settings, row).read_text(encoding="utf-8")) or {}
    steps = spec.get("chain") if isinstance(spec, dict) else None
    if (
        not isinstance(steps, list)
        or not steps
        or not all(isinstance(s, dict) and s.get("name") and s.get("ref") for s in steps)
    ):
        raise ValueError("an action chain needs `chain:` a list of steps, each with a name and a ref")
    return steps, str(spec.get("default") or steps[0]["name"])


def run(
    db: Database, settings: Settings, row: Row, should_stop: Callable[[], bool]
) -> tuple[str, Any, str, str]:
    steps, current = _load(settings, row)
    by_name = {s["name"]: s for s in steps}
    org_uid, doc = row["org_uid"], row["doc"]
    username = doc["context"].get("user", "stackyard")
    context: dict[str, Any] = executions.values_of(settings, doc)
    tasks: list[dict[str, Any]] = []
    status = "succeeded"
    for _ in range(MAX_STEPS):
        step = by_name.get(current)
        if step is None:
            return "failed", {"tasks": tasks, "error": f'The chain has no step named "{current}".'}, "", ""
        child_id, child_status, result = _step(
            db, settings, org_uid, username, row["id"], step, context, should_stop
        )
        tasks.append(
            {"name": step["name"], "execution_id": child_id, "state": child_status, "result": result}
        )
        context[step["name"]] = result
        if child_status == "canceled" or should_stop():
            return "canceled", {"tasks": tasks}, "", ""
        nxt = step.get("on-success") if child_status == "succeeded" else step.get("on-failure")
        status = "succeeded" if child_status == "succeeded" else "failed"
        if not nxt:
            break
        current = str(nxt)
    return status, {"tasks": tasks, "published": {}}, "", ""


def _step(
    db: Database,
    settings: Settings,
    org_uid: str,
    username: str,
    parent: str,
    step: dict[str, Any],
    context: dict[str, Any],
    should_stop: Callable[[], bool],
) -> tuple[str | None, str, Any]:
    with db.write() as tx:
        action = actions.find(tx, org_uid, str(step["ref"]))
        if action is None:
            return None, "failed", {"error": f'Action "{step["ref"]}" is not found.'}
        try:
            plan = executions.prepare(
                tx,
                settings,
                org_uid,
                username,
                action,
                step.get("parameters") or {},
                context={"parent": {"execution_id": parent}, "chain": {"name": step["name"]}},
                origin=Origin(parent=parent),
                template_context=context,
            )
        except APIError as e:
            return None, "failed", {"error": e.error_message}
        child = executions.store(tx, settings, plan, instant.instant_result)
        if child.pop("instant"):
            instant.after_instant(tx, child)
        else:
            child.pop("outputs", None)
            executions.schedule(tx, child)
        parent_row = executions.load(tx, parent, lock=True)
        if parent_row is not None:
            parent_row["doc"]["children"] = [*parent_row["doc"].get("children", []), child["id"]]
            tx.run("UPDATE st2_executions SET doc = ? WHERE id = ?", jdump(parent_row["doc"]), parent)
    while True:
        with db.read() as tx:
            found = executions.load(tx, child["id"])
        if found is not None and found["status"] in executions.COMPLETED:
            return child["id"], found["status"], found["doc"].get("result")
        if should_stop():
            with db.write() as tx:
                current = executions.load(tx, child["id"], lock=True)
                if current is not None and current["status"] not in executions.COMPLETED:
                    executions.set_status(tx, current, "canceling")
        time.sleep(0.05)
