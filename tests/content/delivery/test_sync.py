"""The Sync API over HTTP and through the official SDK: init with filters, pages of 100, deltas with
unpublishes and deletions, tokens bound to the stack and unforgeable; and a property test of a
client syncing while entries are published, unpublished and deleted."""

from __future__ import annotations

import itertools
from typing import Any

import contentstack
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.content.delivery.conftest import E, Site

SYNC = "/v3/stacks/sync"


def sync_all(site: Site, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str, list[dict[str, Any]]]:
    """Follow pagination tokens to the end: (items, sync token, pages)."""
    pages = []
    with site.cda() as c:
        r = c.get(SYNC, params=params)
        while True:
            assert r.status_code == 200, r.text
            body = r.json()
            pages.append(body)
            if "pagination_token" in body:
                r = c.get(SYNC, params={"pagination_token": body["pagination_token"]})
                continue
            return [i for p in pages for i in p["items"]], body["sync_token"], pages


def test_init_pages_delta_and_filters(site: Site) -> None:
    made = [site.create("article", {"title": f"A{i:03d}", "rating": i}) for i in range(105)]
    for e in made:
        site.publish("article", e["uid"])
    author = site.create("author", {"title": "Ann"})
    site.publish("author", author["uid"])
    items, token, pages = sync_all(site, {"init": "true"})
    assert len(pages) == 2
    assert (pages[0]["skip"], pages[0]["limit"], pages[0]["total_count"], len(pages[0]["items"])) == (
        0,
        100,
        106,
        100,
    )
    assert (pages[1]["skip"], len(pages[1]["items"])) == (100, 6)
    assert sorted(i["data"]["uid"] for i in items) == sorted([e["uid"] for e in made] + [author["uid"]])
    first = items[0]
    assert first["type"] == "entry_published" and "ACL" not in first["data"] and "event_at" in first
    # nothing new: the same token back
    with site.cda() as c:
        assert c.get(SYNC, params={"sync_token": token}).json() == {"items": [], "sync_token": token}
    # a delta: an update published, an unpublish, a deletion
    site.update("article", made[0]["uid"], {"title": "Changed"})
    site.publish("article", made[0]["uid"])
    site.unpublish("article", made[1]["uid"])
    assert site.cma.delete(E.format("article") + "/" + made[2]["uid"]).status_code == 200
    items, _, _ = sync_all(site, {"sync_token": token})
    kinds = {(i["type"], i["data"]["uid"]) for i in items}
    assert ("entry_published", made[0]["uid"]) in kinds
    assert ("entry_unpublished", made[1]["uid"]) in kinds
    assert {("entry_unpublished", made[2]["uid"]), ("entry_deleted", made[2]["uid"])} & kinds
    changed = next(i for i in items if i["data"]["uid"] == made[0]["uid"])
    assert changed["data"]["title"] == "Changed" and changed["content_type_uid"] == "article"
    # filters chosen at init persist: an author-only sync never sees articles
    a_items, a_token, _ = sync_all(site, {"init": "true", "content_type_uid": "author"})
    assert [i["data"]["uid"] for i in a_items] == [author["uid"]]
    site.update("article", made[3]["uid"], {"title": "Again"})
    site.publish("article", made[3]["uid"])
    assert sync_all(site, {"sync_token": a_token})[0] == []
    # types: only unpublishes
    _, t_token, _ = sync_all(site, {"init": "true", "type": "entry_unpublished"})
    site.unpublish("article", made[4]["uid"])
    site.publish("article", made[5]["uid"])
    got = sync_all(site, {"sync_token": t_token})[0]
    assert [(i["type"], i["data"]["uid"]) for i in got] == [("entry_unpublished", made[4]["uid"])]


