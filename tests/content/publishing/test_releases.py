"""Releases and release items with the official SDK's calls, and deployments that deliver every item
or none (both engines)."""

from __future__ import annotations

import httpx

from stackyard.core.job_runner import JobRunner
from tests.conftest import Live, User, wait_for
from tests.content.model.test_content_types import ct, text
from tests.content.publishing.test_bulk import counts, make_entries, setup
from tests.stacks.test_official_sdk_stack_admin import ok, sdk


def item(uid: str, **extra: object) -> dict[str, object]:
    return {
        "uid": uid,
        "version": 1,
        "content_type_uid": "blog",
        "action": "publish",
        "locale": "en-us",
        **extra,
    }


def test_release_calls_of_the_official_sdk(live: Live, owner: User, api_key: str, cma: httpx.Client) -> None:
    setup(cma)
    a, b, c = make_entries(live, owner, api_key, 3)
    stack = sdk(live, owner.authtoken).stack(api_key)

    created = ok(
        stack.releases().create(
            {"release": {"name": "Launch", "description": "2018-12-12", "locked": False, "archived": False}}
        ),
        201,
    )
    assert created["notice"] == "Release created successfully."
    rel = created["release"]["uid"]
    assert (
        ok(stack.releases(rel).update({"release": {"name": "Launch day", "description": "2018-12-22"}}))[
            "release"
        ]["name"]
        == "Launch day"
    )
    assert [r["uid"] for r in ok(stack.releases().find())["releases"]] == [rel]

    # items: one, then two more; find them; update all to latest; remove one
    assert (
        ok(stack.releases(rel).item().create({"item": item(a)}), 201)["notice"]
        == "Item added to release successfully."
    )
    many = ok(stack.releases(rel).item().create_multiple({"items": [item(b), item(c)]}), 201)
    assert many["release"]["items_count"] == 3
    listed = ok(stack.releases(rel).item().find())["items"]
    assert {i["uid"] for i in listed} == {a, b, c} and all(i["version"] == 1 for i in listed)
    assert cma.put(f"/v3/content_types/blog/entries/{a}", json={"entry": {"body": "new"}}).status_code == 200
    ok(stack.releases(rel).item().update({"items": ["$all"]}))
    versions = {i["uid"]: i["version"] for i in ok(stack.releases(rel).fetch())["release"]["items"]}
    assert versions == {a: 2, b: 1, c: 1}
    ok(stack.releases(rel).item().delete({"items": [item(c)]}))
    assert {i["uid"] for i in ok(stack.releases(rel).item().find())["items"]} == {a, b}

    # clone copies the items; move one item into the clone
    copy = ok(stack.releases(rel).clone({"release": {"name": "Copy", "description": "x"}}), 201)["release"]
    assert copy["items_count"] == 2
    ok(stack.releases(copy["uid"]).item().delete({"items": [item(b)]}))
    ok(stack.releases(rel).item().move({"release_uid": copy["uid"], "item": [{"uid": b, "locale": "en-us"}]}))
    assert {i["uid"] for i in ok(stack.releases(copy["uid"]).item().find())["items"]} == {a, b}
    assert {i["uid"] for i in ok(stack.releases(rel).item().find())["items"]} == {a}

    # locked: items cannot change
    ok(stack.releases(rel).update({"release": {"locked": True}}))
    r = cma.post(f"/v3/releases/{rel}/item", json={"item": item(c)})
    assert r.status_code == 422 and "locked" in r.json()["error_message"]

    # deploy the clone to production: both items published, one queue item of type release
    with JobRunner.from_settings(live.db, live.settings):
        body = ok(stack.releases(copy["uid"]).deploy({"release": {"environments": ["production"]}}))
        assert body["notice"] == "Release sent successfully for deployment."
        wait_for(lambda: counts(live.db, api_key)["published"] == 2, what="the deployment")
        queue = wait_for(
            lambda: [
                q
                for q in ok(stack.publish_queue().find())["queue"]
                if q["publish_details"]["status"] == "success"
            ],
            what="the deployment's queue item",
        )
    assert (queue[0]["type"], queue[0]["action"]) == ("release", "deploy")
    assert queue[0]["entry"]["release"] == {"uid": copy["uid"], "title": "Copy"}
    fetched = ok(stack.publish_queue(queue[0]["uid"]).fetch())["entry"]
    assert fetched["uid"] == queue[0]["uid"]

    assert ok(stack.releases(rel).delete())["notice"] == "Release deleted successfully."
    assert cma.get(f"/v3/releases/{rel}").status_code == 422


