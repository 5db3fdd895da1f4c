"""Entries: validated creates (with a reference field) and fetches by uid, from many keep-alive clients.

Two content types are made over the CMA: `author` (title) and `post` (title, body, views, featured
and a single reference to an author). Then, per engine:

- create: `POST /v3/content_types/post/entries?locale=en-us` with a distinct title each time and a
  reference to one author, expecting 201 (schema validation, reference check, version 1, event and
  audit rows, one write transaction each);
- fetch: `GET /v3/content_types/post/entries/{uid}?locale=en-us` over 100 of the created entries,
  expecting 200.

    .venv/bin/python bench/bench_entries.py --engine both --clients 64 --seconds 10
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

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

AUTHOR = {
    "content_type": {
        "title": "Author",
        "uid": "author",
        "schema": [
            {
                "display_name": "Title",
                "uid": "title",
                "data_type": "text",
                "mandatory": True,
                "unique": False,
                "field_metadata": {"_default": True},
            }
        ],
        "options": {"is_page": False, "singleton": False, "title": "title", "sub_title": []},
    }
}

POST = {
    "content_type": {
        "title": "Post",
        "uid": "post",
        "schema": [
            {
                "display_name": "Title",
                "uid": "title",
                "data_type": "text",
                "mandatory": True,
                "unique": False,
                "field_metadata": {"_default": True},
            },
            {
                "display_name": "Body",
                "uid": "body",
                "data_type": "text",
                "field_metadata": {"multiline": True},
            },
            {"display_name": "Views", "uid": "views", "data_type": "number"},
            {"display_name": "Featured", "uid": "featured", "data_type": "boolean"},
            {
                "display_name": "Author",
                "uid": "author",
                "data_type": "reference",
                "reference_to": ["author"],
                "field_metadata": {"ref_multiple": False},
            },
        ],
        "options": {"is_page": False, "singleton": False, "title": "title", "sub_title": []},
    }
}


def prepare(server: Server) -> str:
    """The two content types and one author; answers the author's uid."""
    with server.client() as c:
        for ct in (AUTHOR, POST):
            r = c.post("/v3/content_types", json=ct)
            if r.status_code != 201:
                raise SystemExit(
                    f"creating content type {ct['content_type']['uid']}: {r.status_code} {r.text}"
                )
        r = c.post(
            "/v3/content_types/author/entries", params={"locale": "en-us"}, json={"entry": {"title": "Ada"}}
        )
        if r.status_code != 201:
            raise SystemExit(f"entries routes not usable yet: POST entries answered {r.status_code} {r.text}")
        return str(r.json()["entry"]["uid"])


def created_uids(server: Server, want: int = 100) -> list[str]:
    with server.client() as c:
        r = c.get("/v3/content_types/post/entries", params={"limit": want, "locale": "en-us"})
        r.raise_for_status()
        return [e["uid"] for e in r.json()["entries"]]


def main() -> None:
    args = common_args(__doc__.splitlines()[0] if __doc__ else "").parse_args()
    rows: list[dict[str, Any]] = []
    for engine in engines(args.engine):
        with serve(engine, server_settings(args), f"server-entries-{engine}.log") as server:
            author = prepare(server)
            body = json.dumps(
                {
                    "entry": {
                        "title": "Post {n}",
                        "body": "A short post written by the bench, long enough to look like text. " * 4,
                        "views": 42,
                        "featured": True,
                        "author": [{"uid": author, "_content_type_uid": "author"}],
                    }
                }
            )
            headers = {**server.headers, "Content-Type": "application/json"}
            create = {
                "method": "POST",
                "path": "/v3/content_types/post/entries?locale=en-us",
                "headers": headers,
                "body": body,
            }
            for scenario, requests, expect in (("create entry", [create], 201),):
                result = drive(
                    server,
                    requests,
                    connections=args.clients,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    expect=expect,
                    processes=args.load_procs,
                    profile=f"profile-entries-create-{engine}" if args.profile else "",
                )
                rows.append({"engine": engine, "scenario": scenario, **result})
                print_table(rows[-1:])
            fetches = [
                {
                    "method": "GET",
                    "path": f"/v3/content_types/post/entries/{uid}?locale=en-us",
                    "headers": server.headers,
                }
                for uid in created_uids(server)
            ]
            result = drive(
                server,
                fetches,
                connections=args.clients,
                seconds=args.seconds,
                warmup=args.warmup,
                processes=args.load_procs,
                profile=f"profile-entries-fetch-{engine}" if args.profile else "",
            )
            rows.append({"engine": engine, "scenario": "fetch entry", **result})
            print_table(rows[-1:])
    path = write_results("entries", args, rows)
    print()
    print_table(rows)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
