"""Credentials never reach the logs: the client secret, the bearer token (access log on), and the
delivery token a request through the edge carried, even when its origin fails."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import ServeFactory, make_user
from tests.edge.conftest import Edge, create_credential


def test_edge_api_credentials_are_not_logged(serve: ServeFactory, caplog: pytest.LogCaptureFixture) -> None:
    live = serve(access_log=True)
    owner = make_user(live, "logs@example.com")
    caplog.set_level(logging.DEBUG)
    cred = create_credential(live, owner)
    with live.client() as c:
        token = c.post(
            "/identity/v1/oauth2/token",
            json={
                "grant_type": "client_credentials",
                "client_id": cred.client_id,
                "client_secret": cred.client_secret,
            },
        ).json()["access_token"]
    with live.client(authorization=f"Bearer {token}") as c:
        assert c.get("/stack/v1/stacks").status_code == 200
    assert "/stack/v1/stacks" in caplog.text  # the access log did log the requests
    assert cred.client_secret not in caplog.text and token not in caplog.text


def test_the_data_plane_logs_no_delivery_token(edge: Edge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    edge.origin.route("/x", Cache_Control="max-age=60")
    edge.configure()  # a reload, logged or not
    from stackyard.edge import sites

    with edge.db.write() as tx:  # an origin nobody listens on: the fetch fails and is logged
        sites.add_origin(
            tx,
            edge.caller,
            edge.stack_id,
            edge.site_id,
            sites.scopes(tx, edge.caller, edge.stack_id, edge.site_id)[0]["id"],
            {"origin": {"hostname": "127.0.0.1", "port": 9}, "priority": 0},
        )
    edge.plane.reload_now()
    r = edge.get("/x?access_token=secret-in-query", access_token="secret-token-value", api_key="blt1")
    assert r.status_code == 502
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("stackyard"))
    assert "origin fetch" in ours
    assert "secret-token-value" not in ours and "secret-in-query" not in ours


def test_serve_keeps_httpx_request_lines_out_of_the_log() -> None:
    from stackyard.server.serve import configure_logging

    loggers = [logging.getLogger(n) for n in ("", "stackyard.access", "httpx")]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    try:
        configure_logging()
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        for lg, handlers, level, propagate in saved:
            lg.handlers, lg.level, lg.propagate = handlers, level, propagate
