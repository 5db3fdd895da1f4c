"""The derived images' disk cache: bounded in bytes, least recently used deleted first, one shared
count for every process on the data dir, and restarts find what was kept."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pyvips

from stackyard.content.assets.images import params
from stackyard.content.assets.images.derived import Derived
from stackyard.content.assets.images.disk import Disk
from stackyard.settings import Settings

KEY = "cd" * 32


def _on_disk(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.*") if p.is_file() and not p.name.startswith("."))


def test_past_the_budget_the_least_recently_used_go_first(tmp_path: Path) -> None:
    disk = Disk(tmp_path / "derived", max_bytes=10_000, max_variants=100)
    for i in range(4):
        assert disk.put(KEY, f"k{i}", bytes(2_000), "webp")
    old = time.time() - 100
    for i in range(4):
        os.utime(tmp_path / "derived" / KEY[:2] / KEY / f"k{i}.webp", (old + i, old + i))
    assert disk.get(KEY, "k0", ("webp",)) is not None  # used now: the most recent
    assert disk.put(KEY, "k4", bytes(2_000), "webp")  # 10,000 bytes: still within
    assert disk.put(KEY, "k5", bytes(2_000), "webp")  # 12,000: the oldest go, down to 9,000
    kept = {k for k in (f"k{i}" for i in range(6)) if disk.get(KEY, k, ("webp",)) is not None}
    assert kept == {"k0", "k3", "k4", "k5"}
    assert disk.total() == _on_disk(tmp_path / "derived") == 8_000
    assert not disk.put(KEY, "huge", bytes(10_001), "webp")  # alone over the budget: memory only
    assert Disk(tmp_path / "off", 0, 100).put(KEY, "k", b"x", "webp") is False


def test_processes_share_one_count_and_the_bound_holds(tmp_path: Path) -> None:
    root = tmp_path / "derived"
    code = (
        "import sys\nfrom pathlib import Path\nfrom stackyard.content.assets.images.disk import Disk\n"
        "d = Disk(Path(sys.argv[1]), 50_000, 1000)\n"
        "for i in range(60):\n    d.put(sys.argv[2] * 32, f'k{i}', bytes(1_000), 'png')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(root), prefix], env=env)
        for prefix in ("aa", "bb", "cc")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    on_disk = _on_disk(root)
    assert 0 < on_disk <= 50_000  # 180,000 bytes written by three processes
    assert Disk(root, 50_000, 1000).total() >= on_disk  # the count never under: sweeps come in time


def test_derived_images_stay_within_the_disk_budget(tmp_path: Path) -> None:
    source = tmp_path / "s.png"
    pyvips.Image.gaussnoise(64, 64).cast("uchar").write_to_file(str(source))
    settings = Settings(data_dir=str(tmp_path), image_disk_cache_bytes=20_000, image_cache_entries=0)
    cache = Derived(settings)
    for width in range(20, 60):
        cache.get(KEY, params.parse({"width": str(width), "format": "png"}), lambda: source, "image/png")
    assert cache.computed == 40
    assert 0 < _on_disk(tmp_path / "derived") <= 20_000
    last = params.parse({"width": "59", "format": "png"})
    again = Derived(settings)  # a restart: the most recent are still there
    again.get(KEY, last, lambda: source, "image/png")
    assert again.computed == 0


def test_processes_asking_for_one_new_image_compute_it_once(tmp_path: Path) -> None:
    source = tmp_path / "s.png"
    pyvips.Image.gaussnoise(1500, 1500).cast("uchar").write_to_file(str(source))
    code = (
        "import sys\nfrom pathlib import Path\nfrom stackyard.settings import Settings\n"
        "from stackyard.content.assets.images import params\n"
        "from stackyard.content.assets.images.derived import Derived\n"
        "d = Derived(Settings(data_dir=sys.argv[1]))\n"
        "plan = params.parse({'width': '700', 'blur': '20', 'format': 'png'})\n"
        "import time\ntime.sleep(max(0, float(sys.argv[3]) - time.time()))  # all ask at once\n"
        "d.get('ef' * 32, plan, lambda: Path(sys.argv[2]), 'image/png')\n"
        "print(d.computed)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    at = str(time.time() + 3)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path), str(source), at],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    computed = [int(p.communicate(timeout=60)[0].strip()) for p in procs]
    assert sorted(computed) == [0, 0, 1]
