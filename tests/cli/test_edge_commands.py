"""`stackyard edge ...` against a live server: a credential created by the owner and printed once as
JSON (DESIGN §7), then stacks, sites, purge, metrics and certificates with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackyard.cli.commands.edge import sparkline
from tests.cli.conftest import Run
from tests.conftest import Live, User
from tests.edge import certs


def test_the_edge_commands(
    cli: Run, live: Live, owner: User, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STACKYARD_URL", live.url)
    monkeypatch.setenv("STACKYARD_AUTHTOKEN", owner.authtoken)
    made = cli("edge", "credential", "create", "ci", "-j")
    assert made.code == 0, made.err
    cred = made.json()
    assert set(cred) >= {"client_id", "client_secret"} and len(cred["client_secret"]) == 64
    listed = cli("edge", "credential", "list", "-j").json()
    assert [c["client_id"] for c in listed] == [cred["client_id"]] and "client_secret" not in listed[0]
    monkeypatch.setenv("STACKYARD_EDGE_CLIENT_ID", cred["client_id"])
    monkeypatch.setenv("STACKYARD_EDGE_CLIENT_SECRET", cred["client_secret"])
    stack = cli("edge", "stack", "create", "web", "-j").json()
    assert cli("edge", "stack", "list", "-j").json()[0]["id"] == stack["id"]
    site = cli(
        "edge", "site", "create", stack["slug"], "cdn.example.com", "--origin", "www.example.com:8080", "-j"
    ).json()
    assert site["label"] == "cdn.example.com"
    assert cli("edge", "site", "disable", stack["id"], site["id"]).code == 0
    assert cli("edge", "site", "list", stack["id"], "-j").json()[0]["enabled"] is False
    purged = cli(
        "edge", "purge", stack["id"], "https://cdn.example.com/", "--recursive", "--tag", "blt1", "-j"
    )
    assert purged.code == 0 and purged.json()["progress"] == 1.0
    table = cli("edge", "metrics", stack["id"], "--hours", "1")
    assert table.code == 0 and "requests:" in table.out
    cert, key = certs.make("cdn.example.com")
    (tmp_path / "c.pem").write_text(cert)
    (tmp_path / "k.pem").write_text(key)
    added = cli(
        "edge",
        "certificate",
        "add",
        stack["id"],
        "--cert",
        str(tmp_path / "c.pem"),
        "--key",
        str(tmp_path / "k.pem"),
        "-j",
    ).json()
    assert added["commonName"] == "cdn.example.com"
    assert [c["id"] for c in cli("edge", "certificate", "list", stack["id"], "-j").json()] == [added["id"]]
    assert cli("edge", "certificate", "delete", stack["id"], added["id"]).code == 0
    assert cli("edge", "credential", "revoke", cred["client_id"]).code == 0
    refused = cli("edge", "stack", "list")
    assert refused.code != 0 and "ERROR" in refused.err


def test_edge_commands_say_what_credential_they_need(cli: Run) -> None:
    r = cli("edge", "stack", "list")
    assert r.code == 2 and "STACKYARD_EDGE_CLIENT_ID" in r.err


def test_sparkline() -> None:
    assert sparkline([0, 5, 10]) == "▁▄█" and sparkline([]) == ""
