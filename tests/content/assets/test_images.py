"""Image Delivery parameters (catalogue §3.7) on images the tests make: each checks the output's
dimensions, format and a visible property (a pixel's colour, a flipped corner...).

The transforms do not touch the database beyond finding the asset, so they run on SQLite only;
the asset routes themselves run on both engines in test_assets.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import pyvips

from stackyard.content.assets.images import derived
from stackyard.settings import Settings
from stackyard.store import migrations
from stackyard.store.engine import Database
from tests.conftest import Live, make_user


def quadrants(width: int = 400, height: int = 200, fmt: str = ".png", alpha: bool = False) -> bytes:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    hw, hh = width // 2, height // 2

    def block(c: list[int]) -> pyvips.Image:
        return (pyvips.Image.black(hw, hh) + c).cast("uchar")

    top = block([255, 0, 0]).join(block([0, 255, 0]), "horizontal")
    bottom = block([0, 0, 255]).join(block([255, 255, 255]), "horizontal")
    image = top.join(bottom, "vertical").copy(interpretation="srgb")
    if alpha:
        image = image.bandjoin(128)
    return bytes(image.write_to_buffer(fmt, Q=95) if fmt == ".jpg" else image.write_to_buffer(fmt))


def decode(body: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(body, "")


def pixel(image: pyvips.Image, x: int, y: int) -> list[int]:
    return [round(v) for v in image(x, y)][:3]


def near(a: list[int], b: list[int], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=False))


RED, GREEN, BLUE, WHITE = [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory, _shared_server: Any) -> Iterator[dict[str, Any]]:
    """One SQLite server for the module, with a stack and a few uploaded images."""
    from stackyard.server.app import create_app

    tmp = tmp_path_factory.mktemp("images")
    settings = Settings(
        data_dir=str(tmp),
        access_log=False,
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
        rate_limit_enabled=False,
        image_max_input_pixels=1_000_000,
    )
    db = Database(f"sqlite:///{tmp}/stackyard.db")
    migrations.upgrade(db)
    switch, url = _shared_server
    switch.app = create_app(settings, db)
    live = Live(url=url, db=db, settings=settings)
    owner = make_user(live, "img@example.com")
    with live.client(authtoken=owner.authtoken) as c:
        api_key = c.post("/v3/stacks", json={"stack": {"name": "Img", "master_locale": "en-us"}}).json()[
            "stack"
        ]["api_key"]
    out: dict[str, Any] = {"live": live, "api_key": api_key}
    with live.client(authtoken=owner.authtoken, api_key=api_key) as cma:
        for name, data in {
            "quad.png": quadrants(),
            "quad.jpg": quadrants(fmt=".jpg"),
            "alpha.png": quadrants(alpha=True),
            "logo.png": quadrants(40, 40),
            "bomb.png": bytes((pyvips.Image.black(2000, 1000) + 0).cast("uchar").write_to_buffer(".png")),
        }.items():
            r = cma.post("/v3/assets", files={"asset[upload]": (name, data, "image/png")})
            assert r.status_code == 201, r.text
            out[name] = r.json()["asset"]
    with live.client() as anonymous:
        out["client"] = anonymous
        yield out
    switch.app = None
    db.close()


def get(images: dict[str, Any], name: str, accept: str = "", **params: Any) -> httpx.Response:
    url = images[name]["url"].removeprefix(images["live"].url)
    headers = {"accept": accept} if accept else {}
    return images["client"].get(url, params=params, headers=headers)


def ok(
    images: dict[str, Any], name: str, accept: str = "", **params: Any
) -> tuple[httpx.Response, pyvips.Image]:
    r = get(images, name, accept, **params)
    assert r.status_code == 200, r.text
    return r, decode(r.content)


def test_width_keeps_the_aspect_ratio_and_the_format(images: dict[str, Any]) -> None:
    r, image = ok(images, "quad.png", width=100)
    assert (image.width, image.height) == (100, 50)
    assert r.headers["content-type"] == "image/png"
    assert near(pixel(image, 5, 5), RED) and near(pixel(image, 95, 45), WHITE)
    _, image = ok(images, "quad.png", height=50)
    assert (image.width, image.height) == (100, 50)
    _, image = ok(images, "quad.png", width="0.5")
    assert image.width == 200
    _, image = ok(images, "quad.png", width="25p")
    assert image.width == 100


def test_fit_modes(images: dict[str, Any]) -> None:
    _, image = ok(images, "quad.png", width=100, height=100, fit="bounds")
    assert (image.width, image.height) == (100, 50)
    _, image = ok(images, "quad.png", width=100, height=100, fit="cover")
    assert (image.width, image.height) == (200, 100)
    _, image = ok(images, "quad.png", width=100, height=100, fit="crop")
    assert (image.width, image.height) == (100, 100)
    # centred crop of a 2:1 image: the left half shows red over blue... at its right edge, green
    assert near(pixel(image, 5, 5), RED) and near(pixel(image, 95, 5), GREEN)
    _, image = ok(images, "quad.png", width=100, height=100)
    assert (image.width, image.height) == (100, 100)  # both given, no fit: exactly that size


def test_crop_trim_pad_and_canvas(images: dict[str, Any]) -> None:
    _, image = ok(images, "quad.png", crop="200,100,x0,y0")
    assert (image.width, image.height) == (200, 100) and near(pixel(image, 190, 90), RED)
    _, image = ok(images, "quad.png", crop="200,100,x200,y100")
    assert near(pixel(image, 10, 10), WHITE)
    _, image = ok(images, "quad.png", crop="1:1")
    assert (image.width, image.height) == (200, 200)
    _, image = ok(images, "quad.png", crop="100,100,offset-x0,offset-y100")
    assert near(pixel(image, 50, 50), BLUE)
    _, image = ok(images, "quad.png", trim="0,200,100,0")
    assert (image.width, image.height) == (200, 100) and near(pixel(image, 100, 50), RED)
    _, image = ok(images, "quad.png", pad="10", **{"bg-color": "000000"})
    assert (image.width, image.height) == (420, 220) and near(pixel(image, 2, 2), [0, 0, 0])
    _, image = ok(images, "quad.png", canvas="500,300", **{"bg-color": "00FF00"}, format="jpg")
    assert (image.width, image.height) == (500, 300) and near(pixel(image, 2, 2), GREEN)
    assert near(pixel(image, 60, 60), RED)


def test_formats_quality_and_negotiation(images: dict[str, Any]) -> None:
    for fmt, mime in [("jpg", "image/jpeg"), ("pjpg", "image/jpeg"), ("webp", "image/webp"), ("gif", "image/gif"),
                      ("avif", "image/avif"), ("png", "image/png"), ("webpll", "image/webp")]:  # fmt: skip
        r, image = ok(images, "quad.png", format=fmt, width=100)
        assert r.headers["content-type"] == mime and image.width == 100, fmt
        assert "vary" not in r.headers
    small = get(images, "quad.jpg", format="jpg", quality=5).content
    large = get(images, "quad.jpg", format="jpg", quality=95).content
    assert len(small) < len(large)
    r = get(images, "quad.png", "image/avif,image/webp,*/*", auto="webp", width=50)
    assert r.headers["content-type"] == "image/webp" and r.headers["vary"] == "Accept"
    r = get(images, "quad.png", "image/avif,image/webp,*/*", auto="avif", width=50)
    assert r.headers["content-type"] == "image/avif"
    r = get(images, "quad.png", "image/png", auto="webp", width=50)
    assert r.headers["content-type"] == "image/png" and r.headers["vary"] == "Accept"
    r = get(images, "quad.png", "image/webp", format="auto")
    assert r.headers["content-type"] == "image/webp"


def test_orientation(images: dict[str, Any]) -> None:
    _, image = ok(images, "quad.png", orient=2)  # flip horizontally: green top-left
    assert near(pixel(image, 5, 5), GREEN)
    _, image = ok(images, "quad.png", orient=4)  # flip vertically: blue top-left
    assert near(pixel(image, 5, 5), BLUE)
    _, image = ok(images, "quad.png", orient=3)
    assert near(pixel(image, 5, 5), WHITE)
    _, image = ok(images, "quad.png", orient=6)  # rotate right: blue top-left, 200 x 400
    assert (image.width, image.height) == (200, 400) and near(pixel(image, 5, 5), BLUE)
    _, image = ok(images, "quad.png", orient=8, width=100)  # rotate left, then 100 wide
    assert (image.width, image.height) == (100, 200) and near(pixel(image, 5, 5), GREEN)


def test_dpr_upscale_and_filter(images: dict[str, Any]) -> None:
    _, image = ok(images, "quad.png", width=100, dpr=2)
    assert image.width == 200
    _, image = ok(images, "quad.png", width=800)
    assert image.width == 800
    _, image = ok(images, "quad.png", width=800, disable="upscale")
    assert image.width == 400
    _, image = ok(images, "quad.png", width=100, **{"resize-filter": "nearest"})
    assert image.width == 100 and pixel(image, 49, 5) == RED  # nearest keeps pure colours at the seam


def test_colour_adjustments_blur_and_sharpen(images: dict[str, Any]) -> None:
    _, plain = ok(images, "quad.png", format="png")
    _, grey = ok(images, "quad.png", saturation=-100)
    r, g, b = pixel(grey, 5, 5)
    assert abs(r - g) < 15 and abs(g - b) < 15  # red lost its colour
    _, dark = ok(images, "quad.png", brightness=-50)
    assert pixel(dark, 395, 195)[0] < 200
    _, flat = ok(images, "quad.png", contrast=-100)
    assert near(pixel(flat, 5, 5), [128, 128, 128], 10)
    _, blurred = ok(images, "quad.png", blur=20)
    seam = pixel(blurred, 200, 50)
    assert 40 < seam[0] < 220 and 40 < seam[1] < 220  # red and green run into each other
    assert pixel(plain, 199, 50) == RED
    r1 = get(images, "quad.jpg", sharpen="a5,r2,t0")
    assert r1.status_code == 200 and r1.content != get(images, "quad.jpg").content


def test_background_overlay_and_frame(images: dict[str, Any]) -> None:
    _, flat = ok(images, "alpha.png", format="jpg", **{"bg-color": "0,0,255"})
    assert flat.bands == 3
    assert pixel(flat, 395, 195)[2] > 200  # white half-transparent over blue
    logo = images["logo.png"]["url"].removeprefix(images["live"].url)
    _, image = ok(images, "quad.png", overlay=logo, **{"overlay-align": "top,left"})
    assert (image.width, image.height) == (400, 200)
    assert near(pixel(image, 30, 5), GREEN)  # the logo's green quarter sits at the top-left
    _, image = ok(images, "quad.png", overlay=images["logo.png"]["uid"], **{"overlay-align": "bottom,right"})
    assert (
        near(pixel(image, 395, 195), WHITE)
        and near(pixel(image, 365, 195), BLUE)
        and near(pixel(image, 365, 175), RED)
    )
    _, image = ok(images, "quad.png", overlay=logo, **{"overlay-repeat": "both", "overlay-width": "0.1"})
    assert near(pixel(image, 395, 5), GREEN)
    r = get(images, "quad.png", overlay="/v3/assets/other/blt1/blt2/x.png")
    assert r.status_code == 422
    _, image = ok(images, "quad.png", frame=1)
    assert image.width == 400


def test_limits_refuse_before_decoding_and_bad_values_are_400(images: dict[str, Any]) -> None:
    r = get(images, "bomb.png", width=10)  # 2,000,000 pixels > the module's 1,000,000 limit
    assert r.status_code == 422 and "pixels" in r.json()["error_message"]
    r = get(images, "bomb.png")  # the original itself is still a download
    assert r.status_code == 200
    r = get(images, "quad.png", width=9000)
    assert r.status_code == 422 and "8192" in r.json()["error_message"]
    for bad in ({"width": "-1"}, {"fit": "squash"}, {"quality": "0"}, {"format": "bmp"}, {"orient": "9"},
                {"crop": "x"}, {"bg-color": "zzz"}, {"blur": "0"}, {"sharpen": "q1"}, {"dpr": "2"}):  # fmt: skip
        r = get(images, "quad.png", **bad)
        assert r.status_code == 400 and next(iter(bad)) in r.json()["errors"], (bad, r.text)


def test_each_transform_is_computed_once_then_served_from_cache(images: dict[str, Any]) -> None:
    cache = derived.for_settings(images["live"].settings)
    before = cache.computed
    first = get(images, "quad.jpg", width=123, format="webp")
    second = get(images, "quad.jpg", format="webp", width=123, environment="production")  # same plan
    assert first.content == second.content and cache.computed == before + 1
    etag = first.headers["etag"]
    assert "max-age=31536000" in first.headers["cache-control"]
    assert images["api_key"] + ".asset." + images["quad.jpg"]["uid"] in first.headers["x-tag"]
    again = images["client"].get(
        images["quad.jpg"]["url"].removeprefix(images["live"].url),
        params={"width": 123, "format": "webp"},
        headers={"if-none-match": etag},
    )
    assert again.status_code == 304
    # the SDK's image_transform appends "?" to a URL that already has a query
    url = images["quad.png"]["url"].removeprefix(images["live"].url) + "?environment=prod?width=60&format=png"
    r = images["client"].get(url)
    assert r.status_code == 200 and decode(r.content).width == 60
