"""The bar grid on a tempo map: beat and bar-line times, and which cuts sit on them.

The app draws these lines on the timeline and the engine lays bars out with them. Every
time here comes from `TempoMap` (the one place seconds and beats are converted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from robin_studio.score.tempo_map import TempoMap

ON_BEAT_TOLERANCE_S = 0.010   # a cut within 10 ms of a beat reads as on it


def landing_tolerance_s(frame_s: float | None) -> float:
    """How far from a beat a cut still lands on it: 10 ms, or half a frame when the clip's
    frame is known (a cut time is a whole frame; it cannot be placed more finely)."""
    return max(ON_BEAT_TOLERANCE_S, 0.5 * frame_s) if frame_s and frame_s > 0 else ON_BEAT_TOLERANCE_S


@dataclass(frozen=True)
class GridLine:
    time_s: float
    beat: int              # whole beat from the start of the piece (beat 0 = first downbeat)
    bar_index: int
    is_downbeat: bool      # a bar line


@dataclass(frozen=True)
class CutAlignment:
    time_s: float
    beat: int              # nearest whole beat of the piece (clamped to the piece)
    residual_s: float      # cut time minus that beat's time: > 0 means the cut comes late
    on_beat: bool          # within the tolerance of that beat
    on_bar_line: bool      # ... and that beat starts a bar


def beat_times_s(tempo_map: TempoMap, *, include_end: bool = True) -> list[float]:
    """Times of beats 0..total_beats (the last one is the end of the piece)."""
    n = int(round(tempo_map.total_beats))
    return [tempo_map.seconds_at(b) for b in range(n + 1 if include_end else n)]


def bar_lines_s(tempo_map: TempoMap) -> list[float]:
    """Times of every bar line, from the first downbeat to the final bar line (the end)."""
    return [tempo_map.bar_start_s(i) for i in range(tempo_map.total_bars + 1)]


def downbeats_s(tempo_map: TempoMap) -> list[float]:
    """Start time of each bar (the final bar line, where nothing starts, is left out)."""
    return [tempo_map.bar_start_s(i) for i in range(tempo_map.total_bars)]


def bar_span_s(tempo_map: TempoMap, bar_index: int) -> tuple[float, float]:
    """(start, end) of a bar in seconds."""
    return tempo_map.bar_start_s(bar_index), tempo_map.bar_start_s(bar_index + 1)


def grid_lines(tempo_map: TempoMap, start_s: float | None = None,
               end_s: float | None = None) -> list[GridLine]:
    """Beat and bar lines between start_s and end_s (default: the whole piece), in order."""
    bpb = tempo_map.beats_per_bar
    total = int(round(tempo_map.total_beats))
    first = 0 if start_s is None else max(0, int(tempo_map.beat_at(start_s)) - 1)
    last = total if end_s is None else min(total, int(tempo_map.beat_at(end_s)) + 1)
    out = []
    for b in range(first, last + 1):
        bar = b // bpb
        if bar in tempo_map.short_bars:         # its own beats, not its grid's (`score.metre`)
            p = tempo_map.short_bars[bar]
            k = (b % bpb) * p / bpb
            ts = [tempo_map.music_seconds(bar, float(q)) for q in range(math.ceil(p))
                  if k - 1e-9 <= q < k + p / bpb - 1e-9]
        else:
            ts = [tempo_map.seconds_at(b)]
        for t in ts:
            if (start_s is not None and t < start_s - 1e-9) or (end_s is not None and t > end_s + 1e-9):
                continue
            out.append(GridLine(t, b, bar, abs(t - tempo_map.bar_start_s(bar)) < 1e-9))
    return out


def nearest_beat(tempo_map: TempoMap, time_s: float) -> tuple[int, float]:
    """(whole beat nearest to time_s within the piece, time_s minus that beat's time)."""
    total = int(round(tempo_map.total_beats))
    pos = tempo_map.beat_at(time_s)
    b = min(max(int(round(pos)), 0), total)
    bpb = tempo_map.beats_per_bar
    short = tempo_map.short_bars
    # Round in seconds, not in beats: across a tempo change the two can disagree.
    # (Inside a short bar the beats are the music's, not its grid's: `score.metre`.)
    near = [(c, tempo_map.seconds_at(c)) for c in (b - 1, b, b + 1)
            if 0 <= c <= total and not (c // bpb in short and c % bpb)]
    if short:
        bar = tempo_map.bar_at(time_s)
        for sb in (bar - 1, bar, bar + 1):
            for q in range(1, math.ceil(short.get(sb, 0))):
                at = tempo_map.music_seconds(sb, float(q))
                near.append((int(round(tempo_map.beat_at(at))), at))
    best, at = min(near, key=lambda c: abs(time_s - c[1]))
    return best, time_s - at


def align_cuts(tempo_map: TempoMap, cut_times_s: Sequence[float],
               tolerance_s: float = ON_BEAT_TOLERANCE_S) -> list[CutAlignment]:
    """For each cut: its nearest beat, the residual and whether it sits on a beat/bar line."""
    bpb = tempo_map.beats_per_bar
    out = []
    for t in cut_times_s:
        b, r = nearest_beat(tempo_map, float(t))
        on = abs(r) <= tolerance_s
        out.append(CutAlignment(float(t), b, r, on, on and b % bpb == 0))
    return out


def cuts_on_beats(tempo_map: TempoMap, cut_times_s: Sequence[float],
                  tolerance_s: float = ON_BEAT_TOLERANCE_S) -> list[bool]:
    """Whether each cut is within `tolerance_s` of a beat."""
    return [a.on_beat for a in align_cuts(tempo_map, cut_times_s, tolerance_s)]
