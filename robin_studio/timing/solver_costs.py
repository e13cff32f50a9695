"""The tempo solver's problem and its prices: the moments to land (cuts, hit points, section
starts) with their weights, and what every way of missing one, or of bending the tempo, costs.

All costs are in "weighted seconds of residual", so that a miss, a tempo jump, a ramp and a
drift from the main tempo can be compared. The constants below are the rules a musician
would tune (see `timing.solver` for what the search does with them); `timing.solver_search`
walks the plans, `timing.solver` is the front door.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


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
# A strong hit point asks for a downbeat (issue 18). With the 0.20 s a section start pays and
# the jump allowed at a strong cut, only 52-60 % of strong hit points reached a bar line on
# the eval's random sets: two hit points 3-8 s apart are a whole number of bars apart only at
# a few tempi. So a strong hit point may jump the tempo three times as far as a strong cut
# (a cue changes tempo at its sync point, as a click track does), a piece with strong hit
# points may wander further from its main tempo, and a beat instead of a bar line costs more
# (still less than the ~0.6 s a miss of the beat costs, so a beat is kept before a bar line).
_HIT_BAR_MISS_S = 0.50         # a strong hit point on a beat instead of a bar line
_STRONG_HIT_JUMP_FACTOR = 3.0  # a strong hit point may jump this many times max_change_ratio
_HIT_DRIFT_MAX = 1.30          # with strong hit points, the tempo may wander this far
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



@dataclass(frozen=True)
class CutMark:
    """A moment in the picture the music should mark: a cut (or the middle of a dissolve)."""

    time_s: float
    strength: float = 1.0    # 0..1; >= STRONG_CUT asks for a bar line
    hit: bool = False        # a hit point the creator placed: it must land (see _build_points)

    @property
    def is_strong(self) -> bool:
        return self.strength >= STRONG_CUT



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
    drift_max: float = _DRIFT_MAX  # how far (factor) the tempo may wander from the main one



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
        pts.jump_ratio.append(max_change_ratio * _STRONG_HIT_JUMP_FACTOR if hit and strong else
                              max_change_ratio if strong or section > 0 or hit else 0.0)
        if hit and strong:
            pts.drift_max = _HIT_DRIFT_MAX
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
