"""On-disk cache of analyses, keyed by file content, so reopening a clip is instant.

The key hashes the file size and three 256 KiB samples (start, middle, end) together with the
analysis version: renaming or moving a clip keeps its analysis, editing it (or a new
analysis version) does not. Reading the samples costs milliseconds even for large files.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from robin_studio.analysis.types import VideoAnalysis
from robin_studio.paths import cache_dir

_SAMPLE_BYTES = 256 * 1024


def content_key(path: str | os.PathLike, version: int) -> str:
    size = os.path.getsize(path)
    digest = hashlib.sha256(f"robin-analysis-v{version}:{size}:".encode())
    with open(path, "rb") as f:
        for offset in sorted({0, max(0, size // 2 - _SAMPLE_BYTES // 2), max(0, size - _SAMPLE_BYTES)}):
            f.seek(offset)
            digest.update(f.read(_SAMPLE_BYTES))
    return digest.hexdigest()[:32]


def _cache_file(key: str) -> Path:
    folder = cache_dir() / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.json"


def load(key: str) -> VideoAnalysis | None:
    """The cached analysis for `key`, or None (a damaged cache file counts as missing)."""
    path = _cache_file(key)
    try:
        with open(path, encoding="utf-8") as f:
            return VideoAnalysis.from_dict(json.load(f))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(analysis: VideoAnalysis) -> None:
    """Write atomically, so a crash never leaves half a cache file behind."""
    path = _cache_file(analysis.content_key)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        # json.dumps, not json.dump: only the one-shot encoder is the C one (json.dump
        # encodes piece by piece in Python, several times slower on the shots' features).
        text = json.dumps(analysis.to_dict(), separators=(",", ":"))
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        # A cache that cannot be written only costs time on the next open.
        Path(tmp).unlink(missing_ok=True)
