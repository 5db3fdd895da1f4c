"""`stackyard organization create NAME --owner EMAIL` (DESIGN §7): further organizations, each kept
apart from the others. The full authorization matrix lives elsewhere; this is the small isolation check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from stackyard.cli.main import main
from tests.conftest import Live, User
from tests.identity.conftest import mailed_token
from tests.identity.test_sessions import login

TITLE = {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True, "unique": True}


def database_url(live: Live) -> str:
    return live.db.url if live.db.dialect != "sqlite" else "sqlite:///" + live.db.path


def create_org(live: Live, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `stackyard organization create ...` in-process on the test database."""
    capsys.readouterr()
    try:
        main(["organization", "create", *argv, "--database-url", database_url(live)])
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


@dataclass
class Tenant:
    email: str
    org_uid: str
    authtoken: str
    api_key: str
    entry_uid: str


def activate_and_log_in(live: Live, email: str) -> str:
    token = mailed_token(live.db, email, "act")
    password = "a password of " + email
    with live.client() as c:
        r = c.post(
            f"/v3/user/activate/{token}",
            json={"user": {"password": password, "password_confirmation": password}},
        )
        assert r.status_code == 200, r.text
    status, body = login(live, email, password)
    assert status == 200, body
    return str(body["user"]["authtoken"])


def open_tenant(live: Live, capsys: pytest.CaptureFixture[str], name: str, email: str) -> Tenant:
    # given an organization created by the operator for a new address
    code, out, err = create_org(live, capsys, name, "--owner", email)
    assert code == 0, err
    org_uid = out.strip()
    assert org_uid and "\n" not in org_uid and email in err
    # when its owner activates, logs in and makes a stack with an entry in it
    authtoken = activate_and_log_in(live, email)
    with live.client(authtoken=authtoken) as c:
        orgs = c.get("/v3/organizations").json()["organizations"]
        assert [(o["uid"], o["name"]) for o in orgs] == [(org_uid, name)]
        r = c.post(
            "/v3/stacks",
            json={"stack": {"name": f"{name} site", "master_locale": "en-us"}},
            headers={"organization_uid": org_uid},
        )
        assert r.status_code == 201, r.text
        api_key = str(r.json()["stack"]["api_key"])
        c.headers["api_key"] = api_key
        r = c.post(
            "/v3/content_types", json={"content_type": {"title": "Page", "uid": "page", "schema": [TITLE]}}
        )
        assert r.status_code == 201, r.text
        r = c.post("/v3/content_types/page/entries", json={"entry": {"title": f"{name} home"}})
        assert r.status_code == 201, r.text
        entry_uid = str(r.json()["entry"]["uid"])
    return Tenant(email, org_uid, authtoken, api_key, entry_uid)


def _refused(r: httpx.Response) -> None:
    assert r.status_code in (401, 403, 404, 412, 422), (r.status_code, r.text)
    assert "error_message" in r.json() and "error_code" in r.json()


def test_two_organizations_are_kept_apart(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    a = open_tenant(live, capsys, "Acme", "alice@acme.example")
    b = open_tenant(live, capsys, "Bolt", "bob@bolt.example")
    assert a.org_uid != b.org_uid
    for me, other in ((a, b), (b, a)):
        with live.client(authtoken=me.authtoken) as c:
            # then neither sees the other's organization...
            assert [o["uid"] for o in c.get("/v3/organizations").json()["organizations"]] == [me.org_uid]
            for path in ("", "/stacks", "/roles", "/logs"):
                _refused(c.get(f"/v3/organizations/{other.org_uid}{path}"))
            _refused(
                c.post(
                    f"/v3/organizations/{other.org_uid}/share",
                    json={"share": {"users": {me.email: ["admin"]}}},
                )
            )
            _refused(
                c.post(
                    "/v3/stacks", json={"stack": {"name": "x"}}, headers={"organization_uid": other.org_uid}
                )
            )
            # ...nor its stacks...
            assert [s["api_key"] for s in c.get("/v3/stacks").json()["stacks"]] == [me.api_key]
            _refused(c.get("/v3/stacks", headers={"api_key": other.api_key}))
            _refused(
                c.put("/v3/stacks", json={"stack": {"name": "taken"}}, headers={"api_key": other.api_key})
            )
            # ...nor its entries
            head = {"api_key": other.api_key}
            _refused(c.get(f"/v3/content_types/page/entries/{other.entry_uid}", headers=head))
            _refused(c.get("/v3/content_types/page/entries", headers=head))
            _refused(
                c.put(
                    f"/v3/content_types/page/entries/{other.entry_uid}",
                    json={"entry": {"title": "x"}},
                    headers=head,
                )
            )
            _refused(c.delete(f"/v3/content_types/page/entries/{other.entry_uid}", headers=head))
    # and the other's entry is as its owner left it
    with live.client(authtoken=b.authtoken, api_key=b.api_key) as c:
        assert c.get(f"/v3/content_types/page/entries/{b.entry_uid}").json()["entry"]["title"] == "Bolt home"


def test_an_existing_user_becomes_the_owner(
    live: Live, owner: User, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an active user who owns one organization
    code, out, err = create_org(live, capsys, "  Second one ", "--owner", owner.email.upper(), "-j")
    assert code == 0, err
    org: dict[str, Any] = json.loads(out)
    # then they own the new one too, at once, without an activation
    assert (org["name"], org["owner_uid"], org["owner_email"]) == ("Second one", owner.uid, owner.email)
    assert org["activation_mailed"] is False
    with live.client(authtoken=owner.authtoken) as c:
        user = c.get("/v3/user").json()["user"]
        assert set(user["org_uid"]) == {owner.org_uid, org["uid"]}
        assert c.get(f"/v3/organizations/{org['uid']}").json()["organization"]["owner_uid"] == owner.uid


def test_bad_names_and_addresses_are_refused(live: Live, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = create_org(live, capsys, "Name", "--owner", "not-an-address")
    assert code == 1 and "email" in err
    code, _, err = create_org(live, capsys, "x" * 201, "--owner", "a@example.com")
    assert code == 1 and "name" in err
    code, _, err = create_org(live, capsys, "Name")
    assert code == 2 and "--owner" in err
    with live.db.read() as tx:
        assert tx.scalar("SELECT COUNT(*) AS n FROM organizations") == 0
        assert tx.scalar("SELECT COUNT(*) AS n FROM users") == 0
