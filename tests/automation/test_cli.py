"""The `stackyard` automation commands against a live server: auth, run with k=v, list/get with
-j, keys, rules from a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stackyard.cli.main import main
from tests.automation.conftest import PASSWORD, Auto, unique, webhook_rule


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.fixture
def env(auto: Auto, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Auto:
    monkeypatch.setenv("STACKYARD_URL", auto.url)
    monkeypatch.setenv("STACKYARD_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("ST2_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("ST2_API_KEY", raising=False)
    return auto


def test_auth_then_run_and_list(env: Auto, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "auth", env.people["alice"].email, "-p", PASSWORD, "-t")
    assert code == 0 and len(out.strip()) == 32
    code, out, _ = _run(capsys, "run", "core.echo", "message=from the cli", "-j")
    result: dict[str, Any] = json.loads(out)
    assert code == 0 and result["status"] == "succeeded" and result["result"]["stdout"] == "from the cli"
    code, out, _ = _run(capsys, "run", "core.local", "exit", "4")
    assert code == 1 and "failed" in out
    code, out, _ = _run(capsys, "execution", "list", "-n", "1", "-j")
    assert code == 0 and len(json.loads(out)) == 1
    code, out, _ = _run(capsys, "execution", "get", result["id"], "-a", "status", "result.stdout")
    assert "succeeded" in out and "from the cli" in out
    code, out, _ = _run(capsys, "action", "list", "-p", "core", "-j")
    assert "core.http" in [a["ref"] for a in json.loads(out)]


def test_keys_and_rules(
    env: Auto, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ST2_AUTH_TOKEN", env.people["alice"].token)
    name = unique("clikey")
    assert _run(capsys, "key", "set", name, "s3", "-e")[0] == 0
    code, out, _ = _run(capsys, "key", "get", name, "-d", "-j")
    assert json.loads(out)["value"] == "s3"
    rule = webhook_rule("cli", name)
    path = tmp_path / "rule.yaml"
    path.write_text(json.dumps(rule))
    assert _run(capsys, "rule", "create", str(path), "-j")[0] == 0
    assert _run(capsys, "rule", "disable", f"cli.{rule['name']}", "-j")[0] == 0
    code, out, _ = _run(capsys, "rule", "list", "-p", "cli", "-j")
    assert [r["enabled"] for r in json.loads(out) if r["ref"] == f"cli.{rule['name']}"] == [False]
    code, _, err = _run(capsys, "rule", "get", "cli.nothing")
    assert code == 1 and "not found" in err
