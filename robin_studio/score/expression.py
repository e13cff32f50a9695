"""Expression as players add it, derived from a track's notes: the sustain pedal of a
pianist, the bow and breath swells (CC11/CC1) and legato of strings, brass, winds and pads,
and portamento for synth leads. The same performance goes to the synthesizer
(`render.synth`) and into the MIDI export (`score.midi_io`), so a DAW plays what we played.

Everything is computed bar by bar from the notes that start in that bar, never from a
later bar: the streaming synthesizer, which is handed a few bars at a time, then plays
exactly what a one-shot render of the whole piece plays.

- Pedal (pianos and electric pianos, GM 0-7): the pedal changes with the harmony, the way
  "legato pedalling" is taught. At each chord (two or more notes struck together) and at
  each bar line it comes up just before (`PEDAL_UP_BEFORE` beats) and goes down again just
  after the new chord is struck (`PEDAL_DOWN_AFTER`), so the old harmony is cleared and the
  new one held. CC64 127/0 in the MIDI file; in the synthesizer (TinySoundFont has no pedal)
  a note released while the pedal is down keeps sounding until the pedal comes up.
- Swells (bowed strings, choirs, brass, reeds, pipes, pads): on every note or chord held for
  `SWELL_MIN_BEATS` or longer, expression (CC11, and CC1 for sample libraries that read the
  mod wheel as dynamics) starts at `SWELL_FROM`, holds through the attack (so the synth's
  attack compensation still puts the note on its beat), rises to `SWELL_PEAK` at 60 % of the
  note and eases back to `SWELL_REST`; shorter notes play at `SWELL_REST`.
- Legato (the same families, single lines): a note followed within a sixteenth by the next
  note is held until `LEGATO_OVERLAP_BEATS` into it, so the two connect as a bow change or a
  slurred breath does. The synth plays the overlap; the MIDI file keeps the written notes
  (so it reads back exactly) and marks the run with the legato footswitch (CC68).
- Portamento (synth leads, GM 80-87, in the styles of `PORTAMENTO_STYLES`): CC65 on with a
  short CC5 time in the MIDI file, so a DAW synth glides; TinySoundFont has no portamento, so
  our synth glides with the pitch wheel instead (`glides`): a note that follows the previous
  one within a sixteenth starts at the previous pitch and slides to its own in `GLIDE_S`.
  The 808 bass of trap (`score.idioms.SLIDING_BASS_STYLES`) slides the same way but slower,
  an audible portamento whose length is the style's (`Idiom.slide_beats` within
  `Idiom.slide_s`: `slide_seconds`), and its slides go into the MIDI file as pitch-bend
  ramps a point every `SLIDE_STEP_S` (`glide_bends`, `slide_ramp`).
- Repeated strikes (`REPEAT_WINDOW_S`): a key struck again soon after its last strike is
  never struck alike. Its velocity steps through `REPEAT_VELOCITY_STEPS` (into the next
  velocity layer of the bank, where it has layers), and a drummer's repeated hits sit a few
  ms off the grid by the style's feel (`DRUM_FEEL`): tight in EDM and trap, loose in jazz
  and lo-fi, the downbeat always where the band meets. These are decided here, from the
  notes, the tempo map and the piece's seed, so the synthesizer plays them and the MIDI
  file holds them (its notes are the performance; `score.midi_io` keeps what was written
  beside them, so reading our own file back gives the written score again).

The performance is on the MIDI file's grid (`TICKS_PER_BEAT`): what the synthesizer plays
is exactly what the file says, to the tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robin_studio.score.types import Note, Role, Score, Track

TICKS_PER_BEAT = 960           # the MIDI export's resolution, and so the performance's

PEDAL_PROGRAMS = frozenset(range(0, 8))
SWELL_PROGRAMS = frozenset([40, 41, 42, 43, 44, 48, 49, 50, 51, 52, 53, 54, *range(56, 80), *range(88, 96)])
PORTAMENTO_PROGRAMS = frozenset(range(80, 88))
# Styles whose synth leads glide (a style id; the score carries it in meta["style"]).
PORTAMENTO_STYLES = frozenset({"synthwave", "edm", "trap", "electronic", "house", "chiptune"})
GLIDE_GAP_BEATS = 0.25         # the next note within a sixteenth of the last: glide into it
GLIDE_MAX_SEMITONES = 12
GLIDE_S = 0.045                # how long our own synth takes to glide a synth lead
SLIDE_STEP_S = 0.01            # an 808 slide's pitch-bend ramp: a point every 10 ms
PEDAL_UP_BEFORE = 0.03
PEDAL_DOWN_AFTER = 0.12
CHORD_WINDOW_BEATS = 0.06      # notes struck within this of each other form a chord
SWELL_MIN_BEATS = 1.5
# Expression is steep: TinySoundFont (like GM2's 40*log10 curve, a little steeper) plays
# CC11 100 at -6 dB and 117 at -2 dB (measured), so a swell of 6 dB uses the top of the range.
SWELL_FROM, SWELL_PEAK, SWELL_REST = 100, 127, 117
SWELL_STEP_BEATS = 0.25
SWELL_HOLD_BEATS = 0.5         # the swell starts to rise after the attack
LEGATO_GAP_BEATS = 0.25
LEGATO_OVERLAP_BEATS = 0.06
PORTAMENTO_TIME = 12           # CC5: a quick glide


@dataclass(frozen=True, order=True)
class ControlChange:
    beat: float
    controller: int
    value: int


@dataclass(frozen=True)
class Performance:
    notes: list[Note]            # as played: what the MIDI file holds, beside `controls`
    sounding: list[Note]         # as heard: joined legato, held on by the pedal (the synth)
    controls: list[ControlChange]
    written: list[Note] = field(default_factory=list)   # `notes` as the score wrote them, in the same order


def _bars(notes: list[Note], bpb: int) -> dict[int, list[Note]]:
    out: dict[int, list[Note]] = {}
    for n in notes:
        out.setdefault(int((n.start_beat + 1e-6) // bpb), []).append(n)
    return out


def _onset_groups(notes: list[Note]) -> list[list[Note]]:
    groups: list[list[Note]] = []
    for n in sorted(notes):
        if groups and n.start_beat - groups[-1][0].start_beat <= CHORD_WINDOW_BEATS:
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def _pedal(notes: list[Note], bar: int, bpb: int) -> tuple[list[Note], list[ControlChange]]:
    start, end = bar * bpb, (bar + 1) * bpb
    changes = [start] + [g[0].start_beat for g in _onset_groups(notes)
                         if len(g) >= 2 and g[0].start_beat > start + CHORD_WINDOW_BEATS]
    changes = sorted(set(round(c, 6) for c in changes))
    spans = []
    ccs = []
    for k, c in enumerate(changes):
        nxt = changes[k + 1] if k + 1 < len(changes) else end
        down = c + min(PEDAL_DOWN_AFTER, (nxt - c) / 3)
        up = nxt - min(PEDAL_UP_BEFORE, (nxt - c) / 6)
        if up <= down:
            continue
        spans.append((down, up))
        ccs += [ControlChange(round(down, 6), 64, 127), ControlChange(round(up, 6), 64, 0)]
    sounding = []
    for n in notes:
        end_b = n.end_beat
        for down, up in spans:
            if down <= end_b < up:
                end_b = up
                break
        sounding.append(n if end_b == n.end_beat else Note(n.start_beat, end_b - n.start_beat, n.pitch, n.velocity))
    return sounding, ccs


def _swells(notes: list[Note], bar: int, bpb: int) -> list[ControlChange]:
    end = (bar + 1) * bpb
    ccs: list[ControlChange] = []
    groups = _onset_groups(notes)
    for k, g in enumerate(groups):
        s = g[0].start_beat
        stop = min(end, groups[k + 1][0].start_beat if k + 1 < len(groups) else end)   # the next onset takes over
        d = min(max(n.duration_beats for n in g), end - s)
        if d < SWELL_MIN_BEATS:
            ccs.append(ControlChange(round(s, 6), 11, SWELL_REST))
            continue
        steps = max(2, int(d / SWELL_STEP_BEATS))
        ccs.append(ControlChange(round(s, 6), 11, SWELL_FROM))
        for i in range(steps):
            x = i / steps
            if s + x * d >= stop - 1e-9:
                break
            if x * d < SWELL_HOLD_BEATS:
                continue      # the attack plays at one level, so it is heard on the beat
            if x < 0.6:
                v = SWELL_FROM + (SWELL_PEAK - SWELL_FROM) * (x / 0.6) ** 0.8
            else:
                v = SWELL_PEAK + (SWELL_REST - SWELL_PEAK) * (x - 0.6) / 0.4
            ccs.append(ControlChange(round(s + x * d, 6), 11, int(round(v))))
    return ccs


def _legato(notes: list[Note], bar: int, bpb: int) -> list[Note]:
    groups = _onset_groups(notes)
    if any(len(g) > 1 for g in groups):
        return notes                      # chords: leave them as written
    out = []
    seq = sorted(notes)
    for i, n in enumerate(seq):
        if i + 1 < len(seq):
            nxt = seq[i + 1]
            gap = nxt.start_beat - n.end_beat
            if -1e-9 <= gap <= LEGATO_GAP_BEATS:
                new_end = nxt.start_beat + LEGATO_OVERLAP_BEATS
                n = Note(n.start_beat, new_end - n.start_beat, n.pitch, n.velocity)
        out.append(n)
    return out


def _slides_808(track: Track, style: str | None) -> bool:
    """The bass of a style whose bass idiom is the 808 (`score.idioms`, trap): its tied notes
    slide into each other, as an 808 played with glide does."""
    from robin_studio.score.idioms import SLIDING_BASS_STYLES

    return track.role == Role.BASS and style in SLIDING_BASS_STYLES


def glides(track: Track, beats_per_bar: int = 4, style: str | None = None) -> list[tuple[float, int]]:
    """(beat, semitones) for each note of a gliding synth lead (or an 808 bass) that slides in
    from the note before it in the same bar: it starts `semitones` away (previous minus own
    pitch)."""
    if track.is_drums:
        return []
    lead = (int(track.program) & 127) in PORTAMENTO_PROGRAMS and style in PORTAMENTO_STYLES
    if not lead and not _slides_808(track, style):
        return []
    out = []
    # (on the tick grid, as the performance's notes are)
    for bar, ns in sorted(_bars([snap_to_ticks(n) for n in track.notes], max(1, int(beats_per_bar))).items()):
        groups = _onset_groups(ns)
        for prev, cur in zip(groups, groups[1:]):
            if len(prev) > 1 or len(cur) > 1:
                continue                  # chords do not glide
            a, b = prev[0], cur[0]
            step = a.pitch - b.pitch
            if 0 < abs(step) <= GLIDE_MAX_SEMITONES and -1e-9 <= b.start_beat - a.end_beat <= GLIDE_GAP_BEATS:
                out.append((b.start_beat, step))
    return out


# -- repeated strikes -------------------------------------------------------------------
# A strike of a key within REPEAT_WINDOW_S of its last strike is a repeat. None of the banks
# we ship has round-robin samples, but most of their programs have velocity layers 8 steps
# wide (FluidR3_GM: splits at 65, 73 ... 121 for pianos, guitars, strings, brass; 81 ... 121
# for the kits), so a repeat's velocity steps by REPEAT_VELOCITY_STEPS, most of which cross
# into the next layer up or down (a different sample), the rest change its level. The step
# is picked by the strike's place on a 32nd-note grid (plus a per-key, per-seed offset)
# modulo 7; the seven steps are at least 2 apart and none is 0: two strikes of a key a
# whole number of 32nds apart, other than a multiple of seven (rolls, eighths, quarters,
# bars...), never get the same step, and the first strike (played as written) differs
# from every repeat. On average a repeat is a little lighter than the strike that started
# the run, as players' repeated notes are. The steps are small (4.6 on average; the
# humaniser already spreads the engine's velocities, render.humanise.VELOCITY_SD): they
# make each repeat another sample or level, not another dynamic. The choice depends on
# nothing but the note itself, so streaming, regenerating a region or reading the piece
# back from its MIDI file decides it the same way.
#
# Drums are not detuned on repeats (the synthesizer once did it, a few cents through the
# kit's pitch wheel). A MIDI file cannot say it honestly: drums share channel 10, where a
# pitch bend bends every drum still sounding (a cymbal's tail under each snare repeat, as
# our synthesizer then did), and most DAW drum instruments ignore it; the per-note ways
# (MIDI Tuning Standard single-note retuning, MPE's channel per note, MIDI 2.0 per-note
# pitch) are played neither by TinySoundFont nor by a General MIDI kit in a DAW. A repeated
# hit varies by velocity (its layer) and time instead, which any player of the file repeats.
REPEAT_WINDOW_S = 3.0
REPEAT_VELOCITY_STEPS = (4, -6, 2, -2, 6, -4, -8)
_REPEAT_GRID = 8               # picks counted on 32nd notes


@dataclass(frozen=True)
class DrumFeel:
    spread_ms: float           # the largest push or drag of a repeated hit (a triangle around 0)
    backbeat_ms: float = 0.0   # snares on beats 2 and 4 sit this late (the lazy snare)


# How far a drummer's repeated hits sit off the grid, per style (a style id, as in
# score.idioms.STYLE_IDS). Programmed styles are near the grid; the lazy styles drag the
# backbeat. A hit on the downbeat is never moved (the one is where the band meets), other
# beats move by DRUM_ON_BEAT_SHARE of the spread; kicks move by half (the kick anchors the
# time). Every hit stays within DRUM_MAX_MS. Only drums are moved: pitched parts' timing is
# the humaniser's (render.humanise), on the notes themselves.
DRUM_FEEL: dict[str, DrumFeel] = {
    "chiptune": DrumFeel(0.0),                     # a sequencer: on the grid
    "edm": DrumFeel(1.0), "house": DrumFeel(1.0), "trap": DrumFeel(1.0),
    "electronic": DrumFeel(2.0), "synthwave": DrumFeel(2.0), "trailer": DrumFeel(2.0),
    "thriller": DrumFeel(3.0), "corporate": DrumFeel(3.0),
    "pop": DrumFeel(4.0), "funk": DrumFeel(4.0),
    "cinematic": DrumFeel(5.0), "ambient": DrumFeel(5.0), "orchestral": DrumFeel(5.0), "latin": DrumFeel(5.0),
    "rock": DrumFeel(6.0), "folk": DrumFeel(6.0), "acoustic": DrumFeel(6.0), "bossa": DrumFeel(6.0),
    "solopiano": DrumFeel(6.0),
    "hiphop": DrumFeel(6.0, 4.0), "boombap": DrumFeel(8.0, 6.0),
    "jazz": DrumFeel(9.0), "swing": DrumFeel(9.0), "lofi": DrumFeel(10.0, 8.0),
}
DEFAULT_DRUM_FEEL = DrumFeel(3.0)
DRUM_ON_BEAT_SHARE = 0.6
DRUM_KEY_SHARE = {35: 0.5, 36: 0.5}               # kicks
BACKBEAT_SNARES = frozenset({37, 38, 40})
DRUM_MAX_MS = 15.0
# A note that starts before the video (a first bar cut in) is played as written: the MIDI
# file starts at 0 s and keeps such notes exactly (see score.midi_io).
_PLAIN_BEFORE_S = 0.002


def _hash(*values: int) -> int:
    """A 64-bit mix of integers (splitmix64 steps): the same on every machine and run."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (int(v) & 0xFFFFFFFFFFFFFFFF)) * 0xBF58476D1CE4E5B9 & 0xFFFFFFFFFFFFFFFF
        h = (h ^ (h >> 31)) * 0x94D049BB133111EB & 0xFFFFFFFFFFFFFFFF
        h ^= h >> 29
    return h


