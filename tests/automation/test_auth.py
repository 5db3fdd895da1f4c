"""Automation auth: tokens for HTTP Basic, TTL limits, whoami, API keys shown once, tenancy of keys."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.automation.conftest import PASSWORD, Auto, st2, st2py


def test_token_for_basic_credentials(auto: Auto) -> None:
    alice = auto.people["alice"]
    with auto.http(None) as c:
        r = c.post("/auth/v1/tokens", headers={"Authorization": alice.basic}, json={"ttl": 60})
        assert r.status_code == 201, r.text
        token = r.json()
        assert token["user"] == alice.email and len(token["token"]) == 32 and token["expiry"].endswith("Z")
        me = c.get("/api/v1/user", headers={"X-Auth-Token": token["token"]}).json()
        assert me["username"] == alice.email and me["rbac"]["is_admin"] is True
        assert me["authentication"]["method"] == "authentication token"
        # the token's expiry, to the second, as st2 writes it
        assert me["authentication"]["token_expire"] == token["expiry"][:19] + "Z"


def test_bad_credentials_and_ttl(auto: Auto) -> None:
    bad = "Basic " + base64.b64encode(b"alice@example.com:wrong password").decode()
    with auto.http(None) as c:
        r = c.post("/auth/v1/tokens", headers={"Authorization": bad}, json={})
        assert r.status_code == 401 and r.json() == {"faultstring": "Invalid or missing credentials"}
        assert c.post("/auth/v1/tokens", json={}).status_code == 401
        r = c.post(
            "/auth/v1/tokens", headers={"Authorization": auto.people["alice"].basic}, json={"ttl": 10**9}
        )
        assert r.status_code == 400 and "greater than max allowed" in r.json()["faultstring"]
        r = c.get("/api/v1/user")
        assert (
            r.status_code == 401
            and r.json()["faultstring"] == "Unauthorized - One of Token or API key required."
        )
        assert c.get("/api/v1/user", headers={"X-Auth-Token": "nope"}).status_code == 401


def test_observer_is_not_admin(auto: Auto) -> None:
    with auto.http("olga") as c:
        me = c.get("/api/v1/user").json()
        assert me["rbac"]["is_admin"] is False and me["organization"] == auto.people["alice"].org_uid
        assert c.post("/api/v1/apikeys", json={}).status_code == 403


def test_api_keys_shown_once_stored_hashed_and_per_organization(auto: Auto) -> None:
    with auto.http("alice") as a, auto.http("bob") as b:
        r = a.post("/api/v1/apikeys", json={"metadata": {"purpose": "ci"}})
        assert r.status_code == 201, r.text
        created = r.json()
        key = created["key"]
        with auto.db.read() as tx:
            assert tx.scalar("SELECT COUNT(*) FROM st2_api_keys WHERE key_hash = ?", key) == 0
        listed = a.get("/api/v1/apikeys").json()
        assert [k["key_hash"] for k in listed if k["id"] == created["id"]] == ["********"]
        assert all("key" not in k for k in listed)
        assert created["id"] not in [k["id"] for k in b.get("/api/v1/apikeys").json()]
        assert b.get(f"/api/v1/apikeys/{created['id']}").status_code == 404
        assert b.delete(f"/api/v1/apikeys/{created['id']}").status_code == 404
        with auto.http(None, **{"St2-Api-Key": key}) as k:
            assert k.get("/api/v1/user").json()["authentication"]["method"] == "API key"
            fetched = a.get(f"/api/v1/apikeys/{created['id']}").json()
            r = a.put(f"/api/v1/apikeys/{created['id']}", json={**fetched, "enabled": False})
            assert r.status_code == 200 and r.json()["enabled"] is False
            r = k.get("/api/v1/user")
            assert r.status_code == 401 and r.json()["faultstring"] == "Unauthorized - API key is disabled."
        assert a.delete(f"/api/v1/apikeys/{created['id']}").status_code == 204


def test_st2_cli_auth_whoami_and_apikeys(auto: Auto, st2venv: Path) -> None:
    alice = auto.people["alice"]
    env_token = st2(auto, st2venv, "auth", alice.email, "-p", PASSWORD, "-t")
    assert len(env_token.stdout.strip()) == 32
    assert alice.email in st2(auto, st2venv, "whoami").stdout
    out = st2(auto, st2venv, "apikey", "create", "-m", '{"used_by": "cli"}', "-j").stdout
    created = json.loads(out)
    assert created["key"] and created["metadata"] == {"used_by": "cli"}
    listed = json.loads(st2(auto, st2venv, "apikey", "list", "-j").stdout)
    assert created["id"] in [k["id"] for k in listed]
    st2(auto, st2venv, "apikey", "disable", created["id"])
    assert json.loads(st2(auto, st2venv, "apikey", "get", created["id"], "-j").stdout)["enabled"] is False
    st2(auto, st2venv, "apikey", "delete", created["id"])


def test_st2client_login(auto: Auto, st2venv: Path) -> None:
    code = "from st2client.client import Client\nc = Client()\nprint(c.get_user_info()['username'])\n"
    assert st2py(auto, st2venv, code).strip() == auto.people["alice"].email
