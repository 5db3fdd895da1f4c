"""The edge SDK's HTTP session: a client-credentials bearer token fetched on first use and renewed
once on a 401, retries by the shared policy (`client._retry`), and one mapping of a StackPath
error body (`{"code", "message", "details"}`) to the shared error classes."""

from __future__ import annotations

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


class Session:
    """One client's connection: `request(method, path, json=..., params=...)` answers the decoded body."""

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
        self.client_id, self.client_secret, self.authtoken = client_id, client_secret, authtoken
        self.max_retries = max_retries
        self.sleep = sleep
        self.token = ""
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        self.http.close()

    def _login(self) -> None:
        body = self._send(
            "POST",
            "/identity/v1/oauth2/token",
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            None,
            auth=False,
        )
        self.token = str(body["access_token"])

    def _headers(self, auth: bool) -> dict[str, str]:
        if not auth:
            return {}
        if self.authtoken:
            return {"authtoken": self.authtoken}
        if not self.token:
            self._login()
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._send(method, path, json, params)
        except APIError as e:
            if e.status != 401 or self.authtoken or not self.client_id:
                raise
            self.token = ""  # expired: log in again, once
            return self._send(method, path, json, params)

    def _send(
        self, method: str, path: str, json: Any, params: dict[str, Any] | None, *, auth: bool = True
    ) -> Any:
        headers = self._headers(auth)
        if method == "POST":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        attempt = 0
        while True:
            attempt += 1
            try:
                r = self.http.request(method, path, json=json, params=params, headers=headers)
            except httpx.HTTPError as e:
                if method == "POST" and not isinstance(e, UNSENT):
                    raise ConnectionFailed(f"{method} {path}: {e}") from e
                delay = _retry.next_delay(attempt, max_retries=self.max_retries, status=None)
                if delay is None:
                    raise ConnectionFailed(f"{method} {path}: {e}") from e
                self.sleep(delay)
                continue
            if r.status_code < 400:
                return r.json() if r.content else None
            delay = _retry.next_delay(
                attempt,
                max_retries=self.max_retries,
                status=r.status_code,
                idempotent=method != "POST",
                retry_after=r.headers.get("retry-after"),
            )
            if delay is None:
                raise error_from_response(r.status_code, r.headers, r.content)
            self.sleep(delay)
