"""The server SIGKILLed while webhooks are being recorded together (`automation.intake`): after a
restart every webhook it answered 202 is there, with its enforcement and its finished execution,
and no batch was half written (as many instances, enforcements and executions)."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

import httpx

from stackyard.store.engine import Database, jload
from tests.automation.conftest import webhook_rule
from tests.server.test_crash import EMAIL, PASSWORD, Server, kill_mid_burst

SENDERS = 16


def _token(url: str) -> str:
    r = httpx.post(url + "/auth/v1/tokens", auth=(EMAIL, PASSWORD), json={}, timeout=30)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def _send(
    url: str, token: str, n: int, answered: list[int], cut_off: list[int], stop: threading.Event
) -> None:
    """Webhooks numbered n*100000+k until told to stop or the server goes away; note each answered 202."""
    with httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=10) as c:
        k = 0
        while not stop.is_set():
            number = n * 100_000 + k
            k += 1
            try:
                r = c.post("/api/v1/webhooks/crash", json={"n": number})
            except httpx.HTTPError:
                cut_off.append(n)  # the server died with this webhook in flight: never answered
                return
            if r.status_code == 202:
                answered.append(number)


def test_answered_webhooks_survive_sigkill(db: Database, tmp_path: Path) -> None:
    # Given a server with a webhook rule, and senders posting webhooks as fast as they can
    server = Server(db.url, tmp_path)
    server.start()
    try:
        token = _token(server.url)
        rule = webhook_rule("crash", "crash")
        made = httpx.post(
            server.url + "/api/v1/rules", json=rule, headers={"X-Auth-Token": token}, timeout=30
        )
        assert made.status_code == 201, made.text
        # When the server is SIGKILLed while webhooks are in flight
        answered = kill_mid_burst(server, partial(_send, server.url, token), SENDERS, 200)

        # Then after a restart every answered webhook has its instance, enforcement and execution
        server.start()
        h = {"X-Auth-Token": _token(server.url)}
        with httpx.Client(base_url=server.url, headers=h, timeout=60) as c:
            # (and it still takes webhooks)
            assert c.post("/api/v1/webhooks/crash", json={"n": -1}).status_code == 202
            trigger = c.get(f"/api/v1/rules/crash.{rule['name']}").json()["trigger"]["ref"]
            totals = {
                path: int(c.get(path, params={**params, "limit": 1}).headers["X-Total-Count"])
                for path, params in (
                    ("/api/v1/triggerinstances", {"trigger": trigger}),
                    ("/api/v1/ruleenforcements", {"rule_ref": f"crash.{rule['name']}"}),
                    ("/api/v1/executions", {"rule": f"crash.{rule['name']}"}),
                )
            }
    finally:
        server.stop()
    check = Database(db.url, pool_size=1)
    try:
        with check.read() as tx:
            rows = tx.all(
                "SELECT i.payload, e.status, (SELECT COUNT(*) FROM st2_enforcements f "
                "WHERE f.trigger_instance_id = i.id AND f.execution_id = e.id) AS enforced "
                "FROM st2_trigger_instances i JOIN st2_executions e ON e.trigger_instance = i.id "
                "WHERE i.trigger = ?",
                trigger,
            )
    finally:
        check.close()
    assert len(set(totals.values())) == 1, totals  # no batch half written
    assert all(r["status"] == "succeeded" and r["enforced"] == 1 for r in rows)
    stored = [jload(r["payload"])["body"]["n"] for r in rows]
    assert len(stored) == len(set(stored)) == totals["/api/v1/triggerinstances"], "one each, none twice"
    missing = set(answered) - set(stored)
    assert not missing, f"{len(missing)} answered webhooks were lost: {sorted(missing)[:10]}"
