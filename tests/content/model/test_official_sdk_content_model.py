"""The official `contentstack_management` SDK against a live Stackyard: the content model.

The seed's calls for content types (including `imports(file_path)`, which sends multipart without a
boundary and leaves that Content-Type on the client for later JSON calls), global fields, labels,
extensions (including `upload`), and metadata; each result is read back from the server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Live, User
from tests.content.model.test_metadata import add_entry
from tests.stacks.test_official_sdk_stack_admin import ok, sdk

# The official SDK opens upload and import files without closing them (its imports() and upload());
# that leak is the oracle's, not ours, so its ResourceWarning is not an error here.
pytestmark = pytest.mark.filterwarnings("ignore:unclosed file:ResourceWarning")

SEED_CONTENT_TYPE = {
    "content_type": {
        "title": "test content type",
        "uid": "content_type_uid",
        "schema": [
            {
                "display_name": "Title",
                "uid": "title",
                "data_type": "text",
                "field_metadata": {"_default": True},
                "unique": False,
                "mandatory": True,
                "multiple": False,
            },
            {
                "display_name": "URL",
                "uid": "url",
                "data_type": "text",
                "field_metadata": {"_default": True},
                "unique": False,
                "multiple": False,
            },
        ],
        "options": {
            "title": "title",
            "publishable": True,
            "is_page": True,
            "singleton": False,
            "sub_title": ["url"],
            "url_pattern": "/:title",
            "url_prefix": "/",
        },
    }
}


def visibility_rules() -> dict[str, Any]:
    data = json.loads(json.dumps(SEED_CONTENT_TYPE))
    ct = data["content_type"]
    ct["title"] = "updatedContentType"
    for uid, name in (
        ("single_line_textbox", "Single Line Textbox"),
        ("multi_line_textbox", "Multi Line Textbox"),
    ):
        ct["schema"].append(
            {"display_name": name, "uid": uid, "data_type": "text", "field_metadata": {"_default": True}}
        )
    ct["field_rules"] = [
        {
            "conditions": [{"operand_field": "single_line_textbox", "operator": "equals", "value": "abc"}],
            "match_type": "all",
            "actions": [{"action": "show", "target_field": "multi_line_textbox"}],
        }
    ]
    return data


@pytest.fixture
def stack(live: Live, owner: User, api_key: str) -> Any:
    return sdk(live, owner.authtoken).stack(api_key)


def test_content_types_as_the_seed_calls_them(stack: Any, tmp_path: Path) -> None:
    created = ok(stack.content_types().create(SEED_CONTENT_TYPE), 201)
    assert created["notice"] == "Content Type created successfully."
    assert created["content_type"]["options"]["url_pattern"] == "/:title"
    fetched = ok(stack.content_types("content_type_uid").fetch())["content_type"]
    assert [f["uid"] for f in fetched["schema"]] == ["title", "url"]
    listed = ok(stack.content_types().find())
    assert [c["uid"] for c in listed["content_types"]] == ["content_type_uid"] and "count" not in listed
    # set_field_visibility_rules replaces the schema and adds the rule
    updated = ok(stack.content_types("content_type_uid").set_field_visibility_rules(visibility_rules()))
    assert (
        updated["content_type"]["title"] == "updatedContentType" and updated["content_type"]["_version"] == 2
    )
    assert updated["content_type"]["field_rules"][0]["actions"][0]["target_field"] == "multi_line_textbox"
    # a second type refers to the first; references reports it
    ref = json.loads(json.dumps(SEED_CONTENT_TYPE))
    ref["content_type"].update(uid="linker", title="Linker")
    ref["content_type"]["schema"].append(
        {
            "display_name": "Link",
            "uid": "link",
            "data_type": "reference",
            "reference_to": ["content_type_uid"],
        }
    )
    ok(stack.content_types().create(ref), 201)
    assert ok(stack.content_types("content_type_uid").references()) == {"references": ["linker"]}
    # export, then import the file under a new uid
    exported = ok(stack.content_types("content_type_uid").export())
    assert exported["uid"] == "content_type_uid" and exported["field_rules"]
    exported.update(uid="imported_type", title="Imported type")
    path = tmp_path / "content_type.json"
    path.write_text(json.dumps(exported))
    imported = ok(stack.content_types().imports(str(path)))
    assert imported["notice"] == "Content Type imported successfully."
    assert ok(stack.content_types("imported_type").fetch())["content_type"]["title"] == "Imported type"
    # the client now sends "multipart/form-data" with JSON bodies; they still work
    renamed = visibility_rules()
    renamed["content_type"]["title"] = "after import"
    assert (
        ok(stack.content_types("content_type_uid").update(renamed))["content_type"]["title"] == "after import"
    )
    # delete (the SDK always sends force=true)
    assert ok(stack.content_types("imported_type").delete()) == {
        "notice": "Content Type deleted successfully."
    }
    assert stack.content_types("imported_type").fetch().status_code == 422


def test_global_fields_as_the_seed_calls_them(stack: Any, tmp_path: Path) -> None:
    data = {
        "global_field": {
            "title": "Servlet",
            "uid": "servlet",
            "schema": [{"display_name": "Name", "uid": "name", "data_type": "text"}],
        }
    }
    created = ok(stack.global_fields().create(data), 201)
    assert created["global_field"]["uid"] == "servlet"
    data["global_field"]["schema"].append({"display_name": "Port", "uid": "port", "data_type": "number"})
    assert ok(stack.global_fields("servlet").update(data))["global_field"]["_version"] == 2
    assert [f["uid"] for f in ok(stack.global_fields("servlet").fetch())["global_field"]["schema"]] == [
        "name",
        "port",
    ]
    assert [g["uid"] for g in ok(stack.global_fields().find())["global_fields"]] == ["servlet"]
    exported = ok(stack.global_fields("servlet").export())
    exported.update(uid="servlet_copy", title="Servlet copy")
    path = tmp_path / "global_field.json"
    path.write_text(json.dumps(exported))
    imported = ok(stack.global_fields().imports(str(path)), 201)
    assert imported["global_field"]["uid"] == "servlet_copy"
    # nested global fields with the api_version header
    nested = {
        "global_field": {
            "title": "Outer",
            "uid": "outer",
            "schema": [
                {
                    "display_name": "Servlet",
                    "uid": "servlet",
                    "data_type": "global_field",
                    "reference_to": "servlet",
                }
            ],
        }
    }
    ok(stack.global_fields(options={"api_version": 3.2}).create(nested), 201)
    outer = ok(stack.global_fields("outer").fetch())["global_field"]
    assert [f["uid"] for f in outer["schema"][0]["schema"]] == ["name", "port"]
    assert stack.global_fields("servlet").delete().status_code == 422  # outer uses it
    ok(stack.global_fields("outer").delete())
    assert ok(stack.global_fields("servlet").delete()) == {"notice": "Global Field deleted successfully."}


def test_labels_as_the_seed_calls_them(stack: Any) -> None:
    ok(stack.content_types().create(SEED_CONTENT_TYPE), 201)
    parent = ok(stack.label().create({"label": {"name": "Parent"}}), 201)["label"]
    data = {"label": {"name": "Test", "parent": [parent["uid"]], "content_types": ["content_type_uid"]}}
    label = ok(stack.label().create(data), 201)["label"]
    assert label["parent"] == [parent["uid"]] and label["content_types"] == ["content_type_uid"]
    data["label"]["name"] = "Renamed"
    assert ok(stack.label(label["uid"]).update(data))["label"]["name"] == "Renamed"
    assert ok(stack.label(label["uid"]).fetch())["label"]["name"] == "Renamed"
    assert sorted(x["name"] for x in ok(stack.label().find())["labels"]) == ["Parent", "Renamed"]
    assert ok(stack.label(label["uid"]).delete()) == {"notice": "Label deleted successfully."}


def test_extensions_as_the_seed_calls_them(stack: Any, tmp_path: Path) -> None:
    extension = {
        "extension": {
            "tags": ["tag1", "tag2"],
            "data_type": "text",
            "title": "Old Extension",
            "src": "https://extensions.example.com/field.html",
            "multiple": False,
            "config": "{}",
            "type": "field",
        }
    }
    created = ok(stack.extension().create(extension), 201)["extension"]
    assert created["tags"] == ["tag1", "tag2"] and created["config"] == {}
    extension["extension"]["title"] = "New Extension"
    assert ok(stack.extension(created["uid"]).update(extension))["extension"]["title"] == "New Extension"
    page = tmp_path / "demo.html"
    page.write_text("<html><body>dashboard</body></html>")
    upload = {
        "file_name": str(page),
        "file_path": str(page),
        "data_type": "text",
        "title": "Uploaded",
        "multiple": False,
        "tags": {},
        "type": "dashboard",
    }
    uploaded = ok(stack.extension().upload(upload), 201)["extension"]
    assert uploaded["srcdoc"] == "<html><body>dashboard</body></html>" and uploaded["type"] == "dashboard"
    fetched = ok(stack.extension(uploaded["uid"]).fetch())["extension"]
    assert (fetched["title"], fetched["tags"], fetched["multiple"]) == ("Uploaded", [], False)
    assert {e["title"] for e in ok(stack.extension().find())["extensions"]} == {"New Extension", "Uploaded"}
    assert ok(stack.extension(uploaded["uid"]).delete()) == {"notice": "Extension deleted successfully."}


def test_metadata_as_the_seed_calls_it(live: Live, stack: Any, owner: User, api_key: str) -> None:
    ok(stack.content_types().create(SEED_CONTENT_TYPE), 201)
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        entry_uid = add_entry(c, "content_type_uid")
    ext = {"extension": {"title": "Meta", "type": "widget", "src": "https://w.example.com"}}
    ext_uid = ok(stack.extension().create(ext), 201)["extension"]["uid"]
    ok(stack.environments().create({"environment": {"name": "test"}}), 201)
    data = {
        "metadata": {
            "entity_uid": entry_uid,
            "type": "entry",
            "_content_type_uid": "content_type_uid",
            "extension_uid": ext_uid,
            "presets": [{"uid": "presents_uid", "name": "Test1", "options": {}}],
        }
    }
    meta = ok(stack.metadata().create(data), 201)["metadata"]
    assert meta["presets"][0]["name"] == "Test1" and meta["extension_uid"] == ext_uid
    data["metadata"].update(locale="en-us", presets=[{"uid": "presets_uid", "name": "test1", "options": {}}])
    updated = ok(stack.metadata(meta["uid"]).update(data))["metadata"]
    assert updated["locale"] == "en-us" and updated["_version"] == 2
    assert ok(stack.metadata(meta["uid"]).fetch())["metadata"]["presets"][0]["uid"] == "presets_uid"
    assert [m["uid"] for m in ok(stack.metadata().find())["metadata"]] == [meta["uid"]]
    target = {"metadata": {"environments": ["test"], "locales": ["en-us"]}}
    ok(stack.metadata(meta["uid"]).publish(target))
    ok(stack.metadata(meta["uid"]).unpublish(target))
    assert ok(stack.metadata(meta["uid"]).delete()) == {"notice": "Metadata deleted successfully."}
