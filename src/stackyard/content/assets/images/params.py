"""Image Delivery parameters (catalogue §3.7) parsed into one normalized `Plan`.

    plan = parse({"width": "400", "format": "webp"}, accept="image/avif,image/webp,*/*")
    plan.key == "format=webp;width=400"        # the derived-cache key part: same ask, same key

Values follow Contentstack's (Fastly's) syntax: sizes in pixels, as a fraction (`0.5`) or as a
percentage (`50p`); `crop` and `canvas` take `w,h` or an aspect ratio `w:h`, then a position
`x{n},y{n}` or `offset-x{n},offset-y{n}` (percent of the space left); `trim` and `pad` take one to
four CSS-style sides; `bg-color` takes hex (`FFF`, `FFFFFF`, `FFFFFF80`) or `r,g,b[,a]`. A value
out of its range or of the wrong syntax is a 400 naming the parameter (nothing is guessed).
Parameters the API does not know (such as `environment`) are ignored, as Contentstack does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache
from typing import Any

from stackyard.errors import BadRequest

FORMATS = ("jpg", "pjpg", "png", "webp", "webply", "webpll", "gif", "avif")
FILTERS = {
    "nearest": "nearest",
    "bilinear": "linear",
    "bicubic": "cubic",
    "lanczos2": "lanczos2",
    "lanczos3": "lanczos3",
}
ALIGN = ("top", "bottom", "left", "right", "middle", "center")
KNOWN = frozenset(
    {
        "width", "height", "fit", "crop", "trim", "pad", "bg-color", "quality", "format", "auto",
        "orient", "dpr", "blur", "sharpen", "saturation", "brightness", "contrast", "resize-filter",
        "canvas", "overlay", "overlay-align", "overlay-repeat", "overlay-width", "overlay-height",
        "overlay-pad", "disable", "frame",
    }
)  # fmt: skip
NUMBER = re.compile(r"^\d+(\.\d+)?$")


def _bad(name: str, why: str) -> BadRequest:
    return BadRequest(f"The image parameter '{name}' {why}", error_code=100, errors={name: [why]})


@dataclass(frozen=True)
class Size:
    """A length: pixels, or a fraction of a reference length (`fraction=True`)."""

    value: float
    fraction: bool = False

    def of(self, reference: int) -> int:
        return max(1, round(self.value * reference)) if self.fraction else max(1, round(self.value))

    def text(self) -> str:
        return f"{self.value:g}{'f' if self.fraction else ''}"


def size(name: str, raw: str, *, allow_fraction: bool = True, maximum: float = 100_000) -> Size:
    raw = raw.strip().lower()
    if raw.endswith("p") and allow_fraction:
        number = raw[:-1]
        if not NUMBER.match(number) or not 0 < float(number) <= 100:
            raise _bad(name, "must be a percentage such as 50p (0 < p <= 100).")
        return Size(float(number) / 100, True)
    if not NUMBER.match(raw):
        raise _bad(name, "must be a number of pixels, a fraction such as 0.5, or a percentage such as 50p.")
    value = float(raw)
    if "." in raw and value <= 1 and allow_fraction:
        if value <= 0:
            raise _bad(name, "must be more than 0.")
        return Size(value, True)
    if not 1 <= value <= maximum or "." in raw:
        raise _bad(name, f"must be a whole number of pixels from 1 to {maximum:g}.")
    return Size(value)


@dataclass(frozen=True)
class Region:
    """`crop` / `canvas`: a size or an aspect ratio, and where it sits."""

    width: Size | None = None
    height: Size | None = None
    ratio: tuple[float, float] | None = None
    x: Size | None = None  # position of the left edge
    y: Size | None = None
    offset_x: float | None = None  # 0..100: share of the space left, to the left
    offset_y: float | None = None
    mode: str = ""  # "", "safe", "smart"

    def text(self) -> str:
        parts = (
            [f"{self.ratio[0]:g}:{self.ratio[1]:g}"]
            if self.ratio
            else [
                self.width.text() if self.width else "",
                self.height.text() if self.height else "",
            ]
        )
        for label, v in (("x", self.x), ("y", self.y)):
            if v is not None:
                parts.append(label + v.text())
        for label, o in (("ox", self.offset_x), ("oy", self.offset_y)):
            if o is not None:
                parts.append(f"{label}{o:g}")
        if self.mode:
            parts.append(self.mode)
        return ",".join(parts)


def region(name: str, raw: str) -> Region:
    items = [p.strip().lower() for p in raw.split(",") if p.strip()]
    if not items:
        raise _bad(name, "needs a size: w,h or w:h.")
    out: dict[str, Any] = {}
    if ":" in items[0]:
        a, _, b = items[0].partition(":")
        if not (NUMBER.match(a) and NUMBER.match(b)) or float(a) <= 0 or float(b) <= 0:
            raise _bad(name, "takes an aspect ratio such as 16:9.")
        out["ratio"] = (float(a), float(b))
        rest = items[1:]
    else:
        if len(items) < 2:
            raise _bad(name, "needs a width and a height: w,h.")
        out["width"], out["height"] = size(name, items[0]), size(name, items[1])
        rest = items[2:]
    for item in rest:
        if item in ("safe", "smart"):
            out["mode"] = item
        elif item.startswith("offset-x") or item.startswith("offset-y"):
            number = item[8:]
            if not NUMBER.match(number) or float(number) > 100:
                raise _bad(name, "takes offset-x/offset-y as a percentage from 0 to 100.")
            out["offset_x" if item[7] == "x" else "offset_y"] = float(number)
        elif item[:1] in ("x", "y"):
            number = item[1:]
            if not NUMBER.match(number):
                raise _bad(name, "takes positions such as x10,y20 (pixels) or x0.5,y0.5 (fractions).")
            value = float(number)
            out[item[0]] = Size(value, "." in number and value <= 1)
        else:
            raise _bad(name, f"does not understand '{item}'.")
    return Region(**out)


def sides(name: str, raw: str, maximum: int = 10_000) -> tuple[int, int, int, int]:
    """CSS-style top,right,bottom,left from one to four pixel values."""
    items = [p.strip() for p in raw.split(",")]
    if not 1 <= len(items) <= 4 or not all(i.isdigit() and int(i) <= maximum for i in items):
        raise _bad(name, f"takes one to four pixel values (top,right,bottom,left), each at most {maximum}.")
    v = [int(i) for i in items]
    if len(v) == 1:
        return v[0], v[0], v[0], v[0]
    if len(v) == 2:
        return v[0], v[1], v[0], v[1]
    if len(v) == 3:
        return v[0], v[1], v[2], v[1]
    return v[0], v[1], v[2], v[3]


def color(name: str, raw: str) -> tuple[int, int, int, int]:
    raw = raw.strip().lstrip("#")
    if re.fullmatch(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}", raw):
        if len(raw) == 3:
            raw = "".join(c * 2 for c in raw)
        alpha = int(raw[6:8], 16) if len(raw) == 8 else 255
        return int(raw[0:2], 16), int(raw[2:4], 16), int(raw[4:6], 16), alpha
    parts = [p.strip() for p in raw.split(",")]
    if len(parts) in (3, 4) and all(p.isdigit() and int(p) <= 255 for p in parts[:3]):
        alpha = 255
        if len(parts) == 4:
            if not NUMBER.match(parts[3]) or float(parts[3]) > 1:
                raise _bad(name, "takes an alpha from 0 to 1 as its fourth value.")
            alpha = round(float(parts[3]) * 255)
        return int(parts[0]), int(parts[1]), int(parts[2]), alpha
    raise _bad(name, "must be hex (FFFFFF, FFF, FFFFFF80) or r,g,b or r,g,b,a.")


def _int(name: str, raw: str, low: int, high: int) -> int:
    raw = raw.strip()
    if not re.fullmatch(r"-?\d+", raw) or not low <= int(raw) <= high:
        raise _bad(name, f"must be a whole number from {low} to {high}.")
    return int(raw)


def _float(name: str, raw: str, low: float, high: float) -> float:
    raw = raw.strip()
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw) or not low <= float(raw) <= high:
        raise _bad(name, f"must be a number from {low:g} to {high:g}.")
    return float(raw)


@dataclass(frozen=True)
class Plan:
    """Everything asked of one image, normalized: equal plans give equal images."""

    width: Size | None = None
    height: Size | None = None
    fit: str = ""
    crop: Region | None = None
    trim: tuple[int, int, int, int] | None = None
    pad: tuple[int, int, int, int] | None = None
    bg: tuple[int, int, int, int] | None = None
    quality: int | None = None
    format: str = ""  # "" keeps the source's format
    negotiated: bool = False  # the format came from the Accept header (answer with Vary: Accept)
    orient: int = 1
    dpr: float = 1.0
    blur: float = 0.0
    sharpen: tuple[float, float, float] | None = None
    saturation: float = 0.0
    brightness: float = 0.0
    contrast: float = 0.0
    kernel: str = ""
    canvas: Region | None = None
    overlay: str = ""
    overlay_align: tuple[str, ...] = ()
    overlay_repeat: str = ""
    overlay_width: Size | None = None
    overlay_height: Size | None = None
    overlay_pad: tuple[int, int, int, int] | None = None
    no_upscale: bool = False
    frame: int = 0
    extra: tuple[tuple[str, str], ...] = field(default=())

    @cached_property
    def empty(self) -> bool:
        return self.key == ""

    @cached_property
    def key(self) -> str:
        """The normalized text of the plan: every field that differs from its default."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default or f.name == "negotiated":
                continue
            text = value.text() if hasattr(value, "text") else str(value)
            out.append(f"{f.name}={text}")
        return ";".join(out)


