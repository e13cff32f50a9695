"""A piece's audio on disk instead of in memory, for runs that only write it out at the end.

`robin-studio score` of an hour of video holds an hour of 48 kHz stereo float32 mix:
1.38 GB, more than half the run's peak memory (issue 21). `spooled_zeros` gives the same
array (an `np.memmap`, so every reader and writer works on it unchanged) backed by a
temporary file that is deleted when the array goes; `release` tells the system that a span
has been written or read and need not stay mapped: for a shared file mapping the data stay in
the file (and the page cache, which the system can reclaim), only the process's resident
memory falls. Writers (the engine, chunk by chunk) and readers (the export, block by block)
release what they are done with; on an ordinary array, or a system without `madvise`,
`release` does nothing.
"""

from __future__ import annotations

import errno
import mmap
import os
import tempfile
import weakref
from pathlib import Path

import numpy as np

from robin_studio.errors import RobinError

# mmap object -> address of its first byte (a memmap made here always maps from offset 0)
_STARTS: "weakref.WeakKeyDictionary[mmap.mmap, int]" = weakref.WeakKeyDictionary()


def spooled_zeros(frames: int, channels: int = 2, folder: str | Path | None = None) -> np.ndarray:
    """A zero-filled float32 (frames, channels) array kept in a temporary file in `folder`
    (the system's temporary folder if None); the file is removed when the array is freed."""
    shape = (max(1, int(frames)), int(channels))
    f = tempfile.TemporaryFile(dir=folder, prefix=".robin-audio-")
    try:
        _reserve(f, shape[0] * shape[1] * 4, folder)
        arr = np.memmap(f, dtype=np.float32, mode="w+", shape=shape)
    finally:
        f.close()      # the mapping keeps the (already unlinked) file alive
    if frames < 1:
        arr = arr[:0]
    owner = _mapping(arr)
    if owner is not None:
        _STARTS[owner] = arr.__array_interface__["data"][0]
    return arr


def _reserve(f, nbytes: int, folder) -> None:
    """Take the file's disk space now: a write into a mapped file on a full disk would kill
    the process (SIGBUS) instead of raising, so a full disk is said here, before any work."""
    if not hasattr(os, "posix_fallocate"):
        return
    try:
        os.posix_fallocate(f.fileno(), 0, nbytes)
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            where = folder or tempfile.gettempdir()
            raise RobinError(f"There is not enough free disk space in {where} for the music "
                             f"while it is made ({nbytes / 2**20:.0f} MB).",
                             "Free some space there, or write the output to another disk.") from None
        # (a file system without fallocate: the space is taken as the music is written)


def _mapping(arr) -> mmap.mmap | None:
    owner = arr
    while owner is not None and not isinstance(owner, mmap.mmap):
        owner = getattr(owner, "base", None)
    return owner


def is_spooled(arr) -> bool:
    return _mapping(arr) in _STARTS if _mapping(arr) is not None else False


def release(arr, start: int, stop: int) -> None:
    """Rows `start:stop` of `arr` (or of the spooled array it is a view of) leave the
    process's resident memory; their data stay in the file. A no-op on ordinary arrays."""
    owner = _mapping(arr)
    if owner is None or not hasattr(owner, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
        return
    first = _STARTS.get(owner)
    if first is None or stop <= start:
        return
    row = arr.strides[0]
    lo = arr.__array_interface__["data"][0] + max(0, int(start)) * row - first
    hi = arr.__array_interface__["data"][0] + min(len(arr), int(stop)) * row - first
    page = mmap.PAGESIZE
    lo = max(0, lo // page * page)
    hi = min(len(owner), -(-hi // page) * page)
    if hi > lo:
        owner.madvise(mmap.MADV_DONTNEED, lo, hi - lo)