def test_a_deployment_delivers_every_item_or_none(
    live: Live, owner: User, api_key: str, cma: httpx.Client
) -> None:
    setup(cma)
    assert cma.post("/v3/content_types", json=ct("page", text("body"))).status_code == 201
    a, b = make_entries(live, owner, api_key, 2)
    rel = cma.post("/v3/releases", json={"release": {"name": "R"}}).json()["release"]["uid"]
    assert cma.post(f"/v3/releases/{rel}/items", json={"items": [item(a), item(b)]}).status_code == 201
    # b's entry is deleted after it was added: the deployment must not publish a alone
    assert cma.delete(f"/v3/content_types/blog/entries/{b}").status_code == 200
    with JobRunner.from_settings(live.db, live.settings):
        assert (
            cma.post(
                f"/v3/releases/{rel}/deploy", json={"release": {"environments": ["development"]}}
            ).status_code
            == 200
        )
        failed = wait_for(
            lambda: [
                q
                for q in cma.get("/v3/publish-queue").json()["queue"]
                if q["publish_details"]["status"] == "failed"
            ],
            what="the deployment to fail",
        )
    error = failed[0]["publish_details"]["error"]
    assert "1 of its 2 items" in error["error_message"]
    assert [e["uid"] for e in error["errors"]] == [b]
    assert counts(live.db, api_key)["published"] == 0 and counts(live.db, api_key)["events"] == 0
    # bad deployments are refused at once
    r = cma.post(f"/v3/releases/{rel}/deploy", json={"release": {"environments": ["nowhere"]}})
    assert r.status_code == 422 and "environments" in r.json()["errors"]
    r = cma.post("/v3/releases", json={"release": {"name": ""}})
    assert r.status_code == 422 and "name" in r.json()["errors"]


def test_bulk_release_items_with_the_official_sdk(
    live: Live, owner: User, api_key: str, cma: httpx.Client
) -> None:
    setup(cma)
    a, b = make_entries(live, owner, api_key, 2)
    rel = cma.post("/v3/releases", json={"release": {"name": "R"}}).json()["release"]["uid"]
    stack = sdk(live, owner.authtoken).stack(api_key)
    data = {
        "release": rel,
        "action": "publish",
        "locale": ["en-us"],
        "reference": True,
        "items": [{"uid": a, "content_type_uid": "blog"}, {"uid": b, "content_type_uid": "blog"}],
    }
    added = ok(stack.bulk_operation().add_items(data, headers={"bulk_version": "2.0"}))
    assert added["notice"] == "Your add to release request is in progress."
    with JobRunner.from_settings(live.db, live.settings):
        wait_for(
            lambda: ok(stack.bulk_operation().job_status(added["job_id"]))["status"] == "completed",
            what="add",
        )
        st = ok(stack.bulk_operation().job_status(added["job_id"]))
        assert st["succeeded"] == 2
        assert {i["uid"] for i in ok(stack.releases(rel).item().find())["items"]} == {a, b}
        assert (
            cma.put(f"/v3/content_types/blog/entries/{b}", json={"entry": {"body": "2"}}).status_code == 200
        )
        updated = ok(stack.bulk_operation().update_items({"release": rel, "items": ["$all"]}))
        assert updated["notice"] == "Your update release items to latest version request is in progress."
        wait_for(
            lambda: ok(stack.bulk_operation().job_status(updated["job_id"]))["status"] == "completed",
            what="update",
        )
    versions = {i["uid"]: i["version"] for i in ok(stack.releases(rel).item().find())["items"]}
    assert versions == {a: 1, b: 2}
    r = cma.post("/v3/bulk/release/items", json={**data, "release": "bltnope"})
    assert r.status_code == 422
