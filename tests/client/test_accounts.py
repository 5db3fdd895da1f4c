"""Account flows through the SDK, live: invitation and activation, password reset, two-factor login."""

from __future__ import annotations

import pytest

from stackyard.client.management import Client
from stackyard.client.management._totp import totp
from stackyard.errors import UnprocessableEntity
from tests.conftest import Live, User
from tests.identity.conftest import mailed_token


def test_invited_user_activates_and_signs_in(live: Live, sdk: Client, owner: User, api_key: str) -> None:
    # given an invitation to the organization and the stack
    with live.db.read() as tx:
        developer = tx.scalar("SELECT uid FROM roles WHERE api_key = ? AND kind = 'developer'", api_key)
    invite = {
        "share": {
            "users": {"new@example.com": ["member"]},
            "stacks": {"new@example.com": {api_key: [developer]}},
        }
    }
    assert sdk.organizations(owner.org_uid).organization_add_users(invite).json()["shares"]
    # when the user activates with the mailed token
    token = mailed_token(live.db, "new@example.com", "act")
    password = {"password": "their own password", "password_confirmation": "their own password"}
    with Client(base_url=live.url, max_retries=0) as anonymous:
        r = anonymous.user().activate(token, {"user": {"first_name": "New", **password}})
        assert r.json() == {"notice": "Your account has been activated."}
        # then they can sign in and open the shared stack
        anonymous.login("new@example.com", "their own password")
        assert anonymous.stack(api_key).fetch().json()["stack"]["api_key"] == api_key
        # and the token cannot be used twice
        with pytest.raises(UnprocessableEntity):
            anonymous.user().activate(token, {"user": password})


def test_password_reset(live: Live, owner: User) -> None:
    with Client(base_url=live.url, max_retries=0) as client:
        client.user().request_password({"user": {"email": owner.email}})
        token = mailed_token(live.db, owner.email, "rst")
        new = {"password": "a brand new one", "password_confirmation": "a brand new one"}
        r = client.user().reset_password({"user": {"reset_password_token": token, **new}})
        assert r.json() == {"notice": "Your password has been reset successfully."}
        with pytest.raises(UnprocessableEntity):
            client.login(owner.email, owner.password)
        assert client.login(owner.email, "a brand new one").status_code == 200


def test_two_factor_login_with_a_code_or_the_secret(live: Live, sdk: Client, owner: User) -> None:
    # given two-factor login turned on
    secret = sdk.user().two_factor_setup().json()["tfa"]["secret"]
    assert "notice" in sdk.user().two_factor_enable(totp(secret)).json()
    with Client(base_url=live.url, max_retries=0) as client:
        # when signing in without a code: 422/294 and the tfa_type extra
        with pytest.raises(UnprocessableEntity) as err:
            client.login(owner.email, owner.password)
        assert err.value.error_code == 294 and err.value.extra.get("tfa_type")
        assert client.authtoken is None
        # a wrong code: 295
        with pytest.raises(UnprocessableEntity) as bad:
            client.login(
                owner.email, owner.password, tfa_token="000000" if totp(secret) != "000000" else "111111"
            )
        assert bad.value.error_code == 295
        # then the SDK makes the code from the secret (as the official SDK's mfa_secret does)
        assert client.login(owner.email, owner.password, mfa_secret=secret).status_code == 200
        assert client.user().fetch().json()["user"]["email"] == owner.email
        assert "notice" in client.user().two_factor_disable(totp(secret)).json()
