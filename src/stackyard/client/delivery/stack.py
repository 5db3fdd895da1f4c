"""`Stack` and `AsyncStack`: the delivery SDK's entry points (the official `contentstack.Stack`'s
shape: `Stack(api_key, delivery_token, environment, host=...)`).

Every call answers the parsed JSON body (a dict), as the official SDK's do, but an error answer
raises its `stackyard.errors` class (`NotFound` for 422/141, `RateLimited`, ...) instead of coming
back as data. 408, 429 and 5xx answers are retried (`max_retries`, default 5), waiting what
`Retry-After` says. `host` may carry a scheme: `http://localhost:8080` works, while a bare
`localhost:8743` means HTTPS, as in the official SDK.

Live preview works as in the official SDK, answering the draft itself instead of merging it:

    stack = Stack(api_key, token, "production", host=..., live_preview={"enable": True, "preview_token": "cs..."})
    stack.live_preview_query(live_preview_query={"live_preview": hash, "content_type_uid": "article",
                                                 "entry_uid": "blt1"})   # optional release_id, preview_timestamp
    stack.content_type("article").entry("blt1").fetch()   # the draft
    stack.content_type("article").query().find()          # published entries, that one as its draft

(`management_token` in place of `preview_token` sends it in `authorization`.) The preview goes to
the stack's own host: Stackyard serves live preview on the delivery host.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx

from .._http import AsyncTransport, Config, Request, SyncTransport
from .._path import segment
from .query import Asset, AssetQuery, ContentType, GlobalField

DEFAULT_HOST = "cdn.contentstack.io"
# What a query's preview of one entry keeps of the query's parameters.
_ENTRY_PARAMS = {
    "environment", "locale", "include_fallback", "include_branch", "include[]", "include_content_type",
    "include_global_field_schema", "include_reference_content_type_uid", "include_metadata",
    "include_embedded_items[]",
}  # fmt: skip
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


def _with_draft(body: Any, draft: dict[str, Any]) -> Any:
    """A query's answer with the previewed entry's draft in place of its published copy."""
    entries = body.get("entries") if isinstance(body, dict) else None
    if isinstance(entries, list):
        body["entries"] = [draft if e.get("uid") == draft.get("uid") else e for e in entries]
    return body


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
        live_preview: dict[str, Any] | None = None,
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
        self.live_preview: dict[str, Any] | None = dict(live_preview) if live_preview else None

    @property
    def endpoint(self) -> str:
        return self._config.base_url

    def live_preview_query(self, live_preview_query: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Preview the entry `live_preview_query` names (`live_preview` hash, `content_type_uid`,
        `entry_uid`, optional `release_id`, `preview_timestamp`); live preview must be enabled."""
        query = live_preview_query if live_preview_query is not None else kwargs
        if self.live_preview is None or not self.live_preview.get("enable"):
            raise ValueError("live preview is not enabled: Stack(..., live_preview={'enable': True, ...})")
        if not (self.live_preview.get("preview_token") or self.live_preview.get("management_token")):
            raise ValueError("live preview needs a preview_token or a management_token")
        self.live_preview.update(query)
        self.live_preview.setdefault("live_preview", "init")
        return self

    def _preview_of(self, content_type_uid: str, entry_uid: str | None, req: Request) -> Request | None:
        """`req` as the preview of the draft (None when live preview names no such entry)."""
        lp = self.live_preview
        if not lp or not lp.get("enable") or lp.get("content_type_uid") != content_type_uid:
            return None
        uid = lp.get("entry_uid")
        if not uid or (entry_uid is not None and entry_uid != uid):
            return None
        headers = [("preview_token", str(lp["preview_token"]))] if lp.get("preview_token") else []
        if lp.get("management_token"):
            headers = [("authorization", str(lp["management_token"]))]
        headers += [(k, str(lp[k])) for k in ("release_id", "preview_timestamp") if lp.get(k)]
        path = req.path if entry_uid is not None else f"{req.path}/{segment(uid)}"
        params = tuple((k, v) for k, v in req.params if entry_uid is not None or k in _ENTRY_PARAMS)
        return Request(
            "GET", path, params=(*params, ("live_preview", str(lp["live_preview"]))), headers=tuple(headers)
        )

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

    def _entry(self, content_type_uid: str, uid: str, req: Request) -> Any:
        raise NotImplementedError

    def _entries(self, content_type_uid: str, req: Request) -> Any:
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
        live_preview: dict[str, Any] | None = None,
        **_ignored: Any,
    ) -> None:
        super().__init__(
            api_key, delivery_token, environment, host, branch=branch, version=version, timeout=timeout,
            max_retries=max_retries, verify=verify, headers=headers, live_preview=live_preview,
        )  # fmt: skip
        self._transport = SyncTransport(self._config, transport)

    def _call(self, req: Request) -> Any:
        return self._transport.send(req).json()

    def _entry(self, content_type_uid: str, uid: str, req: Request) -> Any:
        return self._call(self._preview_of(content_type_uid, uid, req) or req)

    def _entries(self, content_type_uid: str, req: Request) -> Any:
        body = self._call(req)
        preview = self._preview_of(content_type_uid, None, req)
        return _with_draft(body, self._call(preview)["entry"]) if preview is not None else body

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
        live_preview: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            api_key, delivery_token, environment, host, branch=branch, version=version, timeout=timeout,
            max_retries=max_retries, verify=verify, headers=headers, live_preview=live_preview,
        )  # fmt: skip
        self._transport = AsyncTransport(self._config, transport)

    async def _call(self, req: Request) -> Any:
        return (await self._transport.send(req)).json()

    async def _entry(self, content_type_uid: str, uid: str, req: Request) -> Any:
        return await self._call(self._preview_of(content_type_uid, uid, req) or req)

    async def _entries(self, content_type_uid: str, req: Request) -> Any:
        body = await self._call(req)
        preview = self._preview_of(content_type_uid, None, req)
        return _with_draft(body, (await self._call(preview))["entry"]) if preview is not None else body

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
