"""Labels over HTTP: CRUD, parents and content types that must exist, no cycles, cleanup on delete."""

from __future__ import annotations

from tests.content.model.test_content_types import ct


def test_label_lifecycle(cma) -> None:
    assert cma.post("/v3/content_types", json=ct("blog")).status_code == 201
    r = cma.post("/v3/labels", json={"label": {"name": "Marketing"}})
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Label created successfully."
    parent = r.json()["label"]
    assert parent["parent"] == [] and parent["content_types"] == [] and parent["_version"] == 1
    r = cma.post(
        "/v3/labels", json={"label": {"name": "Blogs", "parent": [parent["uid"]], "content_types": ["blog"]}}
    )
    assert r.status_code == 201, r.text
    child = r.json()["label"]
    assert child["parent"] == [parent["uid"]] and child["content_types"] == ["blog"]
    # update and fetch
    r = cma.put(f"/v3/labels/{child['uid']}", json={"label": {"name": "Blog posts"}})
    assert r.json()["notice"] == "Label updated successfully."
    assert r.json()["label"]["_version"] == 2 and r.json()["label"]["content_types"] == ["blog"]
    assert cma.get(f"/v3/labels/{child['uid']}").json()["label"]["name"] == "Blog posts"
    listed = cma.get("/v3/labels", params={"include_count": "true"}).json()
    assert listed["count"] == 2 and sorted(x["name"] for x in listed["labels"]) == ["Blog posts", "Marketing"]
    # deleting the content type detaches it; deleting the parent detaches the child
    assert cma.delete("/v3/content_types/blog", params={"force": "true"}).status_code == 200
    assert cma.get(f"/v3/labels/{child['uid']}").json()["label"]["content_types"] == []
    assert cma.delete(f"/v3/labels/{parent['uid']}").json() == {"notice": "Label deleted successfully."}
    assert cma.get(f"/v3/labels/{child['uid']}").json()["label"]["parent"] == []
    r = cma.get(f"/v3/labels/{parent['uid']}")
    assert r.status_code == 422 and r.json()["error_code"] == 141


def test_label_validation(cma) -> None:
    r = cma.post("/v3/labels", json={"label": {"name": "", "parent": ["nope"], "content_types": ["ghost"]}})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "name": ["is required: a string of 1 to 100 characters."],
        "parent": ["'nope' is not a label of this stack."],
        "content_types": ["'ghost' is not a content type of this stack."],
    }
    a = cma.post("/v3/labels", json={"label": {"name": "A"}}).json()["label"]
    b = cma.post("/v3/labels", json={"label": {"name": "B", "parent": [a["uid"]]}}).json()["label"]
    r = cma.post("/v3/labels", json={"label": {"name": "A"}})
    assert r.status_code == 422 and r.json()["errors"] == {"name": ["is not unique."]}
    # A under B would make A its own ancestor
    r = cma.put(f"/v3/labels/{a['uid']}", json={"label": {"parent": [b["uid"]]}})
    assert r.status_code == 422 and r.json()["errors"] == {
        "parent": ["a label cannot be its own parent or ancestor."]
    }
    assert cma.get(f"/v3/labels/{a['uid']}").json()["label"]["parent"] == []


def test_wrong_types_are_client_errors(cma) -> None:
    bad_values = [None, 1, [], {}, [1], [{}], "x" * 101]
    for key in ("name", "parent", "content_types"):
        for value in bad_values:
            body = {"name": "ok", key: value}
            r = cma.post("/v3/labels", json={"label": body})
            if r.status_code == 201:  # an empty list or null parent/content_types is fine
                assert key != "name" and value in (None, []), (body, r.text)
                cma.delete(f"/v3/labels/{r.json()['label']['uid']}")
                continue
            assert r.status_code == 422 and key in r.json()["errors"], (body, r.text)
