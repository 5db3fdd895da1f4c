"""What a handler sees of a request (`Req`): its parsed parts, the app's services, the caller and
the rate limits it spends from. `api.routing` makes one per request and hands it to the route's
handler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers, QueryParams

from stackyard.access.caller import Caller, StackAccess
from stackyard.access.resolve import authenticate, require_user, stack_access
from stackyard.api.body import Part, Upload, looks_multipart, parse_json, parse_multipart
from stackyard.core.ratelimit import Verdict
from stackyard.errors import BadRequest, RateLimited, Unauthorized, UnprocessableEntity
from stackyard.store.engine import Tx

if TYPE_CHECKING:
    from stackyard.api.state import AppState

# Beyond any real list, and inside the 64-bit integers both databases bind for OFFSET.
MAX_SKIP = 2**31 - 1
_FLAGS = {"true": True, "false": False}
# A request carrying any of these spends from its address's failed-auth bucket when they fail.
CREDENTIAL_HEADERS = ("authtoken", "authorization", "access_token")


class RequestHeaders(Headers):
    """Starlette's case-insensitive, multi-valued request headers, with single lookups (`get`,
    `r.headers[name]`, `in`) answered from a dict made once: a request asks for a dozen headers
    (credentials, api_key, branch, content-length...), each a scan of the list otherwise. As with
    `Headers`, the first of repeated headers is the one a single lookup answers."""

    def __init__(self, scope: Any) -> None:
        # What `Headers(scope=scope)` does, without its argument checks.
        self._list = scope["headers"] = list(scope["headers"])
        first: dict[str, str] = {}
        for k, v in reversed(self._list):
            first[k.decode("latin-1")] = v.decode("latin-1")
        self._first = first

    def get(self, key: str, default: Any = None) -> Any:
        return self._first.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return self._first[key.lower()]

    def __contains__(self, key: Any) -> bool:
        return isinstance(key, str) and key.lower() in self._first


class RequestQuery(QueryParams):
    """Starlette's multi-valued query parameters, with `get` a dict lookup (the last value of a
    repeated name, as `QueryParams` answers) instead of `Mapping.get`'s way round `__getitem__`."""

    def __init__(self, raw: bytes) -> None:
        if raw and (b"%" in raw or b"+" in raw):
            super().__init__(raw)
            return
        # Nothing to unquote: the pairs `parse_qsl(..., keep_blank_values=True)` would give.
        pairs = []
        for part in raw.decode("latin-1").split("&") if raw else ():
            if part:
                name, _, value = part.partition("=")
                pairs.append((name, value))
        self._list = pairs
        self._dict = dict(pairs)

    def get(self, key: str, default: Any = None) -> Any:
        return self._dict.get(key, default)


