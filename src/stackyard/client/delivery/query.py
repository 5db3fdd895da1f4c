"""Entries, queries, content types, global fields and assets of the delivery SDK: builders that
describe one GET each (chainable, like the official SDK's) and run it through their stack.

    q = stack.content_type("article").query()
    q.where("rating", QueryOperation.IS_GREATER_THAN, 3).order_by_descending("rating").limit(25)
    q.include_reference("author").find()["entries"]
    for entry in q.iter():       # every page
        ...
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from enum import Enum
from typing import TYPE_CHECKING, Any, Self

from .._http import Request
from .._path import segment

if TYPE_CHECKING:
    from .stack import _Base


class QueryOperation(Enum):
    EQUALS = ""
    NOT_EQUALS = "$ne"
    INCLUDES = "$in"
    EXCLUDES = "$nin"
    IS_LESS_THAN = "$lt"
    IS_LESS_THAN_OR_EQUAL = "$lte"
    IS_GREATER_THAN = "$gt"
    IS_GREATER_THAN_OR_EQUAL = "$gte"
    EXISTS = "$exists"
    MATCHES = "$regex"


class QueryType(Enum):
    AND = "$and"
    OR = "$or"


class _Call:
    """A GET on a path with query parameters, sent through the stack."""

    def __init__(self, stack: _Base, path: str) -> None:
        self._stack = stack
        self._path = path
        self._params: list[tuple[str, str]] = []

    def _set(self, name: str, value: Any) -> Self:
        self._params = [(k, v) for k, v in self._params if k != name]
        return self._add(name, value)

    def _add(self, name: str, value: Any) -> Self:
        if isinstance(value, bool):
            value = "true" if value else "false"
        self._params.append((name, str(value)))
        return self

    def param(self, key: str, value: Any) -> Self:
        """Any other query parameter."""
        return self._set(key, value)

    def environment(self, name: str) -> Self:
        return self._set("environment", name)

    def locale(self, code: str) -> Self:
        return self._set("locale", code)

    def include_fallback(self) -> Self:
        return self._set("include_fallback", True)

    def include_branch(self) -> Self:
        return self._set("include_branch", True)

    def include_count(self) -> Self:
        return self._set("include_count", True)

    def _request(self, extra: list[tuple[str, str]] | None = None) -> Request:
        params = list(self._params) + list(extra or [])
        if not any(k == "environment" for k, _ in params):
            params.insert(0, ("environment", self._stack.environment_name))
        return Request("GET", self._path, params=tuple(params))

    def fetch(self) -> Any:
        """The JSON answer (a dict); an error answer raises (`stackyard.errors`)."""
        return self._stack._call(self._request())

    def find(self, params: dict[str, Any] | None = None) -> Any:
        for k, v in (params or {}).items():
            self._set(k, v)
        return self._stack._call(self._request())


class _EntryParams(_Call):
    def include_reference(self, fields: str | list[str]) -> Self:
        for f in [fields] if isinstance(fields, str) else fields:
            self._add("include[]", f)
        return self

    def only(self, *fields: str, reference: str = "BASE") -> Self:
        for f in fields:
            self._add(f"only[{reference}][]", f)
        return self

    def excepts(self, *fields: str, reference: str = "BASE") -> Self:
        for f in fields:
            self._add(f"except[{reference}][]", f)
        return self

    def include_content_type(self) -> Self:
        return self._set("include_content_type", True)._set("include_global_field_schema", True)

    def include_reference_content_type_uid(self) -> Self:
        return self._set("include_reference_content_type_uid", True)

    def include_metadata(self) -> Self:
        return self._set("include_metadata", True)

    def include_embedded_items(self) -> Self:
        return self._add("include_embedded_items[]", "BASE")


class Entry(_EntryParams):
    def __init__(self, stack: _Base, content_type_uid: str, uid: str) -> None:
        super().__init__(stack, f"content_types/{segment(content_type_uid)}/entries/{segment(uid)}")
        self._content_type_uid, self._uid = content_type_uid, uid

    def fetch(self) -> Any:
        """The published entry; its draft when the stack's live preview names it."""
        return self._stack._entry(self._content_type_uid, self._uid, self._request())

    def version(self, number: int) -> Self:
        return self._set("version", int(number))