def _auto_format(auto: str, accept: str) -> str:
    accept = accept.lower()
    wanted = [a.strip() for a in auto.lower().split(",") if a.strip()]
    for a in wanted:
        if a not in ("webp", "avif"):
            raise _bad("auto", "takes webp or avif.")
    for choice in ("avif", "webp"):
        if choice in wanted and f"image/{choice}" in accept:
            return choice
    return ""


def parse(query: dict[str, str], accept: str = "") -> Plan:
    """The plan for these query parameters (the last value of each wins). Only whether `accept`
    names AVIF and WebP matters, so plans are remembered per query and those two facts."""
    known = tuple(sorted((k.lower(), v) for k, v in query.items() if k.lower() in KNOWN))
    lowered = accept.lower()
    kinds = ",".join(k for k in ("image/avif", "image/webp") if k in lowered)
    return _parse(known, kinds)


@lru_cache(maxsize=4096)
def _parse(known: tuple[tuple[str, str], ...], accept: str) -> Plan:
    q = dict(known)
    out: dict[str, Any] = {}
    if "width" in q:
        out["width"] = size("width", q["width"])
    if "height" in q:
        out["height"] = size("height", q["height"])
    if "fit" in q:
        if q["fit"] not in ("bounds", "cover", "crop"):
            raise _bad("fit", "must be bounds, cover or crop.")
        out["fit"] = q["fit"]
    if "crop" in q:
        out["crop"] = region("crop", q["crop"])
    if "trim" in q:
        out["trim"] = sides("trim", q["trim"])
    if "pad" in q:
        out["pad"] = sides("pad", q["pad"])
    if "bg-color" in q:
        out["bg"] = color("bg-color", q["bg-color"])
    if "quality" in q:
        out["quality"] = _int("quality", q["quality"], 1, 100)
    fmt = q.get("format", "").lower()
    if fmt and fmt != "auto" and fmt not in FORMATS:
        raise _bad("format", f"must be one of auto, {', '.join(FORMATS)}.")
    if fmt == "auto":
        fmt = _auto_format("avif,webp", accept)
        out["negotiated"] = True
    if "auto" in q:
        chosen = _auto_format(q["auto"], accept)
        out["negotiated"] = True
        if chosen and not fmt:
            fmt = chosen
    out["format"] = fmt
    if "orient" in q:
        out["orient"] = _int("orient", q["orient"], 1, 8)
    if "dpr" in q:
        out["dpr"] = _float("dpr", q["dpr"], 0.1, 10)
        if "width" not in q and "height" not in q:
            raise _bad("dpr", "needs width or height.")
    if "blur" in q:
        out["blur"] = _float("blur", q["blur"], 0.1, 1000)
    if "sharpen" in q:
        out["sharpen"] = _sharpen(q["sharpen"])
    for name in ("saturation", "brightness", "contrast"):
        if name in q:
            out[name] = _float(name, q[name], -100, 100)
    if "resize-filter" in q:
        if q["resize-filter"] not in FILTERS:
            raise _bad("resize-filter", f"must be one of {', '.join(FILTERS)}.")
        out["kernel"] = FILTERS[q["resize-filter"]]
    if "canvas" in q:
        out["canvas"] = region("canvas", q["canvas"])
    if "overlay" in q:
        out["overlay"] = q["overlay"].strip()
        if "overlay-align" in q:
            align = tuple(a.strip() for a in q["overlay-align"].split(",") if a.strip())
            if not align or any(a not in ALIGN for a in align):
                raise _bad("overlay-align", f"takes {', '.join(ALIGN)}.")
            out["overlay_align"] = align
        if "overlay-repeat" in q:
            if q["overlay-repeat"] not in ("x", "y", "both"):
                raise _bad("overlay-repeat", "must be x, y or both.")
            out["overlay_repeat"] = q["overlay-repeat"]
        if "overlay-width" in q:
            out["overlay_width"] = size("overlay-width", q["overlay-width"])
        if "overlay-height" in q:
            out["overlay_height"] = size("overlay-height", q["overlay-height"])
        if "overlay-pad" in q:
            out["overlay_pad"] = sides("overlay-pad", q["overlay-pad"])
    if "disable" in q:
        if q["disable"] != "upscale":
            raise _bad("disable", "takes upscale.")
        out["no_upscale"] = True
    if "frame" in q:
        out["frame"] = _int("frame", q["frame"], 1, 1)
    return Plan(**out)


def _sharpen(raw: str) -> tuple[float, float, float]:
    values = {"a": 0.0, "r": 1.0, "t": 0.0}
    for item in (p.strip() for p in raw.split(",")):
        if not item or item[0] not in values or not NUMBER.match(item[1:]):
            raise _bad("sharpen", "takes a{amount},r{radius},t{threshold}, e.g. a5,r2,t0.")
        values[item[0]] = float(item[1:])
    if not (0 <= values["a"] <= 10 and 0.5 <= values["r"] <= 1000 and 0 <= values["t"] <= 255):
        raise _bad("sharpen", "takes amount 0-10, radius 0.5-1000 and threshold 0-255.")
    return values["a"], values["r"], values["t"]
