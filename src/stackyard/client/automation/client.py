"""`Client` and `AsyncClient` for the automation (StackStorm v1) API of a Stackyard server.

    from stackyard.client.automation import Client, models
    client = Client(base_url="http://127.0.0.1:8080", token="...")   # or api_key=..., or auth()
    client.rules.get_all()
    client.executions.get_all()
    client.keys.update(models.KeyValuePair(name="k1", value="v1"))

URLs: `base_url` (the Stackyard server: auth at /auth/v1, API at /api/v1, stream at /stream/v1),
or `auth_url` / `api_url` / `stream_url` each; from ST2_BASE_URL, ST2_AUTH_URL, ST2_API_URL,
ST2_STREAM_URL or STACKYARD_URL when not given. Credentials: `token` (ST2_AUTH_TOKEN), `api_key`
(ST2_API_KEY), or `client.auth(email, password)`. Every non-2xx answer raises (`errors`).
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from . import models
from .errors import error_from_response
from .managers import ExecutionManager, KeyManager, Manager, Parse, WebhookManager


class _Base:
    def __init__(
        self,
        base_url: str | None = None,
        *,
        auth_url: str | None = None,
        api_url: str | None = None,
        stream_url: str | None = None,
        token: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        env = os.environ
        base = (
            base_url or env.get("ST2_BASE_URL") or env.get("STACKYARD_URL") or "http://127.0.0.1:8080"
        ).rstrip("/")
        self.auth_url = (auth_url or env.get("ST2_AUTH_URL") or base + "/auth/v1").rstrip("/")
        self.api_url = (api_url or env.get("ST2_API_URL") or base + "/api/v1").rstrip("/")
        self.stream_url = (stream_url or env.get("ST2_STREAM_URL") or base + "/stream/v1").rstrip("/")
        self.token = token or env.get("ST2_AUTH_TOKEN")
        self.api_key = api_key or env.get("ST2_API_KEY")
        self.timeout = timeout
        self.actions = Manager(self, models.Action)
        self.executions = ExecutionManager(self, models.Execution)
        self.liveactions = self.executions
        self.rules = Manager(self, models.Rule)
        self.triggers = Manager(self, models.Trigger)
        self.triggertypes = self.triggers
        self.trigger_instances = Manager(self, models.TriggerInstance)
        self.keys = KeyManager(self, models.KeyValuePair)
        self.runners = Manager(self, models.RunnerType)
        self.packs = Manager(self, models.Pack)
        self.apikeys = Manager(self, models.ApiKey)
        self.ruleenforcements = Manager(self, models.RuleEnforcement)
        self.traces = Manager(self, models.Trace)
        self.webhooks = WebhookManager(self, models.Webhook)
        self.timers = Manager(self, models.Timer)

    def _headers(self) -> dict[str, str]:
        if self.token:
            return {"X-Auth-Token": self.token}
        if self.api_key:
            return {"St2-Api-Key": self.api_key}
        return {}

    @staticmethod
    def _result(response: httpx.Response, parse: Parse, allow_404: bool) -> Any:
        if response.status_code == 404 and allow_404:
            return parse(404, None)
        if not 200 <= response.status_code < 300:
            raise error_from_response(response.status_code, response.content)
        ctype = response.headers.get("content-type", "")
        data: Any = response.json() if response.content and "json" in ctype else response.text
        return parse(response.status_code, data)


class Client(_Base):
    """The synchronous client; a context manager (closes its connections)."""

    def __init__(self, base_url: str | None = None, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.Client(timeout=self.timeout)

    def _call(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json: Any,
        parse: Parse,
        *,
        allow_404: bool = False,
    ) -> Any:
        response = self._http.request(method, url, params=params, json=json, headers=self._headers())
        return self._result(response, parse, allow_404)

    def auth(self, email: str, password: str, ttl: int | None = None) -> models.Resource:
        """Get a token for a Stackyard user (`email#organization` picks one of several) and use it.

        >>> client.auth("me@example.com", "secret").expiry  # doctest: +SKIP
        """
        response = self._http.post(
            f"{self.auth_url}/tokens", auth=(email, password), json={"ttl": ttl} if ttl else {}
        )
        token = self._result(response, lambda s, d: models.Token.from_dict(d), False)
        self.token = token.token
        return token

    def get_user_info(self) -> dict[str, Any]:
        """`GET /user`: who the credential is, and whether it is an automation admin."""
        return self._call("GET", f"{self.api_url}/user", None, None, lambda s, d: d)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient(_Base):
    """The asyncio twin: the same managers, each call awaited (`await client.rules.get_all()`)."""

    def __init__(self, base_url: str | None = None, **options: Any) -> None:
        super().__init__(base_url, **options)
        self._http = httpx.AsyncClient(timeout=self.timeout)

    async def _call(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None,
        json: Any,
        parse: Parse,
        *,
        allow_404: bool = False,
    ) -> Any:
        response = await self._http.request(method, url, params=params, json=json, headers=self._headers())
        return self._result(response, parse, allow_404)

    async def auth(self, email: str, password: str, ttl: int | None = None) -> models.Resource:
        response = await self._http.post(
            f"{self.auth_url}/tokens", auth=(email, password), json={"ttl": ttl} if ttl else {}
        )
        token = self._result(response, lambda s, d: models.Token.from_dict(d), False)
        self.token = token.token
        return token

    async def get_user_info(self) -> dict[str, Any]:
        return await self._call("GET", f"{self.api_url}/user", None, None, lambda s, d: d)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
