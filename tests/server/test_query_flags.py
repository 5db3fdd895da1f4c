"""Boolean query parameters (`Req.flag`) take `true` or `false` in any case, and refuse the rest."""

from __future__ import annotations

import httpx
import pytest

from tests.server.test_errors import assert_error


@pytest.mark.parametrize("value", ["AAA", "1", "yes", "", "true1"])
def test_a_flag_that_is_neither_true_nor_false_is_a_400(cma: httpx.Client, value: str) -> None:
    r = cma.get("/v3/environments", params={"include_count": value})
    body = assert_error(r, 400)
    assert body["errors"] == {"include_count": ["must be true or false."]}


def test_true_and_false_in_any_case_are_taken(cma: httpx.Client) -> None:
    # the official SDK sends Python's True/False as `True`/`False`; ours sends `true`/`false`
    for value in ("true", "True", "TRUE"):
        r = cma.get("/v3/environments", params={"include_count": value})
        assert r.status_code == 200 and "count" in r.json(), r.text
    for value in ("false", "False", "FALSE"):
        r = cma.get("/v3/environments", params={"include_count": value})
        assert r.status_code == 200 and "count" not in r.json(), r.text
