"""Extensions over HTTP: JSON create, multipart upload (as the SDK sends it), validation, in-use delete."""

from __future__ import annotations

from tests.content.model.test_content_types import ct

FIELD = {
    "title": "Color picker",
    "type": "field",
    "data_type": "text",
    "src": "https://ext.example.com/color",
}


def test_extension_lifecycle(cma) -> None:
    r = cma.post("/v3/extensions", json={"extension": {**FIELD, "tags": ["ui"], "config": '{"a": 1}'}})
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Extension created successfully."
    ext = r.json()["extension"]
    assert ext["src"] == FIELD["src"] and ext["config"] == {"a": 1} and ext["multiple"] is False
    assert ext["tags"] == ["ui"] and ext["_version"] == 1 and "srcdoc" not in ext
    # switching to uploaded source replaces the URL
    r = cma.put(f"/v3/extensions/{ext['uid']}", json={"extension": {"srcdoc": "<html></html>"}})
    assert r.status_code == 200 and r.json()["notice"] == "Extension updated successfully."
    updated = r.json()["extension"]
    assert updated["srcdoc"] == "<html></html>" and "src" not in updated and updated["_version"] == 2
    assert cma.get(f"/v3/extensions/{ext['uid']}").json()["extension"]["title"] == "Color picker"
    assert [e["uid"] for e in cma.get("/v3/extensions").json()["extensions"]] == [ext["uid"]]
    assert cma.delete(f"/v3/extensions/{ext['uid']}").json() == {"notice": "Extension deleted successfully."}
    assert cma.get(f"/v3/extensions/{ext['uid']}").status_code == 422


def test_upload_reads_form_fields_as_the_sdk_sends_them(cma) -> None:
    files = {
        "extension[upload]": ("demo.html", b"<html><body>Hi</body></html>", "text/html"),
        "extension[title]": (None, b"Dashboard"),
        "extension[data_type]": (None, b"text"),
        "extension[type]": (None, b"dashboard"),
        "extension[tags]": (None, b"['a', 'b']"),
        "extension[multiple]": (None, b"True"),
    }
    r = cma.post("/v3/extensions", files=files)
    assert r.status_code == 201, r.text
    ext = r.json()["extension"]
    assert ext["srcdoc"] == "<html><body>Hi</body></html>"
    assert (ext["type"], ext["tags"], ext["multiple"]) == ("dashboard", ["a", "b"], True)
    files["extension[tags]"] = (None, b"{}")
    files["extension[title]"] = (None, b"Second")
    assert cma.post("/v3/extensions", files=files).json()["extension"]["tags"] == []


def test_extension_validation(cma) -> None:
    r = cma.post("/v3/extensions", json={"extension": {"type": "field", "src": "ftp://x", "multiple": "yes"}})
    assert r.status_code == 422
    assert r.json()["errors"] == {
        "title": ["is required: a string of 1 to 100 characters."],
        "data_type": ["is required for a custom field."],
        "src": ["must be an http(s) URL."],
        "multiple": ["must be true or false."],
    }
    r = cma.post("/v3/extensions", json={"extension": {**FIELD, "srcdoc": "<p>"}})
    assert r.status_code == 422 and list(r.json()["errors"]) == ["src"]
    r = cma.post("/v3/extensions", json={"extension": {**FIELD, "scope": {"content_types": ["ghost"]}}})
    assert r.status_code == 422 and r.json()["errors"] == {
        "scope.content_types": ["'ghost' is not a content type of this stack."]
    }


def test_extension_used_by_a_field_cannot_be_deleted(cma) -> None:
    ext = cma.post("/v3/extensions", json={"extension": FIELD}).json()["extension"]
    color = {
        "display_name": "Color",
        "uid": "color",
        "data_type": "text",
        "extension_uid": ext["uid"],
        "field_metadata": {"extension": True},
    }
    assert cma.post("/v3/content_types", json=ct("theme", color)).status_code == 201
    r = cma.delete(f"/v3/extensions/{ext['uid']}")
    assert r.status_code == 422 and r.json()["error_code"] == 164
    # a field naming a missing extension is refused
    color["extension_uid"] = "bltmissing"
    r = cma.post("/v3/content_types", json=ct("other", color))
    assert r.status_code == 422 and r.json()["errors"] == {
        "schema.1.extension_uid": ["is not an extension of this stack."]
    }


def test_wrong_types_are_client_errors(cma) -> None:
    for key in ("title", "type", "data_type", "src", "multiple", "tags", "config", "scope"):
        for value in (1, [], {"a": []}, [{}], 2.5):
            if (key == "tags" and value == []) or (key in ("config", "scope") and isinstance(value, dict)):
                continue  # no tags; any object
            body = {**FIELD, key: value}
            r = cma.post("/v3/extensions", json={"extension": body})
            assert r.status_code == 422, (body, r.text)
            assert set(r.json()) == {"error_message", "error_code", "errors"}
    assert cma.get("/v3/extensions").json()["extensions"] == []
