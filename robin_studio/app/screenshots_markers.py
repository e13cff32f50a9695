"""Screenshots of hit points and re-conform for the README (docs/screenshots/06-*, 07-*).

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python -m robin_studio.app.screenshots_markers

Builds a 20 s "old cut" (the sample clip and three synthetic looks) and a re-edit of it, then
drives the real window: two hit points placed with M
(one strong, one soft), the music generated, one hit point dragged (the bars around it are
generated again), then File > Replace Video with the re-edit (two shots as they were, the
last moved before the third, which lost 2 s) and the conform report.
"""

from __future__ import annotations

import sys
from pathlib import Path

from robin_studio import paths

PROMPT = "upbeat pop, bright piano and drums"
SIZE = (640, 360)
FPS = 25


def _looks(seconds: dict[str, float]) -> dict[str, list]:
    """Moving pictures for the demo's shots: the sample clip and three synthetic looks."""
    import numpy as np

    from robin_studio.media.decode import iter_frames

    w, h = SIZE
    yy, xx = np.mgrid[0:h, 0:w]
    bunny = [f.rgb for f in iter_frames(paths.resources_dir() / "sample" / "bigbuckbunny.mp4",
                                        short_side=h)]
    bunny = [np.ascontiguousarray(f[:h, :w]) for f in bunny]
    out: dict[str, list] = {"bunny": bunny[:int(seconds["bunny"] * FPS)]}
    n = int(seconds["stripes"] * FPS)
    out["stripes"] = [np.where((((xx + 3 * i) // 40) % 2 == 0)[..., None], (40, 200, 80), (120, 40, 160))
                      .astype(np.uint8) for i in range(n)]
    n = int(seconds["plasma"] * FPS)
    out["plasma"] = []
    for i in range(n):
        v1, v2 = np.sin(xx / 46.0 + i / 9.0), np.sin((xx + yy) / 62.0 - i / 13.0)
        img = np.stack([128 + 120 * v1, 128 + 120 * v2, 128 + 120 * np.sin(v1 + v2)], -1)
        out["plasma"].append(np.clip(img, 0, 255).astype(np.uint8))
    n = int(seconds["rings"] * FPS)
    r = np.hypot(xx - w / 2, yy - h / 2)
    out["rings"] = [np.stack([20 + 30 * v, 120 + 120 * v, 140 + 110 * v], -1).astype(np.uint8)
                    for v in (0.5 + 0.5 * np.sin((r - 4 * i) / 9.0) for i in range(n))]
    return out


def _write(path: Path, frames: list) -> Path:
    import av

    with av.open(str(path), "w") as o:
        v = o.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        v.options = {"preset": "veryfast", "crf": "20"}
        for img in frames:
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                o.mux(p)
        for p in v.encode():
            o.mux(p)
    return path


def build_cuts(folder: Path) -> tuple[Path, Path]:
    """(old cut, re-edit): bunny, stripes, plasma, rings (4.4 + 5 + 6 + 5 s); the re-edit
    keeps the bunny and the stripes, trims the plasma by 2 s and puts the rings before it."""
    folder.mkdir(parents=True, exist_ok=True)
    looks = _looks({"bunny": 4.4, "stripes": 5.0, "plasma": 6.0, "rings": 5.0})
    old = looks["bunny"] + looks["stripes"] + looks["plasma"] + looks["rings"]
    new = looks["bunny"] + looks["stripes"] + looks["rings"] + looks["plasma"][:4 * FPS]
    return _write(folder / "demo-old-cut.mp4", old), _write(folder / "demo-new-cut.mp4", new)


def main(argv: list[str] | None = None) -> int:
    from robin_studio.app.screenshots import Shooter

    shoot = Shooter(argv, __doc__.splitlines()[0], "1366x768", size_in_names=False)
    clip, reedit = build_cuts(shoot.scratch)
    w = shoot.open_window()

    analysed = []
    w.analysisReady.connect(lambda: analysed.append(True))
    w.open_clip(clip)
    shoot.wait(lambda: bool(analysed))
    w.prompt_panel.prompt.setPlainText(PROMPT)
    m = w.markers
    for t, strong in ((3.1, True), (17.2, False)):
        w.seek(t)
        m.add_at_playhead()
        if not strong:
            m.panel.list.setCurrentRow(len(m.model.hits) - 1)
            m.panel.toggleRequested.emit(len(m.model.hits) - 1)
    w.generate()
    shoot.wait(lambda: not w.busy)
    line = m.lane.lines[0]
    line.setValue(3.6)
    line.sigPositionChangeFinished.emit(line)
    shoot.wait(lambda: m._worker is None)
    m.panel.list.setCurrentRow(0)
    w.seek(3.6)
    shoot.snap("06-hit-points.png")

    m.replace_video(reedit)
    shoot.wait(lambda: m._worker is None)
    shoot.snap("07-conform-report.png", dialog=True)
    return shoot.finish()


if __name__ == "__main__":
    sys.exit(main())
