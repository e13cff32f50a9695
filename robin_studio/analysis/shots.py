"""Shots and transitions: hard cuts by PySceneDetect's adaptive rule, fades and dissolves from
a blending test.

`TransitionTracker` is fed the decoded frames' copies a batch at a time (it never decodes by
itself). Hard cuts follow PySceneDetect's `AdaptiveDetector` (v0.6-0.7): a frame's content
change is the mean absolute change of hue, saturation and value from the frame before; a
frame is a cut when that change is at least `ADAPTIVE_THRESHOLD` times the mean change of
the two frames either side (so fast camera moves, which change every frame, are not cuts),
at least `MIN_CONTENT_VAL`, and at least the shortest shot after the previous cut. The rule
is computed here on whole batches with numpy: PySceneDetect runs it frame by frame in Python
(about half a millisecond a frame, as much as decoding a 640x360 frame) and its import
costs another half second. `tests/test_analysis.py` checks that both find the same frames.
PySceneDetect has no dissolve detector,
so gradual transitions are found here on tiny copies of the frames: over a fade or dissolve
the picture moves in a straight line from the old shot to the new one (each frame is a blend
of the two), which camera moves and action do not do. A stretch where the picture changes a
lot, steadily, along a straight path with no hard cut inside, and ends with other colours
than it started with, is a gradual transition; it is a fade when one end is black. (A
dissolve between two shots of the same colours is therefore not found.)

Strength is how different the pictures either side are (0 = same look, 1 = nothing alike).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from robin_studio.analysis.copies import BatchCopies
from robin_studio.analysis.types import Shot, Transition

MIN_SHOT_S = 0.25                 # two hard cuts closer than this are one flash, not two shots
# Gradual transitions: window lengths searched, in seconds.
GRADUAL_WINDOWS_S = (0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)
GRADUAL_MIN_CHANGE = 0.11         # mean |difference| (0..1) between the two ends of the window
GRADUAL_MIN_STRAIGHTNESS = 0.7    # end-to-end change / sum of frame-to-frame changes
GRADUAL_MAX_STEP_SHARE = 0.35     # no single frame step may carry more than this of the change
GRADUAL_MAX_BLEND_RESIDUAL = 0.2  # how far middle frames may stray from a blend of the ends
# Share of the colour histogram that must change between the ends. At tiny sizes a sliding
# pattern also looks like a blend, but it keeps its colours; a new shot does not.
GRADUAL_MIN_COLOUR_CHANGE = 0.3
BLACK_LUMA = 0.08                 # an end darker than this makes the transition a fade
# PySceneDetect's AdaptiveDetector defaults: ratio to the neighbours' mean, window either side,
# and the smallest content change that can be a cut.
ADAPTIVE_THRESHOLD = 3.0
ADAPTIVE_WINDOW = 2
MIN_CONTENT_VAL = 15.0


def strength_between(a: np.ndarray, b: np.ndarray) -> float:
    """0..1 difference between two tiny float frames (colour and layout)."""
    diff = float(np.mean(np.abs(a - b)))
    return float(np.clip(diff / 0.3, 0.0, 1.0))


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """Share of pixels in each of 4x4x4 RGB bins."""
    q = (rgb >> 6).reshape(-1, 3).astype(np.int32)
    counts = np.bincount(q[:, 0] * 16 + q[:, 1] * 4 + q[:, 2], minlength=64)
    return (counts / max(1, q.shape[0])).astype(np.float32)


def colour_histograms(frames: np.ndarray) -> np.ndarray:
    """`colour_histogram` of each of a batch of RGB frames (B, h, w, 3), as (B, 64)."""
    b = len(frames)
    q = (frames >> 6).reshape(b, -1, 3)
    bins = (q[..., 0].astype(np.int32) * 16 + q[..., 1] * 4 + q[..., 2]
            + (np.arange(b, dtype=np.int32) * 64)[:, None])
    counts = np.bincount(bins.ravel(), minlength=64 * b).reshape(b, 64)
    return (counts / max(1, q.shape[1])).astype(np.float32)


def histogram_change(a: np.ndarray, b: np.ndarray) -> float:
    """0 (same colours) .. 1 (no colour in common)."""
    return 0.5 * float(np.abs(a - b).sum())


@dataclass
class _Gradual:
    start: int
    end: int      # last frame of the transition (the first frame fully in the new shot)
    kind: str
    strength: float


def content_changes(hsv: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """PySceneDetect's content value of each frame of a batch of HSV frames (B, h, w, 3): the
    mean over H, S and V of the mean absolute change from the frame before (0 for the very
    first frame), computed in the same order, so the values are the same to the last bit."""
    b, h, w = hsv.shape[:3]
    n_pixels = h * w
    # |difference| in one OpenCV call for the batch (and one for the frame before it, kept
    # apart so the batch is not copied), then exact integer sums per frame (sumElems sums
    # in double: exact for these integers)
    sums = []
    if previous is not None:
        sums.append(cv2.sumElems(cv2.absdiff(hsv[0], previous))[:3])
    if b > 1:
        diff = cv2.absdiff(hsv[1:].reshape((b - 1) * h, w, 3), hsv[:-1].reshape((b - 1) * h, w, 3))
        sums += [cv2.sumElems(diff[k * h:(k + 1) * h])[:3] for k in range(b - 1)]
    comp = np.array(sums, dtype=np.float64).reshape(len(sums), 3) / n_pixels   # hue, sat., value
    values = ((comp[:, 0] + comp[:, 1]) + comp[:, 2]) / 3.0
    return values if previous is not None else np.concatenate([[0.0], values])


class AdaptiveCuts:
    """PySceneDetect's AdaptiveDetector decision rule over content values fed in any batches;
    `cuts` holds the cut frames found so far (a frame is decided once the `ADAPTIVE_WINDOW`
    frames after it are in)."""

    def __init__(self, min_scene_len: int) -> None:
        self.min_scene_len = int(min_scene_len)
        self.cuts: list[int] = []
        # The values not yet decided on and the window before them (the rest is dropped, so
        # an hour of video is not copied again with every batch); _first: frame of _tail[0].
        self._tail = np.zeros(0)
        self._first = 0
        self._next = ADAPTIVE_WINDOW          # next frame to decide
        self._last_cut = 0                    # the detector starts counting at the first frame

    def add(self, values: np.ndarray) -> list[int]:
        """Feed the next frames' content values; returns the cuts decided by them."""
        v = self._tail = np.concatenate([self._tail, np.asarray(values, np.float64)])
        w = ADAPTIVE_WINDOW
        last = self._first + len(v) - 1 - w   # last frame with its whole window in
        if last < self._next:
            return []
        t = np.arange(self._next, last + 1)
        i = t - self._first                   # their places in _tail
        target = v[i]
        # sum of the neighbours in PySceneDetect's order (before, then after the frame)
        neighbours = np.zeros(len(t))
        for k in list(range(-w, 0)) + list(range(1, w + 1)):
            neighbours = neighbours + v[i + k]
        average = neighbours / (2.0 * w)
        zero = np.abs(average) < 0.00001
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(zero, np.where(target >= MIN_CONTENT_VAL, 255.0, 0.0),
                             np.minimum(target / np.where(zero, 1.0, average), 255.0))
        met = (ratio >= ADAPTIVE_THRESHOLD) & (target >= MIN_CONTENT_VAL)
        found = []
        for f in t[met]:
            if f - self._last_cut >= self.min_scene_len:
                self._last_cut = int(f)
                found.append(int(f))
        self._next = last + 1
        keep_from = self._next - w            # the next frame's window starts here
        self._tail = v[keep_from - self._first:].copy()
        self._first = keep_from
        self.cuts += found
        return found


