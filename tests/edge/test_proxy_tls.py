"""`--edge-tls-port`: the data plane serves each site's assigned certificate, chosen by SNI."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from stackyard.edge import certificates, fanout
from stackyard.edge.proxy.plane import DataPlane
from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.conftest import free_port
from tests.edge import certs
from tests.edge.conftest import DOMAIN, account, make_site
from tests.edge.origin import Origin


def test_sites_are_served_over_tls_with_their_certificate(
    db: Database, edge_settings: Settings, origin: Origin, tmp_path: Path
) -> None:
    origin.reset()
    origin.route("/", body=b"over tls", Cache_Control="max-age=60")
    caller = account(db)
    stack_id, site_id = make_site(db, caller, origin.port)
    cert, key = certs.make(DOMAIN)
    with db.write() as tx:
        cert_id = certificates.add(tx, caller, stack_id, {"certificate": cert, "key": key})["id"]
        assert certificates.assign(tx, caller, stack_id, site_id, cert_id)["valid"] is True
    old = fanout.use(fanout.LocalHub())
    plane = DataPlane(db, edge_settings)
    plane.start("127.0.0.1", 0, tls_port=free_port())
    try:
        (tmp_path / "ca.pem").write_text(cert)
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with (
            socket.create_connection(("127.0.0.1", plane.tls_port)) as raw,
            context.wrap_socket(raw, server_hostname=DOMAIN) as tls,
        ):
            peer = tls.getpeercert()
            assert dict(x[0] for x in peer["subject"])["commonName"] == DOMAIN
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"over tls")
        assert origin.seen[0].headers["x-forwarded-proto"] == "https"
        with socket.create_connection(("127.0.0.1", plane.tls_port)) as raw, pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname="unknown.test")
    finally:
        plane.stop()
        fanout.use(old)