def _unit(*values: int) -> float:
    """A triangular number in (-1, 1) from `values`: near 0 more often than at the edges."""
    h = _hash(*values)
    return ((h & 0xFFFFFFFF) + (h >> 32)) / 2.0 ** 32 - 1.0


def drum_feel(style: str | None) -> DrumFeel:
    return DRUM_FEEL.get((style or "").strip().lower(), DEFAULT_DRUM_FEEL)


def snap_to_ticks(n: Note) -> Note:
    """`n` on the tick grid (at least one tick long)."""
    a = round(n.start_beat * TICKS_PER_BEAT)
    b = max(a + 1, round(n.end_beat * TICKS_PER_BEAT))
    return Note(a / TICKS_PER_BEAT, (b - a) / TICKS_PER_BEAT, int(n.pitch), int(n.velocity))


def drum_offset_ms(note: Note, beats_per_bar: int, feel: DrumFeel, seed: int) -> float:
    """How late (ms, negative: early) a repeated hit of `note` is played."""
    beat_in_bar = note.start_beat % beats_per_bar
    frac = beat_in_bar % 1.0
    on_beat = min(frac, 1.0 - frac) < 1.0 / 16
    beat = int(round(beat_in_bar)) % beats_per_bar
    if on_beat and beat == 0:
        return 0.0                                  # the downbeat stays
    share = (DRUM_ON_BEAT_SHARE if on_beat else 1.0) * DRUM_KEY_SHARE.get(int(note.pitch), 1.0)
    ms = share * feel.spread_ms * _unit(seed, note.pitch, round(note.start_beat * TICKS_PER_BEAT))
    if on_beat and beats_per_bar == 4 and beat in (1, 3) and note.pitch in BACKBEAT_SNARES:
        ms += feel.backbeat_ms
    return max(-DRUM_MAX_MS, min(DRUM_MAX_MS, ms))


