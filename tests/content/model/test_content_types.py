"""Content types over HTTP: CRUD, validation, global fields by reference, references, export/import,
field visibility rules, forced delete, permissions and isolation between stacks."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Live, make_user

TITLE = {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True, "unique": True}


def ct(uid: str, *fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "content_type": {
            "title": uid.replace("_", " ").title(),
            "uid": uid,
            "schema": [TITLE, *fields],
            **extra,
        }
    }


def text(uid: str, **extra: Any) -> dict[str, Any]:
    return {"display_name": uid, "uid": uid, "data_type": "text", **extra}


def test_content_type_lifecycle(cma) -> None:
    # given a new content type
    r = cma.post("/v3/content_types", json=ct("blog", text("body")))
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Content Type created successfully."
    created = r.json()["content_type"]
    assert created["uid"] == "blog" and created["_version"] == 1
    assert created["options"] == {"is_page": False, "singleton": False, "title": "title", "sub_title": []}
    assert [f["uid"] for f in created["schema"]] == ["title", "body"]
    assert created["schema"][1]["mandatory"] is False  # defaults are filled in
    # when it is fetched, updated and listed
    assert cma.get("/v3/content_types/blog").json()["content_type"]["title"] == "Blog"
    r = cma.put("/v3/content_types/blog", json={"content_type": {"title": "Blog posts"}})
    assert r.status_code == 200, r.text
    assert r.json()["notice"] == "Content Type updated successfully."
    assert r.json()["content_type"]["_version"] == 2
    assert [f["uid"] for f in r.json()["content_type"]["schema"]] == ["title", "body"]
    listed = cma.get("/v3/content_types", params={"include_count": "true"}).json()
    assert listed["count"] == 1 and listed["content_types"][0]["title"] == "Blog posts"
    assert "count" not in cma.get("/v3/content_types", params={"include_count": "false"}).json()
    # then delete removes it, and it is not found afterwards (422/118)
    r = cma.delete("/v3/content_types/blog", params={"force": "True"})
    assert r.json() == {"notice": "Content Type deleted successfully."}
    r = cma.get("/v3/content_types/blog")
    assert r.status_code == 422
    assert r.json() == {
        "error_message": "The Content Type 'blog' was not found. Please try again.",
        "error_code": 118,
        "errors": {"uid": ["is not valid."]},
    }


def test_paging_and_branch_flag(cma) -> None:
    for uid in ("a_ct", "b_ct", "c_ct"):
        assert cma.post("/v3/content_types", json=ct(uid)).status_code == 201
    page = cma.get("/v3/content_types", params={"skip": 1, "limit": 1, "include_count": "true"}).json()
    assert page["count"] == 3 and [c["uid"] for c in page["content_types"]] == ["b_ct"]
    one = cma.get("/v3/content_types/a_ct", params={"include_branch": "true"}).json()["content_type"]
    assert one["_branch"] == "main"
    assert "_branch" not in cma.get("/v3/content_types/a_ct").json()["content_type"]


def test_invalid_content_type_names_every_fault(cma) -> None:
    body = {
        "content_type": {
            "title": "",
            "uid": "Bad-Uid",
            "schema": [text("body"), text("body"), {"uid": "x", "display_name": "X", "data_type": "nope"}],
        }
    }
    r = cma.post("/v3/content_types", json=body)
    assert r.status_code == 422
    out = r.json()
    assert out["error_code"] == 121
    assert out["error_message"] == "Content Type creation failed. Please enter valid data."
    assert set(out["errors"]) >= {"title", "uid", "schema.1.uid", "schema.2.data_type"}
    assert out["errors"]["schema.1.uid"] == ["is not unique."]
    assert cma.get("/v3/content_types").json()["content_types"] == []


def test_title_field_and_url_for_pages_are_required(cma) -> None:
    r = cma.post(
        "/v3/content_types", json={"content_type": {"title": "X", "uid": "x", "schema": [text("body")]}}
    )
    assert r.status_code == 422 and r.json()["errors"]["schema"] == [
        "must have a field with uid 'title' (text, mandatory)."
    ]
    r = cma.post("/v3/content_types", json=ct("page", options={"is_page": True}))
    assert r.status_code == 422
    assert r.json()["errors"]["schema"] == [
        "must have a text field with uid 'url' when options.is_page is true."
    ]
    r = cma.post("/v3/content_types", json=ct("page", text("url"), options={"is_page": True}))
    assert r.status_code == 201, r.text
    assert r.json()["content_type"]["options"]["url_prefix"] == "/"


def test_duplicates_are_refused(cma) -> None:
    assert cma.post("/v3/content_types", json=ct("blog")).status_code == 201
    r = cma.post("/v3/content_types", json=ct("blog"))
    assert r.status_code == 422 and r.json()["errors"]["uid"] == ["is not unique."]
    other = ct("other")
    other["content_type"]["title"] = "Blog"
    r = cma.post("/v3/content_types", json=other)
    assert r.status_code == 422 and r.json()["errors"]["title"] == ["is not unique."]


def test_references_must_exist_except_to_itself(cma) -> None:
    ref = {"display_name": "Related", "uid": "related", "data_type": "reference", "reference_to": ["nowhere"]}
    r = cma.post("/v3/content_types", json=ct("post", ref))
    assert r.status_code == 422
    assert r.json()["errors"] == {"schema.1.reference_to": ["'nowhere' is not a content type of this stack."]}
    ref["reference_to"] = ["post"]
    assert cma.post("/v3/content_types", json=ct("post", ref)).status_code == 201
    author_ref = {"display_name": "Author", "uid": "author", "data_type": "reference", "reference_to": "post"}
    r = cma.post("/v3/content_types", json=ct("page", author_ref))
    assert r.status_code == 201
    assert r.json()["content_type"]["schema"][1]["reference_to"] == ["post"]
    # references lists the content types referring to post (itself and page)
    r = cma.get("/v3/content_types/post/references", params={"include_global_fields": "true"})
    assert r.status_code == 200 and r.json() == {"references": ["page", "post"]}


def test_global_fields_are_followed_and_inlined_on_request(cma) -> None:
    gf = {"global_field": {"title": "SEO", "uid": "seo", "schema": [text("meta_title")]}}
    assert cma.post("/v3/global_fields", json=gf).status_code == 201
    seo = {"display_name": "SEO", "uid": "seo", "data_type": "global_field", "reference_to": "seo"}
    r = cma.post("/v3/content_types", json=ct("page", {**seo, "schema": [text("ignored")]}))
    assert r.status_code == 201, r.text
    # the stored type keeps only the reference; the schema is inlined when asked for
    plain = cma.get("/v3/content_types/page").json()["content_type"]["schema"][1]
    assert "schema" not in plain and plain["reference_to"] == "seo"
    inlined = cma.get("/v3/content_types/page", params={"include_global_field_schema": "true"}).json()
    assert [f["uid"] for f in inlined["content_type"]["schema"][1]["schema"]] == ["meta_title"]
    # when the global field changes, the content type sees it
    gf["global_field"]["schema"].append(text("meta_description"))
    assert cma.put("/v3/global_fields/seo", json=gf).status_code == 200
    listed = cma.get("/v3/content_types", params={"include_global_field_schema": "True"}).json()
    assert [f["uid"] for f in listed["content_types"][0]["schema"][1]["schema"]] == [
        "meta_title",
        "meta_description",
    ]
    # and the global field cannot be deleted while page uses it
    r = cma.delete("/v3/global_fields/seo")
    assert r.status_code == 422 and r.json()["error_code"] == 164


def test_field_visibility_rules_are_validated(cma) -> None:
    assert cma.post("/v3/content_types", json=ct("post", text("kind"), text("video_url"))).status_code == 201
    rule = {
        "conditions": [{"operand_field": "kind", "operator": "equals", "value": "video"}],
        "match_type": "all",
        "actions": [{"action": "show", "target_field": "video_url"}],
    }
    full = ct("post", text("kind"), text("video_url"), field_rules=[rule])
    r = cma.put("/v3/content_types/post", json=full)
    assert r.status_code == 200, r.text
    assert r.json()["content_type"]["field_rules"] == [rule]
    bad = {
        "conditions": [{"operand_field": "missing", "operator": "equals", "value": 1}],
        "match_type": "some",
        "actions": [{"action": "blink", "target_field": "kind"}],
    }
    r = cma.put("/v3/content_types/post", json={"content_type": {"field_rules": [bad]}})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "field_rules.0.match_type": ["must be all or any."],
        "field_rules.0.conditions.0.operand_field": ["is not a field of this content type."],
        "field_rules.0.actions.0.action": ["must be show or hide."],
    }
    bad_op = {**rule, "conditions": [{"operand_field": "kind", "operator": "isLessThan", "value": "x"}]}
    r = cma.put("/v3/content_types/post", json={"content_type": {"field_rules": [bad_op]}})
    assert r.status_code == 422 and "field_rules.0.conditions.0.operator" in r.json()["errors"]
    assert cma.get("/v3/content_types/post").json()["content_type"]["_version"] == 2


def test_export_and_import(live: Live, cma) -> None:
    assert cma.post("/v3/content_types", json=ct("post", text("body"))).status_code == 201
    exported = cma.get("/v3/content_types/post/export").json()
    assert exported["uid"] == "post" and exported["_branches"] == ["main"]
    # importing it again under a new uid creates it (multipart without a boundary in the header)
    exported.update(uid="post_copy", title="Post copy")
    files = {"content_type": ("ct.json", json.dumps(exported).encode(), "application/json")}
    request = cma.build_request("POST", "/v3/content_types/import", files=files)
    request.headers["content-type"] = "multipart/form-data"
    r = cma.send(request)
    assert r.status_code == 200, r.text
    assert r.json()["notice"] == "Content Type imported successfully."
    assert cma.get("/v3/content_types/post_copy").json()["content_type"]["title"] == "Post copy"
    # importing an existing uid is refused unless overwrite=true
    r = cma.post("/v3/content_types/import", files=files)
    assert r.status_code == 422 and r.json()["errors"]["uid"] == ["is not unique."]
    exported["title"] = "Post copy 2"
    files = {"content_type": ("ct.json", json.dumps(exported).encode(), "application/json")}
    r = cma.post("/v3/content_types/import", params={"overwrite": "true"}, files=files)
    assert r.status_code == 200 and r.json()["content_type"]["_version"] == 2
    r = cma.post("/v3/content_types/import", files={"content_type": ("x.json", b"{nope", "application/json")})
    assert r.status_code == 400


def test_delete_with_entries_needs_force(live: Live, cma, api_key) -> None:
    # given a content type with an entry
    assert cma.post("/v3/content_types", json=ct("post")).status_code == 201
    r = cma.post("/v3/content_types/post/entries", json={"entry": {"title": "Hello"}})
    assert r.status_code == 201, r.text
    entry_uid = r.json()["entry"]["uid"]
    # when it is deleted without force, it is refused and kept
    r = cma.delete("/v3/content_types/post")
    assert r.status_code == 422 and r.json()["error_code"] == 164
    assert r.json()["errors"] == {"entries": ["1 entries use this content type."]}
    assert cma.get("/v3/content_types/post").status_code == 200
    # then force=True (as the SDK sends it) takes the entries too, each with an entry.delete event
    assert cma.delete("/v3/content_types/post", params={"force": "True"}).status_code == 200
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM entries WHERE api_key = ?", api_key) == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM entry_versions WHERE api_key = ?", api_key) == 0
        deleted = tx.all("SELECT object_uid FROM events WHERE api_key = ? AND type = 'entry.delete'", api_key)
    assert [d["object_uid"] for d in deleted] == [entry_uid]


def test_writes_are_logged(live: Live, cma, api_key) -> None:
    assert cma.post("/v3/content_types", json=ct("post")).status_code == 201
    assert cma.delete("/v3/content_types/post", params={"force": "true"}).status_code == 200
    with live.db.read() as tx:
        types = [r["type"] for r in tx.all("SELECT type FROM events WHERE api_key = ? ORDER BY seq", api_key)]
        audits = tx.all(
            "SELECT module, event_type FROM audit_logs WHERE api_key = ? AND module = 'content_type' ORDER BY seq",
            api_key,
        )
    assert types[-2:] == ["content_type.create", "content_type.delete"]
    assert [a["event_type"] for a in audits] == ["create", "delete"]


def test_custom_role_sees_only_its_content_types(live: Live, cma, api_key, owner) -> None:
    # given a member whose custom role may read only the `public` content type
    for uid in ("public", "secret"):
        assert cma.post("/v3/content_types", json=ct(uid)).status_code == 201
    reader = make_user(live, "reader@example.com", org=False)
    rules = [{"module": "content_type", "content_types": ["public"], "acl": {"read": True}}]
    give_role(live, api_key, owner.uid, reader.uid, rules)
    with live.client(authtoken=reader.authtoken, api_key=api_key) as c:
        # then lists and fetches show only that one, and writes are forbidden
        assert [x["uid"] for x in c.get("/v3/content_types").json()["content_types"]] == ["public"]
        assert c.get("/v3/content_types/public").status_code == 200
        assert c.get("/v3/content_types/secret").status_code == 403
        assert c.post("/v3/content_types", json=ct("mine")).status_code == 403


def give_role(live: Live, api_key: str, owner_uid: str, user_uid: str, rules: list[dict[str, Any]]) -> None:
    """Make `user_uid` a stack member with one custom role (set up through the store)."""
    from stackyard.ids import now
    from stackyard.store.engine import jdump

    t = now()
    with live.db.write() as tx:
        tx.run(
            "INSERT INTO roles (api_key, uid, name, kind, rules, created_by, updated_by, created_at, updated_at) "
            "VALUES (?, 'bltrole', 'Readers', 'custom', ?, ?, ?, ?, ?)",
            api_key,
            jdump(rules),
            owner_uid,
            owner_uid,
            t,
            t,
        )
        tx.run(
            "INSERT INTO stack_members (api_key, user_uid, invited_by, created_at) VALUES (?, ?, ?, ?)",
            api_key,
            user_uid,
            owner_uid,
            t,
        )
        tx.run(
            "INSERT INTO member_roles (api_key, user_uid, role_uid) VALUES (?, ?, 'bltrole')",
            api_key,
            user_uid,
        )


def test_other_stack_cannot_see_content_types(live: Live, cma) -> None:
    assert cma.post("/v3/content_types", json=ct("post")).status_code == 201
    stranger = make_user(live, "stranger@example.com")
    with live.client(authtoken=stranger.authtoken) as c:
        r = c.post("/v3/stacks", json={"stack": {"name": "Other", "master_locale": "en-us"}})
        other_key = r.json()["stack"]["api_key"]
        c.headers["api_key"] = other_key
        assert c.get("/v3/content_types").json()["content_types"] == []
        assert c.get("/v3/content_types/post").status_code == 422


def test_demo_content_model(live: Live, cma, owner, api_key) -> None:
    from stackyard.access.caller import Caller
    from stackyard.access.resolve import stack_access
    from stackyard.content.demo_model import demo_content_model

    # given the demo step has run twice (it keeps what exists)
    caller = Caller(kind="user", user_uid=owner.uid, request_id="test")
    for _ in range(2):
        with live.db.write() as tx:
            demo_content_model(tx, stack_access(tx, caller, api_key))
    # then the article type embeds seo, refers to author and has quote and callout blocks
    uids = [c["uid"] for c in cma.get("/v3/content_types").json()["content_types"]]
    assert sorted(uids) == ["article", "author"]
    article = cma.get("/v3/content_types/article", params={"include_global_field_schema": "true"}).json()
    fields = {f["uid"]: f for f in article["content_type"]["schema"]}
    assert fields["author"]["reference_to"] == ["author"]
    assert [b["uid"] for b in fields["sections"]["blocks"]] == ["quote", "callout"]
    assert [f["uid"] for f in fields["seo"]["schema"]] == ["meta_title", "meta_description"]
    assert cma.get("/v3/content_types/author/references").json() == {"references": ["article"]}


def test_management_token_scopes_reach_each_content_model_module(live: Live, cma, api_key) -> None:
    # given a token that reads content types and global fields, and writes labels
    scope = [
        {"module": "content_type", "acl": {"read": True}},
        {"module": "global_field", "acl": {"read": True}},
        {"module": "label", "acl": {"read": True, "write": True}},
    ]
    r = cma.post("/v3/stacks/management_tokens", json={"token": {"name": "model", "scope": scope}})
    assert r.status_code == 201, r.text
    secret = r.json()["token"]["token"]
    assert cma.post("/v3/content_types", json=ct("post")).status_code == 201
    with live.client(authorization=secret, api_key=api_key) as c:
        # then it reads within its scope, writes only labels, and is refused anything else
        assert [x["uid"] for x in c.get("/v3/content_types").json()["content_types"]] == ["post"]
        assert c.get("/v3/global_fields").status_code == 200
        assert c.post("/v3/content_types", json=ct("other")).status_code == 403
        assert c.delete("/v3/content_types/post", params={"force": "true"}).status_code == 403
        assert (
            c.post("/v3/global_fields", json={"global_field": {"title": "G", "uid": "g"}}).status_code == 403
        )
        assert c.post("/v3/labels", json={"label": {"name": "By token"}}).status_code == 201
        assert c.get("/v3/extensions").status_code == 403
        assert c.post("/v3/extensions", json={"extension": {"title": "x"}}).status_code == 403
        assert c.get("/v3/metadata").status_code == 403
    assert cma.get("/v3/content_types/post").status_code == 200


def test_malformed_bodies_are_client_errors(cma) -> None:
    cases: list[Any] = [
        {"content_type": "x"},
        {"content_type": {"title": 5, "uid": 7, "schema": "x", "options": 5, "field_rules": "x"}},
        {"content_type": {"title": "T", "uid": "t", "schema": [TITLE, None, [], {"uid": {}}]}},
        {"content_type": {"title": "T", "uid": "t", "schema": [TITLE, {"uid": "g", "data_type": "group"}]}},
        {
            "content_type": {
                "title": "T",
                "uid": "t",
                "schema": [TITLE],
                "field_rules": [None, {"conditions": [1]}],
            }
        },
        {
            "content_type": {
                "title": "T",
                "uid": "t",
                "schema": [{**TITLE, "field_metadata": {"default_value": []}}],
            }
        },
        {"content_type": {"title": "T", "uid": "t", "schema": [TITLE, text("x", enum={"choices": "x"})]}},
    ]
    for body in cases:
        r = cma.post("/v3/content_types", json=body)
        assert r.status_code == 422, (body, r.text)
        assert set(r.json()) == {"error_message", "error_code", "errors"}
    r = cma.post("/v3/content_types", content=b"{not json")
    assert r.status_code == 400
    r = cma.put("/v3/content_types/nope", json=ct("nope"))
    assert r.status_code == 422 and r.json()["error_code"] == 118
    assert cma.post("/v3/content_types", json=ct("fixed")).status_code == 201
    r = cma.put("/v3/content_types/fixed", json=ct("renamed"))
    assert r.status_code == 422 and r.json()["errors"] == {"uid": ["cannot be changed."]}
    assert cma.get("/v3/content_types").json()["content_types"][0]["uid"] == "fixed"


def test_concurrent_creates_of_one_uid_make_one_content_type(live: Live, owner, api_key) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(_: int) -> int:
        with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
            return c.post("/v3/content_types", json=ct("race")).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(create, range(6)))
    assert statuses == [201, 422, 422, 422, 422, 422]
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM content_types WHERE api_key = ?", api_key) == 1
