"""Table, JSON and YAML rendering and the -a / -w options, without a server."""

from __future__ import annotations

import io
import json

import yaml

from stackyard.cli import output
from stackyard.cli.output import Format

ITEMS = [
    {
        "uid": "blt1",
        "name": "production",
        "urls": [{"locale": "en-us", "url": "https://p.example"}],
        "ok": True,
    },
    {"uid": "blt2", "name": "staging", "urls": [], "ok": None},
]


def _render(fn, data, fmt, columns=()) -> str:
    out = io.StringIO()
    fn(data, fmt, out, columns)
    return out.getvalue()


def test_lookup_dotted_paths() -> None:
    assert output.lookup(ITEMS[0], "urls.0.url") == "https://p.example"
    assert output.lookup(ITEMS[0], "urls.-1.locale") == "en-us"
    assert output.lookup(ITEMS[1], "urls.0.url") is None
    assert output.lookup(ITEMS[0], "name.first") is None
    assert output.lookup({"a.b": 1, "a": {"b": 2}}, "a.b") == 1  # a literal key wins


def test_list_table_uses_default_columns() -> None:
    text = _render(output.show_list, ITEMS, Format(), ("name", "uid"))
    assert text.splitlines() == [
        "+------------+------+",
        "| name       | uid  |",
        "+------------+------+",
        "| production | blt1 |",
        "| staging    | blt2 |",
        "+------------+------+",
    ]


def test_nested_values_are_compact_json_and_none_is_blank() -> None:
    text = _render(output.show_list, ITEMS, Format(attrs=("urls", "ok"), widths=(80,)), ())
    assert '[{"locale": "en-us", "url": "https://p.example"}]' in text
    assert "| true " in text
    row = text.splitlines()[4]
    assert row.split("|")[2].strip() == ""


def test_width_wraps_and_per_column_widths_pad_with_the_default() -> None:
    assert output.column_widths(3, None) == [28, 28, 28]
    assert output.column_widths(3, (5,)) == [5, 5, 5]
    assert output.column_widths(3, (5, 9)) == [5, 9, 28]
    text = output.render_table(["h"], [["abcdefghij"]], (4,))
    assert text.splitlines()[3:6] == ["| abcd |", "| efgh |", "| ij   |"]


def test_empty_list_prints_only_the_header() -> None:
    text = _render(output.show_list, [], Format(), ("uid",))
    assert text.splitlines() == ["+-----+", "| uid |", "+-----+"]


def test_json_and_yaml_with_attrs() -> None:
    text = _render(output.show_list, ITEMS, Format("json", ("uid", "urls.0.url")), ("name",))
    assert json.loads(text) == [
        {"uid": "blt1", "urls.0.url": "https://p.example"},
        {"uid": "blt2", "urls.0.url": None},
    ]
    assert json.loads(_render(output.show_list, ITEMS, Format("json"), ("name",))) == ITEMS
    assert yaml.safe_load(_render(output.show_one, ITEMS[0], Format("yaml", ("name",)))) == {
        "name": "production"
    }


def test_get_table_is_property_value_and_all_shows_everything() -> None:
    text = _render(output.show_one, ITEMS[0], Format(attrs=("all",)))
    assert [c.strip() for c in text.splitlines()[1].split("|")] == ["", "Property", "Value", ""]
    props = [p for line in text.splitlines()[3:-1] if (p := line.split("|")[1].strip())]
    assert props == ["uid", "name", "urls", "ok"]
    text = _render(output.show_one, ITEMS[0], Format(), ("name",))
    assert [line.split("|")[1].strip() for line in text.splitlines()[3:-1]] == ["name"]
