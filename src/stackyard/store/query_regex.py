"""The one regular expression dialect of `$regex`, with the same meaning on SQLite and PostgreSQL.

    rx = parse_regex("^Hello [a-z]+$", "i")
    rx.re2   # "(?s)^[hH][eE][lL][lL][oO] [a-zA-Z]+$"   matched by RE2 (SQLite, query_eval)
    rx.ere   # "^[hH][eE][lL][lL][oO] [a-zA-Z]+$"       matched by PostgreSQL's `~`

SQLite matches with RE2 (google-re2), PostgreSQL with its own ARE engine; both run in time linear
in the text, so no pattern can stall a server for seconds (Python's backtracking `re` did). A
pattern is parsed once, at query compile time, into the subset both engines agree on, and written
out again for each: what reaches an engine is our own rendering, never the client's text.

The dialect: literal characters; `.` (any character, newline included); `^` and `$` (start and
end of the text); groups `( )` and `(?: )` (only for grouping: nothing is captured); alternation
`|`; the quantifiers `* + ? {n} {n,} {n,m}` (a trailing `?`, lazy, is accepted and changes nothing
when all we ask is whether a text matches), counts at most 255 (PostgreSQL's limit); classes
`[abc] [^a-z]`; the escapes `\\d \\w \\s` (ASCII digits, word characters and whitespace, also inside
classes), `\\D \\W \\S` (outside classes), `\\n \\t \\r \\f \\v` and a backslash before any
punctuation. Refused, as a 400 (error_code 102): backreferences, lookaround, possessive
quantifiers, named groups, inline flags, `\\b` (a word boundary in RE2, a backspace in
PostgreSQL), Unicode classes, POSIX classes, and patterns whose repetitions expand past
`MAX_REGEX_SIZE` positions. `$options` may be "i": ASCII letters match either case (the same on
both engines: RE2 folds all of Unicode, PostgreSQL's C collation only ASCII, so we spell out the
ASCII pairs ourselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2

from stackyard.store.query_paths import bad_query

MAX_REGEX = 256  # characters of a pattern
MAX_REPEAT = 255  # largest count in {n,m}: PostgreSQL refuses more (RE2 would take 1000)
MAX_REGEX_SIZE = 2000  # positions a pattern may expand to, repetitions multiplied out

_SPECIAL = set("\\^$.|?*+()[]{}")
_CLASS_SPECIAL = set("\\]^-[")
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
# \d \w \s as ranges of code points, the same on both engines (never their locale-dependent meaning).
_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "d": ((0x30, 0x39),),
    "w": ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)),
    "s": ((0x09, 0x0D), (0x20, 0x20)),
}
_MAX_CODE = 0x10FFFF


@dataclass(frozen=True)
class Regex:
    """A checked pattern: the client's `source`, and its rendering for RE2 and for PostgreSQL."""

    source: str
    re2: str
    ere: str


def parse_regex(pattern: Any, options: str = "") -> Regex:
    """Check `pattern` against the dialect (a 400 naming the problem otherwise) and render it."""
    if not isinstance(pattern, str) or len(pattern) > MAX_REGEX:
        raise bad_query(f"'$regex' takes a pattern of at most {MAX_REGEX} characters on text fields.")
    parser = _Parser(pattern, fold=options == "i")
    out = parser.alternation()
    if parser.pos < len(pattern):
        parser.fail("an unmatched ')'")
    if parser.size(out) > MAX_REGEX_SIZE:
        raise bad_query(f"'$regex' pattern repeats too much (more than {MAX_REGEX_SIZE} positions).")
    text = _emit(out)
    return Regex(pattern, "(?s)" + text, text)


@lru_cache(maxsize=512)
def compiled(re2_pattern: str) -> Any:
    """The RE2 program of a rendered pattern, compiled once per process."""
    opts = re2.Options()
    opts.log_errors = False
    opts.never_capture = True
    return re2.compile(re2_pattern, opts)


def linear(pattern: str) -> Any:
    """`pattern` as written (a text field's `format`) compiled by RE2, which runs in time linear in
    the text; ValueError, with RE2's reason, for syntax it cannot run that way (lookaround,
    backreferences). Compiled once per process."""
    try:
        return compiled(pattern)
    except re2.error as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise ValueError(reason) from None


