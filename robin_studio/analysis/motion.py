"""Motion energy and visual beats.

Motion is the mean absolute change of a quarter-size grey copy of each frame from the previous one,
expressed per 1/30 s so clips at 24, 30 or 60 fps read alike, and mapped to 0..1 with a soft
ceiling (so a calm clip stays calm rather than being stretched to fill the range). Frame
steps across a hard cut are not motion and are replaced by the step before.

Visual beats follow Diff-V2M: peaks in the rise of motion (the positive derivative of the
smoothed per-frame motion), at least a quarter second apart, that stand out from the clip's
own level (or reach half its largest rise), away from transitions (those are marked as cuts
already).
"""

from __future__ import annotations

import numpy as np

MOTION_SCALE = 0.035        # a mean step of this much (0..1 luma per 1/30 s) reads as 0.63
BEAT_MIN_GAP_S = 0.25
BEAT_CLEAR_OF_TRANSITION_S = 0.15
BEAT_VALLEY_S = 0.5          # prominence is measured against the lowest point this far around
BEAT_MAX_SHARE = 0.5         # a rise this share of the clip's largest is high enough to count


# Peak picking and smoothing are a few lines of numpy: importing scipy.signal/ndimage for
# them would cost more CPU than analysing a short clip.
def smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing with mirrored edges."""
    radius = max(1, int(round(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    padded = np.pad(x, radius, mode="reflect" if x.size > radius else "edge")
    return np.convolve(padded, k / k.sum(), mode="valid")


def find_peaks(x: np.ndarray, height: float, distance: int, prominence: float,
               valley: int) -> list[int]:
    """Local maxima at least `height` high and `prominence` above the lower of the two
    lowest points within `valley` samples either side; the highest wins within `distance`."""
    if x.size < 3:
        return []
    inner = x[1:-1]
    cand = np.flatnonzero((inner > x[:-2]) & (inner >= x[2:]) & (inner >= height)) + 1
    keep: list[int] = []
    blocked = np.zeros(x.size, dtype=bool)
    for i in cand[np.argsort(-x[cand], kind="stable")]:
        if blocked[i]:
            continue
        left = x[max(0, i - valley): i].min(initial=x[i])
        right = x[i + 1: i + 1 + valley].min(initial=x[i])
        if x[i] - max(left, right) < prominence:
            continue
        keep.append(int(i))
        blocked[max(0, i - distance + 1): i + distance] = True
    return sorted(keep)


class MotionTracker:
    """Per-frame motion from the frames of the single decoding pass."""

    def __init__(self, fps: float) -> None:
        self.fps = float(fps) if fps > 0 else 25.0
        self._prev: np.ndarray | None = None
        self._steps: list[np.ndarray] = []

    def add_batch(self, small_grey: np.ndarray) -> None:
        """`small_grey`: the quarter-size luma copies (B, h, w) of the next frames (see
        `copies.py`)."""
        if not len(small_grey):
            return
        grey = small_grey.astype(np.int16)
        stack = grey if self._prev is None else np.concatenate([self._prev[None], grey])
        steps = np.abs(stack[1:] - stack[:-1]).reshape(len(stack) - 1, -1).mean(axis=1) / 255.0
        if self._prev is None:
            steps = np.concatenate([[0.0], steps])
        self._steps.append(steps)
        self._prev = grey[-1]

    def per_frame(self, cut_frames: list[int]) -> np.ndarray:
        """0..1 motion per frame, with steps across hard cuts replaced by their neighbour."""
        steps = np.concatenate(self._steps) if self._steps else np.zeros(0)
        for c in cut_frames:
            if 0 < c < len(steps):
                steps[c] = steps[c - 1] if c > 1 else (steps[c + 1] if c + 1 < len(steps) else 0.0)
        if len(steps) > 1:
            steps[0] = steps[1]
        per_30th = steps * (self.fps / 30.0)
        return 1.0 - np.exp(-per_30th / MOTION_SCALE)


def resample(per_frame: np.ndarray, times_s: np.ndarray, duration_s: float, hz: float) -> list[float]:
    """Mean of per-frame values in each 1/hz-second bin (bins with no frame repeat the last)."""
    n_bins = max(1, int(np.ceil(duration_s * hz - 1e-9)))
    if per_frame.size == 0:
        return [0.0] * n_bins
    idx = np.clip((times_s * hz).astype(np.int64), 0, n_bins - 1)
    sums = np.bincount(idx, weights=per_frame, minlength=n_bins)
    counts = np.bincount(idx, minlength=n_bins)
    out = np.empty(n_bins)
    last = float(per_frame[0])
    for i in range(n_bins):
        if counts[i]:
            last = sums[i] / counts[i]
        out[i] = last
    return [round(float(v), 4) for v in out]


def visual_beats(per_frame: np.ndarray, times_s: np.ndarray, fps: float,
                 transition_spans_s: list[tuple[float, float]]) -> list[float]:
    """Times (s) of visual beats: clear peaks in the rise of motion."""
    if per_frame.size < 5:
        return []
    smoothed = smooth(per_frame, sigma=max(1.0, fps / 15.0))
    rise = np.maximum(np.diff(smoothed, prepend=smoothed[0]), 0.0) * fps  # per second
    if not np.any(rise > 0):
        return []
    level = float(np.median(rise[rise > 0]))
    spread = float(np.median(np.abs(rise[rise > 0] - level))) + 1e-9
    # In a mostly still clip the few bursts of motion are most of the rises, so their own
    # level would hide them: a rise of at least half the clip's largest always stands out.
    height = max(min(level + 3.0 * spread, BEAT_MAX_SHARE * float(rise.max())), 0.15)
    peaks = find_peaks(rise, height=height,
                       distance=max(1, int(round(BEAT_MIN_GAP_S * fps))),
                       prominence=max(2.0 * spread, 0.1),
                       valley=max(1, int(round(BEAT_VALLEY_S * fps))))
    beats = []
    for p in peaks:
        t = float(times_s[p])
        if any(a - BEAT_CLEAR_OF_TRANSITION_S <= t <= b + BEAT_CLEAR_OF_TRANSITION_S
               for a, b in transition_spans_s):
            continue
        beats.append(round(t, 4))
    return beats
