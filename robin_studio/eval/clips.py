"""Evaluation clips with known cuts: synthetic cut patterns written with PyAV.

Each clip is a run of shots with different colours, each shot with a shape that moves at its
own speed (so motion energy and optical flow vary), cut hard at known times. The cut times are
the ground truth the rhythm metrics score against; the clip is also decoded and analysed by the
engine exactly like a user's video. Portrait and landscape, 10 s to 3 min.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from robin_studio.outputs import partial_name

import numpy as np


@dataclass
class EvalClip:
    name: str
    path: Path
    duration_s: float
    cuts_s: list[float]
    width: int
    height: int
    fps: float
    source: str = "generated"          # "generated" or "fixture"
    extra: dict = field(default_factory=dict)

    @property
    def orientation(self) -> str:
        return "portrait" if self.height > self.width else "landscape"


@dataclass(frozen=True)
class CutPattern:
    name: str
    duration_s: float
    width: int
    height: int
    shot_lengths_s: tuple[float, ...]   # repeated until the duration is filled
    fps: int = 24


# Shot-length patterns an editor actually uses: even cuts, a montage speeding up, long takes
# with a quick burst, irregular cuts (no tempo fits them all).
PATTERNS: dict[str, CutPattern] = {p.name: p for p in (
    CutPattern("even-10s-landscape", 10.0, 320, 180, (2.5,)),
    CutPattern("irregular-20s-portrait", 20.0, 180, 320, (1.7, 3.1, 2.3, 4.4, 1.2, 2.9)),
    CutPattern("montage-30s-landscape", 30.0, 320, 180, (4.0, 3.0, 2.0, 1.5, 1.0, 4.5)),
    CutPattern("even-60s-portrait", 60.0, 180, 320, (3.75,)),
    CutPattern("long-takes-60s-landscape", 60.0, 320, 180, (9.0, 1.1, 1.3, 12.0, 6.5)),
    CutPattern("irregular-180s-landscape", 180.0, 320, 180, (5.3, 2.7, 7.9, 3.6, 4.4, 6.1, 2.2)),
    CutPattern("montage-180s-portrait", 180.0, 180, 320, (6.0, 4.0, 3.0, 2.0, 8.0, 5.0)),
)}

QUICK_PATTERNS = ("even-10s-landscape", "irregular-20s-portrait")
# The full suite: 10 s to 3 min, both orientations, sized to run in well under an hour on two
# cores; the other patterns stay available to `write_clip`.
FULL_PATTERNS = ("even-10s-landscape", "irregular-20s-portrait", "montage-30s-landscape",
                 "even-60s-portrait", "long-takes-60s-landscape", "irregular-180s-landscape")


def cut_times(pattern: CutPattern) -> list[float]:
    """Cut times on frame boundaries (a cut is the first frame of the new shot)."""
    cuts: list[float] = []
    t, i = 0.0, 0
    while True:
        t += pattern.shot_lengths_s[i % len(pattern.shot_lengths_s)]
        i += 1
        if t >= pattern.duration_s - 0.5:
            break
        cuts.append(round(t * pattern.fps) / pattern.fps)
    return cuts


def _shot_frame(shot: int, k: int, w: int, h: int, rng_seed: int) -> np.ndarray:
    rng = np.random.default_rng(rng_seed + shot)
    bg = rng.integers(20, 200, size=3)
    fg = 255 - bg
    img = np.empty((h, w, 3), np.uint8)
    img[:] = bg
    # a gentle gradient so frames are not flat (the shot detector and flow need texture)
    img[:, :, 0] = np.clip(bg[0] + np.linspace(-20, 20, w)[None, :], 0, 255).astype(np.uint8)
    speed = float(rng.uniform(0.5, 4.0))         # px per frame: each shot moves differently
    size = int(min(w, h) * rng.uniform(0.2, 0.35))
    x = int((k * speed + rng.integers(0, w)) % max(1, w - size))
    y = int((h - size) * (0.5 + 0.4 * np.sin(k * speed / 40.0)))
    img[y:y + size, x:x + size] = fg
    return img


def write_clip(pattern: CutPattern, out_dir: Path, seed: int = 0) -> EvalClip:
    """Write the pattern as an H.264 MP4 (cached: an existing file is reused)."""
    import av

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{pattern.name}.mp4"
    cuts = cut_times(pattern)
    if not path.exists():
        # a name of this process's own: two eval processes on one workdir may write the
        # same clip at once, and the second must not rename the first one's file away
        tmp = partial_name(path, "clip")
        n_frames = int(round(pattern.duration_s * pattern.fps))
        cut_frames = [int(round(c * pattern.fps)) for c in cuts]
        with av.open(str(tmp), "w") as out:
            stream = out.add_stream("libx264", rate=pattern.fps)
            stream.width, stream.height, stream.pix_fmt = pattern.width, pattern.height, "yuv420p"
            stream.options = {"preset": "ultrafast", "crf": "18"}
            shot, start = 0, 0
            for f in range(n_frames):
                if shot < len(cut_frames) and f >= cut_frames[shot]:
                    shot, start = shot + 1, f
                frame = av.VideoFrame.from_ndarray(
                    _shot_frame(shot, f - start, pattern.width, pattern.height, seed), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        tmp.replace(path)
    return EvalClip(pattern.name, path, pattern.duration_s, cuts, pattern.width, pattern.height,
                    float(pattern.fps))


def suite_clips(out_dir: Path, quick: bool) -> list[EvalClip]:
    """The clips of the suite: the media fixture (real footage spliced at known frames) when the
    fixture builder is in this checkout, and generated cut patterns. The quick suite uses the
    fixture in place of the 10 s generated clip."""
    fixture = fixture_clips(out_dir)
    names = QUICK_PATTERNS if quick else FULL_PATTERNS
    if quick and fixture:
        names = names[1:]
    return fixture + [write_clip(PATTERNS[n], out_dir) for n in names]


def fixture_clips(out_dir: Path) -> list[EvalClip]:
    """Big Buck Bunny, a screen recording and patterns spliced by hard cuts at known frames,
    from the media engineer's fixture builder (tests/fixtures/build.py `build_spliced`), when
    it is present in this checkout (it is not part of an installed package)."""
    from robin_studio.paths import project_root

    builder = project_root() / "tests" / "fixtures" / "build.py"
    if not builder.exists():
        return []
    import importlib.util

    spec = importlib.util.spec_from_file_location("robin_fixture_build", builder)
    if spec is None or spec.loader is None:
        return []
    import sys

    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # its dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
        folder = out_dir / "fixtures"
        folder.mkdir(parents=True, exist_ok=True)
        truth = module.build_spliced(folder)
    except Exception:   # a builder that changed shape must not take the evaluation down
        return []
    cuts = [f / truth.fps for f in truth.hard_cuts]
    return [EvalClip(f"fixture-spliced-{truth.duration_s:.0f}s-landscape", Path(truth.path), truth.duration_s, cuts,
                     320, 180, float(truth.fps), "fixture",
                     {"gradual": list(truth.gradual)})]
