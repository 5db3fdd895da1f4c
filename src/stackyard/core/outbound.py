"""The one outbound HTTP client: webhooks, automation http actions and edge origin fetches call out here.

The URLs are chosen by users, so each rule assumes a URL was chosen to hurt us:

- Only `http` and `https`; other schemes reach what no webhook means to (files, gopher, ftp).
- No credentials in the URL: they would go out as Basic auth and be stored and logged with it.
- The address rule (`refusal_reason`): loopback, private, link-local, multicast, reserved, unspecified
  and other not globally routable addresses are refused; IPv4 inside IPv6 (`::ffff:a.b.c.d`, 6to4)
  is judged as that IPv4. They reach the server itself, its database, the cloud metadata service
  (169.254.169.254; 100.100.100.200 on some clouds) and the private network. `allow_private`
  (`--allow-private-outbound`) lifts this rule and no other.
- The rule is applied after DNS, to every address of the name (one bad address refuses it), and the
  connection goes to the address that was checked: the URL's host becomes the IP while the Host
  header and TLS (SNI, certificate check) keep the name. A second lookup by the HTTP library could
  answer differently (DNS rebinding); there is none.
- Redirects are followed only up to `max_redirects` (default 0); the 3xx after that is returned as
  is. Each hop is a new request to a URL the remote side chose, so it passes every rule again, and
  `Authorization`, `Cookie`, `Proxy-Authorization` are dropped once it leaves the origin (scheme,
  host, port). No cookie jar, so a Set-Cookie never rides along to the next hop.
- Connect, read and total timeouts. The total is checked before each hop and after each body chunk;
  no single wait is longer than what was left of it when the hop started.
- The body is streamed and reading stops with an error once it passes `max_response_bytes` (a
  declared Content-Length over it fails first). Decoded bytes count, so a gzip bomb is its full size.
- `trust_env=False`: no proxy from the environment (it would resolve names itself, around the
  address rule), no `.netrc` (it would add credentials), no CA bundle override.
- No connection reuse unless asked for (`keepalive=N`, async calls only: `outbound_pool`). Then a
  connection is kept under the name *and* the checked address it was opened to, so TLS checked for
  one name never serves another, and the lookup and the address rule still run on every call.

    OutboundError            the call failed (a broken connection is this class itself)
     ├── OutboundRefused     a rule forbade the request; nothing was sent to that URL
     ├── OutboundTimeout     the connect, read or total timeout passed
     └── OutboundTooLarge    the body passed max_response_bytes
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import json as jsonlib
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any

import httpx

from stackyard.core.outbound_pool import Pool, PoolError

if TYPE_CHECKING:
    from stackyard.settings import Settings

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
_BODY_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP method (RFC 9110 token)
_FRAMING = frozenset({b"host", b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})


class OutboundError(Exception):
    """An outbound call failed: refused, timed out, too large, or the connection broke."""


class OutboundRefused(OutboundError):
    """A rule (scheme, credentials in the URL, address) forbade the request; it was not sent."""


class OutboundTimeout(OutboundError):
    """The connect, read or total timeout passed."""


class OutboundTooLarge(OutboundError):
    """The response body passed `max_response_bytes`."""


@dataclass(frozen=True)
class OutboundPolicy:
    """What an outbound call may do. `exempt_hosts` is not a setting: names (lowercase, exactly as
    in the URL) whose addresses skip the address rule, for tests and for a named internal service."""

    allow_private: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 0
    exempt_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        return cls(
            allow_private=settings.allow_private_outbound,
            connect_timeout=settings.outbound_connect_timeout_seconds,
            read_timeout=settings.outbound_read_timeout_seconds,
            total_timeout=settings.outbound_total_timeout_seconds,
            max_response_bytes=settings.outbound_max_response_bytes,
            max_redirects=settings.outbound_max_redirects,
        )


@dataclass(frozen=True)
class OutboundResponse:
    """The final answer (any status: a 4xx or 5xx is for the caller to judge); `url` has the name."""

    status: int
    headers: httpx.Headers
    body: bytes
    url: str
    elapsed: float


def refusal_reason(ip: IPAddress) -> str | None:
    """Why the address rule refuses `ip`, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is not None:
            reason = refusal_reason(inner)
            return f"{reason} (IPv4 {inner} inside IPv6)" if reason else None
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),  # 100.64.0.0/10 (carrier-grade NAT) and the like
    )
    return next((reason for reason, hit in checks if hit), None)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system gives for `host`, in its order of preference (one lookup)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return url.scheme, url.raw_host, url.port or _DEFAULT_PORTS.get(url.scheme)


