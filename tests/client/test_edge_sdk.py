"""The edge SDK against a live server: the seed's calls with only the import line changed, typed
errors, the token renewed after it expired, and errors mapped from StackPath bodies."""

from __future__ import annotations

from typing import Any

import pytest

from stackyard.client.edge import Credentials, Stackpath, error_from_response
from stackyard.errors import NotFound, Unauthorized, UnprocessableEntity
from tests.conftest import Live, User
from tests.edge import certs


@pytest.fixture
def sp(live: Live, owner: User) -> Any:
    creds = Credentials(live.url, owner.authtoken)
    made = creds.create(owner.org_uid, "sdk")
    assert [c["client_id"] for c in creds.list(owner.org_uid)] == [made["client_id"]]
    with Stackpath(made["client_id"], made["client_secret"], base_url=live.url) as client:
        yield client
    creds.close()


def test_the_seed_runs_on_the_sdk(live: Live, owner: User, sp: Any) -> None:
    stack = sp.stacks().create(owner.org_uid, "my-awesome-stack")
    assert [
        s.id for s in sp.stacks().index(filter="name='my-awesome-stack' and status='ACTIVE'")["results"]
    ] == [stack.id]
    one = sp.stacks().get(stack.id)
    site = one.cdnsites().create(domain="cdn.johndoe.com", origin={"hostname": "www.johndoe.com"}, type="CDN")
    assert [
        s.label for s in one.cdnsites().index(filter="label='cdn.johndoe.com' and status='ACTIVE'")["results"]
    ] == ["cdn.johndoe.com"]
    one.cdnsites().get(site.id).disable()
    assert one.cdnsites().get(site.id).enabled is False
    one.cdnsites().get(site.id).enable()
    purge_id = one.purge(
        [
            {
                "url": "https://cdn.johndoe.com/",
                "recursive": True,
                "invalidateOnly": False,
                "purgeAllDynamic": False,
                "headers": [],
                "purgeSelector": [],
            }
        ]
    )
    assert one.purge_status(purge_id) == 1.0
    assert one.metrics().get().series == []
    cert, key = certs.make("cdn.johndoe.com")
    added = one.certificates().add(cert, key)
    assert one.certificates().index()["results"][0].commonName == "cdn.johndoe.com"
    assert site.assign_certificate(added).id == added.id
    one.certificates().pk(added.id).delete()
    one.cdnsites().get(site.id).delete()
    with pytest.raises(NotFound):
        one.cdnsites().get(site.id)


def test_typed_errors_and_a_renewed_token(live: Live, owner: User, sp: Any) -> None:
    stack = sp.stacks().create(owner.org_uid, "s")
    with pytest.raises(UnprocessableEntity) as info:
        stack.cdnsites().create(domain="not a domain", origin={"hostname": "x"})
    assert "domain" in info.value.errors
    with live.db.write() as tx:
        tx.run("UPDATE edge_tokens SET expires_at = '2000-01-01T00:00:00.000Z'")
    assert sp.stacks().get(stack.id).id == stack.id  # logged in again after the 401
    with pytest.raises(ValueError):
        sp.stacks().get("")
    bad = Stackpath("nobody", "nothing", base_url=live.url, max_retries=0)
    with pytest.raises(Exception) as refused:
        bad.stacks().index()
    assert refused.value.status == 400  # type: ignore[attr-defined]


def test_error_bodies_map_to_classes() -> None:
    assert isinstance(error_from_response(401, {}, b'{"code": 16, "message": "no"}'), Unauthorized)
    err = error_from_response(
        422,
        {},
        b'{"code": 3, "message": "bad", "details": [{"fieldViolations": [{"field": "domain", "description": "x"}]}]}',
    )
    assert err.errors == {"domain": ["x"]} and err.error_message == "bad"
