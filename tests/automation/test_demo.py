"""`serve --demo` has a rule that reacts to publishing: each published entry's title is written
into the key last_published."""

from __future__ import annotations

import httpx

from stackyard.access.caller import Caller
from stackyard.core import spine
from stackyard.server.bootstrap import ensure_demo
from tests.automation.conftest import PASSWORD, Auto
from tests.conftest import wait_for


def _wait_for_value(auto: Auto, expected: str) -> None:
    """The demo rule wrote `expected` into last_published (the demo's own publishes write it too,
    so look at the rule's executions rather than at the key's latest value)."""
    with auto.http() as c:

        def written() -> bool:
            runs = c.get(
                "/api/v1/executions", params={"rule": "demo.remember_published", "limit": 100}
            ).json()
            return any(e["parameters"]["value"] == expected and e["status"] == "succeeded" for e in runs)

        wait_for(written, what="the demo rule")
        assert c.get("/api/v1/keys/last_published").status_code == 200


def test_an_entry_publish_event_writes_the_key(auto: Auto) -> None:
    info = ensure_demo(auto.db, auto.settings)
    assert info["automation_rule"] == "demo.remember_published"
    alice = auto.people["alice"]
    caller = Caller(kind="user", user_uid=alice.uid, email=alice.email)
    scope = spine.StackScope(caller=caller, api_key=info["api_key"], org_uid=alice.org_uid)
    with auto.db.write() as tx:
        spine.record(
            tx,
            scope,
            "entry.publish",
            "blt0123456789abcdef",
            {"title": "Hello, world", "source_locale": "en-us"},
            content_type="article",
            locale="en-us",
            environment="production",
            version=1,
        )
    _wait_for_value(auto, "Hello, world (blt0123456789abcdef, en-us)")


def test_publishing_a_demo_article_through_the_cma(auto: Auto) -> None:
    info = ensure_demo(auto.db, auto.settings)
    article = info["entries"]["article"][0]
    alice = auto.people["alice"]
    with httpx.Client(base_url=auto.url) as cma:
        r = cma.post("/v3/user-session", json={"user": {"email": alice.email, "password": PASSWORD}})
        h = {"authtoken": r.json()["user"]["authtoken"], "api_key": info["api_key"]}
        title = cma.get(f"/v3/content_types/article/entries/{article}", headers=h).json()["entry"]["title"]
        body = {"entry": {"environments": ["production"], "locales": ["en-us"]}}
        r = cma.post(f"/v3/content_types/article/entries/{article}/publish", headers=h, json=body)
        assert r.status_code == 200, r.text
    _wait_for_value(auto, f"{title} ({article}, en-us)")
