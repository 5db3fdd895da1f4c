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
    row = executions.store(tx, settings, plan, instant.instant_result)
    delay_ms = plan["delay_ms"]
    if row.pop("instant"):
        return instant.after_instant(tx, row)
    row.pop("outputs", None)
    return executions.schedule(tx, row, delay_ms)
