"""The retry policy as pure functions: which answers are retried, how long we wait, when we stop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stackyard.client._retry import backoff, is_retryable, next_delay, parse_retry_after


@pytest.mark.parametrize("status", [None, 408, 429, 500, 502, 503, 504, 599])
def test_transient_answers_are_retried(status: int | None) -> None:
    assert is_retryable(status)


@pytest.mark.parametrize("status", [200, 201, 400, 401, 403, 404, 412, 413, 422, 501, 505])
def test_permanent_answers_are_not(status: int) -> None:
    assert not is_retryable(status)


def test_conflict_is_retried_unless_it_is_a_duplicate() -> None:
    assert is_retryable(409, 162)  # lost a race: may succeed next time
    assert is_retryable(409, None)
    assert not is_retryable(409, 163)  # "already exists" will stay true


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_is_not_repeated_when_the_server_may_have_acted(status: int) -> None:
    assert not is_retryable(status, idempotent=False)
    assert next_delay(1, max_retries=3, status=status, idempotent=False) is None


@pytest.mark.parametrize("status", [None, 408, 429, 503])
def test_a_post_is_repeated_when_the_server_surely_did_not_act(status: int | None) -> None:
    assert is_retryable(status, idempotent=False)
    assert is_retryable(409, 162, idempotent=False)


def test_retry_after_seconds_and_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 0.25 ") == 0.25
    assert parse_retry_after(format_datetime(now + timedelta(seconds=7), usegmt=True), now) == 7.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=7), usegmt=True), now) == 0.0
    assert parse_retry_after("-3") == 0.0
    for bad in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(bad) is None


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    assert [backoff(n, base=1, cap=8, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 8, 8, 8]
    assert [backoff(n, base=1, cap=8, rand=lambda: 0.0) for n in (1, 2, 3)] == [0.5, 1, 2]


@given(attempt=st.integers(1, 50), r=st.floats(0, 1))
def test_backoff_is_always_within_bounds(attempt: int, r: float) -> None:
    d = backoff(attempt, base=0.5, cap=8, rand=lambda: r)
    assert 0.25 <= d <= 8


def test_next_delay_gives_up_after_max_retries() -> None:
    fixed = {"status": 503, "rand": lambda: 0.0, "base": 1.0}
    assert next_delay(1, max_retries=2, **fixed) == 0.5
    assert next_delay(2, max_retries=2, **fixed) == 1.0
    assert next_delay(3, max_retries=2, **fixed) is None
    assert next_delay(1, max_retries=0, **fixed) is None


def test_next_delay_honours_retry_after_but_not_an_absurd_one() -> None:
    assert next_delay(1, max_retries=3, status=429, retry_after="3") == 3.0
    assert next_delay(1, max_retries=3, status=429, retry_after="600", max_wait=60) is None
    # a Retry-After on a permanent error changes nothing
    assert next_delay(1, max_retries=3, status=400, retry_after="1") is None


def test_next_delay_never_retries_permanent_errors() -> None:
    assert next_delay(1, max_retries=5, status=422) is None
    assert next_delay(1, max_retries=5, status=409, error_code=163) is None
