"""Pillow's codecs for the steps where the benchmark measured them faster than libvips' own build.

    image = codecs.jpeg(path, shrink=4)          # a pyvips image, or None: decode it in libvips
    body = codecs.encode(image, "webp", 80)      # bytes, or None: encode it in libvips

The same libraries do the work in both (libjpeg-turbo, libwebp), but the builds in Pillow's wheels
are faster than those in `pyvips-binary`: on a 3000x2000 photo, a JPEG decode at 1/4 scale took
22.6 ms of CPU against 24.7 ms, a 400x267 WebP at quality 80 6.0 ms against 7.9 ms (identical
bytes), a JPEG 0.4 against 1.1 ms (`bench/bench_images.py`, bench/README.md). Everything between
decode and encode (orientation, crop, resize, colour, overlays) stays in libvips.

Only where it cannot cost memory or change the result: a baseline or progressive JPEG in RGB or
greyscale whose shrunk image is at most `MAX_BYTES` (the input has passed `render.probe`'s limits
first), and outputs of at most `MAX_PIXELS` in 8-bit RGB, RGBA or greyscale. Anything else, or any
error on Pillow's side, answers None and libvips does the step as before. Neither path keeps
metadata (EXIF, ICC) in the output.
"""

from __future__ import annotations

import io

import pyvips
from PIL import Image as PILImage
from PIL import JpegImagePlugin

MAX_BYTES = 16 * 1024 * 1024  # the shrunk JPEG in memory (twice, briefly, while handed to libvips)
MAX_PIXELS = 4_000_000  # outputs larger than this are encoded by libvips, from its own buffers
_BANDS = {"L": 1, "RGB": 3}
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def jpeg(path: str, width: int, height: int, shrink: int) -> pyvips.Image | None:
    """The JPEG of `width`x`height` at `path`, decoded at 1/`shrink` scale (1, 2, 4 or 8) by Pillow,
    as a pyvips image in memory (EXIF orientation not applied), or None."""
    if -(-width // shrink) * -(-height // shrink) * 3 > MAX_BYTES:
        return None
    try:
        # The plugin's class itself: Image.open would probe every format and apply Pillow's own
        # pixel limit, where ours was applied to the header already.
        with JpegImagePlugin.JpegImageFile(path) as im:
            if shrink > 1 and im.draft(None, (width // shrink, height // shrink)) is None:
                return None
            if im.mode not in _BANDS or im.size != (-(-width // shrink), -(-height // shrink)):
                return None
            im.load()
            w, h, n = im.width, im.height, _BANDS[im.mode]
            data = im.tobytes()
    except (OSError, SyntaxError, ValueError):
        return None
    image = pyvips.Image.new_from_memory(data, w, h, n, "uchar")
    return image.copy(interpretation="srgb" if n == 3 else "b-w")


def encode(image: pyvips.Image, fmt: str, quality: int) -> bytes | None:
    """`image` (computed now) as lossy WebP or (progressive) JPEG by Pillow, or None."""
    if fmt not in ("webp", "webply", "jpg", "pjpg") or image.width * image.height > MAX_PIXELS:
        return None
    mode = _MODES.get(int(image.bands))
    if image.format != "uchar" or mode is None or (mode == "RGBA" and fmt in ("jpg", "pjpg")):
        return None
    if image.interpretation not in ("srgb", "rgb", "b-w", "multiband"):
        return None
    data = image.write_to_memory()
    picture = PILImage.frombuffer(mode, (image.width, image.height), data, "raw", mode, 0, 1)
    out = io.BytesIO()
    if fmt in ("webp", "webply"):
        picture.save(out, "WEBP", quality=quality, method=4)
    else:
        picture.save(out, "JPEG", quality=quality, optimize=True, progressive=fmt == "pjpg")
    return out.getvalue()
