"""Image delivery: Stackyard's transforms against Pillow, cached delivery over HTTP, a 1 GB upload.

In one run, on the same photo-like 3000x2000 JPEG:

- transforms to a 400-wide WebP and AVIF, uncached (every one computed), the three ways taking
  turns so that other load on the machine falls on each alike: CPU ms per image one at a time,
  and images/s on two threads, for Stackyard's pipeline (`render.transform`: libvips, with Pillow's
  JPEG decoder and WebP encoder where `images.codecs` uses them), Pillow at its best (`draft()` +
  `thumbnail`) and Pillow naively (full decode + `resize`), with the ratios (above 1: ours faster);
- peak memory of one transform (a fresh process each) for a 12,000x12,000 JPEG (which shrinks on
  load) and a 6,000x6,000 PNG (which cannot), ours against Pillow's;
- over HTTP, against a real `stackyard serve`: uncached transforms/s (every request a new plan)
  with the server's CPU per transform, cached transforms req/s (one plan, served from the derived
  cache), and how many transforms 32 concurrent asks of one new plan computed;
- a 1 GB upload through the management SDK, with the server's resident memory growth.

    .venv/bin/python bench/bench_images.py                 # everything (about two minutes)
    .venv/bin/python bench/bench_images.py --skip-upload --seconds 5
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one libvips worker per transform: threads are ours

from harness import common_args, drive, process_tree_cpu, serve, server_settings, write_results

WIDTH = 400
# Pillow's encoder settings, the same work as Stackyard's: WebP at quality 80 with libwebp's method 4
# (as `images.codecs` encodes it); AVIF at quality 50 and each library's fastest effort (libavif
# speed 10 here, libvips/libheif effort 0 in `render`).
PILLOW_SAVE: dict[str, dict[str, Any]] = {
    "webp": {"format": "WEBP", "quality": 80, "method": 4},
    "avif": {"format": "AVIF", "quality": 50, "speed": 10},
}


def photo(
    path: Path, width: int, height: int, fmt: str = ".jpg", quality: int = 85, grain: float = 18
) -> None:
    """A photo-like image: smooth gradients, shapes and grain, so codecs do real work."""
    import pyvips

    xy = pyvips.Image.xyz(width, height)
    r = (xy[0] * 255 / width).cast("uchar")
    g = (xy[1] * 255 / height).cast("uchar")
    b = ((xy[0] + xy[1]) * 127 / (width + height) + 64).cast("uchar")
    base = r.bandjoin([g, b])
    image = base
    if grain:
        noise = pyvips.Image.gaussnoise(width, height, sigma=grain, mean=0)
        image = base + noise.bandjoin([noise, noise])
    image = image.cast("uchar").copy(interpretation="srgb")
    if fmt == ".jpg":
        image.write_to_file(str(path), Q=quality)
    else:
        image.write_to_file(str(path), compression=6)


def _vips(path: Path, fmt: str) -> bytes:
    from stackyard.content.assets.images import params, render

    limits = render.Limits(144_000_000, 50 * 1024 * 1024, 8192, 60.0)  # Contentstack's limits
    plan = params.parse({"width": str(WIDTH), "format": fmt})
    mime = "image/png" if path.suffix == ".png" else "image/jpeg"
    return render.transform(path, plan, mime, limits).body


def _pillow_best(path: Path, fmt: str) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        height = round(im.height * WIDTH / im.width)
        im.draft("RGB", (WIDTH, height))
        im.thumbnail((WIDTH, height))
        out = io.BytesIO()
        im.save(out, **PILLOW_SAVE[fmt])
        return out.getvalue()


def _pillow_naive(path: Path, fmt: str) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        small = im.resize((WIDTH, round(im.height * WIDTH / im.width)), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, **PILLOW_SAVE[fmt])
        return out.getvalue()


WAYS = {"stackyard": _vips, "pillow_best": _pillow_best, "pillow_naive": _pillow_naive}


def compare(path: Path, fmt: str, images: int, seconds: float, threads: int = 2) -> dict[str, Any]:
    """The three ways side by side, interleaved so that other load on the machine falls on each
    alike: CPU ms per image (the whole process's CPU, one image at a time: the median of `images`
    samples per way, taken in turns, each way first in its turn), then images/s on `threads` threads (turns of a few tenths of
    a second per way until `seconds` have passed, images over time summed per way)."""
    for fn in WAYS.values():
        fn(path, fmt)  # warm (codecs loaded)
    samples: dict[str, list[float]] = {way: [] for way in WAYS}
    ways = list(WAYS.items())
    for i in range(images):
        for way, fn in ways[i % len(ways) :] + ways[: i % len(ways)]:  # each goes first in turn
            start = time.process_time()
            fn(path, fmt)
            samples[way].append((time.process_time() - start) * 1000)
    done = dict.fromkeys(WAYS, 0)
    spent = dict.fromkeys(WAYS, 0.0)
    turn = 0.4
    rounds = max(1, round(seconds / (turn * len(WAYS))))
    with ThreadPoolExecutor(threads) as pool:
        for i in range(rounds):
            for way, fn in ways[i % len(ways) :] + ways[: i % len(ways)]:
                stop = time.monotonic() + turn

                def work(_: int, fn: Any = fn, stop: float = stop) -> int:
                    n = 0
                    while time.monotonic() < stop:
                        fn(path, fmt)
                        n += 1
                    return n

                start = time.monotonic()
                done[way] += sum(pool.map(work, range(threads)))
                spent[way] += time.monotonic() - start
    return {
        way: {
            "cpu_ms_per_image": round(statistics.median(samples[way]), 1),
            "images_per_s_2_threads": round(done[way] / spent[way], 1),
        }
        for way in WAYS
    }


def stages(path: Path, images: int) -> dict[str, float]:
    """CPU ms of each stage of one 400-wide WebP (medians of `images` samples, the two ways in
    turns): Stackyard's steps as `render.transform` takes them for this JPEG, and Pillow's best.
    The resize's run is timed on its own (`codecs.pixels`), then the encode of its pixels."""
    import pyvips
    from PIL import Image

    from stackyard.content.assets.images import codecs, render

    limits = render.Limits(144_000_000, 50 * 1024 * 1024, 8192, 60.0)
    samples: dict[str, list[float]] = {}
    mark = 0.0

    def took(name: str) -> None:
        nonlocal mark
        now = time.process_time()
        samples.setdefault(name, []).append((now - mark) * 1000)
        mark = now

    for _ in range(images):
        mark = time.process_time()
        head = render.probe(path, limits)
        took("stackyard: header (Pillow)")
        height = round(head.height * WIDTH / head.width)
        big = codecs.jpeg(str(path), head.width, head.height, 4)
        assert big is not None
        took("stackyard: decode at 1/4 (Pillow, into libvips memory)")
        small = big.resize(WIDTH / big.width, vscale=height / big.height, kernel="lanczos3")
        took("stackyard: resize, building it (libvips)")
        pixels = codecs.pixels(small, math.inf)
        took("stackyard: resize, running it (lanczos3, 4 bands, in strips)")
        done = pyvips.Image.new_from_memory(pixels, WIDTH, height, 4, "uchar")
        mark = time.process_time()
        codecs.encode(done, "webp", 80, padded=True)
        took("stackyard: WebP encode (Pillow, RGBX, no copy)")
        with Image.open(path) as im:
            im.draft("RGB", (WIDTH, height))
            took("pillow best: open + draft")
            im.load()
            took("pillow best: decode at 1/4")
            im.thumbnail((WIDTH, height))
            took("pillow best: thumbnail (bicubic)")
            im.save(io.BytesIO(), **PILLOW_SAVE["webp"])
            took("pillow best: WebP encode")
    return {name: round(statistics.median(values), 2) for name, values in samples.items()}


