"""The edge SDK: StackPath's API with pystackpath's call shapes (reference/000_*.txt), typed errors
and retries. The seed's examples run with only the import line changed:

    from stackyard.client.edge import Stackpath

    sp = Stackpath(client_id, client_secret, base_url="http://127.0.0.1:8080")
    stacks = sp.stacks().index(filter="name='my-awesome-stack' and status='ACTIVE'")
    stack = sp.stacks().get(stack_id)
    site = stack.cdnsites().create(domain="cdn.example.com", origin={"hostname": "www.example.com"})
    purge_id = stack.purge([{"url": "https://cdn.example.com/", "recursive": True}])
    stack.purge_status(purge_id)   # 0.0 .. 1.0

`AsyncStackpath` is the asyncio twin: the same objects and calls, each awaited:

    async with AsyncStackpath(client_id, client_secret, base_url=url) as sp:
        stack = await sp.stacks().get(stack_id)
        await (await stack.cdnsites().get(site_id)).disable()

`base_url` defaults to $STACKYARD_EDGE_URL, else $STACKYARD_URL, else http://127.0.0.1:8080.
Errors are `stackyard.errors` classes (`NotFound`, `Unauthorized`, `UnprocessableEntity`...).
`Credentials(base_url, authtoken)` (`AsyncCredentials`) manages an organization's API credentials
(owners and admins).
"""

from __future__ import annotations

import os
from typing import Any

from stackyard.client.edge._transport import AsyncSession, Session, error_from_response
from stackyard.client.edge.resources import (
    AsyncCredentials,
    CdnSite,
    Certificate,
    Credentials,
    Obj,
    PageInfo,
    Stack,
    Stacks,
)

__all__ = [
    "AsyncCredentials",
    "AsyncStackpath",
    "CdnSite",
    "Certificate",
    "Credentials",
    "Obj",
    "PageInfo",
    "Stack",
    "Stackpath",
    "Stacks",
    "default_url",
    "error_from_response",
]


def default_url() -> str:
    return os.environ.get("STACKYARD_EDGE_URL") or os.environ.get("STACKYARD_URL") or "http://127.0.0.1:8080"


class _Client:
    """What both clients are: a session for one API credential, and the stacks it reaches."""

    _session: type[Session] | type[AsyncSession] = Session

    def __init__(
        self,
        clientid: str,
        apisecret: str,
        custom_hooks: list[Any] | None = None,
        *,
        base_url: str | None = None,
        **options: Any,
    ) -> None:
        self.client: Any = self._session(base_url or default_url(), clientid, apisecret, **options)

    def stacks(self) -> Stacks:
        """Stacks of the credential's account: `.index()`, `.get(id)`, `.create(account_id, name)`."""
        return Stacks(self.client)


class Stackpath(_Client):
    """A client for one API credential.

    >>> Stackpath("0" * 32, "1" * 64).stacks()  # doctest: +SKIP
    """

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Stackpath:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStackpath(_Client):
    """`Stackpath` for asyncio: the same objects, every call awaited (`await sp.stacks().index()`).

    >>> async with AsyncStackpath("0" * 32, "1" * 64) as sp: ...  # doctest: +SKIP
    """

    _session = AsyncSession

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> AsyncStackpath:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
