"""One `Plan` applied to one image file in libvips (pyvips), shrinking on load wherever it can.

    out = render.transform(path, plan, "image/jpeg", limits, overlay=load_overlay)   # -> Output

Order of operations: orient (EXIF first, then `orient`), trim, crop, resize (width, height, fit,
dpr, disable=upscale, resize-filter), pad, canvas, colour adjustments (saturation, brightness,
contrast), blur, sharpen, overlay, background (bg-color, flattening for formats without alpha),
encode (format, quality).

Shrink-on-load, never a full decode when the output is smaller: a JPEG is decoded at the largest
1/2, 1/4 or 1/8 scale that keeps enough pixels for the output (by Pillow's `draft` while the shrunk
image is small, else by libvips' `shrink=` in strips), then cropped in the shrunk image's
coordinates and resized (lanczos3 unless `resize-filter`); a plain resize of another format goes
through `Image.thumbnail`, which shrinks WebP, HEIF and AVIF on load at any scale. Pillow also
encodes lossy WebP and JPEG outputs of up to 4 megapixels; both steps are in `codecs`, which says
why (measured) and when. libvips does every other step.

The header is read before any pixel (`probe`): inputs over the pixel or byte limits are refused
with a 422 before decoding, and the output size is checked against `max_output_side` before the
work starts. A transform past its time limit is killed inside libvips (503).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from stackyard.content.assets.images import codecs
from stackyard.content.assets.images.params import Plan, Region
from stackyard.errors import APIError, UnprocessableEntity

# libvips' own operation cache would keep decoded images of every recent source: our derived cache
# keeps the results instead, so the operation cache only costs memory here.
pyvips.cache_set_max(0)

HUGE = 10_000_000
MIME = {
    "jpg": "image/jpeg", "pjpg": "image/jpeg", "png": "image/png", "webp": "image/webp",
    "webply": "image/webp", "webpll": "image/webp", "gif": "image/gif", "avif": "image/avif",
}  # fmt: skip
SOURCE_FORMAT = {
    "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
    "image/avif": "avif", "image/heif": "jpg", "image/heic": "jpg", "image/tiff": "jpg",
}  # fmt: skip
ALPHA_FORMATS = frozenset({"png", "webp", "webply", "webpll", "gif", "avif"})
DEFAULT_QUALITY = {"jpg": 80, "pjpg": 80, "webp": 80, "webply": 80, "avif": 50}


@dataclass(frozen=True)
class Limits:
    max_input_pixels: int
    max_input_bytes: int
    max_output_side: int
    timeout_seconds: float


@dataclass(frozen=True)
class Output:
    body: bytes
    mime: str
    width: int
    height: int


class TimedOut(APIError):
    status = 503
    default_code = 503


def _refuse(why: str) -> UnprocessableEntity:
    return UnprocessableEntity(f"This image cannot be transformed: {why}", errors={"image": [why]})


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    orientation: int  # EXIF: 1 as stored, 2-8 flipped or turned
    jpeg: bool

    @property
    def oriented(self) -> tuple[int, int]:
        """(width, height) as displayed, after the EXIF orientation."""
        return (self.height, self.width) if self.orientation in (5, 6, 7, 8) else (self.width, self.height)


def probe(path: Path, limits: Limits) -> Header:
    """The image's header (no pixels decoded), after the byte and pixel limits. A JPEG's is read by
    Pillow (`codecs.jpeg_header`, a fifth of libvips' cost), anything else's by libvips."""
    size = path.stat().st_size
    if size > limits.max_input_bytes:
        raise _refuse(f"the file is {size} bytes, more than the {limits.max_input_bytes} allowed.")
    found = codecs.jpeg_header(str(path))
    if found is not None:
        head = Header(found[0], found[1], found[2], jpeg=True)
    else:
        try:
            image = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="warning")
        except pyvips.Error:
            raise _refuse("the file is not an image this server can read.") from None
        orientation = int(image.get("orientation")) if image.get_typeof("orientation") != 0 else 1
        loader = str(image.get("vips-loader")) if image.get_typeof("vips-loader") != 0 else ""
        head = Header(int(image.width), int(image.height), orientation, loader.startswith("jpegload"))
    pixels = head.width * head.height
    if pixels > limits.max_input_pixels:
        raise _refuse(f"it has {pixels} pixels, more than the {limits.max_input_pixels} allowed.")
    return head


def _region_box(r: Region, w: int, h: int) -> tuple[int, int, int, int]:
    """(left, top, width, height) of a crop/canvas region on a wxh image (may exceed it for canvas)."""
    if r.ratio is not None:
        ratio = r.ratio[0] / r.ratio[1]
        rw, rh = (w, round(w / ratio)) if w / h < ratio else (round(h * ratio), h)
    else:
        assert r.width is not None and r.height is not None
        rw, rh = r.width.of(w), r.height.of(h)
    rw, rh = max(1, rw), max(1, rh)
    if r.x is not None or r.y is not None:
        left = r.x.of(w) if r.x is not None and r.x.value else 0
        top = r.y.of(h) if r.y is not None and r.y.value else 0
    else:
        ox = 50.0 if r.offset_x is None else r.offset_x
        oy = 50.0 if r.offset_y is None else r.offset_y
        left, top = round((w - rw) * ox / 100), round((h - rh) * oy / 100)
    return left, top, rw, rh


def _target(plan: Plan, w: int, h: int) -> tuple[int, int] | None:
    """The (width, height) box asked for an image of wxh (None: no resize)."""
    if plan.width is None and plan.height is None:
        return None
    tw = round(plan.width.of(w) * plan.dpr) if plan.width else 0
    th = round(plan.height.of(h) * plan.dpr) if plan.height else 0
    if not th:
        th = max(1, round(h * tw / w))
    elif not tw:
        tw = max(1, round(w * th / h))
    elif plan.fit == "bounds":
        scale = min(tw / w, th / h)
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    elif plan.fit == "cover":
        scale = max(tw / w, th / h)
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
    if plan.no_upscale and (tw > w or th > h):
        scale = min(w / tw, h / th)
        tw, th = max(1, round(tw * scale)), max(1, round(th * scale))
    return tw, th


def _orient(image: pyvips.Image, orient: int) -> pyvips.Image:
    if orient in (2, 5, 7):
        image = image.fliphor()
    if orient == 3:
        image = image.rot180()
    if orient == 4:
        image = image.flipver()
    if orient in (5, 8):
        image = image.rot270()
    if orient in (6, 7):
        image = image.rot90()
    return image


def _geometry(plan: Plan, w: int, h: int) -> tuple[tuple[int, int, int, int] | None, int, int]:
    """The crop box (after trim and crop, in source coordinates) and the size it leaves."""
    if plan.trim is None and plan.crop is None:
        return None, w, h
    left, top, cw, ch = 0, 0, w, h
    if plan.trim is not None:
        t, r, b, lft = plan.trim
        left, top, cw, ch = lft, t, w - lft - r, h - t - b
        if cw < 1 or ch < 1:
            raise UnprocessableEntity(
                "trim removes the whole image.", errors={"trim": ["is larger than the image."]}
            )
    if plan.crop is not None:
        cl, ct, rw, rh = _region_box(plan.crop, cw, ch)
        cl, ct = max(0, min(cl, cw - 1)), max(0, min(ct, ch - 1))
        rw, rh = min(rw, cw - cl), min(rh, ch - ct)
        left, top, cw, ch = left + cl, top + ct, rw, rh
    return (left, top, cw, ch), cw, ch


def transform(
    path: Path,
    plan: Plan,
    source_mime: str,
    limits: Limits,
    overlay: Callable[[str], Path | None] | None = None,
) -> Output:
    started = time.monotonic()
    head = probe(path, limits)
    fmt = plan.format or SOURCE_FORMAT.get(source_mime, "jpg")
    ow, oh = head.oriented
    if plan.orient in (5, 6, 7, 8):
        ow, oh = oh, ow
    box, cw, ch = _geometry(plan, ow, oh)
    target = _target(plan, cw, ch)
    final = target or (cw, ch)
    if max(final) > limits.max_output_side:
        raise _refuse(f"the output would be {final[0]}x{final[1]}, over {limits.max_output_side} on a side.")
    image, padded = _load(path, head, plan, box, target, fmt)
    if padded and _edits(plan):  # Pillow's unused 4th byte would be taken for alpha
        image, padded = image.extract_band(0, n=3), False
    if not padded:
        image = _after_resize(image, plan, fmt, overlay)
    if max(image.width, image.height) > limits.max_output_side:
        raise _refuse(
            f"the output would be {image.width}x{image.height}, over {limits.max_output_side} on a side."
        )
    return _encode(image, plan, fmt, limits.timeout_seconds - (time.monotonic() - started), padded)


def _load(
    path: Path,
    head: Header,
    plan: Plan,
    box: tuple[int, int, int, int] | None,
    target: tuple[int, int] | None,
    fmt: str,
) -> tuple[pyvips.Image, bool]:
    """The source, oriented, cropped and resized, and whether it is padded: decoded by Pillow in 4
    bands, the 4th unused (`codecs.jpeg`), dropped by the caller only where a step needs it gone.
    JPEG decodes at the largest 1/2, 1/4 or 1/8 shrink that still has enough pixels (measured
    faster than `thumbnail` for JPEG); other formats with a plain resize go through `thumbnail`
    (WebP, HEIF and AVIF shrink on load there)."""
    swap = plan.orient in (5, 6, 7, 8)
    jpeg = head.jpeg
    if box is None and target is not None and not plan.kernel and not jpeg:
        tw, th = (target[1], target[0]) if swap else target
        image = pyvips.Image.thumbnail(str(path), tw, height=th, size="force")
        return _orient(image, plan.orient), False
    ow, oh = head.oriented
    if swap:
        ow, oh = oh, ow
    region = box or (0, 0, ow, oh)
    shrink = 1
    if target is not None and jpeg:
        ratio = min(region[2] / target[0], region[3] / target[1])
        while shrink < 8 and shrink * 2 <= ratio:
            shrink *= 2
    exif = head.orientation
    streaming = exif == 1 and plan.orient in (1, 2)  # no rotation: decode top to bottom, in strips
    image = codecs.jpeg(str(path), head.width, head.height, shrink) if jpeg else None
    padded = image is not None and image.bands == 4  # Pillow's RGB: a 4th byte, unused
    if image is not None:
        image = _orient(image, exif)
    else:
        options: dict[str, Any] = {"access": "sequential"} if streaming else {}
        if shrink > 1:
            options["shrink"] = shrink
        try:
            image = pyvips.Image.new_from_file(str(path), **options)
        except pyvips.Error:
            raise _refuse("the file is not an image this server can read.") from None
        if exif != 1:
            image = image.autorot()
    image = _orient(image, plan.orient)
    if box is not None:
        left, top, cw, ch = (round(v / shrink) for v in box)
        left, top = min(left, image.width - 1), min(top, image.height - 1)
        image = image.crop(
            left, top, max(1, min(cw, image.width - left)), max(1, min(ch, image.height - top))
        )
    if target is not None and (image.width, image.height) != target:
        kernel = plan.kernel or "lanczos3"
        image = image.resize(target[0] / image.width, vscale=target[1] / image.height, kernel=kernel)
    return image, padded


def _bg(plan: Plan, fmt: str, image: pyvips.Image) -> list[float]:
    if plan.bg is not None:
        r, g, b, a = plan.bg
    else:
        r, g, b, a = (0, 0, 0, 0) if fmt in ALPHA_FORMATS else (255, 255, 255, 255)
    return [r, g, b, a]


def _with_alpha(image: pyvips.Image) -> pyvips.Image:
    if image.interpretation not in ("srgb", "rgb"):
        image = image.colourspace("srgb")
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image


def _extend(
    image: pyvips.Image, left: int, top: int, width: int, height: int, bg: list[float]
) -> pyvips.Image:
    image = _with_alpha(image)
    return image.embed(left, top, width, height, extend="background", background=bg)


def _edits(plan: Plan) -> bool:
    """Whether `_after_resize` has a step to take besides flattening an alpha channel."""
    colour = plan.saturation or plan.brightness or plan.contrast
    return bool(plan.pad or plan.canvas or colour or plan.blur or plan.sharpen or plan.overlay)


def _after_resize(
    image: pyvips.Image, plan: Plan, fmt: str, overlay: Callable[[str], Path | None] | None
) -> pyvips.Image:
    if plan.pad is not None:
        t, r, b, lft = plan.pad
        image = _extend(image, lft, t, image.width + lft + r, image.height + t + b, _bg(plan, fmt, image))
    if plan.canvas is not None:
        left, top, cw, ch = _region_box(plan.canvas, image.width, image.height)
        image = _extend(image, -left, -top, cw, ch, _bg(plan, fmt, image))
    if plan.saturation or plan.brightness or plan.contrast:
        image = _adjust(image, plan)
    if plan.blur:
        image = image.gaussblur(max(0.3, min(plan.blur / 2, max(image.width, image.height) / 4)))
    if plan.sharpen is not None:
        amount, radius, threshold = plan.sharpen
        image = image.sharpen(sigma=max(0.5, radius / 2), m2=amount, x1=threshold * 100 / 255)
    if plan.overlay and overlay is not None:
        found = overlay(plan.overlay)
        if found is None:
            raise UnprocessableEntity(
                "The overlay image was not found.",
                errors={"overlay": ["is not an image asset of this stack."]},
            )
        image = _overlay(image, found, plan)
    needs_flat = fmt not in ALPHA_FORMATS or (plan.bg is not None and plan.bg[3] == 255)
    if image.hasalpha() and needs_flat:
        bg = _bg(plan, fmt, image)
        image = image.flatten(background=bg[:3] if image.bands > 2 else [bg[0]])
    return image


def _adjust(image: pyvips.Image, plan: Plan) -> pyvips.Image:
    alpha = None
    if image.hasalpha():
        image, alpha = image.extract_band(0, n=image.bands - 1), image.extract_band(image.bands - 1)
    if image.bands < 3:
        image = image.colourspace("srgb")
    if plan.saturation:
        lch = image.colourspace("lch")
        lch = lch * [1, 1 + plan.saturation / 100, 1]
        image = lch.colourspace("srgb")
    if plan.brightness or plan.contrast:
        c = 1 + plan.contrast / 100
        image = image.linear([c] * 3, [128 * (1 - c) + plan.brightness * 2.55] * 3)
    image = image.cast("uchar")
    return image.bandjoin(alpha) if alpha is not None else image


def _overlay(image: pyvips.Image, path: Path, plan: Plan) -> pyvips.Image:
    layer = pyvips.Image.new_from_file(str(path)).autorot()
    lw = plan.overlay_width.of(image.width) if plan.overlay_width else None
    lh = plan.overlay_height.of(image.height) if plan.overlay_height else None
    if lw or lh:
        scale_w = (lw / layer.width) if lw else (lh or 1) / layer.height
        scale_h = (lh / layer.height) if lh else scale_w
        layer = layer.resize(scale_w, vscale=scale_h)
    layer = _with_alpha(layer)
    base = _with_alpha(image)
    pt, pr, pb, pl = plan.overlay_pad or (0, 0, 0, 0)
    if plan.overlay_repeat:
        across = plan.overlay_repeat in ("x", "both")
        down = plan.overlay_repeat in ("y", "both")
        nx = -(-base.width // layer.width) if across else 1
        ny = -(-base.height // layer.height) if down else 1
        layer = layer.replicate(nx, ny)
    align = set(plan.overlay_align) or {"middle", "center"}
    if "left" in align:
        x = pl
    elif "right" in align:
        x = base.width - layer.width - pr
    else:
        x = (base.width - layer.width) // 2
    if "top" in align:
        y = pt
    elif "bottom" in align:
        y = base.height - layer.height - pb
    else:
        y = (base.height - layer.height) // 2
    if plan.overlay_repeat in ("x", "both"):
        x = 0
    if plan.overlay_repeat in ("y", "both"):
        y = 0
    return base.composite2(layer, "over", x=x, y=y)


def _encode(image: pyvips.Image, plan: Plan, fmt: str, seconds_left: float, padded: bool) -> Output:
    """`image` in `fmt`, by Pillow where `codecs.encode` takes it, else by libvips (a padded image
    without its 4th band then), killed inside libvips past the time limit."""
    quality = plan.quality or DEFAULT_QUALITY.get(fmt, 80)
    options: dict[str, Any] = {"keep": "none"}
    suffix = {"jpg": ".jpg", "pjpg": ".jpg", "png": ".png", "gif": ".gif", "avif": ".avif"}.get(fmt, ".webp")
    if fmt in ("jpg", "pjpg"):
        options.update(Q=quality, interlace=fmt == "pjpg", optimize_coding=True)
    elif fmt in ("webp", "webply"):
        options.update(Q=quality)
    elif fmt == "webpll":
        options.update(lossless=True)
    elif fmt == "avif":
        options.update(Q=quality, effort=0)
    elif fmt == "png":
        options.update(compression=6)
    deadline = time.monotonic() + max(0.0, seconds_left)
    killed = {"flag": False}

    def watch(img: Any, progress: Any) -> None:
        if time.monotonic() > deadline:
            killed["flag"] = True
            img.set_kill(True)

    def watched(img: pyvips.Image) -> pyvips.Image:
        img.set_progress(True)
        img.signal_connect("eval", watch)
        return img

    try:
        body = codecs.encode(watched(image), fmt, quality, padded, deadline)
        if body is None:  # computed nothing: libvips encodes (and computes) it
            if padded:
                image = image.extract_band(0, n=3)
            body = watched(image).write_to_buffer(suffix, **options)
    except TimeoutError:  # between two strips of a padded image
        raise TimedOut("The image transform took longer than this server allows.") from None
    except pyvips.Error as e:
        if killed["flag"]:
            raise TimedOut("The image transform took longer than this server allows.") from None
        raise _refuse(f"libvips could not write it ({str(e).splitlines()[0]}).") from None
    return Output(bytes(body), MIME[fmt], int(image.width), int(image.height))
