"""Purge on publish: a publish (an entry.publish event on the spine) makes the edge serve fresh
content for the sites fronting this server, with no manual purge; other sites keep their cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stackyard.content.delivery import tags
from stackyard.core import spine
from stackyard.core.wakeup import Wakeup
from stackyard.edge import publish
from stackyard.store.engine import Database
from tests.conftest import wait_for
from tests.core.consumer_proc import Stack, make_stack
from tests.edge.conftest import Edge, make_site
from tests.edge.origin import Seen

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def stack(db: Database) -> Stack:
    return make_stack(db)


@pytest.fixture
def consumer(edge: Edge) -> Iterator[None]:
    # The site's origin (the test origin's port) is "this server": the settings say it listens there.
    settings = edge.settings.replace(port=edge.origin.port, event_check_seconds=0.5)
    wakeup = Wakeup(edge.db, change_check_ms=2)
    wakeup.start()
    c = publish.consumer(edge.db, settings, wakeup)
    c.start()
    yield
    c.stop()
    wakeup.stop()


def _entries(edge: Edge, stack: Stack) -> dict[str, int]:
    version = {"n": 1}

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        tag = ",".join(
            [
                tags.stack(stack.api_key),
                tags.content_type(stack.api_key, "blog"),
                tags.entry(stack.api_key, "blt1"),
            ]
        )
        return 200, {"Cache-Control": "max-age=3600", "X-Tag": tag}, f"v{version['n']}".encode()

    edge.origin.routes["/v3/content_types/blog/entries/blt1"] = answer
    return version


def test_a_publish_purges_the_entry_at_the_edge(edge: Edge, stack: Stack, consumer: None) -> None:
    version = _entries(edge, stack)
    path = "/v3/content_types/blog/entries/blt1?environment=production"
    assert edge.get(path).text == "v1" and edge.get(path).headers["x-cache"] == "HIT"
    version["n"] = 2
    applied = edge.plane.purges_applied
    with edge.db.write() as tx:
        spine.record(
            tx,
            stack.scope(),
            "entry.publish",
            "blt1",
            {"title": "t", "source_locale": "en-us"},
            content_type="blog",
            locale="en-us",
            environment="production",
            version=2,
        )
    wait_for(lambda: edge.plane.purges_applied > applied, what="the purge on publish")
    assert edge.get(path).text == "v2"


def test_environment_changes_purge_the_whole_stack_and_other_events_nothing(
    edge: Edge, stack: Stack, consumer: None
) -> None:
    version = _entries(edge, stack)
    path = "/v3/content_types/blog/entries/blt1"
    edge.get(path)
    with edge.db.write() as tx:
        spine.record(
            tx,
            stack.scope(),
            "entry.update",
            "blt1",
            {"title": "draft"},
            content_type="blog",
            locale="en-us",
            version=3,
        )
    version["n"] = 2
    with edge.db.write() as tx:
        spine.record(tx, stack.scope(), "environment.update", "env1", {"name": "production"})
    wait_for(lambda: edge.plane.purges_applied >= 1, what="the stack purge")
    assert edge.plane.purges_applied == 1  # the draft save purged nothing
    assert edge.get(path).text == "v2"


def test_sites_that_do_not_front_this_server_are_left_alone(edge: Edge, stack: Stack) -> None:
    from stackyard.content.delivery.tags import entry

    make_site(edge.db, edge.caller, 9, domain="elsewhere.test", stack_id=edge.stack_id)
    settings = edge.settings.replace(port=edge.origin.port)
    events = [
        {"type": "entry.publish", "api_key": stack.api_key, "object_uid": "blt1", "content_type_uid": "blog"}
    ]
    message = publish.purge_message(edge.db, settings, events)
    assert message is not None and message["sites"] == [edge.site_id]
    assert message["items"][0]["selectors"][0]["values"] == [
        entry(stack.api_key, "blt1"),
        tags.content_type(stack.api_key, "blog"),
    ]
    assert publish.tags_of({"type": "asset.publish", "api_key": "k", "object_uid": "a1"}) == [
        "k.asset.a1",
        "k.assets",
    ]
    assert publish.tags_of({"type": "content_type.delete", "api_key": "k", "object_uid": "blog"}) == [
        "k.ct.blog",
        "k.cts",
    ]
    assert publish.tags_of({"type": "entry.update", "api_key": "k", "object_uid": "e"}) == []
    assert publish.tags_of({"type": "delivery_token.create", "api_key": "k", "object_uid": "t"}) == ["k"]


def test_publishing_through_the_cma_makes_the_edge_fresh(
    live: object, edge: Edge, cma: object, api_key: str, consumer: None
) -> None:
    """The origin stands in for the delivery API: it serves the published snapshot with its tags."""
    import httpx

    from stackyard.store.engine import jload
    from tests.content.model.test_content_types import ct, text

    client: httpx.Client = cma  # type: ignore[assignment]
    assert client.post("/v3/environments", json={"environment": {"name": "production"}}).status_code == 201
    assert client.post("/v3/content_types", json=ct("blog", text("body"))).status_code == 201
    uid = client.post("/v3/content_types/blog/entries", json={"entry": {"title": "Hi", "body": "v1"}}).json()[
        "entry"
    ]["uid"]

    def delivery(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        with edge.db.read() as tx:
            doc = tx.scalar("SELECT document FROM published WHERE api_key = ? AND uid = ?", api_key, uid)
        tag = ",".join([tags.stack(api_key), tags.content_type(api_key, "blog"), tags.entry(api_key, uid)])
        body = jload(doc)["body"] if doc else "unpublished"
        return 200, {"Cache-Control": "max-age=3600", "X-Tag": tag}, str(body).encode()

    path = f"/v3/content_types/blog/entries/{uid}"
    edge.origin.routes[path] = delivery
    publish_body = {"entry": {"environments": ["production"], "locales": ["en-us"]}, "locale": "en-us"}
    assert client.post(f"{path}/publish", json=publish_body).status_code == 200
    wait_for(lambda: edge.get(path).text == "v1", what="the first publish at the edge")
    assert edge.get(path).headers["x-cache"] == "HIT"
    client.put(path, json={"entry": {"title": "Hi", "body": "v2"}})
    assert edge.get(path).text == "v1"  # a draft save changes nothing delivered
    assert client.post(f"{path}/publish", json=publish_body).status_code == 200
    wait_for(lambda: edge.get(path).text == "v2", what="the second publish at the edge")
    assert client.post(f"{path}/unpublish", json=publish_body).status_code == 200
    wait_for(lambda: edge.get(path).text == "unpublished", what="the unpublish at the edge")
