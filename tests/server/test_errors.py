"""Every error path answers the canonical JSON body; request ids, body and rate limits; logs hold no secrets."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pyotp
import pytest

from tests.conftest import Live, User, make_user
from tests.identity.conftest import mailed_token

CANONICAL = {"error_message", "error_code", "errors"}


def assert_error(r: httpx.Response, status: int, code: int | None = None) -> dict[str, Any]:
    """The answer is `status` with the canonical JSON error body (and a request id)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, dict) and set(body) >= CANONICAL, body
    assert isinstance(body["error_message"], str) and body["error_message"]
    assert isinstance(body["error_code"], int)
    assert isinstance(body["errors"], dict | list)
    if code is not None:
        assert body["error_code"] == code, body
    assert r.headers.get("x-request-id")
    return dict(body)


def test_unknown_route_and_wrong_method(live: Live, owner: User) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        assert_error(c.get("/v3/no-such-thing"), 404, 116)
        assert_error(c.get("/"), 404, 116)
        assert_error(c.post("/healthz/x"), 404, 116)
        r = c.request("PATCH", "/v3/user", json={"user": {}})
        assert_error(r, 405, 115)
        assert_error(c.delete("/v3/organizations"), 405, 115)


def test_bad_bodies(live: Live, owner: User) -> None:
    with live.client(authtoken=owner.authtoken) as c:
        body = assert_error(c.put("/v3/user", content=b'{"user": {'), 400, 101)
        assert "body" in body["errors"]
        assert_error(c.put("/v3/user", content=b"\xff\xfe\x00"), 400, 101)
        for not_an_object in (b"[1, 2]", b'"user"', b"3", b"null", b"true"):
            assert_error(c.put("/v3/user", content=not_an_object), 400, 101)
        body = assert_error(c.put("/v3/user", json={"users": {}}), 422)
        assert "user" in body["errors"]
        assert_error(c.put("/v3/user", json={"user": "Ada"}), 422)
        # multipart where JSON is expected is a 4xx, never a crash
        r = c.put("/v3/user", files={"user": ("a.txt", b"x")})
        assert 400 <= r.status_code < 500 and set(r.json()) >= CANONICAL


def test_credentials_and_stack_keys(live: Live, owner: User, api_key: str) -> None:
    with live.client() as c:
        assert_error(c.get("/v3/user"), 401, 105)
        assert_error(c.get("/v3/environments", headers={"api_key": api_key}), 401, 105)
        assert_error(c.get("/v3/user", headers={"authtoken": "cs" + "0" * 32}), 401, 105)
        assert_error(c.get("/v3/environments", headers={"authorization": "nope"}), 401, 106)
    with live.client(authtoken=owner.authtoken) as c:
        assert_error(c.get("/v3/environments"), 412, 110)
        assert_error(c.get("/v3/environments", headers={"api_key": "blt0000000000000000"}), 412, 109)
        c.delete("/v3/user-session")
        # the token of a session that ended is refused, not treated as anonymous
        assert_error(c.get("/v3/organizations"), 401, 105)


def test_request_id_on_every_response(live: Live) -> None:
    with live.client() as c:
        ids = set()
        for r in (c.get("/healthz"), c.get("/v3/nowhere"), c.get("/v3/user"), c.request("PATCH", "/v3/user")):
            assert r.headers.get("x-request-id")
            ids.add(r.headers["x-request-id"])
        assert len(ids) == 4
        # a sane incoming id is echoed, an unsafe one replaced
        assert (
            c.get("/healthz", headers={"x-request-id": "trace-42.a:b"}).headers["x-request-id"]
            == "trace-42.a:b"
        )
        for unsafe in ("x" * 65, 'a"b<script>', "line\tbreak"):
            echoed = c.get("/v3/user", headers={"x-request-id": unsafe}).headers["x-request-id"]
            assert echoed != unsafe and echoed


def test_healthz(live: Live) -> None:
    with live.client() as c:
        r = c.get("/healthz")
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert r.json()["database"] == live.db.dialect


def test_oversized_bodies_get_413(serve: Callable[..., Live]) -> None:
    live = serve(max_body_bytes=1000)
    owner = make_user(live, "big@example.com")
    big = json.dumps({"user": {"company": "x" * 2000}}).encode()
    with live.client(authtoken=owner.authtoken) as c:
        # declared with Content-Length
        assert_error(c.put("/v3/user", content=big), 413, 113)

        # sent chunked, with no length declared
        def chunks() -> Iterator[bytes]:
            for i in range(0, len(big), 100):
                yield big[i : i + 100]

        assert_error(c.put("/v3/user", content=chunks()), 413, 113)
        # a body under the limit still works, chunked or not
        small = json.dumps({"user": {"company": "small"}}).encode()
        assert c.put("/v3/user", content=small).status_code == 200
        assert c.put("/v3/user", content=iter([small[:10], small[10:]])).status_code == 200
        assert c.get("/v3/user").json()["user"]["company"] == "small"


