"""The arrangement: which tracks play with which sounds, and the rules that make explicit
controls hold exactly whatever the generator wrote.

- Roles -> General MIDI programs from the sound palette of the style (`render.palettes`),
  overridden by instruments the prompt asks for ("strings and piano"), with banned roles
  ("no drums") and banned instruments ("no piano": every piano program) removed exactly.
- The key: the one asked for, else the tonic from the seed and the mode from the mood
  (happy, playful, triumphant... major; sad, dark, tense... minor), the style, or the seed.
- The style's idioms (`generate.idioms`): every bar's groove, bass idiom, comping, pad and
  theme from the tables in `score.idioms`, on a chord plan laid out for the whole piece.
- Each generated bar passes `apply_bar`: notes of absent or muted roles are dropped,
  out-of-scale pitches are snapped into the asked mode (natural minor plus its leading
  tone), wishes scale velocities.
- An asked tempo is heard: when the prompt names one, every beat gets an onset (held notes of
  the harmony, else the bass, are re-struck softly on beats nobody plays; under bowed or blown
  harmony a struck tune instrument adds soft chords on the beat), so quiet music of held
  chords does not leave the listener, or librosa, guessing the tempo.
- The ending: the final bar is rewritten as a held tonic chord that rings out before the
  video ends (a cadence, never a note cut off).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

from robin_studio.intent.instruments import INSTRUMENTS, banned_programs
from robin_studio.intent.types import Intent
from robin_studio.score.controls import BarControls
from robin_studio.score.theory import DRUM_KEYS, SCALES, VOICE_RANGES, fit_to_range, snap_to_scale
from robin_studio.score.types import ROLES, Note, Role, Track

from robin_studio.generate.conditions import (HIT_PULL_BEATS, HIT_WEIGHT, HITS_BEFORE_KEY, HITS_KEY,
                                              VELOCITY_KEY, muted_roles)

# An asked tempo's pulse (`Arrangement.pulse`): a note starting this close to a beat plays it;
# a re-struck held note keeps this share of its velocity (and at least the minimum).
PULSE_SLACK_BEATS = 0.125
PULSE_VELOCITY_RATIO = 0.8
PULSE_MIN_VELOCITY = 40
PULSE_HIT_CLEARANCE_BEATS = 0.5   # no re-strike this close to an off-beat cut hit
HIT_AFTERNOTE_RATIO = 0.5         # velocity share of notes just after the bar before's off-beat hit
PULSE_LEFT_HAND_RATIO = 0.6       # a struck tune's soft chords on the beat, under bowed harmony
LEFT_HAND_RANGE = (48, 64)        # C3-E4: below a tune, above the bass

# Alternatives per role when the palette's choice is banned, best first.
FALLBACK_PROGRAMS: dict[Role, tuple[int, ...]] = {
    Role.BASS: (33, 32, 38, 35, 42, 0),
    Role.HARMONY: (0, 48, 4, 24, 89, 16, 46, 52, 61, 11),
    Role.MELODY: (0, 73, 40, 71, 11, 81, 56, 65, 24, 46),
    Role.TEXTURE: (89, 48, 52, 91, 95, 16, 0),
    Role.DRUMS: (0,),
}
DEFAULT_GAIN_DB = {Role.DRUMS: -3.0, Role.BASS: -2.0, Role.HARMONY: -4.0, Role.MELODY: -1.0,
                   Role.TEXTURE: -8.0}
DEFAULT_PAN = {Role.DRUMS: 0.0, Role.BASS: 0.0, Role.HARMONY: -0.25, Role.MELODY: 0.2,
               Role.TEXTURE: 0.3}
FLEXIBLE_INSTRUMENTS = {"piano", "guitar", "acoustic guitar", "electric guitar", "electric piano",
                        "marimba", "harp"}
MAX_NOTES_PER_BAR = 48     # per role: 16th notes with three-note chords at most
# Mood sets mode (issue 14): with no key in the prompt these moods decide it for every seed;
# a seed changes the tune, not the mood. With moods of both kinds the more numerous wins,
# a tie goes to the style's own mode (`score.idioms`), else to minor.
MAJOR_MOODS = {"happy", "joyful", "uplifting", "playful", "triumphant", "hopeful", "bright"}
MINOR_MOODS = {"sad", "melancholic", "dark", "tense", "eerie", "mysterious", "dramatic", "nostalgic",
               "menacing"}
COMMON_TONICS = (0, 2, 4, 5, 7, 9, 10, 3)   # C D E F G A Bb Eb


def _palette(style: str) -> dict[Role, tuple[int, float, float]]:
    """role -> (program, gain_db, pan) from the sound palette and mix of `style`."""
    from robin_studio.render.palettes import mix_for, palette_for

    programs, mix = palette_for(style), mix_for(style)
    return {Role(role): (int(program), float(mix.role(role).gain_db), float(mix.role(role).pan))
            for role, program in programs.items()}


@dataclass
class Arrangement:
    tonic: int
    mode: str
    style: str
    tracks: dict[Role, Track]                    # the roles that play, with their sounds
    snap_mode: bool = False                      # the prompt asked for a mode: enforce it
    banned: frozenset[int] = field(default_factory=frozenset)
    asked_roles: frozenset[Role] = field(default_factory=frozenset)   # play asked instruments
    keep_pulse: bool = False                     # the prompt asked for a tempo: make it heard
    plan: object | None = None                   # generate.idioms.IdiomPlan (`plan_idioms`)
    pulse_asked: bool = False                    # drums or a driving mood asked: a style
                                                 # without a pulse plays its pulse grooves

    @property
    def roles(self) -> set[Role]:
        return set(self.tracks)

    def new_tracks(self) -> list[Track]:
        return [replace(t, notes=[]) for t in self.tracks.values()]

    # -- the style's idioms ------------------------------------------------------------
    def plan_idioms(self, controls: list[BarControls], seed: int, beats_per_bar: int = 4) -> None:
        """Lay out the piece's form, chords and theme for these controls (`generate.idioms`)."""
        from robin_studio.generate.idioms import plan_piece

        pitched = {r for r in self.tracks if r != Role.DRUMS}
        # A second voice answers the theme when the harmony part has a sound of its own.
        handoff = (Role.MELODY in self.tracks and Role.HARMONY in self.tracks
                   and self.tracks[Role.HARMONY].program != self.tracks[Role.MELODY].program)
        self.plan = plan_piece(controls, self.style, self.tonic, self.mode, seed, beats_per_bar,
                               solo_tune=pitched <= {Role.MELODY}, pulse=self.pulse_asked, handoff=handoff,
                               diatonic=self.snap_mode)

    def form_energies(self, controls: list[BarControls]) -> list[float]:
        """Each bar's energy as the arrangement plays it (the picture's, shaped by the part
        of the form: a build rising, a drop loud, a breakdown light), for the loudness curve
        the master follows; the picture's alone before `plan_idioms`."""
        plan = self.plan
        if plan is None or not plan.bars:
            return [float(c.energy) for c in controls]
        return [plan.energy(plan.bars[min(i, len(plan.bars) - 1)], c) for i, c in enumerate(controls)]

    def realise(self, bar_index: int, notes: dict[Role, list[Note]], controls: BarControls | None,
                seed: int, seconds_per_beat: float) -> dict[Role, list[Note]]:
        """The bar as the style plays it: the groove, bass idiom, comping and pad from the
        style's tables on the planned chords, the generator's tune (or the theme) on top."""
        if self.plan is None:
            return notes
        return self.plan.realise(bar_index, notes, controls, set(self.tracks), seed, seconds_per_beat,
                                 self.asked_roles)

    def settle(self, bar_index: int, notes: dict[Role, list[Note]], seconds_per_beat: float
               ) -> dict[Role, list[Note]]:
        """After the hit points and the pulse: what they re-struck rubs against nothing (a
        held semitone between two parts is resolved as in `generate.idioms`)."""
        if self.plan is None or not self.plan.bars:
            return notes
        from robin_studio.generate.idioms import resolve_clashes

        bar = self.plan.bars[min(bar_index, len(self.plan.bars) - 1)]
        return resolve_clashes(notes, bar.chords, self.plan.beats_per_bar, seconds_per_beat)

    # -- per-bar rules ---------------------------------------------------------------
    def apply_bar(self, notes: dict[Role, list[Note]], controls: BarControls | None
                  ) -> dict[Role, list[Note]]:
        """The bar as it will sound: absent/muted roles dropped, mode and wishes enforced."""
        muted = muted_roles(controls)
        scale = float(controls.extra.get(VELOCITY_KEY, 1.0)) if controls is not None and controls.extra else 1.0
        out: dict[Role, list[Note]] = {}
        for role_key, bar_notes in notes.items():
            role = Role(role_key)
            if role not in self.tracks or role.value in muted:
                continue
            fixed = []
            for n in bar_notes:
                if n.duration_beats <= 0:
                    continue
                pitch = n.pitch
                # With an idiom plan the accompaniment is built on the planned chords (whose
                # chromatic chords, II7 or bII7, are the style's) and the tune is already kept
                # in the mode there; snapping is for a generator's notes taken as they are.
                if role != Role.DRUMS and self.snap_mode and self.plan is None and not self._leading_tone(pitch):
                    pitch = snap_to_scale(pitch, self.tonic, self.mode)
                vel = int(max(1, min(127, round(n.velocity * scale))))
                fixed.append(Note(n.start_beat, n.duration_beats, int(pitch), vel))
            fixed = sorted(set(fixed))
            if len(fixed) > MAX_NOTES_PER_BAR:
                # A runaway generator must not flood the synthesizer: keep the strongest.
                fixed = sorted(sorted(fixed, key=lambda n: -n.velocity)[:MAX_NOTES_PER_BAR])
            out[role] = fixed
        return out

    def _leading_tone(self, pitch: int) -> bool:
        """Minor keeps its raised seventh (harmonic minor's leading tone): it is what makes a
        minor key sound minor at a cadence rather than like its relative major."""
        return self.mode == "minor" and (pitch - self.tonic) % 12 == 11

    def hit_points(self, notes: dict[Role, list[Note]], controls: BarControls | None,
                   threshold: float = HIT_WEIGHT) -> dict[Role, list[Note]]:
        """Mark every hard cut the way a film composer marks a hit point, so the music is
        heard to move with the picture: a kick (plus a cymbal for a strong cut or a drop) when
        the drums play, else the struck parts (or the bass) re-strike there. On the beat when
        the tempo map put the cut on one, else exactly at the cut. Off the beat, the band
        catches the hit together: the struck parts play it with the drums, and notes written
        within a sixteenth of it are played on it (a beat 60 ms away would blur it into a
        flam, heard as one onset off the cut); notes just after a hit in the bar before are
        played softly for the same reason."""
        if controls is None:
            return notes
        extra = controls.extra or {}
        moments = {float(b): True for b, a in enumerate(controls.accents) if a >= threshold}
        downbeats = set()      # strong hits on a beat inside the bar (see below)
        for at, strong in extra.get(HITS_KEY, ()):
            moments[float(at)] = moments.get(float(at), False) or bool(strong)
            if strong and float(at) > 1e-6 and not _off_beat(float(at)):
                downbeats.add(float(at))
        out = {r: list(ns) for r, ns in notes.items()}
        for before in extra.get(HITS_BEFORE_KEY, ()):
            out = {r: [replace(n, velocity=max(1, int(n.velocity * HIT_AFTERNOTE_RATIO)))
                       if n.start_beat - before <= HIT_PULL_BEATS + 1e-9 else n for n in ns]
                   for r, ns in out.items()}
        if not moments:
            return out
        muted = muted_roles(controls)
        vel = int(70 + 40 * max(0.0, min(1.0, controls.energy)))
        drums = Role.DRUMS in self.tracks and Role.DRUMS.value not in muted
        roles = [r for r in (Role.BASS, Role.HARMONY, Role.MELODY)
                 if r in self.tracks and r.value not in muted]
        struck = [r for r in roles if _is_struck(self.tracks[r].program)]
        for at, strong in sorted(moments.items()):
            off_beat = _off_beat(at)
            if off_beat:
                out = {r: _pull_to(ns, at) for r, ns in out.items()}
            if drums:
                kit = out.setdefault(Role.DRUMS, [])
                have = {n.pitch for n in kit if abs(n.start_beat - at) < 1e-6}
                if strong and DRUM_KEYS["crash"] not in have:
                    kit.append(Note(at, 1.0, DRUM_KEYS["crash"], vel))
                if DRUM_KEYS["kick"] not in have:
                    kit.append(Note(at, 0.5, DRUM_KEYS["kick"], vel))
                kit.sort()
            # Without drums (or off the beat, where a kick alone is too soft to be heard as
            # the moment) the struck parts (piano, guitar, harp, mallets...) re-strike what
            # they hold; bowed/blown sounds swell too slowly to mark a moment, so they
            # re-strike only when nothing struck plays and no drum marks the hit.
            if not drums or off_beat:
                # The accompaniment catches the hit; the tune only when nothing else can (with
                # drums playing, a tune re-struck at every cut would lose its theme's shape).
                accompaniment = [r for r in struck if r != Role.MELODY]
                marks = accompaniment or ([] if drums else struck or [r for r in roles if r != Role.MELODY])
                for role in marks:
                    out[role] = self._restrike(out.get(role, []), at, role, max(vel, 100),
                                               bar_end=float(len(controls.accents) or 4))
            elif at in downbeats:
                # A strong hit the tempo put on a beat but not on a bar line is played as a
                # downbeat all the same (issue 18: a strong hit point is a downbeat): the bass
                # and the harmony arrive with the drums, at a downbeat's weight.
                for role in [r for r in roles if r != Role.MELODY]:
                    out[role] = self._restrike(out.get(role, []), at, role, max(vel, 100),
                                               bar_end=float(len(controls.accents) or 4))
        return out

    def pulse(self, notes: dict[Role, list[Note]], beats_per_bar: int,
              controls: BarControls | None = None) -> dict[Role, list[Note]]:
        """When the prompt asked for a tempo, every beat of the bar is played. A creator who
        asked for 80 bpm must hear 80 bpm; a tranquil bar of held chords has no beat to hear,
        and librosa then named tempi off by up to 13 %.

        A beat on which no part starts a note gets a soft re-strike of what the harmony (else
        the bass) holds there. When neither of those is struck (bowed strings, brass) but the
        tune is (piano, guitar), that instrument plays the harmony's chord softly on the beat
        in a lower register, as a pianist's left hand under a string section does."""
        if not self.keep_pulse:
            return notes
        extra = (controls.extra or {}) if controls is not None else {}
        muted = muted_roles(controls)

        def playing(role: Role) -> bool:
            return role in self.tracks and role.value not in muted

        roles = [r for r in (Role.HARMONY, Role.BASS) if playing(r)]
        # A struck sound (guitar, piano) marks a beat best; a bowed one only when nothing is.
        roles.sort(key=lambda r: not _is_struck(self.tracks[r].program))
        accompaniment_struck = bool(roles) and _is_struck(self.tracks[roles[0]].program)
        left_hand = (not accompaniment_struck and Role.DRUMS not in self.tracks
                     and playing(Role.MELODY) and _is_struck(self.tracks[Role.MELODY].program))
        # Bowed and blown notes swell in too slowly to be heard as the beat: where a struck
        # part can mark it, only drums and struck parts count as playing a beat.
        struck_only = accompaniment_struck or left_hand
        starts = [n.start_beat for r, ns in notes.items() if r != Role.TEXTURE
                  and (not struck_only or r == Role.DRUMS
                       or (r in self.tracks and _is_struck(self.tracks[r].program)))
                  for n in ns]
        # A cut the tempo could not put on a beat is hit where it falls; the beats around
        # it are left clear, as a composer clears a hit point, so it reads as the accent.
        off_grid = [float(at) for at, _ in extra.get(HITS_KEY, ()) if _off_beat(at)]
        silent = [b for b in range(beats_per_bar)
                  if not any(abs(s - b) <= PULSE_SLACK_BEATS for s in starts)
                  and not any(abs(h - b) < PULSE_HIT_CLEARANCE_BEATS for h in off_grid)]
        if not silent:
            return notes
        out = {r: list(ns) for r, ns in notes.items()}
        for b in silent:
            if left_hand:
                chord = [n for n in out.get(Role.HARMONY, []) if n.start_beat - 1e-6 <= b < n.end_beat]
                if chord:
                    vel = max(PULSE_MIN_VELOCITY,
                              int(PULSE_LEFT_HAND_RATIO * sum(n.velocity for n in chord) / len(chord)))
                    lo, hi = LEFT_HAND_RANGE
                    tones = sorted({lo + (n.pitch - lo) % 12 if n.pitch < lo or n.pitch > hi else n.pitch
                                    for n in chord})
                    out.setdefault(Role.MELODY, []).extend(Note(float(b), 0.9, p, vel) for p in tones)
                    out[Role.MELODY].sort()
                    continue
            for role in roles:
                held = [n for n in out.get(role, []) if n.start_beat < b < n.end_beat]
                if held:
                    vel = max(PULSE_MIN_VELOCITY, int(PULSE_VELOCITY_RATIO * max(n.velocity for n in held)))
                    out[role] = self._split_at(out[role], float(b), vel)
                    break
        return out

    @staticmethod
    def _split_at(notes: list[Note], at: float, velocity: int) -> list[Note]:
        """Notes sounding across `at` end there and start again, softer, for the rest."""
        out = []
        for n in notes:
            if n.start_beat < at < n.end_beat:
                out.append(Note(n.start_beat, at - n.start_beat, n.pitch, n.velocity))
                out.append(Note(at, n.end_beat - at, n.pitch, min(n.velocity, velocity)))
            else:
                out.append(n)
        return sorted(out)

    def _restrike(self, notes: list[Note], at: float, role: Role, velocity: int,
                  bar_end: float = 4.0) -> list[Note]:
        # A note just after the hit would blur it into a flam: it goes.
        notes = [n for n in notes if not (at + 1e-6 < n.start_beat < at + 0.25)]
        starting = [n for n in notes if abs(n.start_beat - at) < 1e-6]
        if starting:                          # something already starts there: make it count
            return sorted([replace(n, velocity=max(n.velocity, velocity)) if n in starting else n
                           for n in notes])
        sounding = [n for n in notes if n.start_beat < at < n.end_beat]
        lo, hi = VOICE_RANGES[role]
        pitches = sorted({n.pitch for n in sounding}) or [fit_to_range(36 + self.tonic, lo, hi)]
        held = [Note(n.start_beat, at - n.start_beat, n.pitch, n.velocity) if n in sounding else n
                for n in notes]
        # The re-strike ends with its bar: held across the bar line it would rub against the
        # next bar's chord, which it cannot see.
        length = max(0.25, min(1.0, bar_end - at))
        return sorted(held + [Note(at, length, p, velocity) for p in pitches])

    def ending_bar(self, bar_beats: float, ring_beats: float, velocity: int = 72
                   ) -> dict[Role, list[Note]]:
        """The final bar: a tonic chord on beat 1 held for `ring_beats` (then it decays)."""
        steps = SCALES[self.mode]
        triad = [self.tonic + steps[0], self.tonic + steps[2], self.tonic + steps[4]]
        dur = max(0.5, min(bar_beats, ring_beats))
        out: dict[Role, list[Note]] = {}
        for role in self.tracks:
            if role == Role.DRUMS:
                out[role] = [Note(0.0, 1.0, DRUM_KEYS["kick"], velocity),
                             Note(0.0, 2.0, DRUM_KEYS["crash"], velocity - 10)]
            elif role == Role.BASS:
                lo, hi = VOICE_RANGES[role]
                out[role] = [Note(0.0, dur, fit_to_range(36 + self.tonic, lo, hi), velocity)]
            elif role == Role.MELODY:
                lo, hi = VOICE_RANGES[role]
                out[role] = [Note(0.0, dur, fit_to_range(72 + self.tonic, lo, hi), velocity - 4)]
            else:
                lo, hi = VOICE_RANGES[role]
                base = 60 if role == Role.HARMONY else 55
                # Each chord tone at or just above the base (base + pc would transpose the
                # chord by the base's own pitch class: G3 + a D minor triad gave A minor).
                out[role] = [Note(0.0, dur, fit_to_range(base + (pc - base) % 12, lo, hi), velocity - 8)
                             for pc in triad]
        return out


