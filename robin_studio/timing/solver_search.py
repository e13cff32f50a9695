"""The tempo solver's search: reference tempi from how well the intervals between moments fit
whole beats and bars, and a beam search over plans that pass or land each moment in time
order and close on a bar line at the end of the video (see `timing.solver` for the whole
story; the prices are in `timing.solver_costs`).
"""

from __future__ import annotations

import math
from operator import itemgetter
from typing import NamedTuple

import numpy as np

from robin_studio.timing.solver_costs import (
    _BAR_MISS_S, _BEAM_WIDTH, _CUTIN_COST, _DRIFT_COST, _DRIFT_FREE,
    _MIN_SEGMENT_S, _NUDGE_COST, _PASS_EPS, _PER_KNOT, _PHASE_FIT_BARS, _PHASE_STEPS,
    _Points, _RAMP_COST, _RAMP_RATIO, _REF_CENTRE_PULL, _REF_FINE_POINTS, _REF_GRID_STEP,
    _REF_LAGS, _REF_REFINED, _REF_SEPARATION, _REF_START_WEIGHT, _STEP, _STEP_RATE,
    _TKEY_RES, _WEAK_BAR_BONUS_S, _jump_cost, _miss_np, _pending_cost, _ramp_end_tempo,
    _ramp_hold, _ramp_log_ratio, _ramp_pending_cost, _ramp_pending_scalar
)


_rank = itemgetter(0)



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
                ref_lo, ref_hi = max(lo, ref / pts.drift_max), min(hi, ref * pts.drift_max)
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
    t_lo, t_hi = max(lo, plan.ref / pts.drift_max), min(hi, plan.ref * pts.drift_max)

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
