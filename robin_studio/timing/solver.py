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

The code is in three parts: `timing.solver_costs` (the moments, their weights and what every
miss or tempo change costs: the rules to tune), `timing.solver_search` (reference tempi and
the beam search) and this module (the front door, fallbacks, building the map, the summary).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from robin_studio.errors import RobinError
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.timing.grid import ON_BEAT_TOLERANCE_S, align_cuts, landing_tolerance_s
from robin_studio.timing.solver_costs import (
    CutMark, FIXED_BPM_TOLERANCE, STRONG_CUT, WEAK_CHANGE_RATIO, _N_REFERENCES,
    _RAMP_COUNTED, _build_points
)
from robin_studio.timing.solver_search import (
    _reference_tempos, _search, _unlink
)

# The public names of the solver (CutMark and the rules' constants live with the costs).
__all__ = ["CutMark", "FIXED_BPM_TOLERANCE", "STRONG_CUT", "TempoSolution", "WEAK_CHANGE_RATIO",
           "cut_marks_from_transitions", "describe_tempo_map", "solve_tempo_map"]


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
    segs = tm.music_segments()
    for a, b in zip(segs, segs[1:]):
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
    segs = tm.music_segments()
    bpms = [s.start_bpm for s in segs] + [s.end_bpm for s in segs]
    return _report(tm, list(cuts), duration_s, min(bpms), max(bpms), frame_s)



def _report(tm: TempoMap, cuts: list[CutMark], duration_s: float, lo: float, hi: float,
            frame_s: float | None = None) -> TempoSolution:
    bpb = tm.beats_per_bar
    aligned = align_cuts(tm, [c.time_s for c in cuts], ON_BEAT_TOLERANCE_S)
    beats = [a.beat for a in aligned]
    residuals = [a.residual_s for a in aligned]
    on_bar = [a.beat % bpb == 0 for a in aligned]
    jumps = _count_jumps(tm)
    segs = tm.music_segments()
    ramps = sum(abs(math.log(s.end_bpm / s.start_bpm)) > _RAMP_COUNTED for s in segs[:-1])
    bpms = [s.start_bpm for s in segs] + [s.end_bpm for s in segs]
    if max(bpms) - min(bpms) < 0.05:
        tempo_txt = f"{segs[0].start_bpm:.1f} bpm"
    else:
        tempo_txt = f"{min(bpms):.1f}-{max(bpms):.1f} bpm (mean {tm.mean_bpm():.1f})"
    parts = [tempo_txt, f"{tm.total_bars} bar{'s' if tm.total_bars != 1 else ''} of {bpb}/4"]
    if tm.short_bars:          # (a re-edit's short bars: timing.splice)
        metres = [f"{int(p)}/4" if float(p).is_integer() else f"{int(2 * p)}/8"
                  for _, p in sorted(tm.short_bars.items())]
        parts[-1] += f" ({len(metres)} short: {', '.join(metres)})"
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
        biggest = max(abs(math.log(s.end_bpm / s.start_bpm)) for s in segs[:-1])
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
