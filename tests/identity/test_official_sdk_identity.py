"""The official `contentstack_management` SDK against a live Stackyard: session, user, organizations
and the stack calls a new user makes first.

Calls are made as the seed reference shows them, except where its method names do not exist in the
SDK (the seed says `organization_add_users`, `get_organization_roles`, `organization_stacks`,
`organization_logs`, `transfer_organizations_ownership` and `request_password`; the SDK has
`add_users`, `roles`, `stacks`, `logs`, `transfer_ownership` and `forgot_password`). The SDK returns
raw `requests.Response` objects and raises on nothing, so every status is checked here.
"""

from __future__ import annotations

from typing import Any

import contentstack_management
import pyotp
import pytest

from tests.access.helpers import accept_invitation
from tests.conftest import Live, User, make_user
from tests.identity.conftest import mailed_token
from tests.identity.test_sessions import wrong_code

# The SDK's default timeout is 2 s; a loaded CI machine can exceed it on a cold request.
TIMEOUT = 10


def sdk(live: Live, authtoken: str | None = None) -> Any:
    host = live.url.removeprefix("http://")
    return contentstack_management.Client(host=host, scheme="http://", authtoken=authtoken, timeout=TIMEOUT)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.request.method, response.url, response.text)
    body: dict[str, Any] = response.json()
    return body


def test_login_stores_the_authtoken_and_user_calls_work(live: Live, owner: User) -> None:
    # given a client that logs in with the SDK
    client = sdk(live)
    body = ok(client.login(owner.email, owner.password))
    assert body["notice"] == "Login Successful."
    # then the SDK keeps the token (it does so only on a 200) and later calls carry it
    assert client.authtoken == body["user"]["authtoken"]
    assert ok(client.user().fetch())["user"]["email"] == owner.email
    body = ok(client.user().update({"user": {"company": "company name inc.", "first_name": "Your name"}}))
    assert body["notice"] == "Profile updated successfully."
    user = ok(client.user().fetch())["user"]
    assert (user["company"], user["first_name"]) == ("company name inc.", "Your name")


def test_failed_login_leaves_the_client_logged_out(live: Live, owner: User) -> None:
    client = sdk(live)
    r = client.login(owner.email, "wrong password")
    assert r.status_code == 422 and r.json()["error_code"] == 104
    assert "authtoken" not in client.client.headers
    assert client.user().fetch().status_code == 401


def test_two_factor_login_with_the_sdk(live: Live, owner: User) -> None:
    client = sdk(live, owner.authtoken)
    secret = ok(client.client.post("user/two_factor", headers=client.client.headers))["tfa"]["secret"]
    code = {"user": {"tfa_token": pyotp.TOTP(secret).now()}}
    ok(client.client.post("user/two_factor/enable", headers=client.client.headers, json_data=code))
    # without a code: 294 and the tfa_type the SDKs look for
    r = sdk(live).login(owner.email, owner.password)
    assert r.status_code == 422
    assert (r.json()["error_code"], r.json()["tfa_type"]) == (294, "totp_authenticator")
    r = sdk(live).login(owner.email, owner.password, tfa_token=wrong_code(secret))
    assert (r.status_code, r.json()["error_code"]) == (422, 295)
    # the SDK generates the code itself from mfa_secret
    fresh = sdk(live)
    ok(fresh.login(owner.email, owner.password, mfa_secret=secret))
    assert ok(fresh.user().fetch())["user"]["tfa_status"] == "verified"


