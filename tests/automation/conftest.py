"""Automation test fixtures: one live server per module and engine (`auto`), users in two
organizations, and the official st2 CLI and st2client in a virtual environment of their own
(`st2venv`: st2client pins its dependencies, so it never shares the project's environment)."""

from __future__ import annotations

import base64
import fcntl
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.automation.service import Automation
from stackyard.core.job_runner import JobRunner
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database
from tests.conftest import ENGINES, _truncate, start_server

ROOT = Path(__file__).resolve().parents[2]
ST2_VENV = ROOT / ".venv-st2"
ST2CLIENT = "st2client==3.9.0"
PASSWORD = "correct horse battery"


@dataclass
class Person:
    email: str
    uid: str
    org_uid: str
    token: str = ""

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.email}:{PASSWORD}".encode()).decode()


@dataclass
class Auto:
    """A live server, its database, and users: `alice` owns org A, `bob` owns org B, `olga` is a
    plain member (observer) of org A."""

    url: str
    db: Database
    settings: Settings
    engine: str
    people: dict[str, Person] = field(default_factory=dict)

    def http(self, who: str | None = "alice", **headers: str) -> httpx.Client:
        if who is not None:
            headers.setdefault("X-Auth-Token", self.people[who].token)
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def env(self, who: str = "alice") -> dict[str, str]:
        """Environment for the st2 CLI / st2client run as `who`."""
        home = tempfile.mkdtemp(prefix="st2home-")
        return {
            "PATH": os.environ.get("PATH", ""),
            "HOME": home,
            "ST2_AUTH_URL": self.url + "/auth/v1",
            "ST2_API_URL": self.url + "/api/v1",
            "ST2_STREAM_URL": self.url + "/stream/v1",
            "ST2_AUTH_TOKEN": self.people[who].token,
            "ST2_CLI_SKIP_CONFIG": "1",
            "ST2_COLORIZE": "1",
        }


def _people(url: str, db: Database, settings: Settings) -> dict[str, Person]:
    from stackyard.identity import organizations, passwords, users

    h = passwords.hash_password(PASSWORD, settings)
    out: dict[str, Person] = {}
    with db.write() as tx:
        for name in ("alice", "bob", "olga"):
            email = f"{name}@example.com"
            uid, _ = users.create(tx, email, password_hash=h)
            tx.run("UPDATE users SET active = 1 WHERE uid = ?", uid)
            org = organizations.create(tx, uid, f"{name} org") if name != "olga" else ""
            out[name] = Person(email, uid, org)
        out["olga"].org_uid = out["alice"].org_uid
        tx.run(
            "INSERT INTO org_members (org_uid, user_uid, role, created_at) VALUES (?, ?, 'member', 'x')",
            out["alice"].org_uid,
            out["olga"].uid,
        )
    with httpx.Client(base_url=url) as c:
        for p in out.values():
            r = c.post("/auth/v1/tokens", headers={"Authorization": p.basic}, json={})
            assert r.status_code == 201, r.text
            p.token = r.json()["token"]
    return out


@pytest.fixture(scope="module", params=ENGINES)
def auto(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Auto]:
    """One server per module and engine, with local runners and private outbound allowed (the
    refusal tests start their own). A module with `JOBS_IN_SERVER = False` gets a server that runs
    no jobs (its executions wait for a `stackyard worker`)."""
    data = tmp_path_factory.mktemp("auto")
    if request.param == "sqlite":
        db = Database(f"sqlite:///{data}/stackyard.db")
        migrations.upgrade(db)
    else:
        db = Database(request.getfixturevalue("pg_url"), pool_size=8)
        _truncate(db)
    settings = Settings(
        data_dir=str(data),
        access_log=False,
        auth_attempts_per_minute=100_000,
        failed_auth_per_minute=100_000,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
        allow_local_runners=getattr(request.module, "ALLOW_LOCAL_RUNNERS", True),
        allow_private_outbound=getattr(request.module, "ALLOW_PRIVATE_OUTBOUND", True),
        rate_limit_enabled=False,
        automation_inline_wait_ms=3000,
    )
    server, thread, url = start_server(settings, db)
    # the test server runs without its lifespan: start what `serve` runs beside the handlers
    automation = Automation(db, settings)
    automation.start()
    runner = JobRunner.from_settings(db, settings, threads=8, poll_seconds=0.2)
    if getattr(request.module, "JOBS_IN_SERVER", True):
        runner.start()
    try:
        yield Auto(url=url, db=db, settings=settings, engine=request.param, people=_people(url, db, settings))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        runner.stop(timeout=5)
        automation.stop()
        db.close()


