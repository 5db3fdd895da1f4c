"""The base every management resource object stands on: its own headers and params, and `_call`.

Each fluent step (`client.stack(k)`, `.content_types(ct)`, `.entry(uid)`) builds a new small object
holding a *copy* of its parent's headers, so nothing one object does can change another (the
official SDK shares one mutable header dict and leaks `api_key`/`Content-Type` between calls).
`add_param`/`add_header` change only the object they are called on and return it, so the seed's
`q = ...entry(); q.add_param("limit", 2); q.find()` works, as does chaining.

Resources are generic over what a call answers (`R`: a `Response`, or a coroutine of one for the
async client) and what `iterate()` answers (`It`), so one set of classes serves both clients.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Generic, Self, TypeVar

from .._http import Request, Transport, encode_params
from .._path import segment

R = TypeVar("R")
It = TypeVar("It")

PAGE_SIZE = 100


class Resource(Generic[R, It]):
    """Shared plumbing: per-object headers and query parameters, request building."""

    def __init__(self, transport: Transport[R, It], headers: Mapping[str, str] | None = None) -> None:
        self._t = transport
        self._headers: dict[str, str] = dict(headers or {})
        self._params: dict[str, Any] = {}

    def add_param(self, key: str, value: Any) -> Self:
        """Add a query parameter to this object's calls (only this object); returns it for chaining.

        >>> q = client.stack("blt1").content_types("blog").entry(); q.add_param("limit", 2)  # doctest: +SKIP
        """
        self._params[key] = value
        return self

    def add_param_dict(self, params: Mapping[str, Any]) -> Self:
        """Add several query parameters at once.

        >>> client.stack("blt1").environments().add_param_dict({"limit": 2, "skip": 2}).find()  # doctest: +SKIP
        """
        self._params.update(params)
        return self

    def add_header(self, key: str, value: Any) -> Self:
        """Add a header to this object's calls (and to objects derived from it afterwards).

        >>> client.stack("blt1").content_types().add_header("branch", "dev").find()  # doctest: +SKIP
        """
        self._headers[key] = str(value)
        return self

    def add_header_dict(self, headers: Mapping[str, Any]) -> Self:
        """Add several headers at once.

        >>> client.stack("blt1").content_types().add_header_dict({"branch": "dev"}).find()  # doctest: +SKIP
        """
        self._headers.update({k: str(v) for k, v in headers.items()})
        return self

    # -- for subclasses -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        files: Any = None,
        data: Mapping[str, Any] | None = None,
        omit: tuple[str, ...] = (),
    ) -> Request:
        merged = {**(defaults or {}), **self._params, **(params or {})}
        hdrs = {k: v for k, v in {**self._headers, **(headers or {})}.items() if k not in omit}
        return Request(method, path, encode_params(merged), tuple(hdrs.items()), json, data, files)

    def _call(self, method: str, path: str, **kw: Any) -> R:
        return self._t.send(self._request(method, path, **kw))

    def _iterate(self, path: str, key: str, page_size: int, **kw: Any) -> It:
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, got {page_size}")
        return self._t.paginate(self._request("GET", path, **kw), key, page_size)


def body(data: Any, what: str = "data") -> Any:
    """Check a request body is a JSON object before any I/O (a string or None is a caller bug)."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be a dict (the JSON body), got {type(data).__name__}")
    return data


class Collection(Resource[R, It]):
    """A resource addressed as `<base>` (list, create) or `<base>/<uid>` (fetch, update, delete)."""

    base: str = ""
    envelope: str = ""  # the list key, for iterate()
    what: str = "uid"

    def __init__(
        self, transport: Transport[R, It], uid: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(transport, headers)
        self.uid = uid
        if uid is not None:
            segment(uid, self.what)  # an empty uid fails here, at the call that names it

    def _named(self, uid: Any) -> Self:
        """This object, or a copy naming another uid (for the seed's `label().fetch("uid")` style)."""
        if uid is None:
            return self
        other = copy.copy(self)
        other._headers, other._params = dict(self._headers), dict(self._params)
        segment(uid, self.what)
        other.uid = uid
        return other

    def _one(self, *rest: str) -> str:
        """The path of this object (plus sub-path words), or ValueError when no uid was given."""
        if self.uid is None:
            raise ValueError(f"this call needs a {self.what}: pass it when creating the object")
        return "/".join((self.base, segment(self.uid, self.what), *rest))

    def find(self, params: Mapping[str, Any] | None = None) -> R:
        """List the collection (one page; see `iterate()` for all of it).

        >>> client.stack("blt1").environments().find().json()["environments"]  # doctest: +SKIP
        """
        return self._call("GET", self.base, params=params)

    def iterate(self, page_size: int = PAGE_SIZE) -> It:
        """Every item of the collection, fetching pages (skip/limit) lazily as you go.

        >>> [e["name"] for e in client.stack("blt1").environments().iterate()]  # doctest: +SKIP
        """
        return self._iterate(self.base, self.envelope, page_size)

    def fetch(self) -> R:
        """Fetch this object.

        >>> client.stack("blt1").environments("production").fetch().json()  # doctest: +SKIP
        """
        return self._call("GET", self._one())

    def create(self, data: dict[str, Any]) -> R:
        """Create an object from its enveloped JSON body.

        >>> client.stack("blt1").environments().create({"environment": {"name": "qa"}})  # doctest: +SKIP
        """
        return self._call("POST", self.base, json=body(data))

    def update(self, data: dict[str, Any]) -> R:
        """Update this object from its enveloped JSON body.

        >>> client.stack("blt1").environments("qa").update({"environment": {"name": "qa2"}})  # doctest: +SKIP
        """
        return self._call("PUT", self._one(), json=body(data))

    def delete(self) -> R:
        """Delete this object.

        >>> client.stack("blt1").environments("qa").delete()  # doctest: +SKIP
        """
        return self._call("DELETE", self._one())
