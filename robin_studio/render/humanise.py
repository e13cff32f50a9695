"""Humanisation: small random shifts of timing and velocity, so parts breathe like players,
and the dynamics players give a line without thinking about it:
- metre: the downbeat leans in, the third beat a little, off-beats and sixteenths fall
  back (`METRE_ACCENT`); on hats and rides much more (`HAT_ACCENT`): that is what makes a
  hat pattern groove instead of tick;
- phrase: over a four-bar phrase the line rises to its third bar and falls back
  (`PHRASE_SWING`), as a singer breathes;
- ghost notes (`ghost_notes=True`, the engine's grooves): soft snare notes on the sixteenth
  before a backbeat and sometimes after it, where a drummer's left hand drops them.
The rest of the performance (pedal, swells, legato, repeated strikes and the drummer's
feel on them) is in `score.expression`.

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
# Velocity offsets by position in the bar (beats from the bar line; 4/4 and others).
METRE_ACCENT = {"downbeat": 6.0, "mid": 3.0, "beat": 0.0, "eighth": -4.0, "sixteenth": -7.0}
HAT_ACCENT = {"downbeat": 8.0, "mid": 6.0, "beat": 6.0, "eighth": -6.0, "sixteenth": -14.0}
HAT_KEYS = frozenset({42, 44, 46, 51, 53, 59})
SNARE_KEYS = frozenset({38, 40})
PHRASE_BARS = 4
PHRASE_SWING = 8.0            # velocity, peak of the rise over a phrase
GHOST_VELOCITY = (24, 36)
GHOST_CHANCE = {-0.25: 0.55, 0.75: 0.3}   # beats from a backbeat -> how often a ghost falls there


def humanise(score: Score, protected_times_s: Iterable[float] = (), seed: int = 0,
             amount: float = 1.0, ghost_notes: bool = False) -> Score:
    """A copy of `score` with humanised timing and velocity (the input is not changed).

    `protected_times_s`: moments in seconds (cuts, hits) whose notes must stay put.
    `amount` scales every spread and accent (0 = no change). `ghost_notes`: add ghost
    snare notes to bars with a backbeat groove."""
    rng = np.random.default_rng(seed)
    tm = score.tempo_map
    bpb = max(1, int(score.beats_per_bar))
    cuts = sorted(float(t) for t in protected_times_s)
    tracks = []
    for track in score.tracks:
        if ghost_notes and track.role == Role.DRUMS and amount > 0:
            track = replace(track, notes=_with_ghosts(track.notes, bpb, rng))
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
            accent = amount * _accent(n, track.role, bpb)
            velocity = int(np.clip(round(n.velocity + accent + rng.normal(0.0, sd_v)), 1, 127))
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


def _position(beat_in_bar: float, bpb: int) -> str:
    """Where in the bar a note falls: downbeat, the middle beat (4/4), a beat, an eighth
    off-beat or a sixteenth."""
    frac = beat_in_bar % 1.0
    near = lambda x: abs(frac - x) < 0.06 or abs(frac - x - 1) < 0.06
    if near(0.0):
        b = int(round(beat_in_bar)) % bpb
        return "downbeat" if b == 0 else "mid" if (bpb == 4 and b == 2) else "beat"
    return "eighth" if near(0.5) else "sixteenth"


def _accent(n: Note, role: Role, bpb: int) -> float:
    """Velocity offset from metre (and, for pitched parts, the phrase)."""
    pos = _position(n.start_beat % bpb, bpb)
    if role == Role.DRUMS:
        return HAT_ACCENT[pos] if n.pitch in HAT_KEYS else 0.5 * METRE_ACCENT[pos]
    bar = int(n.start_beat // bpb)
    x = ((bar % PHRASE_BARS) + (n.start_beat % bpb) / bpb) / PHRASE_BARS   # 0..1 over the phrase
    # rises over the first three bars, falls back over the fourth
    phrase = PHRASE_SWING * (np.sin(0.5 * np.pi * x / 0.75) if x < 0.75 else 1.0 - 2.0 * (x - 0.75) / 0.25)
    return METRE_ACCENT[pos] * (0.6 if role in (Role.HARMONY, Role.TEXTURE) else 1.0) + float(phrase) - 1.5


def _with_ghosts(notes: list[Note], bpb: int, rng: np.random.Generator) -> list[Note]:
    """Ghost snare notes around the backbeats of bars that groove (hats on eighths)."""
    if bpb != 4 or not notes:
        return notes
    out = list(notes)
    bars: dict[int, list[Note]] = {}
    for n in notes:
        bars.setdefault(int(n.start_beat // bpb), []).append(n)
    for bar, ns in sorted(bars.items()):
        base = bar * bpb
        hats = [n for n in ns if n.pitch in HAT_KEYS]
        backbeats = [n for n in ns if n.pitch in SNARE_KEYS and _position(n.start_beat - base, bpb) in ("beat",)
                     and int(round(n.start_beat - base)) in (1, 3)]
        if len(hats) < 6 or not backbeats:
            continue
        snares = [n.start_beat for n in ns if n.pitch in SNARE_KEYS]
        for bb in backbeats:
            for offset, chance in GHOST_CHANCE.items():
                at = bb.start_beat + offset
                if rng.random() >= chance or not (base <= at < base + bpb - 0.1):
                    continue
                if any(abs(at - s) < 0.2 for s in snares):
                    continue
                v = int(rng.integers(GHOST_VELOCITY[0], GHOST_VELOCITY[1] + 1))
                out.append(Note(round(at, 6), 0.1, bb.pitch, v))
                snares.append(at)
    return sorted(out)
