"""Screenshots of the real window for docs/screenshots/ (and the README).

Run under a real X server, e.g. Xvfb at the smallest screen the app supports and at full HD:

    xvfb-run -a -s "-screen 0 1024x600x24" .venv/bin/python -m robin_studio.app.screenshots --size 1024x600
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m robin_studio.app.screenshots --size 1920x1080

Each picture's name ends with the screen size (00-starting-1024x600.png...).

It builds a 12 s clip with two hard cuts from the bundled Big Buck Bunny sample (three
stretches of it spliced together, sound included), then shows what a creator sees: the
window's frame while the editor loads (`start_frame`), and the window driven as a creator
would: empty, after import, during generation, with a region selected, and the export dialog.
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from robin_studio import paths

SEGMENTS_S = [(0.0, 5.28), (2.0, 5.28), (0.5, 4.0)]   # two hard cuts: at 5.28 s and 8.56 s
SIZE = (640, 360)
PROMPT = "warm lo-fi piano, builds to the end, soft drums after the first cut"


def build_demo_clip(out: Path, repeat: int = 1) -> Path:
    """Splice three stretches of the sample clip (picture and sound) into one MP4 (the three,
    `repeat` times over: 5 gives a 60 s clip, for the latency benchmark)."""
    src = paths.resources_dir() / "sample" / "bigbuckbunny.mp4"
    frames, fps = [], 25
    audio_parts = []
    with av.open(str(src)) as c:
        vs = c.streams.video[0]
        fps = int(round(float(vs.average_rate or 25)))
        for f in c.decode(vs):
            frames.append((float(f.time), f.to_ndarray(width=SIZE[0], height=SIZE[1], format="rgb24")))
    with av.open(str(src)) as c:
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        for f in c.decode(c.streams.audio[0]):
            for g in resampler.resample(f):
                audio_parts.append(g.to_ndarray())
    audio = np.concatenate(audio_parts, axis=1) if audio_parts else np.zeros((2, 0), np.float32)
    pics, sound = [], []
    for a, b in SEGMENTS_S * max(1, int(repeat)):
        pics += [img for t, img in frames if a - 1e-3 <= t < b - 1e-3]
        sound.append(audio[:, int(a * 48000): int(b * 48000)])
    sound_all = np.ascontiguousarray(np.concatenate(sound, axis=1), dtype=np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), "w") as o:
        v = o.add_stream("libx264", rate=fps)
        v.width, v.height, v.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        v.options = {"preset": "veryfast", "crf": "20"}
        s = o.add_stream("aac", rate=48000)
        s.layout = "stereo"
        for i, img in enumerate(pics):
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            for p in v.encode(vf):
                o.mux(p)
        for p in v.encode():
            o.mux(p)
        n = min(sound_all.shape[1], int(len(pics) / fps * 48000))
        for start in range(0, n, 1024):
            block = sound_all[:, start:min(n, start + 1024)]
            af = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout="stereo")
            af.sample_rate, af.pts, af.time_base = 48000, start, Fraction(1, 48000)
            for p in s.encode(af):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    return out


class Shooter:
    """The set-up every screenshot script shares: the output folder and screen size from the
    command line, settings and recovery files kept in a scratch folder (never the user's), the
    real app and window at that size, and waiting for the window and grabbing it."""

    def __init__(self, argv: list[str] | None, description: str, default_size: str,
                 size_in_names: bool) -> None:
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("out", nargs="?", default=str(paths.project_root() / "docs" / "screenshots"))
        parser.add_argument("--size", default=default_size, help="screen size, WxH")
        args = parser.parse_args(argv)
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.width, self.height = (int(x) for x in args.size.split("x"))
        self.size_in_names = size_in_names      # "01-empty-1024x600.png" rather than "01-empty.png"
        self.scratch = paths.cache_dir() / "screenshots"
        for env, sub in (("ROBIN_STUDIO_CONFIG_DIR", "config"), ("ROBIN_STUDIO_DATA_DIR", "data")):
            os.environ.setdefault(env, str(self.scratch / sub))
        self.shots: list[str] = []
        self.app = self.window = None

    def open_start_frame(self, step: str):
        """The app and the frame it paints while the editor loads, saying it loads `step`,
        shown as the window will be."""
        from robin_studio.app.application import make_app
        from robin_studio.app.start_frame import StartFrame

        self.app = make_app(sys.argv[:1])
        frame = self.window = StartFrame()
        frame.set_step(step)
        self._show(frame)
        return frame

    def open_window(self):
        """The app and its window, shown at the screen's size (less a desktop panel, if there
        is room for one)."""
        from robin_studio.app.application import make_app
        from robin_studio.app.main_window import MainWindow

        self.app = make_app(sys.argv[:1])
        w = self.window = MainWindow(run_first_checks=False)
        w.confirm_close = False
        self._show(w)
        return w

    def _show(self, window) -> None:
        window.resize(self.width, self.height - 28 if self.height > 600 else self.height)
        window.move(0, 0)
        window.show()

    @staticmethod
    def settle(ms: int = 300) -> None:
        """Run the event loop for `ms` (the window draws what just changed)."""
        from PySide6 import QtTest
        QtTest.QTest.qWait(ms)

    @staticmethod
    def wait(cond, ms: int = 240_000) -> None:
        """Run the event loop until `cond()` holds."""
        from PySide6 import QtCore, QtTest
        timer = QtCore.QElapsedTimer()
        timer.start()
        while not cond():
            if timer.elapsed() > ms:
                raise TimeoutError("the window did not get there in time")
            QtTest.QTest.qWait(30)

    def snap(self, name: str, dialog: bool = False) -> None:
        """Save the window (or, for a dialog, the screen, so the window behind it shows too)."""
        self.settle(300)
        if self.size_in_names:
            name = name.replace(".png", f"-{self.width}x{self.height}.png")
        pix = (self.app.primaryScreen().grabWindow(0, 0, 0, self.width, self.height) if dialog
               else self.window.grab())
        pix.save(str(self.out / name))
        self.shots.append(str(self.out / name))

    def finish(self) -> int:
        for d in list(self.window.dialogs):
            d.close()
        self.window.close()
        print("\n".join(self.shots))
        return 0


def main(argv: list[str] | None = None) -> int:
    shoot = Shooter(argv, __doc__.splitlines()[0], "1024x600", size_in_names=True)
    clip = build_demo_clip(shoot.scratch / "demo-clip.mp4")
    frame = shoot.open_start_frame("the timeline")
    shoot.settle(500)
    shoot.snap("00-starting.png")
    frame.close()
    w = shoot.open_window()
    shoot.settle(500)
    shoot.snap("01-empty.png")

    analysed = []
    w.analysisReady.connect(lambda: analysed.append(True))
    w.open_clip(clip)
    shoot.wait(lambda: bool(analysed) and w.picture.shown_time_s is not None)
    w.prompt_panel.prompt.setPlainText(PROMPT)
    w.prompt_panel.chips["lofi"].setChecked(True)
    w.seek(2.2)
    shoot.wait(lambda: w.picture.shown_time_s is not None and abs(w.picture.shown_time_s - 2.2) < 0.05)
    shoot.snap("02-imported.png")

    grabbed = []

    def during(index: int) -> None:
        if index == 0 and not grabbed:
            shoot.snap("03-generating.png")
            grabbed.append(True)

    w.chunkShown.connect(during)
    w.generate()
    shoot.wait(lambda: not w.busy)
    if not grabbed:
        shoot.snap("03-generating.png")

    tm = w.piece.tempo_map
    a_s, b_s = tm.bar_start_s(2), tm.bar_start_s(4)
    w.seek(a_s)
    w.timeline.set_selection(a_s, min(b_s, w.duration_s))
    w.seek(a_s + 0.3)
    shoot.wait(lambda: w.picture.shown_time_s is not None and abs(w.picture.shown_time_s - (a_s + 0.3)) < 0.05)
    shoot.snap("04-region-selected.png")

    w.regenerate_selection()
    shoot.wait(lambda: not w.busy)
    dlg = w.open_export()
    shoot.settle(400)
    shoot.snap("05-export-dialog.png", dialog=True)
    dlg.reject()
    return shoot.finish()


if __name__ == "__main__":
    sys.exit(main())
