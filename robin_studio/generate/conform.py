"""Re-conform: the approved music follows a re-edited video.

A creator scores a cut, likes a take, then trims, reorders, removes or inserts shots in
their editor and brings the new version back. `conform(scorer, piece, new_analysis)`:

1. Matches every shot of the new cut to the old cut by content and timing
   (`match_shots`): the analysis' per-shot image features (EfficientNet-Lite0, pooled)
   pick the old shot; tiny greyscale frame signatures of both videos place the new shot
   frame-exactly inside the old video (a trimmed shot shows part of an old shot; a moved
   one shows it elsewhere; a repeated one more than once). Among equally good places
   (a still or looping picture) the one that continues the previous new shot's match, then
   the old shot's head, wins. A new shot that looks like nothing in the old cut is new.
2. Turns the matches into runs of continuous old material and keeps, for each run, the
   old bars that lie wholly inside it, moved with their picture (`timing.splice`); the old
   final bar is never kept, so the ending is rebuilt on the new last frame.
3. Solves the tempo of every gap between kept bars (new shots, seams, the ending) so that
   its cuts land. A gap of part of a bar (a shot lost part of a bar) becomes a short bar
   (2/4 or 3/4, else 5/8, at worst 1/4) playing the old music of that picture, cut on a
   beat; where neither whole bars nor a short bar fit, the gap takes bars from
   neighbouring kept music, least audible first (section seams, phrase ends).
4. Generates the gap bars with their neighbours as context and renders the piece again
   (`generate.retime`): a new take of the same piece, so the old one is a click away.

The `ConformReport` says which shots matched (and how: unchanged, trimmed, moved,
repeated, new), what moved, which bars are new, which are short bars, which cuts no longer
land on a beat (they get a hit where they fall), and which hit points were dropped with the
shots they were on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robin_studio.analysis.types import VideoAnalysis
from robin_studio.errors import RobinError
from robin_studio.timing.hits import HitPoint, format_time

SIGNATURE_SIZE = (32, 18)        # greyscale frame signature (w, h)
SIGNATURE_SHORT_SIDE = 36
MATCH_MAX_DIFF = 0.06            # mean |grey difference| (0..1) of a matched shot's frames
FEATURE_WEIGHT = 0.05            # how much (1 - cosine of image features) adds to that
TIE_DIFF = 0.001                 # places this close count as equally good (timing decides)
SAME_SHIFT_S = 0.021             # matched shots this close in shift continue one run


@dataclass
class ShotMatch:
    new_index: int
    new_start_s: float
    new_end_s: float
    old_start_s: float | None = None      # where its picture starts in the old cut
    old_shot: int | None = None           # the old analysis shot it shows (most of)
    diff: float = math.inf                # mean frame difference at the match
    kind: str = "new"                     # unchanged, trimmed, moved, repeated, new

    @property
    def matched(self) -> bool:
        return self.old_start_s is not None

    @property
    def shift_s(self) -> float:
        """old time - new time for this shot's picture."""
        return (self.old_start_s - self.new_start_s) if self.old_start_s is not None else 0.0


