"""Objects sent back as they were fetched: every update accepts the whole fetched body over HTTP,
ignoring its read-only system fields, and changes nothing but `updated_at` and the version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stackyard.core.readonly import READ_ONLY, writable
from tests.content.entries.test_roundtrip import RICH
from tests.content.model.test_content_types import ct, text
from tests.content.model.test_extensions import FIELD

# Keys an update may change by itself. Everything else must come back as it was sent.
MOVING = {"updated_at", "updated_by", "_version"}
Made = tuple[str, str, str]  # (fetch/update path, envelope key, query string)


def _created(r: httpx.Response, key: str) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    return dict(r.json()[key])


def entry(cma: httpx.Client) -> Made:
    """An entry of the rich test schema with a value in every field kind."""
    assert cma.post("/v3/content_types", json=ct("writer")).status_code == 201
    assert cma.post("/v3/content_types", json=RICH).status_code == 201
    writer = _created(cma.post("/v3/content_types/writer/entries", json={"entry": {"title": "W"}}), "entry")
    upload = cma.post("/v3/assets", files={"asset[upload]": ("cover.txt", b"a cover", "text/plain")})
    cover = _created(upload, "asset")["uid"]
    body = {
        "title": "Everything",
        "body": "Some\ntext",
        "price": 9.5,
        "done": True,
        "when": "2024-01-31",
        "cover": cover,
        "site": {"title": "Home", "href": "https://example.com"},
        "pick": "b",
        "words": ["one", "two"],
        "info": {"name": "n", "n": 3},
        "items": [{"name": "first"}, {"name": "second"}],
        "sections": [{"hero": {"heading": "Hi"}}, {"quote": {"text": "Q"}}],
        "extra": {"any": ["json", 1]},
        "rte": {
            "type": "doc",
            "uid": "u1",
            "attrs": {},
            "children": [{"type": "p", "children": [{"text": "t"}]}],
        },
        "writer": [{"uid": writer["uid"], "_content_type_uid": "writer"}],
        "tags": ["a", "b"],
    }
    made = _created(cma.post("/v3/content_types/rich/entries", json={"entry": body}), "entry")
    return f"/v3/content_types/rich/entries/{made['uid']}", "entry", ""


def content_type(cma: httpx.Client) -> Made:
    assert cma.post("/v3/global_fields", json=_gf("seo")).status_code == 201
    gf_field = {"display_name": "SEO", "uid": "seo", "data_type": "global_field", "reference_to": "seo"}
    assert cma.post("/v3/content_types", json=ct("page", text("body"), gf_field)).status_code == 201
    return "/v3/content_types/page", "content_type", ""


def _gf(uid: str) -> dict[str, Any]:
    return {"global_field": {"title": uid.upper(), "uid": uid, "schema": [text("keywords")]}}


def global_field(cma: httpx.Client) -> Made:
    assert cma.post("/v3/global_fields", json=_gf("seo")).status_code == 201
    return "/v3/global_fields/seo", "global_field", ""


def environment(cma: httpx.Client) -> Made:
    body = {"name": "production", "urls": [{"locale": "en-us", "url": "https://example.com"}]}
    _created(cma.post("/v3/environments", json={"environment": body}), "environment")
    return "/v3/environments/production", "environment", ""


def locale(cma: httpx.Client) -> Made:
    body = {"code": "fr-fr", "name": "French", "fallback_locale": "en-us"}
    _created(cma.post("/v3/locales", json={"locale": body}), "locale")
    return "/v3/locales/fr-fr", "locale", ""


def role(cma: httpx.Client) -> Made:
    environment(cma)
    rules = [
        {"module": "environment", "environments": ["production"], "acl": {"read": True}},
        {
            "module": "content_type",
            "content_types": ["$all"],
            "acl": {"read": True, "sub_acl": {"read": True}},
        },
    ]
    made = _created(cma.post("/v3/roles", json={"role": {"name": "Readers", "rules": rules}}), "role")
    return f"/v3/roles/{made['uid']}", "role", ""


def _token(kind: str) -> Callable[[httpx.Client], Made]:
    def make(cma: httpx.Client) -> Made:
        environment(cma)
        if kind == "delivery":
            scope = [
                {"module": "environment", "environments": ["production"], "acl": {"read": True}},
                {"module": "branch", "branches": ["main"], "acl": {"read": True}},
            ]
        else:
            scope = [{"module": "environment", "acl": {"read": True, "write": True}}]
        body = {"name": "Site", "description": "the site", "scope": scope}
        made = _created(cma.post(f"/v3/stacks/{kind}_tokens", json={"token": body}), "token")
        return f"/v3/stacks/{kind}_tokens/{made['uid']}", "token", ""

    make.__name__ = f"{kind}_token"
    return make


def label(cma: httpx.Client) -> Made:
    assert cma.post("/v3/content_types", json=ct("blog")).status_code == 201
    parent = _created(cma.post("/v3/labels", json={"label": {"name": "Parent"}}), "label")
    body = {"name": "Child", "parent": [parent["uid"]], "content_types": ["blog"]}
    made = _created(cma.post("/v3/labels", json={"label": body}), "label")
    return f"/v3/labels/{made['uid']}", "label", ""


def extension(cma: httpx.Client) -> Made:
    assert cma.post("/v3/content_types", json=ct("blog")).status_code == 201
    body = {**FIELD, "tags": ["ui"], "config": {"a": 1}, "scope": {"content_types": ["blog"]}}
    made = _created(cma.post("/v3/extensions", json={"extension": body}), "extension")
    return f"/v3/extensions/{made['uid']}", "extension", ""


def metadata(cma: httpx.Client) -> Made:
    assert cma.post("/v3/content_types", json=ct("blog")).status_code == 201
    made_entry = _created(cma.post("/v3/content_types/blog/entries", json={"entry": {"title": "E"}}), "entry")
    ext = _created(cma.post("/v3/extensions", json={"extension": FIELD}), "extension")
    body = {
        "entity_uid": made_entry["uid"],
        "type": "entry",
        "_content_type_uid": "blog",
        "extension_uid": ext["uid"],
        "locale": "en-us",
        "presets": [{"uid": "p1", "name": "Preset", "options": {}}],
    }
    made = _created(cma.post("/v3/metadata", json={"metadata": body}), "metadata")
    return f"/v3/metadata/{made['uid']}", "metadata", ""


def stack(cma: httpx.Client) -> Made:
    return "/v3/stacks", "stack", ""


def user(cma: httpx.Client) -> Made:
    r = cma.put("/v3/user", json={"user": {"first_name": "Ada", "company": "Acme"}})
    assert r.status_code == 200, r.text
    return "/v3/user", "user", ""


def localized_entry(cma: httpx.Client) -> Made:
    locale(cma)
    path, key, _ = entry(cma)
    r = cma.put(path, params={"locale": "fr-fr"}, json={"entry": {"title": "Tout"}})
    assert r.status_code == 200, r.text
    return path, key, "locale=fr-fr"


RESOURCES = [
    entry,
    localized_entry,
    content_type,
    global_field,
    environment,
    locale,
    role,
    _token("delivery"),
    _token("management"),
    label,
    extension,
    metadata,
    stack,
    user,
]
# System fields Contentstack objects carry, with values a client might hold; each resource's
# update must ignore those of its read-only fields the fetched object does not show itself.
ECHOED: dict[str, Any] = {
    "uid": "bltechoed0000000",
    "content_type_uid": "rich",
    "_version": 7,
    "created_at": "2020-01-01T00:00:00.000Z",
    "updated_at": "2020-01-01T00:00:00.000Z",
    "created_by": "bltsomeone",
    "updated_by": "bltsomeone",
    "ACL": {},
    "_in_progress": False,
    "publish_details": [{"environment": "bltenv", "locale": "en-us", "version": 1}],
    "_metadata": {"uid": "cs0000"},
    "api_key": "bltotherstack",
    "org_uid": "bltorg",
    "owner": "bltowner",
}


@pytest.mark.parametrize("make", RESOURCES, ids=[m.__name__ for m in RESOURCES])
def test_a_fetched_object_sent_back_whole_is_saved_unchanged(
    cma: httpx.Client, make: Callable[[httpx.Client], Made]
) -> None:
    # given an object as a client fetched it, system fields and all
    path, key, query = make(cma)
    url = f"{path}?{query}" if query else path
    r = cma.get(url)
    assert r.status_code == 200, r.text
    fetched = r.json()[key]
    # when the client sends it back whole, with whatever other system fields it holds
    echoed = {k: v for k, v in ECHOED.items() if k in READ_ONLY[key] and k not in fetched}
    r = cma.put(url, json={key: {**echoed, **fetched}})
    # then it is saved, and nothing changed but the update stamps
    assert r.status_code == 200, r.text
    again = cma.get(url).json()[key]
    assert {k: v for k, v in again.items() if k not in MOVING} == {
        k: v for k, v in fetched.items() if k not in MOVING
    }
    if "_version" in fetched:
        assert again["_version"] >= fetched["_version"]


def test_entry_version_sent_back_still_guards_against_lost_updates(cma: httpx.Client) -> None:
    # given an entry fetched by two clients
    path, key, _ = entry(cma)
    first = cma.get(path).json()[key]
    # when one saves it as fetched, the current _version is accepted
    r = cma.put(path, json={key: first})
    assert r.status_code == 200, r.text
    assert r.json()[key]["_version"] == first["_version"] + 1
    # then the other's copy, with the _version it saw, is a conflict
    r = cma.put(path, json={key: {**first, "title": "Mine"}})
    assert r.status_code == 409, r.text
    assert r.json()["error_code"] == 162
    assert cma.get(path).json()[key]["title"] == "Everything"


def test_read_only_fields_are_dropped_and_the_rest_kept() -> None:
    fetched = {"uid": "blt1", "name": "n", "created_at": "t", "ACL": [], "_version": 3, "urls": []}
    assert writable("environment", fetched) == {"name": "n", "urls": []}
    # an entry keeps `_version` (its optimistic concurrency check) and its tags
    entry_body = {"uid": "blt1", "title": "T", "_version": 2, "tags": ["a"], "locale": "en-us", "ACL": {}}
    assert writable("entry", entry_body) == {"title": "T", "_version": 2, "tags": ["a"]}
    assert "_version" not in READ_ONLY["entry"]


def test_every_system_field_of_a_fetched_entry_is_read_only_and_no_field_name() -> None:
    from stackyard.content.model.schema import RESERVED, UID

    shown = {"uid", "content_type_uid", "created_at", "updated_at", "created_by", "updated_by", "ACL"}
    assert shown | {"_in_progress", "publish_details", "_metadata", "locale"} <= READ_ONLY["entry"]
    # a content type field may be called anything else: such a key of an entry body is a value
    for key in READ_ONLY["entry"]:
        assert key in RESERVED or not UID.match(key), key
    with pytest.raises(KeyError):
        writable("no_such_resource", {})
