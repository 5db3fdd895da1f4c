"""The outbound client's rules, proven against real servers listening on 127.0.0.1.

Each refusal also proves that nothing was sent, twice over: the local server counts the connections
it accepts, and an audit hook records every socket connect of this process (Python raises the
`socket.connect` audit event for each, in any thread, asyncio's included), so a refused call must
leave both empty, even for addresses no local server could listen on (10.0.0.1). The same hook sees
every `getaddrinfo`, which proves the HTTP library never looks the name up a second time.

The only seams are honest ones: names resolve through an injected resolver (so no real DNS is
needed), and `exempt_hosts` lets one named test host past the address rule. Every test runs through
both `request` and `arequest` (the `send` fixture).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from stackyard.core.outbound import (
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    OutboundRefused,
    OutboundResponse,
    OutboundTimeout,
    OutboundTooLarge,
    refusal_reason,
    system_resolver,
)
from stackyard.settings import Settings

# --- what the process does on the network ---------------------------------------------------------

_recording: list[tuple[str, Any]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _recording is not None and event in ("socket.connect", "socket.getaddrinfo"):
        _recording.append((event, args[1] if event == "socket.connect" else args[0]))


sys.addaudithook(_audit)  # hooks cannot be removed; this one records only inside the `net` fixture


@pytest.fixture
def net() -> Iterator[list[tuple[str, Any]]]:
    """Every socket connect and getaddrinfo made while the test runs: (event, address or host)."""
    global _recording
    _recording = []
    try:
        yield _recording
    finally:
        _recording = None


def connects(net: list[tuple[str, Any]]) -> list[Any]:
    return [where for event, where in net if event == "socket.connect"]


# --- a local server -------------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.sni: list[str | None] = []
        self.release = threading.Event()
        if tls is not None:
            tls.sni_callback = lambda _sock, name, _ctx: self.sni.append(name)
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-body (the size cap) is expected here


class Handler(BaseHTTPRequestHandler):
    """/ok answers "hello"; /redirect?to=URL[&status=N]; /hang never answers; /big declares 100 kB;
    /stream sends 100 kB with no length; /drip sends one byte every 50 ms."""

    server: Server

    def do_GET(self) -> None:
        self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(route.query).items()}
        if route.path == "/redirect":
            self.send_response(int(query.get("status", "302")))
            self.send_header("Location", query["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route.path == "/hang":
            self.server.release.wait(10)
        elif route.path in ("/big", "/stream", "/drip"):
            self.send_response(200)
            if route.path != "/stream":
                self.send_header("Content-Length", "100000" if route.path == "/big" else "50")
            self.end_headers()
            chunk, pause = (b".", 0.05) if route.path == "/drip" else (b"x" * 1000, 0.0)
            for _ in range(50 if route.path == "/drip" else 100):
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(pause)
        else:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """Start local servers; they stop (and any hanging handler is let go) when the test ends."""
    servers: list[Server] = []

    def start(tls: ssl.SSLContext | None = None) -> Server:
        server = Server(tls)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def server(serve: Callable[..., Server]) -> Server:
    return serve()


# --- the two ways to call -------------------------------------------------------------------------

Send = Callable[..., OutboundResponse]


@pytest.fixture(params=["sync", "async", "async-keepalive"])
def send(request: pytest.FixtureRequest) -> Send:
    def call(client: OutboundClient, method: str, url: str, **kwargs: Any) -> OutboundResponse:
        if request.param == "sync":
            return client.request(method, url, **kwargs)
        if request.param == "async":
            return asyncio.run(client.arequest(method, url, **kwargs))
        return asyncio.run(_pooled(client, method, url, **kwargs))

    return call


async def _pooled(client: OutboundClient, method: str, url: str, **kwargs: Any) -> OutboundResponse:
    """The call on a twin of `client` that keeps its connections alive (`keepalive`)."""
    pooled = OutboundClient(client.policy, client._resolver, client._ssl, keepalive=4)
    try:
        return await pooled.arequest(method, url, **kwargs)
    finally:
        await pooled.aclose()


TEST_HOST = "hooks.example.test"  # .test is reserved: real DNS can never answer it
NAMES = {TEST_HOST: ["127.0.0.1"], "mixed.example.test": ["93.184.216.34", "127.0.0.1"]}


def resolver(host: str, port: int) -> list[str]:
    if host == "localhost":
        return system_resolver(host, port)  # from /etc/hosts: the real default resolver's answer
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return NAMES[host]


def client(**policy: Any) -> OutboundClient:
    return OutboundClient(OutboundPolicy(**policy), resolver=resolver)


# --- the address rule, alone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.100.100.200", "not globally routable"),
        ("::ffff:127.0.0.1", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("::ffff:10.0.0.1", "private (IPv4 10.0.0.1 inside IPv6)"),
        ("2002:7f00:1::", "loopback (IPv4 127.0.0.1 inside IPv6)"),
        ("93.184.216.34", None),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_refusal_reason(address: str, reason: str | None) -> None:
    assert refusal_reason(ip_address(address)) == reason


# --- refused before anything is sent --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://[::1]:{port}/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0:{port}/", "unspecified"),  # Linux connects this to the local host
        ("http://127.0.0.1:{port}/", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
        ("http://localhost:{port}/", "loopback"),
        (f"http://{TEST_HOST}:{{port}}/", "loopback"),  # a name that resolves to 127.0.0.1
        ("http://mixed.example.test:{port}/", "loopback"),  # one bad address refuses the name
    ],
)
def test_private_addresses_are_refused_before_anything_is_sent(
    send: Send, server: Server, net: list[tuple[str, Any]], url: str, reason: str
) -> None:
    # given the default policy, when a URL points at a non-public address
    with pytest.raises(OutboundRefused, match=reason):
        send(client(), "GET", url.format(port=server.port) + "ok")
    # then no socket was even opened
    assert connects(net) == []
    assert server.connections == 0


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://user:secret@127.0.0.1:{port}/ok", "credentials in the URL"),
        ("http://token@127.0.0.1:{port}/ok", "credentials in the URL"),
        ("ftp://127.0.0.1:{port}/", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://127.0.0.1:{port}/", "scheme 'gopher'"),
        ("http:///ok", "no host"),
        ("http://[::1/", "not a valid URL"),
    ],
)
def test_credentials_and_other_schemes_are_refused_even_when_private_is_allowed(
    send: Send, server: Server, net: list[tuple[str, Any]], url: str, reason: str
) -> None:
    with pytest.raises(OutboundRefused, match=reason):
        send(client(allow_private=True), "GET", url.format(port=server.port))
    assert connects(net) == []
    assert server.connections == 0


def test_a_name_that_does_not_resolve_is_an_error(send: Send, net: list[tuple[str, Any]]) -> None:
    with pytest.raises(OutboundError, match=r"could not resolve nowhere\.example\.test"):
        send(client(), "GET", "http://nowhere.example.test/")
    assert connects(net) == []


# --- what does get through ------------------------------------------------------------------------


def test_allow_private_lets_a_call_reach_the_local_server(send: Send, server: Server) -> None:
    response = send(client(allow_private=True), "POST", f"{server.origin}/ok", json={"a": 1})
    assert (response.status, response.body) == (200, b"hello")
    assert server.requests == [("/ok", server.requests[0][1])]
    assert server.requests[0][1]["content-type"] == "application/json"


def test_the_connection_goes_to_the_checked_address_under_the_name(
    send: Send, server: Server, net: list[tuple[str, Any]]
) -> None:
    # given a name the resolver maps to the local server, exempt from the address rule
    url = f"http://{TEST_HOST}:{server.port}/ok"
    # when it is called
    response = send(client(exempt_hosts=frozenset({TEST_HOST})), "GET", url)
    # then the socket went to the resolved IP, the server saw the name, and nobody looked it up again
    assert (response.status, response.url) == (200, url)
    assert connects(net) == [("127.0.0.1", server.port)]
    assert server.requests[0][1]["host"] == f"{TEST_HOST}:{server.port}"
    assert (("socket.getaddrinfo", TEST_HOST)) not in net


# --- redirects ------------------------------------------------------------------------------------


def test_redirects_are_returned_as_is_by_default(send: Send, server: Server) -> None:
    response = send(client(allow_private=True), "GET", f"{server.origin}/redirect?to=/ok")
    assert (response.status, response.headers["location"]) == (302, "/ok")
    assert server.paths == ["/redirect?to=/ok"]


@pytest.mark.parametrize(("max_redirects", "status", "requests"), [(1, 302, 2), (2, 200, 3)])
def test_at_most_max_redirects_are_followed(
    send: Send, server: Server, max_redirects: int, status: int, requests: int
) -> None:
    url = f"{server.origin}/redirect?to=" + quote("/redirect?to=/ok", safe="")
    response = send(client(allow_private=True, max_redirects=max_redirects), "GET", url)
    assert response.status == status
    assert len(server.requests) == requests


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.1:{port}/ok", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/ok", "loopback"),
        ("file:///etc/passwd", "scheme 'file'"),
        (f"http://user:pw@{TEST_HOST}:{{port}}/ok", "credentials in the URL"),
    ],
)
def test_each_redirect_hop_is_checked_again(
    send: Send, server: Server, net: list[tuple[str, Any]], target: str, reason: str
) -> None:
    # given a public-looking name that reaches the local server, and redirects switched on
    policy = {"exempt_hosts": frozenset({TEST_HOST}), "max_redirects": 3}
    url = f"http://{TEST_HOST}:{server.port}/redirect?to=" + quote(target.format(port=server.port))
    # when its answer redirects to a target the rules refuse
    with pytest.raises(OutboundRefused, match=reason):
        send(client(**policy), "GET", url)
    # then only the first hop was sent
    assert server.paths == [urlsplit(url).path + "?" + urlsplit(url).query]
    assert server.connections == 1
    assert connects(net) == [("127.0.0.1", server.port)]


def test_credentials_do_not_follow_a_redirect_to_another_origin(
    send: Send, serve: Callable[..., Server]
) -> None:
    # given two origins (same address, other port), the first redirecting to itself, then to the second
    first, second = serve(), serve()
    url = f"{first.origin}/redirect?to=" + quote(f"/redirect?to={second.origin}/ok", safe="")
    secrets = {"Authorization": "Bearer s3cret", "Cookie": "session=s3cret", "X-Trace": "t1"}
    # when the call follows them
    response = send(client(allow_private=True, max_redirects=2), "GET", url, headers=secrets)
    # then the credentials stayed on the first origin; other headers went along
    assert response.status == 200
    assert [headers["authorization"] for _, headers in first.requests] == ["Bearer s3cret"] * 2
    [(_, seen)] = second.requests
    assert "authorization" not in seen and "cookie" not in seen
    assert seen["x-trace"] == "t1"


def test_a_303_after_a_post_is_fetched_with_get_and_no_body(send: Send, server: Server) -> None:
    url = f"{server.origin}/redirect?status=303&to=/ok"
    send(client(allow_private=True, max_redirects=1), "POST", url, json={"a": 1})
    [_, (path, headers)] = server.requests
    assert path == "/ok" and "content-type" not in headers and "content-length" not in headers


# --- limits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/big", "/stream"])  # declared length, and none
def test_a_body_over_the_cap_fails_the_call(send: Send, server: Server, path: str) -> None:
    with pytest.raises(OutboundTooLarge, match="cap of 10000 bytes"):
        send(client(allow_private=True, max_response_bytes=10_000), "GET", server.origin + path)


def test_a_server_that_never_answers_hits_the_read_timeout(send: Send, server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundTimeout, match="ReadTimeout"):
        send(client(allow_private=True, read_timeout=0.2), "GET", f"{server.origin}/hang")
    assert time.monotonic() - started < 2


def test_a_slow_drip_hits_the_total_timeout(send: Send, server: Server) -> None:
    # given a server that answers a byte every 50 ms, each well within the read timeout
    started = time.monotonic()
    with pytest.raises(OutboundTimeout, match="total timeout"):
        send(client(allow_private=True, read_timeout=5, total_timeout=0.5), "GET", f"{server.origin}/drip")
    assert time.monotonic() - started < 2


def test_the_policy_comes_from_the_settings() -> None:
    settings = Settings.from_sources(env={"STACKYARD_ALLOW_PRIVATE_OUTBOUND": "1"})
    policy = OutboundPolicy.from_settings(settings.replace(outbound_max_redirects=2))
    assert policy == OutboundPolicy(allow_private=True, max_redirects=2)
    assert OutboundPolicy.from_settings(Settings()) == OutboundPolicy()


# --- TLS keeps the name ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    name = ["-subj", f"/CN={TEST_HOST}", "-addext", f"subjectAltName=DNS:{TEST_HOST}"]
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *name]
    subprocess.run([*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_tls_is_checked_against_the_name_not_the_address(
    send: Send, serve: Callable[..., Server], certificate: tuple[Path, Path]
) -> None:
    # given an https server whose certificate names only the test host
    cert, key = certificate
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    server = serve(tls)
    trust = ssl.create_default_context(cafile=str(cert))
    named = OutboundClient(OutboundPolicy(exempt_hosts=frozenset({TEST_HOST})), resolver, trust)
    # when it is called by its name, then TLS got the name (SNI) and the certificate matched it
    response = send(named, "GET", f"https://{TEST_HOST}:{server.port}/ok")
    assert (response.status, server.sni) == (200, [TEST_HOST])
    # and when the same server is called by its address, the certificate does not match
    by_address = OutboundClient(OutboundPolicy(allow_private=True), resolver, trust)
    with pytest.raises(OutboundError, match="certificate verify failed"):
        send(by_address, "GET", f"https://127.0.0.1:{server.port}/ok")
