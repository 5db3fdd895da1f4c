"""When to try a request again, and how long to wait first: pure functions, so they are tested alone.

The transports call `next_delay` after every failed attempt and sleep for what it answers, or give up
when it answers None. Nothing here sleeps, reads the clock or does I/O; randomness comes in as an
argument so tests can pin it.

Policy (why each rule):
- 408, 429 and 5xx (except 501/505, which will not change) are transient; so is a connection error.
- 409 is retried unless its `error_code` is 163 ("already exists"): that conflict is permanent,
  while a lost race (162) can succeed on the next try.
- `Retry-After` from the server wins over our own backoff; a wait longer than `max_wait` is not
  worth blocking a caller for, so we give up and let the error surface.
- A POST is not idempotent unless the server honours its `Idempotency-Key` (which we send, but
  cannot assume), so it is repeated only when the server surely did not act on it: it was never
  delivered (connect errors, status None), or the answer says so (408, 429, 503, a lost-race 409).
  A 500/502/504 or a read timeout after sending could hide a completed create.
- Otherwise exponential backoff with "equal jitter" (half fixed, half random), so a herd of clients
  spreads out but no retry is instantaneous.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

NEVER_RETRIED = frozenset({501, 505})
NOT_PROCESSED = frozenset({408, 429, 503})
DUPLICATE_CODE = 163


def is_retryable(status: int | None, error_code: int | None = None, *, idempotent: bool = True) -> bool:
    """True when an attempt that ended with `status` (None: never delivered) may succeed if repeated.

    >>> is_retryable(503), is_retryable(404), is_retryable(500, idempotent=False)
    (True, False, False)
    """
    if status is None or status in NOT_PROCESSED:
        return True
    if status == 409:
        return error_code != DUPLICATE_CODE
    return idempotent and status >= 500 and status not in NEVER_RETRIED


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date); None if absent or bad.

    >>> parse_retry_after("2.5")
    2.5
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite: not a usable instruction
        return None
    return max(0.0, seconds)


def backoff(
    attempt: int, *, base: float = 0.5, cap: float = 8.0, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with equal jitter for the `attempt`-th failure (1-based).

    >>> backoff(1, rand=lambda: 0.0), backoff(3, rand=lambda: 1.0)
    (0.25, 2.0)
    """
    ceiling = min(cap, base * 2 ** (max(attempt, 1) - 1))
    return ceiling / 2 + rand() * ceiling / 2


def next_delay(
    attempt: int,
    *,
    max_retries: int,
    status: int | None,
    error_code: int | None = None,
    idempotent: bool = True,
    retry_after: str | None = None,
    max_wait: float = 60.0,
    base: float = 0.5,
    cap: float = 8.0,
    rand: Callable[[], float] = random.random,
    now: datetime | None = None,
) -> float | None:
    """Seconds to sleep before retry number `attempt` (1-based), or None to give up.

    >>> next_delay(1, max_retries=2, status=429, retry_after="3")
    3.0
    """
    if attempt > max_retries or not is_retryable(status, error_code, idempotent=idempotent):
        return None
    told = parse_retry_after(retry_after, now)
    if told is not None:
        return told if told <= max_wait else None
    return backoff(attempt, base=base, cap=cap, rand=rand)
