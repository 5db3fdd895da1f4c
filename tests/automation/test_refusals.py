"""What the server refuses: host runners without --allow-local-runners, private addresses without
--allow-private-outbound, templates reaching Python internals; and secrets stay out of results,
logs and the stream."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import httpx
import pytest

from stackyard.automation import executions
from stackyard.store.engine import jload
from tests.automation.conftest import Auto, unique
from tests.conftest import wait_for

ALLOW_LOCAL_RUNNERS = False
ALLOW_PRIVATE_OUTBOUND = False


def test_no_host_runner_without_the_flag(auto: Auto, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    with auto.http() as c:
        r = c.post(
            "/api/v1/executions", json={"action": "core.local", "parameters": {"cmd": f"touch {marker}"}}
        )
        assert r.status_code == 400 and "--allow-local-runners" in r.json()["faultstring"]
        name = unique("script")
        c.post(
            "/api/v1/actions",
            json={"name": name, "pack": "x", "runner_type": "python-script", "entry_point": "a.py"},
        )
        r = c.post("/api/v1/executions", json={"action": f"x.{name}"})
        assert r.status_code == 400 and "--allow-local-runners" in r.json()["faultstring"]
        pack = tmp_path / "hostpack"
        pack.mkdir()
        (pack / "pack.yaml").write_text("name: hostpack\n")
        r = c.post("/api/v1/packs/install", json={"packs": [str(pack)]})  # installing reads the host
        assert r.status_code == 400 and "--allow-local-runners" in r.json()["faultstring"]
        assert c.get("/api/v1/packs/hostpack").status_code == 404
        r = c.post("/api/v1/executions", json={"action": "core.ask", "parameters": {"schema": {}}})
        assert r.status_code == 400 and "inquiries are not supported" in r.json()["faultstring"]
        r = c.get("/api/v1/inquiries")
        assert r.status_code == 501 and "not supported" in r.json()["faultstring"]
        # native core actions still run
        assert (
            c.post(
                "/api/v1/executions", json={"action": "core.echo", "parameters": {"message": "hi"}}
            ).json()["status"]
            == "succeeded"
        )
    assert not marker.exists()


def test_no_private_outbound_without_the_flag(auto: Auto) -> None:
    hits: list[str] = []
    with auto.http() as c:
        for url in (auto.url + "/healthz", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"):
            r = c.post("/api/v1/executions", json={"action": "core.http", "parameters": {"url": url}})
            eid = r.json()["id"]
            done = wait_for(
                lambda eid=eid: (
                    (s := c.get(f"/api/v1/executions/{eid}").json())["status"] in ("succeeded", "failed")
                    and s
                )
            )
            assert done["status"] == "failed" and "Refused" in done["result"]["error"], done["result"]
            hits.append(done["result"]["error"])
    assert len(hits) == 3


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ st2kv.__init__.__globals__ }}",
        "{{ st2kv._lookup }}",
        "{{ action_context.__class__ }}",
    ],
)
def test_templates_cannot_reach_python_internals(auto: Auto, template: str) -> None:
    with auto.http() as c:
        r = c.post("/api/v1/executions", json={"action": "core.echo", "parameters": {"message": template}})
        body = r.json()
        assert r.status_code == 400 or (
            "class" not in str(body.get("result")) and "os" not in str(body.get("result"))
        ), body
        if r.status_code == 201:
            assert body["result"]["stdout"] in ("", "None")


def test_secrets_stay_out_of_results_logs_and_stream(auto: Auto, caplog: pytest.LogCaptureFixture) -> None:
    secret = "pa55-" + unique("")
    name = unique("sec")
    seen: list[str] = []
    token = auto.people["alice"].token

    def listen() -> None:
        with (
            httpx.Client(base_url=auto.url, timeout=20) as c,
            c.stream("GET", "/stream/v1/stream", params={"x-auth-token": token}) as s,
        ):
            for line in s.iter_lines():
                seen.append(line)
                if name in line and '"succeeded"' in line:
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    wait_for(lambda: seen, what="the stream")
    caplog.set_level(logging.DEBUG)
    with auto.http() as c:
        c.post(
            "/api/v1/actions",
            json={
                "name": name,
                "pack": "x",
                "runner_type": "noop",
                "parameters": {"password": {"type": "string", "secret": True}},
            },
        )
        r = c.post("/api/v1/executions", json={"action": f"x.{name}", "parameters": {"password": secret}})
        assert r.json()["parameters"]["password"] == "********"
        assert secret not in c.get("/api/v1/executions").text
        assert secret not in c.get(f"/api/v1/executions/{r.json()['id']}").text
        again = c.post(f"/api/v1/executions/{r.json()['id']}/re_run", json={}).json()
    with auto.db.read() as tx:  # at rest it is encrypted with the key-value store's key
        docs = [
            jload(tx.scalar("SELECT doc FROM st2_executions WHERE id = ?", i))
            for i in (r.json()["id"], again["id"])
        ]
    assert all(secret not in json.dumps(d) for d in docs)
    assert [executions.values_of(auto.settings, d)["password"] for d in docs] == [secret, secret]
    t.join(10)
    assert seen and secret not in "\n".join(seen)
    assert secret not in caplog.text
