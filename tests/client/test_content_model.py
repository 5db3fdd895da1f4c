"""Content types, global fields, entries, labels, extensions and metadata through the SDK, live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stackyard.client.management import Client
from stackyard.errors import NotFound, UnprocessableEntity


def content_type(uid: str, *extra: dict[str, Any]) -> dict[str, Any]:
    schema = [
        {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True, "unique": True},
        {"display_name": "Body", "uid": "body", "data_type": "text"},
        *extra,
    ]
    return {
        "content_type": {"title": uid.title(), "uid": uid, "schema": schema, "options": {"title": "title"}}
    }


def test_content_types(sdk: Client, api_key: str, tmp_path: Path) -> None:
    cts = sdk.stack(api_key).content_types
    created = cts().create(content_type("blog"))
    assert created.status_code == 201 and created.json()["content_type"]["uid"] == "blog"
    ref = {"display_name": "Blog", "uid": "blog", "data_type": "reference", "reference_to": ["blog"]}
    cts().create(content_type("digest", ref))
    assert cts("blog").fetch().json()["content_type"]["schema"][0]["uid"] == "title"
    assert sorted(c["uid"] for c in cts().iterate(page_size=1)) == ["blog", "digest"]
    assert cts().add_param("include_count", True).find().json()["count"] == 2
    assert cts("blog").references().json()["references"] == ["digest"]
    updated = cts("blog").update(
        content_type("blog", {"display_name": "Extra", "uid": "extra", "data_type": "text"})
    )
    assert updated.json()["content_type"]["_version"] == 2
    exported = cts("blog").export().json()
    exported.update(uid="imported", title="Imported")
    path = tmp_path / "ct.json"
    path.write_text(json.dumps(exported))
    assert cts().imports(str(path)).json()["notice"] == "Content Type imported successfully."
    assert cts("imported").fetch().json()["content_type"]["title"] == "Imported"
    assert cts("imported").delete().json() == {"notice": "Content Type deleted successfully."}
    with pytest.raises(NotFound) as err:
        cts("imported").fetch()
    assert err.value.status == 422 and err.value.error_code == 118


def test_global_fields(sdk: Client, api_key: str) -> None:
    gfs = sdk.stack(api_key).global_fields
    data = {
        "global_field": {
            "title": "SEO",
            "uid": "seo",
            "schema": [{"display_name": "Meta", "uid": "meta", "data_type": "text"}],
        }
    }
    assert gfs().create(data).status_code == 201
    assert gfs("seo").fetch().json()["global_field"]["title"] == "SEO"
    assert [g["uid"] for g in gfs().find().json()["global_fields"]] == ["seo"]
    data["global_field"]["title"] = "Search"
    assert gfs("seo").update(data).json()["global_field"]["title"] == "Search"
    assert gfs("seo").export().json()["uid"] == "seo"
    assert "notice" in gfs("seo").delete().json()


def test_entries(sdk: Client, api_key: str, tmp_path: Path) -> None:
    stack = sdk.stack(api_key)
    stack.content_types().create(content_type("blog"))
    stack.locale().create({"locale": {"name": "French", "code": "fr-fr", "fallback_locale": "en-us"}})
    entries = stack.content_types("blog").entry
    r = entries().create({"entry": {"title": "Hello", "body": "first"}})
    assert r.status_code == 201 and r.json()["entry"]["_version"] == 1
    uid = r.json()["entry"]["uid"]
    assert entries(uid).update({"entry": {"body": "second"}}).json()["entry"]["_version"] == 2
    assert entries(uid).fetch().json()["entry"]["body"] == "second"
    # versions: name one, list, remove the name
    assert (
        "notice"
        in entries(uid).version_naming(1, {"entry": {"_version_name": "draft", "locale": "en-us"}}).json()
    )
    versions = entries(uid).versions().json()["versions"]
    assert {v["_version"]: v.get("_version_name") for v in versions}[1] == "draft"
    assert "notice" in entries(uid).delete_version_name(1).json()
    # localize and unlocalize
    r = entries(uid).localize({"entry": {"title": "Bonjour", "body": "premier"}}, locale="fr-fr")
    assert r.json()["entry"]["locale"] == "fr-fr"
    langs = {x["code"]: x.get("localized") for x in entries(uid).languages().json()["locales"]}
    assert langs["fr-fr"] is True
    assert "notice" in entries(uid).unlocalize(locale="fr-fr").json()
    # export / import as a second entry
    exported = entries(uid).export().json()
    assert exported["uid"] == uid
    exported["title"] = "Imported"
    exported.pop("uid")
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(exported))
    assert entries().imports(str(path)).json()["entry"]["title"] == "Imported"
    # seed-style paging: a parameter set on the object, then find
    query = entries()
    query.add_param("limit", 1)
    query.add_param("include_count", True)
    page = query.find().json()
    assert len(page["entries"]) == 1 and page["count"] == 2
    assert sorted(e["title"] for e in entries().iterate(page_size=1)) == ["Hello", "Imported"]
    assert entries(uid).references().json()["references"] == []
    # validation names the field; delete, then the entry is gone (422/141)
    with pytest.raises(UnprocessableEntity) as err:
        entries().create({"entry": {"title": "Hello"}})  # title is unique
    assert "title" in err.value.errors
    assert entries(uid).delete().json() == {"notice": "Entry deleted successfully."}
    with pytest.raises(NotFound) as gone:
        entries(uid).fetch()
    assert (gone.value.status, gone.value.error_code) == (422, 141)


def test_labels_extensions_and_metadata(sdk: Client, api_key: str, tmp_path: Path) -> None:
    stack = sdk.stack(api_key)
    stack.content_types().create(content_type("blog"))
    label = stack.label().create({"label": {"name": "News", "content_types": ["blog"]}}).json()["label"]
    assert stack.label().fetch(label["uid"]).json()["label"]["name"] == "News"  # uid at the call (seed)
    assert (
        stack.label(label["uid"]).update({"label": {"name": "Updates"}}).json()["label"]["name"] == "Updates"
    )
    page = tmp_path / "widget.html"
    page.write_text("<p>widget</p>")
    upload = {
        "file_path": str(page),
        "title": "Widget",
        "data_type": "text",
        "type": "widget",
        "tags": {},
        "multiple": False,
    }
    ext = stack.extension().upload(upload)
    assert ext.status_code == 201 and ext.json()["extension"]["srcdoc"] == "<p>widget</p>"
    ext_uid = ext.json()["extension"]["uid"]
    entry_uid = stack.content_types("blog").entry().create({"entry": {"title": "T"}}).json()["entry"]["uid"]
    meta = {
        "metadata": {
            "entity_uid": entry_uid,
            "type": "entry",
            "_content_type_uid": "blog",
            "extension_uid": ext_uid,
            "locale": "en-us",
        }
    }
    created = stack.metadata().create(meta).json()["metadata"]
    assert [m["uid"] for m in stack.metadata().find().json()["metadata"]] == [created["uid"]]
    assert stack.metadata(created["uid"]).fetch().json()["metadata"]["entity_uid"] == entry_uid
    assert "notice" in stack.metadata(created["uid"]).delete().json()
    assert "notice" in stack.extension(ext_uid).delete().json()
    assert "notice" in stack.label().delete(label["uid"]).json()


def test_entry_publish_and_unpublish(sdk: Client, api_key: str) -> None:
    stack = sdk.stack(api_key)
    stack.environments().create({"environment": {"name": "production"}})
    stack.content_types().create(content_type("blog"))
    uid = stack.content_types("blog").entry().create({"entry": {"title": "Live"}}).json()["entry"]["uid"]
    entry = stack.content_types("blog").entry(uid)
    target = {
        "entry": {"environments": ["production"], "locales": ["en-us"]},
        "locale": "en-us",
        "version": 1,
    }
    try:
        published = entry.publish(target)
    except NotFound as e:
        if e.error_code == 116:  # the route is not served yet: nothing to check until it is
            pytest.skip("the server does not serve entry publishing yet")
        raise
    assert published.json()["notice"] == "The requested action has been performed."
    details = entry.add_param("include_publish_details", True).fetch().json()["entry"]["publish_details"]
    assert len(details) == 1 and details[0]["locale"] == "en-us" and details[0]["environment"]
    assert entry.unpublish(target).json()["notice"] == "The requested action has been performed."
