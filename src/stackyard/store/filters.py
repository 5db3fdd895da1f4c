"""Row filters as values: the permission policy says which rows a caller may see, the store writes
the SQL for it.

    shown = Filter.column_in("uid", ["bltprod", "bltdev"])
    cond, params = shown.sql()          # ("uid IN (?, ?)", ("bltdev", "bltprod"))
    tx.all(f"SELECT * FROM environments WHERE api_key = ? AND {cond}", api_key, *params)

Callers ask `is_everything` / `is_nothing` or `admits(value)` instead of reading SQL text, and
values only ever reach the database as bound parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")


@dataclass(frozen=True)
class Filter:
    """Every row, no row, or the rows whose `column` holds one of `values`."""

    kind: Literal["everything", "nothing", "in"]
    column: str = ""
    values: tuple[Any, ...] = ()

    @classmethod
    def everything(cls) -> Filter:
        return cls("everything")

    @classmethod
    def nothing(cls) -> Filter:
        return cls("nothing")

    @classmethod
    def column_in(cls, column: str, values: Iterable[Any]) -> Filter:
        """Rows whose `column` (a column name we write, never user text) is one of `values`."""
        if not _COLUMN.match(column):
            raise ValueError(f"not a column name: {column!r}")
        distinct = tuple(sorted(set(values)))
        return cls("in", column, distinct) if distinct else cls.nothing()

    @property
    def is_everything(self) -> bool:
        return self.kind == "everything"

    @property
    def is_nothing(self) -> bool:
        return self.kind == "nothing"

    def admits(self, value: Any) -> bool:
        """Would a row with `value` in the column pass (for filtering values already fetched)?"""
        return self.is_everything or (self.kind == "in" and value in self.values)

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        """A WHERE condition with `?` placeholders, and its parameters."""
        if self.kind == "everything":
            return "1 = 1", ()
        if self.kind == "nothing":
            return "1 = 0", ()
        return f"{self.column} IN ({', '.join('?' * len(self.values))})", self.values
