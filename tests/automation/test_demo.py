"""`serve --demo` has a rule that reacts to publishing: an entry.publish event writes last_published."""

from __future__ import annotations

from stackyard.access.caller import Caller
from stackyard.core import spine
from stackyard.server.bootstrap import ensure_demo
from tests.automation.conftest import Auto
from tests.conftest import wait_for


def test_publishing_a_demo_article_writes_a_key(auto: Auto) -> None:
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
    with auto.http() as c:
        value = wait_for(
            lambda: (r := c.get("/api/v1/keys/last_published")).status_code == 200 and r.json()["value"]
        )
    assert value == "Hello, world (blt0123456789abcdef, en-us, production)"
