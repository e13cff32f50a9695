"""Hit points on a finished piece: the report per hit point (planned time, where the music
put it, distance, the onset heard in the render).

`hit_report(piece)` is what `robin-studio score` prints and the app's markers panel shows.
The heard onset comes from librosa's spectral-flux onset detector run on the rendered
(mastered) audio around each hit: the nearest onset within `HEARD_WINDOW_S` of where the
music marks it, or None when nothing was heard there.

`retime_hits(scorer, piece, hit_points, ignored_cuts_s)` is the engine's answer to a hit
point moved, added or removed, or a cut demoted, after the music was made: only the bars
around the change are solved and generated again (a new take).
"""

from __future__ import annotations

import numpy as np

from robin_studio.timing.hits import HitLanding, hit_landings

HEARD_WINDOW_S = 0.10      # an onset this close to the marked moment is the hit heard
ONSET_SR = 22050
ONSET_HOP = 256            # ~11.6 ms frames; onsets are refined by backtracking off


def heard_onsets_s(audio: np.ndarray, sample_rate: int, times_s, window_s: float = HEARD_WINDOW_S
                   ) -> list[float | None]:
    """For each time, the nearest onset librosa detects in `audio` within `window_s`."""
    import librosa

    a = np.asarray(audio, np.float32)
    mono = a.mean(axis=1) if a.ndim == 2 else a
    out: list[float | None] = []
    for t in times_s:
        # Only a few seconds around each hit are analysed: a long piece stays quick.
        s0 = max(0, int((t - 1.0) * sample_rate))
        s1 = min(mono.shape[0], int((t + 1.0) * sample_rate))
        if s1 - s0 < sample_rate // 10:
            out.append(None)
            continue
        y = librosa.resample(mono[s0:s1], orig_sr=sample_rate, target_sr=ONSET_SR) \
            if sample_rate != ONSET_SR else mono[s0:s1]
        env = librosa.onset.onset_strength(y=y, sr=ONSET_SR, hop_length=ONSET_HOP)
        on = librosa.onset.onset_detect(onset_envelope=env, sr=ONSET_SR, hop_length=ONSET_HOP,
                                        units="time")
        on = np.asarray(on, float) + s0 / sample_rate
        near = on[np.abs(on - t) <= window_s] if on.size else on
        out.append(float(near[np.argmin(np.abs(near - t))]) if near.size else None)
    return out


def hit_report(piece, *, heard: bool = True) -> list[HitLanding]:
    """One `HitLanding` per hit point of `piece`, with the heard onset when `heard`."""
    from dataclasses import replace

    lands = hit_landings(piece.tempo_map, piece.hit_points)
    if not heard or not lands:
        return lands
    onsets = heard_onsets_s(piece.audio, piece.sample_rate, [h.music_s for h in lands])
    return [replace(h, heard_s=o) for h, o in zip(lands, onsets)]


def report_lines(lands: list[HitLanding]) -> list[str]:
    """The report as lines for the terminal: one per hit point and a summary."""
    if not lands:
        return []
    on = sum(h.on_beat for h in lands)
    heard = [h for h in lands if h.heard_s is not None]
    lines = [h.line() for h in lands]
    lines.append(f"hit points: {on}/{len(lands)} on a beat within 10 ms, {len(heard)}/{len(lands)} "
                 f"heard within {HEARD_WINDOW_S * 1000:.0f} ms (onsets detected in the render)")
    return lines


