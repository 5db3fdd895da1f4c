"""Timers (`core.st2.IntervalTimer`, `DateTimer`, `CronTimer`): each trigger's firings are a chain of
`automation.timer` jobs, one per firing, keyed `timer:<trigger id>:<due time>`. The job key makes
each firing unique across processes (two processes scheduling the same next firing enqueue one
job), and a job runs in one process at a time (its lease), so every tick fires once. The handler
(`engine.fire_timer`) emits the trigger instance and enqueues the next firing; a chain ends when
no enabled rule uses its trigger any more. Times are computed from the previous due time, not from
when the job happened to run, so lateness does not accumulate. A firing's job is due `LEAD_SECONDS`
ahead of the firing and its handler waits out the rest, so claiming it costs the firing no time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stackyard.automation.common import parse_iso
from stackyard.core import jobs
from stackyard.errors import BadRequest
from stackyard.store.engine import Tx

KIND = "automation.timer"
WAKE_MARGIN_SECONDS = 0.003
# A firing's job is due this much before the firing: the claim (a transaction, a hand-over to a
# runner thread) happens ahead of time, and the handler waits out the rest (`engine.fire_timer`),
# so the trigger instance is made at the due time rather than a claim's latency after it.
LEAD_SECONDS = 0.05
_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}
_CRON = ("year", "month", "day", "hour", "minute", "second")
_DOW = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _field_values(name: str, spec: Any) -> set[int] | None:
    """The allowed values of one cron field, None for any."""
    if spec is None or spec == "*":
        return None
    out: set[int] = set()
    low, high = {
        "year": (1970, 2199),
        "month": (1, 12),
        "day": (1, 31),
        "hour": (0, 23),
        "minute": (0, 59),
        "second": (0, 59),
        "day_of_week": (0, 6),
    }[name]
    for part in str(spec).split(","):
        part = part.strip().lower()
        step = 1
        if "/" in part:
            part, raw_step = part.split("/", 1)
            step = int(raw_step)
        if part in ("*", ""):
            a, b = low, high
        elif "-" in part:
            x, y = part.split("-", 1)
            a, b = (_DOW.index(x) if x in _DOW else int(x)), (_DOW.index(y) if y in _DOW else int(y))
        else:
            a = b = _DOW.index(part) if part in _DOW else int(part)
        if a < low or b > high or step < 1:
            raise ValueError(name)
        out.update(range(a, b + 1, step))
    return out


def check_cron(parameters: Mapping[str, Any]) -> dict[str, set[int] | None]:
    fields: dict[str, set[int] | None] = {}
    try:
        given = [f for f in _CRON if parameters.get(f) is not None]
        least = max((_CRON.index(f) for f in given), default=-1)
        for i, name in enumerate(_CRON):
            spec = parameters.get(name)
            if spec is None and i > least:
                spec = 1 if name in ("month", "day") else 0  # below the least significant given: its minimum
            fields[name] = _field_values(name, spec)
        fields["day_of_week"] = _field_values("day_of_week", parameters.get("day_of_week"))
    except (ValueError, TypeError):
        raise BadRequest(f"Invalid cron timer parameters: {dict(parameters)}") from None
    return fields


def _zone(parameters: Mapping[str, Any]) -> Any:
    name = parameters.get("timezone") or "UTC"
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f'Unknown timezone "{name}".') from None


def next_cron(parameters: Mapping[str, Any], after: float) -> float | None:
    fields = check_cron(parameters)
    t = datetime.fromtimestamp(int(after) + 1, _zone(parameters))
    for _ in range(200_000):
        if fields["year"] is not None and t.year not in fields["year"]:
            if t.year > max(fields["year"]):
                return None
            t = t.replace(year=t.year + 1, month=1, day=1, hour=0, minute=0, second=0)
            continue
        if fields["month"] is not None and t.month not in fields["month"]:
            t = (t.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(day=1)
            continue
        if (fields["day"] is not None and t.day not in fields["day"]) or (
            fields["day_of_week"] is not None and t.weekday() not in fields["day_of_week"]
        ):
            t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            continue
        if fields["hour"] is not None and t.hour not in fields["hour"]:
            t = t.replace(minute=0, second=0) + timedelta(hours=1)
            continue
        if fields["minute"] is not None and t.minute not in fields["minute"]:
            t = t.replace(second=0) + timedelta(minutes=1)
            continue
        if fields["second"] is not None and t.second not in fields["second"]:
            t = t + timedelta(seconds=1)
            continue
        return t.astimezone(UTC).timestamp()
    return None


def next_due(trigger: Mapping[str, Any], after: float, previous: float | None = None) -> float | None:
    """When the trigger fires next after `after` (the previous due time anchors intervals)."""
    p = trigger.get("parameters") or {}
    kind = trigger["type"]
    if kind == "core.st2.IntervalTimer":
        step = float(p["delta"]) * _UNITS[p["unit"]]
        due = (previous if previous is not None else after) + step
        if due <= after - step:  # far behind (the server was down): skip to the next slot ahead
            due += ((after - due) // step + 1) * step
        return due
    if kind == "core.st2.DateTimer":
        at = parse_iso(p["date"])
        return at if previous is None and at > after - 1 else None
    if kind == "core.st2.CronTimer":
        return next_cron(p, after)
    return None


def schedule_next(
    tx: Tx, org_uid: str, trigger: Mapping[str, Any], previous: float | None = None
) -> float | None:
    """Enqueue the trigger's next firing (once: keyed by trigger and due time). Without `previous`
    (a rule was saved) nothing is added while the chain already has a firing pending."""
    if previous is None:
        pending = tx.scalar(
            "SELECT 1 FROM jobs WHERE kind = ? AND status IN ('queued', 'running') AND idempotency_key LIKE ? LIMIT 1",
            KIND,
            f"timer:{trigger['id']}:%",
        )
        if pending:
            return None
    now = time.time()
    due = next_due(trigger, now, previous)
    if due is None:
        return None
    jobs.enqueue(
        tx,
        KIND,
        {"org_uid": org_uid, "trigger_id": trigger["id"], "due": due},
        run_at=due - LEAD_SECONDS,
        idempotency_key=f"timer:{trigger['id']}:{due:.3f}",
        org_uid=org_uid,
        max_attempts=3,
    )
    tx.after_commit(f"timer-wake:{trigger['id']}:{due:.3f}", lambda: _wake_at(due - LEAD_SECONDS))
    return due


def _wake_at(run_at: float) -> None:
    """Wake this process's job runners when a firing's job is due, so it does not wait for the next
    poll (other processes find it at their next poll at the latest)."""
    # A few ms after that time: a claim a hair early finds nothing due and waits a whole poll.
    delay = max(0.0, run_at - time.time()) + WAKE_MARGIN_SECONDS
    t = threading.Timer(delay, jobs._wake_runners)  # the runners' own wake-up, as an enqueue does
    t.daemon = True
    t.start()
