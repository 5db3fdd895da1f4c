"""One function maps an answer to an exception; its fields come from the Contentstack error body."""

from __future__ import annotations

import json

import pytest

from stackyard.client._errors import error_from_response, raise_for_status
from stackyard.errors import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    Unauthorized,
    UnprocessableEntity,
)


def body(**kw: object) -> bytes:
    return json.dumps(kw).encode()


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, 101, BadRequest),
        (401, 105, Unauthorized),
        (403, 161, Forbidden),
        (404, 116, NotFound),
        (409, 163, Conflict),
        (412, 109, PreconditionFailed),
        (422, 120, UnprocessableEntity),
        (422, 141, NotFound),  # Contentstack's not-found for entries is a 422
        (422, 118, NotFound),  # ... and for content types
        (500, 500, ServerError),
        (503, None, ServerError),
        (418, None, APIError),
    ],
)
def test_status_and_code_pick_the_class(status: int, code: int | None, cls: type[APIError]) -> None:
    err = error_from_response(status, {}, body(error_message="m", error_code=code, errors={}))
    assert type(err) is cls
    assert err.status == status


def test_fields_come_from_the_body() -> None:
    err = error_from_response(
        422,
        {},
        body(error_message="Bad things.", error_code=120, errors={"name": ["is required."]}, tfa_type="x"),
    )
    assert (err.error_code, err.error_message, err.errors) == (120, "Bad things.", {"name": ["is required."]})
    assert err.extra == {"tfa_type": "x"}
    assert str(err) == "Bad things."


def test_rate_limited_carries_retry_after() -> None:
    err = error_from_response(
        429, {"retry-after": "7"}, body(error_message="Too many requests", error_code=429)
    )
    assert isinstance(err, RateLimited) and err.retry_after == 7.0
    assert error_from_response(429, {}, b"").retry_after == 1.0  # type: ignore[attr-defined]


def test_non_json_bodies_still_give_an_error_with_a_message() -> None:
    err = error_from_response(502, {}, b"<html>Bad gateway</html>")
    assert isinstance(err, ServerError) and "Bad gateway" in err.error_message
    assert error_from_response(500, {}, b"").error_message == "HTTP 500"
    assert (
        error_from_response(400, {}, b"[1, 2]").error_message == "[1, 2]"
    )  # not an error object: shown as is


def test_2xx_never_raises_and_everything_else_does() -> None:
    for ok in (200, 201, 204):
        raise_for_status(ok, {}, b"")
    for bad in (301, 400, 404, 500):
        with pytest.raises(APIError):
            raise_for_status(bad, {}, b"{}")
