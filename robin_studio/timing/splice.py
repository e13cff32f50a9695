"""Splice a tempo map: keep stretches of an old map (whole bars, moved in time) and solve
the stretches between them anew, so kept music sounds as it did and new moments land.

This is the timing half of re-timing a piece: a hit point moved in the app (one stretch
around it is solved again, every other bar keeps its time) and a re-edited video (the bars
under matched shots keep their tempo, moved with their shots; the gaps between them, new
shots and seams, are solved so that their cuts land). See `generate.retime`.

A `KeptBlock` is old bars [old_bar_start, old_bar_end) shown `shift_s` earlier in the new
video (new time = old time - shift_s). Between blocks, and from 0 s and to the new end, a
gap is filled with whole bars by `solver.solve_tempo_map` (starting on a bar line, except
the first gap, whose first bar may be cut in), with the moments in it (cuts, hit points) and
a tempo near the music on either side. A gap whose best tempo strays more than
`GAP_MAX_RATIO` from its neighbours' (too short or too long for whole bars), or that leaves
a hit point off the beat, takes a kept
bar from a neighbouring block, preferring bars where a change is least audible (a phrase
end or a section seam, from `bar_cost`), and is solved again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from robin_studio.errors import RobinError
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.timing.grid import cuts_on_beats
from robin_studio.timing.solver import CutMark, solve_tempo_map

GAP_MAX_RATIO = 0.08        # a gap's tempo stays within 8 % of the music around it (a jump
                            # the solver allows at a strong cut or a section seam)
GAP_RANGE_RATIO = 0.12      # the range the gap's solver may use around that tempo
MAX_RELEASED_BARS = 8       # bars a gap may take from its neighbours before giving up
ADJACENT_S = 0.02           # kept music this close to where the last piece ended follows it


@dataclass
class KeptBlock:
    old_bar_start: int
    old_bar_end: int          # exclusive
    shift_s: float            # new time = old time - shift_s

    @property
    def n_bars(self) -> int:
        return self.old_bar_end - self.old_bar_start


@dataclass
class SplicePlan:
    tempo_map: TempoMap
    sources: list[int | None]                   # per new bar: the old bar it keeps, or None
    gaps: list[tuple[int, int]] = field(default_factory=list)   # new bars [start, end) solved anew
    released: list[int] = field(default_factory=list)   # old bars given up to make gaps fit

    @property
    def kept_bars(self) -> int:
        return sum(s is not None for s in self.sources)


def _slice(tm: TempoMap, b0: float, b1: float) -> list[TempoSegment]:
    """Segments of `tm` between beats b0 and b1, re-based to start at beat 0."""
    out = []
    for seg in tm.segments:
        a, b = max(b0, seg.start_beat), min(b1, seg.end_beat)
        if b - a <= 1e-9:
            continue
        out.append(TempoSegment(a - b0, b - a, seg.bpm_at(a - seg.start_beat),
                                seg.bpm_at(b - seg.start_beat)))
    if not out:         # past the map's end the last tempo holds
        bpm = tm.segments[-1].end_bpm
        out.append(TempoSegment(0.0, b1 - b0, bpm, bpm))
    return out


def _bar_bpm(tm: TempoMap, bar: int, end: bool) -> float:
    bpb = tm.beats_per_bar
    beat = min(max(0.0, (bar + (1 if end else 0)) * bpb - (1e-6 if end else 0.0)), tm.total_beats)
    return tm.bpm_at_beat(beat)


def splice_tempo_map(old: TempoMap, new_duration_s: float, blocks: Sequence[KeptBlock],
                     moments: Sequence[CutMark], *, bpm_range: tuple[float, float],
                     frame_s: float | None = None,
                     bar_cost: Callable[[int], float] | None = None) -> SplicePlan:
    """The new tempo map and, per new bar, the old bar it keeps (see the module docstring).

    `blocks` are in new-time order and must not overlap; `moments` are the new video's cuts
    and hit points (only those inside gaps matter: kept bars keep their landings).
    `bar_cost(old_bar)`: how audible giving up that old bar would be (lower is better)."""
    bpb = old.beats_per_bar
    bar_cost = bar_cost or (lambda j: 0.0 if j % 4 == 3 else 1.0)
    blocks = [KeptBlock(b.old_bar_start, b.old_bar_end, b.shift_s) for b in blocks if b.n_bars > 0]
    released: list[int] = []

    def start_s(b: KeptBlock) -> float:
        return old.bar_start_s(b.old_bar_start) - b.shift_s

    def end_s(b: KeptBlock) -> float:
        return old.bar_start_s(b.old_bar_end) - b.shift_s

    # Blocks must lie within the new video (a first bar cut in may start before 0 s).
    while blocks and end_s(blocks[-1]) > new_duration_s + 1e-6:
        blocks[-1].old_bar_end -= 1
        released.append(blocks[-1].old_bar_end)
        if blocks[-1].n_bars <= 0:
            blocks.pop()
    for k in range(len(blocks) - 1):    # overlapping neighbours: the later one gives way
        while blocks[k + 1].n_bars > 0 and start_s(blocks[k + 1]) < end_s(blocks[k]) - 1e-6:
            released.append(blocks[k + 1].old_bar_start)
            blocks[k + 1].old_bar_start += 1
    blocks = [b for b in blocks if b.n_bars > 0]

    lo_all, hi_all = sorted(map(float, bpm_range))

    def solve_gap(g0: float, g1: float, first: bool, last: bool, before: float | None,
                  after: float | None, free: bool = False):
        """(tempo map of the gap, worst tempo ratio to its neighbours) or None."""
        length = g1 - g0
        if length <= 1e-6:
            return None
        around = [t for t in (before, after) if t]
        centre = math.exp(sum(math.log(t) for t in around) / len(around)) if around \
            else math.sqrt(lo_all * hi_all)
        lo, hi = centre / (1 + GAP_RANGE_RATIO), centre * (1 + GAP_RANGE_RATIO)
        # (Within the piece's own range: an asked tempo stays asked.)
        lo, hi = max(lo, lo_all), min(hi, hi_all)
        if free or lo >= hi:
            lo, hi = lo_all, hi_all
        inside = [CutMark(m.time_s - g0, m.strength, m.hit) for m in moments
                  if g0 + 1e-3 < m.time_s < g1 - 1e-3]
        if length < 0.5 * 60.0 * bpb / hi:
            return None
        sol = solve_tempo_map(inside, length, bpm_range=(lo, hi), frame_s=frame_s,
                              start_on_bar=not first)
        tm = sol.tempo_map
        worst = 0.0
        if before:
            worst = max(worst, abs(math.log(tm.segments[0].start_bpm / before)))
        if after:
            worst = max(worst, abs(math.log(tm.segments[-1].end_bpm / after)))
        if not around:
            worst = 0.0
        hits = [m for m in inside if m.hit]
        missed = sum(not on for on in cuts_on_beats(tm, [m.time_s for m in hits])) if hits else 0
        return tm, worst, missed

    # Walk the gaps left to right; a gap that does not fit takes bars from its neighbours.
    # `cur_s` is where the music laid so far ends (blocks closer than ADJACENT_S to it are
    # laid straight after it: a few ms of drift rather than a sliver of a bar).
    pieces: list[tuple[str, object]] = []
    k = 0
    cur_s: float | None = None          # None: nothing laid yet (the first gap may cut in)
    prev_block: KeptBlock | None = None
    while True:
        nxt = blocks[k] if k < len(blocks) else None
        first = cur_s is None
        g0 = 0.0 if first else cur_s
        g1 = start_s(nxt) if nxt is not None else new_duration_s
        if g1 - g0 > ADJACENT_S or (nxt is None and first):
            tries = 0
            taken = [0, 0]
            while True:
                before = _bar_bpm(old, prev_block.old_bar_end - 1, True) if prev_block else None
                after = _bar_bpm(old, nxt.old_bar_start, False) if nxt is not None else None
                solved = solve_gap(g0, g1, first, nxt is None, before, after)
                if (solved is not None and solved[1] <= math.log1p(GAP_MAX_RATIO) + 1e-9
                        and not solved[2]):
                    break
                tries += 1
                # Take a bar from the cheaper neighbour (a phrase end or seam, else any).
                # (Bars already taken from a side count against it: the gap grows evenly.)
                options = []
                # (The first kept block may go entirely: the gap then starts the piece.)
                only_first = len(pieces) == 1 and pieces[0][1] is prev_block
                if prev_block is not None and (prev_block.n_bars > 1 or only_first):
                    options.append((bar_cost(prev_block.old_bar_end - 1) + taken[0], 0))
                if nxt is not None and nxt.n_bars > 0:
                    options.append((bar_cost(nxt.old_bar_start) + taken[1], 1))
                if not options or tries > MAX_RELEASED_BARS:
                    if solved is None:      # nothing to take and nothing fits: solve it free
                        solved = solve_gap(g0, g1, first, nxt is None, None, None, free=True)
                    break
                _, side = min(options)
                taken[side] += 1
                if side == 0:
                    prev_block.old_bar_end -= 1
                    released.append(prev_block.old_bar_end)
                    g0 = cur_s = cur_s - (old.bar_start_s(prev_block.old_bar_end + 1)
                                          - old.bar_start_s(prev_block.old_bar_end))
                    if prev_block.n_bars == 0:        # nothing kept before: start from 0 s
                        pieces.pop()
                        prev_block, first, g0, cur_s = None, True, 0.0, None
                else:
                    released.append(nxt.old_bar_start)
                    nxt.old_bar_start += 1
                    if nxt.n_bars == 0:
                        k += 1
                        nxt = blocks[k] if k < len(blocks) else None
                    g1 = start_s(nxt) if nxt is not None else new_duration_s
            if solved is None:
                raise RobinError("The music could not be fitted between the kept bars.",
                                 "Generate the piece again for this video.")
            pieces.append(("gap", solved[0]))
            cur_s = g1
        if nxt is None:
            break
        if cur_s is None:               # the first kept bar starts at (or before) 0 s
            cur_s = start_s(nxt)
        pieces.append(("keep", nxt))
        cur_s += old.bar_start_s(nxt.old_bar_end) - old.bar_start_s(nxt.old_bar_start)
        prev_block = nxt
        k += 1

    # Lay the pieces end to end in beats.
    segs: list[TempoSegment] = []
    sources: list[int | None] = []
    gaps: list[tuple[int, int]] = []
    offset_s: float | None = None
    beat = 0.0
    for kind, piece in pieces:
        if kind == "keep":
            if piece.n_bars <= 0:
                continue
            if offset_s is None:
                offset_s = old.bar_start_s(piece.old_bar_start) - piece.shift_s
            part = _slice(old, piece.old_bar_start * bpb, piece.old_bar_end * bpb)
            sources += list(range(piece.old_bar_start, piece.old_bar_end))
        else:
            tm: TempoMap = piece
            if offset_s is None:
                offset_s = tm.offset_s
            part = list(tm.segments)
            n = int(round(tm.total_beats / bpb))
            gaps.append((len(sources), len(sources) + n))
            sources += [None] * n
        for seg in part:
            segs.append(TempoSegment(beat + seg.start_beat, seg.length_beats, seg.start_bpm,
                                     seg.end_bpm))
        beat = segs[-1].end_beat
    tm = TempoMap(segs, bpb, offset_s or 0.0)
    return SplicePlan(tm, sources, gaps, sorted(set(released)))
