"""The official `contentstack_management` SDK publishes and unpublishes entries against a live
Stackyard, and reads back `publish_details`; the snapshots delivery serves follow (both engines)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stackyard.store.engine import jload
from tests.conftest import Live, User
from tests.content.model.test_content_types import ct, text
from tests.stacks.test_official_sdk_stack_admin import ok, sdk


def published(live: Live, api_key: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(uid, environment name, locale) -> the snapshot's document, as delivery will read it."""
    with live.db.read() as tx:
        rows = tx.all(
            "SELECT p.uid, e.name, p.locale, p.source_locale, p.version, p.document FROM published p "
            "JOIN environments e ON e.api_key = p.api_key AND e.uid = p.environment WHERE p.api_key = ?",
            api_key,
        )
    return {
        (r["uid"], r["name"], r["locale"]): {**jload(r["document"]), "_source": r["source_locale"]}
        for r in rows
    }


@pytest.fixture
def stack_setup(cma: httpx.Client) -> None:
    for env in ("development", "production"):
        assert cma.post("/v3/environments", json={"environment": {"name": env}}).status_code == 201
    assert (
        cma.post("/v3/locales", json={"locale": {"code": "fr-fr", "fallback_locale": "en-us"}}).status_code
        == 201
    )
    assert (
        cma.post("/v3/locales", json={"locale": {"code": "de-de", "fallback_locale": "en-us"}}).status_code
        == 201
    )
    assert cma.post("/v3/content_types", json=ct("blog", text("body"))).status_code == 201


def test_publish_unpublish_with_the_official_sdk(
    live: Live, owner: User, api_key: str, cma: httpx.Client, stack_setup: None
) -> None:
    stack = sdk(live, owner.authtoken).stack(api_key)
    entry = stack.content_types("blog").entry()
    uid = ok(entry.create({"entry": {"title": "Hello", "body": "v1"}}, locale="en-us"), 201)["entry"]["uid"]
    ok(stack.content_types("blog").entry(uid).update({"entry": {"title": "Hello", "body": "v2"}}))

    # the seed's body: version 1 of en-us to development, and fr-fr (not localized: falls back)
    data = {
        "entry": {"environments": ["development"], "locales": ["en-us", "fr-fr"]},
        "locale": "en-us",
        "version": 1,
    }
    body = ok(stack.content_types("blog").entry(uid).publish(data))
    assert body == {"notice": "The requested action has been performed."}

    snaps = published(live, api_key)
    assert set(snaps) == {(uid, "development", "en-us"), (uid, "development", "fr-fr")}
    en = snaps[(uid, "development", "en-us")]
    assert en["body"] == "v1" and en["_version"] == 1 and en["locale"] == "en-us"
    assert en["publish_details"]["locale"] == "en-us" and en["publish_details"]["user"] == owner.uid
    fr = snaps[(uid, "development", "fr-fr")]
    # §5 item 11: the fallback's content, served with locale = source, publish_details.locale = fr-fr
    assert fr["locale"] == "en-us" and fr["publish_details"]["locale"] == "fr-fr" and fr["_source"] == "en-us"

    # publish_details with include_publish_details, on fetch and in lists
    one = stack.content_types("blog").entry(uid)
    assert ok(one.fetch())["entry"]["publish_details"] == []  # only when asked for
    one.add_param("include_publish_details", True)
    fetched = ok(one.fetch())["entry"]
    details = {(d["locale"], d["version"]) for d in fetched["publish_details"]}
    # fr-fr published the en-us copy it falls back to, at the version asked for that copy
    assert details == {("en-us", 1), ("fr-fr", 1)} and fr["body"] == "v1"
    assert all(d["environment"] for d in fetched["publish_details"])
    query = stack.content_types("blog").entry()
    query.add_param("include_publish_details", True)
    listed = ok(query.find())["entries"]
    assert len(listed[0]["publish_details"]) == 2

    # the latest version to production; then unpublish fr-fr from development
    ok(
        stack.content_types("blog")
        .entry(uid)
        .publish({"entry": {"environments": ["production"], "locales": ["en-us"]}})
    )
    assert published(live, api_key)[(uid, "production", "en-us")]["body"] == "v2"
    undo = {"entry": {"environments": ["development"], "locales": ["fr-fr"]}, "locale": "en-us"}
    assert ok(stack.content_types("blog").entry(uid).unpublish(undo))["notice"].startswith(
        "The requested action"
    )
    assert set(published(live, api_key)) == {(uid, "development", "en-us"), (uid, "production", "en-us")}

    # every action is a publish queue item, newest first
    queue = ok(stack.publish_queue().find())["queue"]
    assert [(q["action"], q["publish_details"]["status"]) for q in queue] == [
        ("unpublish", "success"),
        ("publish", "success"),
        ("publish", "success"),
    ]
    one = ok(stack.publish_queue(queue[-1]["uid"]).fetch())["entry"]
    assert one["entry"]["uid"] == uid and one["entry"]["version"] == 1

    # events: one per environment and locale
    with live.db.read() as tx:
        kinds = [r["type"] for r in tx.all("SELECT type FROM events WHERE api_key = ? ORDER BY seq", api_key)]
    assert kinds.count("entry.publish") == 3 and kinds.count("entry.unpublish") == 1