def retime_hits(scorer, piece, hit_points, ignored_cuts_s=None, *, seed: int | None = None,
                progress=None):
    """Move, add or remove hit points (or demote cuts) on a finished piece.

    The tempo is solved again only around what changed: the bars holding a hit point's old
    and new times (or a demoted cut) become a stretch that `timing.splice` solves anew,
    taking neighbouring bars where the tempo needs room (phrase ends and section seams
    first); every other bar keeps its time and its notes. Only the stretch's bars are
    generated again (`generate.retime`), and the result is a new take (undo returns)."""
    from robin_studio.generate.retime import phrase_cost, piece_bpm_range, retime_piece
    from robin_studio.generate.engine import _frame_s
    from robin_studio.timing.hits import check_hits, hit_cut_marks, is_ignored
    from robin_studio.timing.solver import cut_marks_from_transitions
    from robin_studio.timing.splice import KeptBlock, splice_tempo_map

    analysis = piece.analysis
    dur = float(analysis.duration_s)
    new_hits = check_hits(hit_points, dur)
    old_ignored = list(piece.ignored_cuts_s)
    ignored = sorted(float(t) for t in (old_ignored if ignored_cuts_s is None else ignored_cuts_s))
    old_set = {(round(h.time_s, 4), h.strong) for h in piece.hit_points}
    new_set = {(round(h.time_s, 4), h.strong) for h in new_hits}
    changed = [t for t, _ in old_set ^ new_set]
    changed += [t.time_s for t in analysis.transitions
                if is_ignored(t.time_s, old_ignored) != is_ignored(t.time_s, ignored)]
    tm = piece.tempo_map
    n_bars = tm.total_bars
    touched = sorted({min(n_bars - 1, max(0, tm.bar_at(t))) for t in changed})
    blocks, start = [], 0
    for b in touched + [n_bars]:
        if b > start:
            blocks.append(KeptBlock(start, b, 0.0))
        start = b + 1
    moments = cut_marks_from_transitions([t for t in analysis.transitions if 0.0 < t.time_s < dur
                                          and not is_ignored(t.time_s, ignored)])
    moments += hit_cut_marks(new_hits)
    plan = splice_tempo_map(tm, dur, blocks, moments, bpm_range=piece_bpm_range(piece),
                            frame_s=_frame_s(analysis), bar_cost=phrase_cost(piece))
    return retime_piece(scorer, piece, analysis, plan, hit_points=new_hits,
                        ignored_cuts_s=ignored, seed=seed, label="hit points moved",
                        progress=progress)


def _lane_chunks(piece, bars_per_chunk: int = 4) -> list[tuple[int, float, float, object]]:
    """(index, start_s, end_s, spectrogram) per few bars of the piece's audio, for the app's
    music lane after a re-timing changed the whole take."""
    from robin_studio.generate.engine import _spectrogram

    tm = piece.tempo_map
    sr = piece.sample_rate
    edges = [0.0] + [max(0.0, tm.bar_start_s(b)) for b in range(bars_per_chunk, tm.total_bars,
                                                                   bars_per_chunk)]
    edges.append(float(piece.duration_s))
    out = []
    for k, (a, b) in enumerate(zip(edges, edges[1:])):
        if b - a > 1e-3:
            out.append((k, a, b, _spectrogram(piece.audio[int(a * sr):int(b * sr)])))
    return out


def retime_for_app(scorer, piece, hits: list[dict], ignored_cuts_s: list[float],
                   seed: int | None = None, progress=None) -> dict:
    """The app's call (through the engine process): `retime_hits` with plain data in and
    out: {"report": [HitLanding], "new_bars", "kept_bars", "summary", "chunks", "tempo_map"}.
    The app passes the `seed` (and saves it with the take), so that a saved project makes
    the same re-timed take again from the same parent take."""
    from robin_studio.timing.hits import HitPoint

    result = retime_hits(scorer, piece, [HitPoint.from_dict(h) for h in hits],
                         [float(t) for t in ignored_cuts_s], seed=seed, progress=progress)
    return {"report": hit_report(piece), "new_bars": result.new_bars,
            "kept_bars": result.kept_bars, "summary": piece.tempo_solution.summary,
            "chunks": _lane_chunks(piece), "tempo_map": piece.tempo_map}


def report_for_app(scorer, piece, progress=None) -> dict:
    """The app's call after a take is made: the report per hit point (with heard onsets)."""
    return {"report": hit_report(piece)}