def test_rate_limit_answers_429_with_retry_after(serve: Callable[..., Live]) -> None:
    live = serve(rate_limit_reads=1, rate_limit_burst_seconds=1.0)
    owner = make_user(live, "busy@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        first = c.get("/v3/user")
        assert first.status_code == 200
        assert first.headers["x-ratelimit-limit"] == "1"
        assert first.headers["x-ratelimit-remaining"] == "0"
        r = c.get("/v3/user")
        body = assert_error(r, 429, 429)
        assert body["error_message"] == "Too many requests"
        assert 1 <= int(r.headers["retry-after"]) <= 5
        assert r.headers["x-ratelimit-limit"] == "1" and r.headers["x-ratelimit-remaining"] == "0"


def test_account_calls_are_throttled_per_client_address(serve: Callable[..., Live]) -> None:
    # given a server allowing 3 account calls a minute from one address
    live = serve(auth_attempts_per_minute=3)
    owner = make_user(live, "sprayed@example.com")  # one login
    with live.client() as c:
        bad = {"user": {"email": "sprayed@example.com", "password": "wrong password"}}
        assert c.post("/v3/user-session", json=bad).status_code == 422
        assert (
            c.post("/v3/user/forgot_password", json={"user": {"email": "x@example.com"}}).status_code == 200
        )
        # when a fourth arrives within the minute, then it is refused before any password check
        r = c.post(
            "/v3/user-session", json={"user": {"email": "sprayed@example.com", "password": owner.password}}
        )
        assert_error(r, 429, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 60
    # and calls made with a session are not counted against it
    with live.client(authtoken=owner.authtoken) as c:
        assert c.get("/v3/user").status_code == 200


def test_rate_limiter_forgets_only_refilled_buckets() -> None:
    from stackyard.core import ratelimit

    limiter = ratelimit.RateLimiter({"auth": (1.0, 2.0)})
    assert limiter.take("k", "read") is None  # an unlimited kind
    for key in ("a", "b"):
        verdict = limiter.take(key, "auth")
        assert verdict is not None and verdict.allowed and verdict.remaining == 1
    limiter._buckets[("a", "auth")][1] -= 10  # a: idle long enough to refill; b: still spent
    limiter._prune(time.monotonic())
    assert set(limiter._buckets) == {("b", "auth")}


def test_access_log_holds_no_credentials(
    serve: Callable[..., Live], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="stackyard.access")
    live = serve(access_log=True)
    owner = make_user(live, "logged@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        c.post(f"/v3/organizations/{owner.org_uid}/share", json={"share": {"users": {"inv@example.com": []}}})
        activation = mailed_token(live.db, "inv@example.com", "act")
        c.post(
            f"/v3/user/activate/{activation}",
            json={"user": {"password": "invited password", "password_confirmation": "invited password"}},
        )
        c.post("/v3/user/forgot_password", json={"user": {"email": owner.email}})
        reset = mailed_token(live.db, owner.email, "rst")
        c.post(
            "/v3/user/reset_password",
            json={
                "user": {
                    "reset_password_token": reset,
                    "password": "p" * 12,
                    "password_confirmation": "p" * 12,
                }
            },
        )
        c.get(f"/v3/user?authtoken={owner.authtoken}&password=hunter22")
        c.get(f"/v3/user/activate/{activation}/x")
        ownership = "own" + "f" * 32
        c.get(f"/v3/stacks/accept_ownership/{ownership}", params={"uid": owner.uid})
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "stackyard.access"]
    assert len(lines) >= 6
    text = "\n".join(lines)
    for secret in (
        owner.authtoken,
        owner.password,
        activation,
        reset,
        ownership,
        "invited password",
        "hunter22",
        "p" * 12,
    ):
        assert secret not in text
    entry = json.loads(lines[0])
    assert {"request_id", "method", "path", "status"} <= set(entry)


def test_audit_log_holds_no_credentials(live: Live, owner: User, api_key: str) -> None:
    # given every write that handles a secret
    with live.client(authtoken=owner.authtoken) as c:
        c.post(f"/v3/organizations/{owner.org_uid}/share", json={"share": {"users": {"a@example.com": []}}})
        activation = mailed_token(live.db, "a@example.com", "act")
        c.post(
            f"/v3/user/activate/{activation}",
            json={"user": {"password": "activated password", "password_confirmation": "activated password"}},
        )
        tfa = c.post("/v3/user/two_factor").json()["tfa"]["secret"]
        c.post("/v3/user/two_factor/enable", json={"user": {"tfa_token": pyotp.TOTP(tfa).now()}})
        c.post("/v3/user/forgot_password", json={"user": {"email": owner.email}})
        reset = mailed_token(live.db, owner.email, "rst")
        c.post(
            "/v3/user/reset_password",
            json={
                "user": {
                    "reset_password_token": reset,
                    "password": "q" * 12,
                    "password_confirmation": "q" * 12,
                }
            },
        )
    # then no audit entry holds any of them
    with live.db.read() as tx:
        rows = tx.all("SELECT * FROM audit_logs")
    assert rows
    dump = json.dumps(rows, default=str)
    for secret in (owner.authtoken, owner.password, activation, reset, tfa, "activated password", "q" * 12):
        assert secret not in dump


def test_nul_characters_and_non_json_numbers_are_refused(live: Live, owner: User, api_key: str) -> None:
    # PostgreSQL cannot store NUL; both engines refuse it up front instead of failing in a query
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        assert_error(c.get("/v3/environments/a%00b"), 400)
        assert_error(c.get("/v3/environments", params={"limit": "1\x00"}), 400)
        assert_error(c.post("/v3/environments", content=b'{"environment": {"name": "a\\u0000"}}'), 400, 101)
        assert_error(
            c.post("/v3/environments", content=b'{"environment": {"name": "x", "n": NaN}}'), 400, 101
        )
        assert c.get("/v3/environments").json()["environments"] == []


def test_trailing_slash_is_a_json_404_not_a_redirect(live: Live) -> None:
    with live.client() as c:
        r = c.get("/v3/environments/")
    assert r.status_code == 404 and r.json()["error_code"] == 116


def test_skip_beyond_any_list_is_a_400(cma: httpx.Client) -> None:
    r = cma.get("/v3/environments", params={"skip": str(2**63)})
    assert r.status_code == 400 and "skip" in r.json()["errors"]


DEEP = b"[" * 10_000 + b"]" * 10_000
NESTED_100 = "[" * 100 + "]" * 100


def test_json_that_would_break_a_handler_or_the_database_is_a_400(
    live: Live, owner: User, api_key: str
) -> None:
    # given a content type with a number field
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        schema = [
            {"uid": "title", "data_type": "text", "display_name": "Title", "mandatory": True},
            {"uid": "n", "data_type": "number", "display_name": "N"},
        ]
        r = c.post(
            "/v3/content_types", json={"content_type": {"title": "Nums", "uid": "nums", "schema": schema}}
        )
        assert r.status_code == 201, r.text
    with live.client() as anonymous:
        # when an unauthenticated login nests 10,000 deep, or sends a lone surrogate as its email
        assert_error(anonymous.post("/v3/user-session", content=b'{"user": ' + DEEP + b"}"), 400, 101)
        login = b'{"user": {"email": "\\ud800@example.com", "password": "x"}}'
        assert_error(anonymous.post("/v3/user-session", content=login), 400, 101)
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        # deeper than max_json_depth (64), though Python could parse it
        assert_error(
            c.put("/v3/user", content=b'{"user": {"company": ' + NESTED_100.encode() + b"}}"), 400, 101
        )
        assert_error(c.put("/v3/user", content=b'{"user": {"first_name": "Ada\\udc00"}}'), 400, 101)
        assert_error(c.post("/v3/environments", content=b'{"environment": {"name": "\\ud83d"}}'), 400, 101)
        for number in (b"1" + b"0" * 400, b"-1" + b"0" * 400, b"1e400", b"9223372036854775808"):
            entry = b'{"entry": {"title": "big", "n": ' + number + b"}}"
            assert_error(c.post("/v3/content_types/nums/entries", content=entry), 400, 101)
        # the same in the `query` parameter
        entries = "/v3/content_types/nums/entries"
        for query in (
            # (deep enough to break a parser, short enough for the server's URL limit)
            '{"title": ' + "[" * 2_000 + "]" * 2_000 + "}",
            '{"n": 1' + "0" * 400 + "}",
            '{"title": "\\ud800"}',
        ):
            assert_error(c.get(entries, params={"query": query}), 400, 102)
        # then nothing was stored, a surrogate pair (an emoji) is fine, and 64 levels are fine
        assert c.get("/v3/environments").json()["environments"] == []
        assert c.get(entries).json()["entries"] == []
        ok = c.post(entries, content=b'{"entry": {"title": "\\ud83d\\ude00", "n": 9007199254740993}}')
        assert ok.status_code == 201, ok.text
        assert (
            c.get(entries, params={"query": '{"title": "\\ud83d\\ude00"}'}).json()["entries"][0]["n"]
            == 9007199254740993
        )
        deep_ok = "[" * 60 + "]" * 60
        assert (
            c.put(
                "/v3/user", content=b'{"user": {"company": "x", "x": ' + deep_ok.encode() + b"}}"
            ).status_code
            == 200
        )