def _vary_repeats(written: list[Note], drums: bool, beats_per_bar: int, style: str | None,
                  tempo_map, seed: int, previous: dict[int, float] | None = None) -> list[Note]:
    """The notes (sorted, on the tick grid) as played: repeats varied (see REPEAT_WINDOW_S).
    `previous`: key -> beat of its last strike before these notes (a streamed piece's
    earlier chunks)."""
    seconds_at = tempo_map.seconds_at if tempo_map is not None else (lambda b: b * 0.5)
    beat_at = tempo_map.beat_at if tempo_map is not None else (lambda s: s * 2.0)
    feel = drum_feel(style)
    last: dict[int, float] = {}                     # key -> seconds of its last strike
    for key, beat in (previous or {}).items():
        last[key] = seconds_at(beat)
    out = []
    for n in written:
        t = seconds_at(n.start_beat)
        prev = last.get(n.pitch)
        last[n.pitch] = t
        if prev is None or t - prev > REPEAT_WINDOW_S or t < _PLAIN_BEFORE_S:
            out.append(n)
            continue
        pick = (round(n.start_beat * _REPEAT_GRID) + _hash(seed, n.pitch, 7)) % len(REPEAT_VELOCITY_STEPS)
        velocity = max(1, min(127, n.velocity + REPEAT_VELOCITY_STEPS[pick]))
        played = Note(n.start_beat, n.duration_beats, n.pitch, velocity)
        if drums and tempo_map is not None:
            ms = drum_offset_ms(n, beats_per_bar, feel, seed)
            if ms:
                bar_start = (n.start_beat + 1e-9) // beats_per_bar * beats_per_bar
                start = max(bar_start, beat_at(t + ms / 1000.0))        # never into the bar before
                end = beat_at(seconds_at(n.end_beat) + ms / 1000.0)
                played = snap_to_ticks(Note(start, max(end - start, 1.0 / TICKS_PER_BEAT), n.pitch, velocity))
        out.append(played)
    return out


