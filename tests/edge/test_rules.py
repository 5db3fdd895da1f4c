"""RFC 9111 decisions as pure functions (`edge.proxy.rules`) and the filter grammar (`edge.paging`)."""

from __future__ import annotations

import pytest

from stackyard.edge import paging
from stackyard.edge.proxy import rules
from stackyard.errors import BadRequest

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    "headers,status,storable,ttl",
    [
        ({"cache-control": "max-age=60"}, 200, True, 60),
        ({"cache-control": "max-age=60, s-maxage=10"}, 200, True, 10),
        ({"cache-control": "no-store, max-age=60"}, 200, False, 0),
        ({"cache-control": "private, max-age=60"}, 200, False, 0),
        ({"cache-control": 'private="x-user", max-age=60'}, 200, True, 60),
        ({"cache-control": "max-age=60", "set-cookie": "a=1"}, 200, False, 0),
        ({"cache-control": "max-age=60", "vary": "*"}, 200, False, 0),
        ({}, 200, False, 0),
        ({"cache-control": "max-age=60"}, 500, True, 60),
        ({}, 500, False, 0),
        ({"cache-control": "max-age=bogus"}, 200, True, 0),
        ({"expires": "Thu, 01 Jan 2099 00:00:00 GMT", "date": "Thu, 01 Jan 2099 00:00:00 GMT"}, 200, True, 0),
        (
            {"last-modified": "Mon, 01 Jan 2024 00:00:00 GMT", "date": "Thu, 11 Jan 2024 00:00:00 GMT"},
            200,
            True,
            86400,
        ),
        ({"cache-control": "no-cache"}, 200, True, 0),
    ],
)
def test_freshness(headers: dict[str, str], status: int, storable: bool, ttl: float) -> None:
    found = rules.freshness(status, headers, NOW)
    assert found.storable is storable
    if storable:
        assert found.ttl == ttl


def test_authorized_requests_need_an_explicit_permission_to_be_shared() -> None:
    assert not rules.freshness(200, {"cache-control": "max-age=60"}, NOW, request_authorized=True).storable
    assert rules.freshness(
        200, {"cache-control": "public, max-age=60"}, NOW, request_authorized=True
    ).storable


def test_stale_directives_and_no_cache() -> None:
    f = rules.freshness(
        200, {"cache-control": "max-age=1, stale-while-revalidate=30, stale-if-error=60"}, NOW
    )
    assert (f.swr, f.sie) == (30, 60)
    assert rules.freshness(200, {"cache-control": "no-cache"}, NOW).revalidate_always


def test_age_counts_the_origin_age_and_the_fetch() -> None:
    assert rules.initial_age({"age": "10"}, NOW, NOW + 0.5) == 10.5


@pytest.mark.parametrize(
    "value,size,expected",
    [
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=-5", 100, (95, 99)),
        ("bytes=100-", 100, False),
        ("bytes=0-1,5-6", 100, None),
        ("items=0-1", 100, None),
        ("bytes=5-2", 100, None),
    ],
)
def test_byte_ranges(value: str, size: int, expected: object) -> None:
    assert rules.byte_range(value, size) == expected


def test_validators_and_encodings() -> None:
    assert rules.strong_etag('W/"a"') is None and rules.strong_etag('"a"') == '"a"'
    assert (
        rules.accepts_gzip("gzip, deflate")
        and not rules.accepts_gzip("gzip;q=0")
        and not rules.accepts_gzip(None)
    )
    assert rules.vary_names("Accept-Language, accept-language,Origin") == ("accept-language", "origin")


def test_the_filter_grammar() -> None:
    fields = ("name", "status")
    assert paging.parse_filter("name='a b' and status=\"ACTIVE\"", fields) == [
        ("name", "a b"),
        ("status", "ACTIVE"),
    ]
    assert paging.parse_filter("name = 'x and y'", fields) == [("name", "x and y")]
    for bad in ("name ~ 'x'", "label='x'", "name='x' or status='y'"):
        with pytest.raises(BadRequest):
            paging.parse_filter(bad, fields)


def test_page_info_has_exactly_the_five_keys() -> None:
    items = [{"name": str(i)} for i in range(5)]
    out = paging.page(items, {"page_request.first": "2", "page_request.after": "1"}, ("name",))
    assert [i["name"] for i in out["results"]] == ["2", "3"]
    assert out["pageInfo"] == {
        "totalCount": "5",
        "hasPreviousPage": True,
        "hasNextPage": True,
        "startCursor": "2",
        "endCursor": "3",
    }
    assert paging.page(items, {"page_request.first": "name"}, ("name",))["pageInfo"]["totalCount"] == "5"
    with pytest.raises(BadRequest):
        paging.page(items, {"page_request.after": "x"}, ("name",))