MEMORY_PROBE = """
import os, sys
sys.path.insert(0, {bench!r})
os.environ["VIPS_CONCURRENCY"] = "1"
from pathlib import Path
import bench_images as b
import PIL.Image
PIL.Image.MAX_IMAGE_PIXELS = None
fn = b.WAYS[{way!r}]
path = Path({path!r})
fn(Path({small!r}), "webp")  # codecs loaded and warm before the baseline

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to the current resident size
before = status("VmRSS")
fn(path, "webp")
print(status("VmHWM") - before)
"""


def memory_mb(way: str, path: Path, small: Path) -> float:
    """Peak resident memory one transform adds, in a fresh process (peak reset just before it)."""
    code = MEMORY_PROBE.format(bench=str(Path(__file__).parent), way=way, path=str(path), small=str(small))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return round(float(out.stdout.strip().splitlines()[-1]), 1)


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def http_part(args: Any, jpeg: Path, results: dict[str, Any]) -> None:
    import httpx

    settings = {**server_settings(args), "access_log": "false", "max_upload_bytes": str(2 * 1024**3)}
    with serve("sqlite", settings, "server-images.log") as server:
        with server.client() as c:
            r = c.post("/v3/assets", files={"asset[upload]": ("photo.jpg", jpeg.read_bytes(), "image/jpeg")})
            r.raise_for_status()
            url = r.json()["asset"]["url"].removeprefix(server.url)
        # uncached over HTTP: every request a plan never asked before
        counter = iter(range(10**9))
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds
        count = [0, 0]

        def unique(i: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as client:
                while time.monotonic() < stop:
                    with lock:
                        n = next(counter)
                    # as costly as the 400-wide Q80 plan: 380-420 wide, quality 60-99
                    r = client.get(
                        url,
                        params={"width": 380 + n % 41, "format": "webp", "quality": 60 + n // 41 % 40},
                    )
                    assert r.status_code == 200, r.text
                    count[i] += 1

        start, cpu = time.monotonic(), process_tree_cpu(server.process.pid)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(unique, range(2)))
        results["http_uncached_webp_per_s"] = round(sum(count) / (time.monotonic() - start), 1)
        results["http_uncached_server_cpu_ms_per_image"] = round(
            (process_tree_cpu(server.process.pid) - cpu) / sum(count) * 1000, 1
        )
        # cached: one plan, many clients
        cached_path = f"{url}?width={WIDTH}&format=webp"
        with httpx.Client(base_url=server.url) as client:
            assert client.get(cached_path).status_code == 200
        request = {"method": "GET", "path": cached_path, "headers": {}}
        out = drive(
            server,
            [request],
            connections=args.clients,
            seconds=args.seconds,
            processes=args.load_procs,
            profile="profile-images-cached" if args.profile else "",
        )
        results["http_cached"] = {
            k: out[k] for k in ("rps", "p50_ms", "p99_ms", "errors", "server_cpu_us_per_req")
        }
        # concurrent identical asks of a new plan: computed once. A file of its own (one more byte
        # after the JPEG's end), whose derived folder the uncached run above has not filled up to
        # image_max_variants (past it, images stay in memory only and no file would show).
        other = jpeg.read_bytes() + b"\0"
        with server.client() as c:
            r = c.post("/v3/assets", files={"asset[upload]": ("other.jpg", other, "image/jpeg")})
            r.raise_for_status()
            fresh = r.json()["asset"]["url"].removeprefix(server.url) + f"?width={WIDTH}&format=avif"
        with ThreadPoolExecutor(16) as pool:
            bodies = list(pool.map(lambda _: httpx.get(server.url + fresh, timeout=60).content, range(32)))
        key = hashlib.sha256(other).hexdigest()
        folder = Path(f"/proc/{server.process.pid}/cwd").resolve() / "derived" / key[:2] / key
        made = sum(1 for p in folder.iterdir() if not p.name.startswith("."))
        results["computed_once"] = {"same_answer": len(set(bodies)) == 1, "derived_files": made}
        if not args.skip_upload:
            results["upload_1gb"] = upload_1gb(server)


def upload_1gb(server: Any) -> dict[str, Any]:
    from stackyard.client.management import Client

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.bin"
        with big.open("wb") as f:
            chunk = os.urandom(1024 * 1024)
            for _ in range(1024):
                f.write(chunk)
        pid = server.process.pid
        rss_before = _rss_mb(pid)
        peak = [rss_before]
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], _rss_mb(pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.monotonic()
        with Client(
            base_url=server.url, authtoken=server.headers["authtoken"], timeout=600, max_retries=0
        ) as c:
            answer = c.stack(server.headers["api_key"]).assets().upload(str(big)).json()["asset"]
        seconds = time.monotonic() - start
        done.set()
        watcher.join()
        assert answer["file_size"] == str(1024**3)
        return {
            "seconds": round(seconds, 1),
            "rss_before_mb": round(rss_before, 1),
            "rss_peak_mb": round(peak[0], 1),
            "rss_growth_mb": round(peak[0] - rss_before, 1),
        }


def main() -> None:
    p = common_args(__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=30, help="transforms per CPU measurement")
    p.add_argument("--skip-upload", action="store_true", help="leave out the 1 GB upload")
    p.add_argument("--skip-memory", action="store_true", help="leave out the large-input memory probes")
    p.add_argument("--http-only", action="store_true", help="only the HTTP part (and the upload)")
    args = p.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        jpeg = Path(tmp) / "photo.jpg"
        photo(jpeg, 3000, 2000)
        for fmt in () if args.http_only else ("webp", "avif"):
            for way, figures in compare(jpeg, fmt, args.images, args.seconds).items():
                results[f"{fmt}_{way}"] = figures
                print(fmt, way, figures, flush=True)
        if not args.http_only:
            results["webp_stages_cpu_ms"] = stages(jpeg, args.images)
            for name, ms in results["webp_stages_cpu_ms"].items():
                print(f"  {name:56s} {ms:6.2f} ms", flush=True)
        if not args.skip_memory and not args.http_only:
            big_jpeg, big_png = Path(tmp) / "big.jpg", Path(tmp) / "big.png"
            photo(big_jpeg, 12000, 12000, quality=70)  # under the 50 MB input limit
            photo(big_png, 6000, 6000, ".png", grain=1)  # a PNG has no shrink-on-load
            for name, path in (("jpeg_12000", big_jpeg), ("png_6000", big_png)):
                for way in WAYS:
                    results[f"memory_mb_{name}_{way}"] = memory_mb(way, path, jpeg)
                    print(name, way, results[f"memory_mb_{name}_{way}"], "MB", flush=True)
        http_part(args, jpeg, results)
    if args.http_only:
        print(json.dumps(results, indent=2))
        return
    results["ratios"] = {
        f"{fmt}_vs_{way}_{measure}": round(
            results[f"{fmt}_{way}"][key] / results[f"{fmt}_stackyard"][key]
            if measure == "cpu"
            else results[f"{fmt}_stackyard"][key] / results[f"{fmt}_{way}"][key],
            2,
        )
        for fmt in ("webp", "avif")
        for way in ("pillow_best", "pillow_naive")
        for measure, key in (("cpu", "cpu_ms_per_image"), ("throughput", "images_per_s_2_threads"))
    }  # above 1: Stackyard's pipeline is faster
    print(json.dumps(results, indent=2))
    print("written to", write_results("images", args, [results]))


if __name__ == "__main__":
    main()
