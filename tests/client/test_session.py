"""Login, logout and the user profile through the SDK against the live server."""

from __future__ import annotations

import pytest

from stackyard.client.management import Client
from stackyard.errors import NotFound, Unauthorized, UnprocessableEntity
from tests.conftest import Live, User


def test_login_stores_the_token_and_logout_ends_the_session(live: Live, owner: User) -> None:
    # given a client with no credential
    with Client(base_url=live.url, max_retries=0) as client:
        # when the user signs in
        r = client.login(owner.email, owner.password)
        # then the token from the 200 answer is used by later calls
        assert r.status_code == 200 and r.json()["notice"] == "Login Successful."
        assert client.authtoken == r.json()["user"]["authtoken"]
        assert client.user().fetch().json()["user"]["email"] == owner.email
        token = client.authtoken
        # and logout works (unlike the official SDK) and kills the token on the server
        assert client.logout().json() == {"notice": "You've logged out successfully!"}
        assert client.authtoken is None
    with Client(base_url=live.url, authtoken=token, max_retries=0) as stale, pytest.raises(Unauthorized):
        stale.user().fetch()


def test_bad_password_raises_and_stores_nothing(live: Live, owner: User) -> None:
    with Client(base_url=live.url, max_retries=0) as client:
        with pytest.raises(UnprocessableEntity) as err:
            client.login(owner.email, "wrong password")
        assert err.value.status == 422 and err.value.error_code == 104
        assert "email or password" in err.value.error_message
        assert client.authtoken is None


def test_user_update(sdk: Client) -> None:
    r = sdk.user().update({"user": {"first_name": "Ada", "company": "Engines Ltd"}})
    assert r.json()["user"]["first_name"] == "Ada"
    assert sdk.user().fetch().json()["user"]["company"] == "Engines Ltd"


def test_forgot_password_answers_the_same_for_unknown_email(sdk: Client) -> None:
    known = sdk.user().forgot_password({"user": {"email": "owner@example.com"}}).json()
    unknown = sdk.user().request_password({"user": {"email": "nobody@example.com"}}).json()
    assert known == unknown and "notice" in known


def test_environment_crud(sdk: Client, api_key: str) -> None:
    envs = sdk.stack(api_key).environments
    created = envs().create({"environment": {"name": "staging"}})
    assert created.status_code == 201 and created.json()["environment"]["name"] == "staging"
    assert envs("staging").fetch().json()["environment"]["uid"] == created.json()["environment"]["uid"]
    assert envs("staging").update({"environment": {"name": "stage"}}).json()["environment"]["_version"] == 2
    assert [e["name"] for e in envs().find().json()["environments"]] == ["stage"]
    assert envs("stage").delete().json() == {"notice": "Environment deleted successfully."}
    with pytest.raises(NotFound):
        envs("stage").fetch()
