"""Helpers for the hardening tests (issue 19): run the CLI in its own process, build damaged
media and hostile files from the committed fixtures with PyAV."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

from build import _moving, write_clip  # noqa: E402

ABORT_MARK = "terminate called"


def cli(*args: str, cwd: Path | None = None, timeout: float = 120, env: dict | None = None,
        stdin=None) -> subprocess.CompletedProcess:
    """`robin-studio ARGS` in a fresh interpreter (so an abort at exit shows as its exit code)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
                **(env or {})}
    return subprocess.run([sys.executable, "-m", "robin_studio.cli", *map(str, args)],
                          cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, stdin=stdin if stdin is not None else subprocess.DEVNULL)


def assert_clean_failure(proc: subprocess.CompletedProcess, code: int = 2, *words: str) -> None:
    """Exit `code`, the project's own message (with `words`), no traceback, no abort."""
    err = proc.stderr
    assert ABORT_MARK not in err, err[-2000:]
    assert "Traceback" not in err, err[-3000:]
    assert proc.returncode == code, (proc.returncode, err[-2000:])
    assert "robin-studio" in err, err[-2000:]
    for w in words:
        assert w.lower() in err.lower(), (w, err[-2000:])


def faststart_clip(path: Path, frames: int = 150, size=(320, 180)) -> Path:
    """A small H.264 MP4 with its index (moov) first, like a camera or phone export."""
    return write_clip(path, _moving(size, frames), fps=30, options={"preset": "ultrafast"},
                      container_options={"movflags": "faststart"})


def truncated(src: Path, dst: Path, share: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * share)])
    return dst


def corrupt_packets(src: Path, dst: Path, first: int, last: int, seed: int = 0) -> Path:
    """Remux `src` with video packets first..last replaced by random bytes (same sizes)."""
    rng = np.random.default_rng(seed)
    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": "faststart"}) as out:
        stream = inp.streams.video[0]
        target = out.add_stream_from_template(stream)
        k = 0
        for packet in inp.demux(stream):
            if packet.dts is None:
                continue
            if first <= k <= last:
                bad = av.Packet(rng.integers(0, 256, packet.size, np.uint8).tobytes())
                bad.pts, bad.dts, bad.time_base = packet.pts, packet.dts, packet.time_base
                packet = bad
            packet.stream = target
            out.mux(packet)
            k += 1
    return dst


def latin1_tagged_clip(path: Path, frames: int = 20) -> Path:
    """An MP4 whose title, comment and stream name are Latin-1 bytes ("Caf\\xe9 \\xe9t\\xe9"),
    as old tools write them; FFmpeg hands them on as they are, PyAV expects UTF-8."""
    placeholder = b"CafQ QtQ"           # as long as the Latin-1 text, so offsets stay right
    with av.open(str(path), "w") as out:
        out.metadata["title"] = placeholder.decode()
        out.metadata["comment"] = placeholder.decode()
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 36, "yuv420p"
        stream.metadata["title"] = placeholder.decode()
        for rgb in _moving((64, 36), frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = path.read_bytes()
    assert data.count(placeholder) >= 2
    path.write_bytes(data.replace(placeholder, "Café été".encode("latin-1")))
    return path


def small_midi(path: Path, seconds: float = 2.0) -> Path:
    """A short two-part General MIDI file (piano chords and a bass line) written with mido."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    beats = max(1, int(seconds * 2))          # 120 bpm
    for channel, program, pitches in ((0, 0, (60, 64, 67)), (1, 33, (36,))):
        track = mido.MidiTrack()
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
        for _ in range(beats):
            for i, p in enumerate(pitches):
                track.append(mido.Message("note_on", channel=channel, note=p, velocity=80, time=0))
            for i, p in enumerate(pitches):
                track.append(mido.Message("note_off", channel=channel, note=p, velocity=0,
                                          time=480 if i == 0 else 0))
        mid.tracks.append(track)
    mid.save(str(path))
    return path


def _vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def raw_midi(path: Path, events: bytes, tpb: int = 480) -> Path:
    """A type-0 Standard MIDI File holding `events` (delta-time + message bytes) as its track."""
    track = events + b"\x00\xff\x2f\x00"
    path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big")
                     + tpb.to_bytes(2, "big") + b"MTrk" + len(track).to_bytes(4, "big") + track)
    return path


def vlq(n: int) -> bytes:
    return _vlq(n)
