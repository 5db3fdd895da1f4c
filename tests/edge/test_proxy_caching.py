"""The data plane's caching rules (RFC 9111), each against an origin the test runs."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import wait_for
from tests.edge.conftest import Edge
from tests.edge.origin import Origin, Seen

pytestmark = pytest.mark.timeout(60)


def test_max_age_is_cached_with_age_and_x_cache(edge: Edge) -> None:
    edge.origin.route("/a", body=b"A", Cache_Control="max-age=60")
    first, second = edge.get("/a"), edge.get("/a")
    assert first.headers["x-cache"] == "MISS" and second.headers["x-cache"] == "HIT"
    assert second.text == "A" and int(second.headers["age"]) >= 0
    assert edge.origin.count("/a") == 1


@pytest.mark.parametrize(
    "cache_control",
    ["no-store", "private", "max-age=0, no-store", ""],
    ids=["no-store", "private", "both", "none"],
)
def test_responses_that_may_not_be_shared_are_never_stored(edge: Edge, cache_control: str) -> None:
    edge.origin.route("/p", body=b"P", **({"Cache_Control": cache_control} if cache_control else {}))
    assert [edge.get("/p").headers["x-cache"] for _ in range(3)] == ["MISS"] * 3
    assert edge.origin.count("/p") == 3


def test_set_cookie_answers_are_not_stored(edge: Edge) -> None:
    edge.origin.route("/c", Cache_Control="max-age=60", Set_Cookie="s=1")
    edge.get("/c"), edge.get("/c")
    assert edge.origin.count("/c") == 2


def test_s_maxage_wins_over_max_age_and_expires_counts(edge: Edge) -> None:
    edge.origin.route("/s", Cache_Control="max-age=0, s-maxage=60")
    edge.origin.route("/e", Expires="Thu, 01 Jan 2099 00:00:00 GMT")
    edge.origin.route("/old", Expires="Thu, 01 Jan 1998 00:00:00 GMT")
    for path in ("/s", "/e", "/old"):
        edge.get(path)
    assert edge.get("/s").headers["x-cache"] == "HIT"
    assert edge.get("/e").headers["x-cache"] == "HIT"
    assert edge.get("/old").headers["x-cache"] == "MISS"


def test_no_cache_is_revalidated_every_time_with_a_304(edge: Edge) -> None:
    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        headers = {"Cache-Control": "no-cache", "ETag": '"v1"'}
        if seen.headers.get("if-none-match") == '"v1"':
            return 304, headers, b""
        return 200, headers, b"body-v1"

    edge.origin.routes["/nc"] = answer
    assert edge.get("/nc").text == "body-v1"
    again = edge.get("/nc")
    assert again.text == "body-v1" and again.headers["x-cache"] == "HIT"
    conditional = [s for s in edge.origin.seen if s.headers.get("if-none-match")]
    assert len(conditional) == 1 and len(edge.origin.seen) == 2


def test_expired_entries_revalidate_by_etag_and_last_modified(edge: Edge) -> None:
    versions = {"etag": '"one"'}

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Cache-Control": "max-age=0",
            "ETag": versions["etag"],
            "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
        }
        if seen.headers.get("if-none-match") == versions["etag"]:
            return 304, headers, b""
        return 200, headers, versions["etag"].encode()

    edge.origin.routes["/v"] = answer
    assert edge.get("/v").text == '"one"'
    assert edge.get("/v").text == '"one"'
    assert edge.origin.seen[-1].headers["if-none-match"] == '"one"'
    assert edge.origin.seen[-1].headers["if-modified-since"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    versions["etag"] = '"two"'
    assert edge.get("/v").text == '"two"'


def test_weak_etags_are_never_sent_to_revalidate(edge: Edge) -> None:
    edge.origin.route("/w", Cache_Control="max-age=0", ETag='W/"same"')
    edge.get("/w"), edge.get("/w")
    assert "if-none-match" not in edge.origin.seen[-1].headers


def test_vary_keeps_one_entry_per_header_value(edge: Edge) -> None:
    edge.origin.routes["/vary"] = lambda s: (
        200,
        {"Cache-Control": "max-age=60", "Vary": "Accept-Language"},
        s.headers.get("accept-language", "none").encode(),
    )
    assert edge.get("/vary", **{"accept-language": "fr"}).text == "fr"
    assert edge.get("/vary", **{"accept-language": "de"}).text == "de"
    hit = edge.get("/vary", **{"accept-language": "fr"})
    assert hit.text == "fr" and hit.headers["x-cache"] == "HIT"
    assert edge.origin.count("/vary") == 2


def test_query_string_is_part_of_the_key(edge: Edge) -> None:
    edge.origin.routes["/q"] = lambda s: (200, {"Cache-Control": "max-age=60"}, s.path.encode())
    assert edge.get("/q?a=1").text == "/q?a=1"
    assert edge.get("/q?a=2").text == "/q?a=2"
    assert edge.get("/q?a=1").headers["x-cache"] == "HIT"


def test_stale_while_revalidate_serves_stale_and_refreshes_once(edge: Edge) -> None:
    state = {"n": 0}

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        state["n"] += 1
        return 200, {"Cache-Control": "max-age=1, stale-while-revalidate=60"}, f"v{state['n']}".encode()

    edge.origin.routes["/swr"] = answer
    assert edge.get("/swr").text == "v1"
    time.sleep(1.1)
    stale = edge.get("/swr")
    assert stale.headers["x-cache"] == "STALE" and stale.text == "v1"
    wait_for(lambda: edge.get("/swr").text == "v2", what="the background refresh")
    assert edge.origin.count("/swr") == 2


def test_stale_if_error_serves_stale_when_the_origin_fails(edge: Edge) -> None:
    edge.origin.route("/sie", body=b"good", Cache_Control="max-age=1, stale-if-error=60")
    assert edge.get("/sie").text == "good"
    time.sleep(1.1)
    edge.origin.route("/sie", status=500, body=b"broken")
    r = edge.get("/sie")
    assert r.status_code == 200 and r.text == "good" and r.headers["x-cache"] == "STALE"


def test_concurrent_misses_make_one_origin_fetch(edge: Edge) -> None:
    edge.origin.route("/slow", body=b"x" * 1000, Cache_Control="max-age=60")
    edge.origin.delay = 0.3
    results: list[httpx.Response] = []

    def fetch() -> None:
        results.append(edge.get("/slow"))

    threads = [threading.Thread(target=fetch) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20 and all(r.status_code == 200 and len(r.content) == 1000 for r in results)
    assert edge.origin.count("/slow") == 1


def test_range_requests_get_206(edge: Edge) -> None:
    body = bytes(range(256)) * 400
    edge.origin.route("/big", body=body, Cache_Control="max-age=60", Content_Type="application/octet-stream")
    edge.get("/big")
    r = edge.get("/big", range="bytes=100-199")
    assert r.status_code == 206 and r.content == body[100:200]
    assert r.headers["content-range"] == f"bytes 100-199/{len(body)}"
    assert edge.get("/big", range="bytes=-10").content == body[-10:]
    assert edge.get("/big", range=f"bytes={len(body)}-").status_code == 416
    assert edge.origin.count("/big") == 1
    assert "range" not in edge.origin.seen[0].headers


def test_compression_is_negotiated(edge: Edge) -> None:
    text = b'{"entries": [' + b'{"title": "hello"},' * 200 + b"{}]}"
    edge.origin.route("/j", body=text, Cache_Control="max-age=60", Content_Type="application/json")
    with edge.client() as c:
        raw = c.get("/j", headers={"accept-encoding": "gzip"})
        assert raw.headers["content-encoding"] == "gzip" and raw.content == text
        assert "accept-encoding" in raw.headers["vary"].lower()
        plain = c.get("/j", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.content == text
    assert int(raw.headers["content-length"]) < len(text) // 4 or gzip.decompress(b"") == b""


def test_unknown_hosts_404_and_disabled_sites_403_with_nothing_fetched(edge: Edge) -> None:
    from stackyard.edge import sites

    edge.origin.route("/a", Cache_Control="max-age=60")
    assert edge.get("/a", host="other.test").status_code == 404
    with edge.db.write() as tx:
        sites.set_enabled(tx, edge.caller, edge.stack_id, edge.site_id, False)
    edge.plane.reload_now()
    assert edge.get("/a").status_code == 403
    assert edge.origin.seen == []


def test_a_delivery_token_answer_is_never_served_to_another_token(edge: Edge) -> None:
    edge.origin.routes["/v3/content_types/blog/entries"] = lambda s: (
        200,
        {"Cache-Control": "max-age=60"},
        s.headers.get("access_token", "").encode(),
    )
    path = "/v3/content_types/blog/entries?environment=production"
    a = edge.get(path, api_key="blt1", access_token="token-a")
    b = edge.get(path, api_key="blt1", access_token="token-b")
    assert (a.text, b.text) == ("token-a", "token-b")
    assert edge.get(path, api_key="blt1", access_token="token-a").headers["x-cache"] == "HIT"
    assert edge.get(path, api_key="blt1", access_token="token-b").text == "token-b"
    assert (
        edge.get(path, api_key="blt1", environment="staging", access_token="token-a").headers["x-cache"]
        == "MISS"
    )


def test_the_edge_never_forwards_its_own_credentials(edge: Edge) -> None:
    from stackyard.edge import credentials
    from stackyard.ids import now

    with edge.db.write() as tx:
        tx.run(
            "INSERT INTO edge_credentials (client_id, org_uid, name, secret_hash, created_by, created_at) VALUES (?, ?, 'x', ?, 'u', ?)",
            "c" * 32,
            edge.caller.org_uid,
            "h",
            now(),
        )
        tx.run(
            "UPDATE edge_credentials SET secret_hash = ? WHERE client_id = ?",
            __import__("hashlib").sha256(b"s").hexdigest(),
            "c" * 32,
        )
        token = credentials.issue_token(tx, {"client_id": "c" * 32, "client_secret": "s"}, 60)["access_token"]
    edge.origin.route("/h", Cache_Control="no-store")
    edge.get("/h", authorization=f"Bearer {token}")
    edge.get("/h", authorization="Bearer someone-elses")
    first, second = edge.origin.seen
    assert "authorization" not in first.headers
    assert second.headers["authorization"] == "Bearer someone-elses"
    assert first.headers["x-forwarded-for"] == "127.0.0.1" and first.headers["x-forwarded-host"] == "cdn.test"


def test_loopback_origins_are_refused_without_allow_private_outbound(
    db: object, edge_settings: object, origin: Origin
) -> None:
    from stackyard.edge import fanout
    from stackyard.edge.proxy.plane import DataPlane
    from tests.edge.conftest import account, make_site

    origin.reset()
    origin.route("/a", Cache_Control="max-age=60")
    caller = account(db)  # type: ignore[arg-type]
    make_site(db, caller, origin.port)  # type: ignore[arg-type]
    old = fanout.use(fanout.LocalHub())
    plane = DataPlane(db, edge_settings.replace(allow_private_outbound=False))  # type: ignore[arg-type,attr-defined]
    plane.start("127.0.0.1", 0)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{plane.port}", headers={"host": "cdn.test"}) as c:
            assert c.get("/a").status_code == 502
        assert origin.seen == []
    finally:
        plane.stop()
        fanout.use(old)


def test_post_goes_to_the_origin_and_drops_the_cached_path(edge: Edge) -> None:
    edge.origin.route("/form", Cache_Control="max-age=60")
    edge.get("/form")
    with edge.client() as c:
        r = c.post("/form", content=b"a=1")
    assert r.status_code == 200 and edge.origin.seen[-1].body == b"a=1"
    assert edge.get("/form").headers["x-cache"] == "MISS"


def test_configuration_blocks_are_honoured(edge: Edge) -> None:
    edge.origin.route("/plain", body=b"p")
    edge.origin.route("/api/x", body=b"a", Cache_Control="max-age=60")
    edge.configure(
        cacheControl=[{"maxAge": 120}],
        bypassCache=[{"bypassCache": True, "pathFilter": "/api/*"}],
        staticHeader=[{"http": "X-Served-By: stackyard-edge", "originPull": "X-From-Edge: 1"}],
    )
    edge.get("/plain")
    hit = edge.get("/plain")
    assert hit.headers["x-cache"] == "HIT" and hit.headers["x-served-by"] == "stackyard-edge"
    assert edge.origin.seen[0].headers["x-from-edge"] == "1"
    edge.get("/api/x"), edge.get("/api/x")
    assert edge.origin.count("/api/x") == 2


def test_origin_pull_policy_sets_the_ttl(edge: Edge) -> None:
    edge.origin.route("/n", Cache_Control="no-store")
    edge.origin.route("/d", Cache_Control="max-age=60")
    edge.configure(
        originPullPolicy=[
            {"expirePolicy": "DO_NOT_CACHE", "pathFilter": "/d"},
            {"expirePolicy": "SPECIFY_CDN_TTL", "expireSeconds": 60, "honorNoStore": False},
        ]
    )
    edge.get("/n"), edge.get("/d")
    assert edge.get("/n").headers["x-cache"] == "HIT"
    assert edge.get("/d").headers["x-cache"] == "MISS"


@pytest.fixture
def _unused() -> Iterator[None]:
    yield
