"""The time limits of many connections on one timer per server: `Deadlines`.

A connection of `server.protocol` has one time limit at a time: its request head's, then its
body's, then (after an answer the protocol wrote itself) the keep-alive wait for the next request.
With a `call_later` per limit, every request cost two timer handles made and cancelled, about 5%
of a short read's CPU. Here arming a limit is writing two attributes of the connection (`due`, the
loop time it falls at, and `on_due`), and one timer per server looks every `tick` seconds for the
connections whose limit has passed and calls their `on_due`. A limit falls up to one tick late;
the tick is an eighth of the shortest limit in use, at most a quarter of a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("stackyard.server")


class Timed(Protocol):
    due: float  # the loop time the connection's limit falls at; 0 when none is armed
    on_due: Callable[[], None]


class Deadlines:
    def __init__(self, loop: asyncio.AbstractEventLoop, tick: float) -> None:
        self.loop = loop
        self.tick = tick
        self._members: set[Any] = set()
        self._handle: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, server_state: Any, loop: asyncio.AbstractEventLoop, shortest: float) -> Deadlines:
        """The deadlines of the server whose state `server_state` is (one per uvicorn server)."""
        found: Deadlines | None = getattr(server_state, "stackyard_deadlines", None)
        if found is None or found.loop is not loop:
            found = cls(loop, max(0.02, min(0.25, shortest / 8)))
            server_state.stackyard_deadlines = found
        return found

    def join(self, member: Timed) -> None:
        self._members.add(member)
        if self._handle is None:
            self._handle = self.loop.call_later(self.tick, self._sweep)

    def leave(self, member: Timed) -> None:
        self._members.discard(member)

    def _sweep(self) -> None:
        now = self.loop.time()
        for member in [m for m in self._members if 0 < m.due <= now]:
            if 0 < member.due <= now:  # an earlier one's callback may have re-armed or cleared it
                member.due = 0.0
                try:
                    member.on_due()
                except Exception:  # one connection's failure stops no other's limits
                    log.exception("a connection's time limit could not be applied")
        self._handle = self.loop.call_later(self.tick, self._sweep) if self._members else None
