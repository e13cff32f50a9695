"""Hit points on a finished piece: the report per hit point (planned time, where the music
put it, distance, the onset heard in the render).

`hit_report(piece)` is what `robin-studio score` prints and the app's markers panel shows.
The heard onset comes from a spectral-flux onset detector (librosa's, written in numpy so
that no librosa is imported on the scoring path) run on the rendered (mastered) audio
around each hit: the nearest onset within `HEARD_WINDOW_S` of where the music marks it,
or None when nothing was heard there.

`retime_hits(scorer, piece, hit_points, ignored_cuts_s)` is the engine's answer to a hit
point moved, added or removed, or a cut demoted, after the music was made: only the bars
around the change are solved and generated again (a new take).
"""

from __future__ import annotations

import numpy as np

from robin_studio.timing.hits import HitLanding, hit_landings

HEARD_WINDOW_S = 0.10      # an onset this close to the marked moment is the hit heard
ONSET_N_FFT = 4096         # 85 ms at 48 kHz (librosa's default is 93 ms at 22.05 kHz)
ONSET_HOP = 512            # ~10.7 ms frames at 48 kHz
ONSET_MELS = 128


def onset_times_s(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Onsets (s from the start of `mono`) by spectral flux, as librosa's `onset_detect`
    finds them, in numpy: the mean over mel bands of the rise in dB from frame to frame,
    normalised to 0..1, then librosa's peak picking (a local maximum over 30 ms before, at
    least 0.07 above the mean of 100 ms around it, 30 ms after the last onset).
    (Importing librosa takes seconds: numba, scipy.signal; this runs after every `score`
    with hit points and in the app. tests/test_hit_points.py compares it with librosa.)"""
    from robin_studio.render.spectrogram import mel_spectrogram_image

    db = mel_spectrogram_image(mono, sample_rate, n_mels=ONSET_MELS, n_fft=ONSET_N_FFT,
                               hop=ONSET_HOP).astype(np.float64)
    db = np.maximum(db, db.max() - 80.0)                       # librosa's top_db
    if db.shape[1] < 3:
        return np.zeros(0)
    env = np.zeros(db.shape[1])
    env[1:] = np.maximum(0.0, np.diff(db, axis=1)).mean(axis=0)
    env -= env.min()
    if env.max() <= 0:
        return np.zeros(0)
    env /= env.max()
    fps = sample_rate / ONSET_HOP
    pre_max, post_max = int(0.03 * fps), 1
    pre_avg, post_avg = int(0.10 * fps), int(0.10 * fps) + 1
    wait = int(0.03 * fps)
    n = env.size
    c = np.concatenate([[0.0], np.cumsum(env)])
    peaks, last = [], -np.inf
    for i in range(1, n):
        a, b = max(0, i - pre_max), min(n, i + post_max)
        if env[i] < env[a:b].max():
            continue
        a2, b2 = max(0, i - pre_avg), min(n, i + post_avg)
        if env[i] < (c[b2] - c[a2]) / (b2 - a2) + 0.07:
            continue
        if i - last > wait:
            peaks.append(i)
            last = i
    # Frame k compares the windows starting at (k-1) and k hops. In dB an attack rises most
    # as it enters the window (whose end is then at the attack): librosa shifts its
    # centred frames by half a window for this, and so do we.
    return (np.asarray(peaks, float) * ONSET_HOP + ONSET_N_FFT) / sample_rate


def heard_onsets_s(audio: np.ndarray, sample_rate: int, times_s, window_s: float = HEARD_WINDOW_S
                   ) -> list[float | None]:
    """For each time, the nearest onset heard in `audio` (`onset_times_s`) within `window_s`."""
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
        on = onset_times_s(mono[s0:s1], sample_rate) + s0 / sample_rate
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


def realise_bar(arrangement, index: int, notes, controls, seed: int, seconds_per_beat: float):
    """`Arrangement.realise` for bar `index`, with the harmony change on a strong hit point
    the tempo could not put on a bar line (issue 18: a strong hit point is a downbeat, and
    a downbeat is where the harmony moves). From the hit on, bass, harmony and texture play
    the chord the next bar line would have brought (that bar line then holds it), struck on
    the hit; before it, the bar plays as planned. The tune keeps its notes, moved to a
    chord tone where one would rub against the new chord. (The final bar is the ending.)"""
    from dataclasses import replace

    from robin_studio.generate.conditions import HIT_PULL_BEATS, STRONG_HIT_POINTS_KEY
    from robin_studio.generate.idioms import resolve_clashes
    from robin_studio.score.types import Note, Role

    written = arrangement.realise(index, notes, controls, seed, seconds_per_beat)
    plan = getattr(arrangement, "plan", None)
    if plan is None or not plan.bars or controls is None or index >= len(plan.bars) - 1:
        return written
    bpb = plan.beats_per_bar
    points = [float(h) for h in (controls.extra or {}).get(STRONG_HIT_POINTS_KEY, ())
              if 1e-3 < float(h) < bpb - 1e-3]
    if not points:
        return written
    at = min(points)                                   # one change per bar: the first hit
    bar = plan.bars[index]
    sounding = bar.chords[0 if at < bpb / 2 else 1]
    new = next((c for b in plan.bars[index + 1:] for c in b.chords if c != sounding), None)
    if new is None:
        return written
    roles = {r for r in (Role.BASS, Role.HARMONY, Role.TEXTURE) if r in arrangement.tracks}
    if not roles:
        return written
    # The bar as it would sound on the new chord (the same patterns, voiced from the bar
    # before), for the parts that carry the harmony.
    plan.bars[index] = replace(bar, chords=[new, new])
    try:
        after = plan.realise(index, notes, controls, roles, seed, seconds_per_beat,
                             arrangement.asked_roles)
    finally:
        plan.bars[index] = bar
    out = dict(written)
    for role in roles:
        # (Notes within a sixteenth before the hit are played on it, `Arrangement.hit_points`:
        # there the new chord is, not the old one with it.)
        early = [n if n.end_beat <= at + 1e-6 else replace(n, duration_beats=round(at - n.start_beat, 6))
                 for n in written.get(role, []) if n.start_beat < at - HIT_PULL_BEATS - 1e-6]
        late = []
        for n in after.get(role, []):
            if n.end_beat <= at + 1e-6:
                continue
            if n.start_beat < at - 1e-6:             # held over the hit: from the hit on
                n = Note(at, round(n.end_beat - at, 6), n.pitch, n.velocity)
            late.append(n)
        if late and not any(abs(n.start_beat - at) < 1e-6 for n in late):
            # Nothing of the new chord starts on the hit: its first notes come early to it.
            first = min(n.start_beat for n in late)
            late = [Note(at, round(n.end_beat - at, 6), n.pitch, n.velocity)
                    if abs(n.start_beat - first) < 1e-6 else n for n in late]
        out[role] = sorted(early + late)
    chords = [bar.chords[0], new] if at <= bpb / 2 else [bar.chords[1], new]
    return resolve_clashes(out, chords, bpb, seconds_per_beat)


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