def test_tokens_are_unforgeable_and_bound_to_the_stack(site: Site, live: Any, owner: Any) -> None:
    e = site.create("article", {"title": "One"})
    site.publish("article", e["uid"])
    _, token, _ = sync_all(site, {"init": "true"})
    payload, mac = token.split(".")
    with site.cda() as c:
        for bad in ("nonsense", payload + "." + mac[::-1], payload[:-2] + "AA." + mac, ""):
            r = c.get(SYNC, params={"sync_token": bad})
            if bad == "":
                assert r.status_code == 422 and r.json()["errors"] == {"init": ["is required."]}
                continue
            assert r.status_code == 422 and r.json()["errors"] == {"sync_token": ["is not valid."]}
        r = c.get(SYNC, params={"pagination_token": "x.y"})
        assert r.json()["errors"] == {"pagination_token": ["is not valid."]}
        assert c.get(SYNC, params={"init": "true", "type": "entry_exploded"}).status_code == 422
    # another stack's token for the same server cannot use it
    with live.client(authtoken=owner.authtoken) as c:
        other = c.post("/v3/stacks", json={"stack": {"name": "Other", "master_locale": "en-us"}}).json()[
            "stack"
        ]
        c.headers["api_key"] = other["api_key"]
        c.post("/v3/environments", json={"environment": {"name": "production"}})
        tok = c.post(
            "/v3/stacks/delivery_tokens",
            json={
                "token": {"name": "T", "scope": [{"module": "environment", "environments": ["production"]}]}
            },
        ).json()["token"]["token"]
    headers = {"api_key": other["api_key"], "access_token": tok, "environment": "production"}
    with live.client(**headers) as c:
        assert c.get(SYNC, params={"sync_token": token}).status_code == 422


def test_official_sdk_sync(site: Site, https: str) -> None:
    made = [site.create("article", {"title": f"S{i:03d}"}) for i in range(102)]
    for e in made:
        site.publish("article", e["uid"])
    s = contentstack.Stack(site.api_key, site.token, "production", host=https)
    first = s.sync_init()
    assert len(first["items"]) == 100 and first["total_count"] == 102
    last = s.pagination(first["pagination_token"])
    assert len(last["items"]) == 2 and "sync_token" in last
    site.unpublish("article", made[0]["uid"])
    s2 = contentstack.Stack(site.api_key, site.token, "production", host=https)
    delta = s2.sync_token(last["sync_token"])
    assert [(i["type"], i["data"]["uid"]) for i in delta["items"]] == [("entry_unpublished", made[0]["uid"])]
    s3 = contentstack.Stack(site.api_key, site.token, "production", host=https)
    only = s3.sync_init(content_type_uid="author", publish_type="entry_published")
    assert only["items"] == [] and "sync_token" in only
    assert s3.sync_token("forged.token")["errors"] == {"sync_token": ["is not valid."]}


# -- property: a syncing client never loses or duplicates a change --------------------------------
ops = st.lists(
    st.tuples(st.sampled_from(["publish", "update", "unpublish", "delete", "sync"]), st.integers(0, 4)),
    min_size=1,
    max_size=14,
)


def _published(site: Site) -> dict[tuple[str, str], int]:
    with site.live.db.read() as tx:
        rows = tx.all(
            "SELECT uid, locale, version FROM published WHERE api_key = ? AND environment = ? AND kind = 'entry'",
            site.api_key,
            site.environments["production"],
        )
    return {(r["uid"], r["locale"]): int(r["version"]) for r in rows}


_titles = itertools.count()  # titles are unique per content type, across examples too


@settings(max_examples=12)
@given(steps=ops, page_size_items=st.integers(0, 3))
def test_a_syncing_client_sees_every_change_once(
    site: Site, steps: list[tuple[str, int]], page_size_items: int
) -> None:
    with site.live.db.write() as tx:
        tx.run("DELETE FROM published WHERE api_key = ?", site.api_key)
    uids: list[str | None] = [site.create("article", {"title": f"P{next(_titles)}"})["uid"] for _ in range(5)]
    for i in range(page_size_items):
        site.publish("article", str(uids[i]))
    mirror: dict[tuple[str, str], int] = {}

    def apply(items: list[dict[str, Any]]) -> None:
        seen = set()
        for it in items:
            key = (
                it["data"]["uid"],
                it["data"].get("publish_details", {}).get("locale", it["data"].get("locale")),
            )
            assert key not in seen, f"{key} delivered twice in one sync"
            seen.add(key)
            if it["type"] == "entry_published":
                mirror[key] = int(it["data"]["_version"])
            else:
                mirror.pop(key, None)

    items, token, _ = sync_all(site, {"init": "true", "content_type_uid": "article"})
    apply(items)
    assert mirror == _published(site)
    for op, i in steps:
        uid = uids[i]
        if op == "sync" or uid is None:
            items, token, _ = sync_all(site, {"sync_token": token})
            apply(items)
            assert mirror == _published(site)
        elif op == "publish":
            site.publish("article", uid)
        elif op == "update":
            site.update("article", uid, {"title": f"U{next(_titles)}"})
            site.publish("article", uid)
        elif op == "unpublish":
            site.unpublish("article", uid)
        else:
            assert site.cma.delete(E.format("article") + "/" + uid).status_code == 200
            uids[i] = None
    items, token, _ = sync_all(site, {"sync_token": token})
    apply(items)
    assert mirror == _published(site)
