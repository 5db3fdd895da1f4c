"""Entries over HTTP: CRUD, validation, versions and names, locales and fallback, operators,
references, import/export, deletes per locale, events and audit, permissions and isolation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Live, make_user
from tests.content.model.test_content_types import TITLE, ct, text

AUTHOR = ct("author", {"display_name": "Age", "uid": "age", "data_type": "number"})
ARTICLE = ct(
    "article",
    text("body"),
    {"display_name": "Views", "uid": "views", "data_type": "number", "field_metadata": {"default_value": 0}},
    {"display_name": "Scores", "uid": "scores", "data_type": "number", "multiple": True},
    {
        "display_name": "Authors",
        "uid": "authors",
        "data_type": "reference",
        "reference_to": ["author"],
        "field_metadata": {"ref_multiple": True},
    },
    {
        "display_name": "Info",
        "uid": "info",
        "data_type": "group",
        "schema": [text("name"), {"display_name": "N", "uid": "n", "data_type": "number"}],
    },
    {
        "display_name": "Sections",
        "uid": "sections",
        "data_type": "blocks",
        "blocks": [
            {"uid": "hero", "title": "Hero", "schema": [text("heading")]},
            {"uid": "quote", "title": "Quote", "schema": [text("text")]},
        ],
    },
)
E = "/v3/content_types/{}/entries"


@pytest.fixture
def model(cma: httpx.Client) -> httpx.Client:
    """A stack with fr-fr (falling back to en-us), an author and an article content type."""
    assert cma.post("/v3/locales", json={"locale": {"code": "fr-fr"}}).status_code == 201
    for body in (AUTHOR, ARTICLE):
        r = cma.post("/v3/content_types", json=body)
        assert r.status_code == 201, r.text
    return cma


def create(c: httpx.Client, ct_uid: str, entry: dict[str, Any], locale: str = "en-us") -> dict[str, Any]:
    r = c.post(E.format(ct_uid), params={"locale": locale}, json={"entry": entry})
    assert r.status_code == 201, r.text
    return dict(r.json()["entry"])


def test_entry_lifecycle(model: httpx.Client, live: Live) -> None:
    # given a new article
    r = model.post(
        E.format("article"), params={"locale": "en-us"}, json={"entry": {"title": "Hello", "body": "b"}}
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Entry created successfully."
    entry = r.json()["entry"]
    assert entry["_version"] == 1 and entry["locale"] == "en-us" and entry["views"] == 0
    assert {"uid", "created_at", "created_by", "updated_at", "updated_by", "tags", "ACL"} <= set(entry)
    assert entry["ACL"] == {} and entry["_in_progress"] is False and entry["publish_details"] == []
    one = E.format("article") + "/" + entry["uid"]
    # when it is fetched, updated twice and listed
    assert model.get(one).json()["entry"] == entry
    assert model.get(one, params={"include_branch": "true"}).json()["entry"]["_branch"] == "main"
    r = model.put(one, params={"locale": "en-us"}, json={"entry": {"body": "new", "tags": ["x"]}})
    assert r.status_code == 200 and r.json()["notice"] == "Entry updated successfully."
    assert r.json()["entry"]["_version"] == 2 and r.json()["entry"]["title"] == "Hello"
    assert model.put(one, json={"entry": {"title": "Hello 3"}}).json()["entry"]["_version"] == 3
    listed = model.get(E.format("article"), params={"include_count": "true"}).json()
    assert listed["count"] == 1 and listed["entries"][0]["title"] == "Hello 3"
    assert listed["entries"][0]["tags"] == ["x"]
    # then it can be deleted, and is not found afterwards (422/141)
    assert model.delete(one, params={"force": "True"}).json() == {"notice": "Entry deleted successfully."}
    r = model.get(one)
    assert r.status_code == 422 and r.json()["error_code"] == 141
    assert model.get(E.format("article")).json()["entries"] == []
    # and every write left an event and an audit entry
    with live.db.read() as tx:
        types = [
            e["type"]
            for e in tx.all("SELECT type FROM events WHERE object_uid = ? ORDER BY seq", entry["uid"])
        ]
        audits = tx.scalar("SELECT COUNT(*) AS n FROM audit_logs WHERE module = 'entry'")
    assert types == ["entry.create", "entry.update", "entry.update", "entry.delete"]
    assert audits == 4


def test_invalid_entry_is_refused_and_nothing_is_stored(model: httpx.Client, live: Live) -> None:
    r = model.post(
        E.format("article"),
        json={"entry": {"title": "x", "views": "many", "authors": [{"uid": "bltnope"}], "bogus": 1}},
    )
    assert r.status_code == 422
    assert r.json() == {
        "error_message": "Entry creation failed. Please enter valid data.",
        "error_code": 119,
        "errors": {
            "views": ["must be a number."],
            "authors.0": ["refers to an entry that does not exist."],
            "bogus": ["is not a field of this content type."],
        },
    }
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM entries") == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM entry_versions") == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM events WHERE module = 'entry'") == 0
    # a failed update changes nothing either
    entry = create(model, "article", {"title": "ok"})
    one = E.format("article") + "/" + entry["uid"]
    r = model.put(one, json={"entry": {"views": -0.5, "title": None}})
    assert r.status_code == 422 and r.json()["error_code"] == 120
    assert r.json()["errors"] == {"title": ["is required."]}
    assert model.get(one).json()["entry"]["_version"] == 1


def test_unique_title_per_locale(model: httpx.Client) -> None:
    create(model, "article", {"title": "Same"})
    r = model.post(E.format("article"), json={"entry": {"title": "Same"}})
    assert r.status_code == 422 and r.json()["errors"] == {"title": ["is not unique."]}
    assert (
        model.post(
            E.format("article"), params={"locale": "fr-fr"}, json={"entry": {"title": "Same"}}
        ).status_code
        == 201
    )


def test_unknown_content_type_and_locale(model: httpx.Client) -> None:
    r = model.post(E.format("ghost"), json={"entry": {"title": "x"}})
    assert r.status_code == 422 and r.json()["error_code"] == 118
    r = model.post(E.format("article"), params={"locale": "xx-yy"}, json={"entry": {"title": "x"}})
    assert r.status_code == 422 and "locale" in r.json()["errors"]


def test_operators_add_sub_push_pull(model: httpx.Client) -> None:
    entry = create(model, "article", {"title": "Ops", "views": 10, "scores": [1, 2, 3, 2]})
    one = E.format("article") + "/" + entry["uid"]
    e = model.put(one, json={"entry": {"views": {"ADD": 5}}}).json()["entry"]
    assert e["views"] == 15
    assert model.put(one, json={"entry": {"views": {"SUB": 20}}}).json()["entry"]["views"] == -5
    e = model.put(one, json={"entry": {"scores": {"PUSH": {"data": [9], "index": 0}}}}).json()["entry"]
    assert e["scores"] == [9, 1, 2, 3, 2]
    e = model.put(one, json={"entry": {"scores": {"PUSH": {"data": 7}}}}).json()["entry"]
    assert e["scores"] == [9, 1, 2, 3, 2, 7]
    e = model.put(one, json={"entry": {"scores": {"PULL": {"query": {"$in": [2, 9]}}}}}).json()["entry"]
    assert e["scores"] == [1, 3, 7]
    e = model.put(one, json={"entry": {"scores": {"PULL": {"index": [0, 2]}}}}).json()["entry"]
    assert e["scores"] == [3] and e["_version"] == 7
    e = model.put(one, json={"entry": {"scores": {"UPDATE": {"index": 0, "data": 8}}}}).json()["entry"]
    assert e["scores"] == [8] and e["_version"] == 8
    r = model.put(one, json={"entry": {"views": {"ADD": "x"}}})
    assert r.status_code == 422 and r.json()["errors"] == {
        "views": ["ADD takes a number, on a number field."]
    }
    r = model.put(one, json={"entry": {"scores": {"PULL": {"index": 5}}}})
    assert r.status_code == 422 and "scores" in r.json()["errors"]


def test_stale_version_is_a_conflict(model: httpx.Client) -> None:
    entry = create(model, "article", {"title": "v"})
    one = E.format("article") + "/" + entry["uid"]
    assert model.put(one, json={"entry": {"body": "a", "_version": 1}}).status_code == 200
    r = model.put(one, json={"entry": {"body": "b", "_version": 1}})
    assert r.status_code == 409 and r.json()["error_code"] == 162
    assert model.get(one).json()["entry"]["body"] == "a"


def test_versions_and_names(model: httpx.Client) -> None:
    entry = create(model, "article", {"title": "v1"})
    one = E.format("article") + "/" + entry["uid"]
    model.put(one, json={"entry": {"title": "v2"}})
    model.put(one, json={"entry": {"title": "v3"}})
    r = model.post(
        one + "/versions/2/name", json={"entry": {"_version_name": "Draft two", "locale": "en-us"}}
    )
    assert r.status_code == 200 and r.json() == {"notice": "Version name assigned successfully"}
    body = model.get(one + "/versions").json()
    assert body["count"] == 3
    assert [v["_version"] for v in body["versions"]] == [3, 2, 1]
    assert body["versions"][1]["_version_name"] == "Draft two" and "_version_name" not in body["versions"][0]
    old = model.get(one, params={"version": "2"}).json()["entry"]
    assert old["title"] == "v2" and old["_version"] == 2 and old["_version_name"] == "Draft two"
    assert model.get(one).json()["entry"]["title"] == "v3"
    named = model.get(one + "/versions", params={"named": "true"}).json()
    assert [v["_version"] for v in named["versions"]] == [2] and named["count"] == 1
    # a locale without its own copy answers the versions it falls back to
    assert model.get(one + "/versions", params={"locale": "fr-fr"}).json()["count"] == 3
    r = model.delete(one + "/versions/2/name", params={"locale": "en-us"})
    assert r.json() == {"notice": "Version name deleted successfully"}
    assert "_version_name" not in model.get(one + "/versions").json()["versions"][1]
    assert model.post(one + "/versions/9/name", json={"entry": {"_version_name": "x"}}).status_code == 422
    assert model.get(one, params={"version": "9"}).status_code == 422
    assert model.post(one + "/versions/1/name", json={"entry": {"_version_name": ""}}).status_code == 422


def test_localize_fallback_and_unlocalize(model: httpx.Client) -> None:
    entry = create(model, "article", {"title": "Hello", "body": "english"})
    one = E.format("article") + "/" + entry["uid"]
    # not localized: fr-fr is not found unless fallback is asked for
    assert model.get(one, params={"locale": "fr-fr"}).status_code == 422
    fb = model.get(one, params={"locale": "fr-fr", "include_fallback": "true"}).json()["entry"]
    assert fb["locale"] == "en-us" and fb["body"] == "english"
    langs = model.get(one + "/locales").json()["locales"]
    assert {"code": "fr-fr", "localized": False} in langs and {"code": "en-us", "localized": True} in langs
    # localize: a French copy starting at version 1, keeping the fields it does not change
    r = model.put(
        one, params={"locale": "fr-fr"}, json={"entry": {**entry, "title": "Bonjour", "_version": 5}}
    )
    assert r.status_code == 200 and r.json()["notice"] == "Entry localized successfully."
    fr = r.json()["entry"]
    assert (fr["locale"], fr["_version"], fr["title"], fr["body"]) == ("fr-fr", 1, "Bonjour", "english")
    r = model.put(one, params={"locale": "fr-fr"}, json={"entry": {"body": "français"}})
    assert r.json()["notice"] == "Entry updated successfully." and r.json()["entry"]["_version"] == 2
    assert model.get(one).json()["entry"]["title"] == "Hello"
    assert {"code": "fr-fr", "localized": True} in model.get(one + "/locales").json()["locales"]
    listed = model.get(E.format("article"), params={"locale": "fr-fr"}).json()["entries"]
    assert [e["title"] for e in listed] == ["Bonjour"]
    # unlocalize: fr-fr reads fall back again; the master copy cannot be unlocalized
    r = model.post(one + "/unlocalize", params={"locale": "fr-fr"})
    assert r.json() == {"notice": "Entry unlocalized successfully."}
    assert model.get(one, params={"locale": "fr-fr"}).status_code == 422
    assert model.post(one + "/unlocalize", params={"locale": "en-us"}).status_code == 422


def test_find_with_fallback_query_sort_and_projection(model: httpx.Client) -> None:
    a = create(model, "article", {"title": "A", "views": 3, "info": {"name": "x", "n": 1}})
    b = create(model, "article", {"title": "B", "views": 1, "sections": [{"hero": {"heading": "Big"}}]})
    create(model, "article", {"title": "C", "views": 2})
    model.put(
        E.format("article") + "/" + a["uid"], params={"locale": "fr-fr"}, json={"entry": {"title": "A fr"}}
    )
    listed = model.get(
        E.format("article"), params={"locale": "fr-fr", "include_fallback": "true", "asc": "title"}
    )
    titles = [(e["title"], e["locale"]) for e in listed.json()["entries"]]
    assert titles == [("A fr", "fr-fr"), ("B", "en-us"), ("C", "en-us")]

    def titles_of(**params: Any) -> list[str]:
        r = model.get(E.format("article"), params=params)
        assert r.status_code == 200, r.text
        return [e["title"] for e in r.json()["entries"]]

    assert titles_of(query=json.dumps({"views": {"$gte": 2}}), asc="views") == ["C", "A"]
    assert titles_of(query=json.dumps({"views": "1"})) == ["B"]
    assert titles_of(query=json.dumps({"sections.hero.heading": "Big"})) == ["B"]
    assert titles_of(query=json.dumps({"$or": [{"info.n": 1}, {"title": "C"}]}), desc="title") == ["C", "A"]
    assert titles_of(desc="views", limit="2") == ["A", "C"]
    assert titles_of(desc="views", skip="2") == ["B"]
    only = model.get(E.format("article"), params={"only[BASE][]": "title", "asc": "title"}).json()["entries"][
        0
    ]
    assert set(only) == {"uid", "title"}
    excepted = model.get(E.format("article"), params={"except[BASE][]": "views"}).json()["entries"][0]
    assert "views" not in excepted and "title" in excepted
    r = model.get(E.format("article"), params={"query": json.dumps({"nope": 1})})
    assert r.status_code == 400 and r.json()["error_code"] == 102
    assert model.get(E.format("article"), params={"query": "brand"}).status_code == 400
    assert model.get(E.format("article"), params={"limit": "0"}).status_code == 400
    assert model.get(E.format("article") + "/" + b["uid"], params={"only[BASE][]": "views"}).json()[
        "entry"
    ] == {
        "uid": b["uid"],
        "views": 1,
    }


def test_references(model: httpx.Client, live: Live) -> None:
    ann = create(model, "author", {"title": "Ann", "age": 40})
    art = create(
        model, "article", {"title": "Post", "authors": [{"uid": ann["uid"], "_content_type_uid": "author"}]}
    )
    assert art["authors"] == [{"uid": ann["uid"], "_content_type_uid": "author"}]
    body = model.get(E.format("author") + "/" + ann["uid"] + "/references").json()
    assert body["count"] == 1
    ref = body["references"][0]
    assert (
        ref["entry_uid"],
        ref["content_type_uid"],
        ref["locale"],
        ref["title"],
        ref["content_type_title"],
    ) == (
        art["uid"],
        "article",
        "en-us",
        "Post",
        "Article",
    )
    # a named version of the referring entry is shown as {title, updated_by, updated_at}
    named = {"entry": {"_version_name": "First"}}
    model.post(E.format("article") + "/" + art["uid"] + "/versions/1/name", json=named)
    ref = model.get(E.format("author") + "/" + ann["uid"] + "/references").json()["references"][0]
    assert ref["_version_name"]["title"] == "First"
    # referring to an article from an author field is refused
    r = model.post(E.format("article"), json={"entry": {"title": "Bad", "authors": [{"uid": art["uid"]}]}})
    assert r.json()["errors"] == {
        "authors.0": ["refers to an entry of a content type this field does not accept."]
    }
    # removing the reference removes it from the table
    model.put(E.format("article") + "/" + art["uid"], json={"entry": {"authors": []}})
    assert model.get(E.format("author") + "/" + ann["uid"] + "/references").json()["count"] == 0


def test_export_and_import(model: httpx.Client) -> None:
    entry = create(model, "article", {"title": "Exported", "views": 4, "tags": ["t"]})
    one = E.format("article") + "/" + entry["uid"]
    exported = model.get(one + "/export").json()
    assert exported == model.get(one).json()["entry"]
    # import as a new entry (the SDK sends multipart field `entry`)
    fresh = dict(exported, title="Imported")
    r = model.post(
        E.format("article") + "/import",
        params={"locale": "en-us"},
        files={"entry": ("e.json", json.dumps(fresh))},
    )
    assert r.status_code == 201 and r.json()["notice"] == "Entry imported successfully."
    new = r.json()["entry"]
    assert new["uid"] != entry["uid"] and new["views"] == 4 and new["tags"] == ["t"] and new["_version"] == 1
    # importing into an existing entry makes a new version that replaces all fields
    again = {"title": "Replaced"}
    r = model.post(one + "/import", files={"entry": ("e.json", json.dumps(again))})
    assert r.status_code == 200, r.text
    replaced = r.json()["entry"]
    assert replaced["_version"] == 2 and replaced["title"] == "Replaced" and "views" not in replaced
    # overwrite through /entries/import picks the file's uid
    r = model.post(
        E.format("article") + "/import",
        params={"overwrite": "true"},
        files={"entry": ("e.json", json.dumps({"uid": entry["uid"], "title": "Third"}))},
    )
    assert r.status_code == 200 and r.json()["entry"]["_version"] == 3
    # a file that is not JSON, or not valid, is refused
    assert (
        model.post(
            one + "/import", params={"overwrite": "true"}, files={"entry": ("e.json", "{")}
        ).status_code
        == 400
    )
    r = model.post(one + "/import", params={"overwrite": "true"}, files={"entry": ("e.json", '{"title": 5}')})
    assert r.status_code == 422


def test_delete_per_locale_and_all(model: httpx.Client) -> None:
    entry = create(model, "article", {"title": "Multi"})
    one = E.format("article") + "/" + entry["uid"]
    model.put(one, params={"locale": "fr-fr"}, json={"entry": {"title": "Multi fr"}})
    assert model.delete(one, params={"locale": "fr-fr"}).status_code == 200
    assert model.get(one, params={"locale": "fr-fr"}).status_code == 422
    assert model.get(one).status_code == 200
    assert model.delete(one, params={"locale": "fr-fr"}).status_code == 422
    model.put(one, params={"locale": "fr-fr"}, json={"entry": {"title": "Multi fr"}})
    r = model.request("DELETE", one, json={"entry": {"locales": ["fr-fr", "en-us"]}})
    assert r.status_code == 200
    assert model.get(one).status_code == 422
    other = create(model, "article", {"title": "Other"})
    two = E.format("article") + "/" + other["uid"]
    model.put(two, params={"locale": "fr-fr"}, json={"entry": {"title": "Other fr"}})
    assert model.delete(two, params={"locale": "en-us", "delete_all_localized": "true"}).status_code == 200
    assert model.get(two, params={"locale": "fr-fr"}).status_code == 422


def test_other_stacks_entries_are_not_found(live: Live, model: httpx.Client, owner: Any) -> None:
    entry = create(model, "article", {"title": "Mine"})
    with live.client(authtoken=owner.authtoken) as c:
        r = c.post("/v3/stacks", json={"stack": {"name": "Second", "master_locale": "en-us"}})
        other_key = r.json()["stack"]["api_key"]
        c.headers["api_key"] = other_key
        assert c.post("/v3/content_types", json=ct("article")).status_code == 201
        r = c.get(E.format("article") + "/" + entry["uid"])
        assert r.status_code == 422 and r.json()["error_code"] == 141
        assert c.get(E.format("article")).json()["entries"] == []
    stranger = make_user(live, "stranger@example.com")
    with live.client(authtoken=stranger.authtoken, api_key=model.headers["api_key"]) as c:
        assert c.get(E.format("article") + "/" + entry["uid"]).status_code == 412


def test_read_only_token_cannot_write_entries(live: Live, model: httpx.Client) -> None:
    r = model.post(
        "/v3/stacks/management_tokens",
        json={
            "token": {
                "name": "ro",
                "scope": [
                    {"module": "entry", "acl": {"read": True, "write": False}},
                    {"module": "content_type", "acl": {"read": True}},
                ],
                "expires_on": None,
            }
        },
    )
    if r.status_code != 201:
        pytest.skip(f"management tokens not available: {r.text}")
    token = r.json()["token"]["token"]
    entry = create(model, "article", {"title": "Read me"})
    with live.client(authorization=token, api_key=model.headers["api_key"]) as c:
        assert c.get(E.format("article") + "/" + entry["uid"]).status_code == 200
        r = c.post(E.format("article"), json={"entry": {"title": "nope"}})
        assert r.status_code == 403
        assert c.delete(E.format("article") + "/" + entry["uid"]).status_code == 403


__all__ = ["TITLE"]


def test_demo_entries(live: Live, cma: httpx.Client, owner: Any, api_key: str) -> None:
    from stackyard.access.caller import Caller
    from stackyard.access.resolve import stack_access
    from stackyard.content.demo_entries import demo_entries
    from stackyard.content.demo_model import demo_content_model

    # given the demo model and a French locale, when the entries step runs twice
    assert cma.post("/v3/locales", json={"locale": {"code": "fr-fr"}}).status_code == 201
    caller = Caller(kind="user", user_uid=owner.uid, request_id="test")
    for _ in range(2):
        with live.db.write() as tx:
            access = stack_access(tx, caller, api_key)
            demo_content_model(tx, access)
            demo_entries(tx, access)
    # then there are two authors and two articles, referring to them, with blocks, once
    articles = cma.get(E.format("article"), params={"asc": "title"}).json()["entries"]
    assert [a["title"] for a in articles] == ["Hello Stackyard", "Modular blocks"]
    assert (
        list(articles[0]["sections"][0]) == ["quote"]
        and articles[0]["author"][0]["_content_type_uid"] == "author"
    )
    assert len(cma.get(E.format("author")).json()["entries"]) == 2
    # and the first article and author are localized in French
    fr = cma.get(E.format("article"), params={"locale": "fr-fr"}).json()["entries"]
    assert [a["title"] for a in fr] == ["Bonjour Stackyard"] and fr[0]["sections"] == articles[0]["sections"]
    refs = cma.get(E.format("author") + "/" + articles[0]["author"][0]["uid"] + "/references").json()
    assert {(r["entry_uid"], r["locale"]) for r in refs["references"]} == {
        (articles[0]["uid"], "en-us"),
        (articles[0]["uid"], "fr-fr"),
    }


def test_custom_role_governs_entries_per_content_type(live: Live, model: httpx.Client) -> None:
    from tests.access.helpers import custom_role, member

    # given a role that may read and update articles' entries, and only read the content types
    rules = [
        {
            "module": "content_type",
            "content_types": ["article"],
            "acl": {"read": True, "sub_acl": {"read": True, "update": True}},
        },
        {"module": "locale", "locales": ["$all"], "acl": {"read": True}},
        {"module": "branch", "branches": ["main"], "acl": {"read": True}},
    ]
    custom_role(model, "Article editor", rules)
    editor = member(live, model, "editor@example.com", "Article editor")
    article = create(model, "article", {"title": "Edit me"})
    author = create(model, "author", {"title": "Not yours"})
    with live.client(authtoken=editor.authtoken, api_key=model.headers["api_key"]) as c:
        one = E.format("article") + "/" + article["uid"]
        # then articles can be read and updated, not created or deleted
        assert c.get(one).status_code == 200
        assert c.put(one, json={"entry": {"body": "edited"}}).status_code == 200
        assert c.post(E.format("article"), json={"entry": {"title": "new"}}).status_code == 403
        assert c.delete(one).status_code == 403
        # and another content type's entries are out of reach
        assert c.get(E.format("author") + "/" + author["uid"]).status_code == 403
        assert c.get(E.format("author")).status_code == 403


def test_a_field_removed_from_the_schema_does_not_block_saves(model: httpx.Client) -> None:
    entry = create(model, "author", {"title": "Old", "age": 3})
    schema = model.get("/v3/content_types/author").json()["content_type"]["schema"]
    r = model.put(
        "/v3/content_types/author",
        json={"content_type": {"schema": [f for f in schema if f["uid"] != "age"]}},
    )
    assert r.status_code == 200, r.text
    r = model.put(E.format("author") + "/" + entry["uid"], json={"entry": {"title": "New"}})
    assert r.status_code == 200, r.text
    assert "age" not in r.json()["entry"]


def test_version_numbers_must_be_ascii_digits(model: httpx.Client) -> None:
    # "¹" passes str.isdigit() but is no version number: a clear 400, not a server error
    entry = create(model, "article", {"title": "Versioned"})
    r = model.delete(E.format("article") + f"/{entry['uid']}/versions/%C2%B9/name")
    assert r.status_code == 400 and r.json()["errors"] == {"version": ["is not valid."]}
