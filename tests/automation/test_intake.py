"""Webhooks recorded together (`automation.intake`): many at once are each answered once durable and
recorded exactly once, with an enforcement and a finished execution each; a plan that cannot be
written fails its own webhook only, not the others of its batch."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from stackyard.automation import engine, intake
from stackyard.automation.engine import Plan
from tests.automation.conftest import Auto, typed_rule, unique, webhook_rule
from tests.conftest import wait_for


def _hook(auto: Auto, **fields: Any) -> tuple[str, str, str]:
    """A webhook rule (core.noop unless `fields` say otherwise): (rule ref, its trigger's ref, the URL)."""
    url = unique("hook")
    with auto.http() as c:
        made = c.post("/api/v1/rules", json=webhook_rule("intake", url, **fields))
        assert made.status_code == 201, made.text
    return made.json()["ref"], made.json()["trigger"]["ref"], url


def _total(auto: Auto, path: str, **params: str) -> int:
    with auto.http() as c:
        return int(c.get(path, params={**params, "limit": 1}).headers["X-Total-Count"])


def test_webhooks_arriving_together_are_each_recorded_once(auto: Auto) -> None:
    # Given a webhook rule running core.noop
    rule_ref, trigger_ref, url = _hook(auto)

    # When 48 webhooks arrive at once from 16 connections
    def send(n: int) -> int:
        with auto.http() as c:
            return c.post(f"/api/v1/webhooks/{url}", json={"n": n}).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, range(48)))

    # Then every one is answered 202, and once answered it is stored: one trigger instance, one
    # enforcement and one finished execution each, none twice
    assert statuses == [202] * 48
    assert _total(auto, "/api/v1/triggerinstances", trigger=trigger_ref) == 48
    assert _total(auto, "/api/v1/ruleenforcements", rule_ref=rule_ref) == 48
    with auto.http() as c:
        done = c.get("/api/v1/executions", params={"rule": rule_ref, "limit": 100}).json()
    assert len(done) == 48 and {e["status"] for e in done} == {"succeeded"}
    with auto.http() as c:
        instances = c.get("/api/v1/triggerinstances", params={"trigger": trigger_ref, "limit": 100}).json()
    assert sorted(i["payload"]["body"]["n"] for i in instances) == list(range(48))


def _plan(auto: Auto, url: str, n: int) -> Plan:
    person = auto.people["alice"]
    with auto.db.read() as tx:
        plan = engine.webhook_plan(tx, auto.settings, person.org_uid, url, {}, {"n": n})
    assert plan is not None
    return plan


def test_a_plan_that_cannot_be_written_fails_alone(auto: Auto) -> None:
    # Given an intake whose writer is held up by another write transaction, with one plan taken
    _, trigger_ref, url = _hook(auto)
    writer = intake.Intake(auto.db, auto.settings)
    good = [_plan(auto, url, n) for n in range(3)]
    bad = _plan(auto, url, 99)
    bad.org_uid = "no-such-organization"  # its rows break the organization foreign key
    answers: list[Future[dict[str, Any]]] = []
    with auto.db.write() as tx:
        if auto.engine == "postgresql":
            tx.run("LOCK TABLE st2_trigger_instances IN EXCLUSIVE MODE")
        answers.append(writer.submit(good[0]))
        wait_for(lambda: writer.batches == 1, timeout=10)
        # When a bad plan queues up with good ones behind it (they are written as one batch)
        answers += [writer.submit(good[1]), writer.submit(bad), writer.submit(good[2])]
        time.sleep(0.05)
    # Then the good plans are recorded and answered; only the bad one's webhook gets the error
    for answer in (answers[0], answers[1], answers[3]):
        assert answer.result(timeout=30)["trigger"] == trigger_ref
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        answers[2].result(timeout=30)
    assert writer.written == 4 and writer.batches == 2
    writer.close()
    with auto.http() as c:
        instances = c.get("/api/v1/triggerinstances", params={"trigger": trigger_ref, "limit": 10}).json()
    assert sorted(i["payload"]["body"]["n"] for i in instances) == [0, 1, 2]


def test_plans_submitted_on_an_event_loop_are_answered_there(auto: Auto) -> None:
    # Given plans submitted from an event loop (as webhooks prepared on it are), one of them bad,
    # while another write holds the writer up so that they are written as one batch
    _, trigger_ref, url = _hook(auto)
    writer = intake.Intake(auto.db, auto.settings)
    good = [_plan(auto, url, n) for n in range(3)]
    bad = _plan(auto, url, 99)
    bad.org_uid = "no-such-organization"

    async def submit_and_wait() -> list[Any]:
        answers = [writer.submit(plan) for plan in (good[0], bad, good[1], good[2])]
        assert all(isinstance(a, asyncio.Future) for a in answers)  # settled on this loop
        return await asyncio.gather(*answers, return_exceptions=True)

    with ThreadPoolExecutor(1) as pool:
        with auto.db.write() as tx:
            if auto.engine == "postgresql":
                tx.run("LOCK TABLE st2_trigger_instances IN EXCLUSIVE MODE")
            waiting = pool.submit(asyncio.run, submit_and_wait())
            wait_for(lambda: writer.batches >= 1, timeout=10)
            time.sleep(0.05)
        # When the writer gets the database
        outcomes = waiting.result(timeout=30)
    # Then each good webhook's future answers its instance and only the bad one's raises
    assert [o["trigger"] for i, o in enumerate(outcomes) if i != 1] == [trigger_ref] * 3
    assert isinstance(outcomes[1], Exception) and "foreign key" in str(outcomes[1]).lower()
    writer.close()