def search(rx: Regex | str, value: Any) -> bool:
    """Does the text `value` match? (RE2; what SQLite's `sy_regexp` and `query_eval` answer)."""
    if not isinstance(value, str):
        return False
    return compiled(rx.re2 if isinstance(rx, Regex) else rx).search(value) is not None


def _regexp(pattern: str, value: Any) -> int:
    return 1 if search(pattern, value) else 0


def prepare(tx: Any) -> None:
    """Register the SQLite function `$regex` compiles to on this transaction's connection (RE2:
    linear in the text, where Python's backtracking `re` could hold the event loop for seconds).

    Once per connection: registering a function again replaces it, and SQLite then expires every
    prepared statement of the connection, so each later statement would be compiled anew (about
    two thirds of the SQL time of a delivery query, when this ran on every read)."""
    if tx.dialect == "sqlite" and not getattr(tx._conn, "has_sy_regexp", False):
        tx._conn.create_function("sy_regexp", 2, _regexp, deterministic=True)
        tx._conn.has_sy_regexp = True


# -- the parser: a small tree of tuples ---------------------------------------------------------
# ("alt", [seq...]) ("seq", [node...]) ("rep", node, low, high|None) ("group", node)
# ("set", negated, ((lo, hi), ...)) ("char", c) ("any",) ("bol",) ("eol",)


class _Parser:
    def __init__(self, text: str, *, fold: bool) -> None:
        self.text = text
        self.pos = 0
        self.fold = fold
        self.depth = 0

    def fail(self, what: str) -> None:
        message = f"'$regex' pattern has {what} at position {self.pos}; see the query documentation for the supported syntax."
        raise bad_query(message)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def alternation(self) -> tuple[Any, ...]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return ("alt", branches)

    def sequence(self) -> tuple[Any, ...]:
        items: list[Any] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            items.append(self.quantified(atom))
        return ("seq", items)

    def quantified(self, atom: tuple[Any, ...]) -> tuple[Any, ...]:
        c = self.peek()
        if c not in ("*", "+", "?", "{"):
            return atom
        if atom[0] in ("bol", "eol"):
            self.fail("a quantifier after an anchor")
        if c == "{":
            low, high = self.counts()
        else:
            self.pos += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        if self.peek() == "?":
            self.pos += 1  # lazy: the same texts match
        if self.peek() in ("*", "+", "?", "{"):
            self.fail("a quantifier on a quantifier (possessive or nested)")
        return ("rep", atom, low, high)

    def counts(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.pos)
        body = self.text[self.pos + 1 : end] if end > 0 else ""
        low_s, comma, high_s = body.partition(",")
        if end < 0 or not low_s.isdigit() or not (high_s.isdigit() or not high_s):
            self.fail("a '{' that is not a repetition count (write \\{ for the character)")
        if len(low_s) > 3 or len(high_s) > 3 or int(low_s) > MAX_REPEAT or int(high_s or 0) > MAX_REPEAT:
            self.fail(f"a repetition count above {MAX_REPEAT}")
        low = int(low_s)
        high = int(high_s) if high_s else (None if comma else low)
        if high is not None and high < low:
            self.fail("a repetition {n,m} with m below n")
        self.pos = end + 1
        return low, high

    def atom(self) -> tuple[Any, ...]:
        c = self.peek()
        self.pos += 1
        if c == "(":
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                self.fail("a lookaround, named group or inline flag (only (...) and (?:...) are supported)")
            self.depth += 1
            if self.depth > 20:
                self.fail("groups nested too deeply")
            inner = self.alternation()
            if self.peek() != ")":
                self.fail("an unclosed '('")
            self.pos += 1
            self.depth -= 1
            return ("group", inner)
        if c == "[":
            return self.char_class()
        if c == ".":
            return ("any",)
        if c == "^":
            return ("bol",)
        if c == "$":
            return ("eol",)
        if c == "\\":
            return self.escape(in_class=False)
        if c in ("*", "+", "?", "{"):
            self.pos -= 1
            self.fail(f"a '{c}' with nothing to repeat")
        if c in ("]", "}"):
            self.pos -= 1
            self.fail(f"an unescaped '{c}'")
        return self.literal(c)

    def literal(self, c: str) -> tuple[Any, ...]:
        if self.fold and c.isascii() and c.isalpha():
            return ("set", False, _fold(((ord(c), ord(c)),)))
        return ("char", c)

    def escape(self, *, in_class: bool) -> tuple[Any, ...]:
        c = self.peek()
        self.pos += 1
        if c == "":
            self.fail("a trailing backslash")
        if c in _RANGES:
            return ("set", False, _RANGES[c])
        if c.lower() in _RANGES and not in_class:
            return ("set", True, _RANGES[c.lower()])
        if c in _CONTROL:
            return ("char", _CONTROL[c])
        if c.isascii() and not c.isalnum() and c.isprintable() and c != " ":
            return self.literal(c) if not in_class else ("char", c)
        self.pos -= 1
        self.fail(f"the unsupported escape '\\{c}'")
        raise AssertionError  # pragma: no cover

    def char_class(self) -> tuple[Any, ...]:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        while self.peek() != "]":
            if self.peek() == "":
                self.fail("an unclosed '['")
            if self.peek() == "[":
                self.fail("a '[' inside a class (POSIX classes are not supported; write \\[)")
            low = self.class_char()
            if isinstance(low, tuple):
                ranges.extend(low)
            elif self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                high = self.class_char()
                if isinstance(high, tuple):
                    self.fail("a range ending in a class escape")
                elif high < low:
                    self.fail("a range whose end is before its start")
                ranges.append((low, int(high)))  # type: ignore[arg-type]
            else:
                ranges.append((low, low))
        self.pos += 1
        if not ranges:
            self.fail("an empty class")
        spans = tuple(ranges)
        return ("set", negated, _fold(spans) if self.fold else _merge(spans))

    def class_char(self) -> int | tuple[tuple[int, int], ...]:
        """One character of a class as a code point, or the ranges of a class escape (\\d)."""
        c = self.peek()
        self.pos += 1
        if c != "\\":
            return ord(c)
        node = self.escape(in_class=True)
        return ord(node[1]) if node[0] == "char" else tuple(node[2])

    def size(self, node: tuple[Any, ...]) -> int:
        kind = node[0]
        if kind in ("alt", "seq"):
            return sum(self.size(n) for n in node[1]) + 1
        if kind == "group":
            return self.size(node[1])
        if kind == "rep":
            return self.size(node[1]) * max(1, node[3] if node[3] is not None else node[2] + 1)
        return 1


