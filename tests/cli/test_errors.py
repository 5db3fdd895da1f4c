"""Exit codes: 2 for bad usage (argparse and our own UsageError), 1 for server and other errors."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Run
from tests.conftest import free_port


def test_unknown_command_and_missing_arguments_exit_2(cli: Run) -> None:
    assert cli("nonsense").code == 2
    r = cli("environment", "get")
    assert r.code == 2 and "the following arguments are required: name" in r.err
    assert cli("environment", "get", "  ", "--api-key", "k").code == 2
    assert cli("environment", "list", "-w", "0", "--api-key", "k").code == 2
    assert cli("environment", "list", "-j", "-y", "--api-key", "k").code == 2


def test_stack_commands_without_an_api_key_exit_2(cli: Run) -> None:
    r = cli("environment", "list")
    assert r.code == 2
    assert "pass --api-key or set STACKYARD_API_KEY" in r.err


def test_bad_json_exits_2_before_any_request(cli: Run) -> None:
    # the URL points nowhere: a request would fail with exit 1, not 2
    r = cli("--url", "http://127.0.0.1:9", "environment", "create", "--data", "{x", "--api-key", "k")
    assert r.code == 2 and "--data is not valid JSON" in r.err
    r = cli("entry", "list", "blog", "--query", "{x", "--api-key", "k")
    assert r.code == 2 and "not valid JSON" in r.err
    r = cli("content-type", "import", "/nonexistent.json", "--api-key", "k")
    assert r.code == 2 and "no such file" in r.err


def test_unreachable_server_exits_1(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKYARD_AUTHTOKEN", "t")
    r = cli("whoami", "--url", f"http://127.0.0.1:{free_port()}")
    assert r.code == 1
    assert r.err.startswith("ERROR: ")
