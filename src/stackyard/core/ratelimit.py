"""Token buckets by key and kind: per organization, reads and writes counted apart (as Contentstack
does), and per client address for the unauthenticated account calls (login, reset, activation)."""

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

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes no answer."""
        for (key, kind), (tokens, seen) in list(self._buckets.items()):
            rate, capacity = self.limits[kind]
            if tokens + (now - seen) * rate >= capacity:
                del self._buckets[(key, kind)]
