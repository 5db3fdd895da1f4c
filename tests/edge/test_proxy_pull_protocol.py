"""`originPullProtocol`: the edge reaches the origin over HTTP (its port), HTTPS (its securePort)
or the protocol the client used; without the block, HTTPS only for an origin on port 443."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from stackyard.core.outbound import OutboundClient, OutboundPolicy
from stackyard.edge import certificates, configuration, fanout, sites, stacks
from stackyard.edge.access import EdgeCaller
from stackyard.edge.proxy.plane import DataPlane
from stackyard.errors import UnprocessableEntity
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import free_port
from tests.edge import certs
from tests.edge.conftest import DOMAIN, account, configure
from tests.edge.origin import Origin


@dataclass
class Pair:
    """One origin host answering plain HTTP on `port` and HTTPS on `securePort`."""

    plain: Origin
    secure: Origin
    ca: Path


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    directory = tmp_path_factory.mktemp("origin-tls")
    cert, key = certs.make("origin.test")
    (directory / "chain.pem").write_text(cert + key)
    (directory / "ca.pem").write_text(cert)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(str(directory / "chain.pem"))
    plain, secure = Origin(), Origin(tls=server)
    for o, body in ((plain, b"over http"), (secure, b"over https")):
        o.route("/p", body=body, Cache_Control="no-store")
    yield Pair(plain, secure, directory / "ca.pem")
    plain.close()
    secure.close()


@dataclass
class Edge:
    db: Database
    caller: EdgeCaller
    stack_id: str
    site_id: str
    plane: DataPlane

    def configure(self, **blocks: object) -> None:
        configure(self.db, self.caller, self.stack_id, self.site_id, self.plane, blocks)

    def get(self) -> str:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.plane.port}", headers={"host": DOMAIN}) as c:
            r = c.get("/p")
        assert r.status_code == 200, r.text
        return r.text


@pytest.fixture
def edge(db: Database, edge_settings: Settings, pair: Pair) -> Iterator[Edge]:
    caller = account(db)
    with db.write() as tx:
        stack_id = stacks.create(tx, caller, {"name": "edge"})["id"]
        origin = {"hostname": "127.0.0.1", "port": pair.plain.port, "securePort": pair.secure.port}
        site_id = sites.create(tx, caller, stack_id, {"domain": DOMAIN, "origin": origin})["id"]
    # The edge trusts the origin's self-signed certificate; it is reached by address, so no name check.
    trust = ssl.create_default_context(cafile=str(pair.ca))
    trust.check_hostname = False
    outbound = OutboundClient(OutboundPolicy(allow_private=True), ssl_context=trust, keepalive=4)
    old = fanout.use(fanout.LocalHub())
    plane = DataPlane(db, edge_settings, outbound=outbound)
    plane.start("127.0.0.1", 0, tls_port=free_port())
    try:
        yield Edge(db, caller, stack_id, site_id, plane)
    finally:
        plane.stop()
        fanout.use(old)


def test_without_the_block_an_origin_off_port_443_is_pulled_over_http(edge: Edge) -> None:
    assert edge.get() == "over http"


def test_https_pulls_from_the_secure_port_and_http_from_the_port(edge: Edge, pair: Pair) -> None:
    edge.configure(originPullProtocol={"protocol": "HTTPS"})
    assert edge.get() == "over https"
    assert pair.secure.seen[-1].headers["x-forwarded-proto"] == "http"  # the client's protocol
    edge.configure(originPullProtocol={"protocol": "HTTP"})
    assert edge.get() == "over http"


def test_match_pulls_with_the_protocol_the_client_used(edge: Edge, tmp_path: Path) -> None:
    cert, key = certs.make(DOMAIN)
    with edge.db.write() as tx:
        cert_id = certificates.add(tx, edge.caller, edge.stack_id, {"certificate": cert, "key": key})["id"]
        certificates.assign(tx, edge.caller, edge.stack_id, edge.site_id, cert_id)
    edge.configure(originPullProtocol={"protocol": "MATCH", "enableSNI": True})
    assert edge.get() == "over http"
    (tmp_path / "ca.pem").write_text(cert)
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    with (
        socket.create_connection(("127.0.0.1", edge.plane.tls_port)) as raw,
        context.wrap_socket(raw, server_hostname=DOMAIN) as tls,
    ):
        tls.sendall(f"GET /p HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"over https")


def test_the_block_is_checked_and_returned_with_an_id(edge: Edge) -> None:
    with pytest.raises(UnprocessableEntity) as found:
        edge.configure(originPullProtocol={"protocol": "FTP"})
    assert "configuration.originPullProtocol.protocol" in found.value.errors
    with pytest.raises(UnprocessableEntity):
        edge.configure(originPullProtocol="HTTPS")
    with pytest.raises(UnprocessableEntity):
        edge.configure(originPullProtocol={"protocol": "HTTPS", "enableSNI": "yes"})
    edge.configure(originPullProtocol={"protocol": "HTTPS"})
    with edge.db.read() as tx:
        root = sites.scopes(tx, edge.caller, edge.stack_id, edge.site_id)[0]["id"]
        stored = configuration.get(tx, edge.caller, edge.stack_id, edge.site_id, root)
    assert stored["originPullProtocol"]["protocol"] == "HTTPS" and stored["originPullProtocol"]["id"]
