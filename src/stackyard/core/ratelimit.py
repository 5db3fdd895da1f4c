"""Token buckets by key and kind: per organization, reads and writes counted apart (as Contentstack
does); per client address for the unauthenticated account calls (login, reset, activation) and for
requests whose credentials failed.

A limit only protects the server if refusing costs less than answering, so a refusal can be decided
before any database work: `peek` tells whether a bucket is empty without spending from it, and
`home` remembers which bucket the requests naming a stack (its api_key) spend from, learned from
the last one that reached the database. A stale home (a stack moved to another organization) can
only refuse early while the old organization's bucket is empty."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# Idle buckets are forgotten once this many exist, so keys (client addresses) cannot grow memory.
PRUNE_AT = 10_000


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float


class RateLimiter:
    """`limits` maps a kind to (requests per second, seconds of traffic a bucket holds as burst)."""

    def __init__(self, limits: dict[str, tuple[float, float]]) -> None:
        self.limits = {
            kind: (rate, max(1.0, rate * window)) for kind, (rate, window) in limits.items() if rate > 0
        }
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self._homes: dict[str, str] = {}
        self._lock = threading.Lock()

    def take(self, key: str, kind: str) -> Verdict | None:
        """Spend one request of `kind` from `key`'s bucket; None when `kind` is not limited."""
        if kind not in self.limits:
            return None
        rate, capacity = self.limits[kind]
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get((key, kind))
            if bucket is None:
                if len(self._buckets) >= PRUNE_AT:
                    self._prune(now)
                bucket = [capacity, now]
                self._buckets[(key, kind)] = bucket
            tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= 1:
                bucket[0] = tokens - 1
                return Verdict(True, round(rate), int(bucket[0]), 0.0)
            bucket[0] = tokens
            return Verdict(False, round(rate), 0, (1 - tokens) / rate)

    def peek(self, key: str, kind: str) -> Verdict | None:
        """What `take` would answer, spending nothing; None when `kind` is not limited."""
        if kind not in self.limits:
            return None
        rate, capacity = self.limits[kind]
        with self._lock:
            bucket = self._buckets.get((key, kind))
            if bucket is None:
                return Verdict(True, round(rate), int(capacity), 0.0)
            tokens = min(capacity, bucket[0] + (time.monotonic() - bucket[1]) * rate)
        if tokens >= 1:
            return Verdict(True, round(rate), int(tokens), 0.0)
        return Verdict(False, round(rate), 0, (1 - tokens) / rate)

    def settle(self, alias: str, key: str) -> None:
        """Requests naming `alias` (a stack's api_key) spend from `key` (its organization's bucket)."""
        with self._lock:
            if self._homes.get(alias) != key:
                if len(self._homes) >= PRUNE_AT:
                    self._homes.clear()  # relearned from the next request of each stack
                self._homes[alias] = key

    def home(self, alias: str) -> str | None:
        """The key `alias` was last seen spending from, if any."""
        return self._homes.get(alias)

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes no answer."""
        for (key, kind), (tokens, seen) in list(self._buckets.items()):
            rate, capacity = self.limits[kind]
            if tokens + (now - seen) * rate >= capacity:
                del self._buckets[(key, kind)]
