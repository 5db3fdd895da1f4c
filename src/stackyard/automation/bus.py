"""In-process fan-out of automation events: the stream's subscribers (`/stream/v1/stream`) and
requests waiting for an execution to finish (`POST /executions` answers short actions finished).

Events are published after their transaction commits (`publish_after`), so a subscriber never sees
a change that was rolled back. Each subscriber is an asyncio queue fed from any thread. Events are
per organization; a subscriber hears only its own. The subscribers of other processes (an API
process streaming what a `stackyard worker` runs) get them through `relay`: while one has
subscribers, each event is also written to the stream log in the transaction it belongs to.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stackyard.automation import relay
from stackyard.store.engine import Tx

COMPLETED = {"succeeded", "failed", "timeout", "canceled", "abandoned"}


@dataclass
class Subscriber:
    org_uid: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = field(default_factory=lambda: asyncio.Queue(10_000))
    accept: Callable[[str, dict[str, Any]], bool] = lambda name, data: True


_subs: list[Subscriber] = []
_lock = threading.Lock()
_finished = threading.Condition()
_done: dict[str, str] = {}  # execution id -> final status, for waiters (bounded)


def subscribe(sub: Subscriber) -> None:
    with _lock:
        _subs.append(sub)


def unsubscribe(sub: Subscriber) -> None:
    with _lock:
        if sub in _subs:
            _subs.remove(sub)


def _put(sub: Subscriber, name: str, data: dict[str, Any]) -> None:
    try:
        sub.queue.put_nowait((name, data))
    except asyncio.QueueFull:
        pass  # a subscriber that stopped reading loses events rather than the server memory


def publish(org_uid: str, name: str, data: dict[str, Any]) -> None:
    with _lock:
        targets = [s for s in _subs if s.org_uid == org_uid]
    for sub in targets:
        if sub.accept(name, data):
            try:
                sub.loop.call_soon_threadsafe(_put, sub, name, data)
            except RuntimeError:
                pass  # its loop is closed
    if name == "st2.execution__update" and data.get("status") in COMPLETED:
        finished(data["id"], data["status"])


def finished(execution_id: str, status: str) -> None:
    """Tell waiters (`wait_finished`) that an execution finished."""
    with _finished:
        _done[execution_id] = status
        if len(_done) > 50_000:
            for k in list(_done)[:25_000]:
                _done.pop(k, None)
        _finished.notify_all()


def publish_after(
    tx: Tx, org_uid: str, name: str, data: Callable[[], dict[str, Any]] | dict[str, Any], key: str
) -> None:
    """Publish once `tx` commits (`data` may be a function, rendered then; or now, when another
    process's subscribers need it written with the transaction)."""
    if relay.wanted(tx):
        data = data() if callable(data) else data
        relay.append(tx, org_uid, name, data)

    def send() -> None:
        publish(org_uid, name, data() if callable(data) else data)

    tx.after_commit(key, send)


def has_subscribers() -> bool:
    return bool(_subs)


def listening(tx: Tx) -> bool:
    """Whether anyone streams: subscribers of this process, or of another (`relay`)."""
    return bool(_subs) or relay.wanted(tx)


def wait_finished(execution_id: str, timeout: float) -> str | None:
    """The final status of an execution finished in this process within `timeout` s, else None."""
    with _finished:
        _finished.wait_for(lambda: execution_id in _done, timeout)
        return _done.get(execution_id)
