"""Helpers for the app tests (no tests here): small real clips made with PyAV, and a
VideoAnalysis filled in by hand for widget tests that do not need the engine."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from robin_studio.analysis.types import Shot, Transition, VideoAnalysis

SHOT_COLOURS = [(200, 60, 40), (40, 160, 200), (230, 210, 60), (90, 200, 90), (160, 80, 200)]


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """The app's settings and data (recent files, recovery copies) in the test's own folder;
    a test module uses it with `pytestmark = pytest.mark.usefixtures("user_dirs")`."""
    monkeypatch.setenv("ROBIN_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ROBIN_STUDIO_DATA_DIR", str(tmp_path / "data"))


def frame_grey(index: int) -> int:
    """Grey level painted on frame `index` of an index clip (decodes back within +-3)."""
    return 10 + (index * 6) % 240


def make_clip(path: Path, seconds: float = 4.0, fps: int = 25, size: tuple[int, int] = (192, 108),
              cut_frames: tuple[int, ...] = (), with_audio: bool = True, index_grey: bool = False) -> Path:
    """An H.264 MP4. Shots change colour at `cut_frames` (hard cuts) and a square moves
    inside each, or (index_grey) every frame is a flat grey that encodes its index."""
    w, h = size
    n = int(round(seconds * fps))
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "12", "g": "12"}
        astream = None
        if with_audio:
            astream = out.add_stream("aac", rate=48000)
            astream.layout = "stereo"
        for i in range(n):
            if index_grey:
                img = np.full((h, w, 3), frame_grey(i), np.uint8)
            else:
                shot = sum(1 for c in cut_frames if i >= c)
                img = np.empty((h, w, 3), np.uint8)
                img[:] = SHOT_COLOURS[shot % len(SHOT_COLOURS)]
                x = int((i * 5) % (w - 24))
                img[h // 3: h // 3 + 24, x: x + 24] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if astream is not None:
            sr, block = 48000, 1024
            total = int(seconds * sr)
            t0 = 0
            while t0 < total:
                k = min(block, total - t0)
                t = (t0 + np.arange(k)) / sr
                tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                frame.sample_rate = sr
                frame.pts = t0
                frame.time_base = Fraction(1, sr)
                for packet in astream.encode(frame):
                    out.mux(packet)
                t0 += k
            for packet in astream.encode():
                out.mux(packet)
    return path


def hand_analysis(duration_s: float = 12.0, fps: float = 25.0, cuts_s=(3.0, 7.3)) -> VideoAnalysis:
    """A VideoAnalysis as the engine would return it, filled in by hand."""
    bounds = [0.0, *cuts_s, duration_s]
    shots = [Shot(i, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    hz = 10.0
    energy = list(0.5 + 0.4 * np.sin(np.arange(int(duration_s * hz)) / 6.0))
    return VideoAnalysis(path="hand.mp4", content_key="hand", duration_s=duration_s, fps=fps,
                         width=192, height=108,
                         transitions=[Transition("cut", t, t, int(round(t * fps)), 0.9) for t in cuts_s],
                         shots=shots, motion_hz=hz, motion_energy=energy, visual_beats_s=[1.0, 5.0])
