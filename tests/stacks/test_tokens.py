"""Delivery and management tokens over HTTP: secrets shown once, scopes validated, no escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stackyard.access.caller import Caller, StackAccess
from stackyard.errors import Forbidden
from stackyard.ids import digest
from stackyard.stacks import tokens
from tests.access.helpers import custom_role, management_token, member
from tests.conftest import Live

TITLE = {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True}
ENV_READ = {"module": "environment", "acl": {"read": True, "write": False}}


def _envs(cma, *names: str) -> None:
    for name in names:
        assert cma.post("/v3/environments", json={"environment": {"name": name}}).status_code == 201


def test_delivery_token_lifecycle(live: Live, cma) -> None:
    _envs(cma, "production", "staging")
    # given a delivery token for production
    r = cma.post(
        "/v3/stacks/delivery_tokens",
        json={
            "token": {
                "name": "Site",
                "description": "the web site",
                "scope": [
                    {"module": "environment", "environments": ["production"], "acl": {"read": True}},
                    {"module": "branch", "branches": ["main"], "acl": {"read": True}},
                ],
            }
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Delivery Token created successfully."
    token = r.json()["token"]
    secret = token["token"]
    # then the secret is long and random, and only its digest is stored
    assert secret.startswith("cs") and len(secret) >= 34
    with live.db.read() as tx:
        stored = tx.one("SELECT * FROM delivery_tokens WHERE uid = ?", token["uid"])
    assert stored["token_hash"] == digest(secret) and secret not in str(stored)
    # and the scope shows the environment object, with the branch rule
    env_rule, branch_rule = token["scope"]
    assert env_rule["module"] == "environment" and env_rule["environments"][0]["name"] == "production"
    assert env_rule["environments"][0]["uid"] and "urls" in env_rule["environments"][0]
    assert branch_rule == {"module": "branch", "branches": ["main"], "acl": {"read": True}}
    # when it is listed and fetched, then the secret is never shown again
    listed = cma.get("/v3/stacks/delivery_tokens").json()["tokens"]
    assert [t["uid"] for t in listed] == [token["uid"]] and "token" not in listed[0]
    fetched = cma.get(f"/v3/stacks/delivery_tokens/{token['uid']}").json()["token"]
    assert "token" not in fetched and secret not in str(fetched)
    # when its scope moves to staging
    r = cma.put(
        f"/v3/stacks/delivery_tokens/{token['uid']}",
        json={"token": {"scope": [{"module": "environment", "environments": ["staging"]}]}},
    )
    assert r.status_code == 200 and r.json()["notice"] == "Delivery Token updated successfully."
    assert [e["name"] for e in r.json()["token"]["scope"][0]["environments"]] == ["staging"]
    assert r.json()["token"]["name"] == "Site" and "token" not in r.json()["token"]
    # then delete removes it
    r = cma.delete(f"/v3/stacks/delivery_tokens/{token['uid']}")
    assert r.json() == {"notice": "Delivery Token deleted successfully."}
    assert cma.get(f"/v3/stacks/delivery_tokens/{token['uid']}").status_code == 422
    # and the audit log names the token, never its secret
    logs = cma.get("/v3/audit-logs").json()["logs"]
    assert any(log["module"] == "delivery_token" and log["event_type"] == "create" for log in logs)
    assert secret not in str(logs)


def test_delivery_token_scope_is_validated(cma) -> None:
    _envs(cma, "production")
    bad = [
        [],
        [{"module": "branch", "branches": ["main"]}],
        [{"module": "environment", "environments": ["nowhere"]}],
        [{"module": "environment", "environments": ["production"], "acl": {"read": True, "write": True}}],
        [{"module": "content_type", "acl": {"read": True}}],
        "production",
    ]
    for scope in bad:
        r = cma.post("/v3/stacks/delivery_tokens", json={"token": {"name": "x", "scope": scope}})
        assert r.status_code == 422, (scope, r.text)
        assert set(r.json()) >= {"error_message", "error_code", "errors"}
    assert cma.get("/v3/stacks/delivery_tokens").json()["tokens"] == []


def test_management_token_lifecycle_and_use(live: Live, cma) -> None:
    # given a token that reads and writes environments, expiring next year
    expires = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    r = cma.post(
        "/v3/stacks/management_tokens",
        json={
            "token": {
                "name": "CI",
                "description": "deploys",
                "scope": [{"module": "environment", "acl": {"read": True, "write": True}}],
                "expires_on": expires,
                "is_email_notification_enabled": True,
            }
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice"] == "Management Token created successfully."
    token = r.json()["token"]
    assert token["expires_on"] == f"{expires}T00:00:00.000Z"
    assert token["is_email_notification_enabled"] is True
    assert token["scope"][-1] == {"module": "branch", "branches": ["main"], "acl": {"read": True}}
    secret = token["token"]
    api_key = cma.headers["api_key"]
    # when it is used, then it manages environments but nothing outside its scope
    with live.client(authorization=secret, api_key=api_key) as c:
        assert c.post("/v3/environments", json={"environment": {"name": "by-token"}}).status_code == 201
        assert c.get("/v3/locales").status_code == 403
        assert c.get("/v3/locales/en-us").status_code == 403
        assert c.get("/v3/stacks/management_tokens").status_code == 403
        assert c.get("/v3/roles").status_code == 403
    # when it is made read-only and never-expiring
    r = cma.put(
        f"/v3/stacks/management_tokens/{token['uid']}",
        json={"token": {"scope": [ENV_READ], "expires_on": None}},
    )
    assert r.status_code == 200 and r.json()["notice"] == "Management Token updated successfully."
    assert r.json()["token"]["expires_on"] is None and "token" not in r.json()["token"]
    with live.client(authorization=secret, api_key=api_key) as c:
        assert c.get("/v3/environments").status_code == 200
        assert c.delete("/v3/environments/by-token").status_code == 403
    # when it is deleted, then the secret stops working
    assert cma.delete(f"/v3/stacks/management_tokens/{token['uid']}").json() == {
        "notice": "Management Token deleted successfully."
    }
    with live.client(authorization=secret, api_key=api_key) as c:
        assert c.get("/v3/environments").status_code == 401


def test_management_token_validation(cma) -> None:
    cases = [
        ({"scope": [{"module": "role", "acl": {"read": True}}]}, "scope.0.module"),
        ({"scope": [{"module": "environment", "acl": {"read": "yes"}}]}, "scope.0.acl"),
        ({"scope": [{"module": "environment", "acl": {"read": False, "write": False}}]}, "scope.0.acl"),
        ({"scope": [{"module": "audit_log", "acl": {"read": True, "write": True}}]}, "scope.0.acl.write"),
        ({"scope": [ENV_READ], "expires_on": "2001-01-01"}, "expires_on"),
        ({"scope": [ENV_READ], "expires_on": "next tuesday"}, "expires_on"),
        ({"scope": [ENV_READ], "is_email_notification_enabled": "yes"}, "is_email_notification_enabled"),
        ({"scope": [{"module": "branch", "branches": ["main"]}]}, "scope"),
    ]
    for extra, field in cases:
        r = cma.post("/v3/stacks/management_tokens", json={"token": {"name": "t", **extra}})
        assert r.status_code == 422, (extra, r.text)
        assert field in r.json()["errors"], (extra, r.json())
    assert cma.get("/v3/stacks/management_tokens").json()["tokens"] == []


def test_expired_management_token_is_refused(live: Live, cma) -> None:
    secret = management_token(cma, "short", [ENV_READ])
    with live.db.write() as tx:
        tx.run("UPDATE management_tokens SET expires_on = '2001-01-01T00:00:00.000Z'")
    with live.client(authorization=secret, api_key=cma.headers["api_key"]) as c:
        r = c.get("/v3/environments")
        assert r.status_code == 401 and r.json()["error_code"] == 106


def test_nobody_grants_what_they_lack(live: Live, cma) -> None:
    _envs(cma, "staging", "production")
    api_key = cma.headers["api_key"]
    # a custom role cannot create tokens at all
    custom_role(
        cma, "Reviewer", [{"module": "environment", "environments": ["staging"], "acl": {"read": True}}]
    )
    reviewer = member(live, cma, "reviewer@example.com", "Reviewer")
    with live.client(authtoken=reviewer.authtoken, api_key=api_key) as c:
        r = c.post(
            "/v3/stacks/delivery_tokens",
            json={"token": {"name": "x", "scope": [{"module": "environment", "environments": ["staging"]}]}},
        )
        assert r.status_code == 403
    # a management token cannot mint another token, even within its own scope
    secret = management_token(cma, "env", [{"module": "environment", "acl": {"read": True, "write": True}}])
    with live.client(authorization=secret, api_key=api_key) as c:
        r = c.post("/v3/stacks/management_tokens", json={"token": {"name": "y", "scope": [ENV_READ]}})
        assert r.status_code == 403
    # a developer creates tokens within the developer's standing
    dev = member(live, cma, "dev@example.com", "Developer")
    with live.client(authtoken=dev.authtoken, api_key=api_key) as c:
        assert (
            c.post(
                "/v3/stacks/management_tokens", json={"token": {"name": "z", "scope": [ENV_READ]}}
            ).status_code
            == 201
        )
    # a content manager cannot see tokens
    cm = member(live, cma, "cm@example.com", "Content Manager")
    with live.client(authtoken=cm.authtoken, api_key=api_key) as c:
        assert c.get("/v3/stacks/delivery_tokens").status_code == 403
        assert c.get("/v3/stacks/management_tokens").status_code == 403
    assert [t["name"] for t in cma.get("/v3/stacks/management_tokens").json()["tokens"]] == ["env", "z"]


def test_demo_step_makes_a_production_delivery_token(live: Live, owner, api_key) -> None:
    from stackyard.access.caller import Caller
    from stackyard.access.resolve import stack_access
    from stackyard.content import demo
    from stackyard.stacks import environments

    assert tokens.demo_delivery_token in demo.STEPS
    caller = Caller(kind="user", user_uid=owner.uid, request_id="test")
    with live.db.write() as tx:
        access = stack_access(tx, caller, api_key)
        production = environments.create(tx, access, {"name": "production"})
        first = tokens.demo_delivery_token(tx, access)
        second = tokens.demo_delivery_token(tx, access)
    # the step answers the secret; running it again replaces the token
    assert first["delivery_token"] != second["delivery_token"]
    with live.db.read() as tx:
        rows = tx.all("SELECT token_hash, scope FROM delivery_tokens WHERE api_key = ?", api_key)
    assert [r["token_hash"] for r in rows] == [digest(second["delivery_token"])]
    assert production["uid"] in str(rows[0]["scope"])


def test_scope_beyond_the_creators_standing_is_forbidden() -> None:
    """Built-in creators hold every token module, so the check is shown on narrower standings."""
    stack = {"api_key": "k", "uid": "s", "org_uid": "o", "name": "S", "owner_uid": "u"}
    reader = StackAccess(
        caller=Caller(kind="user"),
        stack=stack,
        level="custom",
        rules=({"module": "environment", "environments": ["$all"], "acl": {"read": True}},),
    )
    # reading what one reads is fine; writing it, or reaching another branch, is not
    scope = tokens._management_scope(reader, [ENV_READ])
    assert scope[0] == {"module": "environment", "acl": {"read": True, "write": False}}
    with pytest.raises(Forbidden):
        tokens._management_scope(reader, [{"module": "environment", "acl": {"read": True, "write": True}}])
    with pytest.raises(Forbidden):
        tokens._management_scope(reader, [{"module": "locale", "acl": {"read": True}}])
    with pytest.raises(Forbidden):
        tokens._management_scope(reader, [ENV_READ, {"module": "branch", "branches": ["dev"]}])


def test_delivery_scope_follows_a_renamed_environment_but_not_a_recreated_one(cma) -> None:
    _envs(cma, "production")
    scope = [{"module": "environment", "environments": ["production"], "acl": {"read": True}}]
    token = cma.post("/v3/stacks/delivery_tokens", json={"token": {"name": "Site", "scope": scope}}).json()[
        "token"
    ]
    one = f"/v3/stacks/delivery_tokens/{token['uid']}"

    def scoped() -> list[str]:
        return [e["name"] for e in cma.get(one).json()["token"]["scope"][0]["environments"]]

    # when the environment is renamed, the token still reads it, under its new name
    assert cma.put("/v3/environments/production", json={"environment": {"name": "live"}}).status_code == 200
    assert scoped() == ["live"]
    # when it is deleted and another is created with the old name, the token does not gain it
    assert cma.delete("/v3/environments/live").status_code == 200
    _envs(cma, "live")
    assert scoped() == []


LISTS = (
    "/v3/environments",
    "/v3/locales",
    "/v3/global_fields",
    "/v3/extensions",
    "/v3/labels",
    "/v3/metadata",
    "/v3/roles",
    "/v3/stacks/management_tokens",
    "/v3/stacks/delivery_tokens",
    "/v3/audit-logs",
    "/v3/content_types/post/entries",
)


def test_a_token_listing_a_module_outside_its_scope_is_refused(live: Live, cma) -> None:
    # given a stack with an object in every listed module, and a token scoped to content types only
    _envs(cma, "production")
    r = cma.post(
        "/v3/content_types", json={"content_type": {"title": "Post", "uid": "post", "schema": [TITLE]}}
    )
    assert r.status_code == 201, r.text
    assert cma.post("/v3/labels", json={"label": {"name": "Blog"}}).status_code == 201
    secret = management_token(cma, "model only", [{"module": "content_type", "acl": {"read": True}}])
    with live.client(authorization=secret, api_key=cma.headers["api_key"]) as c:
        # when it lists its own module, then it sees it
        assert [x["uid"] for x in c.get("/v3/content_types").json()["content_types"]] == ["post"]
        # when it lists any other module, then it is refused, not answered an empty list
        for path in LISTS:
            r = c.get(path)
            assert r.status_code == 403, (path, r.text)
            assert set(r.json()) >= {"error_message", "error_code", "errors"}
