"""Password hashing: its cost is a setting, and checking a password never holds up other writes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from stackyard.identity import organizations, passwords, users
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import Live, start_server

PASSWORD = "correct horse battery"


def test_the_hash_cost_comes_from_the_settings(settings: Settings) -> None:
    cheap = passwords.hash_password(PASSWORD, settings)
    assert cheap.startswith("$argon2id$") and "m=64,t=1," in cheap
    assert "m=65536,t=3," in passwords.hash_password(PASSWORD)  # the defaults
    # a hash keeps its own cost: it still checks out under other settings
    assert passwords.verify(cheap, PASSWORD) and not passwords.verify(cheap, "wrong password")


@pytest.fixture
def costly(db: Database, settings: Settings) -> Iterator[Live]:
    """A server hashing at a real cost (a check takes a good fraction of a second), on a database
    object of its own with a PostgreSQL pool of one connection: there, what a transaction held open
    during a check would block is the pool, as the one writer's lock is on SQLite."""
    slow = settings.replace(
        password_hash_time_cost=6, password_hash_memory_kib=65536, max_failed_logins=10**6
    )
    own = Database(db.url, pool_size=1)
    server, thread, url = start_server(slow, own)
    try:
        yield Live(url=url, db=own, settings=slow)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        own.close()


def _check_seconds(settings: Settings) -> float:
    """How long one check of a wrong password takes at the server's cost (the best of three)."""
    stored = passwords.hash_password(PASSWORD, settings)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        assert not passwords.verify(stored, "not the password", settings)
        times.append(time.perf_counter() - start)
    return min(times)


def _failing_logins(live: Live, email: str, stop: threading.Event, answers: list[Any]) -> None:
    with live.client() as c:
        while not stop.is_set():
            r = c.post("/v3/user-session", json={"user": {"email": email, "password": "not the password"}})
            answers.append((r.status_code, r.json().get("error_code")))


@pytest.mark.solo  # measures latency: runs alone
def test_failed_logins_do_not_hold_up_other_writes(costly: Live) -> None:
    # given an owner with a stack, on a server whose password checks are slow
    live = costly
    password_hash = passwords.hash_password(PASSWORD, live.settings)
    with live.db.write() as tx:
        owner_uid, _ = users.create(tx, "owner@example.com", password_hash=password_hash)
        organizations.create(tx, owner_uid, "Org")
    with live.client() as c:
        r = c.post("/v3/user-session", json={"user": {"email": "owner@example.com", "password": PASSWORD}})
        assert r.status_code == 200, r.text
        token = r.json()["user"]["authtoken"]
    with live.client(authtoken=token) as c:
        r = c.post("/v3/stacks", json={"stack": {"name": "S", "master_locale": "en-us"}})
        assert r.status_code == 201, r.text
        api_key = r.json()["stack"]["api_key"]
    check = _check_seconds(live.settings)
    # when someone keeps failing to log in as another user meanwhile
    with live.db.write() as tx:
        users.create(tx, "victim@example.com", password_hash=password_hash)
    stop, answers = threading.Event(), []
    guesser = threading.Thread(target=_failing_logins, args=(live, "victim@example.com", stop, answers))
    guesser.start()
    latencies = []
    try:
        while not answers:
            time.sleep(0.01)
        with live.client(authtoken=token, api_key=api_key) as c:
            for i in range(20):
                start = time.perf_counter()
                r = c.post("/v3/environments", json={"environment": {"name": f"env{i}"}})
                latencies.append(time.perf_counter() - start)
                assert r.status_code == 201, r.text
                time.sleep(check / 7)  # meet the guesser at every stage of its attempt
    finally:
        stop.set()
        guesser.join(timeout=30)
    # then the guesses were checked and refused all along
    assert len(answers) >= 3 and set(answers) == {(422, 104)}
    # and an unrelated write never waited for a password check
    p95 = sorted(latencies)[int(len(latencies) * 0.95) - 1]
    assert p95 < 0.3 * check, (p95, check, sorted(latencies))


def test_a_password_changed_during_a_login_check_is_checked_again(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a user, and a password reset landing while their login's password check runs
    with live.db.write() as tx:
        user_uid, _ = users.create(
            tx, "ada@example.com", password_hash=passwords.hash_password("old password 1", live.settings)
        )
    real_verify = passwords.verify
    changed: list[bool] = []

    def verify_then_reset(stored: str | None, password: str, settings: Any = None) -> bool:
        answer = real_verify(stored, password, settings)
        if not changed:
            changed.append(True)
            with live.db.write() as tx:
                tx.run(
                    "UPDATE users SET password_hash = ? WHERE uid = ?",
                    passwords.hash_password("new password 2", live.settings),
                    user_uid,
                )
        return answer

    monkeypatch.setattr("stackyard.identity.sessions.verify", verify_then_reset)
    with live.client() as c:
        # when the old password is checked against the hash read before the reset
        r = c.post(
            "/v3/user-session", json={"user": {"email": "ada@example.com", "password": "old password 1"}}
        )
        # then the login does not go through on the replaced password
        assert r.status_code == 422 and r.json()["error_code"] == 104, r.text
        r = c.post(
            "/v3/user-session", json={"user": {"email": "ada@example.com", "password": "new password 2"}}
        )
        assert r.status_code == 200, r.text
    # and the stale check was not counted as a failure of the new password
    with live.db.read() as tx:
        assert tx.scalar("SELECT failed_attempts FROM users WHERE uid = ?", user_uid) == 0


def test_activation_and_reset_hash_at_the_configured_cost(live: Live) -> None:
    # given an invited user
    from tests.identity.conftest import mailed_token

    with live.db.write() as tx:
        owner_uid, _ = users.create(
            tx, "own@example.com", password_hash=passwords.hash_password(PASSWORD, live.settings)
        )
        _, activation = users.create(tx, "new@example.com", active=False)
    assert activation is not None and owner_uid
    with live.client() as c:
        # when they activate with a password, and later reset it
        body = {"user": {"password": "first password", "password_confirmation": "first password"}}
        assert c.post(f"/v3/user/activate/{activation}", json=body).status_code == 200
        assert (
            c.post("/v3/user/forgot_password", json={"user": {"email": "new@example.com"}}).status_code == 200
        )
        token = mailed_token(live.db, "new@example.com", "rst")
        body = {
            "user": {
                "reset_password_token": token,
                "password": "second password",
                "password_confirmation": "second password",
            }
        }
        assert c.post("/v3/user/reset_password", json=body).status_code == 200
        # then the stored hash has the settings' cost, and a used token does not work again
        assert c.post("/v3/user/reset_password", json=body).json()["error_code"] == 111
        r = c.post(
            "/v3/user-session", json={"user": {"email": "new@example.com", "password": "second password"}}
        )
        assert r.status_code == 200, r.text
    with live.db.read() as tx:
        stored = tx.scalar("SELECT password_hash FROM users WHERE email = ?", "new@example.com")
    assert "m=64,t=1," in stored
