"""Screenshots of the real window for docs/screenshots/ (and the README).

Run under a real X server, e.g. Xvfb at the smallest screen the app supports and at full HD:

    xvfb-run -a -s "-screen 0 1024x600x24" .venv/bin/python -m robin_studio.app.screenshots --size 1024x600
    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m robin_studio.app.screenshots --size 1920x1080

Each picture's name ends with the screen size (01-empty-1024x600.png...).

It builds a 12 s clip with two hard cuts from the bundled Big Buck Bunny sample (three
stretches of it spliced together, sound included), then drives the window as a creator
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(paths.project_root() / "docs" / "screenshots"))
    parser.add_argument("--size", default="1024x600", help="screen size, WxH")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    width, height = (int(x) for x in args.size.split("x"))

    # Keep the user's own settings and recovery files out of it.
    scratch = paths.cache_dir() / "screenshots"
    for env, sub in (("ROBIN_STUDIO_CONFIG_DIR", "config"), ("ROBIN_STUDIO_DATA_DIR", "data")):
        os.environ.setdefault(env, str(scratch / sub))
    clip = build_demo_clip(scratch / "demo-clip.mp4")

    from PySide6 import QtCore, QtTest

    from robin_studio.app.application import make_app
    from robin_studio.app.main_window import MainWindow

    app = make_app(sys.argv[:1])
    w = MainWindow(run_first_checks=False)
    w.confirm_close = False
    w.resize(width, height - 28 if height > 600 else height)   # a desktop panel, if there is room
    w.move(0, 0)
    w.show()
    shots: list[str] = []

    # QTest.qWait runs the event loop while we wait for the window to get somewhere.
    def settle(ms: int = 300) -> None:
        QtTest.QTest.qWait(ms)

    def wait(cond, ms: int = 180_000) -> None:
        timer = QtCore.QElapsedTimer()
        timer.start()
        while not cond():
            if timer.elapsed() > ms:
                raise TimeoutError("the window did not get there in time")
            QtTest.QTest.qWait(30)

    def snap(name: str, widget=None) -> None:
        settle(150)
        path = out / name.replace(".png", f"-{width}x{height}.png")
        if widget is None:
            pix = w.grab()
        else:  # a dialog: grab the screen so the window behind it shows too
            pix = app.primaryScreen().grabWindow(0, 0, 0, width, height)
        pix.save(str(path))
        shots.append(str(path))

    settle(500)
    snap("01-empty.png")

    analysed = []
    w.analysisReady.connect(lambda: analysed.append(True))
    w.open_clip(clip)
    wait(lambda: bool(analysed) and w.picture.shown_time_s is not None)
    w.prompt_panel.prompt.setPlainText(PROMPT)
    w.prompt_panel.chips["lofi"].setChecked(True)
    w.seek(2.2)
    wait(lambda: w.picture.shown_time_s is not None and abs(w.picture.shown_time_s - 2.2) < 0.05)
    snap("02-imported.png")

    grabbed = []

    def during(index: int) -> None:
        if index == 0 and not grabbed:
            snap("03-generating.png")
            grabbed.append(True)

    w.chunkShown.connect(during)
    w.generate()
    wait(lambda: not w.busy)
    if not grabbed:
        snap("03-generating.png")

    tm = w.piece.tempo_map
    a_s, b_s = tm.bar_start_s(2), tm.bar_start_s(4)
    w.seek(a_s)
    w.timeline.set_selection(a_s, min(b_s, w.duration_s))
    w.seek(a_s + 0.3)
    wait(lambda: w.picture.shown_time_s is not None and abs(w.picture.shown_time_s - (a_s + 0.3)) < 0.05)
    snap("04-region-selected.png")

    w.regenerate_selection()
    wait(lambda: not w.busy)
    dlg = w.open_export()
    settle(400)
    snap("05-export-dialog.png", widget=dlg)
    dlg.reject()
    w.close()
    print("\n".join(shots))
    return 0


if __name__ == "__main__":
    sys.exit(main())
