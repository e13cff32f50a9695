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
a hit point off the beat, is first tried as a short bar (below); else it takes a kept
bar from a neighbouring block, preferring bars where a change is least audible (a phrase
end or a section seam, from `bar_cost`), and is solved again.

A short bar is what a film composer writes when a shot loses part of a bar: a bar of 2/4 or
3/4 (else 5/8 or 7/8; at worst 1/4 or 3/8). A gap that holds such a number of beats at a
tempo within `GAP_MAX_RATIO` of the music on either side (solved from the last moment before
it to the first one after it, so the kept music between re-times a little and its moments
stay on their beats) plays old music: the beats that followed the kept bars before it (a
shot lost its tail), or those that were under the picture it shows (a shot lost its head
or moved), when the old music's cuts and hit points there are the gap's, within
`SHORT_MOMENT_S`. Every kept bar after it stays with its picture. The tempo map has one
metre, so a short bar of p beats is a bar of `beats_per_bar` grid beats at bpb/p times the
tempo (`TempoMap.short_bars`, `SplicePlan.short_old_beats`); `generate.retime` lays the old
notes into it, scaled in time, so they sound at the music's own tempo (`score.metre`).
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
SHORT_MOMENT_S = 0.035      # a cut in a short bar is where the old music had one, within this


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
    # short bars: new bar -> (old beat, p): it plays old beats [old beat, old beat + p), its
    # bpb grid beats at bpb/p times their tempo (see the module docstring)
    short_old_beats: dict[int, tuple[float, float]] = field(default_factory=dict)

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
    """The music's tempo at the start (or end) of `bar` (a short bar's grid runs faster)."""
    bpb = tm.beats_per_bar
    beat = min(max(0.0, (bar + (1 if end else 0)) * bpb - (1e-6 if end else 0.0)), tm.total_beats)
    return tm.music_bpm_at_beat(beat)


@dataclass
class ShortBar:
    """A gap filled by a short bar of old music (see `short_bar`)."""
    tempo_map: TempoMap         # of the gap alone: one bar of p beats
    bpm: float                  # the music's tempo over the span (kept beats re-timed to it)
    first_beat: float           # it plays old beats [first_beat, first_beat + p)
    p: float                    # beats: whole, or a half (a bar of 5/8 is 2.5)


