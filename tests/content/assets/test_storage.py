"""Storage backends: keys are only server-made hashes; S3 requests are signed exactly as AWS's own
signer signs them, and files stream in and out of a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stackyard.content.assets.storage import LocalStorage, S3Storage


def test_local_storage_takes_only_hash_keys(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "assets")
    source = tmp_path / "upload"
    source.write_bytes(b"data")
    key = hashlib.sha256(b"data").hexdigest()
    for bad in ("../../etc/passwd", "a/b", key.upper(), key[:-1]):
        with pytest.raises(ValueError):
            store.put(bad, source, 4)
    store.put(key, source, 4)
    assert not source.exists()
    assert (tmp_path / "assets" / key[:2] / key[2:4] / key).read_bytes() == b"data"
    with store.open(key) as f:
        assert f.read() == b"data"
    store.delete(key)
    assert not store.exists(key)


def test_s3_signature_matches_botocore() -> None:
    store = S3Storage("s3://bucket/pre/fix", "http://127.0.0.1:9000", "AKID", "SECRET", "eu-west-1")
    key = hashlib.sha256(b"x").hexdigest()
    path = store._object_path(key)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ours = store._headers("PUT", path, key, {"content-length": "1"}, when)
    request = AWSRequest(method="PUT", url="http://127.0.0.1:9000" + path, data=b"x")
    request.headers["x-amz-content-sha256"] = key
    request.headers["content-length"] = "1"
    request.context["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
    signer = SigV4Auth(Credentials("AKID", "SECRET"), "s3", "eu-west-1")
    signer._modify_request_before_signing = lambda r: None  # type: ignore[method-assign]
    r = request
    r.headers["X-Amz-Date"] = when.strftime("%Y%m%dT%H%M%SZ")
    r.headers["host"] = "127.0.0.1:9000"
    canonical = signer.canonical_request(r)
    string_to_sign = signer.string_to_sign(r, canonical)
    expected = signer.signature(string_to_sign, r)
    assert ours["authorization"].endswith("Signature=" + expected)


def test_s3_storage_streams_files_in_and_out(tmp_path: Path, s3_endpoint: str) -> None:
    store = S3Storage(f"s3://stackyard-test/{tmp_path.name}", s3_endpoint, "testing", "testing", "us-east-1")
    store.ensure_bucket()
    data = b"0123456789" * 300_000  # 3 MB: more than one chunk each way
    source = tmp_path / "upload"
    source.write_bytes(data)
    key = hashlib.sha256(data).hexdigest()
    store.put(key, source, len(data))
    assert store.exists(key) and store.local_path(key) is None
    with store.open(key) as f:
        assert f.read(10) == b"0123456789"
        assert f.read() == data[10:]
    store.delete(key)
    assert not store.exists(key)