def _off_beat(at: float) -> bool:
    """Whether a hit at `at` beats into its bar falls between beats (the tempo missed its cut)."""
    return abs(at - round(at)) > 1e-6


def _pull_to(notes: list[Note], at: float) -> list[Note]:
    """Notes starting within HIT_PULL_BEATS of `at` start on it instead (a note that ends
    there anyway keeps its length); of two of one pitch now starting together, the louder."""
    moved: dict[tuple[float, int], Note] = {}
    for n in notes:
        if 1e-6 < abs(n.start_beat - at) <= HIT_PULL_BEATS + 1e-9:
            rest = n.end_beat - at
            n = Note(at, rest if rest >= HIT_PULL_BEATS else n.duration_beats, n.pitch, n.velocity)
        key = (round(n.start_beat, 6), n.pitch)
        if key not in moved or n.velocity > moved[key].velocity:
            moved[key] = n
    return sorted(moved.values())


def _is_struck(program: int) -> bool:
    """GM programs with a fast attack: pianos, mallets, guitars, plucked basses, harp,
    pizzicato, and the plucked/percussive synths."""
    return (0 <= program <= 15 or 24 <= program <= 39 or program in (45, 46, 47, 55, 104, 105, 106, 107, 108)
            or 80 <= program <= 87)