def short_bar(old: TempoMap, g0: float, g1: float, moments: Sequence[CutMark],
              old_moments: Sequence[CutMark], windows: Sequence[tuple[float, float]],
              left: tuple[float, float, float], right: tuple[float, float, float]
              ) -> ShortBar | None:
    """Fill the gap [g0, g1) of the new video with p beats of old music (fewer than a bar:
    half a bar or more in whole beats, else halves (5/8), else one beat or one and a half)
    from one of `windows` = (first old beat, the beat by which
    it must end), when the old music's cuts and hit points there are the gap's within
    `SHORT_MOMENT_S`: the music that was under this picture, cut on a beat.

    The tempo is solved over the whole span from the last moment before the gap to the first
    one after it, so those moments stay on their beats and the kept music between them and
    the gap re-times a little (at most `GAP_MAX_RATIO` from the old tempo on either side).
    `left` is (that moment's time, the kept beats from it to g0, the old tempo there),
    `right` (the moment's time, the kept beats from g1 to it, the old tempo there); where a
    side has no such moment its span ends at the gap (0 beats). None when nothing fits.

    (New music is not made to fit this way: a gap of new music is solved by the tempo
    solver, which lands its cuts. Whole bars and short bars of new music at one tempo over
    such a span kept more bars but landed fewer cuts and measured rougher seams against
    the approved piece; docs/CONFORM.md.)"""
    bpb = old.beats_per_bar
    (t_l, beats_l, bpm_l), (t_r, beats_r, bpm_r) = left, right
    span = t_r - t_l
    if span <= 1e-6 or g1 - g0 <= 1e-6:
        return None
    limit = math.log1p(GAP_MAX_RATIO) + 1e-9

    def tempo(p: float) -> float:
        return 60.0 * (beats_l + p + beats_r) / span

    def worst(p: float) -> float:
        return max(abs(math.log(tempo(p) / bpm_l)), abs(math.log(tempo(p) / bpm_r)))

    inside = [m for m in moments if g0 - 1e-3 < m.time_s < g1 - 1e-3]
    # Half a bar or more in whole beats (2/4, 3/4) first; else half beats (5/8, 7/8), the
    # way a composer writes a bar of 5/8 rather than bend the tempo; else a bar of one beat
    # or one and a half (1/4, 3/8: a film composer's last resort to catch a cut).
    half = (bpb + 1) // 2
    whole = [float(p) for p in range(half, bpb)]
    halves = [p + 0.5 for p in whole]
    shortest = [float(p) / 2 for p in range(2, 2 * half)]
    fitting = [p for group in (whole, halves, shortest)
               for p in sorted((p for p in group if worst(p) <= limit), key=worst)]
    for p in fitting:
        bpm = tempo(p)
        t0 = t_l + 60.0 * beats_l / bpm           # where the gap's music starts, re-timed
        have = sorted(m.time_s - t0 for m in inside)
        for first, last in windows:
            if first < 0 or first + p > last + 1e-6 or any(
                    int(b // bpb) in old.short_bars for b in (first, first + p - 1e-6)):
                continue
            w0 = old.seconds_at(first)
            want = sorted((old.beat_at(m.time_s) - first) * 60.0 / bpm for m in old_moments
                          if m.time_s > w0 - SHORT_MOMENT_S
                          and old.beat_at(m.time_s) < first + p - 1e-6)
            if len(want) == len(have) and all(abs(a - b) <= SHORT_MOMENT_S
                                              for a, b in zip(want, have)):
                grid = bpm * bpb / p
                tm = TempoMap([TempoSegment(0.0, float(bpb), grid, grid)], bpb, 0.0, {0: p})
                return ShortBar(tm, bpm, round(first, 6), p)
    return None


def _kept_segments(old: TempoMap, block: KeptBlock, head: tuple[float, float] | None,
                   tail: tuple[float, float] | None) -> list[TempoSegment]:
    """A kept block's tempo: the old map's, except its first `head` = (beats, bpm) and last
    `tail` beats, re-timed at a constant tempo around a short bar (`short_bar`)."""
    bpb = old.beats_per_bar
    b0, b1 = block.old_bar_start * bpb, block.old_bar_end * bpb
    h = head[0] if head else 0.0
    t = tail[0] if tail else 0.0
    out: list[TempoSegment] = []
    if h > 1e-9:
        out.append(TempoSegment(0.0, h, head[1], head[1]))
    if b1 - t - (b0 + h) > 1e-9:
        out += [TempoSegment(seg.start_beat + h, seg.length_beats, seg.start_bpm, seg.end_bpm)
                for seg in _slice(old, b0 + h, b1 - t)]
    if t > 1e-9:
        out.append(TempoSegment(b1 - b0 - t, t, tail[1], tail[1]))
    return out


def splice_tempo_map(old: TempoMap, new_duration_s: float, blocks: Sequence[KeptBlock],
                     moments: Sequence[CutMark], *, bpm_range: tuple[float, float],
                     frame_s: float | None = None,
                     bar_cost: Callable[[int], float] | None = None,
                     old_moments: Sequence[CutMark] | None = None) -> SplicePlan:
    """The new tempo map and, per new bar, the old bar it keeps (see the module docstring).

    `blocks` are in new-time order and must not overlap; `moments` are the new video's cuts
    and hit points (only those inside gaps matter: kept bars keep their landings).
    `bar_cost(old_bar)`: how audible giving up that old bar would be (lower is better).
    `old_moments`: the old video's cuts and hit points (in old time); with them a gap may be
    a short bar of old music whose moments are the gap's (`short_bar`)."""
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
    # Kept blocks re-timed around a short bar: id(block) -> (its last / first beats, bpm).
    retimed_tails: dict[int, tuple[float, float]] = {}
    retimed_heads: dict[int, tuple[float, float]] = {}

    def _anchor(block: KeptBlock, edge: float, before_gap: bool) -> tuple[float, float, float]:
        """(time, kept beats between it and the gap, old tempo there): the moment of the
        new video nearest the gap inside `block` (the kept music before or after it), or the
        gap's edge itself (0 beats) where the block has none or is re-timed already."""
        a, b = start_s(block), end_s(block)
        if before_gap:
            inside = [m.time_s for m in moments if a - 1e-3 <= m.time_s <= edge + 1e-3]
            t = max(inside) if inside and id(block) not in retimed_heads else edge
        else:
            inside = [m.time_s for m in moments if edge - 1e-3 <= m.time_s <= b + 1e-3]
            t = min(inside) if inside else edge
        at = old.beat_at(t + block.shift_s)
        return t, abs(at - old.beat_at(edge + block.shift_s)), old.music_bpm_at_beat(at)

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
            old_beats = None         # (first old beat, p) when the gap is a short bar of old music
            while True:
                before = _bar_bpm(old, prev_block.old_bar_end - 1, True) if prev_block else None
                after = _bar_bpm(old, nxt.old_bar_start, False) if nxt is not None else None
                solved = solve_gap(g0, g1, first, nxt is None, before, after)
                if (solved is not None and solved[1] <= math.log1p(GAP_MAX_RATIO) + 1e-9
                        and not solved[2]):
                    break
                fit = None
                if old_moments is not None and prev_block is not None and nxt is not None:
                    left, right = _anchor(prev_block, g0, True), _anchor(nxt, g1, False)
                    # Old music for a short bar: the beats that went on after the kept bars
                    # before the gap (a shot lost its tail), else those that were under the
                    # picture the gap shows (the next kept bars' shot lost its head or moved).
                    last = nxt.old_bar_start * bpb
                    windows = [(prev_block.old_bar_end * bpb, last),
                               (float(round(old.beat_at(g0 + nxt.shift_s))), last)]
                    fit = short_bar(old, g0, g1, moments, old_moments, windows, left, right)
                if fit is not None:
                    if left[1] > 1e-9:            # the kept music before it, re-timed
                        retimed_tails[id(prev_block)] = (left[1], fit.bpm)
                    if right[1] > 1e-9:           # and after it
                        retimed_heads[id(nxt)] = (right[1], fit.bpm)
                    solved, old_beats = (fit.tempo_map, 0.0, 0), (fit.first_beat, fit.p)
                    break
                tries += 1
                # Take a bar from the cheaper neighbour (a phrase end or seam, else any).
                # (Bars already taken from a side count against it: the gap grows evenly.)
                options = []
                # (The first kept block may go entirely: the gap then starts the piece.)
                only_first = len(pieces) == 1 and pieces[0][1] is prev_block
                # (Not into the beats of a block re-timed around a short bar before it.)
                held = retimed_heads.get(id(prev_block), (0.0,))[0] if prev_block else 0.0
                if (prev_block is not None and (prev_block.n_bars > 1 or only_first)
                        and (prev_block.n_bars - 1) * bpb >= held - 1e-6):
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
            pieces.append(("gap", (solved[0], old_beats)))
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
    short_old: dict[int, tuple[float, float]] = {}
    short: dict[int, float] = {}
    offset_s: float | None = None
    beat = 0.0
    for kind, piece in pieces:
        if kind == "keep":
            if piece.n_bars <= 0:
                continue
            if offset_s is None:
                offset_s = old.bar_start_s(piece.old_bar_start) - piece.shift_s
            part = _kept_segments(old, piece, retimed_heads.get(id(piece)),
                                  retimed_tails.get(id(piece)))
            short.update({len(sources) + j - piece.old_bar_start: q for j, q in old.short_bars.items()
                          if piece.old_bar_start <= j < piece.old_bar_end})
            sources += list(range(piece.old_bar_start, piece.old_bar_end))
        else:
            tm, old_beats = piece      # (a short bar of old music: the old beats it plays)
            if offset_s is None:
                offset_s = tm.offset_s
            part = list(tm.segments)
            short.update({len(sources) + i: q for i, q in tm.short_bars.items()})
            n = int(round(tm.total_beats / bpb))
            if old_beats is None:
                gaps.append((len(sources), len(sources) + n))
            else:
                short_old[len(sources)] = old_beats
            sources += [None] * n
        for seg in part:
            segs.append(TempoSegment(beat + seg.start_beat, seg.length_beats, seg.start_bpm,
                                     seg.end_bpm))
        beat = segs[-1].end_beat
    tm = TempoMap(segs, bpb, offset_s or 0.0, short)
    return SplicePlan(tm, sources, gaps, sorted(set(released)), short_old)
