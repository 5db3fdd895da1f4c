"""Pillow's codecs inside the pipeline (`images.codecs`): the images a user gets are those libvips
alone makes, and inputs Pillow should not take (CMYK, truncated, too large shrunk) still transform."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from stackyard.content.assets.images import codecs, params, render
from stackyard.errors import UnprocessableEntity

LIMITS = render.Limits(
    max_input_pixels=50_000_000, max_input_bytes=10_000_000, max_output_side=8192, timeout_seconds=30
)


def _photo(width: int, height: int) -> pyvips.Image:
    xy = pyvips.Image.xyz(width, height)
    r = (xy[0] * 255 / width).cast("uchar")
    g = (xy[1] * 255 / height).cast("uchar")
    b = ((xy[0] + xy[1]) * 127 / (width + height) + 64).cast("uchar")
    return r.bandjoin([g, b]).copy(interpretation="srgb")


def _transform(path: Path, query: dict[str, str], mime: str = "image/jpeg") -> pyvips.Image:
    out = render.transform(path, params.parse(query), mime, LIMITS)
    return pyvips.Image.new_from_buffer(out.body, "")


def test_a_jpeg_made_smaller_looks_as_libvips_alone_makes_it(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    _photo(1600, 1200).write_to_file(str(path), Q=90)
    reference = pyvips.Image.new_from_file(str(path), shrink=4).resize(200 / 400)
    for fmt in ("webp", "jpg", "pjpg", "avif"):
        shown = _transform(path, {"width": "200", "format": fmt})
        assert (shown.width, shown.height, shown.bands) == (200, 150, 3)
        assert (shown - reference).abs().avg() < 3, fmt  # the same picture, up to the codec's loss


def test_greyscale_cmyk_and_alpha_keep_their_look(tmp_path: Path) -> None:
    grey = tmp_path / "grey.jpg"
    _photo(800, 400).colourspace("b-w").write_to_file(str(grey))
    shown = _transform(grey, {"width": "100", "format": "jpg"})
    assert (shown.width, shown.height, shown.bands) == (100, 50, 1)
    cmyk = tmp_path / "cmyk.jpg"
    _photo(800, 400).colourspace("cmyk").write_to_file(str(cmyk))  # Pillow leaves these to libvips
    shown = _transform(cmyk, {"width": "100", "format": "webp"})
    assert (shown.width, shown.height) == (100, 50)
    looks = pyvips.Image.new_from_file(str(cmyk)).colourspace("srgb").resize(100 / 800)
    assert (shown.colourspace("srgb")[:3] - looks).abs().avg() < 8  # all four inks kept
    png = tmp_path / "half.png"
    _photo(400, 200).bandjoin(128).write_to_file(str(png))
    shown = _transform(png, {"width": "100", "format": "webp"}, "image/png")
    assert shown.hasalpha() and 120 <= shown[3].avg() <= 136


def test_a_truncated_jpeg_still_transforms_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    whole = _photo(800, 600).write_to_buffer(".jpg", Q=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    shown = _transform(path, {"width": "200", "format": "webp"})
    assert (shown.width, shown.height) == (200, 150)
    for cut in (4, 20, 200):  # the header itself is cut
        path.write_bytes(whole[:cut])
        with pytest.raises(UnprocessableEntity, match="not an image"):
            _transform(path, {"width": "200", "format": "webp"})


def test_pillow_decodes_only_what_stays_small(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    _photo(1200, 800).write_to_file(str(path))
    small = codecs.jpeg(str(path), 1200, 800, 4)
    assert small is not None and (small.width, small.height, small.bands) == (300, 200, 4)  # 4th unused
    assert codecs.jpeg(str(path), 1200, 800, 1) is not None
    big = codecs.MAX_BYTES // 4 + 1  # pixels: one more than the budget allows at full scale
    assert codecs.jpeg(str(path), big, 1, 1) is None
    assert codecs.encode(_photo(2100, 2000), "webp", 80) is None  # over MAX_PIXELS: libvips encodes
    assert codecs.encode(_photo(40, 20), "png", 80) is None


def test_edits_and_large_outputs_of_a_pillow_decoded_jpeg_look_as_libvips_alone_makes_them(
    tmp_path: Path,
) -> None:
    # Pillow decodes colour in 4 bands, the 4th unused: it must never show up as alpha, whether
    # Pillow encodes the image as it is, an edit needs 3 bands first, or libvips encodes it
    path = tmp_path / "photo.jpg"
    _photo(1600, 1200).write_to_file(str(path), Q=90)
    plain = pyvips.Image.new_from_file(str(path), shrink=4).resize(200 / 400)
    shown = _transform(path, {"width": "200", "format": "webp", "brightness": "20"})
    assert (shown.width, shown.height, shown.bands) == (200, 150, 3)
    assert (shown - (plain + 51).cast("uchar")).abs().avg() < 3
    shown = _transform(path, {"width": "200", "format": "jpg", "pad": "10", "bg-color": "ff0000"})
    assert (shown.width, shown.height, shown.bands) == (220, 170, 3)
    assert shown.crop(0, 0, 10, 170).avg() > 80 and shown(2, 80)[0] > 200  # the red pad
    assert (shown.crop(10, 10, 200, 150) - plain).abs().avg() < 3
    for fmt in ("webp", "png", "avif", "webpll"):  # 1600 wide: 1.9 MP, Pillow's; png & co: libvips'
        shown = _transform(path, {"width": "1600", "height": "1200", "format": fmt})
        assert (shown.width, shown.height, shown.bands) == (1600, 1200, 3), fmt
    big = tmp_path / "big.jpg"
    _photo(2400, 1800).write_to_file(str(big), Q=90)  # 4.3 MP, over codecs.MAX_PIXELS: libvips encodes
    shown = _transform(big, {"width": "2400", "format": "webp"})
    assert (shown.width, shown.height, shown.bands) == (2400, 1800, 3)
    assert (shown - pyvips.Image.new_from_file(str(big))).abs().avg() < 3


def test_a_jpeg_of_many_megabytes_decodes_whole_and_a_cut_one_goes_to_libvips(tmp_path: Path) -> None:
    # Pillow's decoder reads the mapped file 1 MB at a time: the image spans several of them
    noise = pyvips.Image.gaussnoise(1800, 1200, sigma=40, mean=128)
    grainy = (
        (_photo(1800, 1200) + noise.bandjoin([noise, noise]) - 128).cast("uchar").copy(interpretation="srgb")
    )
    whole = grainy.write_to_buffer(".jpg", Q=98)
    assert len(whole) > 3 * 1024 * 1024
    path = tmp_path / "grain.jpg"
    path.write_bytes(whole)
    decoded = codecs.jpeg(str(path), 1800, 1200, 2)
    assert decoded is not None and (decoded.width, decoded.height) == (900, 600)
    assert (decoded[:3] - pyvips.Image.new_from_file(str(path), shrink=2)).abs().avg() < 1
    path.write_bytes(whole[: len(whole) * 3 // 4])  # cut in its last megabyte
    assert codecs.jpeg(str(path), 1800, 1200, 2) is None
    shown = _transform(path, {"width": "300", "format": "webp"})
    assert (shown.width, shown.height) == (300, 200)
