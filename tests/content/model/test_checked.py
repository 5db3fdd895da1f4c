"""Content types and global fields are checked before their write transaction: a slow check holds
up no other write, a check still holds when the write comes, and is made again when it may not."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from stackyard.access.caller import StackAccess
from stackyard.access.resolve import authenticate, stack_access
from stackyard.content.model import content_types, global_fields
from stackyard.errors import UnprocessableEntity
from tests.conftest import Live, User
from tests.content.model.test_content_types import ct, text

SEO = {"global_field": {"title": "SEO", "uid": "seo", "schema": [text("keywords")]}}
SEO_FIELD = {"display_name": "SEO", "uid": "seo", "data_type": "global_field", "reference_to": "seo"}


def _access(live: Live, user: User, api_key: str) -> StackAccess:
    with live.db.read() as tx:
        return stack_access(tx, authenticate(tx, {"authtoken": user.authtoken}), api_key)


def test_a_check_made_ahead_is_used_when_nothing_changed(
    live: Live, owner: User, api_key: str, cma: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a content type checked in a read transaction
    access = _access(live, owner, api_key)
    data = ct("blog", text("body"))["content_type"]
    with live.db.read() as tx:
        ahead = content_types.check(tx, access, data)
    # when it is written with nothing changed in the stack meanwhile
    calls: list[Any] = []
    real = content_types._prepare
    monkeypatch.setattr(content_types, "_prepare", lambda *a: calls.append(a) or real(*a))
    with live.db.write() as tx:
        content_types.create(tx, access, data, ahead)
    # then the write does not check it again
    assert calls == []
    assert cma.get("/v3/content_types/blog").json()["content_type"]["schema"][1]["uid"] == "body"


def test_a_change_after_the_check_makes_the_write_check_again(
    live: Live, owner: User, api_key: str, cma: httpx.Client
) -> None:
    # given a content type embedding a global field, checked ahead of its write
    assert cma.post("/v3/global_fields", json=SEO).status_code == 201
    access = _access(live, owner, api_key)
    data = ct("page", SEO_FIELD)["content_type"]
    with live.db.read() as tx:
        ahead = content_types.check(tx, access, data)
    # when the global field is deleted before the write
    assert cma.delete("/v3/global_fields/seo").status_code == 200
    # then the write checks again and refuses the dangling reference
    with live.db.write() as tx, pytest.raises(UnprocessableEntity) as refused:
        content_types.create(tx, access, data, ahead)
    assert "schema.1.reference_to" in refused.value.errors, refused.value.errors
    assert cma.get("/v3/content_types/page").status_code == 422
    # and a global field's rename, checked before a rival takes the same title, is checked again
    assert cma.post("/v3/global_fields", json=SEO).status_code == 201
    renamed = {"title": "Meta"}
    with live.db.read() as tx:
        ahead_gf = global_fields.check(tx, access, renamed, "seo")
    rival = {"global_field": {"title": "Meta", "uid": "meta", "schema": [text("x")]}}
    assert cma.post("/v3/global_fields", json=rival).status_code == 201
    with live.db.write() as tx, pytest.raises(UnprocessableEntity) as refused:
        global_fields.update(tx, access, "seo", renamed, ahead_gf)
    assert refused.value.errors == {"title": ["is not unique."]}
    assert cma.get("/v3/global_fields/seo").json()["global_field"]["title"] == "SEO"


def test_http_writes_check_before_the_write_and_answer_as_before(cma: httpx.Client) -> None:
    # given a global field and a content type made over HTTP
    assert cma.post("/v3/global_fields", json=SEO).status_code == 201
    r = cma.post("/v3/content_types", json=ct("page", SEO_FIELD))
    assert r.status_code == 201, r.text
    # when invalid ones are sent, they are refused with every fault, and nothing is stored
    r = cma.post("/v3/content_types", json=ct("bad", {"uid": "x", "data_type": "nope"}))
    assert r.status_code == 422 and r.json()["error_code"] == 121
    r = cma.put("/v3/global_fields/seo", json={"global_field": {"schema": []}})
    assert r.status_code == 422 and "schema" in r.json()["errors"]
    r = cma.put("/v3/content_types/ghost", json=ct("ghost"))
    assert r.status_code == 422 and r.json()["error_code"] == 118
    assert [c["uid"] for c in cma.get("/v3/content_types").json()["content_types"]] == ["page"]


@pytest.mark.solo  # measures latency: runs alone
def test_a_slow_schema_check_holds_up_no_other_write(
    live: Live, owner: User, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a check inside the write would hold the one writer lock. (On PostgreSQL it held
    no lock another write needs, and the check made ahead still runs on a pooled connection.)"""
    # given schema checks that take half a second
    real = content_types.check_schema
    slow = 0.5

    def slow_check(*args: Any) -> Any:
        time.sleep(slow)
        return real(*args)

    monkeypatch.setattr(content_types, "check_schema", slow_check)
    answers: list[int] = []

    def make_content_type() -> None:
        with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
            answers.append(c.post("/v3/content_types", json=ct("blog")).status_code)

    # when a content type is created meanwhile an environment is
    maker = threading.Thread(target=make_content_type)
    maker.start()
    time.sleep(slow / 5)
    with live.client(authtoken=owner.authtoken, api_key=api_key) as c:
        start = time.perf_counter()
        r = c.post("/v3/environments", json={"environment": {"name": "production"}})
        took = time.perf_counter() - start
    maker.join(timeout=30)
    # then the environment did not wait for the check, and both were made
    assert r.status_code == 201, r.text
    assert answers == [201]
    assert took < 0.3 * slow, took
