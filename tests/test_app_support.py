"""Helpers for the app tests (no tests here): a shown main window and the waits on it, small
real clips made with PyAV, and a VideoAnalysis filled in by hand for widget tests that do not
need the engine. (Their fixtures, `user_dirs` and `scorer`, are in conftest.py.)"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PySide6 import QtCore, QtWidgets

from robin_studio.analysis.types import Shot, Transition, VideoAnalysis
from robin_studio.app import style
from robin_studio.app.main_window import MainWindow

SHOT_COLOURS = [(200, 60, 40), (40, 160, 200), (230, 210, 60), (90, 200, 90), (160, 80, 200)]


def make_window(qtbot, tmp_path, scorer=None, size: tuple[int, int] | None = None, **kw) -> MainWindow:
    """The main window, shown, with its recovery copies in the test's folder, no first-run
    checks unless `run_first_checks=True`, and no question on close. With `scorer`, the window
    uses that engine (windows of a module share one); `size` resizes it before it shows."""
    style.apply_theme(QtWidgets.QApplication.instance())
    kw.setdefault("run_first_checks", False)
    if scorer is not None:
        kw["scorer_factory"] = lambda: scorer
    w = MainWindow(recovery_dir=tmp_path / "recovery", **kw)
    w.confirm_close = False
    qtbot.addWidget(w)
    if size is not None:
        w.resize(*size)
    w.show()
    return w


def analysed(qtbot, w: MainWindow, timeout_ms: int = 120_000) -> None:
    """Wait for the clip's analysis (or a dialog saying why there is none)."""
    qtbot.waitUntil(lambda: w.analysis is not None or bool(w.dialogs), timeout=timeout_ms)
    assert w.analysis is not None


def open_and_analyse(qtbot, w: MainWindow, clip: Path) -> None:
    """Open `clip` as File > Open does and wait for its analysis; no dialog may come up."""
    assert w.open_clip(clip)
    qtbot.waitUntil(lambda: w.analysis is not None or bool(w.dialogs), timeout=120_000)
    assert not w.dialogs, [d.text() + d.informativeText() for d in w.dialogs]


def wait_idle(qtbot, w: MainWindow, timeout_ms: int = 120_000) -> None:
    """Wait until no generation runs."""
    qtbot.waitUntil(lambda: not w.busy, timeout=timeout_ms)


def generate(qtbot, w: MainWindow) -> None:
    """Click Generate and wait for the whole take."""
    qtbot.mouseClick(w.prompt_panel.generate_button, QtCore.Qt.MouseButton.LeftButton)
    wait_idle(qtbot, w)


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
