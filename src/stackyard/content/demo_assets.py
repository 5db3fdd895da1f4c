"""Demo step: a few generated images (a banner and the authors' portraits), stored as assets in an
"Images" folder, set as the authors' photos and shown in the first article (`demo_assets`, after the
entries step, before they are published), then published to every environment and language
(`demo_publish_assets`, after the entries are). Safe to run again (each does nothing once done);
skipped when no storage was configured for the database.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from stackyard.access.caller import StackAccess
from stackyard.content.assets import assets, folders, publishing
from stackyard.content.assets.records import Incoming
from stackyard.content.assets.storage import for_db
from stackyard.content.entries import entries
from stackyard.content.publishing.actions import PUBLISH, Action
from stackyard.store.engine import Tx

# (file name, title, width, height, two colours of a diagonal gradient)
IMAGES = [
    ("banner.jpg", "Stackyard banner", 1600, 900, (20, 60, 120), (240, 140, 40)),
    ("ada.png", "Ada Lovelace", 480, 480, (90, 20, 90), (250, 200, 230)),
    ("grace.png", "Grace Hopper", 480, 480, (10, 90, 60), (210, 240, 200)),
]


def _image(path: Path, width: int, height: int, a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    import pyvips

    xy = pyvips.Image.xyz(width, height)
    t = (xy[0] / width + xy[1] / height) / 2  # 0 at the top-left corner, 1 at the bottom-right
    bands = [t * (cb - ca) + ca for ca, cb in zip(a, b, strict=True)]
    image = bands[0].bandjoin(bands[1:]).cast("uchar").copy(interpretation="srgb")
    # a light disc in the middle, so transforms (crop, fit, blur) visibly change something
    cx, cy, r = width / 2, height / 2, min(width, height) / 4
    disc = (((xy[0] - cx) ** 2 + (xy[1] - cy) ** 2) < r * r).ifthenelse([255, 255, 255], image)
    disc.cast("uchar").copy(interpretation="srgb").write_to_file(str(path))


def demo_assets(tx: Tx, access: StackAccess) -> dict[str, Any]:
    """Demo step: generated images, used by the authors and the first article, published."""
    store = for_db(tx.db)
    if store is None or tx.one(
        "SELECT 1 AS x FROM assets WHERE api_key = ? AND branch = ? AND is_dir = 1 AND title = 'Images'",
        access.api_key,
        access.branch,
    ):
        return {}
    folder = folders.create(tx, access, {"name": "Images"})
    made: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, title, w, h, a, b in IMAGES:
            path = Path(tmp) / name
            _image(path, w, h, a, b)
            data = path.read_bytes()
            incoming = Incoming(name, path, len(data), hashlib.sha256(data).hexdigest(), data[:4096])
            stored = assets.store_file(store, incoming)
            made[name] = assets.create(tx, access, stored, {"title": title, "parent_uid": folder["uid"]})
    master = str(access.stack["master_locale"])
    for author, image in (("Ada Lovelace", "ada.png"), ("Grace Hopper", "grace.png")):
        row = tx.one(
            "SELECT uid FROM entries WHERE api_key = ? AND content_type_uid = 'author' AND title = ? AND locale = ?",
            access.api_key,
            author,
            master,
        )
        if row is not None:
            entries.update(tx, access, "author", row["uid"], {"photo": made[image]["uid"]}, master)
    first = tx.one(
        "SELECT uid, data FROM entries WHERE api_key = ? AND content_type_uid = 'article' AND title = ? AND locale = ?",
        access.api_key,
        "Hello Stackyard",
        master,
    )
    if first is not None:
        banner = made["banner.jpg"]
        html = f'<p>Stackyard is a self-hosted content platform.</p><p><img src="{banner["url"]}?width=800" alt="{banner["title"]}" asset_uid="{banner["uid"]}"></p>'
        entries.update(tx, access, "article", first["uid"], {"body": html}, master)
    return {"assets": {name: a["uid"] for name, a in made.items()}}


def demo_publish_assets(tx: Tx, access: StackAccess) -> dict[str, Any]:
    """Demo step, after the entries are published: the demo images, to every environment and language."""
    key = access.api_key
    if tx.one("SELECT 1 AS x FROM published WHERE api_key = ? AND kind = 'asset'", key):
        return {}
    folder = tx.one("SELECT uid FROM assets WHERE api_key = ? AND is_dir = 1 AND title = 'Images'", key)
    if folder is None:
        return {}
    envs = tuple(
        r["uid"] for r in tx.all("SELECT uid FROM environments WHERE api_key = ? ORDER BY name", key)
    )
    codes = tuple(r["code"] for r in tx.all("SELECT code FROM locales WHERE api_key = ? ORDER BY code", key))
    images = tx.all(
        "SELECT uid FROM assets WHERE api_key = ? AND parent_uid = ? AND is_dir = 0", key, folder["uid"]
    )
    for image in images:
        act = Action(PUBLISH, "asset", image["uid"], "", envs, codes, str(access.stack["master_locale"]))
        publishing.perform(tx, access, act)
    return {"published_assets": len(images)}
