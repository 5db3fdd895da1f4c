"""The real `stackyard` process: exit codes, stdout/stderr split and the session file across runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import CLI_ENV
from tests.conftest import Live, User


def _run(config_dir: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in CLI_ENV}
    base.update(STACKYARD_CONFIG_DIR=str(config_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "stackyard", *argv], env=base, capture_output=True, text=True, timeout=60
    )


def test_processes_share_the_session_and_report_exit_codes(
    live: Live, owner: User, api_key: str, tmp_path: Path
) -> None:
    config_dir = tmp_path / "cfg"
    # bad usage is 2, before anything else happens
    r = _run(config_dir, "environment", "list", "--width", "x")
    assert r.returncode == 2 and "not a number" in r.stderr and r.stdout == ""
    # no session yet: whoami fails with 1 and a message on stderr
    assert _run(config_dir, "whoami", "--url", live.url).returncode == 1
    # given a login in one process
    r = _run(config_dir, "login", "--url", live.url, "--email", owner.email, "--password", owner.password)
    assert r.returncode == 0, r.stderr
    # then a second process is logged in, and its -j output is clean JSON on stdout
    r = _run(config_dir, "environment", "create", "prod", "-j", STACKYARD_API_KEY=api_key)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["name"] == "prod"
    assert r.stderr == "Environment created successfully.\n"
    # and a server-side refusal is exit 1
    r = _run(config_dir, "environment", "create", "prod", STACKYARD_API_KEY=api_key)
    assert r.returncode == 1 and r.stderr.startswith("ERROR: 409 ")
    assert _run(config_dir, "logout").returncode == 0
    assert not (config_dir / "session.json").exists()
