"""The official `contentstack_management` SDK against a live Stackyard: stack administration calls.

Each call is made as the seed's examples make it (host without scheme, default region), and what
the server stored is read back. The SDK returns raw `requests.Response` objects and raises on
nothing, so every status is checked here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import contentstack_management
import pytest

from stackyard.identity import mail
from tests.access.helpers import accept_invitation
from tests.conftest import Live, User, make_user

# The SDK's default timeout is 2 s; a loaded CI machine can exceed it on a cold request.
TIMEOUT = 10


def sdk(live: Live, authtoken: str) -> Any:
    host = live.url.removeprefix("http://")
    return contentstack_management.Client(host=host, scheme="http://", authtoken=authtoken, timeout=TIMEOUT)


@pytest.fixture
def client(live: Live, owner: User) -> Any:
    return sdk(live, owner.authtoken)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.request.method, response.url, response.text)
    body: dict[str, Any] = response.json()
    return body


def test_stack_fetch_update_and_settings(client: Any, api_key: str) -> None:
    stack = client.stack(api_key)
    assert ok(stack.fetch())["stack"]["api_key"] == api_key
    body = ok(
        stack.update(
            {"stack": {"name": "My New Stack", "description": "My new test stack", "master_locale": "en-us"}}
        )
    )
    assert body["stack"]["name"] == "My New Stack"
    assert ok(client.stack(api_key).fetch())["stack"]["description"] == "My new test stack"
    data = {
        "stack_settings": {
            "stack_variables": {
                "enforce_unique_urls": "true",
                "sys_rte_allowed_tags": "style,figure,script",
                "sys_rte_skip_format_on_paste": "GD:font-size",
            },
            "rte": {"cs_only_breakline": "true"},
        }
    }
    ok(stack.create_settings(data), 201)
    stored = ok(stack.settings())["stack_settings"]
    assert stored["stack_variables"]["sys_rte_allowed_tags"] == "style,figure,script"
    assert stored["rte"] == {"cs_only_breakline": "true"}
    assert ok(stack.reset_settings({"stack_settings": {}}), 201)["stack_settings"]["rte"] == {}
    assert ok(stack.settings())["stack_settings"]["stack_variables"] == {}


def test_share_users_roles_unshare(live: Live, client: Any, api_key: str) -> None:
    manager = make_user(live, "manager@example.com", org=False)
    stack = client.stack(api_key)
    roles = {r["name"]: r["uid"] for r in ok(stack.roles().find())["roles"]}
    ok(
        stack.share(
            {"emails": ["manager@example.com"], "roles": {"manager@example.com": [roles["Content Manager"]]}}
        )
    )
    # an existing user joins when they accept the mailed invitation (no SDK call for that)
    assert "manager@example.com" not in {u["email"] for u in ok(stack.users())["users"]}
    accept_invitation(live, manager)
    users = {u["email"]: u for u in ok(stack.users())["users"]}
    assert users["manager@example.com"]["roles"] == [roles["Content Manager"]]
    body = ok(
        stack.update_user_role({"users": {manager.uid: [roles["Developer"], roles["Content Manager"]]}})
    )
    assert body["notice"] == "Roles updated successfully"
    users = {u["email"]: u for u in ok(stack.users())["users"]}
    assert sorted(users["manager@example.com"]["roles"]) == sorted(
        [roles["Developer"], roles["Content Manager"]]
    )
    ok(stack.unshare({"email": "manager@example.com"}))
    assert "manager@example.com" not in {u["email"] for u in ok(stack.users())["users"]}


def test_transfer_and_accept_ownership(live: Live, client: Any, api_key: str) -> None:
    heir = make_user(live, "heir@example.com", org=False)
    body = ok(client.stack(api_key).transfer_ownership({"transfer_to": "heir@example.com"}))
    assert body["notice"]
    with live.db.read() as tx:
        text = mail.outbox(tx, "heir@example.com")[0]["body"]
    token = re.search(r"accept_ownership/(own[0-9a-f]+)", text)
    assert token
    ok(sdk(live, heir.authtoken).stack(api_key).accept_ownership(heir.uid, token.group(1)))
    assert ok(client.stack(api_key).fetch())["stack"]["owner_uid"] == heir.uid


def test_roles(client: Any, api_key: str) -> None:
    stack = client.stack(api_key)
    ok(
        stack.environments().create(
            {"environment": {"name": "production", "urls": [{"locale": "en-us", "url": "https://x"}]}}
        ),
        201,
    )
    data = {
        "role": {
            "name": "testRole",
            "description": "This is a test role.",
            "rules": [
                {"module": "branch", "branches": ["main"], "acl": {"read": True}},
                {"module": "branch_alias", "branch_aliases": ["deploy"], "acl": {"read": True}},
                {
                    "module": "content_type",
                    "content_types": ["$all"],
                    "acl": {"read": True, "sub_acl": {"read": True}},
                },
                {
                    "module": "asset",
                    "assets": ["$all"],
                    "acl": {"read": True, "update": True, "publish": True, "delete": True},
                },
                {"module": "folder", "folders": ["$all"], "acl": {"read": True, "sub_acl": {"read": True}}},
                {"module": "environment", "environments": ["$all"], "acl": {"read": True}},
                {"module": "locale", "locales": ["en-us"], "acl": {"read": True}},
            ],
        }
    }
    created = ok(stack.roles().create(data), 201)
    assert created["notice"] == "The role created successfully."
    uid = created["role"]["uid"]
    fetched = ok(client.stack(api_key).roles(uid).fetch())["role"]
    assert fetched["name"] == "testRole" and len(fetched["rules"]) == 7
    assert "testRole" in [r["name"] for r in ok(stack.roles().find())["roles"]]
    data["role"]["name"] = "updatedRole"
    assert ok(client.stack(api_key).roles(uid).update(data))["role"]["name"] == "updatedRole"
    assert ok(client.stack(api_key).roles(uid).delete())["notice"] == "The role deleted successfully."
    assert client.stack(api_key).roles(uid).fetch().status_code == 422


def test_environments_and_locales(client: Any, api_key: str) -> None:
    stack = client.stack(api_key)
    ok(
        stack.environments().create(
            {"environment": {"name": "staging", "urls": [{"locale": "en-us", "url": "https://s"}]}}
        ),
        201,
    )
    assert ok(client.stack(api_key).environments("staging").fetch())["environment"]["name"] == "staging"
    ok(client.stack(api_key).environments("staging").update({"environment": {"name": "stage", "urls": []}}))
    assert [e["name"] for e in ok(stack.environments().find())["environments"]] == ["stage"]
    ok(client.stack(api_key).environments("stage").delete())
    assert ok(stack.environments().find())["environments"] == []
    ok(
        stack.locale().create(
            {"locale": {"name": "French - France", "code": "fr-fr", "fallback_locale": "en-us"}}
        ),
        201,
    )
    ok(
        stack.locale().set_fallback(
            {"locale": {"name": "German", "code": "de-de", "fallback_locale": "fr-fr"}}
        ),
        201,
    )
    ok(
        client.stack(api_key)
        .locale("de-de")
        .update_fallback({"locale": {"name": "German - Germany", "fallback_locale": "en-us"}})
    )
    de = ok(client.stack(api_key).locale("de-de").fetch())["locale"]
    assert de["name"] == "German - Germany" and de["fallback_locale"] == "en-us"
    ok(client.stack(api_key).locale("de-de").delete())
    assert sorted(x["code"] for x in ok(stack.locale().find())["locales"]) == ["en-us", "fr-fr"]


def test_delivery_tokens(client: Any, api_key: str) -> None:
    stack = client.stack(api_key)
    ok(stack.environments().create({"environment": {"name": "production"}}), 201)
    data = {
        "token": {
            "name": "Test",
            "description": "This is a demo token.",
            "scope": [
                {"module": "environment", "environments": ["production"], "acl": {"read": True}},
                {"module": "branch", "branches": ["main"], "acl": {"read": True}},
                {"module": "branch_alias", "branch_aliases": ["deploy", "release"], "acl": {"read": True}},
            ],
        }
    }
    created = ok(stack.delivery_token().create(data), 201)
    assert created["notice"] == "Delivery Token created successfully."
    uid = created["token"]["uid"]
    assert created["token"]["scope"][0]["environments"][0]["name"] == "production"
    fetched = ok(client.stack(api_key).delivery_token(uid).fetch())["token"]
    assert fetched["name"] == "Test" and "token" not in fetched
    assert [t["uid"] for t in ok(client.stack(api_key).delivery_token().find())["tokens"]] == [uid]
    data["token"]["name"] = "Renamed"
    assert ok(client.stack(api_key).delivery_token(uid).update(data))["token"]["name"] == "Renamed"
    assert (
        ok(client.stack(api_key).delivery_token(uid).delete())["notice"]
        == "Delivery Token deleted successfully."
    )
    assert ok(client.stack(api_key).delivery_token().find())["tokens"] == []


def test_management_tokens(live: Live, client: Any, api_key: str) -> None:
    stack = client.stack(api_key)
    expires = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    data = {
        "token": {
            "name": "Test Token",
            "description": "This is a sample management token.",
            "scope": [
                {"module": "content_type", "acl": {"read": True, "write": True}},
                {"module": "environment", "acl": {"read": True, "write": True}},
                {"module": "branch", "branches": ["main"], "acl": {"read": True}},
            ],
            "expires_on": expires,
            "is_email_notification_enabled": True,
        }
    }
    created = ok(stack.management_token().create(data), 201)
    assert created["notice"] == "Management Token created successfully."
    secret, uid = created["token"]["token"], created["token"]["uid"]
    fetched = ok(client.stack(api_key).management_token(uid).fetch())["token"]
    assert fetched["expires_on"].startswith(expires) and fetched["is_email_notification_enabled"] is True
    assert "token" not in fetched
    # the token works as the SDK sends it: `authorization` without "Bearer"
    host = live.url.removeprefix("http://")
    by_token = contentstack_management.Client(
        host=host, scheme="http://", management_token=secret, timeout=TIMEOUT
    )
    ok(by_token.stack(api_key).environments().create({"environment": {"name": "from-token"}}), 201)
    assert by_token.stack(api_key).roles().find().status_code == 403
    data["token"]["scope"] = [{"module": "content_type", "acl": {"read": True, "write": False}}]
    updated = ok(client.stack(api_key).management_token(uid).update(data))["token"]
    assert updated["scope"][0] == {"module": "content_type", "acl": {"read": True, "write": False}}
    assert [t["uid"] for t in ok(client.stack(api_key).management_token().find())["tokens"]] == [uid]
    ok(client.stack(api_key).management_token(uid).delete())
    assert by_token.stack(api_key).environments().find().status_code == 401
