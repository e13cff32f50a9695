"""The tempo-map solver: choose tempi so that the picture's cuts land on the music's grid.

Given the cut times and strengths of a video, a tempo range (or a fixed tempo from the
prompt) and the metre, `solve_tempo_map` returns a `TempoMap` on which strong cuts sit on
bar lines and the others on beats, that ends exactly on a bar line at the end of the video,
and that changes tempo only where a musician would accept it:

- a jump of at most `max_change_ratio` at a strong cut or a section boundary;
- between cuts, a smooth ramp (linear in beats, as `TempoSegment` plays it) from the
  running tempo by at most `nudge_ratio` (2 % by default; 0 forbids it): over the whole
  stretch to the next cut it lands, or, if that is not enough, over its first whole beats
  and then held. The tempo never jumps at an ordinary cut; this is how a film composer's
  click track bends, inaudibly, to hit its sync points;
- a smooth ramp (ritardando/accelerando) over the last stretch, so the final bar line
  can meet the end of the video without disturbing the cuts before it.

Real cut times are whole frames: given `frame_s`, a beat within half a frame of a cut
counts as on it, and the tempo is bent less to chase what the picture cannot show.
The music always sounds from 0 s: it starts on a bar line at 0 s, or, when the pattern
(or an asked tempo on a clip that is no whole number of bars long) needs another phase,
with its first bar cut in (an anacrusis: beat 0 before 0 s, `TempoMap.offset_s` < 0).
The solver never makes the music enter late: any grid that starts after 0 s is the same
grid as one that starts a bar earlier, before 0 s, which sounds from the first frame.

How it works. Reference tempi come from how well the intervals between cuts (and from
each cut to the end, always a bar line) fit whole beats and bars, compared with chance
(vectorised over a log-tempo grid, the best ones refined on a finer grid). For each
reference a beam search walks the cuts in time order. A partial plan knows its last knot
(a time, a whole beat, the tempo running there) and the cuts it passed since. At each
cut a plan either passes it (scored later by its distance to the nearest beat of the
segment) or lands it on a nearby whole beat or bar line: the segment since the last knot
then takes exactly the mean tempo that puts the cut there, if it stays in range and
within 15 % of the reference: by a ramp from the running tempo (bounded by
`nudge_ratio`) or, at a strong cut or section start, by an allowed jump. At the end of
the video every plan closes on a whole bar with a constant segment or a ramp that starts
at the running tempo. The cheapest plan wins: weighted residuals (with a step across the
10 ms within which a cut reads as on the beat), bar lines missed by strong cuts and
sections, the size and number of jumps and ramps, and wandering more than 5 % from the
main tempo. Plans that never change tempo always compete too, and the best plan of each
lineage (a bar line at 0 s, or a cut-in first bar at one of the phases that fit the
first moments or the end; which beat of the bar the first cut landed on) survives
pruning, because those choices pay off only at later strong cuts and at the end; at most
half the beam may be plans whose last knot allows no more tempo change. If nothing
closes, a constant tempo is used, with the first bar cut in if no whole number of bars
fits.

All seconds<->beats conversions of the *result* go through `TempoMap`; the solver itself
only works with segment tempi (beats per minute between two exact points).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from robin_studio.errors import RobinError
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.timing.grid import ON_BEAT_TOLERANCE_S, align_cuts, landing_tolerance_s

STRONG_CUT = 0.6             # strength at which a cut should land on a bar line
WEAK_CHANGE_RATIO = 0.02     # largest tempo ramp between two cuts (no jump at ordinary cuts)
FIXED_BPM_TOLERANCE = 0.02   # a tempo asked for in the prompt is kept within 2 %

# Costs are in "weighted seconds of residual", so they can be compared with misses.
_BAR_MISS_S = 0.10           # a strong cut on a beat instead of a bar line
_WEAK_BAR_BONUS_S = 0.002    # tie-break: cuts on bar lines read better even when weak
_JUMP_COST = (0.030, 1.0)    # (fixed, per unit of |log ratio|) at strong cuts / sections
_NUDGE_COST = (0.040, 2.0)   # the same for a ramp between cuts (the tempo it ends at)
_RAMP_COST = (0.015, 1.0)
_CUTIN_COST = 0.05           # the first bar cut in (beat 0 before 0 s): a start mid-bar
_STEP, _STEP_FROM_S, _STEP_SLOPE = 0.6, 0.004, 1.0 / 0.008   # see _miss_np
_STEP_TO_S, _STEP_RATE = _STEP_FROM_S + 1.0 / _STEP_SLOPE, _STEP * _STEP_SLOPE
_DRIFT_FREE, _DRIFT_COST = 0.05, 6.0   # wandering from the main tempo: free, then per log
_DRIFT_MAX = 1.15            # and never further than this factor
_SECTION_WEIGHT = 0.5          # a section start with no cut at it
_SECTION_CUT_EXTRA_WEIGHT = 1.0  # a cut that starts a section matters more than others
_HIT_EXTRA_WEIGHT = 3.0        # a creator's hit point matters more than any cut
_HIT_BAR_MISS_S = 0.20         # a strong hit point on a beat instead of a bar line
_SECTION_BAR_MISS_S = 0.20     # sections start on bar lines, more than strong cuts do
_SECTION_SNAP_S = 0.08       # a cut this close to a section start is that boundary
_BEAM_WIDTH = 30
_PHASE_FIT_BARS = 8        # a cut-in start's phase fits the moments of this many bars
_PHASE_STEPS = 96           # phases tried per beat (about 6 ms apart at 100 bpm)
_PER_KNOT = 5
_TKEY_RES = 100            # plans whose last tempi differ by less than 1/this (log) merge
_N_REFERENCES = 1
_REF_CENTRE_PULL = 0.05
_REF_SEPARATION = 0.04      # reference tempi at least this far apart (log)
_REF_LAGS = (1, 2, 0)
_REF_START_WEIGHT = 0.1        # 0 s as a moment of the reference fit (see _reference_tempos)
_REF_REFINED = 4             # coarse candidates refined on a fine grid
_REF_FINE_POINTS = 41
_REF_GRID_STEP = 0.001     # log-tempo step of the reference search (0.1 %)
_MIN_SEGMENT_S = 0.2
_PASS_EPS = 1e-4
_RAMP_COUNTED = 1e-4        # a ramp by less than 0.01 % is a steady tempo (rounding)
_RAMP_RATIO = 1.5           # a final ramp may change tempo this many times a jump
_rank = itemgetter(0)


@dataclass(frozen=True)
class CutMark:
    """A moment in the picture the music should mark: a cut (or the middle of a dissolve)."""

    time_s: float
    strength: float = 1.0    # 0..1; >= STRONG_CUT asks for a bar line
    hit: bool = False        # a hit point the creator placed: it must land (see _build_points)

    @property
    def is_strong(self) -> bool:
        return self.strength >= STRONG_CUT


@dataclass
class TempoSolution:
    tempo_map: TempoMap
    cut_beats: list[int]          # the whole beat each cut was assigned (input order)
    residuals_s: list[float]      # cut time minus that beat's time (input order), signed
    total_bars: int
    summary: str                  # one line for people: tempo, bars, how many cuts hit
    cut_on_bar: list[bool] = field(default_factory=list)   # assigned beat is a bar line
    tempo_changes: int = 0        # jumps between segments (at strong cuts, section starts)
    tempo_ramps: int = 0          # smooth ramps between cuts (a final ramp is not counted)

    @property
    def max_abs_residual_s(self) -> float:
        return max((abs(r) for r in self.residuals_s), default=0.0)


def cut_marks_from_transitions(transitions: Sequence) -> list[CutMark]:
    """CutMarks from `analysis.types.Transition`s (their `time_s` and `strength`)."""
    return [CutMark(float(t.time_s), float(t.strength)) for t in transitions]


# -- problem set-up -----------------------------------------------------------------------
@dataclass
class _Points:
    """The moments the search walks through, sorted by time (parallel lists for speed)."""

    t: list[float]
    weight: list[float]
    bar_pref: list[bool]
    jump_ratio: list[float]        # largest tempo jump allowed at this moment (0 at a cut)
    jump_cost: list[tuple[float, float]]
    slack: list[float]             # cost (in seconds of residual) of a beat that is no bar line
    ramp_ratio: float = 0.0        # largest tempo change of a ramp between two moments
    step_from_s: float = 0.0       # the miss step (see _miss_np) starts here...
    step_to_s: float = 0.0         # ...and is complete here
    step_from: list[float] = field(default_factory=list)   # the same per moment: a hit
    step_to: list[float] = field(default_factory=list)     # point keeps 10 ms whatever the frame
    arrays: tuple | None = None    # (t, weight, slack) as numpy arrays, made when needed


def _build_points(cuts: Sequence[CutMark], duration_s: float, section_starts_s: Sequence[float],
                  max_change_ratio: float, nudge_ratio: float = WEAK_CHANGE_RATIO,
                  frame_s: float | None = None) -> _Points:
    eps = 1e-3
    # key: time in ms; [time, strength, is_section, is_hit]
    merged: dict[int, list[float]] = {}
    for c in cuts:
        if eps < c.time_s < duration_s - eps:
            k = int(round(c.time_s * 1000))
            strength = min(max(float(c.strength), 0.0), 1.0)
            if k in merged:
                merged[k][1] = max(merged[k][1], strength)
                merged[k][3] = max(merged[k][3], float(c.hit))
            else:
                merged[k] = [c.time_s, strength, 0.0, float(c.hit)]
    cut_keys = sorted(merged)
    for s in section_starts_s:
        if not (eps < s < duration_s - eps):
            continue
        near = [k for k in cut_keys if abs(merged[k][0] - s) <= _SECTION_SNAP_S]
        if near:
            k = min(near, key=lambda k: abs(merged[k][0] - s))
            merged[k][2] = 1.0
        else:
            merged.setdefault(int(round(s * 1000)), [float(s), -1.0, 1.0, 0.0])
    # Cut times are whole frames: a beat within half a frame of a cut is as good as on it.
    step_from = max(_STEP_FROM_S, 0.5 * frame_s) if frame_s and frame_s > 0 else _STEP_FROM_S
    pts = _Points([], [], [], [], [], [], min(max_change_ratio, nudge_ratio), step_from,
                  step_from + 1.0 / _STEP_SLOPE)
    for k in sorted(merged):
        t, strength, section, hit = merged[k]
        strong = strength >= STRONG_CUT
        pts.t.append(t)
        pts.weight.append(_SECTION_WEIGHT if strength < 0 else
                          0.5 + strength + (_SECTION_CUT_EXTRA_WEIGHT if section > 0 else 0.0)
                          + (_HIT_EXTRA_WEIGHT if hit else 0.0))
        pts.bar_pref.append(strong or section > 0)
        pts.slack.append(_HIT_BAR_MISS_S if hit and strong else _SECTION_BAR_MISS_S if section > 0
                         else _BAR_MISS_S if strong else _WEAK_BAR_BONUS_S)
        # An ordinary cut changes nothing in the tempo (the segments after it may ramp); a
        # hit point, soft or strong, may change it as a strong cut does: it must land.
        pts.jump_ratio.append(max_change_ratio if strong or section > 0 or hit else 0.0)
        # A hit point is a moment the creator chose, not a frame boundary: 10 ms is its aim.
        pts.step_from.append(_STEP_FROM_S if hit else step_from)
        pts.step_to.append(_STEP_TO_S if hit else pts.step_to_s)
        pts.jump_cost.append(_JUMP_COST)
    return pts


def _miss_np(e: np.ndarray, step_from_s: float = _STEP_FROM_S) -> np.ndarray:
    """Cost of moments `e` seconds off their beats: linear, plus a step across the ~10 ms
    (or half a frame) within which a cut still reads as on the beat, so that hitting it
    wins over nicer-looking alternatives such as a bar line 15 ms away. (`_passed_miss` is
    the scalar form for passed moments; the search's landing loop inlines it.)"""
    r = (e - step_from_s) * _STEP_RATE
    np.maximum(r, 0.0, out=r)
    np.minimum(r, _STEP, out=r)
    return e + r


def _reference_tempos(pts: _Points, duration_s: float, lo: float, hi: float, bpb: int,
                      n: int) -> list[float]:
    """Tempi at which the intervals between moments are whole beats/bars, best first.

    A coarse log-tempo grid finds the candidates; each is then refined on a fine grid
    around it, because a long interval fits only a very precise tempo."""
    if hi <= lo * 1.0005:
        return [0.5 * (lo + hi)]
    t = np.array([0.0] + pts.t + [duration_s])
    # (0 s counts a little: music may start on a bar line there, or cut its first bar in.)
    w = np.array([_REF_START_WEIGHT] + pts.weight + [2.0])
    bar = np.array([True] + pts.bar_pref + [True])
    centre = math.sqrt(lo * hi)
    sf = pts.step_from_s

    def score(grid: np.ndarray, step: float, dtype=np.float64) -> np.ndarray:
        cost = np.zeros(grid.shape, np.float64)
        chance = np.zeros(grid.shape, np.float64)
        spb = (60.0 / grid).astype(dtype)
        # What an interval of random length costs at each tempo: faster tempi put any cut
        # closer to some beat, so the fit is judged against chance, not in raw seconds.
        u = (np.arange(16 * bpb) + 0.5) / 16.0              # beats into a bar, uniform
        e1u = np.abs(u - np.round(u))[:, None] * spb
        e4u = np.abs(u / bpb - np.round(u / bpb))[:, None] * bpb * spb
        m4u, m1u = _miss_np(e4u, sf), _miss_np(e1u, sf)
        chance_bar = np.minimum(m4u, m1u + _BAR_MISS_S).mean(axis=0)
        chance_beat = np.minimum(m4u, m1u + _WEAK_BAR_BONUS_S).mean(axis=0)
        beats_per_s = (grid / 60.0).astype(dtype)
        # Intervals between neighbours (lags 1, 2), and every moment's distance to the end
        # (lag 0), which is always a bar line: the latter favours one steady tempo that ends
        # on a bar. (Not from 0 s: beat 0 may be before it, with the first bar cut in.)
        for lag in _REF_LAGS:
            if len(t) <= max(lag, 1):
                break
            if lag:
                dt = t[lag:] - t[:-lag]
                ww = np.minimum(w[lag:], w[:-lag]) / lag
                both_bar = bar[lag:] & bar[:-lag]
            else:
                dt, ww, both_bar = t[-1] - t[1:-1], 0.5 * w[1:-1], bar[1:-1]
            x = np.outer(dt.astype(dtype), beats_per_s)     # interval in beats
            # Forgive the error half a grid step makes over the interval, so the exact
            # tempo is not missed for falling between two grid points.
            grace = (0.5 * step * dt).astype(dtype)[:, None]
            e1 = x - np.rint(x)
            np.abs(e1, out=e1)
            e1 *= spb
            e1 -= grace
            np.maximum(e1, 0.0, out=e1)
            x *= 1.0 / bpb                                  # now in bars
            e4 = x - np.rint(x)
            np.abs(e4, out=e4)
            e4 *= bpb * spb
            e4 -= grace
            np.maximum(e4, 0.0, out=e4)
            extra = np.where(both_bar, _BAR_MISS_S, _WEAK_BAR_BONUS_S).astype(dtype)[:, None]
            m1 = _miss_np(e1, sf)
            m1 += extra
            np.minimum(m1, _miss_np(e4, sf), out=m1)
            cost += ww.astype(dtype) @ m1
            chance += ww[both_bar].sum() * chance_bar + ww[~both_bar].sum() * chance_beat
        cost = cost / np.maximum(chance, 1e-12)
        # Among equally good fits, a tempo in the middle of the range.
        return cost + _REF_CENTRE_PULL * np.abs(np.log(grid / centre))

    grid = np.append(np.exp(np.arange(math.log(lo), math.log(hi), _REF_GRID_STEP)), hi)
    coarse = score(grid, _REF_GRID_STEP, np.float32)
    # The best few, at least _REF_SEPARATION apart, each refined around its grid point.
    candidates: list[tuple[float, float]] = []
    seeds: list[float] = []
    for i in np.argsort(coarse, kind="stable"):
        T = float(grid[i])
        if all(abs(math.log(T / c)) > _REF_SEPARATION for c in seeds):
            seeds.append(T)
            fine = T * np.exp(np.linspace(-_REF_GRID_STEP, _REF_GRID_STEP, _REF_FINE_POINTS))
            fine = fine[(fine >= lo) & (fine <= hi)]
            fs = score(fine, 2 * _REF_GRID_STEP / (_REF_FINE_POINTS - 1))
            k = int(np.argmin(fs))
            candidates.append((float(fs[k]), float(fine[k])))
            if len(seeds) >= _REF_REFINED:
                break
    candidates.sort()
    return [T for _, T in candidates[:n]]


# -- the search ---------------------------------------------------------------------------
class _Plan(NamedTuple):
    """A partial tempo map: exact knots so far and the open segment since the last one.

    The search builds these as plain tuples in the same field order (much faster); this
    class names the fields for the code outside the hot loop.
    """

    rank: float               # settled cost + estimated cost of the pending moments
    cost: float               # settled cost
    idx0: int                 # moment of the last knot (-1: the start)
    t0: float                 # time of the last knot
    b0: int                   # its whole beat
    t_prev: float | None      # tempo of the segment ending at the last knot (None: none yet)
    t_pred: float             # tempo used to predict where the next moments fall
    first: int                # moments first..(current-1) were passed since the last knot
    knots: tuple | None       # linked list: (t, beat, tempo of segment ending there, prev)
    tkey: int                 # t_prev bucketed, to merge near-identical plans
    ref: float                # the piece's main tempo, which the plan stays near
    origin: int               # lineage: from 0 s, which beat of the bar the first landed
                              # cut is on (0..bpb-1); a later entry: -(its start number)


def _jump_cost(pts: _Points, idx0: int, t_prev: float | None, tempo: float) -> float | None:
    """Cost of changing from t_prev to tempo at moment idx0; None if not allowed there."""
    if t_prev is None:
        return 0.0
    d = abs(math.log(tempo / t_prev))
    if d < 1e-9:
        return 0.0
    ratio = pts.jump_ratio[idx0] if idx0 >= 0 else 0.0
    if d > math.log1p(ratio) + 1e-12:
        return None
    fixed, slope = pts.jump_cost[idx0]
    return fixed + slope * d


def _pending_cost(pts: _Points, pending: range, t0: float, b0: int, tempo: float,
                  bpb: int) -> float:
    """Cost of the moments passed since the last knot if the open segment runs at tempo."""
    spb = 60.0 / tempo
    inv = tempo / 60.0
    ts, ws, slack = pts.t, pts.weight, pts.slack
    step_from, step_to = pts.step_from, pts.step_to
    c = 0.0
    for j in pending:
        c += ws[j] * _passed_miss(b0 + (ts[j] - t0) * inv, spb, bpb, slack[j], step_from[j],
                                  step_to[j])
    return c


def _passed_miss(x: float, spb: float, bpb: int, slack: float, step_from: float,
                 step_to: float) -> float:
    """Unweighted cost of a passed moment at beat position `x` (`spb` seconds a beat there):
    its distance to the nearest beat (plus `slack` if it wanted a bar line) or to the nearest
    bar line, whichever is cheaper, each with the miss step of `_miss_np`."""
    floor = math.floor
    e1 = abs(x - floor(x + 0.5)) * spb
    q = x / bpb
    e4 = abs(q - floor(q + 0.5)) * bpb * spb
    if e1 > step_from:
        e1 += _STEP if e1 > step_to else (e1 - step_from) * _STEP_RATE
    if e4 > step_from:
        e4 += _STEP if e4 > step_to else (e4 - step_from) * _STEP_RATE
    e1 += slack
    return e4 if e4 < e1 else e1


def _ramp_log_ratio(a: float) -> float:
    """log(end/start) of a ramp, linear in beats, whose mean tempo is `a` times its start.

    The mean tempo of such a ramp (beats over seconds) is the logarithmic mean of its end
    tempi, so with v = log(end/start): expm1(v)/v = a. A quadratic start (the series to
    v**2) and one Newton step are exact to ~1e-12 for the few per cent used here."""
    if abs(a - 1.0) < 1e-12:
        return 0.0
    v = 3.0 * (math.sqrt(0.25 + (2.0 / 3.0) * (a - 1.0)) - 0.5) if a > 0.625 else math.log(a)
    for _ in range(2):
        if abs(v) < 1e-9:
            return v
        ev = math.expm1(v)
        f = ev / v - a
        df = ((ev + 1.0) * v - ev) / (v * v)
        v -= f / df
    return v


def _ramp_hold(t_start: float, beats: int, seconds: float, v_max: float) -> tuple[float, int]:
    """(log(end/start), m): a ramp over the first m whole beats from t_start to t_end, then
    t_end held, that lasts `seconds` over `beats` beats, with |log(t_end/t_start)| at
    most |v_max| and the ramp as long as that allows; (0.0, 0) if none does.

    Time of the segment at tempo ratio e**v: 60/t_start * g(v), with
    g(v) = m * v / expm1(v) + (beats - m) * exp(-v) (ramp, then hold)."""
    target = seconds * t_start / 60.0
    c = v_max / math.expm1(v_max)           # the ramp part, per beat, at the bound
    h = math.exp(-v_max)                    # the held part, per beat
    if abs(c - h) < 1e-15:
        return 0.0, 0
    m = math.floor((target - beats * h) / (c - h) + 1e-9)
    if m < 1 or m >= beats:
        return 0.0, 0                        # not even a one-beat ramp lands it (or a full one does)
    v = v_max
    for _ in range(4):                       # Newton on g(v) = target (g decreases in v)
        ev = math.expm1(v)
        e = math.exp(-v)
        g = m * v / ev + (beats - m) * e - target
        dg = m * (ev - v * (ev + 1.0)) / (ev * ev) - (beats - m) * e
        v -= g / dg
    if not (0.0 < v / v_max <= 1.0 + 1e-9):
        return 0.0, 0
    return v, m


def _ramp_pending_scalar(pts: _Points, pending: range, t0: float, b0: int, t_start: float,
                         t_end: float, m: int, bpb: int) -> float:
    """_pending_cost for a segment that ramps from t_start to t_end over its first `m`
    beats and then holds t_end (scalar: the search's few pending moments at a time)."""
    k = (t_end - t_start) / m                      # bpm per beat, as TempoSegment
    kk = k / 60.0
    ramp_s = 60.0 / k * math.log(t_end / t_start)
    ts, ws, slack = pts.t, pts.weight, pts.slack
    expm1 = math.expm1
    step_from, step_to = pts.step_from, pts.step_to
    c = 0.0
    for j in pending:
        secs = ts[j] - t0
        if secs < ramp_s:
            into = t_start * expm1(kk * secs) / k
            spb = 60.0 / (t_start + k * into)
        else:
            into = m + (secs - ramp_s) * t_end / 60.0
            spb = 60.0 / t_end
        c += ws[j] * _passed_miss(b0 + into, spb, bpb, slack[j], step_from[j], step_to[j])
    return c


def _cutin_phases(pts: _Points, duration_s: float, T: float, bpb: int) -> list[float]:
    """Where beat 0 of a cut-in first bar can sit (in (-bar, 0) seconds) at tempo T.

    Which beat of the bar sounds first decides where the bar lines fall, so there is one
    start per beat of the bar, each at the phase that best fits the first moments (those
    of the first _PHASE_FIT_BARS bars at T: later ones are reached through tempo changes
    anyway), and one more that puts the end of the video on a bar line at exactly T (a
    fixed tempo on a clip that is no whole number of bars long)."""
    beat, bar = 60.0 / T, bpb * 60.0 / T
    out = []
    if pts.t:
        t = np.asarray(pts.t)
        k = max(3, int(np.searchsorted(t, _PHASE_FIT_BARS * bar)))
        t, w = t[:k], np.asarray(pts.weight[:k])
        slack = np.asarray(pts.slack[:k])

        def cost(o: np.ndarray) -> np.ndarray:
            """Weighted misses of the moments if beat 0 sits at each phase `o`."""
            x = (t[:, None] - o[None, :]) / beat
            e1 = np.abs(x - np.rint(x)) * beat
            e4 = np.abs(x / bpb - np.rint(x / bpb)) * bar
            m = np.minimum(_miss_np(e1, pts.step_from_s) + slack[:, None],
                           _miss_np(e4, pts.step_from_s))
            return (w[:, None] * m).sum(axis=0)

        step = beat / _PHASE_STEPS
        o = np.arange(bpb * _PHASE_STEPS) * step
        c = cost(o)
        for k in range(bpb):
            i = k * _PHASE_STEPS + int(np.argmin(c[k * _PHASE_STEPS:(k + 1) * _PHASE_STEPS]))
            fine = o[i] + np.linspace(-step, step, 33)     # refined: 0.4 ms apart at 100 bpm
            out.append(float(fine[int(np.argmin(cost(fine)))]) - bar)
    out.append(duration_s - math.ceil(duration_s / bar - 1e-9) * bar)
    kept: list[float] = []
    for p in out:
        if -bar + 1e-3 < p < -1e-3 and all(abs(p - q) > 1e-3 for q in kept):
            kept.append(p)
    return kept


def _search(pts: _Points, duration_s: float, T: float, lo: float, hi: float,
            bpb: int, max_change_ratio: float, start_on_bar: bool = False):
    """Beam search around reference tempo T; returns (cost, linked knots, end) or None.

    The hot loop is kept flat (plain tuples, local names) because it runs some ten
    thousand times per solve."""
    n = len(pts.t)
    beam: list[tuple] = []
    ref_key = -int(math.log(T) * _TKEY_RES + 0.5)
    beam.append((0.0, 0.0, -1, 0.0, 0, None, T, 0, None, ref_key, T, 0))
    # Anacruses: beat 0 before 0 s, the first bar cut in, so the music sounds from 0 s
    # whatever phase the pattern needs. (A late entry is never needed: any grid that
    # starts at o > 0 is the same grid as one that starts a bar earlier, before 0 s.)
    for o in ([] if start_on_bar else _cutin_phases(pts, duration_s, T, bpb)):
        beam.append((_CUTIN_COST, _CUTIN_COST, -1, o, 0, None, T, 0, ("offset", o),
                     ref_key, T, -len(beam)))
    starts = list(beam)
    ts, ws, ratios, slack = pts.t, pts.weight, pts.jump_ratio, pts.slack
    log_ratio = [math.log1p(r) for r in ratios]
    # (a_dn, a_up): how far a segment's mean tempo may move from the running one, by a
    # jump or by a ramp (which, held once it is done, moves it almost as far as it goes).
    rr = pts.ramp_ratio
    log_rr = math.log1p(rr)
    a_up = [1.0 + max(r, rr) for r in ratios]
    a_dn = a_up
    rfixed, rslope = _NUDGE_COST
    frozen = [r <= 0.0 and rr <= 0.0 for r in ratios]
    step_froms, step_tos = pts.step_from, pts.step_to
    jump_costs = pts.jump_cost
    floor, log = math.floor, math.log
    ref = ref_lo = ref_hi = log_ref = None   # bounds of the last plan's reference, cached
    for j in range(n):
        tj, wj, bpj, slj = ts[j], ws[j], pts.bar_pref[j], slack[j]
        step_from, step_to = step_froms[j], step_tos[j]
        miss_j = wj * slj
        nxt: dict[tuple, tuple] = {}
        for plan in beam:
            rank, cost0, idx0, t0, b0, t_prev, t_pred, p_first, knots, tkey, p_ref, origin = plan
            dt = tj - t0
            spb = 60.0 / t_pred
            x = b0 + dt / spb
            # Pass the moment by; it is scored when the open segment closes.
            e1 = abs(x - floor(x + 0.5)) * spb
            q = x / bpb
            e4 = abs(q - floor(q + 0.5)) * bpb * spb
            m1 = e1 + slj
            if e1 > step_from:
                m1 += _STEP if e1 > step_to else (e1 - step_from) * _STEP_RATE
            if e4 > step_from:
                e4 += _STEP if e4 > step_to else (e4 - step_from) * _STEP_RATE
            # (A hair of extra cost per passed moment: among equal plans, settled ones win.)
            r_new = rank + wj * (e4 if e4 < m1 else m1) + _PASS_EPS
            if e1 > 1e-7 or dt < _MIN_SEGMENT_S:
                # (A moment right on the running grid is landed below at no cost instead.)
                key = (idx0, b0, tkey, p_first)
                old = nxt.get(key)
                if old is None or r_new < old[0]:
                    nxt[key] = (r_new, cost0, idx0, t0, b0, t_prev, t_pred, p_first, knots, tkey,
                                p_ref, origin)
            if dt < _MIN_SEGMENT_S:
                continue
            # Land it on a whole beat: the open segment takes the tempo that puts it there.
            if p_ref is not ref:
                ref = p_ref
                ref_lo, ref_hi = max(lo, ref / _DRIFT_MAX), min(hi, ref * _DRIFT_MAX)
                log_ref = log(ref)
            if t_prev is not None:
                t_lo = t_prev / a_dn[idx0]
                t_hi = t_prev * a_up[idx0]
                if t_lo < ref_lo:
                    t_lo = ref_lo
                if t_hi > ref_hi:
                    t_hi = ref_hi
                log_prev = log(t_prev)
                n_near = 2
            else:
                t_lo, t_hi = ref_lo, ref_hi
                # The first landing also fixes which beats of the pattern fall on bar lines,
                # which only pays off much later (strong cuts, the end): try every phase.
                n_near = bpb if bpb > 2 else 2
            first = max(math.ceil(b0 + dt * t_lo / 60.0 - 1e-9), b0 + 1)
            last = floor(b0 + dt * t_hi / 60.0 + 1e-9)
            if last < first:
                continue
            # The nearest whole beats, and for a strong cut the nearest bar lines.
            if last - first < n_near:
                cands = list(range(first, last + 1))
            else:
                xc = first if x < first else last if x > last else x
                lo_b = floor(xc) - (n_near - 1) // 2
                lo_b = first if lo_b < first else last - n_near + 1 if lo_b + n_near - 1 > last else lo_b
                cands = list(range(lo_b, lo_b + n_near))
                if bpj:
                    fb = floor(xc / bpb) * bpb
                    for bb in (fb, fb + bpb):
                        if first <= bb <= last and not (lo_b <= bb < lo_b + n_near):
                            cands.append(bb)
            for b in cands:
                tempo = 60.0 * (b - b0) / dt      # the mean tempo that lands the cut on b
                lt = log(tempo)
                # The ways to play the segment: (start tempo, end tempo, beats the ramp
                # from one to the other takes, cost). The first segment takes any tempo;
                # later ones continue the running tempo, ramp from it (by at most
                # ramp_ratio: over the whole segment if that is enough, else as long as
                # it can and then hold), or, at a strong cut or a section start, jump.
                n_b = b - b0
                if t_prev is None:
                    ways = ((tempo, tempo, 0, 0.0),)
                else:
                    d = lt - log_prev
                    ad = d if d >= 0.0 else -d
                    if ad <= 1e-9:
                        ways = ((t_prev, t_prev, 0, 0.0),)
                    else:
                        ways = []
                        if ad <= log_ratio[idx0] + 1e-12:
                            fixed, slope = jump_costs[idx0]
                            ways.append((tempo, tempo, 0, fixed + slope * ad))
                        if rr > 0.0 and ad <= log_rr:
                            if ad <= 0.5 * log_rr + 1e-3:
                                v, m = _ramp_log_ratio(tempo / t_prev), n_b
                            else:
                                v, m = None, 0
                            if v is None or (v if v >= 0.0 else -v) > log_rr + 1e-12:
                                v, m = _ramp_hold(t_prev, n_b, dt, log_rr if d > 0 else -log_rr)
                            if m:
                                te = t_prev * math.exp(v)
                                if ref_lo <= te <= ref_hi:
                                    ways.append((t_prev, te, m, rfixed + rslope * (v if v >= 0.0
                                                                                  else -v)))
                for t_s, t_e, m, c in ways:
                    cost = cost0 + c
                    if p_first < j:
                        if not m:
                            cost += _pending_cost(pts, range(p_first, j), t0, b0, t_s, bpb)
                        else:
                            cost += _ramp_pending_scalar(pts, range(p_first, j), t0, b0, t_s,
                                                         t_e, m, bpb)
                    if b % bpb:
                        cost += miss_j          # (this moment aimed at a bar line and got a beat)
                    le = lt if t_e == tempo else log(t_e)
                    d = le - log_ref
                    if d < 0.0:
                        d = -d
                    if d > _DRIFT_FREE:
                        cost += _DRIFT_COST * (d - _DRIFT_FREE)
                    tk = int(le * _TKEY_RES + 0.5)
                    key = (j, b, tk, 0)
                    old = nxt.get(key)
                    if old is None or cost < old[0]:
                        nxt[key] = (cost, cost, j, tj, b, t_e, t_e, j + 1,
                                    (tj, b, t_s, t_e, m, knots), tk, p_ref,
                                    origin if t_prev is not None or origin < 0 else b % bpb)
        # After the last moment every plan is closed and judged on its real cost.
        if j == n - 1:
            beam = list(nxt.values())
        else:
            beam = _prune(nxt.values(), frozen)

    # The plans that never change tempo may have been crowded out; they always close.
    beam.extend(starts)
    best = None
    for plan in beam:
        for closing in _closings(pts, _Plan(*plan), duration_s, lo, hi, bpb, max_change_ratio):
            if best is None or closing[0] < best[0]:
                best = closing
    return best


def _prune(plans, frozen: list[bool]) -> list[tuple]:
    """The best _BEAM_WIDTH plans, at most _PER_KNOT of them per last knot and lineage and
    at most half of them frozen, plus the best plan of every lineage that did not make it.

    A plan that passes moments by is scored at the tempo running so far, which is a little
    optimistic (the tempo will have to bend to land the next knot), so without the cap
    such plans crowd out the ones that land cuts. A later entry of the music pays its cost
    up front and earns it back cut by cut, and which beats of the pattern are bar lines
    pays off only at strong cuts and at the end: hence one survivor per lineage. A plan
    whose last knot allows no tempo change (an ordinary cut when ramps are off) can land
    nothing off its grid any more; it looks good now and loses later: hence the quota."""
    ordered = sorted(plans, key=_rank)
    out, per_knot, origins = [], {}, set()
    n_frozen, max_frozen = 0, _BEAM_WIDTH // 2
    i = 0
    for i, p in enumerate(ordered):
        if len(out) >= _BEAM_WIDTH:
            break
        k = (p[2], p[11])
        c = per_knot.get(k, 0)
        if c < _PER_KNOT:
            if p[2] >= 0 and frozen[p[2]]:
                if n_frozen >= max_frozen:
                    continue
                n_frozen += 1
            per_knot[k] = c + 1
            out.append(p)
            origins.add(p[11])
    else:
        return out
    for p in ordered[i:]:
        if p[11] not in origins:
            origins.add(p[11])
            out.append(p)
    return out


def _closings(pts: _Points, plan: _Plan, duration_s: float, lo: float, hi: float, bpb: int,
              max_change_ratio: float):
    """Ways to end `plan` exactly on a bar line at the end of the video, with their cost."""
    dt = duration_s - plan.t0
    if dt <= 1e-6:
        return
    x = plan.b0 + dt * plan.t_pred / 60.0
    fb = math.floor(x / bpb) * bpb
    knots = plan.knots
    pending = range(plan.first, len(pts.t))
    t_lo, t_hi = max(lo, plan.ref / _DRIFT_MAX), min(hi, plan.ref * _DRIFT_MAX)

    def drift(tempo: float) -> float:
        d = abs(math.log(tempo / plan.ref))
        return _DRIFT_COST * (d - _DRIFT_FREE) if d > _DRIFT_FREE else 0.0

    for B in (fb, fb + bpb, fb - bpb, fb + 2 * bpb):
        if B <= plan.b0 or B <= 0:
            continue
        beats = B - plan.b0
        # A constant last segment.
        tempo = 60.0 * beats / dt
        if t_lo * (1 - 1e-9) <= tempo <= t_hi * (1 + 1e-9):
            jc = _jump_cost(pts, plan.idx0, plan.t_prev, tempo)
            if jc is not None:
                cost = (plan.cost + jc + drift(tempo)
                        + _pending_cost(pts, pending, plan.t0, plan.b0, tempo, bpb))
                yield (cost, knots, (duration_s, B, tempo, tempo))
        # A ramp that starts at the tempo already running, so nothing jumps (for a plan
        # without knots: from its reference tempo, a slow drift over the whole piece).
        t_start = plan.t_prev if plan.t_prev is not None else plan.t_pred
        if t_lo * (1 - 1e-9) <= t_start <= t_hi * (1 + 1e-9):
            t_end = _ramp_end_tempo(t_start, beats, dt, _RAMP_RATIO * max_change_ratio)
            if t_end is not None and t_lo * (1 - 1e-9) <= t_end <= t_hi * (1 + 1e-9):
                c = (plan.cost + _RAMP_COST[0] + _RAMP_COST[1] * abs(math.log(t_end / t_start))
                     + drift(t_end))
                if len(pending):
                    c += _ramp_pending_cost(pts, pending, plan.t0, plan.b0, t_start, t_end,
                                            beats, bpb)
                yield (c, knots, (duration_s, B, t_start, t_end))


def _ramp_pending_cost(pts: _Points, pending: range, t0: float, b0: int, t_start: float,
                       t_end: float, beats: int, bpb: int) -> float:
    """_pending_cost for a segment that ramps from t_start to t_end over `beats` beats."""
    if pts.arrays is None:
        pts.arrays = (np.asarray(pts.t), np.asarray(pts.weight), np.asarray(pts.slack))
    t_all, w_all, slack_all = pts.arrays
    sl = slice(pending.start, pending.stop)
    secs = t_all[sl] - t0
    k = (t_end - t_start) / beats                            # bpm per beat, as TempoSegment
    into = t_start * np.expm1(k * secs / 60.0) / k            # beats into the ramp
    spb = 60.0 / (t_start + k * into)
    pos = b0 + into
    e1 = np.abs(pos - np.rint(pos)) * spb
    q = pos / bpb
    e4 = np.abs(q - np.rint(q)) * bpb * spb
    sf = np.asarray(pts.step_from[sl])
    m1 = _miss_np(e1, sf) + slack_all[sl]
    m4 = _miss_np(e4, sf)
    return float((w_all[sl] * np.minimum(m1, m4)).sum())


def _ramp_end_tempo(t_start: float, beats: float, seconds: float, max_ratio: float) -> float | None:
    """End tempo of a linear-in-beats ramp from t_start lasting `beats` beats in `seconds`."""
    # seconds = 60*beats/t_start * g(u), g(u) = ln(u)/(u-1), u = t_end/t_start (decreasing).
    c = seconds * t_start / (60.0 * beats)

    def g(u: float) -> float:
        return 1.0 if abs(u - 1.0) < 1e-12 else math.log(u) / (u - 1.0)

    u_lo, u_hi = 1.0 / (1.0 + max_ratio), 1.0 + max_ratio
    if not (g(u_hi) <= c <= g(u_lo)):
        return None
    for _ in range(34):
        mid = 0.5 * (u_lo + u_hi)
        if g(mid) > c:
            u_lo = mid
        else:
            u_hi = mid
    u = 0.5 * (u_lo + u_hi)
    return None if abs(u - 1.0) < 1e-6 else t_start * u


def _unlink(knots) -> list:
    out = []
    offset = 0.0
    while knots is not None:
        if knots[0] == "offset":
            offset = knots[1]
            break
        out.append(knots[:5])
        knots = knots[5]
    out.reverse()
    return [("offset", offset)] + out


# -- fallbacks, map building, report ------------------------------------------------------
def _fallback(duration_s: float, lo: float, hi: float, target: float, bpb: int):
    """(tempo, offset_s, beats): a constant tempo in [lo, hi]. A whole number of bars from
    0 s if one fits (the tempo closest to `target`); else `target` with the first bar cut
    in (offset_s < 0), so that the music still sounds from 0 s and ends on a bar line."""
    best = None
    n_hi = math.floor(duration_s * hi / (60.0 * bpb) + 1e-9)
    for n in range(max(1, n_hi - 2), n_hi + 1):
        exact = 60.0 * bpb * n / duration_s
        if lo * (1 - 1e-9) <= exact <= hi * (1 + 1e-9) and (
                best is None or abs(math.log(exact / target)) < abs(math.log(best[0] / target))):
            best = (exact, 0.0, n * bpb)
    if best is not None:
        return best
    tempo = min(max(target, lo), hi)
    bar_s = 60.0 * bpb / tempo
    n = max(1, math.ceil(duration_s / bar_s - 1e-9))
    return tempo, duration_s - n * bar_s, n * bpb


def _build_map(offset: float, knots: list, end: tuple, bpb: int) -> TempoMap:
    segs: list[TempoSegment] = []
    b_prev = 0
    for (t, b, t_start, t_end, m) in knots:
        if m and b_prev + m < b:             # a ramp over the first m beats, then held
            _append(segs, b_prev, b_prev + m, t_start, t_end)
            _append(segs, b_prev + m, b, t_end, t_end)
        else:
            _append(segs, b_prev, b, t_start, t_end)
        b_prev = b
    _, B, t_start, t_end = end
    _append(segs, b_prev, B, t_start, t_end)
    return _drop_bars_before_zero(TempoMap(segs, bpb, offset))


def _drop_bars_before_zero(tm: TempoMap) -> TempoMap:
    """The same map without whole bars that end at or before 0 s (a cut-in plan whose
    first segment sped up can put its second bar line before the video starts)."""
    bpb = tm.beats_per_bar
    drop = 0
    while drop + bpb < tm.total_beats - 1e-9 and tm.seconds_at(drop + bpb) <= 1e-9:
        drop += bpb
    if not drop:
        return tm
    segs = []
    for seg in tm.segments:
        if seg.end_beat <= drop + 1e-9:
            continue
        cut = max(0.0, drop - seg.start_beat)
        start_bpm = seg.bpm_at(cut)
        segs.append(TempoSegment(max(0.0, seg.start_beat - drop), seg.length_beats - cut,
                                 start_bpm, seg.end_bpm))
    return TempoMap(segs, bpb, tm.seconds_at(drop))


def _append(segs: list[TempoSegment], b0: int, b1: int, t_start: float, t_end: float) -> None:
    if segs:
        last = segs[-1]
        if (abs(last.start_bpm - last.end_bpm) < 1e-9 and abs(t_start - t_end) < 1e-9
                and abs(last.end_bpm - t_start) < 1e-9 * t_start):
            segs[-1] = TempoSegment(last.start_beat, last.length_beats + (b1 - b0),
                                    last.start_bpm, last.end_bpm)
            return
    segs.append(TempoSegment(float(b0), float(b1 - b0), t_start, t_end))


def _count_jumps(tm: TempoMap, below: float | None = None) -> int:
    """Tempo jumps between segments (only those smaller than `below`, if given)."""
    n = 0
    for a, b in zip(tm.segments, tm.segments[1:]):
        d = abs(math.log(b.start_bpm / a.end_bpm))
        if d > 1e-6 and (below is None or d <= math.log1p(below) + 1e-9):
            n += 1
    return n


def solve_tempo_map(cuts: Sequence[CutMark], duration_s: float, *,
                    bpm_range: tuple[float, float] = (70.0, 140.0),
                    fixed_bpm: float | None = None, beats_per_bar: int = 4,
                    section_starts_s: Sequence[float] = (),
                    max_change_ratio: float = 0.08,
                    nudge_ratio: float = WEAK_CHANGE_RATIO,
                    frame_s: float | None = None, start_on_bar: bool = False) -> TempoSolution:
    """A tempo map for a video of `duration_s` seconds that puts `cuts` on beats and bars.

    Strong cuts (strength >= STRONG_CUT) aim for bar lines, the others for beats. Tempo
    stays in `bpm_range` (or within 2 % of `fixed_bpm`), jumps only at strong cuts or
    `section_starts_s` (by at most `max_change_ratio`), elsewhere changes only by smooth
    ramps of at most `nudge_ratio` between two cuts (0 forbids those; fewer cuts are then
    hit), may ramp over the last stretch, and the last bar line falls exactly at
    `duration_s`. The music
    sounds from 0 s: beat 0 is at 0 s or, with the first bar cut in, before it
    (`tempo_map.offset_s` <= 0, and bar 1 starts after 0 s).

    `frame_s` (one frame of the video, 1/fps): cut times are whole frames, so a beat
    within half a frame of a cut counts as on it; the solver then bends the tempo less
    to chase residuals smaller than the picture can show. Without it, 10 ms is the aim.

    `start_on_bar`: beat 0 is a bar line at exactly 0 s (no first bar cut in), for a stretch
    between two pieces of music that are kept (`timing.splice`); when no whole number of
    bars fits the range, the nearest tempo that fits one is used, outside the range.
    """
    if not (duration_s > 0 and math.isfinite(duration_s)):
        raise RobinError(f"Cannot fit music to a video of {duration_s} s.",
                         "The clip has no length; check that the video file is complete.")
    if beats_per_bar < 1:
        raise ValueError("beats_per_bar must be at least 1")
    if fixed_bpm is not None:
        if not fixed_bpm > 0:
            raise RobinError(f"A tempo of {fixed_bpm} bpm is not possible.",
                             "Ask for a tempo such as 90 bpm, or leave the tempo out.")
        lo, hi = fixed_bpm * (1 - FIXED_BPM_TOLERANCE), fixed_bpm * (1 + FIXED_BPM_TOLERANCE)
        target = fixed_bpm
    else:
        lo, hi = sorted(map(float, bpm_range))
        if lo <= 0:
            raise RobinError("The tempo range must be above 0 bpm.", "Use for example 70-140 bpm.")
        target = math.sqrt(lo * hi)
    bpb = int(beats_per_bar)
    cuts = list(cuts)
    if any(not math.isfinite(c.time_s) for c in cuts):
        raise ValueError("cut times must be finite numbers of seconds")
    pts = _build_points(cuts, float(duration_s), section_starts_s, max_change_ratio,
                        max(0.0, nudge_ratio), frame_s)
    if fixed_bpm is not None:
        refs = [target]
    else:
        refs = _reference_tempos(pts, duration_s, lo, hi, bpb, _N_REFERENCES)
    # One beam per reference tempo (one has proved enough; a wider beam pays more than a
    # second reference), so that one tempo's plans never crowd out another's.
    found = None
    for ref in refs:
        f = _search(pts, duration_s, ref, lo, hi, bpb, max_change_ratio, start_on_bar)
        if f is not None and (found is None or f[0] < found[0]):
            found = f
    if found is not None:
        _, linked, end = found
        knots = _unlink(linked)
        offset = knots[0][1]
        tm = _build_map(offset, knots[1:], end, bpb)
    else:
        if start_on_bar:
            n = max(1, round(duration_s * target / (60.0 * bpb)))
            tempo, offset, beats = 60.0 * bpb * n / duration_s, 0.0, n * bpb
        else:
            tempo, offset, beats = _fallback(duration_s, lo, hi, target, bpb)
        tm = TempoMap([TempoSegment(0.0, float(beats), tempo, tempo)], bpb, offset)
    return _report(tm, cuts, duration_s, lo, hi, frame_s)


def describe_tempo_map(tm: TempoMap, cuts: Sequence[CutMark], duration_s: float, *,
                       frame_s: float | None = None) -> TempoSolution:
    """A `TempoSolution` (landings, summary) for a tempo map made elsewhere: a spliced one
    (`timing.splice`), after a hit point moved or the video was re-edited."""
    bpms = [s.start_bpm for s in tm.segments] + [s.end_bpm for s in tm.segments]
    return _report(tm, list(cuts), duration_s, min(bpms), max(bpms), frame_s)


def _report(tm: TempoMap, cuts: list[CutMark], duration_s: float, lo: float, hi: float,
            frame_s: float | None = None) -> TempoSolution:
    bpb = tm.beats_per_bar
    aligned = align_cuts(tm, [c.time_s for c in cuts], ON_BEAT_TOLERANCE_S)
    beats = [a.beat for a in aligned]
    residuals = [a.residual_s for a in aligned]
    on_bar = [a.beat % bpb == 0 for a in aligned]
    jumps = _count_jumps(tm)
    ramps = sum(abs(math.log(s.end_bpm / s.start_bpm)) > _RAMP_COUNTED for s in tm.segments[:-1])
    bpms = [s.start_bpm for s in tm.segments] + [s.end_bpm for s in tm.segments]
    if max(bpms) - min(bpms) < 0.05:
        tempo_txt = f"{tm.segments[0].start_bpm:.1f} bpm"
    else:
        tempo_txt = f"{min(bpms):.1f}-{max(bpms):.1f} bpm (mean {tm.mean_bpm():.1f})"
    parts = [tempo_txt, f"{tm.total_bars} bar{'s' if tm.total_bars != 1 else ''} of {bpb}/4"]
    if cuts:
        hit = sum(a.on_beat for a in aligned)
        parts.append(f"{hit}/{len(cuts)} cuts within {ON_BEAT_TOLERANCE_S * 1000:.0f} ms of a beat")
        if frame_s and frame_s > 0:
            half = sum(abs(a.residual_s) <= 0.5 * frame_s + 1e-9 for a in aligned)
            parts[-1] += f" ({half} within half a frame)"
        strong = [i for i, c in enumerate(cuts) if c.is_strong]
        if strong:
            tol = landing_tolerance_s(frame_s)
            sb = sum(aligned[i].beat % bpb == 0 and abs(aligned[i].residual_s) <= tol + 1e-9
                     for i in strong)
            parts.append(f"{sb}/{len(strong)} strong on bar lines")
    last = tm.segments[-1]
    if abs(last.end_bpm - last.start_bpm) > 1e-6:
        parts.append("ritardando to the end" if last.end_bpm < last.start_bpm
                     else "accelerando to the end")
    if jumps:
        parts.append(f"{jumps} tempo change{'s' if jumps > 1 else ''} at strong cuts or sections")
    if ramps:
        biggest = max(abs(math.log(s.end_bpm / s.start_bpm)) for s in tm.segments[:-1])
        parts.append(f"{ramps} gentle ramp{'s' if ramps > 1 else ''} between cuts "
                     f"(at most {math.expm1(biggest):.1%})")
    if tm.offset_s > 0:
        parts.append(f"music starts at {tm.offset_s:.2f} s")
    elif tm.offset_s < 0:
        if tm.total_bars <= 1:
            parts.append("the video is shorter than a bar: the music comes in "
                         f"{-tm.offset_s:.2f} s into it")
        else:
            parts.append(f"first bar cut in (it starts {-tm.offset_s:.2f} s before the video)")
    if min(bpms) < lo * (1 - 1e-6) or max(bpms) > hi * (1 + 1e-6):
        parts.append(f"outside the asked {lo:.0f}-{hi:.0f} bpm: the video is shorter than a bar")
    return TempoSolution(tm, beats, residuals, tm.total_bars, ", ".join(parts), on_bar, jumps,
                         ramps)