class FrameRows:
    """One row of numbers per frame, kept in one array made for the expected number of frames
    (pages never written take no memory, so a generous guess costs nothing) and grown by half
    when a clip has more. The whole is then a view: joining an hour's batches at the end
    used to copy its 185 MB of tiny frames while the batches were still held."""

    def __init__(self, expected_frames: int = 0) -> None:
        self._expected = max(64, int(expected_frames * 1.1) + 64)
        self._data: np.ndarray | None = None
        self._n = 0

    def extend(self, rows: np.ndarray) -> None:
        rows = rows.reshape(len(rows), -1)
        if self._data is None:
            self._data = np.empty((self._expected, rows.shape[1]), rows.dtype)
        end = self._n + len(rows)
        if end > len(self._data):
            grown = np.empty((max(end, len(self._data) * 3 // 2), rows.shape[1]), rows.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n: end] = rows
        self._n = end

    def array(self) -> np.ndarray:
        """(frames, numbers per frame), a view of the store."""
        return self._data[: self._n] if self._data is not None else np.zeros((0, 0), np.uint8)


class TransitionTracker:
    """Collects what transition detection needs from each frame, then finds transitions."""

    def __init__(self, fps: float, expected_frames: int = 0) -> None:
        self.fps = float(fps) if fps > 0 else 25.0
        min_len = max(1, int(round(MIN_SHOT_S * self.fps)))
        self._detector = AdaptiveCuts(min_len)
        self._tiny = FrameRows(expected_frames)      # uint8 32x18 RGB (1.7 kB a frame)
        self._hist = FrameRows(expected_frames)      # colour histograms (64 float32)
        self._last_hsv: np.ndarray | None = None
        self._count = 0

    @property
    def cut_frames(self) -> list[int]:
        """Hard cuts decided so far (frames), in order."""
        return self._detector.cuts

    def add_batch(self, copies: BatchCopies) -> list[int]:
        """Feed the next frames' copies; returns the hard cuts they decided."""
        if not len(copies.half_hsv):
            return []
        values = content_changes(copies.half_hsv, self._last_hsv)
        self._last_hsv = copies.half_hsv[-1].copy()
        # Kept as uint8 (1.7 kB a frame): an hour of video fits.
        self._tiny.extend(copies.tiny_rgb)
        self._hist.extend(colour_histograms(copies.small_rgb))
        self._count += len(values)
        return self._detector.add(values)

    def finish(self, times_s: np.ndarray) -> list[Transition]:
        """All transitions, in time order. `times_s[i]` is frame i's presentation time."""
        n = self._count
        if n < 2:
            return []
        # Kept as uint8 (1.7 kB a frame) and widened chunk by chunk: an hour of video fits.
        flat = self._tiny.array()
        cuts = sorted({c for c in self._detector.cuts if 0 < c < n})
        transitions: list[Transition] = []
        for c in cuts:
            before = _as_float(flat[max(0, c - 2): c]).mean(axis=0)
            after = _as_float(flat[c: min(n, c + 2)]).mean(axis=0)
            transitions.append(Transition(kind="cut", start_s=float(times_s[c]),
                                          end_s=float(times_s[c]), frame=c,
                                          strength=strength_between(before, after)))
        gradual = find_gradual(flat, self._hist.array(), self.fps, cuts)
        # A hard cut detected inside a fade or dissolve is that transition seen by PySceneDetect.
        inside = lambda c: any(g.start < c <= g.end for g in gradual)  # noqa: E731
        transitions = [t for t in transitions if not inside(t.frame)]
        for g in gradual:
            mid = (g.start + g.end) // 2
            transitions.append(Transition(kind=g.kind, start_s=float(times_s[g.start]),
                                          end_s=float(times_s[g.end]), frame=mid,
                                          strength=g.strength))
        transitions.sort(key=lambda t: t.start_s)
        return transitions


_CHUNK = 4096


def _as_float(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float32) / 255.0


def _mean_abs_diff(flat: np.ndarray, lag: int) -> np.ndarray:
    """Mean |frame k+lag - frame k| (0..1) for every k, a chunk at a time. The frames are
    compared as row slices (no gathered copies) with OpenCV's exact uint8 |difference| and
    integer row sums: the same values as numpy's int16 mean, at a fraction of the memory."""
    n, width = flat.shape
    out = np.empty(max(0, n - lag), dtype=np.float32)
    for k in range(0, n - lag, _CHUNK):
        stop = min(n - lag, k + _CHUNK)
        diff = cv2.absdiff(flat[k + lag: stop + lag], flat[k: stop])
        sums = cv2.reduce(diff, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S)[:, 0]
        out[k: stop] = sums / width / 255.0
    return out


def find_gradual(flat: np.ndarray, hist: np.ndarray, fps: float,
                 cut_frames: list[int]) -> list[_Gradual]:
    """Fades and dissolves, from tiny uint8 frames flattened to (n, pixels*3) and colour
    histograms (n, 64)."""
    n = flat.shape[0]
    step = np.zeros(n, dtype=np.float32)
    step[1:] = _mean_abs_diff(flat, 1)
    cum = np.cumsum(step, dtype=np.float64)
    cut_mask = np.zeros(n + 1, dtype=np.int32)
    for c in cut_frames:
        cut_mask[c] = 1
    cut_cum = np.cumsum(cut_mask)

    candidates: list[tuple[float, int, int]] = []  # (score, start, end)
    for window_s in GRADUAL_WINDOWS_S:
        L = int(round(window_s * fps))
        if L < 3 or L >= n:
            continue
        ends = np.arange(L, n)
        starts = ends - L
        change = _mean_abs_diff(flat, L)            # frame starts[k] to ends[k]
        path = cum[ends] - cum[starts]
        biggest = np.lib.stride_tricks.sliding_window_view(step[1:], L).max(axis=1)
        straight = change / np.maximum(path, 1e-6)
        # A hard cut at any step inside the window (frames starts+1..ends) rules it out.
        has_cut = (cut_cum[ends] - cut_cum[starts]) > 0
        ok = ((change > GRADUAL_MIN_CHANGE) & (straight > GRADUAL_MIN_STRAIGHTNESS)
              & (biggest[: len(ends)] < GRADUAL_MAX_STEP_SHARE * change) & ~has_cut)
        for e in np.flatnonzero(ok):
            candidates.append((float(change[e] * straight[e]), int(starts[e]), int(ends[e])))

    # Best window first (largest straight change, then shortest); each accepted transition
    # removes the windows that overlap it, so a fade out and the fade in after it stay two.
    candidates.sort(key=lambda c: (-round(c[0], 3), c[2] - c[1]))
    found: list[_Gradual] = []
    taken = np.zeros(n, dtype=bool)
    for _, s, e in candidates:
        if taken[s: e + 1].any():
            continue
        g = _refine(flat, hist, s, e, fps)
        if g is None or taken[g.start: g.end + 1].any():
            continue
        found.append(g)
        taken[g.start: g.end + 1] = True
    found.sort(key=lambda g: g.start)
    return _join_fades(found, flat, fps)


def _refine(flat_u8, hist, s, e, fps) -> _Gradual | None:
    """Trim a window to where the blend happens and check that it is a blend.

    `alpha` is how far each frame has gone from the window's first frame to its last. The
    blend runs from the last frame still under 10 % of the way to the first frame past 90 %,
    stretched by an eighth of that on each side to reach 0 and 100 %.
    """
    flat = _as_float(flat_u8[s: e + 1])
    a, b = flat[0], flat[-1]
    direction = b - a
    norm = float(direction @ direction)
    if norm <= 1e-9:
        return None
    alpha = ((flat - a) @ direction) / norm
    low = np.flatnonzero(alpha <= 0.1)
    first = int(low[-1]) if low.size else 0
    high = np.flatnonzero(alpha[first:] >= 0.9)
    last = first + (int(high[0]) if high.size else e - s)
    pad = int(round(0.125 * (last - first)))
    i0, i1 = max(0, first - pad), min(e - s, last + pad)
    if (i1 - i0) / fps < 0.2:
        return None
    a, b = flat[i0], flat[i1]
    change = float(np.abs(b - a).mean())
    if change <= GRADUAL_MIN_CHANGE:
        return None
    span = flat[i0: i1 + 1]
    alpha = np.clip(((span - a) @ (b - a)) / float((b - a) @ (b - a)), 0, 1)
    blend = a[None, :] + alpha[:, None] * (b - a)[None, :]
    residual = float(np.abs(span - blend).mean()) / change
    start, end = s + i0, s + i1
    colours = histogram_change(hist[start], hist[end])
    if residual > GRADUAL_MAX_BLEND_RESIDUAL or colours < GRADUAL_MIN_COLOUR_CHANGE:
        return None
    kind = "fade" if min(float(a.mean()), float(b.mean())) < BLACK_LUMA else "dissolve"
    return _Gradual(start=start, end=end, kind=kind, strength=strength_between(a, b))


def _join_fades(found: list[_Gradual], flat_u8: np.ndarray, fps: float) -> list[_Gradual]:
    """A fade to black and the fade up that follows within a second are one transition."""
    luma = lambda i: float(flat_u8[i].mean()) / 255.0  # noqa: E731
    out: list[_Gradual] = []
    for g in found:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == "fade" and g.kind == "fade"
                and (g.start - prev.end) / fps <= 1.0
                and luma(prev.end) < BLACK_LUMA and luma(g.start) < BLACK_LUMA):
            strength = strength_between(_as_float(flat_u8[prev.start]), _as_float(flat_u8[g.end]))
            out[-1] = _Gradual(prev.start, g.end, "fade", strength)
        else:
            out.append(g)
    return out


def shots_from_transitions(transitions: list[Transition], duration_s: float) -> list[Shot]:
    """Shots between transitions; a gradual transition's middle is the boundary."""
    bounds = [0.0] + [t.time_s for t in transitions if 0.0 < t.time_s < duration_s] + [duration_s]
    shots = []
    for i, (start, end) in enumerate(zip(bounds[:-1], bounds[1:])):
        shots.append(Shot(index=i, start_s=start, end_s=end))
    return shots