def _merge(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _fold(spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """The spans with the other case of every ASCII letter in them added."""
    extra: list[tuple[int, int]] = []
    for lo, hi in spans:
        for start, end, shift in ((0x41, 0x5A, 0x20), (0x61, 0x7A, -0x20)):
            a, b = max(lo, start), min(hi, end)
            if a <= b:
                extra.append((a + shift, b + shift))
    return _merge(spans + tuple(extra))


def _char(code: int, special: set[str]) -> str:
    c = chr(code)
    return "\\" + c if c in special else c


def _emit(node: tuple[Any, ...]) -> str:
    """The tree as pattern text both RE2 and PostgreSQL read the same way."""
    kind = node[0]
    if kind == "alt":
        return "|".join(_emit(n) for n in node[1])
    if kind == "seq":
        return "".join(_emit(n) for n in node[1])
    if kind == "group":
        return "(?:" + _emit(node[1]) + ")"
    if kind == "rep":
        _, atom, low, high = node
        suffix = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get((low, high))
        if suffix is None:
            suffix = f"{{{low}}}" if high == low else f"{{{low},{'' if high is None else high}}}"
        return _emit(atom) + suffix
    if kind == "set":
        _, negated, spans = node
        items = "".join(
            _char(lo, _CLASS_SPECIAL)
            if lo == hi
            else f"{_char(lo, _CLASS_SPECIAL)}-{_char(hi, _CLASS_SPECIAL)}"
            for lo, hi in spans
        )
        return "[" + ("^" if negated else "") + items + "]"
    if kind == "char":
        return _char(ord(node[1]), _SPECIAL)
    return {"any": ".", "bol": "^", "eol": "$"}[kind]
