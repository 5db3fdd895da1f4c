"""Shared fixtures. Every storage-touching test runs on SQLite and on PostgreSQL through `db`.

PostgreSQL: the suite creates a fresh database on STACKYARD_TEST_POSTGRES_URL's server (default
postgresql://127.0.0.1:5432/test), migrates it once, empties its tables before each test and drops
it at the end. Without a reachable server those tests skip, unless STACKYARD_TEST_REQUIRE_POSTGRES=1
(CI), where they fail.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database

# Property tests talk to real databases and servers: no per-example deadline, fixtures shared across examples.
hypothesis_settings.register_profile(
    "stackyard",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)
hypothesis_settings.load_profile("stackyard")

PG_URL = os.environ.get("STACKYARD_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("STACKYARD_TEST_REQUIRE_POSTGRES") == "1"
ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, migrated once, dropped afterwards."""
    import psycopg

    name = "stackyard_test_" + secrets.token_hex(4)
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        if REQUIRE_PG:
            pytest.fail(
                f"PostgreSQL is required (STACKYARD_TEST_REQUIRE_POSTGRES=1) but {PG_URL} is unreachable: {e}"
            )
        pytest.skip(
            f"no PostgreSQL reachable at {PG_URL} ({e}); set STACKYARD_TEST_POSTGRES_URL to run these"
        )
    admin.execute(f'CREATE DATABASE "{name}"')
    # The suite kills server processes, never PostgreSQL: a commit need not wait for its WAL flush.
    admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = urlunparse(urlparse(PG_URL)._replace(path="/" + name))
    db = Database(url, pool_size=2)
    migrations.upgrade(db)
    db.close()
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


_TABLES: dict[str, list[str]] = {}


def _truncate(db: Database) -> None:
    """Empty every table the last test wrote to and restart the sequences it used.

    Truncating all sixty-odd tables costs PostgreSQL most of a second per test (a new file per
    table); one query finds the few a test touched."""
    with db.write() as tx:
        tables = _TABLES.get(db.url)
        if tables is None:
            tables = _TABLES[db.url] = [
                r["tablename"]
                for r in tx.all("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                if r["tablename"] != "schema_migrations"
            ]
        probe = " UNION ALL ".join(f"SELECT '{t}' AS t WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
        dirty = [r["t"] for r in tx.all(probe)]
        if dirty:
            tx.run("TRUNCATE " + ", ".join(f'"{t}"' for t in dirty) + " CASCADE")
        used = "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
        for r in tx.all(used):
            tx.run(f'ALTER SEQUENCE "{r["sequencename"]}" RESTART')


@pytest.fixture(params=ENGINES)
def db(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Database]:
    """An empty, migrated database on each engine."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/stackyard.db")
        migrations.upgrade(database)
    else:
        database = Database(request.getfixturevalue("pg_url"), pool_size=8)
        _truncate(database)
    yield database
    database.close()


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    # Tests log in, and send bad credentials, far more often from 127.0.0.1 than a person would;
    # the throttles have their own tests.
    # Password hashes at the cheapest argon2 cost: tests that need the real cost ask for it.
    return Settings(
        data_dir=str(tmp_path),
        access_log=False,
        auth_attempts_per_minute=100_000,
        failed_auth_per_minute=100_000,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
    )


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `check` until it answers something true (and answer that), or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running server and what tests need to talk to it."""

    url: str
    db: Database
    settings: Settings

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def start_server(settings: Settings, db: Database) -> tuple[Any, threading.Thread, str]:
    """uvicorn in a thread on a free port, serving the real app; answers (server, thread, url)."""
    from stackyard.server.app import create_app

    return _serve(create_app(settings, db))


class _Switch:
    """An ASGI app that forwards to whichever app the current test set: one socket for the whole run.
    It offers the current app's `answer_now` to the HTTP protocol, as `serve` does (answers given
    without the ASGI cycle, `server.protocol`)."""

    answers_now = True

    def __init__(self) -> None:
        self.app: Any = None
        self.server: Any = None  # the uvicorn server it is served by

    def answer_now(self, scope: dict[str, Any]) -> Any:
        app = self.app
        return app.answer_now(scope) if app is not None and getattr(app, "answers_now", False) else None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("no test is using the shared server now")
        await self.app(scope, receive, send)


def _serve(app: Any, **options: Any) -> tuple[Any, threading.Thread, str]:
    """uvicorn in a thread with the HTTP protocol `serve` uses; `options` go to `uvicorn.Config`."""
    import uvicorn

    from stackyard.server.protocol import http_protocol

    port = free_port()
    options = {"http": http_protocol(), "proxy_headers": False, **options}
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[tuple[_Switch, str]]:
    switch = _Switch()
    server, thread, url = _serve(switch)
    switch.server = server
    yield switch, url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live(db: Database, settings: Settings, _shared_server: tuple[_Switch, str]) -> Iterator[Live]:
    """A live server on the test database (both engines): a fresh app per test, on a socket shared by
    the whole run (starting and stopping uvicorn per test cost more than most tests)."""
    from stackyard.server.app import create_app

    switch, url = _shared_server
    switch.app = create_app(settings, db)
    try:
        yield Live(url=url, db=db, settings=settings)
    finally:
        switch.app = None


ServeFactory = Callable[..., Live]


@pytest.fixture
def serve(db: Database, settings: Settings) -> Iterator[ServeFactory]:
    """Start a live server on the test database with some settings changed: `serve(lockout_seconds=1)`."""
    running: list[tuple[Any, threading.Thread]] = []

    def start(**overrides: Any) -> Live:
        changed = settings.replace(**overrides)
        server, thread, url = start_server(changed, db)
        running.append((server, thread))
        return Live(url=url, db=db, settings=changed)

    yield start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class User:
    uid: str
    email: str
    password: str
    authtoken: str
    org_uid: str


def make_user(live: Live, email: str, password: str = "correct horse battery", *, org: bool = True) -> User:
    """A user created through the services (as first start does), logged in over HTTP."""
    from stackyard.identity import organizations, passwords, users

    password_hash = passwords.hash_password(password, live.settings)
    with live.db.write() as tx:
        uid, _ = users.create(tx, email, password_hash=password_hash)
        org_uid = organizations.create(tx, uid, f"{email}'s org") if org else ""
    with live.client() as c:
        r = c.post("/v3/user-session", json={"user": {"email": email, "password": password}})
        assert r.status_code == 200, r.text
        token = r.json()["user"]["authtoken"]
    return User(uid=uid, email=email, password=password, authtoken=token, org_uid=org_uid)


@pytest.fixture
def owner(live: Live) -> User:
    return make_user(live, "owner@example.com")


@pytest.fixture
def api_key(live: Live, owner: User) -> str:
    """A stack owned by `owner`."""
    with live.client(authtoken=owner.authtoken) as c:
        r = c.post("/v3/stacks", json={"stack": {"name": "Test stack", "master_locale": "en-us"}})
        assert r.status_code == 201, r.text
        return str(r.json()["stack"]["api_key"])


@pytest.fixture
def cma(live: Live, owner: User, api_key: str) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as the stack owner, with the stack's api_key header."""
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        yield c
