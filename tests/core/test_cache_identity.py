"""Sessions, stack rows and organization roles in the per-process cache (`core.cache`): every change
that ends a session or changes a caller's standing is seen by the very next request of another
process (a second handle on the database, with its own cache), on both engines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stackyard.access.resolve import authenticate, stack_access
from stackyard.core import cache
from stackyard.errors import PreconditionFailed, Unauthorized
from stackyard.store.engine import Database, Tx
from tests.access.helpers import member
from tests.conftest import Live, ServeFactory, User, make_user
from tests.core.conftest import through
from tests.identity.conftest import mailed_token


def _login(live: Live, user: User) -> str:
    with live.client() as c:
        r = c.post("/v3/user-session", json={"user": {"email": user.email, "password": user.password}})
        assert r.status_code == 200, r.text
        return str(r.json()["user"]["authtoken"])


def _user_of(handle: Database, authtoken: str) -> str:
    return str(through(handle, lambda tx: authenticate(tx, {"authtoken": authtoken}).user_uid))


def _cached_twice(handle: Database, fn: Callable[[], Any]) -> Any:
    """`fn()`, asserting that its second call was answered from `handle`'s cache."""
    first = fn()
    hits = cache.of(handle).hits
    assert fn() == first
    assert cache.of(handle).hits > hits
    return first


def test_a_logout_ends_the_session_in_another_process_at_once(
    live: Live, owner: User, other: Database
) -> None:
    # given two sessions of one user, both cached by the second handle
    second = _login(live, owner)
    for token in (owner.authtoken, second):
        assert _cached_twice(other, lambda t=token: _user_of(other, t)) == owner.uid
    # when one of them logs out through the first
    with live.client(authtoken=second) as c:
        assert c.delete("/v3/user-session").status_code == 200
    # then the second handle refuses it on its very next lookup, and keeps the other
    with pytest.raises(Unauthorized):
        _user_of(other, second)
    assert _user_of(other, owner.authtoken) == owner.uid


def test_a_password_reset_ends_every_session_in_another_process_at_once(
    live: Live, owner: User, other: Database
) -> None:
    # given a session cached by the second handle
    assert _cached_twice(other, lambda: _user_of(other, owner.authtoken)) == owner.uid
    # when the password is reset with a mailed token through the first
    new = "brand new password"
    with live.client() as c:
        assert c.post("/v3/user/forgot_password", json={"user": {"email": owner.email}}).status_code == 200
        token = mailed_token(live.db, owner.email, "rst")
        body = {"reset_password_token": token, "password": new, "password_confirmation": new}
        assert c.post("/v3/user/reset_password", json={"user": body}).status_code == 200
    # then the second handle refuses the old session at once
    with pytest.raises(Unauthorized):
        _user_of(other, owner.authtoken)
    # and a session opened with the new password works there
    fresh = _login(live, User(owner.uid, owner.email, new, "", owner.org_uid))
    assert _user_of(other, fresh) == owner.uid


def _level(handle: Database, user: User, api_key: str) -> str:
    def read(tx: Tx) -> str:
        return stack_access(tx, authenticate(tx, {"authtoken": user.authtoken}), api_key).level

    return str(through(handle, read))


def test_an_organization_ownership_transfer_reaches_another_process_at_once(
    live: Live, cma: httpx.Client, owner: User, api_key: str, other: Database
) -> None:
    # given a developer of the stack (a member of its organization), as the second handle sees them
    dev = member(live, cma, "dev@example.com", "Developer")
    assert _cached_twice(other, lambda: _level(other, dev, api_key)) == "developer"
    # when the organization's owner hands the organization over to them
    with live.client(authtoken=owner.authtoken) as c:
        r = c.post(f"/v3/organizations/{owner.org_uid}/transfer-ownership", json={"transfer_to": dev.email})
        assert r.status_code == 200, r.text
    # then the second handle sees them as an owner at once
    assert _level(other, dev, api_key) == "owner"


def test_stack_changes_reach_another_process_at_once(
    live: Live, cma: httpx.Client, owner: User, api_key: str, other: Database
) -> None:
    def name() -> str:
        def read(tx: Tx) -> str:
            return str(
                stack_access(tx, authenticate(tx, {"authtoken": owner.authtoken}), api_key).stack["name"]
            )

        return str(through(other, read))

    # given the stack row, cached by the second handle
    assert _cached_twice(other, name) == "Test stack"
    # when the stack is renamed, then the second handle has the new name at once
    assert cma.put("/v3/stacks", json={"stack": {"name": "Renamed"}}).status_code == 200
    assert name() == "Renamed"
    # and when it is deleted, the second handle no longer finds it
    assert _cached_twice(other, name) == "Renamed"
    assert cma.delete("/v3/stacks").status_code == 200
    with pytest.raises(PreconditionFailed):
        name()


def test_sessions_expire_in_the_cache_as_in_the_table(serve: ServeFactory, other: Database) -> None:
    # given a session with a lifetime of a second, cached by the second handle
    live = serve(session_ttl_seconds=1)
    user = make_user(live, "brief@example.com")
    assert _cached_twice(other, lambda: _user_of(other, user.authtoken)) == user.uid
    # when its time runs out (no event: nobody changed anything)
    time.sleep(2.1)
    # then the cached copy is refused: its expiry is part of what is cached
    with pytest.raises(Unauthorized):
        _user_of(other, user.authtoken)
