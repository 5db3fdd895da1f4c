"""The official `contentstack_management` SDK against a live Stackyard: the seed's entry calls.

create (with locale), fetch, find with add_param, update, version_naming, references, languages,
localize, unlocalize, export, imports(file_path, locale) (multipart without a boundary, which also
leaves that Content-Type on the client for later JSON calls) and delete; each is read back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Live, User
from tests.content.model.test_content_types import ct, text
from tests.stacks.test_official_sdk_stack_admin import ok, sdk

# The official SDK opens upload and import files without closing them (its imports() and upload());
# that leak is the oracle's, not ours, so its ResourceWarning is not an error here.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")

AUTHOR_REF = {
    "display_name": "Author",
    "uid": "author",
    "data_type": "reference",
    "reference_to": ["author"],
    "field_metadata": {"ref_multiple": False},
}


def test_seed_entry_calls(live: Live, owner: User, api_key: str, cma: httpx.Client, tmp_path: Path) -> None:
    # given a stack with fr-fr and two content types, set up over plain HTTP
    assert cma.post("/v3/locales", json={"locale": {"code": "fr-fr"}}).status_code == 201
    assert cma.post("/v3/content_types", json=ct("author")).status_code == 201
    assert cma.post("/v3/content_types", json=ct("blog", text("url"), AUTHOR_REF)).status_code == 201
    client = sdk(live, owner.authtoken)
    stack = client.stack(api_key)

    # create, with the locale query parameter the SDK always sends
    author = ok(
        stack.content_types("author").entry().create({"entry": {"title": "Ann"}}, locale="en-us"), 201
    )
    ann = author["entry"]["uid"]
    data = {
        "entry": {
            "title": "example",
            "url": "/example",
            "author": [{"uid": ann, "_content_type_uid": "author"}],
        }
    }
    body = ok(stack.content_types("blog").entry().create(data), 201)
    assert body["notice"] == "Entry created successfully." and body["entry"]["_version"] == 1
    uid = body["entry"]["uid"]

    # fetch and find (add_param with a query and a limit)
    assert ok(stack.content_types("blog").entry(uid).fetch())["entry"]["url"] == "/example"
    query = stack.content_types("blog").entry()
    query.add_param("query", json.dumps({"title": "example"}))
    query.add_param("limit", 2)
    found = ok(query.find())["entries"]
    assert [e["uid"] for e in found] == [uid]
    query = stack.content_types("blog").entry()
    query.add_param_dict({"include_count": True, "skip": 0})
    assert ok(query.find())["count"] == 1

    # update makes version 2; version_naming names version 1
    updated = ok(
        stack.content_types("blog").entry(uid).update({"entry": {"title": "example", "url": "/updated"}})
    )
    assert updated["notice"] == "Entry updated successfully." and updated["entry"]["_version"] == 2
    named = (
        stack.content_types("blog")
        .entry(uid)
        .version_naming(1, {"entry": {"_version_name": "Test version", "locale": "en-us", "force": True}})
    )
    assert ok(named)["notice"] == "Version name assigned successfully"
    versions = cma.get(f"/v3/content_types/blog/entries/{uid}/versions").json()["versions"]
    assert versions[-1] == {**versions[-1], "_version": 1, "_version_name": "Test version"}

    # references (entries referring to the author) and languages
    refs = ok(stack.content_types("author").entry(ann).references())
    assert [r["entry_uid"] for r in refs["references"]] == [uid]
    langs = ok(stack.content_types("blog").entry(uid).languages())["locales"]
    assert {"code": "fr-fr", "localized": False} in langs

    # localize into fr-fr (the seed's body echoes system fields), then unlocalize
    localized = (
        stack.content_types("blog")
        .entry(uid)
        .localize(
            {
                "entry": {
                    "title": "Home",
                    "url": "/home-french",
                    "tags": [],
                    "locale": "en-us",
                    "uid": uid,
                    "created_by": "user_uid",
                    "updated_by": "user_uid",
                    "created_at": "2017-06-13T12:34:52.083Z",
                    "updated_at": "2018-12-28T06:33:06.752Z",
                    "ACL": {},
                    "_version": 2,
                }
            },
            locale="fr-fr",
        )
    )
    body = ok(localized)
    assert body["notice"] == "Entry localized successfully."
    assert (body["entry"]["locale"], body["entry"]["_version"], body["entry"]["url"]) == (
        "fr-fr",
        1,
        "/home-french",
    )
    fr = cma.get(f"/v3/content_types/blog/entries/{uid}", params={"locale": "fr-fr"}).json()["entry"]
    assert fr["title"] == "Home"
    assert ok(stack.content_types("blog").entry(uid).unlocalize(locale="fr-fr"))["notice"] == (
        "Entry unlocalized successfully."
    )
    assert cma.get(f"/v3/content_types/blog/entries/{uid}", params={"locale": "fr-fr"}).status_code == 422

    # export answers the bare entry; imports(file_path, locale) creates a new one from it
    exported = ok(stack.content_types("blog").entry(uid).export())
    assert exported["uid"] == uid and exported["url"] == "/updated"
    path = tmp_path / "entry.json"
    path.write_text(json.dumps({**exported, "title": "imported", "url": "/imported"}))
    imported = ok(stack.content_types("blog").entry().imports(str(path), locale="en-us"), 201)
    assert imported["notice"] == "Entry imported successfully."
    new_uid = imported["entry"]["uid"]
    assert new_uid != uid
    assert cma.get(f"/v3/content_types/blog/entries/{new_uid}").json()["entry"]["url"] == "/imported"

    # later JSON calls still carry the boundary-less multipart Content-Type, and still work
    after: Any = stack.content_types("blog").entry(uid).update({"entry": {"url": "/after-import"}})
    assert ok(after)["entry"]["url"] == "/after-import"

    # delete (the SDK adds force=True)
    assert ok(stack.content_types("blog").entry(uid).delete())["notice"] == "Entry deleted successfully."
    assert cma.get(f"/v3/content_types/blog/entries/{uid}").status_code == 422
    assert [e["uid"] for e in cma.get("/v3/content_types/blog/entries").json()["entries"]] == [new_uid]
