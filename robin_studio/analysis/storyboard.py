"""The storyboard: shots merged into sections a musician would score as one stretch.

Start with one section per shot. Sections shorter than `MIN_SECTION_S` are merged into the
neighbour they resemble most (look, motion and image content), across the weaker boundary
(fades are the last to go), until none is left, except an isolated short shot between two
strong hard cuts (a title card, a flash of something else), which keeps its own section.
A run of short shots (a montage) thus becomes one section. Then neighbours that look alike
are joined while the result stays under `MAX_SECTION_S`, never across a fade. Each section
gets a short description from its affect words and its most confident image labels.
"""

from __future__ import annotations

import bisect
from functools import cached_property

import numpy as np

from robin_studio.analysis.affect import affect_words
from robin_studio.analysis.types import Section, Shot, Transition

MIN_SECTION_S = 2.0
MIN_ISOLATED_S = 1.0       # a short section between strong hard cuts may be this short
STRONG_CUT = 0.7
MAX_SECTION_S = 16.0
ALIKE_DISTANCE = 0.12      # sections closer than this are one stretch of music
FADE_BOUNDARY = 0.3        # extra reluctance to merge across a fade (look-alikes never do)


class _Group:
    """Consecutive shots; a merge makes a new group, so each group's look and image content
    are worked out once (an hour of video has about a thousand shots, and the merging asks
    for them again and again)."""

    def __init__(self, shots: list[Shot]) -> None:
        self.shots = shots

    @property
    def start_s(self) -> float:
        return self.shots[0].start_s

    @property
    def end_s(self) -> float:
        return self.shots[-1].end_s

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @cached_property
    def vector(self) -> np.ndarray:
        w = np.array([max(s.duration_s, 1e-3) for s in self.shots])
        rows = np.array([[s.brightness, s.saturation, 0.5 * (s.colour_temperature + 1), s.motion]
                         for s in self.shots])
        return (rows * w[:, None]).sum(0) / w.sum()

    @cached_property
    def features(self) -> np.ndarray | None:
        feats = [np.asarray(s.features, dtype=np.float64) for s in self.shots if s.features]
        if not feats:
            return None
        f = np.mean(feats, axis=0)
        return f / (np.linalg.norm(f) + 1e-9)


class _Distances:
    """`_distance` of pairs of groups, each pair worked out once."""

    def __init__(self) -> None:
        self._known: dict[tuple[_Group, _Group], float] = {}

    def __call__(self, a: _Group, b: _Group) -> float:
        d = self._known.get((a, b))
        if d is None:
            d = self._known[(a, b)] = _distance(a, b)
        return d


def _distance(a: _Group, b: _Group) -> float:
    d = float(np.abs(a.vector - b.vector).mean())
    fa, fb = a.features, b.features
    if fa is not None and fb is not None and fa.shape == fb.shape:
        d = 0.5 * d + 0.5 * 0.5 * (1.0 - float(fa @ fb))
    return d


class _Boundaries:
    """(kind, strength) of the transition at a time (the last one listed within 1 ms), or
    ("", 0.0): found by bisection, since the merging asks about every boundary again and
    again."""

    def __init__(self, transitions: list[Transition]) -> None:
        order = sorted(range(len(transitions)), key=lambda k: transitions[k].time_s)
        self._times = [transitions[k].time_s for k in order]
        self._items = [(k, transitions[k].kind, transitions[k].strength) for k in order]

    def __call__(self, time_s: float) -> tuple[str, float]:
        lo = bisect.bisect_right(self._times, time_s - 1e-3)
        hi = bisect.bisect_left(self._times, time_s + 1e-3)
        near = [item for t, item in zip(self._times[lo:hi], self._items[lo:hi])
                if abs(t - time_s) < 1e-3]
        if not near:
            return ("", 0.0)
        _, kind, strength = max(near)
        return (kind, strength)


def build_sections(shots: list[Shot], transitions: list[Transition]) -> list[Section]:
    if not shots:
        return []
    groups = [_Group([s]) for s in shots]
    distance = _Distances()
    boundary_at = _Boundaries(transitions)

    def isolated_ok(i: int) -> bool:
        g = groups[i]
        if g.duration_s < MIN_ISOLATED_S or i == 0 or i == len(groups) - 1:
            return False
        left = boundary_at(g.start_s)
        right = boundary_at(g.end_s)
        return (left[0] == right[0] == "cut" and min(left[1], right[1]) >= STRONG_CUT
                and groups[i - 1].duration_s >= MIN_SECTION_S
                and groups[i + 1].duration_s >= MIN_SECTION_S)

    while len(groups) > 1:
        short = [i for i, g in enumerate(groups) if g.duration_s < MIN_SECTION_S and not isolated_ok(i)]
        if not short:
            break
        i = min(short, key=lambda k: groups[k].duration_s)
        options = []
        for j in (i - 1, i + 1):
            if 0 <= j < len(groups):
                boundary = groups[i].start_s if j < i else groups[i].end_s
                kind, strength = boundary_at(boundary)
                # Merge across the weaker boundary; a fade is where a piece breathes.
                penalty = 0.2 * strength + (FADE_BOUNDARY if kind == "fade" else 0.0)
                options.append((distance(groups[i], groups[j]) + penalty, j))
        _, j = min(options)
        lo, hi = min(i, j), max(i, j)
        groups[lo: hi + 1] = [_Group(groups[lo].shots + groups[hi].shots)]

    # Join look-alike neighbours, most alike first.
    while len(groups) > 1:
        pairs = [(distance(groups[k], groups[k + 1]), k) for k in range(len(groups) - 1)
                 if groups[k].duration_s + groups[k + 1].duration_s <= MAX_SECTION_S
                 and boundary_at(groups[k].end_s)[0] != "fade"]
        if not pairs:
            break
        d, k = min(pairs)
        if d >= ALIKE_DISTANCE:
            break
        groups[k: k + 2] = [_Group(groups[k].shots + groups[k + 1].shots)]

    return [Section(index=n, start_s=g.start_s, duration_s=g.duration_s,
                    shot_indices=[s.index for s in g.shots], description=describe(g.shots))
            for n, g in enumerate(groups)]


def describe(shots: list[Shot]) -> str:
    """'bright, warm, calm: meadow, rabbit' from the shots' look and labels."""
    w = np.array([max(s.duration_s, 1e-3) for s in shots])
    mean = lambda attr: float(np.dot([getattr(s, attr) for s in shots], w) / w.sum())  # noqa: E731
    words = affect_words(mean("brightness"), mean("saturation"), mean("colour_temperature"),
                         mean("motion"))
    scores: dict[str, float] = {}
    for s, weight in zip(shots, w):
        for label, p in s.labels:
            scores[label] = scores.get(label, 0.0) + p * weight
    labels = [k for k, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:2]]
    text = ", ".join(words)
    if labels:
        text = f"{text}: {', '.join(labels)}" if text else ", ".join(labels)
    return text
