"""Runners, actions and executions through the official st2 CLI and plain HTTP, on both engines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stackyard.automation import totals
from tests.automation.conftest import Auto, st2, unique
from tests.conftest import wait_for


def test_runner_and_action_listing(auto: Auto, st2venv: Path) -> None:
    runners = json.loads(st2(auto, st2venv, "runner", "list", "-j").stdout)
    assert {"local-shell-cmd", "http-request", "noop", "python-script"} <= {r["name"] for r in runners}
    core = json.loads(st2(auto, st2venv, "action", "list", "-p", "core", "-j").stdout)
    assert {"core.echo", "core.local", "core.http", "core.noop"} <= {a["ref"] for a in core}
    got = json.loads(st2(auto, st2venv, "action", "get", "core.http", "-j").stdout)
    assert got["runner_type"] == "http-request"


def test_st2_run_echo_is_finished_when_post_answers(auto: Auto, st2venv: Path) -> None:
    done = st2(auto, st2venv, "run", "core.echo", "message=hello world", "-j")
    # the CLI prints a dot for every 2 s poll of an unfinished execution: here there is none
    assert not done.stdout.startswith(".")
    out = json.loads(done.stdout)
    assert out["status"] == "succeeded" and out["result"]["stdout"] == "hello world"


def test_st2_run_local_success_failure_timeout(auto: Auto, st2venv: Path) -> None:
    ok = json.loads(st2(auto, st2venv, "run", "core.local", "cmd=echo hi; echo err >&2", "-j").stdout)
    assert ok["status"] == "succeeded" and ok["result"]["stdout"] == "hi" and ok["result"]["stderr"] == "err"
    bad = st2(auto, st2venv, "run", "core.local", "cmd=exit 3", "-j", check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["result"]["return_code"] == 3
    slow = json.loads(st2(auto, st2venv, "run", "core.local", "cmd=sleep 30", "timeout=1", "-j").stdout)
    assert slow["status"] == "timeout"
    out = st2(auto, st2venv, "execution", "tail", ok["id"]).stdout
    assert "hi" in out


def test_cancel_rerun_list_and_get(auto: Auto, st2venv: Path) -> None:
    started = st2(auto, st2venv, "run", "core.local", "cmd=sleep 20", "-a").stdout
    eid = re.search(r"st2 execution get ([0-9a-f]{24})", started).group(1)  # type: ignore[union-attr]
    with auto.http() as c:
        wait_for(lambda: c.get(f"/api/v1/executions/{eid}").json()["status"] == "running", what="running")
    st2(auto, st2venv, "execution", "cancel", eid)
    with auto.http() as c:
        final = wait_for(
            lambda: (s := c.get(f"/api/v1/executions/{eid}").json())["status"] == "canceled" and s,
            what="canceled",
        )
        assert final["status"] == "canceled"
        again = c.delete(f"/api/v1/executions/{eid}")
        assert again.status_code == 200
    echo = json.loads(st2(auto, st2venv, "run", "core.echo", "message=one", "-j").stdout)
    rerun = json.loads(st2(auto, st2venv, "execution", "re-run", echo["id"], "message=two", "-j").stdout)
    with auto.http() as c:
        r = c.get(f"/api/v1/executions/{rerun['id']}")
        assert r.json()["result"]["stdout"] == "two" and r.json()["context"]["re-run"]["ref"] == echo["id"]
        page = c.get("/api/v1/executions", params={"limit": 2, "action": "core.echo"})
        assert (
            page.headers["X-Limit"] == "2"
            and int(page.headers["X-Total-Count"]) >= 2
            and len(page.json()) == 2
        )
        done = c.delete(f"/api/v1/executions/{echo['id']}").json()
        assert done == {"faultstring": "Action cannot be canceled. State = succeeded."}
    listed = json.loads(st2(auto, st2venv, "execution", "list", "-n", "5", "-j").stdout)
    assert rerun["id"] in [e["id"] for e in listed]
    got = json.loads(st2(auto, st2venv, "execution", "get", rerun["id"], "-j").stdout)
    assert got["id"] == rerun["id"]


def test_http_action_and_parameter_validation(auto: Auto, st2venv: Path) -> None:
    with auto.http() as c:
        r = c.post(
            "/api/v1/executions",
            json={"action": "core.http", "parameters": {"url": auto.url + "/healthz"}, "user": None},
        )
        assert r.status_code == 201, r.text
        eid = r.json()["id"]
        done = wait_for(
            lambda: (
                (s := c.get(f"/api/v1/executions/{eid}").json())["status"] in ("succeeded", "failed") and s
            )
        )
        assert done["status"] == "succeeded" and done["result"]["status_code"] == 200
        bad = c.post("/api/v1/executions", json={"action": "core.echo", "parameters": {}})
        assert bad.status_code == 400 and "message" in bad.json()["faultstring"]
        bad = c.post(
            "/api/v1/executions", json={"action": "core.echo", "parameters": {"message": "x", "nope": 1}}
        )
        assert bad.status_code == 400
        bad = c.post("/api/v1/executions", json={"action": "core.nothing"})
        assert (
            bad.status_code == 400 and bad.json()["faultstring"] == 'Action "core.nothing" cannot be found.'
        )
        for ref in ("core.remote", "core.local_sudo"):
            r = c.post("/api/v1/executions", json={"action": ref, "parameters": {"cmd": "id", "hosts": "h"}})
            assert r.status_code == 400 and "refused" in r.json()["faultstring"]


def test_custom_action_with_secret_parameter(auto: Auto, st2venv: Path) -> None:
    name = unique("greet")
    action = {
        "name": name,
        "pack": "examples",
        "runner_type": "local-shell-cmd",
        "enabled": True,
        "parameters": {
            "who": {"type": "string", "required": True},
            "token": {"type": "string", "secret": True, "required": True},
            "cmd": {"default": "echo hello {{ who }}"},
        },
    }
    path = Path(auto.settings.data_dir) / f"{name}.json"
    path.write_text(json.dumps(action))
    st2(auto, st2venv, "action", "create", str(path))
    out = json.loads(
        st2(auto, st2venv, "run", f"examples.{name}", "who=you", "token=s3cr3t-value", "-j").stdout
    )
    assert out["status"] == "succeeded" and out["result"]["stdout"] == "hello you"
    assert out["parameters"]["token"] == "********"
    with auto.http() as c:
        listed = c.get("/api/v1/executions", params={"action": f"examples.{name}"}).text
        assert "s3cr3t-value" not in listed
        bad = c.post(
            "/api/v1/actions", json={**action, "name": unique("x"), "parameters": {"a": {"type": "strng"}}}
        )
        assert bad.status_code == 400
        dup = c.post("/api/v1/actions", json=action)
        assert dup.status_code == 409


def test_list_totals_stay_exact_as_executions_settle(auto: Auto, monkeypatch: pytest.MonkeyPatch) -> None:
    """X-Total-Count is a remembered count up to a horizon plus the rows after it: with the horizon
    at "now", every list moves it, and the totals must still follow each new execution."""
    monkeypatch.setattr(totals, "SETTLED_SECONDS", 0.0)
    action = "core.echo,core.noop"

    def total(**params: str) -> int:
        with auto.http() as c:
            r = c.get("/api/v1/executions", params={"limit": "1", "action": action, **params})
            assert r.status_code == 200, r.text
            return int(r.headers["X-Total-Count"])

    before, top = total(), total(parent="null")
    with auto.http() as c:
        for i in range(3):
            r = c.post("/api/v1/executions", json={"action": "core.echo", "parameters": {"message": f"t{i}"}})
            assert r.status_code == 201, r.text
            assert total() == before + i + 1
            assert total(parent="null") == top + i + 1
