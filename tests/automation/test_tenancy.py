"""Two organizations never see or touch each other's automation: actions, rules, keys, executions,
API keys, trigger instances; an observer reads but does not write."""

from __future__ import annotations

from typing import Any

from tests.automation.conftest import Auto, unique


def _setup(auto: Auto) -> dict[str, Any]:
    name, hook = unique("t"), unique("h")
    with auto.http("alice") as a:
        action = a.post("/api/v1/actions", json={"name": name, "pack": "mine", "runner_type": "noop"}).json()
        rule = a.post(
            "/api/v1/rules",
            json={
                "name": name,
                "pack": "mine",
                "enabled": True,
                "trigger": {"type": "core.st2.webhook", "parameters": {"url": hook}},
                "action": {"ref": action["ref"]},
            },
        ).json()
        a.put(f"/api/v1/keys/{name}", json={"name": name, "value": "private"})
        a.post(f"/api/v1/webhooks/{hook}", json={"x": 1})
        execution = a.get("/api/v1/executions", params={"rule": rule["ref"]}).json()[0]
        instance = a.get("/api/v1/triggerinstances", params={"trigger": rule["trigger"]["ref"]}).json()[0]
        key = a.post("/api/v1/apikeys", json={}).json()
    return {
        "name": name,
        "hook": hook,
        "action": action,
        "rule": rule,
        "execution": execution,
        "instance": instance,
        "apikey": key,
    }


def test_other_organization_sees_nothing(auto: Auto) -> None:
    s = _setup(auto)
    with auto.http("bob") as b:
        assert s["action"]["ref"] not in [x["ref"] for x in b.get("/api/v1/actions").json()]
        assert b.get(f"/api/v1/actions/{s['action']['ref']}").status_code == 404
        assert b.get(f"/api/v1/actions/{s['action']['id']}").status_code == 404
        assert b.get("/api/v1/rules").json() == [] or s["rule"]["ref"] not in [
            x["ref"] for x in b.get("/api/v1/rules").json()
        ]
        assert b.get(f"/api/v1/rules/{s['rule']['id']}").status_code == 404
        assert b.get(f"/api/v1/keys/{s['name']}").status_code == 404
        assert s["name"] not in [k["name"] for k in b.get("/api/v1/keys").json()]
        assert b.get(f"/api/v1/executions/{s['execution']['id']}").status_code == 404
        assert s["execution"]["id"] not in [e["id"] for e in b.get("/api/v1/executions").json()]
        assert b.get(f"/api/v1/triggerinstances/{s['instance']['id']}").status_code == 404
        assert s["instance"]["id"] not in [i["id"] for i in b.get("/api/v1/triggerinstances").json()]
        assert b.get(f"/api/v1/apikeys/{s['apikey']['id']}").status_code == 404
        # nor touch
        assert (
            b.put(
                f"/api/v1/actions/{s['action']['id']}", json={**s["action"], "description": "x"}
            ).status_code
            == 404
        )
        assert b.delete(f"/api/v1/rules/{s['rule']['id']}").status_code == 404
        assert b.delete(f"/api/v1/keys/{s['name']}").status_code == 404
        assert b.delete(f"/api/v1/executions/{s['execution']['id']}").status_code == 404
        assert b.post(f"/api/v1/executions/{s['execution']['id']}/re_run", json={}).status_code == 404
        assert b.post(f"/api/v1/webhooks/{s['hook']}", json={}).status_code == 404
        assert b.post("/api/v1/executions", json={"action": s["action"]["ref"]}).status_code == 400
        assert b.put(f"/api/v1/apikeys/{s['apikey']['id']}", json={"enabled": False}).status_code == 404
        assert b.get("/api/v1/webhooks").json() == [] or s["hook"] not in [
            w["parameters"]["url"] for w in b.get("/api/v1/webhooks").json()
        ]
    with auto.http(None, **{"St2-Api-Key": s["apikey"]["key"]}) as k:
        assert k.get(f"/api/v1/keys/{s['name']}").json()["value"] == "private"


def test_observer_reads_but_does_not_write(auto: Auto) -> None:
    s = _setup(auto)
    with auto.http("olga") as o:
        assert o.get(f"/api/v1/actions/{s['action']['ref']}").status_code == 200
        assert o.get(f"/api/v1/executions/{s['execution']['id']}").status_code == 200
        assert o.post("/api/v1/executions", json={"action": "core.noop"}).status_code == 403
        assert o.post("/api/v1/actions", json={"name": "x", "runner_type": "noop"}).status_code == 403
        assert o.delete(f"/api/v1/rules/{s['rule']['id']}").status_code == 403
        assert o.post(f"/api/v1/webhooks/{s['hook']}", json={}).status_code == 403
        assert o.get("/api/v1/executions", params={"limit": -1}).status_code == 403
