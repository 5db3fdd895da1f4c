"""`stackyard environment` end to end: CRUD through the SDK against a live server, with -j/-y/-a/-w."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Run
from tests.conftest import Live, User


@pytest.fixture
def stack_cli(cli: Run, live: Live, owner: User, api_key: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`cli` logged in as the stack owner, with the stack chosen through STACKYARD_API_KEY."""
    r = cli("login", "--url", live.url, "--email", owner.email, "--password", owner.password)
    assert r.code == 0, r.err
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    return cli


def test_environment_crud(stack_cli: Run, cma) -> None:
    cli = stack_cli
    # when an environment is created with attribute flags
    r = cli("environment", "create", "staging", "--url", "en-us=https://s.example.com", "-j")
    assert r.code == 0, r.err
    created = r.json()
    assert created["name"] == "staging"
    assert created["urls"] == [{"locale": "en-us", "url": "https://s.example.com"}]
    # then the server holds it, as a second client sees
    assert cma.get("/v3/environments/staging").json()["environment"]["uid"] == created["uid"]
    # when it is renamed, it has a new version and the old name is gone
    r = cli("environment", "update", "staging", "--name", "stage", "-j", "-a", "name", "_version")
    assert r.code == 0, r.err
    assert r.json() == {"name": "stage", "_version": 2}
    r = cli("environment", "get", "staging")
    assert r.code == 1
    assert r.err.startswith("ERROR: 422 ")
    # when it is listed with chosen attributes (a dotted path reaches into the urls list)
    r = cli("environment", "list", "-j", "-a", "name", "urls.0.url")
    assert r.code == 0, r.err
    assert r.json() == [{"name": "stage", "urls.0.url": "https://s.example.com"}]
    # and as YAML
    r = cli("environment", "get", "stage", "-y", "-a", "uid", "name")
    assert yaml.safe_load(r.out) == {"uid": created["uid"], "name": "stage"}
    # when it is deleted, then the notice is printed and the list is empty
    r = cli("environment", "delete", "stage")
    assert (r.code, r.out) == (0, "Environment deleted successfully.\n")
    assert cli("environment", "list", "-j").json() == []


def test_table_output_honours_widths(stack_cli: Run) -> None:
    cli = stack_cli
    assert cli("environment", "create", "production-environment-one").code == 0
    # given the default table, each line is a box line and the name is shown whole
    r = cli("environment", "list", "-a", "name", "uid")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[0].startswith("+") and lines[1].split("|")[1].strip() == "name"
    assert "production-environment-one" in r.out
    # when the width is 10 for every column, then long values wrap onto more lines
    r = cli("environment", "list", "-a", "name", "uid", "-w", "10")
    lines = r.out.splitlines()
    assert all(
        len(cell.strip()) <= 10 for line in lines if line.startswith("|") for cell in line.split("|")[1:-1]
    )
    names = "".join(line.split("|")[1].strip() for line in lines[3:-1])
    assert names == "production-environment-one"
    # when one width per column is given, each column gets its own
    r = cli("environment", "list", "-a", "name", "uid", "-w", "30", "5")
    header = r.out.splitlines()[1]
    assert len(header.split("|")[1]) == len("production-environment-one") + 2
    assert len(header.split("|")[2]) == 5 + 2


def test_create_from_file_and_data(stack_cli: Run, tmp_path: Path) -> None:
    cli = stack_cli
    doc = tmp_path / "env.json"
    doc.write_text(
        json.dumps({"environment": {"name": "qa", "urls": [{"locale": "en-us", "url": "https://qa"}]}})
    )
    r = cli("environment", "create", "--file", str(doc), "-j", "-a", "name", "urls")
    assert r.code == 0, r.err
    assert r.json() == {"name": "qa", "urls": [{"locale": "en-us", "url": "https://qa"}]}
    # a bare object works as well as a wrapped one, and flags override the document
    r = cli("environment", "create", "--data", '{"name": "dev"}', "--url", "en-us=https://dev", "-j")
    assert r.code == 0, r.err
    assert r.json()["urls"] == [{"locale": "en-us", "url": "https://dev"}]


def test_validation_errors_name_the_field(stack_cli: Run) -> None:
    r = stack_cli("environment", "create", "bad", "--url", "xx-yy=https://x")
    assert r.code == 1
    assert r.err.startswith("ERROR: 422 ")
    assert "urls.0.locale" in r.err


def test_server_url_before_the_command_name(cli: Run, live: Live, owner: User, api_key: str) -> None:
    # environment create uses --url for locale URLs, so the server goes before the command name
    r = cli("--url", live.url, "login", "--email", owner.email, "--password", owner.password)
    assert r.code == 0, r.err
    r = cli(
        "--url", live.url, "--api-key", api_key, "environment", "create", "prod", "--url", "en-us=https://p"
    )
    assert r.code == 0, r.err
    r = cli("environment", "list", "--url", live.url, "--api-key", api_key, "-a", "name")
    assert "prod" in r.out


def test_management_token_from_the_environment(
    cli: Run, live: Live, cma, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given no login but a bad management token in the environment
    monkeypatch.setenv("STACKYARD_URL", live.url)
    monkeypatch.setenv("STACKYARD_API_KEY", api_key)
    monkeypatch.setenv("STACKYARD_MANAGEMENT_TOKEN", "cs-not-a-token")
    r = cli("environment", "list")
    # then the server refuses it with 401 and the CLI exits 1
    assert r.code == 1 and r.err.startswith("ERROR: 401 ")


def test_paging_options(stack_cli: Run) -> None:
    for name in ("a", "b", "c"):
        assert stack_cli("environment", "create", name).code == 0
    every = [e["name"] for e in stack_cli("environment", "list", "--all", "-j").json()]
    assert sorted(every) == ["a", "b", "c"]
    page = [e["name"] for e in stack_cli("environment", "list", "--limit", "2", "--skip", "1", "-j").json()]
    assert page == every[1:3]
