"""Locales, the audit log, roles and tokens through the SDK against the live server (both engines)."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.client.management import Client
from stackyard.errors import Forbidden, NotFound, UnprocessableEntity
from tests.conftest import Live


def test_locales_with_fallbacks(sdk: Client, api_key: str) -> None:
    locale = sdk.stack(api_key).locale
    r = locale().create({"locale": {"name": "French", "code": "fr-fr", "fallback_locale": "en-us"}})
    assert r.status_code == 201 and r.json()["locale"]["code"] == "fr-fr"
    r = locale().set_fallback(
        {"locale": {"name": "Canadian French", "code": "fr-ca", "fallback_locale": "fr-fr"}}
    )
    assert r.json()["locale"]["fallback_locale"] == "fr-fr"
    r = locale("fr-ca").update_fallback({"locale": {"fallback_locale": "en-us"}})
    assert r.json()["locale"]["fallback_locale"] == "en-us"
    assert locale("fr-ca").fetch().json()["locale"]["fallback_locale"] == "en-us"
    assert sorted(x["code"] for x in locale().iterate(page_size=2)) == ["en-us", "fr-ca", "fr-fr"]
    assert "notice" in locale("fr-ca").delete().json()
    with pytest.raises(NotFound):
        locale("fr-ca").fetch()
    with pytest.raises(UnprocessableEntity) as err:
        locale().create({"locale": {"code": "xx-yy-zz!"}})
    assert err.value.errors


def test_audit_log_records_sdk_writes(sdk: Client, api_key: str) -> None:
    stack = sdk.stack(api_key)
    stack.environments().create({"environment": {"name": "audited"}})
    logs = stack.auditlog().find().json()["logs"]
    entry = next(log for log in logs if log["module"] == "environment")
    assert stack.auditlog(entry["uid"]).fetch().json()["log"]["uid"] == entry["uid"]
    assert [log["uid"] for log in stack.auditlog().iterate(page_size=1)] == [log["uid"] for log in logs]
    with pytest.raises(TypeError):
        stack.auditlog(entry["uid"]).delete()


def test_roles(sdk: Client, api_key: str) -> None:
    roles = sdk.stack(api_key).roles
    builtin = roles().find().json()["roles"]
    assert {"Admin", "Developer"} <= {r["name"] for r in builtin}
    rules = [{"module": "environment", "environments": ["$all"], "acl": {"read": True}}]
    created = roles().create({"role": {"name": "Env reader", "description": "reads", "rules": rules}})
    assert created.status_code == 201
    uid = created.json()["role"]["uid"]
    assert roles(uid).fetch().json()["role"]["name"] == "Env reader"
    assert (
        roles(uid).update({"role": {"name": "Env viewer", "rules": rules}}).json()["role"]["name"]
        == "Env viewer"
    )
    assert roles(uid).delete().json() == {"notice": "The role deleted successfully."}


def _site_token(stack: Any) -> dict[str, Any]:
    """A delivery token named Site for a new environment `production` (answered with its secret)."""
    stack.environments().create({"environment": {"name": "production"}})
    scope = [
        {"module": "environment", "environments": ["production"], "acl": {"read": True}},
        {"module": "branch", "branches": ["main"], "acl": {"read": True}},
    ]
    return dict(stack.delivery_token().create({"token": {"name": "Site", "scope": scope}}).json()["token"])


def test_tokens_and_a_management_token_client(live: Live, sdk: Client, api_key: str) -> None:
    stack = sdk.stack(api_key)
    dt = _site_token(stack)
    assert dt["token"]  # the secret, shown once
    assert [t["uid"] for t in stack.delivery_token().find().json()["tokens"]] == [dt["uid"]]
    assert stack.delivery_token(dt["uid"]).update({"token": {"name": "Web"}}).json()["token"]["name"] == "Web"
    assert "notice" in stack.delivery_token(dt["uid"]).delete().json()


def test_a_delivery_tokens_preview_token_opens_live_preview_until_deleted(
    live: Live, sdk: Client, api_key: str
) -> None:
    stack = sdk.stack(api_key)
    dt = _site_token(stack)
    field = {"uid": "title", "data_type": "text", "display_name": "Title", "mandatory": True}
    stack.content_types().create({"content_type": {"title": "Note", "uid": "note", "schema": [field]}})
    entry = stack.content_types("note").entry().create({"entry": {"title": "Only a draft"}}).json()["entry"]
    # given a preview token made through the SDK
    preview = stack.delivery_token(dt["uid"]).create_preview_token().json()["token"]["preview_token"]
    assert preview
    headers = {"api_key": api_key, "access_token": dt["token"], "environment": "production"}
    path = f"/v3/content_types/note/entries/{entry['uid']}"
    with live.client(**headers) as cda:
        # then the unpublished draft is readable in live preview with it
        r = cda.get(path, params={"live_preview": "h"}, headers={"preview_token": preview})
        assert r.status_code == 200, r.text
        assert r.json()["entry"]["title"] == "Only a draft"
        # and once deleted, the same preview is refused
        assert "notice" in stack.delivery_token(dt["uid"]).delete_preview_token().json()
        r = cda.get(path, params={"live_preview": "h"}, headers={"preview_token": preview})
        assert r.status_code == 401, r.text
    # a management token reading environments works as a credential of its own client
    mscope = [{"module": "environment", "acl": {"read": True, "write": False}}]
    mt = stack.management_token().create({"token": {"name": "CI", "scope": mscope}}).json()["token"]
    assert stack.management_token(mt["uid"]).fetch().json()["token"]["name"] == "CI"
    with Client(base_url=live.url, management_token=mt["token"], max_retries=0) as ci:
        assert [e["name"] for e in ci.stack(api_key).environments().find().json()["environments"]] == [
            "production"
        ]
        with pytest.raises(Forbidden):
            ci.stack(api_key).environments().create({"environment": {"name": "nope"}})
    assert "notice" in stack.management_token(mt["uid"]).delete().json()
