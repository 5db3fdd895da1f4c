"""`Client` and `AsyncClient`: one base holding the configuration, two transports.

    >>> from stackyard.client.management import Client
    >>> client = Client(base_url="http://127.0.0.1:8080")            # doctest: +SKIP
    >>> client.login("ada@example.com", "secret")                      # doctest: +SKIP
    >>> client.stack("blt1").environments().find().json()             # doctest: +SKIP

Where the server is, in order: `base_url=` (scheme, host, port), `host=` with `scheme=` (the
official SDK's arguments, including its region rule), `$STACKYARD_URL`, then
http://127.0.0.1:8080, the address `stackyard serve` listens on.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from .._http import AsyncTransport, Config, Request, Response, Session, SyncTransport, Transport
from .._path import segment
from ._totp import totp
from .organizations import Organization
from .stack import Stack
from .user import User

R = TypeVar("R")
It = TypeVar("It")

DEFAULT_URL = "http://127.0.0.1:8080"


def endpoint(base_url: str | None, host: str | None, scheme: str, region: str | None, version: str) -> str:
    """The API root, ending in `/{version}/` (resource paths are appended without a slash).

    >>> endpoint(None, "localhost:8080", "http://", "us", "v3")
    'http://localhost:8080/v3/'
    """
    if base_url:
        root = base_url.rstrip("/")
        if "://" not in root:
            root = (scheme if "://" in scheme else scheme + "://") + root
        return root + "/" if root.endswith("/" + version) else f"{root}/{version}/"
    if host:
        scheme = scheme if "://" in scheme else scheme + "://"
        host = host.split("://", 1)[-1].rstrip("/")
        if region and region.lower() not in ("us", "na", "aws-na"):
            host = f"{region.lower()}-api.{host.removeprefix('api.')}"
        return f"{scheme}{host}/{version}/"
    return endpoint(os.environ.get("STACKYARD_URL") or DEFAULT_URL, None, scheme, None, version)


class _Base(Generic[R, It]):
    """What both clients share: configuration, credentials and the resource factories."""

    _transport: Transport[R, It]

    @staticmethod
    def _config(
        *,
        host: str | None,
        scheme: str,
        authtoken: str | None,
        management_token: str | None,
        headers: Mapping[str, str] | None,
        timeout: float,
        max_retries: int,
        base_url: str | None,
        region: str | None,
        version: str,
        early_access: list[str] | None,
        verify: Any,
    ) -> Config:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        extra = dict(headers or {})
        if early_access:
            extra["x-header-ea"] = ", ".join(early_access)
        return Config(
            base_url=endpoint(base_url, host, scheme, region, version),
            headers=extra,
            timeout=timeout,
            max_retries=max_retries,
            verify=verify,
            session=Session(authtoken=authtoken, management_token=management_token),
        )

    @property
    def endpoint(self) -> str:
        """The API root this client talks to, e.g. `http://127.0.0.1:8080/v3/`."""
        return self._transport.config.base_url

    @property
    def authtoken(self) -> str | None:
        """The session token in use (set by `login`, cleared by `logout`)."""
        return self._transport.config.session.authtoken

    def _login_request(
        self, email: str, password: str, tfa_token: str | None, mfa_secret: str | None
    ) -> Request:
        if not email or not password:
            raise ValueError("email and password are required")
        secret = mfa_secret or (os.environ.get("MFA_SECRET") if tfa_token is None else None)
        user: dict[str, Any] = {"email": email, "password": password}
        if tfa_token is None and secret:
            tfa_token = totp(secret)
        if tfa_token is not None:
            user["tfa_token"] = str(tfa_token)
        return Request("POST", "user-session", json={"user": user})

    def _remember(self, response: Response) -> None:
        if response.status_code == 200:
            token = (response.json().get("user") or {}).get("authtoken")
            if isinstance(token, str) and token:
                self._transport.config.session.authtoken = token

    def user(self) -> User[R, It]:
        """The signed-in user.

        >>> client.user().fetch().json()["user"]  # doctest: +SKIP
        """
        return User(self._transport)

    def organizations(self, organization_uid: str | None = None) -> Organization[R, It]:
        """Organizations, or one by uid.

        >>> client.organizations().find().json()["organizations"]  # doctest: +SKIP
        """
        return Organization(self._transport, organization_uid)

    def stack(self, api_key: str | None = None) -> Stack[R, It]:
        """A stack by its api_key (or none, to list or create stacks).

        >>> client.stack("blt1").fetch().json()["stack"]  # doctest: +SKIP
        """
        return Stack(self._transport, api_key)


class Client(_Base[Response, Iterator[Any]]):
    """The blocking management client; every call answers a `Response` or raises an `APIError`.

    Arguments follow the official SDK (`host`, `scheme`, `authtoken`, `management_token`, `headers`,
    `region`, `version`, `timeout`, `max_retries`, `early_access`; `oauth_config` is accepted and
    ignored), plus `base_url` ("http://127.0.0.1:8080"), `verify` (TLS) and `transport` (an httpx
    transport, for tests or proxies). Retries (`max_retries`, default 3) cover 408/409/429/5xx and
    connection errors; `timeout` is per request, in seconds.

    >>> Client(base_url="http://127.0.0.1:8080", authtoken="blt...").user().fetch().json()  # doctest: +SKIP
    """

    def __init__(
        self,
        host: str | None = None,
        scheme: str = "https://",
        authtoken: str | None = None,
        management_token: str | None = None,
        headers: Mapping[str, str] | None = None,
        region: str | None = "us",
        version: str = "v3",
        timeout: float = 30.0,
        max_retries: int = 3,
        early_access: list[str] | None = None,
        *,
        base_url: str | None = None,
        verify: Any = True,
        transport: httpx.BaseTransport | None = None,
        oauth_config: Any = None,
    ) -> None:
        config = self._config(
            host=host, scheme=scheme, authtoken=authtoken, management_token=management_token, headers=headers,
            timeout=timeout, max_retries=max_retries, base_url=base_url, region=region, version=version,
            early_access=early_access, verify=verify,
        )  # fmt: skip
        self._transport: SyncTransport = SyncTransport(config, transport)

    def login(
        self, email: str, password: str, tfa_token: str | None = None, mfa_secret: str | None = None
    ) -> Response:
        """Sign in; on 200 the client keeps the authtoken for later calls. `mfa_secret` makes the TOTP.

        >>> client.login("ada@example.com", "secret").json()["user"]["authtoken"]  # doctest: +SKIP
        """
        response = self._transport.send(self._login_request(email, password, tfa_token, mfa_secret))
        self._remember(response)
        return response

    def logout(self) -> Response:
        """End the session on the server and forget the authtoken.

        >>> client.logout().json()["notice"]  # doctest: +SKIP
        """
        response = self._transport.send(Request("DELETE", "user-session"))
        self._transport.config.session.authtoken = None
        return response

    def close(self) -> None:
        """Close the connection pool.

        >>> client.close()  # doctest: +SKIP
        """
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class AsyncClient(_Base[Coroutine[Any, Any, Response], AsyncIterator[Any]]):
    """The asyncio client: the same calls as `Client`, each to be awaited; `iterate()` is `async for`.

    >>> await AsyncClient(base_url="http://127.0.0.1:8080", authtoken="blt...").user().fetch()  # doctest: +SKIP
    """

    def __init__(
        self,
        host: str | None = None,
        scheme: str = "https://",
        authtoken: str | None = None,
        management_token: str | None = None,
        headers: Mapping[str, str] | None = None,
        region: str | None = "us",
        version: str = "v3",
        timeout: float = 30.0,
        max_retries: int = 3,
        early_access: list[str] | None = None,
        *,
        base_url: str | None = None,
        verify: Any = True,
        transport: httpx.AsyncBaseTransport | None = None,
        oauth_config: Any = None,
    ) -> None:
        config = self._config(
            host=host, scheme=scheme, authtoken=authtoken, management_token=management_token, headers=headers,
            timeout=timeout, max_retries=max_retries, base_url=base_url, region=region, version=version,
            early_access=early_access, verify=verify,
        )  # fmt: skip
        self._transport: AsyncTransport = AsyncTransport(config, transport)

    async def login(
        self, email: str, password: str, tfa_token: str | None = None, mfa_secret: str | None = None
    ) -> Response:
        """Sign in; on 200 the client keeps the authtoken for later calls.

        >>> await client.login("ada@example.com", "secret")  # doctest: +SKIP
        """
        response = await self._transport.send(self._login_request(email, password, tfa_token, mfa_secret))
        self._remember(response)
        return response

    async def logout(self) -> Response:
        """End the session on the server and forget the authtoken.

        >>> await client.logout()  # doctest: +SKIP
        """
        response = await self._transport.send(Request("DELETE", "user-session"))
        self._transport.config.session.authtoken = None
        return response

    async def aclose(self) -> None:
        """Close the connection pool.

        >>> await client.aclose()  # doctest: +SKIP
        """
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()


__all__ = ["AsyncClient", "Client", "segment"]
