"""How client commands print what the server answered: a table by default, or JSON / YAML.

The options follow the st2 CLI: `-j/--json`, `-y/--yaml`, `-a/--attr a b.c` (several names after one
flag, dotted paths reach into nested objects and lists, `all` shows every attribute) and
`-w/--width` (one value for every column or one per column; the default is 28). Commands hand this
module plain data; nothing here knows about resources or the SDK.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import yaml

DEFAULT_WIDTH = 28
_MISSING = object()


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add the shared output options to a command."""
    group = parser.add_argument_group("output")
    fmt = group.add_mutually_exclusive_group()
    fmt.add_argument("-j", "--json", action="store_true", help="Print the result as JSON.")
    fmt.add_argument("-y", "--yaml", action="store_true", help="Print the result as YAML.")
    group.add_argument(
        "-a",
        "--attr",
        nargs="+",
        metavar="ATTR",
        default=None,
        help="Attributes to show, in order; dotted paths reach into nested values, 'all' shows every one "
        "(put -a after the positional arguments: it takes every name that follows).",
    )
    group.add_argument(
        "-w",
        "--width",
        nargs="+",
        type=_positive_int,
        metavar="N",
        default=None,
        help=f"Column width: one value for all columns or one per column (default {DEFAULT_WIDTH}).",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a width must be at least 1, not {value}")
    return value


@dataclass(frozen=True)
class Format:
    """The output choices of one invocation."""

    kind: str = "table"  # table | json | yaml
    attrs: tuple[str, ...] | None = None
    widths: tuple[int, ...] | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Format:
        kind = "json" if getattr(args, "json", False) else "yaml" if getattr(args, "yaml", False) else "table"
        attrs = getattr(args, "attr", None)
        widths = getattr(args, "width", None)
        return cls(kind, tuple(attrs) if attrs else None, tuple(widths) if widths else None)


def lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path (`urls.0.url`), or None when any step is missing."""
    value = _dig(obj, path)
    return None if value is _MISSING else value


def _dig(obj: Any, path: str) -> Any:
    if isinstance(obj, dict) and path in obj:
        return obj[path]
    current = obj
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part, _MISSING)
        elif (
            isinstance(current, list)
            and part.lstrip("-").isascii()
            and part.lstrip("-").isdigit()
            and -len(current) <= int(part) < len(current)
        ):
            current = current[int(part)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


def _chosen(
    attrs: tuple[str, ...] | None, default: Sequence[str], items: Iterable[dict[str, Any]]
) -> list[str]:
    """The attributes to show: the user's, or the command's defaults, or every key seen."""
    if attrs and attrs != ("all",):
        return list(attrs)
    if attrs is None and default:
        return list(default)
    keys: dict[str, None] = {}
    for item in items:
        for key in item:
            keys.setdefault(key, None)
    return list(keys)


def _project(item: dict[str, Any], attrs: list[str]) -> dict[str, Any]:
    return {a: lookup(item, a) for a in attrs}


def show_list(items: list[dict[str, Any]], fmt: Format, out: TextIO, columns: Sequence[str] = ()) -> None:
    """Print many objects: one row per object in a table, or a JSON / YAML list."""
    if fmt.kind != "table":
        data = [_project(i, list(fmt.attrs)) for i in items] if fmt.attrs and fmt.attrs != ("all",) else items
        _dump(data, fmt.kind, out)
        return
    attrs = _chosen(fmt.attrs, columns, items)
    rows = [[lookup(i, a) for a in attrs] for i in items]
    out.write(render_table(attrs, rows, fmt.widths))


def show_one(item: dict[str, Any], fmt: Format, out: TextIO, default: Sequence[str] = ()) -> None:
    """Print one object: a property/value table (of `default` attributes if given), or JSON / YAML."""
    if fmt.kind != "table":
        data = _project(item, list(fmt.attrs)) if fmt.attrs and fmt.attrs != ("all",) else item
        _dump(data, fmt.kind, out)
        return
    attrs = _chosen(fmt.attrs, default, [item])
    out.write(render_table(["Property", "Value"], [[a, lookup(item, a)] for a in attrs], fmt.widths))


def show_raw(data: Any, fmt: Format, out: TextIO) -> None:
    """Print an answer that is neither an object nor a list of objects (a notice, a count)."""
    if fmt.kind == "table":
        out.write(data if isinstance(data, str) and data.endswith("\n") else f"{cell_text(data)}\n")
    else:
        _dump(data, fmt.kind, out)


def _dump(data: Any, kind: str, out: TextIO) -> None:
    if kind == "json":
        out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        out.write(yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True))


def cell_text(value: Any) -> str:
    """A value as one table cell: strings as they are, nested data as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def column_widths(count: int, widths: tuple[int, ...] | None) -> list[int]:
    """One width per column: a single value applies to all; missing ones take the default."""
    if not widths:
        return [DEFAULT_WIDTH] * count
    if len(widths) == 1:
        return [widths[0]] * count
    return [widths[i] if i < len(widths) else DEFAULT_WIDTH for i in range(count)]


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        lines.extend(
            textwrap.wrap(line, width, break_long_words=True, replace_whitespace=False, drop_whitespace=True)
            or [""]
        )
    return lines


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: tuple[int, ...] | None
) -> str:
    """A boxed text table; each column is at most its width, longer cells wrap onto more lines."""
    limits = column_widths(len(headers), widths)
    cells = [[_wrap(h, limits[i]) for i, h in enumerate(headers)]]
    cells += [[_wrap(cell_text(v), limits[i]) for i, v in enumerate(row)] for row in rows]
    sizes = [max(len(line) for row in cells for line in row[i]) for i in range(len(headers))]
    rule = "+" + "+".join("-" * (s + 2) for s in sizes) + "+\n"
    out = [rule]
    for n, row in enumerate(cells):
        for k in range(max(len(c) for c in row)):
            parts = [(c[k] if k < len(c) else "").ljust(sizes[i]) for i, c in enumerate(row)]
            out.append("| " + " | ".join(parts) + " |\n")
        if n == 0:
            out.append(rule)
    if rows:
        out.append(rule)
    return "".join(out)
