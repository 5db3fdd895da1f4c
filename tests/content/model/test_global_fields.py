"""Global fields over HTTP: CRUD, nesting without cycles, in-use delete, export/import."""

from __future__ import annotations

import json
from typing import Any

from tests.content.model.test_content_types import ct, text


def gf(uid: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {"global_field": {"title": uid.upper(), "uid": uid, "schema": list(fields) or [text("name")]}}


def embed(uid: str) -> dict[str, Any]:
    return {"display_name": uid, "uid": uid, "data_type": "global_field", "reference_to": uid}


def test_global_field_lifecycle(cma) -> None:
    r = cma.post("/v3/global_fields", json=gf("servlet"))
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Global Field created successfully."
    created = r.json()["global_field"]
    assert (created["uid"], created["title"], created["_version"]) == ("servlet", "SERVLET", 1)
    assert created["schema"][0]["uid"] == "name"
    r = cma.put("/v3/global_fields/servlet", json=gf("servlet", text("name"), text("port")))
    assert r.status_code == 200 and r.json()["notice"] == "Global Field updated successfully."
    assert r.json()["global_field"]["_version"] == 2
    fetched = cma.get("/v3/global_fields/servlet", params={"include_branch": "true"}).json()["global_field"]
    assert [f["uid"] for f in fetched["schema"]] == ["name", "port"] and fetched["_branch"] == "main"
    listed = cma.get("/v3/global_fields", params={"include_count": "true"}).json()
    assert listed["count"] == 1 and listed["global_fields"][0]["uid"] == "servlet"
    assert cma.delete("/v3/global_fields/servlet").json() == {"notice": "Global Field deleted successfully."}
    r = cma.get("/v3/global_fields/servlet")
    assert (
        r.status_code == 422
        and r.json()["error_message"] == "The Global Field 'servlet' was not found. Please try again."
    )


def test_global_field_validation(cma) -> None:
    r = cma.post("/v3/global_fields", json={"global_field": {"title": "X", "uid": "x", "schema": []}})
    assert r.status_code == 422 and r.json()["errors"] == {"schema": ["must hold at least one field."]}
    assert r.json()["error_message"] == "Global Field creation failed. Please enter valid data."
    r = cma.post("/v3/global_fields", json=gf("x", embed("ghost")))
    assert r.status_code == 422
    assert r.json()["errors"] == {"schema.0.reference_to": ["'ghost' is not a global field of this stack."]}


def test_nesting_cannot_cycle(cma) -> None:
    # given a includes b, and b includes c
    assert cma.post("/v3/global_fields", json=gf("c")).status_code == 201
    assert cma.post("/v3/global_fields", json=gf("b", embed("c"))).status_code == 201
    assert cma.post("/v3/global_fields", json=gf("a", embed("b"))).status_code == 201
    # then c may not include a (c -> a -> b -> c), nor itself
    r = cma.put("/v3/global_fields/c", json=gf("c", embed("a")))
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "schema.0.reference_to": ["'a' includes 'c', so including it here would be a cycle."]
    }
    r = cma.put("/v3/global_fields/c", json=gf("c", text("name"), embed("c")))
    assert r.json()["errors"] == {"schema.1.reference_to": ["a global field cannot include itself."]}
    # and a content type sees the nested schemas inlined, as deep as they go
    assert cma.post("/v3/content_types", json=ct("page", embed("a"))).status_code == 201
    inlined = cma.get("/v3/content_types/page", params={"include_global_field_schema": "true"}).json()
    a = inlined["content_type"]["schema"][1]
    assert a["schema"][0]["uid"] == "b" and a["schema"][0]["schema"][0]["schema"][0]["uid"] == "name"


def test_in_use_global_field_cannot_be_deleted(cma) -> None:
    assert cma.post("/v3/global_fields", json=gf("c")).status_code == 201
    assert cma.post("/v3/global_fields", json=gf("b", embed("c"))).status_code == 201
    r = cma.delete("/v3/global_fields/c")
    assert r.status_code == 422 and r.json()["error_code"] == 164
    assert r.json()["errors"] == {"uid": ["is used by global field 'b'."]}
    assert cma.delete("/v3/global_fields/b").status_code == 200
    assert cma.delete("/v3/global_fields/c").status_code == 200


def test_blocks_may_refer_to_global_fields(cma) -> None:
    assert cma.post("/v3/global_fields", json=gf("quote", text("text"))).status_code == 201
    blocks = {
        "display_name": "Sections",
        "uid": "sections",
        "data_type": "blocks",
        "multiple": True,
        "blocks": [{"uid": "quote", "title": "Quote", "reference_to": "quote"}],
    }
    assert cma.post("/v3/content_types", json=ct("page", blocks)).status_code == 201
    block = cma.get("/v3/content_types/page", params={"include_global_field_schema": "true"}).json()
    assert block["content_type"]["schema"][1]["blocks"][0]["schema"][0]["uid"] == "text"
    assert cma.delete("/v3/global_fields/quote").status_code == 422


def test_export_and_import(cma) -> None:
    assert cma.post("/v3/global_fields", json=gf("seo", text("meta_title"))).status_code == 201
    exported = cma.get("/v3/global_fields/seo/export").json()
    assert exported["uid"] == "seo" and exported["_branches"] == ["main"]
    exported.update(uid="seo_copy", title="SEO copy")
    files = {"global_field": ("gf.json", json.dumps(exported).encode(), "application/json")}
    request = cma.build_request("POST", "/v3/global_fields/import", files=files)
    request.headers["content-type"] = "multipart/form-data"
    r = cma.send(request)
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Global Field imported successfully."
    assert r.json()["global_field"]["uid"] == "seo_copy"
    r = cma.post("/v3/global_fields/import", files={"other": ("gf.json", b"{}", "application/json")})
    assert r.status_code == 422 and "global_field" in r.json()["errors"]


def test_references_through_global_fields(cma) -> None:
    # given article embeds byline (a global field), and byline refers to author
    assert cma.post("/v3/content_types", json=ct("author")).status_code == 201
    ref = {"display_name": "Author", "uid": "author", "data_type": "reference", "reference_to": ["author"]}
    assert cma.post("/v3/global_fields", json=gf("byline", ref)).status_code == 201
    assert cma.post("/v3/global_fields", json=gf("meta", embed("byline"))).status_code == 201
    assert cma.post("/v3/content_types", json=ct("article", embed("meta"))).status_code == 201
    # then author's references name article, found through both global fields
    assert cma.get("/v3/content_types/author/references").json() == {"references": ["article"]}
    # and a referenced content type that goes away leaves the global field valid to read
    assert cma.delete("/v3/content_types/author", params={"force": "true"}).status_code == 200
    assert cma.get("/v3/global_fields/byline").json()["global_field"]["schema"][0]["reference_to"] == [
        "author"
    ]
