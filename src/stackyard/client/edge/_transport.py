"""The edge SDK's HTTP sessions (`Session`, and `AsyncSession` for asyncio): a client-credentials
bearer token fetched on first use and renewed once on a 401, retries by the shared policy
(`client._retry`), and one mapping of a StackPath error body (`{"code", "message", "details"}`)
to the shared error classes. Resource objects hand each call a `parse` for its body, so one set of
them serves both sessions: the sync one answers the parsed value, the async one an awaitable of it."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from stackyard.client import _retry
from stackyard.client._errors import ConnectionFailed
from stackyard.errors import APIError, RateLimited, class_for_status

UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
TOKEN_PATH = "/identity/v1/oauth2/token"


def error_from_response(status: int, headers: Any, content: bytes) -> APIError:
    """A StackPath error body as the shared exception (`NotFound`, `Unauthorized`...).

    >>> error_from_response(404, {}, b'{"code": 5, "message": "Stack was not found."}').status
    404
    """
    try:
        body = json.loads(content) if content else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = body.get("message") if isinstance(body.get("message"), str) else f"HTTP {status}"
    errors: dict[str, list[str]] = {}
    for detail in body.get("details") or []:
        if isinstance(detail, dict):
            for v in detail.get("fieldViolations") or []:
                if isinstance(v, dict):
                    errors.setdefault(str(v.get("field")), []).append(str(v.get("description")))
    cls = class_for_status(status)
    extra = {"grpc_code": body.get("code")}
    if cls is RateLimited:
        wait = _retry.parse_retry_after(headers.get("retry-after") if headers is not None else None)
        return RateLimited(message, retry_after=wait or 1.0, errors=errors, status=status, extra=extra)
    return cls(message, errors=errors, status=status, extra=extra)


Parse = Callable[[Any], Any]


def _body(body: Any) -> Any:
    return body


class _Base:
    """What both sessions share: the credentials, the headers, and each answer's fate (the value,
    a retry after a delay, or an error); the sync and async sessions differ only in their I/O."""

    def __init__(
        self,
        client_id: str = "",
        client_secret: str = "",
        *,
        authtoken: str | None = None,
        max_retries: int = 3,
    ) -> None:
        self.client_id, self.client_secret, self.authtoken = client_id, client_secret, authtoken
        self.max_retries = max_retries
        self.token = ""

    def _login_body(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    def _needs_login(self, auth: bool) -> bool:
        return auth and not self.authtoken and not self.token

    def _headers(self, method: str, auth: bool) -> dict[str, str]:
        headers = {}
        if auth:
            headers = (
                {"authtoken": self.authtoken} if self.authtoken else {"Authorization": f"Bearer {self.token}"}
            )
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        return headers

    def _relogin(self, e: APIError) -> bool:
        """After a 401: log in again (once) when the token may have expired."""
        if e.status != 401 or self.authtoken or not self.client_id:
            return False
        self.token = ""
        return True

    def _failed(self, attempt: int, method: str, path: str, e: httpx.HTTPError) -> float:
        """The delay before trying again after a transport error, or ConnectionFailed."""
        delay = None
        if method != "POST" or isinstance(e, UNSENT):
            delay = _retry.next_delay(attempt, max_retries=self.max_retries, status=None)
        if delay is None:
            raise ConnectionFailed(f"{method} {path}: {e}") from e
        return delay

    def _answered(self, attempt: int, method: str, r: httpx.Response) -> float | None:
        """None when `r` is the answer (raised as an error when it is one), else the retry delay."""
        if r.status_code < 400:
            return None
        delay = _retry.next_delay(
            attempt,
            max_retries=self.max_retries,
            status=r.status_code,
            idempotent=method != "POST",
            retry_after=r.headers.get("retry-after"),
        )
        if delay is None:
            raise error_from_response(r.status_code, r.headers, r.content)
        return delay


class Session(_Base):
    """One client's connection: `request(method, path, json=..., params=..., parse=...)` answers
    `parse(decoded body)` (the body itself by default)."""

    def __init__(
        self,
        base_url: str,
        client_id: str = "",
        client_secret: str = "",
        *,
        authtoken: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        sleep: Callable[[float], Any] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(client_id, client_secret, authtoken=authtoken, max_retries=max_retries)
        self.sleep = sleep
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        parse: Parse = _body,
    ) -> Any:
        try:
            return parse(self._send(method, path, json, params))
        except APIError as e:
            if not self._relogin(e):
                raise
            return parse(self._send(method, path, json, params))

    def _send(
        self, method: str, path: str, json: Any, params: dict[str, Any] | None, *, auth: bool = True
    ) -> Any:
        if self._needs_login(auth):
            self.token = str(
                self._send("POST", TOKEN_PATH, self._login_body(), None, auth=False)["access_token"]
            )
        headers = self._headers(method, auth)
        attempt = 0
        while True:
            attempt += 1
            try:
                r = self.http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as e:
                self.sleep(self._failed(attempt, method, path, e))
                continue
            delay = self._answered(attempt, method, r)
            if delay is None:
                return r.json() if r.content else None
            self.sleep(delay)


class AsyncSession(_Base):
    """`Session` for asyncio: `await session.request(...)`; the same retries, errors and login."""

    def __init__(
        self,
        base_url: str,
        client_id: str = "",
        client_secret: str = "",
        *,
        authtoken: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        sleep: Callable[[float], Any] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(client_id, client_secret, authtoken=authtoken, max_retries=max_retries)
        self.sleep = sleep
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: dict[str, Any] | None = None,
        parse: Parse = _body,
    ) -> Any:
        try:
            return parse(await self._send(method, path, json, params))
        except APIError as e:
            if not self._relogin(e):
                raise
            return parse(await self._send(method, path, json, params))

    async def _send(
        self, method: str, path: str, json: Any, params: dict[str, Any] | None, *, auth: bool = True
    ) -> Any:
        if self._needs_login(auth):
            body = await self._send("POST", TOKEN_PATH, self._login_body(), None, auth=False)
            self.token = str(body["access_token"])
        headers = self._headers(method, auth)
        attempt = 0
        while True:
            attempt += 1
            try:
                r = await self.http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as e:
                await self._pause(self._failed(attempt, method, path, e))
                continue
            delay = self._answered(attempt, method, r)
            if delay is None:
                return r.json() if r.content else None
            await self._pause(delay)

    async def _pause(self, seconds: float) -> None:
        if self.sleep is not None:
            self.sleep(seconds)
        else:
            await asyncio.sleep(seconds)
