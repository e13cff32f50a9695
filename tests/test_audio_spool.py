"""A piece's audio spooled to disk (media.spool), as `robin-studio score` holds it: the same
music sample for sample, the same exported file, and memory that does not grow with the
length of the piece (issue 21: an hour of mix is 1.4 GB)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from robin_studio.generate.baseline import NaiveLoopGenerator
from robin_studio.generate.engine import Scorer
from robin_studio.media.spool import is_spooled
from test_generate_engine import make_analysis


def test_spooled_piece_is_the_same_music_and_exports_the_same_file(tmp_path):
    analysis = make_analysis()
    prompt = "warm piano and strings with a light beat, builds to the end"
    in_memory = Scorer(generator=NaiveLoopGenerator()).generate(analysis, prompt, seed=3).result()
    spool = tmp_path / "spool"
    spool.mkdir()
    spooled = Scorer(generator=NaiveLoopGenerator(), spool_dir=spool).generate(
        analysis, prompt, seed=3).result()
    assert is_spooled(spooled.audio) and not is_spooled(in_memory.audio)
    assert spooled.audio.shape == in_memory.audio.shape
    assert np.array_equal(np.asarray(spooled.audio), in_memory.audio)
    a = Scorer().export(in_memory, tmp_path / "a.wav", kind="wav")
    b = Scorer().export(spooled, tmp_path / "b.wav", kind="wav")
    assert a.read_bytes() == b.read_bytes()
    assert list(spool.iterdir()) == []        # the spool file has no name: nothing is left behind


_MEASURE = r"""
import json, sys
import numpy as np
from robin_studio.media.export import Delivery, write_delivered_wav
from robin_studio.media.spool import release, spooled_zeros

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

minutes, folder, spool = float(sys.argv[1]), sys.argv[2], sys.argv[3] == "spool"
n = int(minutes * 60 * 48000)
rng = np.random.default_rng(0)
chunk = (rng.standard_normal((48000 * 5, 2)) * 0.1).astype(np.float32)
# warm the export's own buffers and libraries on a short piece first
write_delivered_wav(chunk, 48000, folder + "/warm.wav", delivery=Delivery(), overwrite=True)
before = rss_mb()
audio = spooled_zeros(n, 2, folder) if spool else np.zeros((n, 2), np.float32)
for i in range(0, n, len(chunk)):          # written chunk by chunk, as the engine does
    m = min(len(chunk), n - i)
    audio[i:i + m] = chunk[:m]
    release(audio, i, i + m)
write_delivered_wav(audio, 48000, folder + "/piece.wav", delivery=Delivery(), overwrite=True)
# the high-water mark of this process's own memory (ru_maxrss would also count the pytest
# process it was forked from)
peak = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM")) / 1024
print(json.dumps({"before_mb": before, "peak_mb": peak, "piece_mb": audio.nbytes / 2**20}))
"""


@pytest.mark.slow
def test_a_spooled_piece_does_not_stay_in_memory_while_written_and_exported(tmp_path):
    runs = {}
    for kind in ("spool", "memory"):       # the reference: the same piece held in memory
        out = subprocess.run([sys.executable, "-c", _MEASURE, "3", str(tmp_path), kind],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        runs[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    piece_mb = runs["spool"]["piece_mb"]                       # 66 MB for 3 minutes
    held = runs["memory"]["peak_mb"] - runs["memory"]["before_mb"]
    spooled = runs["spool"]["peak_mb"] - runs["spool"]["before_mb"]
    assert held > 0.9 * piece_mb, runs            # the measure sees a piece held in memory
    assert spooled < 0.25 * piece_mb, runs        # and a spooled one is not


def test_a_full_disk_is_said_before_any_music_is_made(tmp_path, monkeypatch):
    """A write into a mapped file on a full disk would kill the process (SIGBUS); the space
    is taken first, so a full disk is a readable error. (A full disk cannot be made here
    without privileges: the system call answers as it would on one.)"""
    import errno
    import os

    from robin_studio.errors import RobinError
    from robin_studio.media import spool as S

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(RobinError, match="not enough free disk space"):
        S.spooled_zeros(48000 * 60, 2, tmp_path)
    assert list(tmp_path.iterdir()) == []
