"""Purges at the data plane: by URL, recursive prefix, tag, header and invalidate-only, applied
before the purge request returns on a node of this process; and metrics counted from the traffic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stackyard.edge import metrics
from tests.edge.conftest import Edge
from tests.edge.origin import Seen

pytestmark = pytest.mark.timeout(60)


def _versioned(edge: Edge, path: str, **headers: str) -> dict[str, int]:
    state = {"n": 0}
    extra = {k.replace("_", "-"): v for k, v in headers.items()}

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        state["n"] += 1
        return 200, {"Cache-Control": "max-age=600", **extra}, f"{seen.path} v{state['n']}".encode()

    edge.origin.routes[path] = answer
    return state


def test_purge_by_url_drops_only_that_url(edge: Edge) -> None:
    _versioned(edge, "/a")
    _versioned(edge, "/b")
    edge.get("/a"), edge.get("/b"), edge.get("/a?x=1")
    edge.purge({"url": "https://cdn.test/a"})
    assert edge.get("/a").text == "/a v3"
    assert edge.get("/b").headers["x-cache"] == "HIT"
    assert edge.get("/a?x=1").headers["x-cache"] == "HIT"
    edge.purge({"url": "/a", "purgeAllDynamic": True})
    assert edge.get("/a?x=1").headers["x-cache"] == "MISS"


def test_recursive_purge_drops_everything_under_a_prefix(edge: Edge) -> None:
    for p in ("/img/1.png", "/img/2.png", "/css/a.css"):
        _versioned(edge, p)
        edge.get(p)
    edge.purge({"url": "https://cdn.test/img/", "recursive": True})
    assert edge.get("/img/1.png").headers["x-cache"] == "MISS"
    assert edge.get("/img/2.png").headers["x-cache"] == "MISS"
    assert edge.get("/css/a.css").headers["x-cache"] == "HIT"
    edge.purge({"url": "https://other.test/", "recursive": True})  # another site's domain: nothing here
    assert edge.get("/css/a.css").headers["x-cache"] == "HIT"


def test_tag_purge_matches_the_x_tag_header(edge: Edge) -> None:
    _versioned(edge, "/e1", X_Tag="blt1,blt1.entry.e1,blt1.ct.blog")
    _versioned(edge, "/e2", X_Tag="blt1,blt1.entry.e2,blt1.ct.blog")
    _versioned(edge, "/p", X_Tag="blt1,blt1.entry.p,blt1.ct.page")
    for p in ("/e1", "/e2", "/p"):
        edge.get(p)
    edge.purge(
        {
            "url": "/",
            "recursive": True,
            "purgeSelector": [{"selectorType": "TAG", "selectorValue": "blt1.ct.blog"}],
        }
    )
    assert edge.get("/e1").headers["x-cache"] == "MISS" and edge.get("/e2").headers["x-cache"] == "MISS"
    assert edge.get("/p").headers["x-cache"] == "HIT"
    edge.purge(
        {
            "url": "",
            "purgeSelector": [
                {"selectorType": "TAG", "selectorValue": "blt1.entry.p|x", "selectorValueDelimiter": "|"}
            ],
        }
    )
    assert edge.get("/p").headers["x-cache"] == "MISS"


def test_header_purge_matches_a_named_response_header(edge: Edge) -> None:
    _versioned(edge, "/x", X_Team="red")
    _versioned(edge, "/y", X_Team="blue")
    edge.get("/x"), edge.get("/y")
    edge.purge(
        {
            "url": "/",
            "recursive": True,
            "purgeSelector": [{"selectorType": "HEADER", "selectorName": "X-Team", "selectorValue": "red"}],
        }
    )
    assert edge.get("/x").headers["x-cache"] == "MISS"
    assert edge.get("/y").headers["x-cache"] == "HIT"


def test_invalidate_only_revalidates_by_strong_etag_and_never_trusts_a_weak_one(edge: Edge) -> None:
    etags = {"v": 'W/"same"'}

    def answer(seen: Seen) -> tuple[int, dict[str, str], bytes]:
        if seen.headers.get("if-none-match") == etags["v"]:
            return 304, {"Cache-Control": "max-age=600", "ETag": etags["v"]}, b""
        return (
            200,
            {
                "Cache-Control": "max-age=600",
                "ETag": etags["v"],
                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            },
            b"new" if len(edge.origin.seen) > 1 else b"old",
        )

    edge.origin.routes["/inv"] = answer
    assert edge.get("/inv").text == "old"
    edge.purge({"url": "/inv", "invalidateOnly": True})
    fresh = edge.get("/inv")
    assert fresh.text == "new"  # a weak ETag (and Last-Modified) could collide: a full fetch
    seen = edge.origin.seen[-1].headers
    assert "if-none-match" not in seen and "if-modified-since" not in seen
    etags["v"] = '"strong"'
    edge.purge({"url": "/inv"})
    edge.get("/inv")
    edge.purge({"url": "/inv", "invalidateOnly": True})
    again = edge.get("/inv")
    assert edge.origin.seen[-1].headers["if-none-match"] == '"strong"' and again.headers["x-cache"] == "HIT"


def test_purge_status_is_one_once_the_node_applied_it(edge: Edge) -> None:
    from stackyard.edge import purges

    purge_id = edge.purge({"url": "/"})
    with edge.db.read() as tx:
        assert purges.progress(tx, edge.caller, edge.stack_id, purge_id) == 1.0
    assert edge.plane.purges_applied == 1


def test_metrics_count_real_traffic(edge: Edge) -> None:
    edge.origin.route("/m", body=b"x" * 1000, Cache_Control="max-age=60")
    for _ in range(3):
        edge.get("/m")
    edge.plane.flush_metrics()
    now = datetime.now(UTC)
    q = {
        "start_date": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "granularity": "PT5M",
        "platforms": "CDE,CDO",
        "group_by": "PLATFORM",
        "pops": "",
        "sites": "",
    }
    with edge.db.read() as tx:
        found = metrics.get(tx, edge.caller, edge.stack_id, q)
    series = {s["key"]: s for s in found["series"]}
    cde = series["CDE"]["samples"][-1]["values"]
    names = series["CDE"]["metrics"]
    assert dict(zip(names, cde, strict=True))["requestsCountTotal"] == 3
    assert dict(zip(names, cde, strict=True))["cacheHitsCountTotal"] == 2
    assert dict(zip(names, series["CDO"]["samples"][-1]["values"], strict=True))["requestsCountTotal"] == 1
    for granularity in ("PT1H", "P1D", "P1M", "AUTO"):
        with edge.db.read() as tx:
            got = metrics.get(
                tx, edge.caller, edge.stack_id, {**q, "granularity": granularity, "group_by": "SITE"}
            )
        assert got["series"][0]["key"] == edge.site_id
        assert sum(s["values"][2] for s in got["series"][0]["samples"]) == 4
