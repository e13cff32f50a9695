"""Long synthetic H.264 test videos with hard cuts at known frames, for the speed and memory
benchmarks (10 and 60 minutes, 640x360 to 1080p).

Frames are written straight as YUV 4:2:0 planes (no RGB conversion per frame), so a long clip
costs little more than x264's own encoding: each shot has its own colours, a diagonal
gradient, a textured block that moves at the shot's own speed and a little grain that moves
with it, so the decoder, the cut detector and the motion tracker all have something to work on.
Clips are cached by their parameters under the user cache folder and never committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

# Shot lengths an editor uses (seconds), repeated: from a 1.2 s burst to a 7 s take.
SHOT_PATTERN_S = (3.1, 4.4, 2.2, 6.0, 1.6, 5.3, 1.2, 7.0, 2.8, 3.7)


@dataclass(frozen=True)
class LongClip:
    path: Path
    duration_s: float
    width: int
    height: int
    fps: int
    cut_frames: tuple[int, ...]     # first frame of each new shot


def cut_frames(duration_s: float, fps: int, pattern_s=SHOT_PATTERN_S) -> list[int]:
    n = int(round(duration_s * fps))
    out, t, i = [], 0.0, 0
    while True:
        t += pattern_s[i % len(pattern_s)]
        i += 1
        f = int(round(t * fps))
        if f >= n - fps // 2:
            return out
        out.append(f)


def _shot_planes(shot: int, w: int, h: int):
    """(Y, U, V) background planes and the block's texture for one shot."""
    rng = np.random.default_rng(1000 + shot)
    y0, u0, v0 = (int(x) for x in rng.integers(40, 215, size=3))
    gy = np.linspace(-30, 30, w)[None, :] + np.linspace(-20, 20, h)[:, None]
    Y = np.clip(y0 + gy, 0, 255).astype(np.uint8)
    U = np.full((h // 2, w // 2), u0, np.uint8)
    V = np.full((h // 2, w // 2), v0, np.uint8)
    side = max(16, int(min(w, h) * rng.uniform(0.2, 0.35))) // 4 * 4
    yy, xx = np.mgrid[0:side, 0:side]
    block = (((xx // 8 + yy // 8) % 2) * 120 + 255 - y0 // 2).clip(0, 255).astype(np.uint8)
    speed = float(rng.uniform(1.0, 6.0))
    return Y, U, V, block, speed, int(rng.integers(0, 1 << 30))


def write_long_clip(path: Path, duration_s: float, width: int, height: int, fps: int = 30,
                    crf: int = 23, preset: str = "ultrafast") -> LongClip:
    """Write (or reuse) the clip at `path`; returns it with its cut frames."""
    import av

    cuts = cut_frames(duration_s, fps)
    clip = LongClip(Path(path), duration_s, width, height, fps, tuple(cuts))
    if clip.path.exists():
        return clip
    clip.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = clip.path.with_name(clip.path.stem + ".part.mp4")
    n = int(round(duration_s * fps))
    w, h = width, height
    grain = np.random.default_rng(7).integers(0, 6, size=(h + 64, w + 64), dtype=np.uint8)
    buf = np.empty((h * 3 // 2, w), np.uint8)
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf), "g": str(fps * 4)}
        bounds = [0, *cuts, n]
        for shot, (a, b) in enumerate(zip(bounds, bounds[1:])):
            Y, U, V, block, speed, seed = _shot_planes(shot, w, h)
            side = block.shape[0]
            buf[h + h // 4:, :] = V.reshape(-1, w)
            buf[h: h + h // 4, :] = U.reshape(-1, w)
            for k in range(b - a):
                buf[:h] = Y
                g = int(k * speed) % 64
                buf[:h] += grain[g: g + h, g: g + w]
                x = int((seed + k * speed) % max(1, w - side))
                y = int((h - side) * (0.5 + 0.4 * np.sin((seed % 97) + k * speed / 60.0)))
                buf[y: y + side, x: x + side] = block
                frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
                for packet in stream.encode(frame):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(clip.path)
    return clip


def cached_clip(duration_s: float, width: int, height: int, fps: int = 30) -> LongClip:
    from robin_studio.paths import cache_dir

    name = f"long-{int(duration_s)}s-{width}x{height}-{fps}fps.mp4"
    return write_long_clip(cache_dir() / "bench" / name, duration_s, width, height, fps)


if __name__ == "__main__":   # python -m robin_studio.bench.longclip SECONDS WIDTH HEIGHT
    import sys
    import time

    t = time.perf_counter()
    c = cached_clip(float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    print(c.path, len(c.cut_frames), "cuts", f"{time.perf_counter() - t:.1f} s")
