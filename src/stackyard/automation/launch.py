"""Starting an execution, whatever asked for it (`st2 run`, a rule, a re-run): store it, then run it
at once when it is instant or enqueue its job (see `executions`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackyard.automation import executions, instant
from stackyard.automation.executions import Origin
from stackyard.settings import Settings
from stackyard.store.engine import Row, Tx


def start(
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
) -> Row:
    plan = executions.prepare(
        tx,
        settings,
        org_uid,
        username,
        action,
        given,
        context=context,
        origin=origin,
        delay_ms=delay_ms,
        template_context=template_context,
    )
    return store(tx, settings, plan)


def store(tx: Tx, settings: Settings, plan: dict[str, Any]) -> Row:
    """Write an execution `executions.prepare` made, and run or schedule it."""
    return store_many(tx, settings, [plan])[0]


def store_many(tx: Tx, settings: Settings, plans: list[dict[str, Any]]) -> list[Row]:
    """`store` for each plan: the rows written together, then each run or scheduled."""
    rows = executions.store_many(tx, settings, plans, instant.instant_result)
    out: list[Row] = []
    for plan, row in zip(plans, rows, strict=True):
        if row.pop("instant"):
            out.append(instant.after_instant(tx, row))
        else:
            row.pop("outputs", None)
            out.append(executions.schedule(tx, row, plan["delay_ms"]))
    return out
