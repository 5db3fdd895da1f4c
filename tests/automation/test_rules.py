"""Rules end to end: webhooks whose criteria pass and fail, the generic st2 webhook, an interval
timer, a rule on a content event, the action trigger, enforcements and traces, the stream."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.automation.conftest import PASSWORD, Auto, st2, st2py, typed_rule, unique
from tests.conftest import wait_for


def _rule(auto: Auto, st2venv: Path, rule: dict[str, Any]) -> dict[str, Any]:
    path = Path(auto.settings.data_dir) / f"{rule['name']}.json"
    path.write_text(json.dumps(rule))
    return json.loads(st2(auto, st2venv, "rule", "create", str(path), "-j").stdout)


def _key_from_custom_trigger(auto: Auto, st2venv: Path, key: str) -> tuple[str, dict[str, Any]]:
    """A custom trigger type and a rule on it writing `key` from the payload's `x`: (type ref, rule)."""
    action = {"ref": "st2.kv.set", "parameters": {"key": key, "value": "{{ trigger.x }}"}}
    type_ref, rule = typed_rule(auto, "examples", action=action)
    return type_ref, _rule(auto, st2venv, rule)


def _executions(c: httpx.Client, **params: str) -> list[dict[str, Any]]:
    return c.get("/api/v1/executions", params=params).json()


def test_webhook_rule_criteria_pass_and_fail(auto: Auto, st2venv: Path) -> None:
    name, hook = unique("hook"), unique("incoming")
    made = _rule(
        auto,
        st2venv,
        {
            "name": name,
            "pack": "examples",
            "enabled": True,
            "trigger": {"type": "core.st2.webhook", "parameters": {"url": hook}},
            "criteria": {
                "trigger.body.level": {"type": "equals", "pattern": "high"},
                "trigger.body.n": {"type": "gt", "pattern": 2},
            },
            "action": {"ref": "core.echo", "parameters": {"message": "alert {{ trigger.body.what }}"}},
        },
    )
    assert made["enabled"] is True and made["trigger"]["type"] == "core.st2.webhook"
    with auto.http() as c:
        assert (
            c.post(f"/api/v1/webhooks/{hook}", json={"level": "low", "n": 5, "what": "no"}).status_code == 202
        )
        r = c.post(f"/api/v1/webhooks/{hook}", json={"level": "high", "n": 5, "what": "disk"})
        assert r.status_code == 202 and r.json()["what"] == "disk"
        runs = _executions(c, rule=f"examples.{name}")
        assert [e["result"]["stdout"] for e in runs] == ["alert disk"]
        assert runs[0]["rule"]["ref"] == f"examples.{name}"
        enforced = c.get("/api/v1/ruleenforcements", params={"rule_ref": f"examples.{name}"}).json()
        assert [e["execution_id"] for e in enforced] == [runs[0]["id"]]
        instances = c.get("/api/v1/triggerinstances", params={"trigger": made["trigger"]["ref"]}).json()
        assert len(instances) == 2
        traces = c.get("/api/v1/traces").json()
        assert any(
            t["action_executions"] and t["action_executions"][0]["object_id"] == runs[0]["id"] for t in traces
        )
        assert c.post("/api/v1/webhooks/not-there", json={}).status_code == 404
    hooks = json.loads(st2(auto, st2venv, "webhook", "list", "-j").stdout)
    assert hook in [h.get("url") or h["parameters"]["url"] for h in hooks]
    st2(auto, st2venv, "rule", "disable", f"examples.{name}")
    with auto.http() as c:
        c.post(f"/api/v1/webhooks/{hook}", json={"level": "high", "n": 9, "what": "off"})
        assert len(_executions(c, rule=f"examples.{name}")) == 1
    listed = json.loads(st2(auto, st2venv, "rule-enforcement", "list", "-j").stdout)
    assert listed


def test_generic_webhook_and_action_trigger(auto: Auto, st2venv: Path) -> None:
    key = unique("after")
    _rule(
        auto,
        st2venv,
        {
            "name": unique("chain"),
            "pack": "examples",
            "enabled": True,
            "trigger": {"type": "core.st2.generic.actiontrigger"},
            "criteria": {"trigger.action_ref": {"type": "equals", "pattern": "core.uuid"}},
            "action": {"ref": "st2.kv.set", "parameters": {"key": key, "value": "{{ trigger.status }}"}},
        },
    )
    with auto.http() as c:
        r = c.post("/api/v1/executions", json={"action": "core.uuid", "parameters": {}})
        assert r.json()["status"] == "succeeded"
        wait_for(lambda: c.get(f"/api/v1/keys/{key}").status_code == 200, what="the action trigger's rule")
        assert c.get(f"/api/v1/keys/{key}").json()["value"] == "succeeded"
        target = unique("gen")
        type_ref, _ = _key_from_custom_trigger(auto, st2venv, target)
        r = c.post("/api/v1/webhooks/st2", json={"trigger": type_ref, "payload": {"x": "42"}})
        assert r.status_code == 202
        assert c.get(f"/api/v1/keys/{target}").json()["value"] == "42"


