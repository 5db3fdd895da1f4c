"""A stack to deliver from: environments, locales, book, author and article content types, entries
made and published through the CMA, a delivery token, and a local CA for HTTPS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from stackyard.settings import Settings
from stackyard.store.engine import Database
from tests.cli.conftest import cli, config_dir  # noqa: F401  (the CLI tests' fixtures)
from tests.conftest import Live, _serve, _Switch
from tests.content.model.test_content_types import ct, text

AUTHOR = ct(
    "author",
    {"display_name": "Age", "uid": "age", "data_type": "number"},
    {"display_name": "Books", "uid": "books", "data_type": "reference", "reference_to": ["book"]},
)
BOOK = ct("book", {"display_name": "Pages", "uid": "pages", "data_type": "number"})
ARTICLE = ct(
    "article",
    text("body"),
    {"display_name": "Rating", "uid": "rating", "data_type": "number"},
    {
        "display_name": "Author",
        "uid": "author",
        "data_type": "reference",
        "reference_to": ["author"],
        "field_metadata": {"ref_multiple": True},
    },
    {
        "display_name": "Info",
        "uid": "info",
        "data_type": "group",
        "schema": [text("name"), {"display_name": "N", "uid": "n", "data_type": "number"}],
    },
    {
        "display_name": "Sections",
        "uid": "sections",
        "data_type": "blocks",
        "blocks": [
            {"uid": "hero", "title": "Hero", "schema": [text("heading")]},
            {"uid": "quote", "title": "Quote", "schema": [text("text")]},
        ],
    },
)
E = "/v3/content_types/{}/entries"


@dataclass
class Site:
    live: Live
    cma: httpx.Client
    api_key: str
    token: str
    environments: dict[str, str] = field(default_factory=dict)  # name -> uid

    def cda(self, environment: str = "production", base: str | None = None, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=base or self.live.url,
            headers={
                "api_key": self.api_key,
                "access_token": self.token,
                "environment": environment,
                **headers,
            },
            timeout=30,
        )

    def create(self, ct_uid: str, entry: dict[str, Any], locale: str = "en-us") -> dict[str, Any]:
        r = self.cma.post(E.format(ct_uid), params={"locale": locale}, json={"entry": entry})
        assert r.status_code == 201, r.text
        return dict(r.json()["entry"])

    def update(self, ct_uid: str, uid: str, entry: dict[str, Any], locale: str = "en-us") -> dict[str, Any]:
        r = self.cma.put(E.format(ct_uid) + "/" + uid, params={"locale": locale}, json={"entry": entry})
        assert r.status_code == 200, r.text
        return dict(r.json()["entry"])

    def publish(self, ct_uid: str, uid: str, locale: str = "en-us", environment: str = "production") -> None:
        """Publish through the CMA, as an editor does."""
        body = {"entry": {"environments": [environment], "locales": [locale]}, "locale": locale}
        r = self.cma.post(E.format(ct_uid) + f"/{uid}/publish", json=body)
        assert r.status_code == 200, r.text

    def unpublish(
        self, ct_uid: str, uid: str, locale: str = "en-us", environment: str = "production"
    ) -> None:
        body = {"entry": {"environments": [environment], "locales": [locale]}, "locale": locale}
        r = self.cma.post(E.format(ct_uid) + f"/{uid}/unpublish", json=body)
        assert r.status_code == 200, r.text


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, without rate limits: these tests publish hundreds of entries a second."""
    return settings.replace(rate_limit_enabled=False)


class _Front(_Switch):
    """The switch of the delivery tests' server, offering the current app's `answer_now` to the
    HTTP protocol as `serve` does (`server.protocol`: cached reads answered without ASGI)."""

    answers_now = True

    def answer_now(self, scope: dict[str, Any]) -> Any:
        app = self.app
        return app.answer_now(scope) if app is not None and app.answers_now else None


