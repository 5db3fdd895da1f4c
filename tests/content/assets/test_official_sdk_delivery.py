"""The official delivery SDK (`contentstack`) lists and fetches published assets over HTTPS, and its
`image_transform` URLs are served by the image pipeline."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import contentstack
import httpx
import pytest
import pyvips

from tests.conftest import Live, free_port


@pytest.fixture
def https(live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app over HTTPS with a certificate from a throwaway CA the SDK trusts (REQUESTS_CA_BUNDLE)."""
    import uvicorn
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from stackyard.server.app import create_app

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    settings = live.settings.replace(tls_cert=str(cert_file), tls_key=str(key_file))
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, live.db), host="127.0.0.1", port=port, log_level="warning", access_log=False,
        lifespan="off", ssl_certfile=str(cert_file), ssl_keyfile=str(key_file),
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the HTTPS server did not start"
        time.sleep(0.01)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_file))
    try:
        yield f"localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_delivery_sdk_lists_and_fetches_published_assets(
    live: Live, cma: httpx.Client, api_key: str, https: str, tmp_path: Path
) -> None:
    assert cma.post("/v3/environments", json={"environment": {"name": "production"}}).status_code == 201
    scope = [{"module": "environment", "environments": ["production"], "acl": {"read": True}}]
    token = cma.post("/v3/stacks/delivery_tokens", json={"token": {"name": "site", "scope": scope}}).json()[
        "token"
    ]
    image = (
        pyvips.Image.black(120, 80).linear([1, 1, 1], [200, 40, 40]).cast("uchar").copy(interpretation="srgb")
    )
    png = bytes(image.write_to_buffer(".png"))
    published = cma.post("/v3/assets", files={"asset[upload]": ("red.png", png, "image/png")}).json()["asset"]
    draft = cma.post("/v3/assets", files={"asset[upload]": ("draft.txt", b"not yet", "text/plain")}).json()[
        "asset"
    ]
    body = {"asset": {"environments": ["production"], "locales": ["en-us"]}}
    assert cma.post(f"/v3/assets/{published['uid']}/publish", json=body).status_code == 200

    stack = contentstack.Stack(api_key, token["token"], "production", host=https)
    listed = stack.asset_query().include_dimension().find()
    assert [a["uid"] for a in listed["assets"]] == [published["uid"]]
    fetched = stack.asset(uid=published["uid"]).include_dimension().fetch()["asset"]
    assert fetched["filename"] == "red.png" and fetched["file_size"] == str(len(png))
    assert fetched["dimension"] == {"width": 120, "height": 80}
    assert fetched["publish_details"]["locale"] == "en-us"
    missing = stack.asset(uid=draft["uid"]).fetch()
    assert missing["error_code"] == 145  # not published: the SDK hands back the error body
    # image_transform only builds a URL; the server answers it
    url = stack.image_transform(fetched["url"], width=60, format="webp").get_url()
    got = httpx.get(url, verify=False)
    assert got.status_code == 200 and got.headers["content-type"] == "image/webp"
    assert pyvips.Image.new_from_buffer(got.content, "").width == 60