class Query(_EntryParams):
    """Entries of a content type matching a query; chain conditions, then `find`, `find_one` or `iter`."""

    def __init__(self, stack: _Base, content_type_uid: str) -> None:
        super().__init__(stack, f"content_types/{segment(content_type_uid)}/entries")
        self._content_type_uid = content_type_uid
        self.parameters: dict[str, Any] = {}

    def find(self, params: dict[str, Any] | None = None) -> Any:
        """The matching published entries (the one the stack's live preview names as its draft)."""
        for k, v in (params or {}).items():
            self._set(k, v)
        return self._stack._entries(self._content_type_uid, self._request())

    def where(self, field: str, operation: QueryOperation, fields: Any = None) -> Self:
        """`where("rating", QueryOperation.IS_GREATER_THAN, 3)`; EQUALS takes the value itself."""
        if operation is QueryOperation.EQUALS:
            self.parameters[field] = fields
        else:
            current = self.parameters.get(field)
            ops = current if isinstance(current, dict) else {}
            ops[operation.value] = fields
            self.parameters[field] = ops
        return self

    def regex(self, field: str, pattern: str, options: str = "") -> Self:
        self.parameters[field] = {"$regex": pattern, **({"$options": options} if options else {})}
        return self

    def query(self, key: str, value: Any) -> Self:
        self.parameters[key] = value
        return self

    def where_in(self, reference_field: str, query: Query | dict[str, Any]) -> Self:
        """Entries whose reference field points at an entry matching `query` (`$in_query`)."""
        self.parameters[reference_field] = {"$in_query": _conditions(query)}
        return self

    def where_not_in(self, reference_field: str, query: Query | dict[str, Any]) -> Self:
        self.parameters[reference_field] = {"$nin_query": _conditions(query)}
        return self

    def query_operator(self, kind: QueryType, *queries: Query | dict[str, Any]) -> Self:
        """`$and` / `$or` of other queries' conditions."""
        self.parameters = {kind.value: [_conditions(q) for q in queries]}
        return self

    def tags(self, *tags: str) -> Self:
        return self._set("tags", ",".join(tags))

    def search(self, text: str) -> Self:
        return self._set("typeahead", text)

    def skip(self, n: int) -> Self:
        return self._set("skip", int(n))

    def limit(self, n: int) -> Self:
        return self._set("limit", int(n))

    def order_by_ascending(self, field: str) -> Self:
        self._params = [(k, v) for k, v in self._params if k != "desc"]
        return self._set("asc", field)

    def order_by_descending(self, field: str) -> Self:
        self._params = [(k, v) for k, v in self._params if k != "asc"]
        return self._set("desc", field)

    def _request(self, extra: list[tuple[str, str]] | None = None) -> Request:
        more = [("query", json.dumps(self.parameters, separators=(",", ":")))] if self.parameters else []
        return super()._request(more + list(extra or []))

    def find_one(self) -> Any:
        self._set("limit", 1)
        return self._stack._entries(self._content_type_uid, self._request())

    def iter(self, page_size: int = 100) -> Iterator[Any] | AsyncIterator[Any]:
        """Every matching entry, page after page (`async for` on an AsyncStack)."""
        req = Request("GET", self._path, params=self._request().params)
        return self._stack._pages(req, "entries", page_size)


def _conditions(q: Query | dict[str, Any]) -> dict[str, Any]:
    return dict(q.parameters) if isinstance(q, Query) else dict(q)


class ContentType(_Call):
    def __init__(self, stack: _Base, uid: str | None) -> None:
        super().__init__(stack, f"content_types/{segment(uid)}" if uid else "content_types")
        self.uid = uid

    def entry(self, uid: str) -> Entry:
        return Entry(self._stack, self._need(), uid)

    def query(self) -> Query:
        return Query(self._stack, self._need())

    def include_global_field_schema(self) -> Self:
        return self._set("include_global_field_schema", True)

    def _need(self) -> str:
        if not self.uid:
            raise ValueError("this needs a content type uid: stack.content_type('article')")
        return self.uid


class GlobalField(_Call):
    def __init__(self, stack: _Base, uid: str | None) -> None:
        super().__init__(stack, f"global_fields/{segment(uid)}" if uid else "global_fields")


class Asset(_Call):
    def __init__(self, stack: _Base, uid: str) -> None:
        super().__init__(stack, f"assets/{segment(uid)}")

    def include_dimension(self) -> Self:
        return self._set("include_dimension", True)

    def relative_urls(self) -> Self:
        return self._set("relative_urls", True)


class AssetQuery(_Call):
    def __init__(self, stack: _Base) -> None:
        super().__init__(stack, "assets")
        self.parameters: dict[str, Any] = {}

    def where(self, field: str, operation: QueryOperation, fields: Any = None) -> Self:
        self.parameters[field] = fields if operation is QueryOperation.EQUALS else {operation.value: fields}
        return self

    def skip(self, n: int) -> Self:
        return self._set("skip", int(n))

    def limit(self, n: int) -> Self:
        return self._set("limit", int(n))

    def _request(self, extra: list[tuple[str, str]] | None = None) -> Request:
        more = [("query", json.dumps(self.parameters, separators=(",", ":")))] if self.parameters else []
        return super()._request(more + list(extra or []))
