"""organization, stack, tokens, content types and global fields through the CLI against a live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Run
from tests.conftest import Live, User

TITLE = {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True, "unique": True}


@pytest.fixture
def logged_in(cli: Run, live: Live, owner: User) -> Run:
    r = cli("login", "--url", live.url, "--email", owner.email, "--password", owner.password)
    assert r.code == 0, r.err
    return cli


def test_organization_and_stack(logged_in: Run, owner: User, api_key: str) -> None:
    cli = logged_in
    # the owner's organization is listed and its stacks include the test stack
    r = cli("organization", "list", "-j", "-a", "uid")
    assert r.code == 0, r.err
    assert {"uid": owner.org_uid} in r.json()
    r = cli("organization", "stacks", owner.org_uid, "-j", "-a", "api_key")
    assert {"api_key": api_key} in r.json()
    # a stack is created, renamed, shown and deleted by API key
    r = cli("stack", "create", "CLI stack", "--org", owner.org_uid, "--description", "made by the CLI", "-j")
    assert r.code == 0, r.err
    key = r.json()["api_key"]
    assert cli("stack", "update", key, "--name", "Renamed", "-j").json()["name"] == "Renamed"
    r = cli("stack", "get", key, "-a", "name", "description")
    assert "Renamed" in r.out and "made by the CLI" in r.out
    names = [s["name"] for s in cli("stack", "list", "-j").json()]
    assert "Renamed" in names
    r = cli("stack", "delete", key)
    assert r.code == 0, r.err
    assert cli("stack", "get", key).code == 1


def test_management_token_made_by_the_cli_works_for_the_cli(
    logged_in: Run, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = logged_in
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    # given a management token that may read and write environments
    r = cli("management-token", "create", "ci", "--scope", "environment=read,write", "-j")
    assert r.code == 0, r.err
    token = r.json()
    assert token["scope"][0] == {"module": "environment", "acl": {"read": True, "write": True}}
    # when the CLI runs with only that token, then it manages environments
    monkeypatch.setenv("STACKYARD_MANAGEMENT_TOKEN", token["token"])
    r = cli("environment", "create", "from-token", "-j", "-a", "name")
    assert r.code == 0, r.err
    assert r.json() == {"name": "from-token"}
    # but a module outside its scope is forbidden
    r = cli("role", "list")
    assert r.code == 1 and r.err.startswith("ERROR: 4")


def test_delivery_token_scope_from_flags(logged_in: Run, api_key: str) -> None:
    cli = logged_in
    assert cli("environment", "create", "production", "--api-key", api_key).code == 0
    r = cli("delivery-token", "create", "site", "--environment", "production", "--api-key", api_key, "-j")
    assert r.code == 0, r.err
    rule = r.json()["scope"][0]
    assert rule["module"] == "environment" and [e["name"] for e in rule["environments"]] == ["production"]
    r = cli("delivery-token", "list", "--api-key", api_key, "-a", "name")
    assert "site" in r.out


def test_content_type_export_and_import(
    logged_in: Run, api_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = logged_in
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    schema = tmp_path / "blog.json"
    schema.write_text(json.dumps({"content_type": {"title": "Blog", "uid": "blog", "schema": [TITLE]}}))
    # given a content type created from a file
    r = cli("content-type", "create", "--file", str(schema), "-j", "-a", "uid", "title")
    assert r.code == 0, r.err
    assert r.json() == {"uid": "blog", "title": "Blog"}
    assert (
        cli("content-type", "update", "blog", "--title", "Blog posts", "-j").json()["title"] == "Blog posts"
    )
    # when it is exported to a file and deleted
    out = tmp_path / "export.json"
    r = cli("content-type", "export", "blog", "-o", str(out))
    assert r.code == 0, r.err
    exported = json.loads(out.read_text())
    assert exported["uid"] == "blog" and exported["title"] == "Blog posts"
    assert cli("content-type", "delete", "blog").code == 0
    assert cli("content-type", "list", "-j").json() == []
    # then importing the file brings it back
    r = cli("content-type", "import", str(out), "-j", "-a", "uid", "title")
    assert r.code == 0, r.err
    assert r.json() == {"uid": "blog", "title": "Blog posts"}
    assert [c["uid"] for c in cli("content-type", "list", "-j").json()] == ["blog"]


def test_global_field_crud_and_export_to_stdout(
    logged_in: Run, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = logged_in
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    seo = {
        "title": "SEO",
        "uid": "seo",
        "schema": [{"display_name": "Keywords", "uid": "keywords", "data_type": "text"}],
    }
    r = cli("global-field", "create", "--data", json.dumps(seo), "-a", "uid", "title")
    assert r.code == 0, r.err
    assert "seo" in r.out and "SEO" in r.out
    r = cli("global-field", "export", "seo")
    assert r.code == 0 and json.loads(r.out)["uid"] == "seo"
    assert cli("global-field", "delete", "seo").code == 0
    r = cli("global-field", "get", "seo")
    assert r.code == 1 and r.err.startswith("ERROR: 422")


def test_role_label_extension_and_the_audit_log(
    logged_in: Run, api_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = logged_in
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    assert cli("environment", "create", "staging").code == 0
    # a custom role from a file of rules, with a flag over the file's description
    rules = tmp_path / "role.json"
    rules.write_text(
        json.dumps(
            {
                "role": {
                    "name": "Reviewer",
                    "description": "from the file",
                    "rules": [{"module": "environment", "environments": ["staging"], "acl": {"read": True}}],
                }
            }
        )
    )
    r = cli("role", "create", "--file", str(rules), "--description", "reads staging", "-j")
    assert r.code == 0, r.err
    role = r.json()
    assert (role["name"], role["description"]) == ("Reviewer", "reads staging")
    assert cli("role", "update", role["uid"], "--name", "Checker", "-j", "-a", "name").json() == {
        "name": "Checker"
    }
    assert "Checker" in cli("role", "list", "-a", "name").out
    assert cli("role", "delete", role["uid"]).code == 0
    # a label for a content type, and a custom field extension, from flags
    assert (
        cli(
            "content-type",
            "create",
            "--data",
            json.dumps({"title": "Blog", "uid": "blog", "schema": [TITLE]}),
        ).code
        == 0
    )
    r = cli("label", "create", "News", "--content-type", "blog", "-j", "-a", "name", "content_types")
    assert r.code == 0, r.err
    assert r.json() == {"name": "News", "content_types": ["blog"]}
    r = cli(
        "extension", "create", "--title", "Colour", "--type", "field", "--data-type", "text",
        "--src", "https://ext.example/colour", "-j",
    )  # fmt: skip
    assert r.code == 0, r.err
    ext = r.json()
    assert (ext["title"], ext["type"], ext["data_type"]) == ("Colour", "field", "text")
    # then the audit log lists those writes, newest first, and shows one of them
    r = cli("audit-log", "list", "-j", "-a", "uid", "module", "event_type")
    assert r.code == 0, r.err
    logs = r.json()
    modules = [(log["module"], log["event_type"]) for log in logs]
    assert modules.index(("extension", "create")) < modules.index(("environment", "create"))
    r = cli("audit-log", "get", logs[0]["uid"], "-j", "-a", "module")
    assert r.json() == {"module": logs[0]["module"]}
