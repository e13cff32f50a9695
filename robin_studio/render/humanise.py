"""Humanisation: small random shifts of timing and velocity, so parts breathe like players.

Notes that sit on a cut stay on it: any note starting within `ON_CUT_WINDOW_S` of a
protected time (the video's cuts, from the score's tempo map) keeps its start exactly, and
no other note is pushed across a protected time. Shifts are made in seconds and turned
back into beats through the tempo map (the only place that converts the two).
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Iterable

import numpy as np

from robin_studio.score.types import Note, Role, Score

ON_CUT_WINDOW_S = 0.035       # a note this close to a cut is "on" it and is not moved
MAX_SHIFT_S = 0.020           # never more than 20 ms anywhere
# Timing spread (standard deviation, seconds) and velocity spread per role: the rhythm
# section tight, the tune loosest.
TIMING_SD_S = {Role.DRUMS: 0.004, Role.BASS: 0.005, Role.HARMONY: 0.007,
               Role.MELODY: 0.009, Role.TEXTURE: 0.010}
VELOCITY_SD = {Role.DRUMS: 6.0, Role.BASS: 4.0, Role.HARMONY: 5.0, Role.MELODY: 6.0, Role.TEXTURE: 3.0}
CHORD_SPREAD_SD_S = 0.0015    # notes struck together land a hair apart, not all at once


def humanise(score: Score, protected_times_s: Iterable[float] = (), seed: int = 0,
             amount: float = 1.0) -> Score:
    """A copy of `score` with humanised timing and velocity (the input is not changed).

    `protected_times_s`: moments in seconds (cuts, hits) whose notes must stay put.
    `amount` scales every spread (0 = no change)."""
    rng = np.random.default_rng(seed)
    tm = score.tempo_map
    cuts = sorted(float(t) for t in protected_times_s)
    tracks = []
    for track in score.tracks:
        sd_t = TIMING_SD_S.get(track.role, 0.006) * amount
        sd_v = VELOCITY_SD.get(track.role, 5.0) * amount
        onset_shift: dict[float, float] = {}
        notes: list[Note] = []
        for n in track.notes:
            start_s = tm.seconds_at(n.start_beat)
            end_s = tm.seconds_at(n.end_beat)
            if n.start_beat not in onset_shift:   # one shared shift per chord
                onset_shift[n.start_beat] = float(rng.normal(0.0, sd_t))
            shift = onset_shift[n.start_beat] + float(rng.normal(0.0, CHORD_SPREAD_SD_S * amount))
            shift = float(np.clip(shift, -MAX_SHIFT_S, MAX_SHIFT_S))
            shift = _respect_cuts(start_s, shift, cuts)
            velocity = int(np.clip(round(n.velocity + rng.normal(0.0, sd_v)), 1, 127))
            if shift == 0.0:
                notes.append(replace(n, velocity=velocity))
                continue
            # Not before 0 s, unless the note already was (a first bar cut in).
            new_start = max(min(0.0, start_s), start_s + shift)
            new_end = max(new_start + 0.01, end_s + shift)
            b0 = tm.beat_at(new_start)
            b1 = tm.beat_at(new_end)
            notes.append(Note(start_beat=b0, duration_beats=max(b1 - b0, 1e-3), pitch=n.pitch, velocity=velocity))
        notes.sort()
        tracks.append(replace(track, notes=notes))
    return replace(score, tracks=tracks)


def _respect_cuts(start_s: float, shift: float, cuts: list[float]) -> float:
    """0 for a note on a cut; otherwise `shift` limited so the note does not cross one."""
    if not cuts:
        return shift
    i = bisect.bisect_left(cuts, start_s)
    before = cuts[i - 1] if i > 0 else None
    after = cuts[i] if i < len(cuts) else None
    if (before is not None and start_s - before <= ON_CUT_WINDOW_S) or \
            (after is not None and after - start_s <= ON_CUT_WINDOW_S):
        return 0.0
    if after is not None and start_s + shift >= after - ON_CUT_WINDOW_S:
        shift = min(shift, after - ON_CUT_WINDOW_S - start_s)
    if before is not None and start_s + shift <= before + ON_CUT_WINDOW_S:
        shift = max(shift, before + ON_CUT_WINDOW_S - start_s)
    return shift
