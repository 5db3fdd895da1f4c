"""`Stack` and `AsyncStack`: the delivery SDK's entry points (the official `contentstack.Stack`'s
shape: `Stack(api_key, delivery_token, environment, host=...)`).

Every call answers the parsed JSON body (a dict), as the official SDK's do, but an error answer
raises its `stackyard.errors` class (`NotFound` for 422/141, `RateLimited`, ...) instead of coming
back as data. 408, 429 and 5xx answers are retried (`max_retries`, default 5), waiting what
`Retry-After` says. `host` may carry a scheme: `http://localhost:8080` works, while a bare
`localhost:8743` means HTTPS, as in the official SDK.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx

from .._http import AsyncTransport, Config, Request, SyncTransport
from .query import Asset, AssetQuery, ContentType, GlobalField

DEFAULT_HOST = "cdn.contentstack.io"
SYNC_TYPES = (
    "entry_published",
    "entry_unpublished",
    "entry_deleted",
    "asset_published",
    "asset_unpublished",
    "asset_deleted",
    "content_type_deleted",
)


def endpoint(host: str | None, version: str = "v3") -> str:
    """The API root for `host`: a URL as given, a bare host over https; default $STACKYARD_URL.

    >>> endpoint("http://localhost:8080")
    'http://localhost:8080/v3/'
    >>> endpoint("localhost:8743")
    'https://localhost:8743/v3/'
    """
    host = host or os.environ.get("STACKYARD_URL") or DEFAULT_HOST
    root = host.rstrip("/") if "://" in host else "https://" + host.rstrip("/")
    return root + "/" if root.endswith("/" + version) else f"{root}/{version}/"


class ImageTransform:
    """An image URL with Image Delivery parameters: `stack.image_transform(url, width=100).get_url()`."""

    def __init__(self, url: str, params: dict[str, Any] | None = None, **more: Any) -> None:
        if not url:
            raise ValueError("image_transform needs the image URL")
        self.url = url
        self.params = {**(params or {}), **more}

    def get_url(self) -> str:
        if not self.params:
            return self.url
        sep = "&" if "?" in self.url else "?"
        return self.url + sep + urlencode({k: str(v) for k, v in self.params.items()}, safe=",:")


class _Base:
    _transport: Any

    def __init__(
        self,
        api_key: str,
        delivery_token: str,
        environment: str,
        host: str | None,
        *,
        branch: str | None,
        version: str,
        timeout: float,
        max_retries: int,
        verify: Any,
        headers: dict[str, str] | None,
    ) -> None:
        if not api_key or not delivery_token or not environment:
            raise PermissionError("api_key, delivery_token and environment are all required")
        self.api_key, self.delivery_token, self.environment_name = api_key, delivery_token, environment
        self.branch = branch
        sent = {
            "api_key": api_key,
            "access_token": delivery_token,
            "environment": environment,
            **(headers or {}),
        }
        if branch:
            sent["branch"] = branch
        self._config = Config(
            base_url=endpoint(host, version),
            headers=sent,
            timeout=timeout,
            max_retries=max_retries,
            verify=verify,
        )

    @property
    def endpoint(self) -> str:
        return self._config.base_url

    def content_type(self, uid: str | None = None) -> ContentType:
        """A content type (fetch, entry, query), or all of them (find)."""
        return ContentType(self, uid)

    def global_field(self, uid: str | None = None) -> GlobalField:
        return GlobalField(self, uid)

    def asset(self, uid: str) -> Asset:
        return Asset(self, uid)

    def asset_query(self) -> AssetQuery:
        return AssetQuery(self)

    def image_transform(
        self, image_url: str, params: dict[str, Any] | None = None, **kwargs: Any
    ) -> ImageTransform:
        return ImageTransform(image_url, params, **kwargs)

    def _sync_request(self, params: list[tuple[str, str]]) -> Request:
        return Request("GET", "stacks/sync", params=(*params, ("environment", self.environment_name)))

    def _init_params(
        self,
        content_type_uid: str | None,
        from_date: str | None,
        locale: str | None,
        publish_type: str | list[str] | None,
    ) -> list[tuple[str, str]]:
        out = [("init", "true")]
        if content_type_uid:
            out.append(("content_type_uid", content_type_uid))
        if from_date:
            out.append(("start_from", from_date))
        if locale:
            out.append(("locale", locale))
        if publish_type:
            types = [publish_type] if isinstance(publish_type, str) else list(publish_type)
            out.append(("type", ",".join(types)))
        return out

    def _call(self, req: Request) -> Any:
        raise NotImplementedError

    def _pages(self, req: Request, key: str, page_size: int) -> Any:
        raise NotImplementedError


class Stack(_Base):
    """The blocking delivery client.

    >>> stack = Stack("blt...", "cs...", "production", host="http://127.0.0.1:8080")  # doctest: +SKIP
    >>> stack.content_type("article").entry("blt1").fetch()["entry"]["title"]      # doctest: +SKIP
    """

    def __init__(
        self,
        api_key: str,
        delivery_token: str,
        environment: str,
        host: str | None = None,
        version: str = "v3",
        timeout: float = 30.0,
        *,
        branch: str | None = None,
        max_retries: int = 5,
        verify: Any = True,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        **_ignored: Any,
    ) -> None:
        super().__init__(
            api_key, delivery_token, environment, host, branch=branch, version=version, timeout=timeout,
            max_retries=max_retries, verify=verify, headers=headers,
        )  # fmt: skip
        self._transport = SyncTransport(self._config, transport)

    def _call(self, req: Request) -> Any:
        return self._transport.send(req).json()

    def _pages(self, req: Request, key: str, page_size: int) -> Iterator[Any]:
        return self._transport.paginate(req, key, page_size)

    def sync_init(
        self,
        content_type_uid: str | None = None,
        from_date: str | None = None,
        locale: str | None = None,
        publish_type: str | list[str] | None = None,
    ) -> Any:
        """The first page of everything published (filters persist in the tokens)."""
        return self._call(
            self._sync_request(self._init_params(content_type_uid, from_date, locale, publish_type))
        )

    def pagination(self, pagination_token: str) -> Any:
        return self._call(self._sync_request([("pagination_token", pagination_token)]))

    def sync_token(self, sync_token: str) -> Any:
        return self._call(self._sync_request([("sync_token", sync_token)]))

    def sync(self, sync_token: str | None = None, **init: Any) -> tuple[list[dict[str, Any]], str]:
        """Every item of an init (or of the changes since `sync_token`), all pages followed; answers
        (items, the sync token to pass next time)."""
        body = self.sync_token(sync_token) if sync_token else self.sync_init(**init)
        items = list(body.get("items") or [])
        while "pagination_token" in body:
            body = self.pagination(body["pagination_token"])
            items += body.get("items") or []
        return items, str(body["sync_token"])

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStack(_Base):
    """The async twin of `Stack`: every call is awaited, `Query.iter()` is an async iterator."""

    def __init__(
        self,
        api_key: str,
        delivery_token: str,
        environment: str,
        host: str | None = None,
        version: str = "v3",
        timeout: float = 30.0,
        *,
        branch: str | None = None,
        max_retries: int = 5,
        verify: Any = True,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            api_key, delivery_token, environment, host, branch=branch, version=version, timeout=timeout,
            max_retries=max_retries, verify=verify, headers=headers,
        )  # fmt: skip
        self._transport = AsyncTransport(self._config, transport)

    async def _call(self, req: Request) -> Any:
        return (await self._transport.send(req)).json()

    def _pages(self, req: Request, key: str, page_size: int) -> AsyncIterator[Any]:
        return self._transport.paginate(req, key, page_size)

    async def sync_init(
        self,
        content_type_uid: str | None = None,
        from_date: str | None = None,
        locale: str | None = None,
        publish_type: str | list[str] | None = None,
    ) -> Any:
        return await self._call(
            self._sync_request(self._init_params(content_type_uid, from_date, locale, publish_type))
        )

    async def pagination(self, pagination_token: str) -> Any:
        return await self._call(self._sync_request([("pagination_token", pagination_token)]))

    async def sync_token(self, sync_token: str) -> Any:
        return await self._call(self._sync_request([("sync_token", sync_token)]))

    async def sync(self, sync_token: str | None = None, **init: Any) -> tuple[list[dict[str, Any]], str]:
        body = await (self.sync_token(sync_token) if sync_token else self.sync_init(**init))
        items = list(body.get("items") or [])
        while "pagination_token" in body:
            body = await self.pagination(body["pagination_token"])
            items += body.get("items") or []
        return items, str(body["sync_token"])

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncStack:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