@dataclass
class Req:
    """What a handler sees of a request: parsed parts, the app's services and the caller."""

    app: AppState
    method: str
    path: dict[str, str]
    query: Any  # starlette QueryParams (multi-valued)
    headers: Any  # starlette Headers (case-insensitive)
    body: bytes
    request_id: str
    remote_addr: str
    response_headers: dict[str, str] = field(default_factory=dict)
    _upload: Upload | None = None
    _caller: Caller | None = None
    _limited: set[str] = field(default_factory=set)

    @property
    def db(self) -> Any:
        return self.app.db

    @property
    def settings(self) -> Any:
        return self.app.settings

    # -- body ---------------------------------------------------------------------------------
    def json(self) -> dict[str, Any]:
        """The body as a JSON object, whatever Content-Type the client sent."""
        if looks_multipart(self.body):
            raise BadRequest("Expected a JSON body, got multipart data.", error_code=101)
        data = parse_json(self.body, max_depth=self.settings.max_json_depth)
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.", error_code=101)
        return data

    def envelope(self, key: str, *, required: bool = True) -> dict[str, Any]:
        """`body[key]` as an object, e.g. `{"environment": {...}}` -> the inner dict."""
        data = self.json()
        inner = data.get(key)
        if inner is None and not required:
            return {}
        if not isinstance(inner, dict):
            raise UnprocessableEntity(
                f"The request body needs a '{key}' object.",
                errors={key: ["is required and must be an object."]},
            )
        return inner

    def parts(self) -> list[Part]:
        """The parts of a multipart body (boundary from the header or the body)."""
        return parse_multipart(self.body, self.headers.get("content-type"))

    @property
    def upload(self) -> Upload:
        """The spooled body of a route declared with `stream=True` (`r.body` is empty there)."""
        if self._upload is None:
            raise RuntimeError("r.upload needs a route declared with stream=True")
        return self._upload

    # -- query --------------------------------------------------------------------------------
    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, default)

    def json_param(self, name: str) -> dict[str, Any]:
        """A query parameter holding a JSON object, such as `query={"title": "Hello"}` (absent: {}).
        Read by `parse_json`, as bodies are; anything but an object is a 400 (error_code 102)."""
        raw = self.query.get(name) or ""
        data = parse_json(raw, max_depth=self.settings.max_json_depth, what=name, error_code=102)
        if not isinstance(data, dict):
            message = f"The '{name}' parameter must be a JSON object."
            raise BadRequest(message, error_code=102, errors={name: [message]})
        return data

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean query parameter: `true` or `false` in any case (the official SDK sends `True`);
        anything else is a 400, as Contentstack answers."""
        value = self.query.get(name)
        if value is None:
            return default
        try:
            return _FLAGS[value.strip().lower()]
        except KeyError:
            raise BadRequest(
                f"'{name}' must be true or false.", errors={name: ["must be true or false."]}
            ) from None

    def int_param(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadRequest(
                f"'{name}' must be an integer.", errors={name: ["must be an integer."]}
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise BadRequest(f"'{name}' must be {bound}.", errors={name: [f"must be {bound}."]})
        return value

    def page(self) -> tuple[int, int]:
        """(skip, limit) from the query, bounded by the page-size settings."""
        s = self.settings
        return self.int_param("skip", 0, maximum=MAX_SKIP), self.int_param(
            "limit", s.page_size_default, minimum=1, maximum=s.page_size_max
        )

    # -- caller -------------------------------------------------------------------------------
    def caller(self, tx: Tx) -> Caller:
        if self._caller is None:
            try:
                self._caller = authenticate(tx, self.headers, self.request_id, self.remote_addr)
            except Unauthorized:
                # Spent only by failures: see `refuse_early`, which refuses once the bucket is empty.
                self.app.limiter.take("addr:" + self.remote_addr, "failed_auth")
                raise
        return self._caller

    def user(self, tx: Tx) -> str:
        """The logged-in user's uid (401 otherwise); also spends from the rate limit."""
        uid = require_user(self.caller(tx))
        self._limit("user:" + uid)
        return uid

    def access(self, tx: Tx) -> StackAccess:
        """The caller's standing in the stack named by the `api_key` header."""
        access = stack_access(tx, self.caller(tx), self.headers.get("api_key"), self.headers.get("branch"))
        self.app.limiter.settle("stack:" + str(access.stack["api_key"]), "org:" + access.org_uid)
        self._limit("org:" + access.org_uid)
        return access

    def throttle_account_call(self) -> None:
        """Limit unauthenticated account calls (login, password reset, activation) per client address,
        so passwords cannot be sprayed and argon2 cannot be made to burn the server's CPU."""
        self._limit("addr:" + self.remote_addr, "auth")

    @property
    def kind(self) -> str:
        """Which of an organization's buckets this request spends from."""
        return "read" if self.method in ("GET", "HEAD") else "write"

    def _limit(self, key: str, kind: str | None = None) -> None:
        if key in self._limited:
            return  # a handler re-run on a thread (see `endpoint`) does not pay twice
        self._limited.add(key)
        self._verdict(self.app.limiter.take(key, kind or self.kind))

    def _verdict(self, verdict: Verdict | None, message: str | None = None) -> None:
        if verdict is None:
            return
        self.response_headers["X-RateLimit-Limit"] = str(verdict.limit)
        self.response_headers["X-RateLimit-Remaining"] = str(verdict.remaining)
        if not verdict.allowed:
            raise RateLimited(message, retry_after=verdict.retry_after)

    def refuse_early(self) -> None:
        """429 before any database work when a bucket this request would spend from is empty: its
        address's failed-auth bucket (it carries a credential), or the organization of the stack it
        names (as last seen). Refusing then costs far less than answering, so a client that
        ignores Retry-After cannot take the server from other organizations or other addresses."""
        limiter = self.app.limiter
        if any(self.headers.get(name) for name in CREDENTIAL_HEADERS):
            verdict = limiter.peek("addr:" + self.remote_addr, "failed_auth")
            if verdict is not None and not verdict.allowed:
                raise RateLimited(
                    "Too many requests with bad credentials from this address; try again later.",
                    retry_after=verdict.retry_after,
                )
        api_key = self.headers.get("api_key")
        org = limiter.home("stack:" + api_key) if api_key else None
        if org is not None:
            verdict = limiter.peek(org, self.kind)
            if verdict is not None and not verdict.allowed:
                self._verdict(verdict)
