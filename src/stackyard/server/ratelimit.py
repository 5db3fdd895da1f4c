"""Per-organization token buckets: reads and writes counted apart, as Contentstack does."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float


class RateLimiter:
    def __init__(self, reads_per_second: int, writes_per_second: int, burst_seconds: float) -> None:
        self.rates = {"read": reads_per_second, "write": writes_per_second}
        self.burst = burst_seconds
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, kind: str) -> Verdict:
        """Spend one request of `kind` ("read" or "write") from `key`'s bucket."""
        rate = self.rates[kind]
        capacity = max(1.0, rate * self.burst)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get((key, kind))
            if bucket is None:
                bucket = [capacity, now]
                self._buckets[(key, kind)] = bucket
            tokens = min(capacity, bucket[0] + (now - bucket[1]) * rate)
            bucket[1] = now
            if tokens >= 1:
                bucket[0] = tokens - 1
                return Verdict(True, rate, int(bucket[0]), 0.0)
            bucket[0] = tokens
            return Verdict(False, rate, 0, (1 - tokens) / rate)