@dataclass
class ConformReport:
    matches: list[ShotMatch]
    runs: list[tuple[float, float, float]]     # (new start, new end, shift) of kept material
    kept_bars: list[int]                       # new bars kept note for note
    new_bars: list[int]                        # new bars generated
    bar_times_s: list[float]                   # start of every new bar
    cuts_off_beat_s: list[float]               # cuts of the new video not on a beat
    dropped_hits: list[HitPoint] = field(default_factory=list)
    moved_hits: list[tuple[HitPoint, HitPoint]] = field(default_factory=list)
    old_duration_s: float = 0.0
    new_duration_s: float = 0.0
    seams_s: list[float] = field(default_factory=list)
    # short bars: (new bar, beats it holds, the old time its music starts at)
    short_bars: list[tuple[int, float, float]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report for people (the CLI prints it; the app shows it)."""
        out = [f"conform: {self.old_duration_s:.2f} s -> {self.new_duration_s:.2f} s, "
               f"{sum(m.matched for m in self.matches)}/{len(self.matches)} shots matched, "
               f"{len(self.kept_bars)}/{len(self.bar_times_s)} bars kept note for note, "
               f"{len(self.new_bars)} new"]
        for m in self.matches:
            where = f"new {format_time(m.new_start_s)}-{format_time(m.new_end_s)}"
            if not m.matched:
                out.append(f"  shot {m.new_index + 1}: {where}: new picture, new music")
            else:
                old = f"old {format_time(m.old_start_s)}-" \
                      f"{format_time(m.old_start_s + m.new_end_s - m.new_start_s)}"
                moved = f", moved {-m.shift_s:+.2f} s" if abs(m.shift_s) > 0.02 else ""
                out.append(f"  shot {m.new_index + 1}: {where} = {old} ({m.kind}{moved})")
        if self.new_bars:
            out.append("  new bars: " + _ranges(self.new_bars, self.bar_times_s))
        for i, p, old_s in self.short_bars:
            metre = f"{int(p)}/4" if float(p).is_integer() else f"{int(2 * p)}/8"
            out.append(f"  bar {i + 1} ({format_time(max(0.0, self.bar_times_s[i]))}) is a bar of "
                       f"{metre} (the approved music from {format_time(old_s)}, cut on a beat), "
                       f"so the bars after it stay with their picture")
        if self.cuts_off_beat_s:
            out.append("  cuts no longer on a beat (hit where they fall): "
                       + ", ".join(format_time(t) for t in self.cuts_off_beat_s))
        else:
            out.append("  every cut lands on a beat")
        for old, new in self.moved_hits:
            if abs(old.time_s - new.time_s) > 1e-3:
                out.append(f"  hit point {format_time(old.time_s)} moved with its shot to "
                           f"{format_time(new.time_s)}")
        for h in self.dropped_hits:
            out.append(f"  hit point {format_time(h.time_s)} dropped: its shot is gone")
        return out


def _ranges(bars: list[int], starts: list[float]) -> str:
    runs: list[list[int]] = []
    for b in bars:
        if runs and runs[-1][1] == b - 1:
            runs[-1][1] = b
        else:
            runs.append([b, b])
    txt = []
    for a, b in runs:
        t0 = starts[a]
        t1 = starts[b + 1] if b + 1 < len(starts) else None
        span = f"{format_time(max(0.0, t0))}" + (f"-{format_time(t1)}" if t1 is not None else "-end")
        txt.append(f"{a + 1}" + (f"-{b + 1}" if b > a else "") + f" ({span})")
    return ", ".join(txt)


# -- matching ------------------------------------------------------------------------------
def frame_signatures(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(times (n,), signatures (n, 576) float32 0..1): every frame, tiny and grey."""
    import cv2

    from robin_studio.media.decode import iter_frames

    times, sigs = [], []
    for f in iter_frames(path, short_side=SIGNATURE_SHORT_SIDE):
        grey = cv2.cvtColor(f.rgb, cv2.COLOR_RGB2GRAY)
        sigs.append(cv2.resize(grey, SIGNATURE_SIZE, interpolation=cv2.INTER_AREA).ravel())
        times.append(f.time_s)
    if not sigs:
        raise RobinError(f"No pictures could be read from {path}.", "Check that the video plays.")
    return np.asarray(times, np.float64), np.asarray(sigs, np.float32) / 255.0


def _unit(v) -> np.ndarray | None:
    a = np.asarray(v, np.float64)
    n = float(np.linalg.norm(a)) if a.size else 0.0
    return a / n if n > 1e-9 else None


def match_shots(old: VideoAnalysis, new: VideoAnalysis, old_sigs=None, new_sigs=None
                ) -> list[ShotMatch]:
    """Where each shot of `new` shows the old cut (see the module docstring).

    `old_sigs`/`new_sigs` are `frame_signatures` of the two videos (read from their paths
    when not given)."""
    if old_sigs is None:
        old_sigs = frame_signatures(old.path)
    if new_sigs is None:
        new_sigs = frame_signatures(new.path)
    ot, osig = old_sigs
    nt, nsig = new_sigs
    old_feat = [_unit(s.features) for s in old.shots]
    old_shot_of = np.searchsorted([s.start_s for s in old.shots], ot, side="right") - 1
    old_shot_of = np.clip(old_shot_of, 0, max(0, len(old.shots) - 1))
    # Squared distances between every new and old frame, as mean |difference| proxies.
    out: list[ShotMatch] = []
    prev: ShotMatch | None = None
    for k, shot in enumerate(new.shots):
        m = ShotMatch(k, float(shot.start_s), float(shot.end_s))
        rows = np.nonzero((nt >= shot.start_s - 1e-6) & (nt < shot.end_s - 1e-6))[0]
        if rows.size == 0 or osig.shape[0] < rows.size:
            out.append(m)
            prev = m
            continue
        n = rows.size
        # Mean absolute difference of the shot's frames against every placement in the old
        # video (full overlap: the new shot's picture lies wholly inside the old cut).
        d = np.abs(nsig[rows][:, None, :] - osig[None, :, :]).mean(axis=2)    # (n, N_old)
        n_off = osig.shape[0] - n + 1
        idx = np.arange(n)[:, None] + np.arange(n_off)[None, :]
        cost = d[np.arange(n)[:, None], idx].mean(axis=0)                     # (n_off,)
        # The image features of the old shot mostly shown at each placement.
        f_new = _unit(shot.features)
        if f_new is not None:
            mid_shot = old_shot_of[np.minimum(np.arange(n_off) + n // 2, osig.shape[0] - 1)]
            sim = np.array([float(f_new @ old_feat[j]) if old_feat[j] is not None else 0.0
                            for j in range(len(old.shots))])
            cost = cost + FEATURE_WEIGHT * (1.0 - sim[mid_shot])
        best = float(cost.min())
        if best > MATCH_MAX_DIFF + FEATURE_WEIGHT * 0.5:
            out.append(m)
            prev = m
            continue
        good = np.nonzero(cost <= best + TIE_DIFF)[0]
        # Among equally good placements: continue the previous shot's match, else start
        # where an old shot starts (a tail trim), else the best.
        frame_s = float(np.median(np.diff(ot))) if ot.size > 1 else 0.04
        choice = int(np.argmin(cost))
        if prev is not None and prev.matched:
            want = prev.old_start_s + (prev.new_end_s - prev.new_start_s)
            near = [g for g in good if abs(ot[g] - want) <= 0.5 * frame_s + 1e-6]
            if near:
                choice = near[0]
        if choice not in good or (prev is None or not prev.matched
                                  or abs(ot[choice] - (prev.old_start_s + prev.new_end_s
                                                       - prev.new_start_s)) > 0.5 * frame_s + 1e-6):
            starts = [g for g in good if any(abs(ot[g] - s.start_s) <= 0.5 * frame_s + 1e-6
                                             for s in old.shots)]
            if starts:
                choice = min(starts, key=lambda g: cost[g])
        m.old_start_s = float(ot[choice])
        m.diff = float(cost[choice])
        m.old_shot = int(old_shot_of[min(choice + n // 2, osig.shape[0] - 1)])
        out.append(m)
        prev = m
    _classify(out, old)
    return out


def _classify(matches: list[ShotMatch], old: VideoAnalysis) -> None:
    seen: dict[int, int] = {}
    for m in matches:
        if not m.matched:
            continue
        s = old.shots[m.old_shot]
        whole = (abs(m.old_start_s - s.start_s) <= 0.03
                 and abs((m.new_end_s - m.new_start_s) - s.duration_s) <= 0.05)
        seen[m.old_shot] = seen.get(m.old_shot, 0) + 1
        if seen[m.old_shot] > 1:
            m.kind = "repeated"
        elif not whole:
            m.kind = "trimmed"
        elif abs(m.shift_s) > 0.02:
            m.kind = "moved"
        else:
            m.kind = "unchanged"


def runs_of(matches: list[ShotMatch]) -> list[tuple[float, float, float]]:
    """(new start, new end, shift) of continuous old material: matched shots in a row whose
    pictures follow each other in the old cut too."""
    runs: list[list[float]] = []
    for m in matches:
        if not m.matched:
            continue
        if runs and abs(runs[-1][1] - m.new_start_s) < 1e-3 and abs(runs[-1][2] - m.shift_s) <= SAME_SHIFT_S:
            runs[-1][1] = m.new_end_s
        else:
            runs.append([m.new_start_s, m.new_end_s, m.shift_s])
    return [tuple(r) for r in runs]


# -- the conform ---------------------------------------------------------------------------
@dataclass
class ConformResult:
    piece: object                  # the same Piece, now with the conformed take current
    report: ConformReport
    retime: object                 # generate.retime.RetimeResult


def conform(scorer, piece, new_analysis: VideoAnalysis, *, old_signatures=None,
            new_signatures=None, seed: int | None = None, progress=None) -> ConformResult:
    """Make `piece`'s music follow the re-edited video `new_analysis` (a new take)."""
    from robin_studio.generate.engine import _frame_s
    from robin_studio.generate.retime import phrase_cost, piece_bpm_range, retime_piece
    from robin_studio.timing.grid import align_cuts, landing_tolerance_s
    from robin_studio.timing.hits import check_hits, hit_cut_marks, is_ignored
    from robin_studio.timing.solver import cut_marks_from_transitions
    from robin_studio.timing.splice import KeptBlock, splice_tempo_map

    def report(f: float, msg: str) -> None:
        if progress is not None:
            progress(float(min(1.0, max(0.0, f))), msg)

    old = piece.analysis
    dur = float(new_analysis.duration_s)
    if not dur > 0:
        raise RobinError("The new video has no length.", "Choose the re-edited video file.")
    report(0.0, "matching shots")
    matches = match_shots(old, new_analysis, old_signatures, new_signatures)
    runs = runs_of(matches)
    tm = piece.tempo_map
    n_old = tm.total_bars
    old_frame = _frame_s(old) or 0.04
    blocks: list[KeptBlock] = []
    for a, b, shift in runs:
        oa, ob = a + shift, b + shift
        j0 = math.ceil(tm.beat_at(oa - 0.5 * old_frame) / tm.beats_per_bar - 1e-9)
        if a <= 1e-6:
            # From the new video's first frame: the bar already sounding there is kept too
            # (its start, before 0 s, is not heard: a first bar cut in).
            j0 = min(j0, max(0, tm.bar_at(oa + 1e-6)))
        j1 = math.floor(tm.beat_at(ob + 0.5 * old_frame) / tm.beats_per_bar + 1e-9)
        j0, j1 = max(0, j0), min(n_old - 1, j1)          # the old final bar: rebuilt
        if j1 > j0:
            blocks.append(KeptBlock(j0, j1, shift))

    def to_new(t: float) -> float | None:
        for a, b, shift in runs:
            if a - 1e-6 <= t - shift < b + 1e-6:
                return t - shift
        return None

    moved_hits, dropped = [], []
    for h in piece.hit_points:
        t = to_new(h.time_s)
        if t is None or not (0.0 < t < dur):
            dropped.append(h)
        else:
            moved_hits.append((h, HitPoint(t, h.strong)))
    hits = check_hits([n for _, n in moved_hits], dur)
    ignored = sorted(t for t in (to_new(c) for c in piece.ignored_cuts_s) if t is not None)
    moments = cut_marks_from_transitions([t for t in new_analysis.transitions
                                          if 0.0 < t.time_s < dur and not is_ignored(t.time_s, ignored)])
    moments += hit_cut_marks(hits)
    report(0.15, "fitting the tempo")
    old_moments = cut_marks_from_transitions([t for t in old.transitions if 0.0 < t.time_s
                                              and not is_ignored(t.time_s, piece.ignored_cuts_s)])
    old_moments += hit_cut_marks(piece.hit_points)
    plan = splice_tempo_map(tm, dur, blocks, moments, bpm_range=piece_bpm_range(piece),
                            frame_s=_frame_s(new_analysis), bar_cost=phrase_cost(piece),
                            old_moments=old_moments)
    name = Path(new_analysis.path).name
    result = retime_piece(scorer, piece, new_analysis, plan, hit_points=hits,
                          ignored_cuts_s=ignored, seed=seed, label=f"conformed to {name}",
                          keep_phrases=True,
                          progress=lambda f, msg: report(0.2 + 0.8 * f, msg))
    ntm = piece.tempo_map
    cuts = [t.time_s for t in new_analysis.transitions if t.kind == "cut" and 0.0 < t.time_s < dur
            and not is_ignored(t.time_s, ignored)]
    tol = landing_tolerance_s(_frame_s(new_analysis))
    off = [a.time_s for a in align_cuts(ntm, cuts, tol) if not a.on_beat]
    rep = ConformReport(matches, runs, result.kept_bars, result.new_bars,
                        [ntm.bar_start_s(i) for i in range(ntm.total_bars)], off, dropped,
                        moved_hits, float(old.duration_s), dur, result.seams_s,
                        [(i, p, tm.seconds_at(first)) for i, (first, p) in result.short_bars.items()])
    return ConformResult(piece, rep, result)


def conform_for_app(scorer, piece, new_video: str, seed: int | None = None, progress=None) -> dict:
    """The app's File > Replace Video (through the engine process): analyse the new cut and
    conform; plain data back: {"analysis", "lines", "report", "chunks", "tempo_map"}. The app
    passes the `seed` and saves it with the take, so a reopened project conforms again alike."""
    from robin_studio.generate.hitpoints import _lane_chunks

    def part(a: float, b: float):
        return None if progress is None else (lambda f, m="": progress(a + (b - a) * f, m))

    new = scorer.analyze(new_video, progress=part(0.0, 0.3))
    result = conform(scorer, piece, new, seed=seed, progress=part(0.3, 1.0))
    return {"analysis": new, "lines": result.report.lines(), "report": result.report,
            "chunks": _lane_chunks(piece), "tempo_map": piece.tempo_map}