def test_st2client_posts_the_generic_webhook(auto: Auto, st2venv: Path) -> None:
    # Given a rule on a custom trigger type that writes a key from the payload
    key, tag = unique("generic"), unique("tag")
    type_ref, made = _key_from_custom_trigger(auto, st2venv, key)
    # When st2client posts the generic webhook with a trace tag
    code = (
        "from st2client.client import Client\n"
        f"r = Client().webhooks.post_generic_webhook(trigger={type_ref!r}, payload={{'x': 'hi'}}, "
        f"trace_tag={tag!r})\n"
        "print(r['trigger'])\n"
    )
    # Then the client takes the answer, and when it has it the rule has run, traced under the tag
    assert st2py(auto, st2venv, code).strip() == type_ref
    with auto.http() as c:
        assert c.get(f"/api/v1/keys/{key}").json()["value"] == "hi"
        traced = c.get("/api/v1/traces", params={"trace_tag": tag}).json()
    assert [t["rules"][0]["ref"] for t in traced] == [made["ref"]]


def test_interval_timer_fires(auto: Auto, st2venv: Path) -> None:
    key = unique("tick")
    made = _rule(
        auto,
        st2venv,
        {
            "name": unique("timer"),
            "pack": "examples",
            "enabled": True,
            "trigger": {"type": "core.st2.IntervalTimer", "parameters": {"unit": "seconds", "delta": 1}},
            "action": {"ref": "st2.kv.set", "parameters": {"key": key, "value": "{{ trigger.executed_at }}"}},
        },
    )
    with auto.http() as c:
        first = wait_for(
            lambda: (r := c.get(f"/api/v1/keys/{key}")).status_code == 200 and r.json()["value"], timeout=5
        )
        wait_for(
            lambda: c.get(f"/api/v1/keys/{key}").json()["value"] != first, timeout=5, what="a second tick"
        )
        timers = c.get("/api/v1/timers").json()
        assert made["trigger"]["ref"] in [t["ref"] for t in timers]
        c.delete(f"/api/v1/rules/{made['id']}")


def test_rule_on_a_content_event(auto: Auto, st2venv: Path) -> None:
    alice = auto.people["alice"]
    key = unique("env")
    _rule(
        auto,
        st2venv,
        {
            "name": unique("content"),
            "pack": "examples",
            "enabled": True,
            "trigger": {"type": "stackyard.environment.create"},
            "criteria": {"trigger.data.name": {"type": "startswith", "pattern": "prod"}},
            "action": {
                "ref": "st2.kv.set",
                "parameters": {"key": key, "value": "{{ trigger.data.name }}@{{ trigger.api_key }}"},
            },
        },
    )
    with httpx.Client(base_url=auto.url) as cma:
        r = cma.post("/v3/user-session", json={"user": {"email": alice.email, "password": PASSWORD}})
        authtoken = r.json()["user"]["authtoken"]
        r = cma.post(
            "/v3/stacks",
            headers={"authtoken": authtoken},
            json={"stack": {"name": "S", "master_locale": "en-us"}},
        )
        api_key = r.json()["stack"]["api_key"]
        h = {"authtoken": authtoken, "api_key": api_key}
        assert (
            cma.post("/v3/environments", headers=h, json={"environment": {"name": "staging"}}).status_code
            == 201
        )
        assert (
            cma.post("/v3/environments", headers=h, json={"environment": {"name": "production"}}).status_code
            == 201
        )
    with auto.http() as c:
        found = wait_for(
            lambda: (r := c.get(f"/api/v1/keys/{key}")).status_code == 200 and r.json()["value"],
            what="the content rule",
        )
        assert found == f"production@{api_key}"
    with auto.http("bob") as b:
        assert b.get(f"/api/v1/keys/{key}").status_code == 404


def test_stream_sees_execution_events(auto: Auto, st2venv: Path) -> None:
    seen: list[str] = []
    token = auto.people["alice"].token

    def listen() -> None:
        with httpx.Client(base_url=auto.url, timeout=20) as c:
            url = "/stream/v1/stream"
            params = {"x-auth-token": token, "events": "st2.execution__update,st2.execution.output__create"}
            with c.stream("GET", url, params=params) as s:
                for line in s.iter_lines():
                    seen.append(line)
                    if "stream-marker" in line and line.startswith("data:") and '"succeeded"' in line:
                        return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    wait_for(lambda: seen, what="the stream to open")
    with auto.http() as c:
        c.post(
            "/api/v1/executions",
            json={
                "action": "core.echo",
                "parameters": {"message": "stream-marker", "cmd": 'echo "{{message}}"'},
            },
        )
    t.join(10)
    assert any(line == "event: st2.execution.output__create" for line in seen)
    assert any(line == "event: st2.execution__update" for line in seen)
    with auto.http(None) as anon:
        assert anon.get("/stream/v1/stream").status_code == 401


def test_st2_execution_tail_follows_a_running_execution(auto: Auto, st2venv: Path) -> None:
    started = st2(auto, st2venv, "run", "core.local", "cmd=sleep 3.5; echo tailed-line", "-a").stdout
    eid = started.split("st2 execution get ")[1].split()[0]
    out = st2(auto, st2venv, "execution", "tail", eid, timeout=30).stdout
    assert "tailed-line" in out and "succeeded" in out
