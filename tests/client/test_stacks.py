"""Stacks and organizations through the SDK against the live server, on both engines."""

from __future__ import annotations

import pytest

from stackyard.client.management import Client
from stackyard.errors import Forbidden, NotFound, PreconditionFailed, Unauthorized, UnprocessableEntity
from tests.conftest import Live, User, make_user


def test_stack_lifecycle(sdk: Client, owner: User) -> None:
    # given a new stack created in the owner's organization (header the official SDK drops)
    r = sdk.stack().create(owner.org_uid, {"stack": {"name": "Blog", "master_locale": "en-us"}})
    assert r.status_code == 201
    key = r.json()["stack"]["api_key"]
    stack = sdk.stack(key)
    # then it can be fetched, listed, renamed and finally deleted
    assert stack.fetch().json()["stack"]["name"] == "Blog"
    assert key in [s["api_key"] for s in sdk.stack().find().json()["stacks"]]
    assert key in [s["api_key"] for s in stack.iterate(page_size=1)]  # api_key is not sent to list
    assert stack.update({"stack": {"name": "Blog 2"}}).json()["stack"]["name"] == "Blog 2"
    assert "notice" in stack.delete().json()
    with pytest.raises((PreconditionFailed, NotFound)):
        stack.fetch()


def test_stack_settings_users_and_roles(sdk: Client, api_key: str, owner: User) -> None:
    stack = sdk.stack(api_key)
    r = stack.create_settings({"stack_settings": {"stack_variables": {"enforce_unique_urls": True}}})
    assert r.status_code == 201
    assert stack.settings().json()["stack_settings"]["stack_variables"]["enforce_unique_urls"] is True
    assert stack.reset_stack_settings({"stack_settings": {}}).status_code == 201
    users = stack.users().json()["users"]
    assert [u["uid"] for u in users] == [owner.uid]


def test_unknown_stack_and_bad_token(live: Live, sdk: Client, owner: User) -> None:
    with pytest.raises(PreconditionFailed) as err:
        sdk.stack("blt_no_such_stack").fetch()
    assert err.value.error_code in (109, 110)
    with Client(base_url=live.url, authtoken="nonsense", max_retries=0) as bad, pytest.raises(Unauthorized):
        bad.stack().find()


def test_a_stranger_cannot_see_the_stack(live: Live, api_key: str) -> None:
    stranger = make_user(live, "stranger@example.com")
    with Client(base_url=live.url, authtoken=stranger.authtoken, max_retries=0) as client:
        with pytest.raises((PreconditionFailed, Forbidden, NotFound)):
            client.stack(api_key).fetch()
        assert client.stack().find().json()["stacks"] == []


def test_organizations(sdk: Client, owner: User, api_key: str) -> None:
    orgs = sdk.organizations().find().json()["organizations"]
    assert [o["uid"] for o in orgs] == [owner.org_uid]
    org = sdk.organizations(owner.org_uid)
    assert org.fetch().json()["organization"]["uid"] == owner.org_uid
    assert isinstance(org.get_organization_roles().json()["roles"], list)
    assert api_key in [s["api_key"] for s in org.organization_stacks().json()["stacks"]]
    assert isinstance(org.organization_logs().json()["logs"], list)
    with pytest.raises(UnprocessableEntity):
        org.transfer_organizations_ownership({"transfer_to": "nobody@example.com"})