@pytest.fixture(scope="session")
def _delivery_server() -> Iterator[tuple[_Front, str, Any]]:
    """(the switch, the URL, the uvicorn server)."""
    from stackyard.server.protocol import http_protocol

    front = _Front()
    server, thread, url = _serve(front, http=http_protocol(), proxy_headers=False)
    yield front, url, server
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live(db: Database, settings: Settings, _delivery_server: tuple[_Front, str, Any]) -> Iterator[Live]:
    """The suite's `live`, over the HTTP protocol `serve` runs, so cached reads take its path."""
    from stackyard.server.app import create_app

    front, url, _ = _delivery_server
    front.app = create_app(settings, db)
    try:
        yield Live(url=url, db=db, settings=settings)
    finally:
        front.app = None


@pytest.fixture
def site(live: Live, cma: httpx.Client, api_key: str) -> Site:
    for name in ("production", "staging"):
        r = cma.post("/v3/environments", json={"environment": {"name": name}})
        assert r.status_code == 201, r.text
    envs = {e["name"]: e["uid"] for e in cma.get("/v3/environments").json()["environments"]}
    r = cma.post("/v3/locales", json={"locale": {"code": "fr-fr", "fallback_locale": "en-us"}})
    assert r.status_code == 201, r.text
    r = cma.post("/v3/locales", json={"locale": {"code": "fr-ca", "fallback_locale": "fr-fr"}})
    assert r.status_code == 201, r.text
    for body in (BOOK, AUTHOR, ARTICLE):
        r = cma.post("/v3/content_types", json=body)
        assert r.status_code == 201, r.text
    r = cma.post(
        "/v3/stacks/delivery_tokens",
        json={
            "token": {
                "name": "Site",
                "scope": [{"module": "environment", "environments": ["production"], "acl": {"read": True}}],
            }
        },
    )
    assert r.status_code == 201, r.text
    return Site(live=live, cma=cma, api_key=api_key, token=r.json()["token"]["token"], environments=envs)


@pytest.fixture
def books(site: Site) -> dict[str, Any]:
    """Two books, an author, three articles: all published to production in en-us."""
    b1 = site.create("book", {"title": "B1", "pages": 100})
    b2 = site.create("book", {"title": "B2", "pages": 300})
    au = site.create(
        "author",
        {
            "title": "Ann",
            "age": 40,
            "books": [
                {"uid": b1["uid"], "_content_type_uid": "book"},
                {"uid": b2["uid"], "_content_type_uid": "book"},
            ],
        },
    )
    arts = []
    for i, (rating, tags) in enumerate([(1, ["x"]), (5, ["y"]), (3, ["x", "y"])]):
        arts.append(
            site.create(
                "article",
                {
                    "title": f"Article {i}",
                    "body": f"body {i}",
                    "rating": rating,
                    "tags": tags,
                    "author": [{"uid": au["uid"], "_content_type_uid": "author"}],
                    "info": {"name": f"n{i}", "n": i},
                    "sections": [{"hero": {"heading": f"h{i}"}}],
                },
            )
        )
    for ctu, e in [("book", b1), ("book", b2), ("author", au)] + [("article", a) for a in arts]:
        site.publish(ctu, e["uid"])
    return {"books": [b1, b2], "author": au, "articles": arts}


# -- a local CA, for the official SDK (it speaks only HTTPS) ------------------------------------
@dataclass
class TLS:
    ca: Path
    cert: Path
    key: Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLS]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    d = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Stackyard test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    out = TLS(d / "ca.pem", d / "cert.pem", d / "key.pem")
    out.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    yield out


@pytest.fixture
def https(site: Site, tls: TLS, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app over HTTPS (as `serve --tls-cert/--tls-key` runs it) on the test database; answers
    `localhost:PORT`. The official SDK trusts the local CA through REQUESTS_CA_BUNDLE."""
    import threading
    import time

    import uvicorn

    from stackyard.server.app import create_app
    from stackyard.server.protocol import http_protocol
    from tests.conftest import free_port

    settings = site.live.settings.replace(
        tls_cert=str(tls.cert), tls_key=str(tls.key), rate_limit_enabled=False
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, site.live.db),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ssl_certfile=str(tls.cert),
        ssl_keyfile=str(tls.key),
        http=http_protocol(),
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the HTTPS server did not start"
        time.sleep(0.01)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    try:
        yield f"localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
