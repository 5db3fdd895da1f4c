"""Packs registered from a local directory: actions (metadata YAML plus entry points) and rules,
through `st2 pack register`; a python-script action and a local-shell-script action run."""

from __future__ import annotations

import json
from pathlib import Path

from tests.automation.conftest import Auto, st2

PY_ACTION = """
from st2common.runners.base_action import Action


class Greet(Action):
    def run(self, who, times=1):
        print("greeting", who)
        return {"greeting": " ".join(["hello " + who] * times)}
"""


def _pack(auto: Auto, org_uid: str) -> Path:
    pack = Path(auto.settings.data_dir) / "packs" / org_uid / "hello"
    (pack / "actions").mkdir(parents=True, exist_ok=True)
    (pack / "rules").mkdir(exist_ok=True)
    (pack / "pack.yaml").write_text("name: hello\ndescription: Greetings.\nversion: 1.2.3\nauthor: Tests\n")
    (pack / "actions" / "greet.py").write_text(PY_ACTION)
    (pack / "actions" / "greet.yaml").write_text(
        "name: greet\nrunner_type: python-script\nentry_point: greet.py\nenabled: true\n"
        "parameters:\n  who: {type: string, required: true}\n  times: {type: integer, default: 1}\n"
    )
    (pack / "actions" / "shout.sh").write_text('#!/bin/sh\necho "shout $1"\n')
    (pack / "actions" / "shout.yaml").write_text(
        "name: shout\nrunner_type: local-shell-script\nentry_point: shout.sh\nparameters:\n  word: {type: string}\n"
    )
    (pack / "rules" / "on_hook.yaml").write_text(
        "name: on_hook\nenabled: true\ntrigger: {type: core.st2.webhook, parameters: {url: hello}}\n"
        "action: {ref: hello.greet, parameters: {who: '{{ trigger.body.who }}'}}\n"
    )
    return pack


def test_register_a_local_pack_and_run_its_actions(auto: Auto, st2venv: Path) -> None:
    _pack(auto, auto.people["alice"].org_uid)
    st2(auto, st2venv, "pack", "register", "hello")
    packs = json.loads(st2(auto, st2venv, "pack", "list", "-j").stdout)
    assert {"core", "hello"} <= {p["ref"] for p in packs}
    assert json.loads(st2(auto, st2venv, "pack", "get", "hello", "-j").stdout)["version"] == "1.2.3"
    out = json.loads(st2(auto, st2venv, "run", "hello.greet", "who=you", "times=2", "-j").stdout)
    assert out["status"] == "succeeded" and out["result"]["result"] == {"greeting": "hello you hello you"}
    with auto.http() as c:  # the result is not the action's output
        assert c.get(f"/api/v1/executions/{out['id']}/output").text == "greeting you\n"
    out = json.loads(st2(auto, st2venv, "run", "hello.shout", "word=hey", "-j").stdout)
    assert out["status"] == "succeeded", out
    with auto.http() as c:
        assert c.get("/api/v1/rules/hello.on_hook").json()["enabled"] is True
        c.post("/api/v1/webhooks/hello", json={"who": "hook"})
        runs = c.get("/api/v1/executions", params={"rule": "hello.on_hook"}).json()
    assert runs and runs[0]["parameters"]["who"] == "hook"
    with auto.http("bob") as b:  # another organization's packs directory is its own
        assert b.get("/api/v1/packs/hello").status_code == 404
        assert b.post("/api/v1/packs/register", json={"packs": ["hello"]}).status_code == 400


CHAIN = """
chain:
  - name: greet
    ref: core.echo
    parameters: {message: "hi {{ who }}"}
    on-success: repeat
  - name: repeat
    ref: core.local
    parameters: {cmd: "echo again {{ greet.stdout }}"}
    on-success: boom
  - name: boom
    ref: core.local
    parameters: {cmd: "exit 1"}
    on-failure: recover
  - name: recover
    ref: core.noop
"""


def test_action_chain_runs_children(auto: Auto, st2venv: Path) -> None:
    pack = Path(auto.settings.data_dir) / "packs" / auto.people["alice"].org_uid / "chains"
    (pack / "actions" / "chains").mkdir(parents=True, exist_ok=True)
    (pack / "actions" / "chains" / "flow.yaml").write_text(CHAIN)
    (pack / "actions" / "flow.yaml").write_text(
        "name: flow\nrunner_type: action-chain\nentry_point: chains/flow.yaml\nparameters:\n  who: {type: string}\n"
    )
    st2(auto, st2venv, "pack", "register", "chains")
    printed = st2(auto, st2venv, "run", "chains.flow", "who=you", "-j", timeout=60).stdout
    assert all(
        f'"task": "{name}"' in printed for name in ("greet", "repeat", "boom", "recover")
    )  # its task table
    with auto.http() as c:
        out = c.get("/api/v1/executions", params={"action": "chains.flow", "limit": 1}).json()[0]
    assert out["status"] == "succeeded", out
    tasks = out["result"]["tasks"]
    assert [t["name"] for t in tasks] == ["greet", "repeat", "boom", "recover"]
    assert [t["state"] for t in tasks] == ["succeeded", "succeeded", "failed", "succeeded"]
    assert tasks[1]["result"]["stdout"] == "again hi you"
    with auto.http() as c:
        children = c.get(f"/api/v1/executions/{out['id']}/children", params={"depth": -1}).json()
        assert len(children) == 4 and all(ch["parent"] == out["id"] for ch in children)
        assert children[0]["context"]["chain"]["name"] == "greet"
        top = c.get("/api/v1/executions", params={"parent": "null", "action": "core.echo"}).json()
        assert tasks[0]["execution_id"] not in [e["id"] for e in top]