def perform(track: Track, beats_per_bar: int = 4, style: str | None = None, tempo_map=None,
            seed: int = 0, previous: dict[int, float] | None = None) -> Performance:
    """The track's performance: notes as played (repeats varied), as heard (legato, pedal),
    and its controls. `tempo_map` (for the repeat window and the drums' ms) and `seed` (the
    piece's) as `perform_score` passes them; without a tempo map 120 bpm is assumed and the
    drums keep their timing. `previous`: key -> beat of its last strike before the first
    of these notes, when they continue a piece (`perform_score`)."""
    program = int(track.program) & 127
    bpb = max(1, int(beats_per_bar))
    written = sorted(snap_to_ticks(n) for n in track.notes)
    played = _vary_repeats(written, track.role == Role.DRUMS or track.is_drums, bpb, style, tempo_map, int(seed),
                           previous)
    if track.role == Role.DRUMS or track.is_drums or not track.notes:
        return Performance(played, sorted(played), [], written)
    sounding: list[Note] = []
    ccs: list[ControlChange] = []
    for bar, ns in sorted(_bars(played, bpb).items()):
        ns = sorted(ns)
        if program in SWELL_PROGRAMS:
            sw = _swells(ns, bar, bpb)
            ccs += sw + [ControlChange(c.beat, 1, c.value) for c in sw]
            joined = _legato(ns, bar, bpb)
            if joined != ns:
                ccs += [ControlChange(round(bar * bpb, 6), 68, 127),
                        ControlChange(round(max(n.end_beat for n in joined), 6), 68, 0)]
            ns = joined
        if program in PEDAL_PROGRAMS:
            heard, pedal = _pedal(ns, bar, bpb)
            sounding += heard
            ccs += pedal
        else:
            sounding += ns
    if program in PORTAMENTO_PROGRAMS and style in PORTAMENTO_STYLES:
        first = written[0].start_beat
        ccs += [ControlChange(max(0.0, first - 0.01), 5, PORTAMENTO_TIME),
                ControlChange(max(0.0, first - 0.01), 65, 127)]
    return Performance(played, sorted(sounding), sorted(ccs), written)