def mode_for_mood(moods, style: str | None) -> str | None:
    """"major"/"minor" when the moods (or else the style) decide the mode, else None."""
    from robin_studio.score.idioms import IDIOMS

    moods = set(moods or ())
    major, minor = len(MAJOR_MOODS & moods), len(MINOR_MOODS & moods)
    style_mode = IDIOMS[style].mode if style in IDIOMS and IDIOMS[style].mode != "any" else None
    if major != minor:
        return "major" if major > minor else "minor"
    if major and minor:
        return style_mode or "minor"
    return style_mode


def choose_key(intent: Intent, seed: int) -> tuple[int, str]:
    rng = random.Random(int(seed) * 104729 + 3)
    mode = intent.key_mode
    if mode not in ("major", "minor"):
        # The style the prompt implies counts as if named ("808s and hi-hats" is trap, minor).
        mode = mode_for_mood(intent.moods, implied_style(intent)) or ("major" if rng.random() < 0.7 else "minor")
    tonic = intent.key_tonic if intent.key_tonic is not None else rng.choice(COMMON_TONICS)
    return int(tonic) % 12, mode


def implied_style(intent: Intent) -> str | None:
    """The style the prompt names, else the one its instruments or moods imply (None: the
    prompt says nothing of a style, and the picture will choose)."""
    from robin_studio.score.idioms import style_from_prompt

    return intent.style or style_from_prompt(intent.instruments, intent.moods, intent.drum_kit)