def test_pack_install_from_a_local_directory(auto: Auto, st2venv: Path, tmp_path: Path) -> None:
    source = tmp_path / "src" / "greeter"
    (source / "actions").mkdir(parents=True)
    (source / "pack.yaml").write_text(
        "name: greeter\ndescription: Installed.\nversion: 2.0.0\nauthor: Tests\n"
    )
    (source / "actions" / "hi.sh").write_text('#!/bin/sh\necho "hi from an installed pack $1"\n')
    (source / "actions" / "hi.yaml").write_text(
        "name: hi\nrunner_type: local-shell-script\nentry_point: hi.sh\nparameters:\n  who: {type: string}\n"
    )
    done = st2(auto, st2venv, "pack", "install", str(source))
    assert "greeter" in done.stdout and "2.0.0" in done.stdout  # the installed pack, as `pack get` shows it
    out = json.loads(st2(auto, st2venv, "run", "greeter.hi", "who=you", "-j").stdout)
    assert out["status"] == "succeeded" and out["result"]["stdout"].startswith("hi from an installed pack")
    # installing again (a file:// URL this time) replaces the installed copy
    (source / "pack.yaml").write_text(
        "name: greeter\ndescription: Installed.\nversion: 2.1.0\nauthor: Tests\n"
    )
    st2(auto, st2venv, "pack", "install", f"file://{source}", "-j")
    assert json.loads(st2(auto, st2venv, "pack", "get", "greeter", "-j").stdout)["version"] == "2.1.0"
    with auto.http("bob") as b:  # installed for alice's organization only
        assert b.get("/api/v1/packs/greeter").status_code == 404
        assert b.get("/api/v1/actions/greeter.hi").status_code == 404


def test_pack_install_refuses_what_is_not_a_local_pack(auto: Auto, st2venv: Path, tmp_path: Path) -> None:
    done = st2(auto, st2venv, "pack", "install", "aws", check=False)
    assert done.returncode != 0
    assert "not supported by this server" in done.stdout + done.stderr
    done = st2(
        auto, st2venv, "pack", "install", "https://github.com/StackStorm-Exchange/stackstorm-aws", check=False
    )
    assert done.returncode != 0 and "not supported by this server" in done.stdout + done.stderr
    done = st2(auto, st2venv, "pack", "install", str(tmp_path), check=False)  # no pack.yaml there
    assert done.returncode != 0 and "has no pack.yaml" in done.stdout + done.stderr
    with auto.http("olga") as c:  # an observer installs nothing
        assert c.post("/api/v1/packs/install", json={"packs": [str(tmp_path)]}).status_code == 403


def test_a_pack_install_that_fails_leaves_the_files_as_they_were(
    auto: Auto, st2venv: Path, tmp_path: Path
) -> None:
    installed = Path(auto.settings.data_dir) / "packs" / auto.people["alice"].org_uid / "keeper"
    source = tmp_path / "keeper"
    (source / "actions").mkdir(parents=True)
    (source / "pack.yaml").write_text("name: keeper\nversion: 1.0.0\n")
    (source / "actions" / "hi.sh").write_text('#!/bin/sh\necho "hi"\n')
    (source / "actions" / "hi.yaml").write_text(
        "name: hi\nrunner_type: local-shell-script\nentry_point: hi.sh\n"
    )
    with auto.http() as c:
        # given version 1.0.0 installed
        assert c.post("/api/v1/packs/install", json={"packs": [str(source)]}).status_code in (200, 202)
        # when 2.0.0 comes with an action file that does not parse, and a new pack with one too
        (source / "pack.yaml").write_text("name: keeper\nversion: 2.0.0\n")
        (source / "actions" / "broken.yaml").write_text("name: [broken\n")
        fresh = tmp_path / "fresh"
        (fresh / "actions").mkdir(parents=True)
        (fresh / "pack.yaml").write_text("name: fresh\nversion: 1.0.0\n")
        (fresh / "actions" / "broken.yaml").write_text("name: [broken\n")
        for sources in ([str(source)], [str(fresh)]):
            r = c.post("/api/v1/packs/install", json={"packs": sources})
            assert r.status_code == 400 and "broken.yaml" in r.text, r.text
        # then the installed copy is still 1.0.0, no copy of the new pack is left, and it still runs
        assert "version: 1.0.0" in (installed / "pack.yaml").read_text()
        assert not (installed / "actions" / "broken.yaml").exists()
        left = [p.name for p in installed.parent.iterdir() if "fresh" in p.name or p.name.startswith(".")]
        assert left == []
        assert c.get("/api/v1/packs/keeper").json()["version"] == "1.0.0"
    out = json.loads(st2(auto, st2venv, "run", "keeper.hi", "-j").stdout)
    assert out["status"] == "succeeded" and out["result"]["stdout"].strip() == "hi"