def test_deleting_what_was_published_unpublishes_it(
    live: Live, owner: User, api_key: str, cma: httpx.Client, stack_setup: None
) -> None:
    base = "/v3/content_types/blog/entries"
    a = cma.post(base, json={"entry": {"title": "A"}}).json()["entry"]["uid"]
    b = cma.post(base, json={"entry": {"title": "B"}}).json()["entry"]["uid"]
    assert cma.put(f"{base}/{b}?locale=de-de", json={"entry": {"title": "B de"}}).status_code == 200
    everywhere = {
        "entry": {"environments": ["development", "production"], "locales": ["en-us", "fr-fr", "de-de"]}
    }
    for uid in (a, b):
        assert cma.post(f"{base}/{uid}/publish", json=everywhere).status_code == 200
    assert len(published(live, api_key)) == 12

    # deleting the de-de copy of B unpublishes B in de-de only
    assert cma.delete(f"{base}/{b}?locale=de-de").status_code == 200
    assert {k for k in published(live, api_key) if k[0] == b and k[2] == "de-de"} == set()
    assert len(published(live, api_key)) == 10
    # deleting an environment takes what was published there
    assert cma.delete("/v3/environments/production").status_code == 200
    assert {k[1] for k in published(live, api_key)} == {"development"}
    # deleting a language unpublishes in it
    assert cma.delete("/v3/locales/fr-fr").status_code == 200
    assert {k[2] for k in published(live, api_key)} == {"en-us", "de-de"}
    # deleting the entry, then its content type (forced)
    assert cma.delete(f"{base}/{a}").status_code == 200
    assert {k[0] for k in published(live, api_key)} == {b}
    assert cma.delete("/v3/content_types/blog?force=true").status_code == 200
    assert published(live, api_key) == {}
    with live.db.read() as tx:
        n = tx.scalar("SELECT COUNT(*) FROM events WHERE api_key = ? AND type = 'entry.unpublish'", api_key)
    assert n == 12


def test_bad_publish_requests_are_clear_errors(cma: httpx.Client, stack_setup: None) -> None:
    base = "/v3/content_types/blog/entries"
    uid = cma.post(base, json={"entry": {"title": "A"}}).json()["entry"]["uid"]
    cases = [
        ({}, "entry"),
        ({"entry": {"environments": "development"}}, "environments"),
        ({"entry": {"environments": ["nowhere"], "locales": ["en-us"]}}, "environments"),
        ({"entry": {"environments": ["development"], "locales": ["xx-xx"]}}, "locales"),
        ({"entry": {"environments": ["development"]}, "version": "two"}, "version"),
        ({"entry": {"environments": ["development"]}, "scheduled_at": "tomorrow"}, "scheduled_at"),
    ]
    for body, field in cases:
        r = cma.post(f"{base}/{uid}/publish", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["errors"], (body, r.json())
    # a version that does not exist, an entry that does not exist
    r = cma.post(f"{base}/{uid}/publish", json={"entry": {"environments": ["development"]}, "version": 9})
    assert r.status_code == 422 and r.json()["error_code"] == 141
    r = cma.post(f"{base}/bltnope/publish", json={"entry": {"environments": ["development"]}})
    assert r.status_code == 422 and r.json()["error_code"] == 141
    assert cma.get("/v3/publish-queue").json()["queue"] == []
