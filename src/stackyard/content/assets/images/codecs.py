"""Pillow's codecs for the steps where the benchmark measured them faster than libvips' own build.

    w, h, orientation = codecs.jpeg_header(path)   # or None: read the header in libvips
    image = codecs.jpeg(path, w, h, shrink=4)      # a pyvips image, or None: decode it in libvips
    body = codecs.encode(image, "webp", 80)        # bytes, or None: encode it in libvips

The same libraries do the work in both (libjpeg-turbo, libwebp), but the builds in Pillow's wheels
are faster than those in `pyvips-binary`: on a 3000x2000 photo, a JPEG decode at 1/4 scale took
22.6 ms of CPU against 24.7 ms, a 400x267 WebP at quality 80 6.0 ms against 7.9 ms (identical
bytes), a JPEG 0.4 against 1.1 ms, a JPEG header 0.08 against 0.4 ms (`bench/bench_images.py`,
bench/README.md). Everything between
decode and encode (orientation, crop, resize, colour, overlays) stays in libvips.

Only where it cannot cost memory or change the result: a baseline or progressive JPEG in RGB or
greyscale whose shrunk image is at most `MAX_BYTES` (the input has passed `render.probe`'s limits
first), and outputs of at most `MAX_PIXELS` in 8-bit RGB, RGBA or greyscale. Anything else, or any
error on Pillow's side, answers None and libvips does the step as before. Neither path keeps
metadata (EXIF, ICC) in the output.
"""

from __future__ import annotations

import io
import math
import mmap
import time
from typing import Any

import pyvips
from PIL import Image as PILImage
from PIL import JpegImagePlugin

MAX_BYTES = 16 * 1024 * 1024  # the shrunk JPEG in memory (4 bytes a pixel for colour)
MAX_PIXELS = 4_000_000  # outputs larger than this are encoded by libvips, from its own buffers
_STRIDE = {"L": 1, "RGB": 4}
_CHUNK = 1024 * 1024  # bytes of the mapped file handed to Pillow's decoder at a time
_STRIP_BYTES = 32 * 1024  # bytes of pixels `pixels` computes at a time
_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def jpeg_header(path: str) -> tuple[int, int, int] | None:
    """(width, height, EXIF orientation) of a JPEG, read by Pillow without decoding (0.08 ms against
    libvips' 0.4), or None: not a JPEG, or one Pillow cannot read (libvips reads it then)."""
    try:
        with JpegImagePlugin.JpegImageFile(path) as im:
            orientation = im.getexif().get(0x0112, 1)
            return im.width, im.height, orientation if isinstance(orientation, int) else 1
    except Exception:  # any trouble on Pillow's side: libvips reads it (or refuses it) instead
        return None


