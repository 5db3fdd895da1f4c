"""No request can stall the server for the others: while 8 clients send pathological `$regex`
queries, `/healthz` and an honest client's reads stay fast (both engines, over HTTP).

Before RE2, one `{"title": {"$regex": "(a+)+$"}}` against a 26-character title held SQLite's event
loop for 8.7 s. The run is bounded: `SECONDS` of load, then the percentiles are checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from stackyard.settings import Settings
from tests.conftest import Live

# measures latency: runs alone, after the parallel part of the suite
pytestmark = pytest.mark.solo

SECONDS = 3.0
HOSTILE_CLIENTS = 8
PATTERNS = ["(a+)+$", "^([A-Za-z ]+)+$", "(a|aa)*b$", "(x+x+)+y", "^(\\w+\\s?)*$"]


# The load generator: `python -c HOSTILE url headers patterns clients`; prints "started", then, on
# a line on stdin, stops and prints every status code it got.
HOSTILE = """
import json, sys, threading, httpx
url, headers, patterns, n = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
stop, codes = threading.Event(), []
def run(k):
    with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
        while not stop.is_set():
            q = json.dumps({"title": {"$regex": patterns[k % len(patterns)]}})
            codes.append(c.get("/v3/content_types/blog/entries", params={"query": q}).status_code)
            k += 1
threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
for t in threads: t.start()
print("started", flush=True)
sys.stdin.readline()
stop.set()
for t in threads: t.join()
print(" ".join(map(str, codes)))
"""


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    """No rate limits: the hostile clients share the honest one's organization, and the point is
    what their queries cost, not how many the limiter lets through."""
    return Settings(
        data_dir=str(tmp_path),
        access_log=False,
        rate_limit_enabled=False,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
    )


def _p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


@pytest.mark.timeout(120)
def test_pathological_regexes_do_not_stall_other_requests(live: Live, cma: httpx.Client) -> None:
    # given a content type whose entries have titles that make backtracking explode
    r = cma.post(
        "/v3/content_types",
        json={
            "content_type": {
                "title": "Blog",
                "uid": "blog",
                "schema": [{"uid": "title", "data_type": "text", "display_name": "Title", "mandatory": True}],
            }
        },
    )
    assert r.status_code == 201, r.text
    titles = ["a" * 25 + "!", "The quick brown fox jumps over the lazy dog again!", "x" * 3000]
    for i in range(12):
        r = cma.post("/v3/content_types/blog/entries", json={"entry": {"title": f"{titles[i % 3]} {i}!"}})
        assert r.status_code == 201, r.text
    headers = {k: v for k, v in cma.headers.items() if k in ("authtoken", "api_key")}
    # The hostile clients run in another process: in this one their Python would compete with the
    # server for the GIL, and the test would measure that instead of the server.
    load = subprocess.Popen(
        [
            sys.executable,
            "-c",
            HOSTILE,
            live.url,
            json.dumps(headers),
            json.dumps(PATTERNS),
            str(HOSTILE_CLIENTS),
        ],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )

    def timed(c: httpx.Client, path: str, **params: Any) -> float:
        started = time.perf_counter()
        answer = c.get(path, params=params)
        took = time.perf_counter() - started
        assert answer.status_code == 200, answer.text
        return took

    # when 8 clients send them while /healthz and an honest client are measured
    health: list[float] = []
    honest: list[float] = []
    try:
        assert load.stdout is not None and load.stdout.readline().strip() == "started"
        time.sleep(0.3)  # let the load build up
        with (
            httpx.Client(base_url=live.url, timeout=60) as h,
            httpx.Client(base_url=live.url, headers=headers, timeout=60) as c,
        ):
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                health.append(timed(h, "/healthz"))
                honest.append(timed(c, "/v3/content_types/blog/entries", limit="5"))
    finally:
        out, _ = load.communicate("stop\n", timeout=60)
    hostile_answers = [int(s) for s in out.split()]
    # then the hostile queries were answered (no 5xx), and nobody else waited for them
    assert hostile_answers and all(s == 200 for s in hostile_answers), set(hostile_answers)
    assert len(health) > 20
    assert _p99(health) < 0.050, f"/healthz p99 {_p99(health) * 1000:.1f} ms over {len(health)} requests"
    assert _p99(honest) < 0.100, f"honest p99 {_p99(honest) * 1000:.1f} ms over {len(honest)} requests"
