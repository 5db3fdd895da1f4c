"""The demo's published content is readable through the delivery API, with our delivery SDK."""

from __future__ import annotations

from stackyard.client.delivery import Stack
from stackyard.server.bootstrap import ensure_demo, ensure_owner
from tests.conftest import Live


def test_demo_content_is_delivered(live: Live) -> None:
    settings = live.settings.replace(admin_email="demo@stackyard.local", admin_password="stackyard-demo")
    ensure_owner(live.db, settings)
    info = ensure_demo(live.db, settings)
    stack = Stack(info["api_key"], info["delivery_token"], "production", host=live.url)
    articles = stack.content_type("article").query().include_reference("author").find()["entries"]
    assert {a["title"] for a in articles} == {"Hello Stackyard", "Modular blocks"}
    assert {a["author"][0]["title"] for a in articles} == {"Ada Lovelace", "Grace Hopper"}
    fr = stack.content_type("article").query().locale("fr-fr").find()["entries"]
    assert "Bonjour Stackyard" in {a["title"] for a in fr}
    items, _ = stack.sync()
    assert len(items) >= 8
    # and again: the steps are idempotent
    assert ensure_demo(live.db, settings)["api_key"] == info["api_key"]