def test_invited_user_activates_through_the_sdk(live: Live, owner: User, api_key: str) -> None:
    client = sdk(live, owner.authtoken)
    with live.db.read() as tx:
        developer = tx.scalar("SELECT uid FROM roles WHERE api_key = ? AND kind = 'developer'", api_key)
    # given the seed's add_users body
    data = {
        "share": {
            "users": {"abc@sample.com": ["member"], "xyz@sample.com": ["admin"]},
            "stacks": {"abc@sample.com": {api_key: [developer]}, "xyz@sample.com": {}},
            "message": "Invitation message",
        }
    }
    body = ok(client.organizations(owner.org_uid).add_users(data))
    assert body["notice"] == "The invitation has been sent successfully."
    assert sorted(s["email"] for s in body["shares"]) == ["abc@sample.com", "xyz@sample.com"]
    # when the invited user activates with the mailed token
    token = mailed_token(live.db, "abc@sample.com", "act")
    activation = {
        "user": {
            "first_name": "first_name",
            "last_name": "last_name",
            "password": "password-of-abc",
            "password_confirmation": "password-of-abc",
        }
    }
    assert ok(sdk(live).user().activate(token, activation)) == {"notice": "Your account has been activated."}
    # then they log in and see the shared stack
    invited = sdk(live)
    ok(invited.login("abc@sample.com", "password-of-abc"))
    assert ok(invited.stack(api_key).fetch())["stack"]["api_key"] == api_key
    stacks = ok(invited.organizations(owner.org_uid).stacks())["stacks"]
    assert [s["api_key"] for s in stacks] == [api_key]


def test_forgot_and_reset_password_through_the_sdk(live: Live, owner: User) -> None:
    client = sdk(live)
    body = ok(client.user().forgot_password({"user": {"email": owner.email}}))
    assert body["notice"].startswith("If this email address exists")
    token = mailed_token(live.db, owner.email, "rst")
    reset = {
        "user": {
            "reset_password_token": token,
            "password": "a brand new one",
            "password_confirmation": "a brand new one",
        }
    }
    assert ok(client.user().reset_password(reset)) == {"notice": "Your password has been reset successfully."}
    assert sdk(live).login(owner.email, owner.password).status_code == 422
    ok(sdk(live).login(owner.email, "a brand new one"))


def test_organization_calls(live: Live, owner: User) -> None:
    client = sdk(live, owner.authtoken)
    orgs = ok(client.organizations().find())["organizations"]
    assert [o["uid"] for o in orgs] == [owner.org_uid]
    org = client.organizations(owner.org_uid)
    assert ok(org.fetch())["organization"]["owner_uid"] == owner.uid
    assert {r["uid"] for r in ok(org.roles())["roles"]} == {"admin", "member"}
    assert ok(org.stacks()) == {"stacks": []}
    heir = make_user(live, "heir@sample.com", org=False)
    ok(org.add_users({"share": {"users": {heir.email: ["member"]}, "message": ""}}))
    accept_invitation(live, heir)
    body = ok(org.transfer_ownership({"transfer_to": heir.email}))
    assert body["notice"] == "Organization ownership has been transferred successfully."
    logs = ok(org.logs())["logs"]
    assert [entry["event_type"] for entry in logs] == ["transfer_ownership", "accept_invitation", "share"]
    # an organization the caller is not in is not found, and shows nothing
    stranger = make_user(live, "stranger@sample.com")
    r = client.organizations(stranger.org_uid).fetch()
    assert r.status_code == 422 and "stranger" not in r.text


def test_stack_create_defaults_to_the_callers_organization(live: Live, owner: User) -> None:
    client = sdk(live, owner.authtoken)
    data = {"stack": {"name": "My New Stack", "description": "My new test stack", "master_locale": "en-us"}}
    # the SDK never sends the organization_uid it is given; the server uses the caller's organization
    body = ok(client.stack().create(owner.org_uid, data), 201)
    api_key = body["stack"]["api_key"]
    assert body["stack"]["org_uid"] == owner.org_uid
    stack = client.stack(api_key)
    assert ok(stack.fetch())["stack"]["name"] == "My New Stack"
    assert ok(stack.update({"stack": {"name": "Renamed", "description": "d"}}))["stack"]["name"] == "Renamed"
    assert ok(stack.delete())["notice"] == "Stack deleted successfully!"
    assert client.stack(api_key).fetch().status_code == 412


def test_sdk_logout_is_broken_client_side(live: Live, owner: User) -> None:
    # The SDK's logout does `headers.update['authtoken'] = ...` and raises before sending anything
    # (catalogue §1.6); the session therefore stays alive until DELETE /v3/user-session is sent.
    client = sdk(live)
    ok(client.login(owner.email, owner.password))
    with pytest.raises(TypeError):
        client.logout()
    assert client.user().fetch().status_code == 200
    r = client.client.delete("user-session", headers=client.client.headers)
    assert r.status_code == 200
    assert client.user().fetch().status_code == 401