@dataclass(frozen=True)
class _Hop:
    """One request of a call: the first, or one a redirect asked for."""

    method: str
    url: httpx.URL
    headers: httpx.Headers
    content: bytes | None

    def redirected(self, status: int, location: str) -> _Hop:
        try:
            url = self.url.join(location)
        except httpx.InvalidURL as e:
            raise OutboundError(f"redirect to an invalid URL {location!r}: {e}") from e
        headers, method, content = httpx.Headers(self.headers), self.method, self.content
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method, content = "GET", None  # what browsers and httpx do
            for name in _BODY_HEADERS:
                headers.pop(name, None)
        if _origin(url) != _origin(self.url):
            for name in _CREDENTIAL_HEADERS:
                headers.pop(name, None)
        return _Hop(method, url, headers, content)


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    """A URL parsed once (an `httpx.URL` is immutable): an origin's hot paths are fetched often."""
    return httpx.URL(url)


def _first_hop(
    method: str, url: str, headers: Mapping[str, str] | None, content: bytes | str | None, json: Any
) -> _Hop:
    if content is not None and json is not None:
        raise ValueError("give content or json, not both")
    try:
        parsed = _parsed(url)
    except httpx.InvalidURL as e:
        raise OutboundRefused(f"not a valid URL: {e}") from e
    hop_headers = httpx.Headers(headers)
    if json is not None:
        content = jsonlib.dumps(json, separators=(",", ":")).encode()
        hop_headers.setdefault("Content-Type", "application/json")
    body = content.encode() if isinstance(content, str) else content
    return _Hop(method.upper(), parsed, hop_headers, body)


