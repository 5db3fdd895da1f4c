"""Stored amplification: a multiple field holds at most `max_field_items` values (over HTTP, both
engines), and a list page larger than `max_response_bytes` answers 413 asking for a lower limit."""

from __future__ import annotations

import httpx
import pytest

from stackyard.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with small caps so the tests stay small."""
    return settings.replace(max_field_items=50, max_response_bytes=20_000)


def _content_type(cma: httpx.Client) -> None:
    r = cma.post(
        "/v3/content_types",
        json={
            "content_type": {
                "title": "Bag",
                "uid": "bag",
                "schema": [
                    {"uid": "title", "data_type": "text", "display_name": "Title", "mandatory": True},
                    {"uid": "nums", "data_type": "number", "display_name": "Nums", "multiple": True},
                    {
                        "uid": "words",
                        "data_type": "text",
                        "display_name": "Words",
                        "multiple": True,
                        "max_instance": 500,
                    },
                ],
            }
        },
    )
    assert r.status_code == 201, r.text


def test_a_multiple_field_takes_at_most_max_field_items(cma: httpx.Client) -> None:
    # given a content type with an uncapped multiple field and one whose max_instance is above the cap
    _content_type(cma)
    # when entries with too many items are sent
    too_many = cma.post(
        "/v3/content_types/bag/entries", json={"entry": {"title": "x", "nums": list(range(51))}}
    )
    above = cma.post("/v3/content_types/bag/entries", json={"entry": {"title": "y", "words": ["w"] * 51}})
    fits = cma.post("/v3/content_types/bag/entries", json={"entry": {"title": "z", "nums": list(range(50))}})
    # then both are refused naming the field, and nothing was stored but the one that fits
    assert too_many.status_code == 422 and too_many.json()["errors"] == {
        "nums": ["must have at most 50 items."]
    }
    assert above.status_code == 422 and above.json()["errors"] == {"words": ["must have at most 50 items."]}
    assert fits.status_code == 201, fits.text
    assert [e["title"] for e in cma.get("/v3/content_types/bag/entries").json()["entries"]] == ["z"]


def test_a_page_over_max_response_bytes_asks_for_a_lower_limit(cma: httpx.Client) -> None:
    # given entries of about 4 KB each
    _content_type(cma)
    for i in range(8):
        r = cma.post(
            "/v3/content_types/bag/entries", json={"entry": {"title": f"e{i}", "words": ["x" * 80] * 50}}
        )
        assert r.status_code == 201, r.text
    # when a page of all of them (about 32 KB) is asked for, then the answer is a 413 saying what to do
    big = cma.get("/v3/content_types/bag/entries", params={"limit": 8})
    assert big.status_code == 413
    body = big.json()
    assert body["error_code"] == 413 and "lower 'limit'" in body["error_message"] and body["errors"]["limit"]
    # and smaller pages are answered
    small = cma.get("/v3/content_types/bag/entries", params={"limit": 2})
    assert small.status_code == 200 and len(small.json()["entries"]) == 2
