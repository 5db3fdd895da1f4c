"""Publishing: single publishes per second from many clients, and a bulk publish end to end.

(a) `POST /v3/content_types/article/entries/{uid}/publish` to one environment and locale, from
`--clients` keep-alive connections, each request a different entry (cycled); every one writes the
snapshot, its event and audit entry, and its publish queue item before it answers.
(b) `POST /v3/bulk/publish` of `--bulk` entries, timed from the request until the job's status says
completed (polled every 50 ms), the job run by the server's own job runner.

    .venv/bin/python bench/bench_publishing.py --engine both --clients 64 --seconds 10 --bulk 10000
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    Server,
    common_args,
    drive,
    engines,
    print_table,
    serve,
    server_settings,
    write_results,
)

CT = {
    "content_type": {
        "title": "Article",
        "uid": "article",
        "schema": [
            {"display_name": "Title", "uid": "title", "data_type": "text", "mandatory": True, "unique": True},
            {"display_name": "Body", "uid": "body", "data_type": "text"},
        ],
    }
}


def make_entries(server: Server, n: int, clients: int) -> list[str]:
    """`n` articles, created through the CMA with the load generator's connections."""
    body = json.dumps({"entry": {"title": "Article {n}", "body": "x" * 400}})
    headers = {**server.headers, "Content-Type": "application/json"}
    request = {
        "method": "POST",
        "path": "/v3/content_types/article/entries",
        "headers": headers,
        "body": body,
    }

    def count() -> int:
        with server.client() as c:
            params = {"include_count": "true", "limit": 1}
            return int(c.get("/v3/content_types/article/entries", params=params).json()["count"])

    target = count() + n
    deadline = time.monotonic() + 300
    while (have := count()) < target and time.monotonic() < deadline:
        seconds = max(1.0, (target - have) / 800)
        drive(server, [request], connections=clients, seconds=seconds, expect=201, warmup=0)
    uids: list[str] = []
    with server.client() as c:
        while True:
            page = c.get(
                "/v3/content_types/article/entries", params={"skip": len(uids), "limit": 100}
            ).json()["entries"]
            if not page:
                break
            uids += [e["uid"] for e in page]
    return uids


def bulk(server: Server, uids: list[str]) -> dict[str, float]:
    body = {
        "entries": [{"uid": u, "content_type": "article", "locale": "en-us"} for u in uids],
        "environments": ["production"],
    }
    with server.client() as c:
        t0 = time.monotonic()
        r = c.post("/v3/bulk/publish", json=body)
        r.raise_for_status()
        accepted = time.monotonic() - t0
        job = r.json()["job_id"]
        while True:
            status = c.get(f"/v3/bulk/jobs/{job}", params={"limit": 1}).json()
            if status["status"] == "completed":
                break
            time.sleep(0.05)
        total = time.monotonic() - t0
    return {
        "items": len(uids),
        "accepted_s": round(accepted, 3),
        "total_s": round(total, 3),
        "items_per_s": round(len(uids) / total, 1),
        "failed": status["failed"],
    }


def main() -> None:
    p = common_args(__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=2000, help="articles the single publishes cycle over")
    p.add_argument("--bulk", type=int, default=10_000, help="entries in the bulk publish")
    args = p.parse_args()
    rows, bulks = [], []
    for engine in engines(args.engine):
        with serve(engine, server_settings(args), f"server-publishing-{engine}.log") as server:
            with server.client() as c:
                c.post("/v3/environments", json={"environment": {"name": "production"}}).raise_for_status()
                c.post("/v3/content_types", json=CT).raise_for_status()
            uids = make_entries(server, max(args.entries, args.bulk), args.clients)
            body = json.dumps({"entry": {"environments": ["production"], "locales": ["en-us"]}})
            headers = {**server.headers, "Content-Type": "application/json"}
            requests = [
                {
                    "method": "POST",
                    "path": f"/v3/content_types/article/entries/{u}/publish",
                    "headers": headers,
                    "body": body,
                }
                for u in uids[: args.entries]
            ]
            result = drive(
                server,
                requests,
                connections=args.clients,
                seconds=args.seconds,
                warmup=args.warmup,
                processes=args.load_procs,
                profile=f"profile-publishing-{engine}" if args.profile else "",
            )
            rows.append({"engine": engine, "scenario": "single publish", **result})
            print_table(rows[-1:])
            figures = bulk(server, uids[: args.bulk])
            bulks.append({"engine": engine, **figures})
            print(
                f"{engine}: bulk publish of {figures['items']} entries: {figures['total_s']} s end to end "
                f"({figures['items_per_s']} items/s, accepted in {figures['accepted_s']} s, {figures['failed']} failed)"
            )
    path = write_results("publishing", args, [*rows, *({"bulk": b} for b in bulks)])
    print()
    print_table(rows)
    for b in bulks:
        print(f"{b['engine']:<11} bulk {b['items']}: {b['total_s']} s ({b['items_per_s']} items/s)")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
