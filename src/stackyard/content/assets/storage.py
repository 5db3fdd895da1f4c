"""Where asset bytes live: a directory under the data dir, or an S3-compatible object store.

    store = storage.open_storage(settings)       # --asset-storage: "" (local) or s3://bucket/prefix
    store.put(key, path_of_spooled_file, size)   # moves or copies the file in
    with store.open(key) as f: f.read(...)       # a binary file object, read in chunks
    store.delete(key)

Keys are chosen by the server (the file's SHA-256 in hex, `keys.valid` checks them), never by a
client: a client's file name is kept as text in the database and never becomes a path or an object
name. Local files sit at `<data_dir>/assets/ab/cd/<sha256>`; objects at `<prefix>/ab/cd/<sha256>`.

The S3 backend is a small client of its own over httpx with AWS Signature V4 (path-style URLs, so
any S3-compatible server works: MinIO, Ceph, moto). Its endpoint is the operator's setting, like the
database URL, not a URL a user chose, so it does not go through `core.outbound` (which refuses the
private addresses such servers usually have). Uploads stream the file with its SHA-256 as the
signed payload hash, which the key already is; reads stream the object.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol
from urllib.parse import quote, urlparse
from weakref import WeakKeyDictionary

import httpx

from stackyard.settings import Settings

KEY = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024
EMPTY_HASH = hashlib.sha256(b"").hexdigest()


def valid(key: str) -> bool:
    return bool(KEY.match(key))


def _check(key: str) -> str:
    if not valid(key):
        raise ValueError(f"not a storage key: {key!r}")
    return f"{key[:2]}/{key[2:4]}/{key}"


class StorageError(Exception):
    """The backend failed (an S3 status other than success, or an I/O error)."""


class Storage(Protocol):
    def put(self, key: str, source: Path, size: int) -> None: ...

    def open(self, key: str) -> IO[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def local_path(self, key: str) -> Path | None: ...


class LocalStorage:
    """Files under one directory; `put` moves the spooled file in (same file system: a rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _check(key)

    def put(self, key: str, source: Path, size: int) -> None:
        target = self._path(key)
        if target.exists():
            source.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError:
            partial = target.with_suffix(".part")
            shutil.copyfile(source, partial)
            os.replace(partial, target)
            source.unlink(missing_ok=True)

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as e:
            raise StorageError(f"no stored file {key}") from e

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.exists() else None


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class S3Storage:
    """Objects in one bucket under a prefix, over HTTP with SigV4 (path-style addressing)."""

    def __init__(self, url: str, endpoint: str, access_key: str, secret_key: str, region: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"asset storage must be s3://bucket/prefix, got {url!r}")
        if not endpoint:
            raise ValueError("S3 asset storage needs --asset-s3-endpoint")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.endpoint = endpoint.rstrip("/")
        self.host = urlparse(self.endpoint).netloc
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self._local = threading.local()

    @property
    def _http(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(
                timeout=httpx.Timeout(60.0, connect=10.0), trust_env=False
            )
        return client

    def _object_path(self, key: str) -> str:
        name = _check(key)
        full = f"{self.prefix}/{name}" if self.prefix else name
        return f"/{quote(self.bucket)}/{quote(full)}"

    def _headers(
        self, method: str, path: str, payload_hash: str, extra: dict[str, str], when: datetime | None = None
    ) -> dict[str, str]:
        """Signed headers (AWS Signature Version 4, no query string) for one request."""
        t = when or datetime.now(UTC)
        amz_date = t.strftime("%Y%m%dT%H%M%SZ")
        day = t.strftime("%Y%m%d")
        headers = {"host": self.host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date, **extra}
        names = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                "",
                *(f"{n}:{headers[n].strip()}" for n in names),
                "",
                ";".join(names),
                payload_hash,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        k = _sign(("AWS4" + self.secret_key).encode(), day)
        for part in (self.region, "s3", "aws4_request"):
            k = _sign(k, part)
        signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        del headers["host"]
        return headers

    def _send(
        self,
        method: str,
        path: str,
        *,
        payload_hash: str = "",
        extra: dict[str, str] | None = None,
        content: Iterator[bytes] | None = None,
    ) -> httpx.Response:
        headers = self._headers(method, path, payload_hash or EMPTY_HASH, extra or {})
        try:
            return self._http.request(method, self.endpoint + path, headers=headers, content=content)
        except httpx.HTTPError as e:
            raise StorageError(f"S3 {method} failed: {e}") from e

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist yet (a fresh MinIO or test server)."""
        path = f"/{quote(self.bucket)}"
        if self._send("HEAD", path).status_code == 404:
            r = self._send("PUT", path)
            if r.status_code not in (200, 409):
                raise StorageError(
                    f"S3 could not create bucket {self.bucket}: {r.status_code} {r.text[:200]}"
                )

    def put(self, key: str, source: Path, size: int) -> None:
        path = self._object_path(key)

        def body() -> Iterator[bytes]:
            with source.open("rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        r = self._send("PUT", path, payload_hash=key, extra={"content-length": str(size)}, content=body())
        if r.status_code >= 300:
            raise StorageError(f"S3 PUT answered {r.status_code}: {r.text[:200]}")
        source.unlink(missing_ok=True)

    def open(self, key: str) -> IO[bytes]:
        path = self._object_path(key)
        headers = self._headers("GET", path, EMPTY_HASH, {})
        request = self._http.build_request("GET", self.endpoint + path, headers=headers)
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as e:
            raise StorageError(f"S3 GET failed: {e}") from e
        if response.status_code != 200:
            response.close()
            raise StorageError(f"S3 GET answered {response.status_code}")
        return io.BufferedReader(_ResponseRaw(response), CHUNK)

    def exists(self, key: str) -> bool:
        return self._send("HEAD", self._object_path(key)).status_code == 200

    def delete(self, key: str) -> None:
        r = self._send("DELETE", self._object_path(key))
        if r.status_code >= 300 and r.status_code != 404:
            raise StorageError(f"S3 DELETE answered {r.status_code}")

    def local_path(self, key: str) -> Path | None:
        return None


class _ResponseRaw(io.RawIOBase):
    """A streamed S3 response as a raw binary stream (wrapped in a BufferedReader by `open`)."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._chunks = response.iter_bytes(CHUNK)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if not self._buffer:
            self._buffer = next(self._chunks, b"")
        n = min(len(b), len(self._buffer))
        b[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def close(self) -> None:
        self._response.close()
        super().close()


_OPENED: dict[tuple[str, str, str, str, str], Storage] = {}
_LOCK = threading.Lock()


_BY_SETTINGS: dict[Settings, Storage] = {}


def open_storage(settings: Settings) -> Storage:
    """The backend the settings name, one per distinct configuration per process."""
    known = _BY_SETTINGS.get(settings)
    if known is not None:
        return known
    url = settings.asset_storage
    if not url:
        key = ("local", str(Path(settings.data_dir).resolve()), "", "", "")
    else:
        key = (url, settings.asset_s3_endpoint, settings.asset_s3_access_key, settings.asset_s3_region, "")
    with _LOCK:
        found = _OPENED.get(key)
        if found is None:
            if not url:
                found = LocalStorage(Path(settings.data_dir) / "assets")
            else:
                s3 = S3Storage(
                    url,
                    settings.asset_s3_endpoint,
                    settings.asset_s3_access_key,
                    settings.asset_s3_secret_key,
                    settings.asset_s3_region,
                )
                s3.ensure_bucket()
                found = s3
            _OPENED[key] = found
        _BY_SETTINGS[settings] = found
    return found


_CONFIGURED: WeakKeyDictionary[Any, Settings] = WeakKeyDictionary()


def configure(db: Any, settings: Settings) -> None:
    """Name the settings whose storage work done through `db` outside a request uses (the demo)."""
    _CONFIGURED[db] = settings


def settings_for(db: Any) -> Settings | None:
    """The settings `configure` named for `db`, or None."""
    return _CONFIGURED.get(db)


def for_db(db: Any) -> Storage | None:
    """The storage `configure` named for `db`, or None."""
    settings = _CONFIGURED.get(db)
    return open_storage(settings) if settings is not None else None


@contextmanager
def opened(store: Storage, key: str) -> Iterator[IO[bytes]]:
    f = store.open(key)
    try:
        yield f
    finally:
        f.close()
