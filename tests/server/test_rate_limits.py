"""Rate limits that engage: per organization below one process's capacity, and per address for bad
credentials, refused before any database work once a bucket is empty."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, make_user
from tests.server.test_errors import assert_error

# One process's measured capacity on the slower engine, PostgreSQL (bench/README.md, 64 clients):
# authenticated reads (GET environment, fetch entry) and writes (create entry) per second.
MEASURED_READS_PER_SECOND = 950
MEASURED_WRITES_PER_SECOND = 240


@pytest.fixture
def db_work(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every transaction the server opens from now on, by kind (the server shares this `db`)."""
    opened: list[str] = []
    for kind in ("read", "write"):
        original = getattr(db, kind)

        def counted(*args: Any, _original: Any = original, _kind: str = kind, **kw: Any) -> Any:
            opened.append(_kind)
            return _original(*args, **kw)

        monkeypatch.setattr(db, kind, counted)
    return opened


def test_default_limits_leave_most_of_a_process_to_other_organizations() -> None:
    # One organization at its limit takes at most half of what one process answers; with
    # --workers N each process gets 1/N of the limit (serve.worker_app), so the share only falls.
    defaults = Settings()
    assert defaults.rate_limit_enabled
    assert 0 < defaults.rate_limit_reads * 2 <= MEASURED_READS_PER_SECOND
    assert 0 < defaults.rate_limit_writes * 2 <= MEASURED_WRITES_PER_SECOND
    assert 0 < defaults.failed_auth_per_minute <= 120


def test_bad_credentials_are_limited_per_address_before_the_database(
    serve: Callable[..., Live], db_work: list[str]
) -> None:
    # given a server allowing 3 failed authentications a minute from one address
    live = serve(failed_auth_per_minute=3)
    owner = make_user(live, "limited@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        for _ in range(5):  # good credentials spend nothing
            assert c.get("/v3/user").status_code == 200
    with live.client() as c:
        assert_error(c.get("/v3/user", headers={"authtoken": "not a session"}), 401, 105)
        assert_error(c.get("/v3/environments", headers={"authorization": "nope", "api_key": "x"}), 401, 106)
        assert_error(c.get("/v3/user", headers={"authtoken": "still not one"}), 401, 105)
        db_work.clear()
        # when more requests with credentials come from that address, bad ones or good ones
        refused = [
            c.get("/v3/user", headers={"authtoken": "yet another guess"}),
            c.get("/v3/user", headers={"authtoken": owner.authtoken}),
            c.get("/v3/environments", headers={"access_token": "guess", "api_key": "x"}),
        ]
        # then each is refused with 429 before any database work
        for r in refused:
            body = assert_error(r, 429, 429)
            assert "bad credentials" in body["error_message"]
            assert 1 <= int(r.headers["retry-after"]) <= 60
        assert db_work == []
        # and a request without credentials (a login) still gets through
        login = {"user": {"email": owner.email, "password": owner.password}}
        assert c.post("/v3/user-session", json=login).status_code == 200
    # and another address is not limited
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(base_url=live.url, transport=other, headers={"authtoken": owner.authtoken}) as c:
        assert c.get("/v3/user").status_code == 200


def test_an_organization_past_its_limit_is_refused_before_the_database(
    serve: Callable[..., Live], db_work: list[str]
) -> None:
    # given a server allowing one read a second per organization, and two organizations' stacks
    live = serve(rate_limit_reads=1, rate_limit_burst_seconds=3.0)
    busy, quiet = make_user(live, "busy@example.com"), make_user(live, "quiet@example.com")
    keys = {}
    for user in (busy, quiet):
        with live.client(authtoken=user.authtoken) as c:
            r = c.post("/v3/stacks", json={"stack": {"name": user.email, "master_locale": "en-us"}})
            assert r.status_code == 201, r.text
            keys[user.email] = r.json()["stack"]["api_key"]
    with live.client(authtoken=busy.authtoken, api_key=keys[busy.email]) as c:
        # when the busy organization reads until it is refused
        statuses = [c.get("/v3/environments").status_code for _ in range(10)]
        assert statuses[:3] == [200, 200, 200] and 429 in statuses, statuses
        db_work.clear()
        r = c.get("/v3/environments")
        # then its next read is refused without touching the database, with the limit's headers
        assert_error(r, 429, 429)
        assert db_work == []
        assert r.headers["x-ratelimit-limit"] == "1" and r.headers["x-ratelimit-remaining"] == "0"
        assert 1 <= int(r.headers["retry-after"]) <= 5
    # and the other organization is served
    with live.client(authtoken=quiet.authtoken, api_key=keys[quiet.email]) as c:
        assert c.get("/v3/environments").status_code == 200
