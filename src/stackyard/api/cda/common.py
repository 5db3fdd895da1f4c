"""What every delivery route shares: the request's scope, its read parameters, and the answer
(JSON with a strong ETag, Cache-Control, Vary, the cache tag header; stored in the response cache).
A live-preview answer (`preview`) is never stored and says `Cache-Control: no-store`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import orjson
from starlette.responses import Response

from stackyard.access.caller import Caller
from stackyard.access.resolve import authenticate
from stackyard.api.cma.assets import base_url
from stackyard.api.routing import MAX_SKIP, Req
from stackyard.content.delivery import cache as response_cache
from stackyard.content.delivery import tags as tagging
from stackyard.content.delivery.ask import Ask
from stackyard.content.delivery.scope import Scope, lookup, resolve
from stackyard.core import cache
from stackyard.store.engine import Row, Tx
from stackyard.store.query import Limits

# The response cache key of the request being answered, set by the cache-first layer
# (`api.cda.cache_first`) when the answer may be cached.
CACHE_KEY: ContextVar[tuple[str, ...] | None] = ContextVar("stackyard_cda_cache_key", default=None)
VARY = "api_key, access_token, environment, branch"
_PROJECTION = re.compile(r"^(only|except)\[([^\]]+)\](?:\[\])?$")
NO_STORE = "no-store"


def delivery_caller(r: Req, tx: Tx) -> Caller:
    """Who reads: the delivery token. A live-preview client (the official SDK with a management
    token) sends `authorization` along on its ordinary calls too; the access token still decides."""
    if r.headers.get("authorization") or r.headers.get("authtoken"):
        token = r.headers.get("access_token") or ""
        return authenticate(tx, {"access_token": token}, r.request_id, r.remote_addr)
    return r.caller(tx)


def environment_of(r: Req) -> str | None:
    return r.param("environment") or r.headers.get("environment")


def scope(r: Req, tx: Tx, resolver: Callable[[Row], Scope] | None = None) -> Scope:
    """The delivery scope of the request (token, stack, environment, branch, the event clock the
    read sees); spends the read rate limit of the stack's organization. `resolver` turns what
    `lookup` found into the scope instead of the delivery token (live preview's credentials)."""
    environment = environment_of(r)
    api_key = r.headers.get("api_key")
    row = lookup(tx, api_key, environment)
    cache.synced(tx, row["clock"])  # the per-process caches (the token) need not read it again
    if resolver is not None:
        found = resolver(row)
    else:
        found = resolve(tx, delivery_caller(r, tx), api_key, environment, r.headers.get("branch"), row)
    r.app.limiter.settle("stack:" + found.api_key, "org:" + found.org_uid)
    r._limit("org:" + found.org_uid)
    return found


def page(r: Req) -> tuple[int, int]:
    s = r.settings
    return r.int_param("skip", 0, maximum=MAX_SKIP), r.int_param(
        "limit", s.page_size_default, minimum=1, maximum=s.delivery_max_limit
    )


def ask(r: Req) -> Ask:
    """The read parameters of an entry fetch or query (catalogue §3.2)."""
    s = r.settings
    skip, limit = page(r)
    only: dict[str, list[str]] = {}
    excepts: dict[str, list[str]] = {}
    for k, v in r.query.multi_items():
        m = _PROJECTION.match(k)
        if m:
            target = only if m.group(1) == "only" else excepts
            target.setdefault(m.group(2), []).append(v)
    include = [v for k, v in r.query.multi_items() if k in ("include[]", "include") and v]
    tags = [t.strip() for t in (r.param("tags") or "").split(",") if t.strip()]
    version = r.param("version")
    embedded = any(
        k in ("include_embedded_items[]", "include_embedded_items") and v == "BASE"
        for k, v in r.query.multi_items()
    )
    return Ask(
        locale=r.param("locale") or None,
        include_fallback=r.flag("include_fallback"),
        version=r.int_param("version", 0, minimum=1) if version else None,
        query=r.json_param("query"),
        tags=tags,
        typeahead=r.param("typeahead"),
        skip=skip,
        limit=limit,
        asc=r.param("asc") or None,
        desc=r.param("desc") or None,
        count=r.flag("include_count"),
        only=only,
        excepts=excepts,
        include=include,
        include_content_type=r.flag("include_content_type"),
        include_global_field_schema=r.flag("include_global_field_schema"),
        include_reference_content_type_uid=r.flag("include_reference_content_type_uid"),
        include_metadata=r.flag("include_metadata"),
        include_branch=r.flag("include_branch"),
        include_embedded_items=embedded,
        base_url="" if not embedded or r.flag("relative_urls") else base_url(r),
        include_depth=s.delivery_include_depth,
        max_includes=s.delivery_max_includes,
        limits=Limits(
            depth=s.delivery_query_max_depth,
            nodes=s.delivery_query_max_conditions,
            in_list=s.delivery_query_max_in,
            regex=s.delivery_query_max_regex,
        ),
    )


def etag_of(body: bytes) -> bytes:
    """A strong ETag: the first 128 bits of the body's SHA-256 (which CPUs with SHA extensions hash
    at about twice the speed of BLAKE2b; a page of 25 entries is 30 KB)."""
    return b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'


def not_modified(if_none_match: str | None, etag: bytes) -> bool:
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or etag.decode() in wanted


def read(
    r: Req,
    build: Callable[[Tx, Scope], tuple[dict[str, Any], list[str]]],
    scope_of: Callable[[Req, Tx], Scope] = scope,
    *,
    preview: bool = False,
) -> Response:
    """Run `build(tx, scope_of(r, tx))` in a read, and answer its body with the delivery headers; an
    answer the cache-first layer asked for is stored in the response cache, unless it is a preview."""
    db = r.db
    with db.read() as tx:
        sc = scope_of(r, tx)  # its first statement reads the event clock
        built_at = sc.clock
        body, tag_list = build(tx, sc)
    data = orjson.dumps(body)
    etag = etag_of(data)
    s = r.settings
    tag_list = [tagging.stack(sc.api_key), *tag_list]
    headers = [
        (b"content-type", b"application/json"),
        (b"etag", etag),
        (b"cache-control", (NO_STORE if preview else s.delivery_cache_control).encode("latin-1")),
        (b"vary", VARY.encode()),
    ]
    if not preview:  # a CDN must have nothing to keep or purge of a draft
        headers.append(
            (s.cache_tag_header.lower().encode("latin-1"), tagging.header(tag_list).encode("latin-1"))
        )
    key = None if preview else CACHE_KEY.get()
    if key is not None:
        answer = response_cache.Answer(200, headers, data, etag, tuple(dict.fromkeys(tag_list)))
        response_cache.of(db).put(key, answer, built_at)
    out = {k.decode("latin-1"): v.decode("latin-1") for k, v in headers}
    out["x-cache"] = "MISS"
    if not_modified(r.headers.get("if-none-match"), etag):
        out.pop("content-type")
        return Response(status_code=304, headers=out)
    return Response(data, status_code=200, headers=out)
