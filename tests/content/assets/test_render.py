"""The image pipeline without a server: plans normalize, limits hold before decoding, EXIF
orientation is applied, and a transform past its time limit is stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from stackyard.content.assets import sniff
from stackyard.content.assets.images import params, render
from stackyard.errors import BadRequest, UnprocessableEntity

LIMITS = render.Limits(
    max_input_pixels=50_000_000, max_input_bytes=10_000_000, max_output_side=8192, timeout_seconds=30
)


def test_equal_asks_make_equal_plans_and_keys() -> None:
    a = params.parse({"width": "400", "format": "webp", "environment": "production"})
    b = params.parse({"format": "webp", "width": "400"})
    assert a == b and a.key == b.key == "width=400;format=webp"
    assert params.parse({}).empty and not a.empty
    assert params.parse({"width": "50p"}).width == params.Size(0.5, True)
    auto = params.parse({"auto": "webp"}, "image/webp,*/*")
    assert auto.format == "webp" and auto.negotiated
    assert params.parse({"auto": "webp"}, "image/png").format == ""
    with pytest.raises(BadRequest):
        params.parse({"crop": "10,10,z5"})


def test_sniffing_trusts_bytes_not_names() -> None:
    assert sniff.mime(b"\x89PNG\r\n\x1a\n....", "x.pdf") == "image/png"
    assert sniff.mime(b"GIF89a...", "") == "image/gif"
    assert sniff.mime(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "") == "image/webp"
    assert sniff.mime(b"\x00\x00\x00\x1cftypavif", "") == "image/avif"
    assert sniff.mime(b"<?xml version='1.0'?><svg xmlns='x'/>", "a.png") == "image/svg+xml"
    assert sniff.mime(b"<html><script></script>", "a.txt") == "text/html"
    assert sniff.mime(b"name,age\n", "people.csv") == "text/csv"
    assert sniff.mime(b"plain words", "page.html") == "text/html"  # by name: still only a download
    assert sniff.active("text/html") and sniff.active("image/svg+xml") and not sniff.active("image/png")
    assert sniff.mime(b"\x00\x01\x02binary", "x.txt") == "application/octet-stream"


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # a landscape JPEG whose EXIF says "rotate 90 clockwise to display": it displays as portrait
    image = (
        pyvips.Image.black(200, 100).linear([1, 1, 1], [255, 0, 0]).cast("uchar").copy(interpretation="srgb")
    )
    image = image.insert(
        pyvips.Image.black(20, 100).linear([1, 1, 1], [0, 0, 255]).cast("uchar"), 0, 0
    )  # blue left edge
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    path = tmp_path / "rotated.jpg"
    image.write_to_file(str(path))
    out = render.transform(path, params.parse({"width": "50", "format": "png"}), "image/jpeg", LIMITS)
    shown = pyvips.Image.new_from_buffer(out.body, "")
    assert (shown.width, shown.height) == (50, 100)
    top = [round(v) for v in shown(25, 2)][:3]
    assert top[2] > 200 and top[0] < 80  # the blue left edge is now the top edge


def test_limits_are_checked_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "big.png"
    pyvips.Image.black(8000, 7000).cast("uchar").write_to_file(str(big), compression=9)  # 56 MP, tiny file
    with pytest.raises(UnprocessableEntity, match="pixels"):
        render.transform(big, params.parse({"width": "10"}), "image/png", LIMITS)
    heavy = tmp_path / "heavy.bin"
    heavy.write_bytes(b"\xff\xd8\xff" + b"\x00" * 10_000_001)
    with pytest.raises(UnprocessableEntity, match="bytes"):
        render.transform(heavy, params.parse({"width": "10"}), "image/jpeg", LIMITS)
    with pytest.raises(UnprocessableEntity, match="not an image"):
        (tmp_path / "junk.jpg").write_bytes(b"\xff\xd8\xff not really")
        render.transform(tmp_path / "junk.jpg", params.parse({"width": "10"}), "image/jpeg", LIMITS)


def test_a_transform_past_its_time_limit_is_stopped(tmp_path: Path) -> None:
    path = tmp_path / "p.png"
    pyvips.Image.gaussnoise(2000, 2000).cast("uchar").write_to_file(str(path))
    slow = render.Limits(50_000_000, 10_000_000, 8192, timeout_seconds=0.0)
    with pytest.raises(render.TimedOut):
        render.transform(path, params.parse({"blur": "200", "format": "png"}), "image/png", slow)
    # a JPEG Pillow decodes and encodes, only resized in between (computed in strips): stopped too
    photo = tmp_path / "p.jpg"
    pyvips.Image.gaussnoise(2000, 2000).cast("uchar").colourspace("srgb").write_to_file(str(photo))
    for fmt in ("webp", "jpg"):
        with pytest.raises(render.TimedOut):
            render.transform(photo, params.parse({"width": "400", "format": fmt}), "image/jpeg", slow)
    shown = render.transform(photo, params.parse({"width": "400", "format": "webp"}), "image/jpeg", LIMITS)
    assert (shown.width, shown.height) == (400, 400)


def test_each_plan_is_computed_once_and_disk_variants_are_bounded(tmp_path: Path) -> None:
    from stackyard.content.assets.images.derived import Derived
    from stackyard.settings import Settings

    source = tmp_path / "s.png"
    pyvips.Image.black(64, 64).cast("uchar").write_to_file(str(source))
    cache = Derived(Settings(data_dir=str(tmp_path), image_max_variants=2, image_cache_entries=10))
    key = "ab" * 32
    plans = [params.parse({"width": str(w), "format": "png"}) for w in (8, 9, 10)]
    for plan in plans + plans:
        assert pyvips.Image.new_from_buffer(
            cache.get(key, plan, lambda: source, "image/png").body, ""
        ).width in (8, 9, 10)
    assert cache.computed == 3  # the repeats came from memory
    assert len(list((tmp_path / "derived" / "ab" / key).iterdir())) == 2  # the third stayed in memory only
    again = Derived(Settings(data_dir=str(tmp_path), image_max_variants=2))
    again.get(key, plans[0], lambda: source, "image/png")
    assert again.computed == 0  # a new process finds it on disk


def test_a_transform_waits_for_a_turn_only_up_to_the_time_limit(tmp_path: Path) -> None:
    from stackyard.content.assets.images.derived import Derived
    from stackyard.settings import Settings

    source = tmp_path / "s.png"
    pyvips.Image.black(8, 8).cast("uchar").write_to_file(str(source))
    settings = Settings(
        data_dir=str(tmp_path), image_transform_concurrency=1, image_transform_timeout_seconds=0.05
    )
    cache = Derived(settings)
    assert cache._turns.acquire()  # the only turn is taken by another transform
    with pytest.raises(render.TimedOut):
        cache.get("cd" * 32, params.parse({"width": "4"}), lambda: source, "image/png")
    cache._turns.release()
    assert cache.get("cd" * 32, params.parse({"width": "4"}), lambda: source, "image/png").mime == "image/png"
