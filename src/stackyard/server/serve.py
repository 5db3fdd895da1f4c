"""Running the server: logging, first-start bootstrap, uvicorn (over `server.protocol`) with graceful
shutdown and optional TLS."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import threading
import time
from typing import Any

from stackyard.edge.demo import text as edge_text
from stackyard.identity.mail import deliver_pending
from stackyard.server.app import create_app
from stackyard.server.bootstrap import DEMO_PASSWORD, ensure_demo, ensure_owner
from stackyard.server.listen import PerWorker, StartGate, reuse_port_supported
from stackyard.server.protocol import http_protocol, use_limits
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database

# How the first process hands the resolved settings to the worker processes uvicorn spawns.
_WORKER_SETTINGS = "STACKYARD_INTERNAL_WORKER_SETTINGS"


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("stackyard.access")
    access.handlers = [handler]
    access.propagate = False
    access.setLevel(logging.INFO)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request's full URL at INFO, query string (and any token in it) included:
    # the outbound client's calls (origin fetches, webhooks) must not put those in the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # libvips reports each finished thread pool and each operation's notes at INFO: not news.
    logging.getLogger("pyvips").setLevel(logging.WARNING)


def run(settings: Settings) -> None:
    import uvicorn

    configure_logging()
    use_limits(settings)
    if settings.demo and not settings.edge_port:
        settings = settings.replace(edge_port=8081)  # the demo's edge data plane (DESIGN §7)
    db = Database(
        settings.resolved_database_url,
        pool_size=settings.db_pool_size,
        group_commit=settings.sqlite_group_commit,
    )
    workers = max(1, settings.workers)
    app = create_app(settings, db) if workers == 1 else None
    if app is None:
        migrations.upgrade(db)
    message = ensure_owner(db, settings)
    if message:
        print(message, file=sys.stderr)
    scheme = "https" if settings.tls_cert and settings.tls_key else "http"
    base = f"{scheme}://{settings.host}:{settings.port}"
    if settings.demo:
        info = ensure_demo(db, settings)
        from stackyard.edge import demo as edge_demo

        info.update(edge_demo.ensure(db, settings, info))
        print(_demo_text(base, info, settings), file=sys.stderr)
    if settings.smtp_url:
        start_mailer(db, settings)
    target: Any = app
    if app is None:
        # Each worker process builds its own app and database handle from the same settings, less
        # the secrets only this process uses (the owner is created and mail is sent here).
        shared = settings.replace(admin_password="", admin_password_file="", smtp_url="")
        os.environ[_WORKER_SETTINGS] = json.dumps(dataclasses.asdict(shared))
        for name in ("STACKYARD_ADMIN_PASSWORD", "STACKYARD_SMTP_URL"):
            os.environ.pop(name, None)  # read already; the worker processes inherit the rest
        target = "stackyard.server.serve:worker_app"
    options: dict[str, Any] = dict(
        http=http_protocol(),
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls_cert or None,
        ssl_keyfile=settings.tls_key or None,
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=10,
        proxy_headers=False,
        server_header=False,
    )
    if app is None and settings.port and reuse_port_supported():
        # uvicorn's supervisor (health checks, restarts, signals), each worker on a socket of its own
        from uvicorn.supervisors import Multiprocess

        config = uvicorn.Config(target, factory=True, workers=workers, **options)
        try:
            listener = PerWorker(settings.host, settings.port)
        except OSError as e:
            logging.getLogger("uvicorn.error").error(
                "could not listen on %s:%s: %s", settings.host, settings.port, e
            )
            sys.exit(1)
        gate = StartGate(workers)
        try:
            Multiprocess(config, sockets=[listener]).run()
        finally:
            listener.close()
            gate.close()
    else:
        uvicorn.run(target, factory=app is None, workers=workers, **options)
    db.close()


def worker_app() -> Any:
    """The app of one worker process (`--workers` > 1). The first process has already migrated the
    database and created the owner; each worker gets an even share of the rate limits."""
    configure_logging()
    settings = Settings(**json.loads(os.environ[_WORKER_SETTINGS]))
    use_limits(settings)  # before this process accepts a connection
    n = max(1, settings.workers)
    settings = settings.replace(
        rate_limit_reads=max(1, settings.rate_limit_reads // n),
        rate_limit_writes=max(1, settings.rate_limit_writes // n),
        auth_attempts_per_minute=-(-settings.auth_attempts_per_minute // n),
        failed_auth_per_minute=-(-settings.failed_auth_per_minute // n),
    )
    return create_app(settings)


def start_mailer(db: Database, settings: Settings, interval: float = 5.0) -> threading.Thread:
    """Send queued mail over SMTP in the background; the outbox keeps what could not be sent yet."""

    def loop() -> None:
        while True:
            try:
                deliver_pending(db, settings)
            except Exception:
                logging.getLogger("stackyard.mail").exception("mail delivery failed")
            time.sleep(interval)

    thread = threading.Thread(target=loop, name="stackyard-mailer", daemon=True)
    thread.start()
    return thread


def _demo_text(base: str, info: dict, settings: Settings) -> str:
    password = (
        DEMO_PASSWORD if info.get("email") == "demo@stackyard.local" else "(your STACKYARD_ADMIN_PASSWORD)"
    )
    lines = [
        "",
        f"Stackyard demo is at {base}",
        f"  log in:        stackyard login --url {base} --email {info.get('email')}   (password: {password})",
        f"  stack api_key: {info.get('api_key')}",
    ]
    if info.get("delivery_token"):
        lines.append(f"  delivery token for '{info.get('environment')}': {info['delivery_token']}")
    if info.get("automation_rule"):
        lines.append(
            f"  automation:    rule {info['automation_rule']} keeps the last published entry's title; "
            f"stackyard auth {info.get('email')} && stackyard key get last_published"
        )
    lines += [
        f"  try:           curl -s {base}/v3/environments -H 'api_key: {info.get('api_key')}' -H 'authtoken: <from login>'",
        *(edge_text(info, settings) if settings.edge_port else []),
        f"  (these details are kept in {settings.data_dir}/demo.json)",
        "",
    ]
    return "\n".join(lines)