def test_a_rule_with_a_regular_expression_is_matched_off_the_event_loop(auto: Auto) -> None:
    # Given a webhook rule whose criterion is a regular expression and whose parameter a template
    # (such rules are prepared on a worker thread, never on the event loop)
    rule_ref, _, url = _hook(
        auto,
        criteria={"trigger.body.host": {"type": "regex", "pattern": "^web-[0-9]+$"}},
        action={"ref": "core.echo", "parameters": {"message": "down: {{ trigger.body.host }}"}},
    )
    with auto.http() as c:
        # When one webhook matches and one does not
        for host in ("web-12", "db-3"):
            assert c.post(f"/api/v1/webhooks/{url}", json={"host": host}).status_code == 202
        # Then only the matching one ran, with its rendered message
        ran = c.get("/api/v1/executions", params={"rule": rule_ref}).json()
    assert [e["result"]["stdout"] for e in ran] == ["down: web-12"]


def _generic_rule(auto: Auto, **fields: Any) -> tuple[str, str]:
    """A trigger type of its own and a rule on it (core.noop unless `fields` say otherwise):
    (rule ref, trigger type ref)."""
    type_ref, rule = typed_rule(auto, "intake", **fields)
    with auto.http() as c:
        made = c.post("/api/v1/rules", json=rule)
        assert made.status_code == 201, made.text
    return made.json()["ref"], type_ref


def test_generic_webhooks_arriving_together_are_recorded_together_once_each(auto: Auto) -> None:
    # Given a rule on a trigger type, running core.noop
    rule_ref, type_ref = _generic_rule(auto)
    writer = intake.of(auto.db, auto.settings)
    written_before = writer.written

    # When 48 generic webhooks (POST /webhooks/st2, the trigger named in the body) arrive at once
    def send(n: int) -> int:
        with auto.http() as c:
            body = {"trigger": type_ref, "payload": {"n": n}}
            return c.post("/api/v1/webhooks/st2", json=body).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, range(48)))

    # Then each is answered 202 once the intake recorded it (the batched writer named webhooks
    # use): one trigger instance, one enforcement and one finished execution each
    assert statuses == [202] * 48
    assert writer.written - written_before >= 48
    assert _total(auto, "/api/v1/triggerinstances", trigger=type_ref) == 48
    assert _total(auto, "/api/v1/ruleenforcements", rule_ref=rule_ref) == 48
    with auto.http() as c:
        done = c.get("/api/v1/executions", params={"rule": rule_ref, "limit": 100}).json()
        instances = c.get("/api/v1/triggerinstances", params={"trigger": type_ref, "limit": 100}).json()
    assert len(done) == 48 and {e["status"] for e in done} == {"succeeded"}
    assert sorted(i["payload"]["n"] for i in instances) == list(range(48))


def test_a_generic_webhook_of_a_type_without_a_trigger_makes_it_once(auto: Auto) -> None:
    # Given a trigger type no rule uses (so it has no trigger yet)
    with auto.http() as c:
        ttype = c.post("/api/v1/triggertypes", json={"name": unique("bare"), "pack": "intake"}).json()

        # When generic webhooks name it, several at once, with a trace tag
        def send(n: int) -> int:
            with auto.http() as c2:
                body = {"trigger": ttype["ref"], "payload": {"n": n}}
                return c2.post(
                    "/api/v1/webhooks/st2", json=body, headers={"St2-Trace-Tag": "bare"}
                ).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(send, range(8)))

        # Then each is recorded as an instance of its one trigger, made by the first of them
        assert statuses == [202] * 8
        made = [t for t in c.get("/api/v1/triggers").json() if t["type"] == ttype["ref"]]
        assert [t["ref"] for t in made] == [ttype["ref"]]
        assert _total(auto, "/api/v1/triggerinstances", trigger=ttype["ref"]) == 8
        assert _total(auto, "/api/v1/traces", trace_tag="bare") == 8
        # and a trigger that exists nowhere is a 404, recording nothing
        missing = c.post("/api/v1/webhooks/st2", json={"trigger": "intake.nothing", "payload": {}})
        assert missing.status_code == 404


def test_a_generic_webhook_rule_with_a_template_runs_off_the_event_loop(auto: Auto) -> None:
    # Given a rule on a trigger type whose action's parameter is a template
    rule_ref, type_ref = _generic_rule(
        auto, action={"ref": "core.echo", "parameters": {"message": "got {{ trigger.n }}"}}
    )
    # When a generic webhook names it
    with auto.http() as c:
        r = c.post("/api/v1/webhooks/st2", json={"trigger": type_ref, "payload": {"n": 7}})
        # Then it is answered once its execution ran, with the rendered message
        assert r.status_code == 202 and r.json() == {"trigger": type_ref, "payload": {"n": 7}}
        ran = c.get("/api/v1/executions", params={"rule": rule_ref}).json()
    assert [e["result"]["stdout"] for e in ran] == ["got 7"]
