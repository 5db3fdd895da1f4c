"""The async client against the live server: the same calls, awaited; iterate() is `async for`."""

from __future__ import annotations

import asyncio

import pytest

from stackyard.client.management import AsyncClient, NotFound, Unauthorized
from tests.conftest import Live, User


def test_async_session_and_stack_calls(live: Live, owner: User, api_key: str) -> None:
    async def main() -> None:
        async with AsyncClient(base_url=live.url, max_retries=0) as client:
            # given a signed-in async client
            r = await client.login(owner.email, owner.password)
            assert r.status_code == 200 and client.authtoken
            assert (await client.user().fetch()).json()["user"]["email"] == owner.email
            # when environments are made concurrently
            envs = client.stack(api_key).environments
            created = await asyncio.gather(
                *(envs().create({"environment": {"name": f"env{i}"}}) for i in range(4))
            )
            assert {c.status_code for c in created} == {201}
            # then they are all listed, page by page
            names = [e["name"] async for e in envs().iterate(page_size=3)]
            assert sorted(names) == ["env0", "env1", "env2", "env3"]
            assert (await envs("env0").fetch()).json()["environment"]["name"] == "env0"
            await envs("env0").delete()
            with pytest.raises(NotFound):
                await envs("env0").fetch()
            # and logout ends the session
            token = client.authtoken
            await client.logout()
        async with AsyncClient(base_url=live.url, authtoken=token, max_retries=0) as stale:
            with pytest.raises(Unauthorized):
                await stale.user().fetch()

    asyncio.run(main())