def perform_score(score: Score, previous: list[dict[int, float]] | None = None) -> list[Performance]:
    """Every track's performance, with the piece's style (`meta["style"]`), seed
    (`meta["seed"]`, 0 if none) and tempo map: what the synthesizer plays and the MIDI file
    holds. `previous` (per track, key -> beat of its last strike before this score's
    notes): for a score that holds only the next bars of a piece, as a streaming renderer
    is handed them; the notes are then played as in the whole piece."""
    meta = score.meta or {}
    style, seed = meta.get("style"), int(meta.get("seed", 0) or 0)
    return [perform(t, score.beats_per_bar, style, score.tempo_map, seed,
                    previous[i] if previous is not None and i < len(previous) else None)
            for i, t in enumerate(score.tracks)]


def slide_seconds(style: str | None, seconds_per_beat: float) -> float:
    """How long an 808 slide of `style` takes at this tempo (`score.idioms`: a share of a
    beat within the style's bounds in seconds), GLIDE_S for a style without one."""
    from robin_studio.score.idioms import IDIOMS

    idiom = IDIOMS.get(style or "")
    if idiom is None or idiom.bass_idiom != "808":
        return GLIDE_S
    lo, hi = idiom.slide_s
    return float(min(hi, max(lo, idiom.slide_beats * seconds_per_beat)))