def jpeg(path: str, width: int, height: int, shrink: int) -> pyvips.Image | None:
    """The JPEG of `width`x`height` at `path`, decoded at 1/`shrink` scale (1, 2, 4 or 8) by Pillow,
    as a pyvips image in memory (EXIF orientation not applied), or None. A colour image has 4
    bands, the 4th unused: the caller resizes it so (cheaper than 3 bands) and drops the 4th
    (`extract_band(0, n=3)`) only before a step that would take it for alpha; `encode` takes it
    as it is.

    Pillow decodes straight into memory libvips then reads (`core.map_buffer`, as `frombuffer`
    maps it): no copy, where `tobytes` repacked the pixels at 1.1 ms a 750x500 image, and
    dropping the 4th band before the resize cost 0.8 ms more than after it. Its decoder reads the
    file through a memory map (`_feed`), not `ImageFile.load`'s reads."""
    w, h = -(-width // shrink), -(-height // shrink)
    if w * h * 4 > MAX_BYTES:
        return None
    try:
        # The plugin's class itself: Image.open would probe every format and apply Pillow's own
        # pixel limit, where ours was applied to the header already.
        with JpegImagePlugin.JpegImageFile(path) as im:
            if shrink > 1 and im.draft(None, (width // shrink, height // shrink)) is None:
                return None
            if im.mode not in _STRIDE or im.size != (w, h):
                return None
            stride = _STRIDE[im.mode]  # Pillow keeps RGB as 4 bytes a pixel, the 4th unused
            data = bytearray(w * h * stride)
            target = PILImage.core.map_buffer(data, (w, h), "raw", 0, (im.mode, 0, 1))
            ((name, extents, offset, args),) = im.tile
            decoder = PILImage._getdecoder(im.mode, name, args, im.decoderconfig)
            try:
                decoder.setimage(target, extents)
                if not _feed(decoder, path, offset):  # truncated or corrupt
                    return None
            finally:
                decoder.cleanup()
    except Exception:  # truncated, corrupt, unsupported: libvips decodes it (or refuses it) instead
        return None
    image = pyvips.Image.new_from_memory(data, w, h, stride, "uchar")
    return image.copy(interpretation="srgb" if stride == 4 else "b-w")


def _feed(decoder: Any, path: str, offset: int) -> bool:
    """Whether `decoder` (set up) decoded the whole image of the file at `path` from `offset` on.

    The file is memory-mapped and handed over 1 MB at a time, without a copy: 0.2-0.3 ms less CPU
    on a 2.3 MB photo than `ImageFile.load`'s 64 KB reads, each joined to the rest of the one
    before. The pages decoded are dropped from this process behind it (the page cache keeps
    them), so a 37 MB file adds 1-2 MB of resident memory, not 37."""
    with (
        open(path, "rb") as f,
        mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
        memoryview(mapped) as whole,
    ):
        at, dropped = offset, 0
        while True:
            with whole[at : at + _CHUNK] as part:
                consumed, status = decoder.decode(part)
            if consumed < 0:  # done, or an error (status below 0)
                return status >= 0
            if consumed == 0 or at + _CHUNK >= len(whole):  # it wants more than there is
                return False
            at += consumed
            behind = (at - _CHUNK) // mmap.PAGESIZE * mmap.PAGESIZE
            if behind > dropped:
                mapped.madvise(mmap.MADV_DONTNEED, dropped, behind - dropped)
                dropped = behind


def pixels(image: pyvips.Image, deadline: float) -> bytes:
    """The pixels of `image` computed in this thread, a strip of rows at a time (`Region.fetch`),
    TimeoutError between two strips once `deadline` has passed.

    `write_to_memory` hands the work to a libvips worker thread and waits for it: two threads of
    transforms made 52-57 images/s that way and 58-62 this way (0.2-0.4 ms less CPU as well, for
    the resize of a 750x500 image to 400 wide). Strips of ~32 KB keep the resize's rows in cache: one
    fetch of the whole image cost 2.6 ms where strips of 16 rows cost 1.7."""
    region = pyvips.Region.new(image)
    width, height = image.width, image.height
    rows = max(16, _STRIP_BYTES // (width * image.bands))
    strips = []
    for top in range(0, height, rows):
        if time.monotonic() > deadline:
            raise TimeoutError
        strips.append(region.fetch(0, top, width, min(rows, height - top)))
    return b"".join(strips)


def encode(
    image: pyvips.Image, fmt: str, quality: int, padded: bool = False, deadline: float = math.inf
) -> bytes | None:
    """`image` (computed now) as lossy WebP or (progressive) JPEG by Pillow, or None (nothing has
    been computed then). `padded`: a colour image still in `jpeg`'s 4 bands, the 4th unused, and
    nothing done to it but orientation, crop and resize; TimeoutError if computing it runs past
    `deadline` (`time.monotonic`).

    A padded image is computed in this thread (`pixels`) and handed over without a copy: its 4
    bytes a pixel are Pillow's own layout of RGB (mode "RGBX", which `frombuffer` maps), where 3
    bands were repacked (0.14 ms at 400x267) after an `extract_band` of their own (0.1 ms); WebP
    and JPEG take RGBX as they take RGB. Anything else is computed by libvips' own threads."""
    if fmt not in ("webp", "webply", "jpg", "pjpg") or image.width * image.height > MAX_PIXELS:
        return None
    mode = "RGBX" if padded else _MODES.get(int(image.bands))
    if image.format != "uchar" or mode is None or (mode == "RGBA" and fmt in ("jpg", "pjpg")):
        return None
    if not padded and image.interpretation not in ("srgb", "rgb", "b-w", "multiband"):
        return None
    data = pixels(image, deadline) if padded else image.write_to_memory()
    picture = PILImage.frombuffer(mode, (image.width, image.height), data, "raw", mode, 0, 1)
    out = io.BytesIO()
    if fmt in ("webp", "webply"):
        picture.save(out, "WEBP", quality=quality, method=4)
    else:
        picture.save(out, "JPEG", quality=quality, optimize=True, progressive=fmt == "pjpg")
    return out.getvalue()
