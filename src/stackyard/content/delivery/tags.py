"""Cache tags: the names a delivery response carries (in the `X-Tag` header, or the header the
`cache_tag_header` setting names) for what is in it, and the names a change purges.

A response about one entry is tagged with that entry, its content type and every entry or asset it
includes by reference; a list is tagged with its content type. So a change purges exactly:

    publish/unpublish of entry E of type T   ->  entry(E), content_type(T)
    publish/unpublish of asset A             ->  asset(A), assets()
    content type T changed or deleted        ->  content_type(T), content_types()
    a global field changed                   ->  stack() (its schema is inlined in content types)
    a delivery token or environment changed  ->  stack()

Every tag starts with the stack's api_key, so two stacks behind one CDN site never purge each
other. Tags hold only `[A-Za-z0-9_.-]` and are joined by commas in the header.
"""

from __future__ import annotations

from collections.abc import Iterable


def stack(api_key: str) -> str:
    return f"{api_key}"


def content_type(api_key: str, uid: str) -> str:
    return f"{api_key}.ct.{uid}"


def content_types(api_key: str) -> str:
    """Lists of content types and global fields."""
    return f"{api_key}.cts"


def entry(api_key: str, uid: str) -> str:
    return f"{api_key}.entry.{uid}"


def asset(api_key: str, uid: str) -> str:
    return f"{api_key}.asset.{uid}"


def assets(api_key: str) -> str:
    return f"{api_key}.assets"


def header(tags: Iterable[str]) -> str:
    """The header value: unique tags, in first-seen order, comma-separated."""
    return ",".join(dict.fromkeys(tags))


def parse(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]
