"""HTTP caching decisions (RFC 9111) as pure functions of headers and times, for a shared cache.

- Storable: GET (HEAD is answered from GET's entry), a status cacheable by default or with
  explicit freshness, no `no-store` and no `private` in the response, no Set-Cookie; a request
  with Authorization only with `public`, `s-maxage` or `must-revalidate` (§3.5).
- Freshness lifetime: `s-maxage`, else `max-age`, else `Expires` - `Date`, else 10% of the time
  since `Last-Modified` (at most a day) for statuses cacheable by default, else none.
- `no-cache` (and `must-revalidate`/`proxy-revalidate` once stale): stored, but revalidated
  before every use. `stale-while-revalidate=N`: up to N s past freshness it is served (STALE)
  while one background fetch revalidates; `stale-if-error=N`: served when the origin fails.
- Age: the corrected initial age (the origin's `Age` plus the fetch's duration) plus time resident.
- Request directives (`Cache-Control: no-cache` from a client...) are not honoured, as CDNs do
  not: the origin's answer and the site's configuration decide.
- Validators: revalidation sends `If-None-Match` with a strong ETag only (a weak one may collide
  across versions) and `If-Modified-Since` with `Last-Modified`, unless the entry was purged with
  `invalidateOnly`, when only a strong ETag may answer 304.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

DEFAULT_CACHEABLE = frozenset({200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501})
HEURISTIC_FRACTION = 0.1
HEURISTIC_MAX = 86400.0
# Request and response headers that name no end-to-end meaning (RFC 9110 §7.6.1), and the ones
# the edge sets itself; never forwarded either way.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
    }
)
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")


def cache_control(value: str | None) -> dict[str, str | None]:
    """`max-age=60, no-cache="set-cookie", public` -> {"max-age": "60", "no-cache": "set-cookie", "public": None}."""
    out: dict[str, str | None] = {}
    if not value:
        return out
    for part in value.split(","):
        name, sep, arg = part.strip().partition("=")
        name = name.strip().lower()
        if name:
            out[name] = arg.strip().strip('"') if sep else None
    return out


def seconds(directives: dict[str, str | None], name: str) -> float | None:
    raw = directives.get(name)
    if raw is None:
        return None
    try:
        return max(0.0, float(int(raw)))
    except ValueError:
        return 0.0  # an invalid value is treated as stale (RFC 9111 §4.2.1)


def http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.timestamp() if parsed is not None else None


@dataclass(frozen=True)
class Freshness:
    storable: bool
    ttl: float = 0.0  # freshness lifetime in seconds
    revalidate_always: bool = False  # no-cache
    must_revalidate: bool = False  # no stale serving once expired
    swr: float = 0.0
    sie: float = 0.0
    reason: str = ""


def freshness(
    status: int,
    headers: dict[str, str],
    now: float,
    *,
    request_authorized: bool = False,
) -> Freshness:
    """What the response's own headers say about storing it; `headers` with lowercase names."""
    cc = cache_control(headers.get("cache-control"))
    if "no-store" in cc:
        return Freshness(False, reason="no-store")
    if "private" in cc and cc["private"] is None:
        return Freshness(False, reason="private")
    if "set-cookie" in headers:
        return Freshness(False, reason="set-cookie")
    if headers.get("vary", "").strip() == "*":
        return Freshness(False, reason="vary *")
    if request_authorized and not ({"public", "s-maxage", "must-revalidate"} & cc.keys()):
        return Freshness(False, reason="authorization")
    ttl = seconds(cc, "s-maxage")
    if ttl is None:
        ttl = seconds(cc, "max-age")
    if ttl is None and "expires" in headers:
        expires = http_date(headers.get("expires"))
        date = http_date(headers.get("date")) or now
        ttl = max(0.0, expires - date) if expires is not None else 0.0
    explicit = ttl is not None
    if ttl is None:
        modified = http_date(headers.get("last-modified"))
        if modified is not None and status in DEFAULT_CACHEABLE:
            date = http_date(headers.get("date")) or now
            ttl = min(HEURISTIC_MAX, max(0.0, (date - modified) * HEURISTIC_FRACTION))
    no_cache = "no-cache" in cc and cc["no-cache"] is None
    if status not in DEFAULT_CACHEABLE and not explicit:
        return Freshness(False, reason="status")
    if ttl is None and not no_cache:
        return Freshness(False, reason="no freshness")
    return Freshness(
        True,
        ttl=ttl or 0.0,
        revalidate_always=no_cache,
        must_revalidate="must-revalidate" in cc or "proxy-revalidate" in cc or "s-maxage" in cc,
        swr=seconds(cc, "stale-while-revalidate") or 0.0,
        sie=seconds(cc, "stale-if-error") or 0.0,
    )


def initial_age(headers: dict[str, str], requested_at: float, received_at: float) -> float:
    """RFC 9111 §4.2.3: the corrected initial age of a response."""
    try:
        age_value = max(0.0, float(headers.get("age", "0") or 0))
    except ValueError:
        age_value = 0.0
    date = http_date(headers.get("date"))
    # Date has a one-second resolution: a response dated this second is not a second old.
    apparent = max(0.0, received_at - date - 1.0) if date is not None else 0.0
    corrected = age_value + (received_at - requested_at)
    return max(apparent, corrected)


def vary_names(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(sorted({v.strip().lower() for v in value.split(",") if v.strip()}))


def strong_etag(value: str | None) -> str | None:
    if not value or value.strip().startswith("W/"):
        return None
    return value.strip()


def byte_range(value: str, size: int) -> tuple[int, int] | bool | None:
    """A single `bytes=a-b` range as (first, last) within `size`; None to ignore the header (multiple
    or unreadable ranges: the whole body is sent); False when unsatisfiable (416)."""
    unit, _, spec = value.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_raw, dash, last_raw = spec.strip().partition("-")
    if not dash:
        return None
    try:
        if first_raw == "":
            length = int(last_raw)
            if length <= 0:
                return False
            return (max(0, size - length), size - 1) if size else False
        first = int(first_raw)
        last = int(last_raw) if last_raw else size - 1
    except ValueError:
        return None
    if first >= size:
        return False
    if first < 0 or last < first:
        return None
    return first, min(last, size - 1)


def accepts_gzip(value: str | None) -> bool:
    """Does Accept-Encoding allow gzip (with a q-value above 0)?"""
    if not value:
        return False
    for part in value.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def compressible(content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    return any(ct.startswith(p) for p in COMPRESSIBLE)
