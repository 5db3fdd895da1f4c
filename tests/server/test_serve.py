"""`stackyard serve` as a user runs it: HTTPS with --tls-cert/--tls-key, and a clean stop on SIGTERM."""

from __future__ import annotations

import signal
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.server.test_crash import Server, login


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_and_graceful_stop(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    # given the server started with a certificate and key
    server = Server(
        f"sqlite:///{tmp_path}/tls.db", tmp_path, extra=["--tls-cert", str(cert), "--tls-key", str(key)]
    )
    server.start()
    try:
        assert server.url.startswith("https://")
        # then it answers over HTTPS to a client that trusts the certificate, and logins work
        r = httpx.get(server.url + "/healthz", verify=trust)
        assert r.status_code == 200 and r.json()["status"] == "ok"
        assert login(server.url, verify=trust)
        # and plain HTTP on the same port gets no answer
        with pytest.raises(httpx.HTTPError):
            httpx.get(server.url.replace("https://", "http://") + "/healthz", timeout=3)
        # when it is sent SIGTERM, then it finishes and exits cleanly
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        # (uvicorn re-raises the signal once it has shut down, so the status says SIGTERM)
        assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert "Waiting for application shutdown" in (tmp_path / "server.log").read_text()
        assert "Finished server process" in (tmp_path / "server.log").read_text()
    finally:
        server.stop()
