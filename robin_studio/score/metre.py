"""Short bars: a bar of p beats (2/4, 3/4, or 5/8 as 2.5) in a piece of bpb beats a bar.

A re-edit that takes part of a bar from a shot leaves a gap of, say, two beats between
music that is kept. A film composer writes a 2/4 bar there. Our tempo map has one metre, so
such a bar keeps its bpb grid beats and runs them at bpb/p times the music's tempo
(`TempoMap.short_bars`, made by `timing.splice`); the p beats of music it holds are laid
into those grid beats scaled by bpb/p, so they sound at the music's own tempo. Everything
that writes notes into a short bar (a conform keeping the head of an old bar, a region
regenerated over it) folds them with `fold_into_short_bar`: old music from the beats it
had under that picture, new music from the last beats of a whole bar written for it
(`written_offset`), whose controls (hits, accents) are placed in those beats.
"""

from __future__ import annotations

import math
from dataclasses import replace

from robin_studio.score.types import Note, Role


def written_offset(p: float, beats_per_bar: int) -> int:
    """Which beats of a whole bar written for a short bar of p beats it plays: from this beat
    on (its last whole beats, where a bar's fill and its lead into the next bar are)."""
    return max(0, beats_per_bar - math.ceil(p))


def fold_into_short_bar(notes: dict[Role, list[Note]], p: float, beats_per_bar: int,
                        first_beat: float = 0.0, carry: bool = False) -> dict[Role, list[Note]]:
    """The notes of beats [first_beat, first_beat + p) of a bar (positions relative to its
    bar line), laid into a short bar of p beats: scaled by bpb/p in grid beats, relative to
    the short bar's line, and ended at its end. Notes starting outside the p beats are left
    out; with `carry`, those sounding into them from before are struck again at its line
    (a whole bar written for a short bar: its held chord goes on)."""
    k = beats_per_bar / float(p)
    out: dict[Role, list[Note]] = {}
    for role, ns in notes.items():
        kept = []
        for n in ns:
            rel = n.start_beat - first_beat
            dur = n.duration_beats
            if carry and rel < -1e-6 and n.start_beat + dur > first_beat + 1e-6:
                rel, dur = 0.0, n.start_beat + dur - first_beat
            if not -1e-6 <= rel < p - 1e-6:
                continue
            start = round(max(0.0, rel) * k, 6)
            dur = round(min(dur * k, beats_per_bar - start), 6)
            if dur > 1e-6:
                kept.append(replace(n, start_beat=start, duration_beats=dur))
        out[role] = sorted(kept)
    return out


def music_beats(tempo_map) -> tuple:
    """(to_music, from_music): a grid beat of `tempo_map` as the music's beat counted from
    the start (a short bar holds p of them, not bpb), and back. With no short bars both are
    the identity. A MIDI file is written in the music's beats, with a 2/4 (or 5/8...) bar
    where a short bar is, so a DAW shows the metre and the tempo that are heard."""
    bpb = tempo_map.beats_per_bar
    shorts = sorted(tempo_map.short_bars.items())

    def to_music(g: float) -> float:
        shift = 0.0
        for i, p in shorts:
            if g < i * bpb:
                break
            if g < (i + 1) * bpb:
                return i * bpb - shift + (g - i * bpb) * p / bpb
            shift += bpb - p
        return g - shift

    def from_music(m: float) -> float:
        shift = 0.0
        for i, p in shorts:
            start = i * bpb - shift
            if m < start:
                break
            if m < start + p:
                return i * bpb + (m - start) * bpb / p
            shift += bpb - p
        return m + shift

    return to_music, from_music


def music_tempo_map(tempo_map):
    """`tempo_map` counted in the music's beats (`music_beats`): each short bar's segment is
    p beats long at the tempo heard; every time is the same."""
    from robin_studio.score.tempo_map import TempoMap, TempoSegment

    to_music, _ = music_beats(tempo_map)
    segs = []
    for seg, heard in zip(tempo_map.segments, tempo_map.music_segments()):
        a, b = to_music(seg.start_beat), to_music(seg.end_beat)
        segs.append(TempoSegment(a, b - a, heard.start_bpm, heard.end_bpm))
    return TempoMap(segs, tempo_map.beats_per_bar, tempo_map.offset_s)