def style_for(intent: Intent, picture_energy: float | None = None) -> str:
    """The style to play: the one asked for, else the one the prompt's instruments or moods
    imply (`score.idioms.style_from_prompt`), else, for a prompt naming instruments of no
    particular style, the default palette (cinematic), else the picture's choice."""
    from robin_studio.score.idioms import style_for_picture

    implied = implied_style(intent)
    if implied:
        return implied
    if intent.instruments or picture_energy is None:
        return "cinematic"
    return style_for_picture(picture_energy)


def build_arrangement(intent: Intent, seed: int, *, style: str | None = None,
                      roles_on: dict[Role, bool] | None = None,
                      key: tuple[int, str] | None = None,
                      picture_energy: float | None = None) -> Arrangement:
    """Pick the tracks and their sounds for this intent (see the module docstring).
    `picture_energy`: the picture's mean energy, which picks the style when the prompt
    says nothing of what to play."""
    from robin_studio.score.idioms import asks_for_pulse

    style = style or style_for(intent, picture_energy)
    tonic, mode = key if key is not None else choose_key(intent, seed)
    banned = banned_programs(intent.excluded_instruments)
    palette = _palette(style)

    wanted_roles = [r for r in ROLES if r not in intent.exclude_roles]
    if roles_on:
        wanted_roles = [r for r in wanted_roles if roles_on.get(r, True)]
        wanted_roles += [r for r, on in roles_on.items() if on and r not in wanted_roles
                         and r not in intent.exclude_roles]

    # Requested instruments claim roles first, in the order they were named.
    claimed: dict[Role, int | None] = {}     # None: the role is asked for, the palette's sound
    # Instruments that can play many parts (piano, guitar) choose last, so "piano and strings"
    # gives strings the harmony and piano the tune whatever order they were named in; an
    # asked instrument goes to the quiet texture part only when nothing else is free.
    asked = sorted((INSTRUMENTS[n] for n in intent.instruments if n in INSTRUMENTS),
                   key=lambda spec: (spec.name in FLEXIBLE_INSTRUMENTS, len(spec.roles)))
    for spec in asked:
        roles = list(spec.roles)
        if roles[0] != Role.TEXTURE:     # pads (choir, synth pad) are texture by nature
            roles = [r for r in roles if r != Role.TEXTURE] + [r for r in roles if r == Role.TEXTURE]
        fill = roles if intent.exclusive_instruments else roles[:1]
        free = [r for r in roles if r not in claimed and r in wanted_roles]
        targets = [r for r in fill if r in free] or free[:1]
        for role in targets:
            claimed[role] = spec.programs[0] if spec.programs else None

    tracks: dict[Role, Track] = {}
    for role in wanted_roles:
        if intent.exclusive_instruments and role not in claimed:
            continue
        if role not in palette and role not in claimed:
            continue        # the palette has no sound for this role in this style
        program, gain, pan = palette.get(role, (FALLBACK_PROGRAMS[role][0], DEFAULT_GAIN_DB[role],
                                                DEFAULT_PAN[role]))
        if claimed.get(role) is not None:
            program = claimed[role]
        if role != Role.DRUMS and program in banned:
            program = next((p for p in FALLBACK_PROGRAMS[role] if p not in banned), None)
            if program is None:
                continue
        tracks[role] = Track(role=role, program=int(program), name=role.value, gain_db=gain, pan=pan)
    return Arrangement(tonic=tonic, mode=mode, style=style, tracks=tracks,
                       snap_mode=intent.key_mode in ("major", "minor"), banned=banned,
                       asked_roles=frozenset(r for r in claimed if r in tracks),
                       keep_pulse=bool(intent.tempo_bpm),
                       pulse_asked=asks_for_pulse(intent.instruments, intent.moods, intent.drum_kit))
