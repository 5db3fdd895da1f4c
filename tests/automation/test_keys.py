"""The key-value store through the st2 CLI and st2client: scopes, encryption, TTL, prefixes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.automation.conftest import Auto, st2, st2py, unique


def test_set_get_list_delete_plain_and_encrypted(auto: Auto, st2venv: Path) -> None:
    plain, secret = unique("k"), unique("sec")
    st2(auto, st2venv, "key", "set", plain, "v1")
    assert json.loads(st2(auto, st2venv, "key", "get", plain, "-j").stdout)["value"] == "v1"
    st2(auto, st2venv, "key", "set", secret, "hunter2", "-e")
    stored = json.loads(st2(auto, st2venv, "key", "get", secret, "-j").stdout)
    assert stored["secret"] is True and stored["encrypted"] is True and stored["value"] != "hunter2"
    with auto.db.read() as tx:
        raw = tx.scalar("SELECT value FROM st2_keys WHERE name = ?", secret)
    assert "hunter2" not in raw
    shown = json.loads(st2(auto, st2venv, "key", "get", secret, "-d", "-j").stdout)
    assert shown["value"] == "hunter2"
    listed = json.loads(st2(auto, st2venv, "key", "list", "--prefix", plain[:1], "-j").stdout)
    assert plain in [k["name"] for k in listed]
    st2(auto, st2venv, "key", "set", "mine", "u1", "--scope", "user")
    mine = json.loads(st2(auto, st2venv, "key", "list", "-s", "user", "-j").stdout)
    assert [(k["name"], k["user"]) for k in mine if k["name"] == "mine"] == [
        ("mine", auto.people["alice"].email)
    ]
    st2(auto, st2venv, "key", "delete", plain)
    gone = st2(auto, st2venv, "key", "get", plain, check=False)
    assert gone.returncode != 0


def test_ttl_and_observer_limits(auto: Auto) -> None:
    with auto.http() as c, auto.http("olga") as o:
        r = c.put(
            "/api/v1/keys/ttl1",
            json={"name": "ttl1", "value": "x", "ttl": 60, "scope": "system", "user": None},
        )
        assert r.status_code == 200 and r.json()["expire_timestamp"].endswith("Z")
        assert o.get("/api/v1/keys/ttl1").json()["value"] == "x"
        assert o.put("/api/v1/keys/x", json={"name": "x", "value": "y"}).status_code == 403
        c.put("/api/v1/keys/sysec", json={"name": "sysec", "value": "p", "secret": True})
        assert o.get("/api/v1/keys/sysec", params={"decrypt": "true"}).status_code == 403
        with auto.db.write() as tx:
            tx.run("UPDATE st2_keys SET expires_at = 1 WHERE name = 'ttl1'")
        assert c.get("/api/v1/keys/ttl1").status_code == 404


def test_st2client_seed_example(auto: Auto, st2venv: Path) -> None:
    """The seed's Python example, verbatim but for the base URL (the environment names the URLs)."""
    code = (
        "from st2client.client import Client\n"
        "from st2client import models\n"
        "client = Client(base_url='http://127.0.0.1')\n"
        "rules = client.rules.get_all()\n"
        "executions = client.executions.get_all()\n"
        "key_value_pair = client.keys.update(models.KeyValuePair(name='k1', value='v1'))\n"
        "print(type(rules).__name__, type(executions).__name__, key_value_pair.value)\n"
        "print(client.keys.get_by_name('k1').value)\n"
    )
    out = st2py(auto, st2venv, code).split("\n")
    assert out[0] == "list list v1" and out[1] == "v1"