@pytest.fixture(scope="session")
def st2venv() -> Path:
    """The python of a virtual environment holding st2client 3.9.0 (created once, then reused; a
    lock file makes parallel test processes wait for the one creating it)."""
    python = ST2_VENV / "bin" / "python"
    with open(ROOT / ".venv-st2.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (ST2_VENV / "bin" / "st2").exists():
            try:
                subprocess.run([sys.executable, "-m", "venv", str(ST2_VENV)], check=True, capture_output=True)
                subprocess.run(
                    [str(python), "-m", "pip", "install", "-q", ST2CLIENT],
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
            except (subprocess.SubprocessError, OSError) as e:
                pytest.skip(f"could not create a virtual environment with {ST2CLIENT} under {ST2_VENV}: {e}")
    return python


def st2(
    auto: Auto, venv: Path, *args: str, who: str = "alice", check: bool = True, timeout: float = 60
) -> Any:
    """Run the official `st2` CLI; answers the CompletedProcess."""
    done = subprocess.run(
        [str(venv.parent / "st2"), *args], env=auto.env(who), capture_output=True, text=True, timeout=timeout
    )
    if check and done.returncode != 0:
        raise AssertionError(f"st2 {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def started_local(auto: Auto, venv: Path, cmd: str) -> str:
    """Start `core.local` with `cmd` through `st2 run -a` (not waiting for it); answers its id."""
    printed = st2(auto, venv, "run", "core.local", f"cmd={cmd}", "-a").stdout
    return re.search(r"st2 execution get ([0-9a-f]{24})", printed).group(1)  # type: ignore[union-attr]


def await_file(path: Path) -> str:
    """A shell loop that waits until `path` exists (a test's go-ahead to a running program)."""
    return f"while [ ! -e {path} ]; do sleep 0.05; done"


@contextmanager
def tailing(auto: Auto, venv: Path, eid: str) -> Iterator[subprocess.Popen[str]]:
    """`st2 execution tail eid` with its prints reaching the pipe as it makes them; killed on the
    way out if it is still running."""
    tail = subprocess.Popen(
        [str(venv.parent / "st2"), "execution", "tail", eid],
        env={**auto.env(), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield tail
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.communicate()


def st2py(auto: Auto, venv: Path, code: str, who: str = "alice") -> str:
    """Run a Python snippet with st2client in its own environment; answers its stdout."""
    done = subprocess.run(
        [str(venv), "-c", code], env=auto.env(who), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def webhook_rule(pack: str, url: str, **fields: Any) -> dict[str, Any]:
    """An enabled rule body on webhook `url` running core.noop, with `fields` over that."""
    return {
        "name": unique("rule"),
        "pack": pack,
        "enabled": True,
        "trigger": {"type": "core.st2.webhook", "parameters": {"url": url}},
        "action": {"ref": "core.noop"},
        **fields,
    }


def typed_rule(auto: Auto, pack: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    """A new trigger type of `pack`, and an enabled rule body on it running core.noop with `fields`
    over that: (the type's ref, the rule body)."""
    with auto.http() as c:
        made = c.post("/api/v1/triggertypes", json={"name": unique("custom"), "pack": pack})
        assert made.status_code == 201, made.text
    ref = made.json()["ref"]
    rule = {
        "name": unique("rule"),
        "pack": pack,
        "enabled": True,
        "trigger": {"type": ref},
        "action": {"ref": "core.noop"},
        **fields,
    }
    return ref, rule
