"""Our delivery SDK (`stackyard.client.delivery`) against the server over plain HTTP: the seed's
examples with only the import changed, query chaining, every page, typed errors, retries that
honour Retry-After, the async twin, sync and image URLs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import stackyard.client.delivery as contentstack
from stackyard.client.delivery import AsyncStack, NotFound, QueryOperation, QueryType, RateLimited, Stack
from tests.content.delivery.conftest import Site


def stack(site: Site) -> Stack:
    return contentstack.Stack(site.api_key, site.token, "production", host=site.live.url)


def test_seed_examples(site: Site, books: dict[str, Any]) -> None:
    uid = books["articles"][0]["uid"]
    s = contentstack.Stack(site.api_key, site.token, "production", host=site.live.url)
    content_type = s.content_type("article")
    entry = content_type.entry(uid)
    result = entry.fetch()
    assert result["entry"]["title"] == "Article 0"
    query = s.content_type("article").query()
    result = query.find()
    assert len(result["entries"]) == 3
    url = "https://images.example.com/v3/assets/k/a/u/x.png"
    assert s.image_transform(url, {"quality": 100}).get_url() == url + "?quality=100"
    assert s.image_transform(url, {"width": 100, "height": 100}).get_url() == url + "?width=100&height=100"
    assert s.image_transform(url + "?a=1", auto="webp").get_url() == url + "?a=1&auto=webp"
    assert s.image_transform(url, **{"bg-color": "FFFFFF", "crop": "300,400"}).get_url() == (
        url + "?bg-color=FFFFFF&crop=300,400"
    )
    items, token = s.sync()
    assert len(items) == 6 and token
    assert s.sync(token) == ([], token)


def test_chaining_references_pages_and_errors(site: Site, books: dict[str, Any]) -> None:
    s = stack(site)
    q = s.content_type("article").query()
    q.where("rating", QueryOperation.IS_GREATER_THAN, 2).order_by_descending("rating").include_count()
    found = q.find()
    assert found["count"] == 2 and [e["title"] for e in found["entries"]] == ["Article 1", "Article 2"]
    q = s.content_type("article").query().where_in("author", {"title": "Ann"}).include_reference("author")
    assert all(e["author"][0]["title"] == "Ann" for e in q.find()["entries"])
    assert s.content_type("article").query().where_not_in("author", {"title": "Ann"}).find()["entries"] == []
    a = s.content_type("article").query().where("rating", QueryOperation.EQUALS, 1)
    b = s.content_type("article").query().where("rating", QueryOperation.EQUALS, 5)
    both = s.content_type("article").query().query_operator(QueryType.OR, a, b).order_by_ascending("rating")
    assert [e["title"] for e in both.find()["entries"]] == ["Article 0", "Article 1"]
    assert [
        e["title"]
        for e in s.content_type("article").query().regex("title", "^article 2$", "i").find()["entries"]
    ] == ["Article 2"]
    # every page
    for i in range(5):
        e = site.create("book", {"title": f"More {i}", "pages": i})
        site.publish("book", e["uid"])
    titles = [
        e["title"] for e in s.content_type("book").query().order_by_ascending("pages").iter(page_size=2)
    ]
    assert len(titles) == 7 and titles[:2] == ["More 0", "More 1"]
    # typed errors
    with pytest.raises(NotFound) as err:
        s.content_type("article").entry("blt404").fetch()
    assert err.value.error_code == 141
    with pytest.raises(NotFound):
        s.content_type("ghost").fetch()
    only = s.content_type("article").entry(books["articles"][0]["uid"]).only("title").fetch()["entry"]
    assert set(only) == {"uid", "title"}
    with pytest.raises(PermissionError):
        contentstack.Stack("", site.token, "production")


def test_retries_honour_retry_after() -> None:
    """A server answering 429 with Retry-After twice, then 200: the SDK waits what it says."""
    answers = iter([429, 429, 200])
    waited: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        if status == 429:
            return httpx.Response(
                429, headers={"retry-after": "2"}, json={"error_code": 429, "error_message": "slow"}
            )
        return httpx.Response(200, json={"entry": {"uid": "e1"}})

    s = Stack("k", "t", "production", host="http://cdn.example", transport=httpx.MockTransport(handler))
    s._config.sleep = waited.append
    assert s.content_type("article").entry("e1").fetch() == {"entry": {"uid": "e1"}}
    assert waited == [2.0, 2.0]
    always = Stack(
        "k", "t", "production", host="http://cdn.example", max_retries=1,
        transport=httpx.MockTransport(lambda r: httpx.Response(429, headers={"retry-after": "1"}, json={})),
    )  # fmt: skip
    always._config.sleep = lambda _: None
    with pytest.raises(RateLimited):
        always.content_type("article").query().find()


def test_async_twin(site: Site, books: dict[str, Any]) -> None:
    async def run() -> tuple[Any, list[str], list[Any]]:
        async with AsyncStack(site.api_key, site.token, "production", host=site.live.url) as s:
            one = (
                await s.content_type("article")
                .entry(books["articles"][1]["uid"])
                .include_reference("author")
                .fetch()
            )
            titles = [
                e["title"]
                async for e in s.content_type("article")
                .query()
                .order_by_ascending("rating")
                .iter(page_size=1)
            ]
            items, _ = await s.sync(content_type_uid="book")
            return one, titles, items

    one, titles, items = asyncio.run(run())
    assert one["entry"]["author"][0]["title"] == "Ann"
    assert titles == ["Article 0", "Article 2", "Article 1"]
    assert len(items) == 2
