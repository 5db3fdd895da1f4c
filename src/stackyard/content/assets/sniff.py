"""What a file is, from its first bytes: the MIME type (never the client's word for it) and, for
images, the pixel dimensions read from the header alone.

    sniff.mime(head, filename) == "image/png"
    sniff.dimensions(path) == (640, 480)

The filename's extension is consulted only for formats with no magic number (plain text, CSV,
JSON, JavaScript...), and never makes a file "active" content: anything that could run in a
browser (HTML, SVG, XML, JavaScript) is classed by `active`, and served only as a download.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

HEAD_BYTES = 4096

# (offset, magic, MIME type), first match wins.
_MAGIC: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"OggS", "audio/ogg"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1a\x45\xdf\xa3", "video/webm"),
    (0, b"\x00\x00\x01\x00", "image/x-icon"),
    (0, b"wOFF", "font/woff"),
    (0, b"wOF2", "font/woff2"),
]
# ISO base media brands (bytes 8..12 after "ftyp" at 4).
_FTYP = {
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
}
# Text formats recognised by extension only, once the bytes look like text.
_TEXT_EXTENSIONS = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".xml": "application/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".svg": "image/svg+xml",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
}
ACTIVE = frozenset(
    {
        "text/html",
        "image/svg+xml",
        "application/xml",
        "text/xml",
        "application/xhtml+xml",
        "text/javascript",
        "application/javascript",
        "application/pdf",
    }
)
# Formats the image pipeline decodes (libvips), and those it can write.
IMAGES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/heif",
        "image/heic",
        "image/tiff",
    }
)


def mime(head: bytes, filename: str = "") -> str:
    """The MIME type of a file whose first bytes are `head`."""
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP:
            return _FTYP[brand]
        return "video/mp4"
    if not _looks_text(head):
        return "application/octet-stream"
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in lowered[:HEAD_BYTES]:
        return "image/svg+xml"
    if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")):
        return "text/html"
    if lowered.startswith(b"<?xml"):
        return "application/xml"
    ext = Path(filename).suffix.lower()
    if ext in _TEXT_EXTENSIONS:
        return _TEXT_EXTENSIONS[ext]
    guess = mimetypes.guess_type(filename)[0] if filename else None
    if guess and guess.startswith("text/") and guess not in ACTIVE:
        return guess
    return "text/plain"


def _looks_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 4  # a character cut at the end of the head
    return True


def active(content_type: str) -> bool:
    """Could a browser run this (scripts in HTML or SVG)? Such files are only ever downloads."""
    return content_type in ACTIVE or content_type.startswith("text/html")


def is_image(content_type: str) -> bool:
    return content_type in IMAGES


def dimensions(path: Path) -> tuple[int, int] | None:
    """(width, height) from the image header (libvips reads no pixels here); None if unreadable."""
    try:
        import pyvips

        image = pyvips.Image.new_from_file(str(path), access="sequential", fail=False)
        return int(image.width), int(image.height)
    except Exception:
        return None