class _Call:
    """Where one call stands across its hops and what each rule says about it; no I/O, so the sync
    and async clients share every decision and differ only in their `await`s."""

    def __init__(self, policy: OutboundPolicy, hop: _Hop) -> None:
        self.policy, self.hop = policy, hop
        self.started = time.monotonic()
        self.redirects = 0
        self._chunks: list[bytes] = []
        self._size = 0

    def target(self) -> tuple[str, int]:
        """The host and port to resolve, once the scheme and credential rules pass."""
        url = self.hop.url
        if url.scheme not in _DEFAULT_PORTS:
            raise OutboundRefused(f"scheme {url.scheme!r} is not allowed, only http and https: {url}")
        if url.userinfo:
            raise OutboundRefused("credentials in the URL are not accepted; send them in a header")
        if not url.raw_host:
            raise OutboundRefused(f"the URL has no host: {url}")
        return url.raw_host.decode("ascii"), url.port or _DEFAULT_PORTS[url.scheme]

    def build(self, http: httpx.Client | httpx.AsyncClient, addresses: list[str]) -> httpx.Request:
        """This hop's request, sent to a checked address; the name stays in Host and TLS."""
        url = self.hop.url
        headers = httpx.Headers(self.hop.headers)
        headers["Host"] = url.netloc.decode("ascii")
        extensions = {"sni_hostname": url.raw_host.decode("ascii")} if url.scheme == "https" else {}
        return http.build_request(
            self.hop.method,
            url.copy_with(host=self.checked(addresses)),
            headers=headers,
            content=self.hop.content,
            timeout=self._timeout(),
            extensions=extensions,
        )

    def checked(self, addresses: list[str]) -> str:
        """The address to connect to, once the address rule passed for every one of `addresses`."""
        host = self.hop.url.raw_host.decode("ascii")
        try:
            ips = [ipaddress.ip_address(a) for a in addresses]
        except ValueError as e:
            raise OutboundError(f"{host} resolved to something that is not an address: {e}") from e
        if not ips:
            raise OutboundError(f"{host} resolved to no address")
        if not (self.policy.allow_private or host in self.policy.exempt_hosts):
            for ip in ips:
                if reason := refusal_reason(ip):
                    raise OutboundRefused(
                        f"refused {host}: {ip} is {reason} (--allow-private-outbound allows it)"
                    )
        return str(ips[0])

    def _timeout(self) -> httpx.Timeout:
        left, p = self._left(), self.policy
        connect, read = min(p.connect_timeout, left), min(p.read_timeout, left)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def _left(self) -> float:
        left = self.policy.total_timeout - (time.monotonic() - self.started)
        if left <= 0:
            raise OutboundTimeout(f"the total timeout of {self.policy.total_timeout}s passed")
        return left

    def wire(self) -> bytes:
        """This hop's request as HTTP/1.1 bytes (the pooled path; the name stays in Host)."""
        hop, url = self.hop, self.hop.url
        if not _TOKEN.fullmatch(hop.method):
            raise OutboundRefused(f"{hop.method!r} is not an HTTP method")
        lines = [b"%s %s HTTP/1.1\r\nHost: %s\r\n" % (hop.method.encode("ascii"), url.raw_path, url.netloc)]
        given = set()
        for name, value in hop.headers.raw:
            lower = name.lower()
            if lower in _FRAMING:
                continue
            if any(c in name + value for c in (b"\r", b"\n", b"\0")):
                raise OutboundRefused(f"the header {name.decode('latin-1')!r} holds a line break")
            given.add(lower)
            lines.append(b"%s: %s\r\n" % (name, value))
        if b"accept-encoding" not in given:
            lines.append(b"Accept-Encoding: gzip, deflate\r\n")
        body = hop.content or b""
        if body or hop.method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d\r\n" % len(body))
        lines.append(b"\r\n")
        return b"".join(lines) + body

    def follow(self, status: int, location: str | None) -> bool:
        """Move on to the redirect's target, if this answer is one the policy follows."""
        if status not in REDIRECTS or not location or self.redirects >= self.policy.max_redirects:
            return False
        self.hop = self.hop.redirected(status, location)
        self.redirects += 1
        self._chunks, self._size = [], 0  # a redirect's own body (the pooled path reads it) is dropped
        return True

    def begin(self, headers: httpx.Headers | list[tuple[str, str]]) -> None:
        declared = (
            headers.get("content-length", "")
            if isinstance(headers, httpx.Headers)
            else next((v for n, v in headers if n.lower() == "content-length"), "")
        ).strip()
        if declared.isdigit() and int(declared) > self.policy.max_response_bytes:
            raise OutboundTooLarge(
                f"the response declares {declared} bytes, over the cap of {self.policy.max_response_bytes} bytes"
            )

    def take(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.policy.max_response_bytes:
            raise OutboundTooLarge(
                f"the body passed the cap of {self.policy.max_response_bytes} bytes; reading stopped"
            )
        self._chunks.append(chunk)
        self._left()

    def finish(self, status: int, headers: httpx.Headers) -> OutboundResponse:
        elapsed = time.monotonic() - self.started
        body = b"".join(self._chunks)
        return OutboundResponse(status, headers, body, str(self.hop.url), elapsed)

    def read_timeout(self) -> float:
        return min(self.policy.read_timeout, self._left())

    def timed_out(self) -> OutboundTimeout:
        return OutboundTimeout(f"timed out (ReadTimeout): nothing came for {self.policy.read_timeout}s")


@contextmanager
def _translated() -> Iterator[None]:
    """httpx's failures as ours, so callers catch one tree."""
    try:
        yield
    except httpx.TimeoutException as e:
        raise OutboundTimeout(f"timed out ({type(e).__name__}): {e}") from e
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        raise OutboundError(f"{type(e).__name__}: {e}") from e


def _literal(host: str) -> list[str] | None:
    """The host itself when it is an IP (a resolver is never asked about one)."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return None


def _addresses(resolver: Resolver, host: str, port: int) -> list[str]:
    """The host itself when it is an IP, else its lookup."""
    literal = _literal(host)
    if literal is not None:
        return literal
    try:
        return list(resolver(host, port))
    except OSError as e:
        raise OutboundError(f"could not resolve {host}: {e}") from e


class OutboundClient:
    """The only way the server calls out; the rules are in this module's docstring.

    >>> client = OutboundClient(OutboundPolicy.from_settings(settings))  # doctest: +SKIP
    >>> client.request("POST", "https://hooks.example.com/in", json={"event": "entry.publish"}).status
    200
    """

    def __init__(
        self,
        policy: OutboundPolicy | None = None,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        *,
        keepalive: int = 0,
    ) -> None:
        """`keepalive`: idle connections kept per name and address for `arequest` (0: none, a
        new connection per call); a client with them serves one event loop (see `outbound_pool`)."""
        self.policy = policy or OutboundPolicy()
        self._resolver = resolver or system_resolver
        self._ssl = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._pool = Pool(keepalive, self._ssl) if keepalive > 0 else None

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
    ) -> OutboundResponse:
        """Send one request under the policy; raises an `OutboundError` when it fails."""
        call = _Call(self.policy, _first_hop(method, url, headers, content, json))
        with _translated(), httpx.Client(**self._options()) as http:
            while True:
                host, port = call.target()
                addresses = _addresses(self._resolver, host, port)
                response = http.send(call.build(http, addresses), stream=True)
                try:
                    if call.follow(response.status_code, response.headers.get("location")):
                        continue
                    call.begin(response.headers)
                    for chunk in response.iter_bytes():
                        call.take(chunk)
                    return call.finish(response.status_code, response.headers)
                finally:
                    response.close()

    async def arequest(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
    ) -> OutboundResponse:
        """`request` for async code: the same rules, with the lookup on a worker thread."""
        call = _Call(self.policy, _first_hop(method, url, headers, content, json))
        pool = self._pool
        if pool is not None and pool.serves(asyncio.get_running_loop()):
            return await self._apooled(call, pool)
        with _translated():
            async with httpx.AsyncClient(**self._options()) as http:
                while True:
                    host, port = call.target()
                    addresses = await self._alookup(host, port)
                    response = await http.send(call.build(http, addresses), stream=True)
                    try:
                        if call.follow(response.status_code, response.headers.get("location")):
                            continue
                        call.begin(response.headers)
                        async for chunk in response.aiter_bytes():
                            call.take(chunk)
                        return call.finish(response.status_code, response.headers)
                    finally:
                        await response.aclose()

    async def _alookup(self, host: str, port: int) -> list[str]:
        literal = _literal(host)
        if literal is not None:
            return literal
        return await asyncio.to_thread(_addresses, self._resolver, host, port)

    async def _apooled(self, call: _Call, pool: Pool) -> OutboundResponse:
        """`arequest` over kept-alive connections: the same decisions, the pool's I/O."""
        while True:
            host, port = call.target()
            address = call.checked(await self._alookup(host, port))
            try:
                answer = await pool.send(
                    (call.hop.url.scheme, host, port, address),
                    call.hop.method,
                    call.wire(),
                    connect_timeout=min(self.policy.connect_timeout, call._left()),
                    read_timeout=call.read_timeout,
                    on_timeout=call.timed_out,
                    begin=call.begin,
                    take=call.take,
                )
            except PoolError as e:
                raise OutboundError(str(e)) from e
            headers = httpx.Headers(answer.headers)
            if call.follow(answer.status, headers.get("location")):
                continue
            return call.finish(answer.status, headers)

    async def aclose(self) -> None:
        """Close the kept-alive connections (on the loop they serve)."""
        if self._pool is not None:
            self._pool.close()

    def _options(self) -> dict[str, Any]:
        return {
            "trust_env": False,
            "verify": self._ssl,
            "follow_redirects": False,
            "limits": httpx.Limits(max_keepalive_connections=0),
            "cookies": CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # keeps no cookie
        }
