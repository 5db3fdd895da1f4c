"""Requests, responses and the two transports (sync and async) every Stackyard SDK sends through.

A `Request` is a frozen description of one call; resource objects build it and hand it to a
transport. `SyncTransport` and `AsyncTransport` share everything but the `await`s: header merging,
the retry loop (policy in `_retry`), error mapping (`_errors`) and skip/limit pagination.

Header precedence, lowest first: client defaults, the session credential, the resource's own
headers, the call's headers. Each resource holds a private copy, so nothing leaks between calls.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import httpx

from . import _retry
from ._errors import ConnectionFailed, error_code_of, raise_for_status

USER_AGENT = "stackyard-python"

R = TypeVar("R")
It = TypeVar("It")


@dataclass(frozen=True)
class Request:
    """One HTTP call, fully described; `path` is already quoted and has no leading slash."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    json: Any = None
    data: Mapping[str, Any] | None = None
    files: Any = None

    def with_params(self, **params: Any) -> Request:
        """A copy with these query parameters set (replacing any of the same name)."""
        kept = tuple((k, v) for k, v in self.params if k not in params)
        return replace(self, params=kept + encode_params(params))


class Response:
    """A 2xx answer: `.json()`, `.status_code`, `.headers`, `.text`, `.content`.

    >>> client.stack("blt123").fetch().json()["stack"]["name"]  # doctest: +SKIP
    """

    __slots__ = ("content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: httpx.Headers, content: bytes, url: str = "") -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url

    @property
    def ok(self) -> bool:
        """Always True for a response you hold: non-2xx answers are raised as errors."""
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON; `{}` for an empty body (204).

        >>> client.user().fetch().json()["user"]["email"]  # doctest: +SKIP
        """
        return jsonlib.loads(self.content) if self.content else {}

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return jsonlib.dumps(value, separators=(",", ":"))
    return str(value)


def encode_params(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Query parameters as pairs: booleans as `true`/`false`, dicts as JSON, lists repeated, None dropped."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend((key, _text(v)) for v in value)
        else:
            out.append((key, _text(value)))
    return tuple(out)


@dataclass
class Session:
    """The credentials a client sends; `login`/`logout` change them, nothing else does."""

    authtoken: str | None = None
    management_token: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.authtoken:
            out["authtoken"] = self.authtoken
        if self.management_token:
            out["authorization"] = self.management_token
        return out


@dataclass
class Config:
    """Everything a transport needs; made once by the client."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    max_retries: int = 3
    max_wait: float = 60.0
    verify: Any = True
    session: Session = field(default_factory=Session)
    sleep: Callable[[float], Any] | None = None  # tests inject a fake clock


def _prepare(config: Config, req: Request, idempotency_key: str | None) -> dict[str, Any]:
    headers = {"X-User-Agent": USER_AGENT, **config.headers, **config.session.headers()}
    headers.update(dict(req.headers))
    if idempotency_key:
        headers.setdefault("Idempotency-Key", idempotency_key)
    kw: dict[str, Any] = {
        "method": req.method,
        "url": req.path,
        "params": list(req.params),
        "headers": headers,
    }
    if req.files is not None:
        kw["files"] = req.files
        if req.data is not None:
            kw["data"] = dict(req.data)
    elif req.json is not None:
        kw["json"] = req.json
    return kw


# Failures that happen before the request reaches the server: repeating them cannot duplicate a write.
UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _delay(
    config: Config, attempt: int, req: Request, resp: httpx.Response | None, error: Exception | None = None
) -> float | None:
    idempotent = req.method != "POST"
    if resp is None:
        if not idempotent and not isinstance(error, UNSENT):
            return None  # sent, then lost: the server may have acted on it
        return _retry.next_delay(
            attempt, max_retries=config.max_retries, status=None, max_wait=config.max_wait
        )
    return _retry.next_delay(
        attempt,
        max_retries=config.max_retries,
        status=resp.status_code,
        error_code=error_code_of(resp.content) if resp.status_code == 409 else None,
        idempotent=idempotent,
        retry_after=resp.headers.get("retry-after"),
        max_wait=config.max_wait,
    )


def _finish(resp: httpx.Response) -> Response:
    raise_for_status(resp.status_code, resp.headers, resp.content)
    return Response(resp.status_code, resp.headers, resp.content, str(resp.url))


class Pages:
    """Where a skip/limit walk stands, and when it is over (pure: fed page bodies, no I/O).

    It ends on an empty page, or once `count` items were seen when the server sends a count. A short
    page is not proof of the end (a server may cap `limit` below what we asked), so without a count
    we read until a page is empty. A server that ignores paging must not loop us forever: a page
    larger than asked for is taken as the whole list, and a page equal to the previous one ends it.
    """

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.skip = 0
        self.done = False
        self._previous: list[Any] | None = None

    def take(self, body: Any, key: str) -> list[Any]:
        """The new items of one page; sets `done` when no further page should be asked for."""
        items, count = _page(body, key)
        if not items or items == self._previous:
            self.done = True
            return []
        self._previous = items
        self.skip += len(items)
        self.done = len(items) > self.page_size or (count is not None and self.skip >= count)
        return items


def _page(body: Any, key: str) -> tuple[list[Any], int | None]:
    """The items of one page and the total `count`, when the server sent one."""
    if not isinstance(body, dict):
        return [], None
    items, count = body.get(key), body.get("count")
    return (
        items if isinstance(items, list) else [],
        count if isinstance(count, int) and not isinstance(count, bool) else None,
    )


def _page_request(req: Request, skip: int, page_size: int) -> Request:
    return req.with_params(skip=skip, limit=page_size, include_count=True)


class Transport(Generic[R, It]):
    """What resource objects call: `send` one request, or `paginate` a list call."""

    config: Config

    def send(self, req: Request) -> R:
        raise NotImplementedError

    def paginate(self, req: Request, key: str, page_size: int) -> It:
        raise NotImplementedError


def _idempotency_key(req: Request) -> str | None:
    return str(uuid.uuid4()) if req.method == "POST" else None


class SyncTransport(Transport[Response, Iterator[Any]]):
    """Blocking transport over `httpx.Client`."""

    def __init__(self, config: Config, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.http = httpx.Client(
            base_url=config.base_url, timeout=config.timeout, verify=config.verify, transport=transport
        )
        # Code written for the official SDK never closes its client: give the sockets back when the
        # client is collected instead of leaking them until the process ends.
        self._closer = weakref.finalize(self, self.http.close)

    def send(self, req: Request) -> Response:
        key = _idempotency_key(req)
        sleep = self.config.sleep or time.sleep
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self.http.request(**_prepare(self.config, req, key))
            except httpx.TransportError as e:
                wait = _delay(self.config, attempt, req, None, e)
                if wait is None:
                    raise ConnectionFailed(f"{req.method} {req.path}: {e}") from e
                sleep(wait)
                continue
            wait = _delay(self.config, attempt, req, resp) if resp.status_code >= 400 else None
            if wait is None:
                return _finish(resp)
            sleep(wait)

    def paginate(self, req: Request, key: str, page_size: int) -> Iterator[Any]:
        pages = Pages(page_size)
        while True:
            items = pages.take(self.send(_page_request(req, pages.skip, page_size)).json(), key)
            yield from items
            if pages.done:
                return

    def close(self) -> None:
        self._closer()


class AsyncTransport(Transport[Coroutine[Any, Any, Response], AsyncIterator[Any]]):
    """Non-blocking transport over `httpx.AsyncClient`; `send` answers a coroutine."""

    def __init__(self, config: Config, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.http = httpx.AsyncClient(
            base_url=config.base_url, timeout=config.timeout, verify=config.verify, transport=transport
        )

    async def send(self, req: Request) -> Response:
        key = _idempotency_key(req)
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = await self.http.request(**_prepare(self.config, req, key))
            except httpx.TransportError as e:
                wait = _delay(self.config, attempt, req, None, e)
                if wait is None:
                    raise ConnectionFailed(f"{req.method} {req.path}: {e}") from e
                await self._sleep(wait)
                continue
            wait = _delay(self.config, attempt, req, resp) if resp.status_code >= 400 else None
            if wait is None:
                return _finish(resp)
            await self._sleep(wait)

    async def _sleep(self, seconds: float) -> None:
        if self.config.sleep is not None:
            self.config.sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    async def paginate(self, req: Request, key: str, page_size: int) -> AsyncIterator[Any]:
        pages = Pages(page_size)
        while True:
            items = pages.take((await self.send(_page_request(req, pages.skip, page_size))).json(), key)
            for item in items:
                yield item
            if pages.done:
                return

    async def aclose(self) -> None:
        await self.http.aclose()
