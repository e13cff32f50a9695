"""The style's idioms at run time: what makes a house track a house track, whatever the
generator wrote and whatever the picture does.

`plan_piece` lays out the whole piece once, from the per-bar controls: which part of the
style's form each picture section plays (intro, verse, chorus, build, drop...), the chord of
every half bar (the style's progressions, `score.idioms`), where the groove starts, and
where the theme is stated, restated, varied and brought back. `IdiomPlan.realise` then
writes one bar:

- drums: the style's groove at the bar's energy level, a fill into a new section, a snare
  roll into a drop, a crash on a loud section's first beat. In a style with a pulse the
  groove plays in every bar after the intro: calm footage picks the "low" groove (fewer,
  softer hits), never none. Only an asked "no drums" (or a muted span) silences it;
- bass: the style's bass idiom on the planned chords (walking bass, octaves, sidechain pump,
  808s, ostinati, drones);
- harmony and texture: the style's comping pattern and pad/arpeggio/pulse on the same chords,
  voiced close and led smoothly from the bar before;
- melody: the generator's tune, kept in the mode, with leaps over an octave folded back,
  long notes and phrase ends moved onto chord tones, and the theme in the bars that state,
  restate, vary or bring it back;
- and no two parts hold a semitone (or minor ninth) for long: a long melody note that rubs
  against the accompaniment moves to a chord tone, and a harmony or pad note that rubs
  against the bass or the tune is left out.

Every choice is a function of (seed, bar, section), so a regenerated region changes only
its own bars, and the same seed gives the same piece.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from robin_studio.score.controls import BarControls
from robin_studio.score.idioms import (CRASH, HIT_VELOCITY, Idiom, bar_chords, bass_pitch,
                                       drum_hits, groove_level, idiom_for, near, pick, progressions,
                                       voice, walking_line, with_fill, SECTION_ENERGY, SECTION_RISE,
                                       MOTIF_RHYTHMS)
from robin_studio.score.theory import SCALES, VOICE_RANGES, fit_to_range
from robin_studio.score.types import Note, Role

SEMANTIC_KEY = "semantic_embedding"       # as generate.conditions / model.conditioning
VELOCITY_KEY = "velocity_scale"
HITS_KEY = "hits"                         # as generate.conditions: (beats into the bar, strong?)
DROP_KEY = "drop"                         # as generate.conditions: an asked drop lands on this bar
QUIET_KEY = "quiet"                       # as generate.conditions: an asked quiet span or breakdown
# A drop the form places lands from a break: the roll, bass and riser stop at this step (of
# 16), the last half beat of the build. (Half a beat: a cut's hit in that bar may take one
# kick off its beat, and three must stay on theirs for the bar to keep its four on the floor.)
BREATH_STEP = 14
QUIET_VELOCITY = 0.65                     # a bar this soft or softer is in an asked quiet span
SCENE_RETURN_SIMILARITY = 0.92            # two sections whose pictures are this alike: a return
THEME_BARS = 2
PHRASE_BARS = 4                           # a section this long starts its part's progression
TURNAROUND_EVERY = 8                      # the last bar of every 8 of a progression turns around
# A section's two-bar units of tune, in turn (the first of a section restates the theme).
TUNE_CYCLE = ("restate", "answer", "develop", "vary")
DEVELOP_MIN_NOTES = 3                     # the generator's bar is a line worth keeping
PHRASE_NOTE_BEATS = 2.0                   # a note this long ends a phrase (inside the theme: none)
CLASH_HOLD_S = 0.2                        # a semitone held together longer than this is a clash
MIN_NOTE_S = 0.075                        # pitched notes at least this long (before humanising)
LEGATO_BEATS = 1.75                       # a tune's note is held up to the next one this close
REGISTER = {Role.BASS: 40, Role.HARMONY: 62, Role.TEXTURE: 60, Role.MELODY: 74}


def _h(*parts) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:10], 16)


@dataclass
class PlannedBar:
    index: int
    section: int                          # the picture section (a run of one section_id)
    part: str                             # the form's name for it: intro, verse, drop...
    bar_in_section: int
    bars_in_section: int
    chords: list[tuple[int, tuple[int, ...]]]   # two half-bar chords
    next_root: int
    groove: bool                          # the style's groove plays (after the intro)
    theme: str | None = None              # state | restate | answer | develop | vary | return
    handoff: bool = False                 # the harmony part plays the theme's answer, the tune rests
    theme_bar: int = 0
    into_drop: bool = False
    rest: bool = False                    # an asked quiet span or breakdown: the kit rests
    written_break: bool = False           # the bar before an asked drop: drums and bass rest


@dataclass
class IdiomPlan:
    style: str
    idiom: Idiom
    tonic: int
    mode: str
    beats_per_bar: int
    bars: list[PlannedBar]
    intro_bars: int
    theme: dict[int, list[Note]] = field(default_factory=dict)    # theme bar -> notes
    theme_roots: dict[int, int] = field(default_factory=dict)     # theme bar -> chord root then
    last_melody: dict[int, int] = field(default_factory=dict)     # bar -> its last tune pitch
    intro_rest: bool = True           # the tune rests in the intro (when other parts play)

    # -- helpers --------------------------------------------------------------------------
    def scale_pcs(self) -> set[int]:
        pcs = {(self.tonic + s) % 12 for s in SCALES[self.mode]}
        if self.mode == "minor":
            pcs.add((self.tonic + 11) % 12)    # the leading tone a minor cadence needs
        return pcs

    def energy(self, bar: PlannedBar, controls: BarControls | None) -> float:
        e = float(controls.energy) if controls is not None else 0.5
        extra = (controls.extra or {}) if controls is not None else {}
        if float(extra.get(VELOCITY_KEY, 1.0)) <= QUIET_VELOCITY:
            return min(e, 0.3)                 # an asked quiet span stays quiet
        if bar.part in SECTION_RISE and self.idiom.part_bars:
            # A dance form's build rises through its bars into its drop, whatever the
            # picture does.
            first, last = SECTION_RISE[bar.part]
            return float(first + (last - first) * _position(bar))
        floor, ceil, offset = SECTION_ENERGY.get(bar.part, (0.0, 1.0, 0.0))
        e = min(ceil, max(floor, e + offset))
        if self.idiom.form and self.idiom.form[-1] == "climax" and self.bars:
            # A trailer rises to its end whatever the picture does.
            e = max(e, 0.25 + 0.7 * (bar.index / max(1, len(self.bars) - 1)) ** 1.3)
        return float(np.clip(e, 0.0, 1.0))

    # -- one bar ------------------------------------------------------------------------------
    def realise(self, index: int, model_notes: dict[Role, list[Note]], controls: BarControls | None,
                roles: set[Role], seed: int, seconds_per_beat: float,
                asked_roles: frozenset[Role] = frozenset()) -> dict[Role, list[Note]]:
        """The bar's notes per role (beats from the bar start), for the roles in `roles`."""
        if not self.bars:
            return {r: list(ns) for r, ns in model_notes.items()}
        bar = self.bars[min(index, len(self.bars) - 1)]
        energy = self.energy(bar, controls)
        level = groove_level(energy)
        vel_scale = 0.72 + 0.35 * energy
        choice = _h(seed, self.style, bar.section, bar.part)
        out: dict[Role, list[Note]] = {}
        if Role.DRUMS in roles:
            out[Role.DRUMS] = self._drums(bar, level, energy, choice, vel_scale)
        if Role.BASS in roles:
            # The bar before an asked drop breathes; a build's last bar rolls softly into its
            # drop (`Idiom.build_bass`), which brings the full bass back.
            rolls = bar.part == "build" and bar.into_drop and self.idiom.build_bass is not None
            out[Role.BASS] = ([] if bar.written_break else
                              self._bass(bar, energy, choice, vel_scale * self.idiom.build_bass_velocity, seed,
                                         pattern=self.idiom.build_bass) if rolls else
                              self._bass(bar, energy, choice, vel_scale, seed))
            if self._breath_before_drop(bar):
                stop = BREATH_STEP / 4
                out[Role.BASS] = [Note(n.start_beat, min(n.duration_beats, stop - n.start_beat), n.pitch, n.velocity)
                                  for n in out[Role.BASS] if n.start_beat < stop - 0.25]
        if Role.HARMONY in roles:
            out[Role.HARMONY] = self._comping(bar, energy, choice, vel_scale, bass=Role.BASS in roles)
            if bar.handoff and self.theme:
                out[Role.HARMONY] = self._handoff(bar, seed, vel_scale, out[Role.HARMONY])
        if Role.TEXTURE in roles:
            kind = self.idiom.part_texture.get(bar.part, self.idiom.texture)
            if kind == "none" and Role.TEXTURE in asked_roles:
                kind = "pad"
            out[Role.TEXTURE] = self._texture(bar, kind, vel_scale)
        if Role.MELODY in roles:
            out[Role.MELODY] = self._melody(bar, model_notes.get(Role.MELODY, []), vel_scale, seed)
        out = resolve_clashes(out, bar.chords, self.beats_per_bar, seconds_per_beat)
        return clear_around_hits(out, controls)

    def _drums(self, bar: PlannedBar, level: str, energy: float, choice: int, vel_scale: float) -> list[Note]:
        idiom = self.idiom
        if bar.rest or bar.written_break:
            return []                          # asked: a quiet span, a breakdown, the breath before a drop
        if not bar.groove:
            if not idiom.pulse or bar.index == 0:
                return []
            # The intro's second bar: the groove's lightest voices lead in (no kick, no snare).
            groove = {d: p for d, p in idiom.grooves["low"].items() if d not in (35, 36, 38, 39, 37)}
        else:
            groove = dict(idiom.grooves.get(level) or {})
        if not groove and not idiom.pulse:
            return []
        last = bar.bar_in_section == bar.bars_in_section - 1 and bar.index < len(self.bars) - 1
        if bar.part == "build" and idiom.build and idiom.part_bars and bar.groove:
            # The build's roll, stage by stage from its first bar to its last.
            stage = round(_position(bar) * (len(idiom.build) - 1))
            groove = dict(idiom.build[-1] if bar.into_drop else idiom.build[stage])
            if self._breath_before_drop(bar):
                groove = {d: p[:BREATH_STEP] + "." * (16 - BREATH_STEP) for d, p in groove.items()}
        elif bar.into_drop and idiom.build:
            groove = dict(idiom.build[-1])
            if self._breath_before_drop(bar):
                # The roll stops half a beat before the drop: the written break it lands from.
                groove = {d: p[:BREATH_STEP] + "." * (16 - BREATH_STEP) for d, p in groove.items()}
        elif last and idiom.fills and bar.groove:
            fill = idiom.fills[choice % len(idiom.fills)]
            groove = with_fill(groove, fill, 8 if energy >= 0.35 else 12)
        elif bar.groove and bar.bar_in_section % 8 == 7 and idiom.fills and energy >= 0.5:
            groove = with_fill(groove, idiom.fills[(choice >> 3) % len(idiom.fills)], 12)
        notes = [Note(s / 4, 0.25, drum, int(np.clip(v * vel_scale, 1, 127))) for s, drum, v in drum_hits(groove)]
        if bar.bar_in_section == 0 and bar.index > 0 and level != "low" and bar.groove:
            if not any(n.pitch == CRASH and n.start_beat == 0 for n in notes):
                notes.append(Note(0.0, 1.0, CRASH, int(np.clip(105 * vel_scale, 1, 127))))
        return sorted(notes)

    def _breath_before_drop(self, bar: PlannedBar) -> bool:
        """The bar rolls into a drop the form (not the prompt) placed: its last half beat is a
        written break (an asked drop gets a whole bar, `PlannedBar.written_break`). A
        trailer's rise runs on into its climax, its ostinato unbroken."""
        nxt = self.bars[bar.index + 1] if bar.index + 1 < len(self.bars) else None
        return bar.into_drop and nxt is not None and not nxt.written_break and nxt.part == "drop"

    def _bass(self, bar: PlannedBar, energy: float, choice: int, vel_scale: float, seed: int,
              pattern=None) -> list[Note]:
        idiom = self.idiom
        pattern = pattern or pick(idiom.bass["high" if energy >= 0.55 else "low"], choice >> 5)
        center = REGISTER[Role.BASS]
        lo, hi = VOICE_RANGES[Role.BASS]
        v = int(np.clip(92 * vel_scale, 1, 127))
        walk_n = sum(1 for e in pattern if e[2] == "W")
        walk = iter(walking_line(*bar.chords[0], bar.next_root, center, walk_n,
                                 _h(seed, "walk", bar.index), mid=bar.chords[1])) if walk_n else iter(())
        out = []
        # An ostinato keeps its figure on the bar's first chord when the harmony turns at
        # mid-bar above it (a pedal under the turnaround); other basses follow each half.
        ostinato = idiom.bass_idiom == "ostinato"
        for s, d, sym in pattern:
            root, pcs = bar.chords[0 if ostinato else min(1, s // 8)]
            if sym == "W":
                p = next(walk, near(root, center))
            else:
                target = bar.chords[1][0] if s < 8 and bar.chords[1][0] != root and not ostinato else bar.next_root
                p = bass_pitch(sym, root, pcs, target, center, SCALES["major" if self.mode == "major" else "minor"],
                               self.tonic)
            out.append(Note(s / 4, d / 4, int(p), v))
        # Into the bass range by whole octaves for the bar at once where it fits, so a figure
        # keeps its shape (an ostinato repeats its intervals whatever the chord's root).
        if out and max(n.pitch for n in out) > hi and min(n.pitch for n in out) - 12 >= lo:
            out = [Note(n.start_beat, n.duration_beats, n.pitch - 12, n.velocity) for n in out]
        if out and min(n.pitch for n in out) < lo and max(n.pitch for n in out) + 12 <= hi:
            out = [Note(n.start_beat, n.duration_beats, n.pitch + 12, n.velocity) for n in out]
        return [Note(n.start_beat, n.duration_beats, fit_to_range(n.pitch, lo, hi), n.velocity) for n in out]

    def _comping(self, bar: PlannedBar, energy: float, choice: int, vel_scale: float, bass: bool) -> list[Note]:
        pattern = pick(self.idiom.comping["high" if energy >= 0.55 else "low"], choice >> 9)
        v = int(np.clip(72 * vel_scale, 1, 127))
        out = []
        for s, d, sym in pattern:
            half = min(1, s // 8)
            root, pcs = bar.chords[half]
            pcs = list(pcs)
            if bass and len(pcs) >= 4:
                pcs = pcs[1:]              # rootless, as a pianist voices over a bass player
            voicing = self._voicing(bar, half, pcs)
            if sym == "C":
                chosen = voicing
            elif sym == "L":
                r = near(root, REGISTER[Role.HARMONY] - 10)
                chosen = [r, r + 7]
            elif sym == "H":
                chosen = voicing[1:] or voicing
            else:
                chosen = [voicing[(int(sym) - 1) % len(voicing)]]
            out += [Note(s / 4, d / 4, int(p), v) for p in chosen]
        return out

    def _voicing(self, bar: PlannedBar, half: int, pcs: list[int], center: int | None = None) -> list[int]:
        """A close voicing near the register, led from the previous chord's (stateless: the
        previous chord is voiced the same way, so a regenerated bar voices as the old one did)."""
        center = center or REGISTER[Role.HARMONY]
        prev_chord = bar.chords[0] if half == 1 else (
            self.bars[bar.index - 1].chords[1] if bar.index > 0 else None)
        prev = voice(tuple(prev_chord[1]), center, None) if prev_chord else None
        return list(voice(tuple(pcs), center, prev))

    def _texture(self, bar: PlannedBar, kind: str, vel_scale: float) -> list[Note]:
        if kind == "none":
            return []
        v = int(np.clip(52 * vel_scale, 1, 127))
        if kind == "riser":
            return self._riser(bar, v)
        out = []
        for half in (0, 1):
            root, pcs = bar.chords[half]
            triad = list(pcs[:3])
            tones = self._voicing(bar, half, triad, REGISTER[Role.TEXTURE])
            t0 = 2.0 * half
            if kind == "arp":
                seq = tones + [tones[0] + 12]
                out += [Note(t0 + k * 0.5, 0.5, seq[k % len(seq)], v) for k in range(4)]
            elif kind == "pulse":
                low = near(root, REGISTER[Role.TEXTURE] - 12)
                out += [Note(t0 + k * 0.5, 0.5, low if k % 2 == 0 else low + 7, v) for k in range(4)]
            else:
                if half == 1 and bar.chords[1] == bar.chords[0]:
                    out = [Note(n.start_beat, 4.0, n.pitch, n.velocity) for n in out]
                    continue
                out += [Note(t0, 2.0, p, v) for p in tones]
        return out

    def _riser(self, bar: PlannedBar, velocity: int) -> list[Note]:
        """A build's riser: the chord's tones climbing through the build (an octave and a half
        from its first bar to its last), in eighths, in sixteenths in its last bar, growing
        louder; it stops with the roll half a beat before a drop."""
        pos = _position(bar)
        last = bar.bar_in_section == bar.bars_in_section - 1
        step = 0.25 if last else 0.5
        stop = BREATH_STEP / 4 if self._breath_before_drop(bar) else float(self.beats_per_bar)
        base = REGISTER[Role.TEXTURE] - 7 + int(round(18 * pos))
        out = []
        k, t = 0, 0.0
        while t < stop - 1e-9:
            pcs = bar.chords[min(1, int(t // 2))][1][:3]
            ladder = [p for p in range(base, base + 25) if p % 12 in set(pcs)]
            frac = (bar.bar_in_section + t / self.beats_per_bar) / max(1, bar.bars_in_section)
            v = int(np.clip(velocity * (0.7 + 0.6 * frac), 1, 127))
            out.append(Note(t, step, ladder[min(len(ladder) - 1, k % (2 * len(pcs)))], v))
            k, t = k + 1, t + step
        return out

    # -- the tune ------------------------------------------------------------------------------
    def _melody(self, bar: PlannedBar, written: list[Note], vel_scale: float, seed: int) -> list[Note]:
        last_of_unit = bar.theme_bar == THEME_BARS - 1
        if bar.part == "intro" and self.intro_rest:
            notes = []                # the tune enters after the intro
        elif bar.handoff and self.theme:
            notes = []                # the second voice answers (`_handoff`)
        elif bar.theme == "develop" and self.theme:
            notes = self._clean(bar, written)
            if len(notes) < DEVELOP_MIN_NOTES:
                notes = self._restate(bar, seed, vel_scale, sequence=True)
            elif last_of_unit:
                notes = _phrase_end(notes, bar.chords[1][1], self.beats_per_bar)
        elif bar.theme is not None and bar.theme not in ("state", "develop") and self.theme:
            notes = self._restate(bar, seed, vel_scale)
        else:
            notes = self._clean(bar, written)
            if bar.theme == "state":
                # The generator's bar becomes the theme when it is a line: four notes or more
                # (the second bar: two before its middle, the phrase's end held after them).
                head = [x for x in notes if x.start_beat < self.beats_per_bar / 2]
                if len(notes) < 4 if bar.theme_bar == 0 else len(head) < 2:
                    notes = self._motif(bar, seed, vel_scale)
                if last_of_unit:
                    notes = _phrase_end(notes, bar.chords[1][1], self.beats_per_bar)
                else:
                    notes = [x if x.duration_beats < PHRASE_NOTE_BEATS else
                             Note(x.start_beat, PHRASE_NOTE_BEATS - 0.25, x.pitch, x.velocity) for x in notes]
                self.theme[bar.theme_bar] = list(notes)
                self.theme_roots[bar.theme_bar] = bar.chords[0][0]
        notes = self._fold_leaps(bar.index, notes)
        if notes:
            self.last_melody[bar.index] = notes[-1].pitch
        elif bar.index - 1 in self.last_melody:
            self.last_melody[bar.index] = self.last_melody[bar.index - 1]
        return notes

    def _handoff(self, bar: PlannedBar, seed: int, vel_scale: float, comping: list[Note]) -> list[Note]:
        """The theme's answer played by the harmony part an octave under the tune (strings
        answering the piano's statement), over the chord held softly below it."""
        line = self._restate(bar, seed, vel_scale, answer=True)
        if not line:
            return comping
        lo, hi = VOICE_RANGES[Role.HARMONY]
        top = REGISTER[Role.HARMONY] + 12
        shift = 0
        while max(n.pitch for n in line) + shift > top:
            shift -= 12
        while min(n.pitch for n in line) + shift < lo:
            shift += 12
        line = [Note(n.start_beat, n.duration_beats, n.pitch + shift, int(np.clip(n.velocity * 0.95, 1, 127)))
                for n in line]
        floor = min(n.pitch for n in line)
        held = []
        for half in (0, 1):
            pcs = list(bar.chords[half][1][:3])
            tones = [p for p in self._voicing(bar, half, pcs, floor - 7) if p < floor - 2]
            v = int(np.clip(58 * vel_scale, 1, 127))
            held += [Note(2.0 * half, 2.0, p, v) for p in tones]
        return sorted(line + held)

    def _clean(self, bar: PlannedBar, written: list[Note]) -> list[Note]:
        """The generator's tune in the mode, one note at a time (the highest of a chord), with
        phrase ends and long notes on chord tones."""
        scale = self.scale_pcs()
        by_start: dict[float, Note] = {}
        for n in sorted(written):
            key = round(n.start_beat * 4) / 4
            if key not in by_start or n.pitch > by_start[key].pitch:
                by_start[key] = n
        line = [by_start[k] for k in sorted(by_start)]
        out = []
        for i, n in enumerate(line):
            end = line[i + 1].start_beat if i + 1 < len(line) else self.beats_per_bar
            dur = min(n.duration_beats, max(0.25, end - n.start_beat))
            if end - n.start_beat <= LEGATO_BEATS:
                # Sung, not dotted: a short rest inside a line is tied over, so the tune
                # moves in phrases rather than in twos and threes.
                dur = end - n.start_beat
            pitch = n.pitch
            if pitch % 12 not in scale:
                pitch = min((pitch + d for d in (-1, 1, -2, 2) if (pitch + d) % 12 in scale), key=lambda p: abs(p - n.pitch))
            gap = end - (n.start_beat + dur)
            chord = bar.chords[min(1, int(n.start_beat // 2))]
            if dur >= 1.0 or gap >= 1.0 or i == len(line) - 1 and dur >= 0.5:
                pitch = _nearest_pc(pitch, chord[1])
            out.append(Note(n.start_beat, dur, int(pitch), int(np.clip(n.velocity, 55, 115))))
        return out

    def _fold_leaps(self, index: int, notes: list[Note]) -> list[Note]:
        """No leap over an octave (from the bar before, too), and the tune in its range."""
        lo, hi = VOICE_RANGES[Role.MELODY]
        prev = self.last_melody.get(index - 1)
        out = []
        for n in notes:
            p = fit_to_range(n.pitch, lo, hi)
            if prev is not None:
                while p - prev > 12 and p - 12 >= lo:
                    p -= 12
                while prev - p > 12 and p + 12 <= hi:
                    p += 12
            out.append(Note(n.start_beat, n.duration_beats, int(p), n.velocity))
            prev = p
        return out

    def _motif(self, bar: PlannedBar, seed: int, vel_scale: float) -> list[Note]:
        """A motif when the generator left the theme's bar nearly empty: a rhythm from the
        table, stepping through the scale from a chord tone."""
        rhythm = MOTIF_RHYTHMS[_h(seed, "motif", bar.theme_bar) % len(MOTIF_RHYTHMS)]
        scale = sorted(self.scale_pcs() - ({(self.tonic + 11) % 12} if self.mode == "minor" else set()))
        start = near(bar.chords[0][1][_h(seed, "tone") % len(bar.chords[0][1])], REGISTER[Role.MELODY])
        steps = (1, 1, -2, 1, 2, -1, -1, 1)[(_h(seed, "contour") % 3):]
        degree_pitches = [p for p in range(48, 100) if p % 12 in scale]
        k = min(range(len(degree_pitches)), key=lambda i: abs(degree_pitches[i] - start))
        v = int(np.clip(92 * vel_scale, 1, 127))
        out = []
        for j, (s, d) in enumerate(rhythm):
            out.append(Note(s / 4, d / 4, degree_pitches[max(0, min(len(degree_pitches) - 1, k))], v))
            k += steps[j % len(steps)]
        last = out[-1]
        out[-1] = Note(last.start_beat, last.duration_beats, _nearest_pc(last.pitch, bar.chords[1][1]), v)
        return out

    def _restate(self, bar: PlannedBar, seed: int, vel_scale: float, sequence: bool = False,
                 answer: bool = False) -> list[Note]:
        """The theme's bar again, moved along the scale to the bar's chord; varied (rhythm,
        register) when the plan says so, exact when the picture returns to its scene. A
        `sequence` (developing the theme) moves it a further step; an `answer` ends its
        second bar on a held chord tone a step from where the statement ended."""
        k = bar.theme_bar % max(1, len(self.theme))
        source = self.theme.get(k) or next(iter(self.theme.values()))
        scale = sorted(self.scale_pcs() - ({(self.tonic + 11) % 12} if self.mode == "minor" else set()))
        shift = 0
        if bar.theme != "return":
            shift = _degree(bar.chords[0][0], scale) - _degree(self.theme_roots.get(k, bar.chords[0][0]), scale)
            shift = (shift + 3) % 7 - 3          # the nearer way round
        if sequence:
            shift += (1, -1, 2)[_h(seed, "sequence", bar.index) % 3]
        if answer and bar.theme_bar == THEME_BARS - 1 and len(source) >= 2:
            source = _phrase_end(source[:-1] or source, bar.chords[1][1], self.beats_per_bar)
        out = [Note(n.start_beat, n.duration_beats, _move_degrees(n.pitch, shift, scale),
                    int(np.clip(n.velocity * (0.9 + 0.15 * vel_scale), 1, 127))) for n in source]
        if (bar.theme == "vary" or sequence) and len(out) >= 2:
            kind = _h(seed, "vary", bar.index) % 3
            if kind == 0:      # the last note anticipated by an eighth and held
                last = out[-1]
                if last.start_beat >= 0.5:
                    out[-1] = Note(last.start_beat - 0.5, last.duration_beats + 0.5, last.pitch, last.velocity)
            elif kind == 1:    # the first note split in two (same pitch): a rhythmic variant
                first = out[0]
                if first.duration_beats >= 1.0:
                    half = first.duration_beats / 2
                    out[0:1] = [Note(first.start_beat, half, first.pitch, first.velocity),
                                Note(first.start_beat + half, half, first.pitch, first.velocity)]
            else:              # an octave up where the range allows
                if max(n.pitch for n in out) + 12 <= VOICE_RANGES[Role.MELODY][1] - 5:
                    out = [Note(n.start_beat, n.duration_beats, n.pitch + 12, n.velocity) for n in out]
        out = sorted(out)
        ends = [n.start_beat + n.duration_beats for n in out]
        fixed = []
        for i, n in enumerate(out):
            nxt = out[i + 1].start_beat if i + 1 < len(out) else self.beats_per_bar
            fixed.append(Note(n.start_beat, max(0.25, min(n.duration_beats, nxt - n.start_beat, ends[i])), n.pitch, n.velocity))
        if fixed:
            last = fixed[-1]
            fixed[-1] = Note(last.start_beat, last.duration_beats,
                             _nearest_pc(last.pitch, bar.chords[min(1, int(last.start_beat // 2))][1]), last.velocity)
        return fixed


# -- clashes ---------------------------------------------------------------------------------------
_PRIORITY = (Role.BASS, Role.MELODY, Role.HARMONY, Role.TEXTURE)


def resolve_clashes(notes: dict[Role, list[Note]], chords: list[tuple[int, tuple[int, ...]]],
                    beats_per_bar: int, seconds_per_beat: float) -> dict[Role, list[Note]]:
    """No two parts hold a semitone (or a semitone plus octaves) together for longer than
    `CLASH_HOLD_S`: a bass passing tone under the tune steps to a chord tone, else the tune
    moves to the nearest chord tone that does not rub; a harmony or pad note that rubs
    against a part above it in `_PRIORITY` is left out."""
    hold = CLASH_HOLD_S / max(seconds_per_beat, 1e-3)
    kept: list[tuple[Role, Note]] = []
    out: dict[Role, list[Note]] = {r: [] for r in notes}
    if Role.DRUMS in notes:
        out[Role.DRUMS] = list(notes[Role.DRUMS])

    def rubbing(n: Note, others) -> list[tuple[Role, Note]]:
        return [(r, o) for r, o in others
                if min(n.end_beat, o.end_beat) - max(n.start_beat, o.start_beat) > hold
                and abs(n.pitch - o.pitch) % 12 == 1]

    def rubs(n: Note, others) -> bool:
        return bool(rubbing(n, others))

    def chord_at(beat: float) -> tuple[int, tuple[int, ...]]:
        return chords[min(len(chords) - 1, max(0, int(beat // 2)))]

    def passing_bass_moved(n: Note, against: list[tuple[Role, Note]]) -> bool:
        """The tune keeps its note (a theme keeps its shape) when what it rubs against is
        a bass passing tone (a walking line's approach, not the chord's root): that tone
        steps to the nearest chord tone instead."""
        if not against or any(r != Role.BASS or o.pitch % 12 == chord_at(o.start_beat)[0] for r, o in against):
            return False
        moves = {}
        for _, o in against:
            chord = chord_at(o.start_beat)[1]
            moved = next((p for p in sorted({o.pitch + d for d in range(-2, 3) if (o.pitch + d) % 12 in chord},
                                            key=lambda p: (abs(p - o.pitch), p))
                          if abs(p - n.pitch) % 12 != 1), None)
            if moved is None:
                return False
            moves[o] = Note(o.start_beat, o.duration_beats, moved, o.velocity)
        out[Role.BASS] = [moves.get(o, o) for o in out[Role.BASS]]
        kept[:] = [(r, moves.get(o, o) if r == Role.BASS else o) for r, o in kept]
        return True

    for role in _PRIORITY:
        if role not in notes:
            continue
        others = [(r, o) for r, o in kept if r != role]
        for n in notes[role]:
            if role == Role.MELODY and passing_bass_moved(n, rubbing(n, others)):
                others = [(r, o) for r, o in kept if r != role]
            if rubs(n, others):
                if role == Role.MELODY:
                    chord = chords[min(1, int(n.start_beat // 2))][1]
                    options = sorted({n.pitch + d for d in range(-7, 8) if (n.pitch + d) % 12 in chord},
                                     key=lambda p: (abs(p - n.pitch), p))
                    moved = next((p for p in options
                                  if not rubs(Note(n.start_beat, n.duration_beats, p, n.velocity), others)), None)
                    if moved is None:
                        continue
                    n = Note(n.start_beat, n.duration_beats, moved, n.velocity)
                elif role == Role.BASS:
                    pass
                else:
                    continue
            out[role].append(n)
            kept.append((role, n))
    return {r: sorted(ns) for r, ns in out.items()}


def clear_around_hits(notes: dict[Role, list[Note]], controls: BarControls | None) -> dict[Role, list[Note]]:
    """A cut the tempo could not put on a beat is hit exactly where it falls, and the band
    plays it together: an accompaniment note up to half a beat before it moves onto it, one
    up to half a beat after it is left out (it would blur the hit into a flam). The tune and
    the drums keep theirs (the hit points rule pulls the nearest ones)."""
    hits = [float(at) for at, _ in ((controls.extra or {}).get(HITS_KEY, ()) if controls is not None else ())
            if abs(float(at) - round(float(at))) > 1e-6]
    if not hits:
        return notes
    out = dict(notes)
    for role in (Role.BASS, Role.HARMONY, Role.TEXTURE):
        if role not in out:
            continue
        kept = []
        for n in out[role]:
            for at in hits:
                d = n.start_beat - at
                if -0.5 < d < -1e-6 and n.start_beat % 4 > 1e-6:
                    n = Note(at, max(0.25, n.end_beat - at), n.pitch, n.velocity)
                elif 1e-6 < d < 0.5:
                    n = None
                    break
            if n is not None:
                kept.append(n)
        out[role] = sorted(set(kept))
    return out


def enforce_min_length(notes: dict[Role, list[Note]], seconds_per_beat: float,
                       room_beats: float | None = None) -> dict[Role, list[Note]]:
    """Pitched notes last at least MIN_NOTE_S (lengthened up to the next note of the same
    pitch, or dropped when there is no room): a 20 ms note is a click, not a note."""
    want = MIN_NOTE_S / max(seconds_per_beat, 1e-3)
    out: dict[Role, list[Note]] = {}
    for role, ns in notes.items():
        if role == Role.DRUMS:
            out[role] = ns
            continue
        kept = []
        ordered = sorted(ns)
        for i, n in enumerate(ordered):
            if n.duration_beats >= want:
                kept.append(n)
                continue
            nxt = min((m.start_beat for m in ordered[i + 1:] if m.pitch == n.pitch and m.start_beat > n.start_beat),
                      default=float("inf"))
            limit = min(nxt, room_beats if room_beats is not None else float("inf")) - n.start_beat
            if limit >= want:
                kept.append(Note(n.start_beat, want, n.pitch, n.velocity))
        out[role] = kept
    return out


# -- planning ----------------------------------------------------------------------------------------
def _sections(controls: list[BarControls]) -> list[tuple[int, int]]:
    """(first bar, end bar) of each run of bars in one picture section."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(controls) + 1):
        if i == len(controls) or controls[i].section_start or controls[i].section_id != controls[i - 1].section_id:
            runs.append((start, i))
            start = i
    return runs


def _semantic(c: BarControls) -> np.ndarray | None:
    v = (c.extra or {}).get(SEMANTIC_KEY)
    if v is None:
        return None
    v = np.asarray(v, np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-6 else None


def _asked_drop_part(idiom: Idiom) -> str:
    """The part an asked drop starts: the style's drop, else its climax, else a chorus."""
    return next((p for p in ("drop", "climax") if p in idiom.form), "chorus")


def plan_piece(controls: list[BarControls], style: str | None, tonic: int, mode: str, seed: int,
               beats_per_bar: int = 4, solo_tune: bool = False, pulse: bool = False,
               handoff: bool = False, diatonic: bool = False) -> IdiomPlan:
    """The piece's layout (see the module docstring) for these per-bar controls.
    `solo_tune`: the tune is the only pitched part, so it plays in the intro too.
    `pulse`: the prompt asks for a pulse, which a style without its own then plays
    (`Idiom.with_pulse`). `handoff`: a second instrument (the harmony part, another sound
    than the tune's) can answer the theme. `diatonic`: the prompt asked for the key, so only
    progressions inside its scale are played."""
    idiom = idiom_for(style)
    if pulse:
        idiom = idiom.with_pulse()
    n = len(controls)
    runs = _sections(controls) or [(0, n)]
    drops = {a for a, _ in runs if (controls[a].extra or {}).get(DROP_KEY)}
    intro = min(idiom.intro_bars, 2 if n <= 16 else 4, runs[0][1] - runs[0][0], max(0, n - 2))
    middle = [p for p in idiom.form if p not in ("intro", "outro")] or ["verse"]
    # Each picture section gets the next part of the form; a section whose picture returns
    # to an earlier scene gets that scene's part (and so its chords and its theme).
    parts: list[str] = []
    returns: dict[int, int] = {}
    sems = [_semantic(controls[a]) for a, _ in runs]
    advanced = 0                                 # parts of the form begun so far
    if idiom.part_bars and not drops:
        # A dance form runs on in time (intro, build, drop, breakdown...); the picture's cuts
        # turn its parts where they fall near a planned turn. (An asked drop places the
        # drop instead: the sections below.)
        runs, parts, returns = _timeline(runs, sems, intro, n, idiom, middle)
    for k, (a, b) in enumerate(runs if not parts else ()):
        back = _scene_return(sems, k)
        if a in drops:
            parts.append(_asked_drop_part(idiom))
        elif back is not None:
            returns[k] = back
            parts.append(parts[back])
        elif k == len(runs) - 1 and len(runs) > 2 and idiom.form[-1] == "climax":
            parts.append("climax")
        elif k > 0 and b - a < PHRASE_BARS:
            parts.append(parts[-1])              # a quick cut: the picture moves, the form goes on
        else:
            parts.append(middle[advanced % len(middle)])
            advanced += 1
    progs = progressions(style, mode)
    if diatonic:
        # An asked key keeps the chords in its scale (minor: with its leading tone): the
        # style's chromatic progressions (thriller's bII) wait for a prompt that leaves the key free.
        allowed = {(tonic + d) % 12 for d in SCALES[mode]} | ({(tonic + 11) % 12} if mode == "minor" else set())
        inside = tuple(pr for pr in progs if all(set(pcs) <= allowed for it in pr for _, pcs in bar_chords(it, tonic)))
        progs = inside or progs
    prog_of: dict[str, tuple[str, ...]] = {}
    for part in dict.fromkeys(parts):
        prog_of[part] = progs[_h(seed, style, part) % len(progs)]
    tonic_item = "i" if mode == "minor" else "I"
    items: list[str] = []
    # A section of a phrase's length or more starts its part's progression; a shorter one (a
    # fast montage) goes on from where the part left off, so quick cuts do not replay its
    # first two chords over and over. The last bar of every 8, and of a section of a phrase or
    # more, turns around to the dominant (`_turnaround`).
    position: dict[str, int] = {}
    for k, (a, b) in enumerate(runs):
        prog = prog_of[parts[k]]
        if b - max(a, intro) >= PHRASE_BARS:
            position[parts[k]] = 0
        for i in range(a, b):
            if i < intro:
                items.append(tonic_item)
                continue
            at = position.get(parts[k], 0)
            position[parts[k]] = at + 1
            item = prog[at % len(prog)]
            last_of_section = i == b - 1 and b - max(a, intro) >= PHRASE_BARS
            phrase_end = (i - intro) % TURNAROUND_EVERY == TURNAROUND_EVERY - 1
            if (phrase_end or last_of_section) and not idiom.drone:
                item = _turnaround(item, mode, idiom.extensions, prog)
            items.append(item)
    if n >= 3:
        items[n - 2] = "V7" if idiom.extensions else "V"     # the cadence into the final tonic
    if n >= 1:
        items[n - 1] = tonic_item
    chords = [bar_chords(it, tonic) for it in items]

    bars: list[PlannedBar] = []
    for k, (a, b) in enumerate(runs):
        for i in range(a, b):
            nxt = chords[i + 1][0][0] if i + 1 < n else tonic
            bars.append(PlannedBar(i, k, "intro" if i < intro else parts[k], i - a, b - a, chords[i], nxt,
                                   groove=i >= intro))
    for k, (a, b) in enumerate(runs):
        if k + 1 < len(runs) and parts[k + 1] in ("drop", "climax", "chorus") and b - 1 >= intro:
            bars[b - 1].into_drop = parts[k + 1] in ("drop", "climax")
    for i, c in enumerate(controls):
        bars[i].rest = bool((c.extra or {}).get(QUIET_KEY))
    # An asked drop lands after a written break: the bar before it breathes (drums and bass
    # out, one bar, within the two the pulse may stop for), the bar before that rolls in.
    # A style that climaxes rather than drops (a trailer: "builds to a huge climax") rolls
    # straight into it, its pulse unbroken.
    drop_style = _asked_drop_part(idiom) == "drop"
    for d in sorted(drops):
        if d - 1 >= max(1, intro) and not bars[d - 1].rest:
            if not drop_style:
                bars[d - 1].into_drop = True
                continue
            bars[d - 1].written_break, bars[d - 1].into_drop = True, False
            if d - 2 >= intro:
                bars[d - 2].into_drop = True
    # The tune in two-bar units: the theme stated in the two bars after the intro (across a
    # cut if one falls there), then a unit starting at every section start and every two bars,
    # each section cycling through `TUNE_CYCLE`: the theme restated (exactly when the picture
    # returns to its scene), answered (by a second instrument when one can take it:
    # `handoff`), developed (the generator's line when it wrote one, else a sequence of the
    # theme) and varied. The last two bars are the cadence and the ending.
    body_end = n - 2
    stated_end = intro
    if intro + THEME_BARS <= body_end:
        for t in range(THEME_BARS):
            bars[intro + t].theme, bars[intro + t].theme_bar = "state", t
        stated_end = intro + THEME_BARS
    handed = False
    unit = 0                                    # the tune's units so far in this part
    for k, (a, b) in enumerate(runs):
        start = max(a, stated_end)
        if a <= intro < b:
            unit = 1                            # the statement was this part's first unit
        elif k == 0 or parts[k] != parts[k - 1] or k in returns:
            unit = 0                            # a new part (or a return) starts the cycle again
        for j, s in enumerate(range(start, min(b, body_end), THEME_BARS), start=unit):
            length = min(THEME_BARS, b - s, body_end - s)
            if j % len(TUNE_CYCLE) == 0:
                kind = "return" if k in returns else "restate"
            else:
                kind = TUNE_CYCLE[j % len(TUNE_CYCLE)]
            # The first answer, and those of every other section, go to the second voice.
            give = handoff and kind == "answer" and length == THEME_BARS and (k % 2 == 0 or not handed)
            handed = handed or give
            for t in range(length):
                bars[s + t].theme, bars[s + t].theme_bar, bars[s + t].handoff = kind, t, give
            unit = j + 1
    return IdiomPlan(style=style or "cinematic", idiom=idiom, tonic=tonic, mode=mode,
                     beats_per_bar=beats_per_bar, bars=bars, intro_bars=intro,
                     intro_rest=not solo_tune)


def _scene_return(sems: list, k: int) -> int | None:
    """The first earlier picture section whose picture is section k's again (its image
    embedding this alike), not counting the section just before (that is one scene)."""
    if sems[k] is None:
        return None
    return next((j for j in range(k - 1) if sems[j] is not None
                 and float(sems[j] @ sems[k]) >= SCENE_RETURN_SIMILARITY), None)


def _position(bar: PlannedBar) -> float:
    """How far through its section a bar is: 0 on the first bar, 1 on the last."""
    return bar.bar_in_section / max(1, bar.bars_in_section - 1)


def _timeline(runs: list[tuple[int, int]], sems: list, intro: int, n: int, idiom: Idiom,
              middle: list[str]) -> tuple[list[tuple[int, int]], list[str], dict[int, int]]:
    """The sections of a form laid over time (`Idiom.part_bars`): after the intro, each part of
    the form for its length in bars, turned early or late onto a picture cut that falls within
    a quarter of the part of its planned turn; a build with no room left for a drop after it
    becomes the last drop (or, after a drop, the outro); a part is never left shorter than 2
    bars at the end. Returns the sections (first bar, end bar), their parts, and the sections
    that start where the picture returns to an earlier scene (for the theme's return)."""
    cuts = sorted(a for a, _ in runs if a > intro)
    starts = {a: k for k, (a, _) in enumerate(runs)}
    out: list[tuple[int, int]] = [(0, intro)] if intro > 0 else []
    parts: list[str] = ["intro"] if intro > 0 else []
    s, k = intro, 0
    while s < n:
        part = middle[k % len(middle)]
        length = idiom.part_bars.get(part, 2 * PHRASE_BARS)
        end = s + length
        near = [c for c in cuts if abs(c - end) <= max(1, length // 4) and c - s >= 2]
        if near:
            end = min(near, key=lambda c: (abs(c - end), c))
        if part == "build" and n - end < PHRASE_BARS:
            part, end = ("outro" if parts and parts[-1] == "drop" else "drop"), n
        if n - end < 2:
            end = n
        out.append((s, end))
        parts.append(part)
        s, k = end, k + 1
    returns: dict[int, int] = {}
    for i, (a, _) in enumerate(out):
        kp = starts.get(a)
        back = _scene_return(sems, kp) if kp is not None else None
        if back is not None:
            returns[i] = back
    return out, parts, returns


def _is_dominant(item: str) -> bool:
    return any(c.lstrip("b#").rstrip("79").upper() == "V" for c in item.split())


def _turnaround(item: str, mode: str, extensions: bool, prog: tuple[str, ...] = ()) -> str:
    """The last bar of a phrase split to lead home: its chord, then the dominant; when the
    bar or its progression has the dominant already, a pre-dominant (ii, in minor iv) leads
    into it instead of the bar's own chord, so the turn brings a chord the loop lacks."""
    first = item.split()[0]
    dominant = "V7" if extensions else "V"
    if _is_dominant(first) or any(_is_dominant(it) for it in prog):
        first = ("ii7" if extensions else "ii") if mode == "major" else ("iv7" if extensions else "iv")
    return f"{first} {dominant}"


# -- small pitch helpers ------------------------------------------------------------------------------
def _phrase_end(notes: list[Note], chord: tuple[int, ...], beats_per_bar: int) -> list[Note]:
    """The theme's last bar closes its phrase: what starts in the first half stays, the last
    of it held to the bar's end on a chord tone (a held note ends a phrase)."""
    head = [n for n in notes if n.start_beat < beats_per_bar / 2] or notes[:1]
    if not head:
        return notes
    last = head[-1]
    held = Note(last.start_beat, beats_per_bar - last.start_beat, _nearest_pc(last.pitch, chord), last.velocity)
    return head[:-1] + [held]


def _nearest_pc(pitch: int, pcs) -> int:
    return min((pitch + d for d in range(-6, 7) if (pitch + d) % 12 in set(pcs)), key=lambda p: (abs(p - pitch), p))


def _degree(pc: int, scale: list[int]) -> int:
    return min(range(len(scale)), key=lambda i: min((pc - scale[i]) % 12, (scale[i] - pc) % 12))


def _move_degrees(pitch: int, steps: int, scale: list[int]) -> int:
    """`pitch` moved `steps` scale degrees (a diatonic transposition)."""
    if steps == 0:
        return pitch
    ladder = [p for p in range(pitch - 24, pitch + 25) if p % 12 in set(scale)]
    if not ladder:
        return pitch
    k = min(range(len(ladder)), key=lambda i: abs(ladder[i] - pitch))
    return ladder[max(0, min(len(ladder) - 1, k + steps))]
