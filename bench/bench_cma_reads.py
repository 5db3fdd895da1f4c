"""Authenticated CMA reads: `GET /v3/environments/{name}` from many keep-alive clients.

Every request walks the whole read path a CMA call takes: the request id and access log middleware,
routing, session lookup by authtoken, stack and membership resolution, the permission check, one
row fetch and JSON rendering. Run:

    .venv/bin/python bench/bench_cma_reads.py --engine both --clients 64 --seconds 10
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    common_args,
    drive,
    engines,
    print_table,
    serve,
    server_settings,
    write_results,
)


def main() -> None:
    args = common_args(__doc__.splitlines()[0]).parse_args()
    rows = []
    for engine in engines(args.engine):
        with serve(engine, server_settings(args), f"server-cma-reads-{engine}.log") as server:
            with server.client() as c:
                r = c.post(
                    "/v3/environments",
                    json={
                        "environment": {
                            "name": "production",
                            "urls": [{"locale": "en-us", "url": "https://www.example.com"}],
                        }
                    },
                )
                r.raise_for_status()
                assert c.get("/v3/environments/production").status_code == 200
            request = {"method": "GET", "path": "/v3/environments/production", "headers": server.headers}
            result = drive(
                server,
                [request],
                connections=args.clients,
                seconds=args.seconds,
                warmup=args.warmup,
                processes=args.load_procs,
                profile=f"profile-cma-reads-{engine}" if args.profile else "",
            )
        rows.append({"engine": engine, "scenario": "GET environment", **result})
        print_table(rows[-1:])
    path = write_results("cma_reads", args, rows)
    print()
    print_table(rows)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