def slide_ramp(seconds: float, semitones: int) -> list[tuple[float, float]]:
    """(seconds after the slid note's start, semitones from its own pitch) of a portamento
    that starts `semitones` away and reaches the note in `seconds`, linear in pitch, a point
    every SLIDE_STEP_S (the last exactly on the note)."""
    steps = max(6, int(round(seconds / SLIDE_STEP_S)))
    return [(seconds * i / steps, semitones * (1.0 - i / steps)) for i in range(steps + 1)]


def glide_ramps(track: Track, beats_per_bar: int, style: str | None, seconds_at
                ) -> list[tuple[float, list[tuple[float, float]]]]:
    """(beat, ramp) of every glide of the track, the ramp as `slide_ramp` gives it: a synth
    lead's in GLIDE_S, an 808's over its style's slide time (`slide_seconds`), never past
    the slid note's end. One source for the synth's pitch wheel and the MIDI file's bends.
    `seconds_at`: the tempo map's."""
    found = glides(track, beats_per_bar, style)
    if not found:
        return []
    slides = _slides_808(track, style)
    ends = {round(n.start_beat, 6): n.end_beat for n in map(snap_to_ticks, track.notes)}   # as `glides` reads them
    out = []
    for beat, semis in found:
        length = GLIDE_S
        if slides:
            t0 = seconds_at(beat)
            length = min(slide_seconds(style, seconds_at(beat + 1.0) - t0),
                         seconds_at(ends.get(round(beat, 6), beat + 1.0)) - t0)
        out.append((beat, slide_ramp(length, semis)))
    return out


def glide_bends(track: Track, beats_per_bar: int, style: str | None, seconds_at, beat_at
                ) -> list[tuple[float, int]]:
    """(beat, pitch-wheel value -8192..8191 at a range of GLIDE_MAX_SEMITONES) of the 808
    bass's slides, for the MIDI file: each slid note starts at the note before's pitch and
    bends home over the style's slide time (`glide_ramps`). (A synth lead's glide is
    portamento, CC65/CC5, in the file.) `seconds_at`/`beat_at`: the tempo map's."""
    if not _slides_808(track, style):
        return []
    out: list[tuple[float, int]] = []
    for beat, ramp in glide_ramps(track, beats_per_bar, style, seconds_at):
        t0 = seconds_at(beat)
        for dt, left in ramp:
            value = int(round(8191 * left / GLIDE_MAX_SEMITONES))
            out.append((beat_at(t0 + dt) if dt else beat, max(-8192, min(8191, value))))
    return out
