"""The edge SDK against a live server: the seed's calls with only the import line changed, typed
errors, the token renewed after it expired, and errors mapped from StackPath bodies; the same
through the asyncio twins (`AsyncStackpath`, `AsyncCredentials`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stackyard.client.edge import (
    AsyncCredentials,
    AsyncStackpath,
    Credentials,
    Stackpath,
    error_from_response,
)
from stackyard.errors import APIError, NotFound, Unauthorized, UnprocessableEntity
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


def test_the_seed_runs_on_the_async_sdk(live: Live, owner: User) -> None:
    async def main() -> None:
        async with AsyncCredentials(live.url, owner.authtoken) as creds:
            made = await creds.create(owner.org_uid, "async")
            assert [c["client_id"] for c in await creds.list(owner.org_uid)] == [made["client_id"]]
            async with AsyncStackpath(made["client_id"], made["client_secret"], base_url=live.url) as sp:
                stack = await sp.stacks().create(owner.org_uid, "async-stack")
                found = await sp.stacks().index(filter="name='async-stack' and status='ACTIVE'")
                assert [s.id for s in found["results"]] == [stack.id]
                one = await sp.stacks().get(stack.id)
                sites = one.cdnsites()
                created = await asyncio.gather(
                    *(
                        sites.create(domain=f"cdn{i}.johndoe.com", origin={"hostname": "www.johndoe.com"})
                        for i in range(3)
                    )
                )
                listed = await sites.index(filter="label='cdn1.johndoe.com'")
                assert [s.label for s in listed["results"]] == ["cdn1.johndoe.com"]
                site = await sites.get(created[0].id)
                assert (await site.disable()) is site
                assert (await sites.get(site.id)).enabled is False
                await site.enable()
                assert await site.targets()
                purge_id = await one.purge([{"url": "https://cdn0.johndoe.com/", "recursive": True}])
                assert await one.purge_status(purge_id) == 1.0
                assert (await one.metrics().get()).series == []
                cert, key = certs.make("cdn0.johndoe.com")
                added = await one.certificates().add(cert, key)
                assert (await site.assign_certificate(added)).id == added.id
                await (await one.certificates().get(added.id)).delete()
                await site.delete()
                with pytest.raises(NotFound):
                    await sites.get(site.id)
                with pytest.raises(UnprocessableEntity) as info:
                    await sites.create(domain="not a domain", origin={"hostname": "x"})
                assert "domain" in info.value.errors
                with live.db.write() as tx:
                    tx.run("UPDATE edge_tokens SET expires_at = '2000-01-01T00:00:00.000Z'")
                assert (await sp.stacks().get(stack.id)).id == stack.id  # logged in again after the 401
            await creds.revoke(owner.org_uid, made["client_id"])
            assert [c["revoked_at"] is not None for c in await creds.list(owner.org_uid)] == [True]
            refused = AsyncStackpath(
                made["client_id"], made["client_secret"], base_url=live.url, max_retries=0
            )
            with pytest.raises(APIError) as info:
                await refused.stacks().index()
            assert info.value.status == 400
            await refused.aclose()

    asyncio.run(main())
