"""Every style's idioms as data: drum grooves and fills, bass idioms, comping, chord
progressions and forms. One table, read by both the corpus builder (`train.corpus`) and the
engine's run-time arrangement (`generate.arrange`), so what the model learns from and what
the engine guarantees are the same music.

How to read (and correct) the tables
- Drums: 16 steps a bar, one string per General MIDI drum key: "X" accent, "x" hit,
  "o" soft, "g" ghost, "." rest. `grooves` has a "low", "mid" and "high" energy version;
  in a style with a pulse (`pulse=True`) even "low" carries the beat (at least 6 hits a
  bar): calm footage thins the groove, it never removes it. `fills` replace the last beats
  of a bar before a new section; `build` is the bar (or two) before a drop.
- Bass and comping patterns are lists of (step, length in steps, symbol). Bass symbols:
  "R" root, "5" fifth, "8" octave up, "3" third, "7" the chord's seventh, "2"/"6" the
  scale's second/sixth above the root, "A" a chromatic approach (a semitone below the next
  chord's root), "-5" fifth below, "W" a walking-bass quarter (see `walking_line`).
  Comping: "C" the whole chord, "L" a power chord (root and fifth), "H" the upper tones,
  "1".."4" one chord tone counted from the bottom. A tuple of patterns offers alternatives
  (one is picked per piece or per section from the seed).
- Progressions are roman numerals over the major scale of the key, one item per bar; an
  item with two numerals splits the bar ("ii7 V7"). Upper case is major, lower case minor;
  "7" adds the seventh (dominant on a major numeral, minor on a minor one), "maj7", "6",
  "9", "ø" (half-diminished), "°" (diminished), "sus" (sus4); "b"/"#" move the root:
  in a minor key write "i bVI bIII bVII". Each style has major and minor progressions:
  the mood picks the mode, the seed picks the progression.
- `form` names the sections a piece moves through as the picture's sections turn (intro,
  verse, chorus, build, drop, breakdown, bridge, climax, outro); `SECTION_ENERGY` says how
  each one shapes the picture's energy.

`parent` is the style family the model's style slot uses (`model.conditioning`): the
thirteen styles added on 2026-12-06 share a slot with their family and are told apart by
the prompt embedding and, exactly, by these tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

# General MIDI percussion keys.
KICK, KICK2, SNARE, STICK, CLAP, HAT, PEDAL_HAT, OPEN_HAT = 36, 35, 38, 37, 39, 42, 44, 46
CRASH, RIDE, RIDE_BELL, TAMB, SHAKER, CLAVES, COWBELL = 49, 51, 53, 54, 70, 75, 56
TOM_LO, TOM_MID, TOM_HI, FLOOR_TOM = 45, 47, 50, 41
BONGO_HI, BONGO_LO, CONGA_MUTE, CONGA_OPEN, CONGA_LO = 60, 61, 62, 63, 64
TIMBALE_HI, TIMBALE_LO, CABASA, GUIRO = 65, 66, 69, 73

HIT_VELOCITY = {"X": 118, "x": 100, "o": 78, "g": 48}

Groove = dict[int, str]               # drum key -> 16-step pattern
Pattern = list[tuple[int, int, str]]  # (step, length in steps, symbol)

# -- shared patterns -------------------------------------------------------------------------

BASS_WHOLE: Pattern = [(0, 16, "R")]
BASS_HALVES: Pattern = [(0, 8, "R"), (8, 8, "5")]
BASS_ROCK: Pattern = [(s, 2, "R") for s in range(0, 16, 2)]
BASS_POP: Pattern = [(0, 3, "R"), (3, 3, "R"), (6, 2, "5"), (8, 3, "R"), (11, 3, "8"), (14, 2, "5")]
BASS_WALK: Pattern = [(0, 4, "W"), (4, 4, "W"), (8, 4, "W"), (12, 4, "W")]
BASS_TWO_FEEL: Pattern = [(0, 8, "R"), (8, 6, "5"), (14, 2, "A")]
BASS_BOOM: Pattern = [(0, 6, "R"), (7, 1, "R"), (10, 4, "5"), (14, 2, "A")]
BASS_OFFBEAT: Pattern = [(2, 2, "R"), (6, 2, "R"), (10, 2, "8"), (14, 2, "R")]
BASS_OCTAVES: Pattern = [(s, 1, "R" if (s // 2) % 2 == 0 else "8") for s in range(0, 16, 2)]
# The sidechain pump: the bass enters a sixteenth after each kick and stops a sixteenth
# before the next, so the kick has the low end to itself (the mix ducks what is left).
BASS_PUMP: Pattern = [(s + 1, 2, "R") for s in range(0, 16, 4)]
BASS_PUMP_OCT: Pattern = [(s + 1, 2, "R" if s % 8 == 0 else "8") for s in range(0, 16, 4)]   # root/octave
# A build's last bar: the bass rolls on the root in sixteenths, soft and thin (the drop
# brings the full pump), and stops with the snare half a beat before the drop.
BASS_ROLL: Pattern = [(s, 1, "R") for s in range(16)]
BASS_FOLK: Pattern = [(0, 4, "R"), (4, 4, "5"), (8, 4, "R"), (12, 4, "5")]
BASS_PULSE8: Pattern = [(s, 2, "R") for s in range(0, 16, 2)]
BASS_GALLOP: Pattern = [(0, 2, "R"), (3, 1, "R"), (4, 2, "R"), (6, 2, "R"), (8, 2, "R"),
                        (11, 1, "R"), (12, 2, "R"), (14, 2, "5")]
BASS_CINE: Pattern = [(0, 12, "R"), (12, 4, "5")]
BASS_808: Pattern = [(0, 6, "R"), (6, 4, "R"), (10, 3, "R"), (13, 3, "8")]   # long 808s on the kicks
BASS_808_B: Pattern = [(0, 6, "R"), (6, 8, "R"), (14, 2, "-5")]
BASS_BOSSA: Pattern = [(0, 6, "R"), (6, 2, "5"), (8, 6, "5"), (14, 2, "R")]
BASS_TUMBAO: Pattern = [(6, 4, "5"), (10, 6, "R")]
BASS_FUNK: Pattern = [(0, 2, "R"), (3, 1, "8"), (6, 1, "R"), (8, 2, "R"), (10, 1, "7"),
                      (11, 1, "8"), (14, 2, "5")]
BASS_FUNK_B: Pattern = [(0, 3, "R"), (4, 1, "R"), (7, 1, "8"), (8, 2, "5"), (11, 2, "R"), (14, 2, "A")]
BASS_ARP: Pattern = [(0, 2, "R"), (2, 2, "5"), (4, 2, "8"), (6, 2, "5"), (8, 2, "R"), (10, 2, "5"),
                     (12, 2, "8"), (14, 2, "5")]
BASS_OSTINATO: Pattern = [(0, 2, "R"), (2, 2, "R"), (4, 2, "8"), (6, 2, "R"), (8, 2, "R"),
                          (10, 2, "5"), (12, 2, "R"), (14, 2, "8")]

COMP_PAD: Pattern = [(0, 16, "C")]
COMP_HALVES: Pattern = [(0, 8, "C"), (8, 8, "C")]
COMP_QUARTERS: Pattern = [(0, 3, "C"), (4, 3, "C"), (8, 3, "C"), (12, 3, "C")]
COMP_POP8: Pattern = [(0, 2, "C"), (3, 2, "C"), (6, 2, "C"), (8, 2, "C"), (10, 2, "C"), (12, 2, "C"), (14, 2, "C")]
COMP_STRUM: Pattern = [(0, 4, "C"), (4, 2, "C"), (6, 4, "C"), (10, 2, "C"), (12, 4, "C")]
COMP_POWER: Pattern = [(s, 2, "L") for s in range(0, 16, 2)]
COMP_SKANK: Pattern = [(4, 2, "H"), (12, 2, "H")]
COMP_CHARLESTON: Pattern = [(0, 3, "C"), (6, 2, "C")]
COMP_JAZZ: Pattern = [(0, 4, "C"), (6, 2, "C"), (10, 6, "C")]
COMP_FREDDIE: Pattern = [(0, 2, "C"), (4, 2, "C"), (8, 2, "C"), (12, 2, "C")]   # four to the bar
COMP_BROKEN: Pattern = [(0, 4, "1"), (4, 4, "H"), (8, 4, "2"), (12, 4, "H")]
COMP_ARP8: Pattern = [(0, 2, "1"), (2, 2, "2"), (4, 2, "3"), (6, 2, "4"), (8, 2, "1"), (10, 2, "2"), (12, 2, "3"), (14, 2, "4")]
COMP_ARP16: Pattern = [(s, 1, str(1 + (s % 4))) for s in range(16)]
COMP_LOFI: Pattern = [(0, 7, "C"), (7, 9, "H")]
COMP_STAB: Pattern = [(0, 1, "C"), (3, 1, "C"), (6, 1, "C"), (10, 1, "C")]
COMP_OFFBEAT_STAB: Pattern = [(2, 1, "C"), (6, 1, "C"), (10, 1, "C"), (14, 1, "C")]
COMP_BOSSA: Pattern = [(0, 2, "C"), (3, 2, "C"), (6, 2, "C"), (10, 2, "C"), (13, 2, "C")]
COMP_MONTUNO: Pattern = [(0, 1, "1"), (2, 1, "H"), (3, 1, "2"), (5, 1, "H"), (6, 1, "3"), (8, 1, "H"),
                         (10, 1, "1"), (11, 1, "H"), (13, 1, "2"), (14, 1, "H")]
COMP_FUNK: Pattern = [(0, 1, "H"), (2, 1, "H"), (3, 1, "H"), (6, 1, "H"), (10, 1, "H"), (11, 1, "H"), (14, 1, "H")]
COMP_WALTZLIKE: Pattern = [(0, 4, "1"), (4, 4, "H"), (8, 4, "H"), (12, 4, "H")]
COMP_ALBERTI: Pattern = [(0, 2, "1"), (2, 2, "3"), (4, 2, "2"), (6, 2, "3"), (8, 2, "1"), (10, 2, "3"),
                         (12, 2, "2"), (14, 2, "3")]

# -- shared fills ----------------------------------------------------------------------------

FILL_SNARE: Groove = {KICK: "x.......x.......", SNARE: "........xoxoxxXX"}
FILL_TOMS: Groove = {KICK: "x.......x.......", TOM_HI: "........xx......", TOM_MID: "..........xx....",
                     TOM_LO: "............xx..", FLOOR_TOM: "..............xX"}
FILL_BREAK: Groove = {KICK: "x.....x.x.......", SNARE: "....x.......X...", HAT: "x.x.x.x.........",
                      OPEN_HAT: "..............x."}
FILL_BOOM: Groove = {TOM_LO: "x.......x...x.xx", KICK2: "X...........X...", FLOOR_TOM: "......x...x.xxxX"}
FILL_LIGHT: Groove = {KICK: "x.......x.......", SNARE: "....x.....o.x.oo", HAT: "x.x.x.x.x.x....."}
FILL_JAZZ: Groove = {SNARE: "........x.oxo.xX", RIDE: "x..xx..x........", KICK: "..........x....x"}
FILL_CLAP: Groove = {KICK: "x...x...x.x.xxxx", CLAP: "........xxxxxxxx"}
FILL_TRAP: Groove = {KICK: "x......x..x.....", SNARE: "....x.....xxxxxx", HAT: "xxxxxxxxxxxxxxxx"}
FILL_TIMBALE: Groove = {TIMBALE_HI: "........x.x.xxx.", TIMBALE_LO: "..........x...xX", COWBELL: "x...x..........."}
FILL_CHIP: Groove = {KICK: "x...x...x.......", SNARE: "........x.x.xxxx"}

# A build's snare roll, one groove per stage, that doubles its rate into a drop: a build of N
# bars walks through the stages from the first to the last (the last is its final bar, which
# stops half a beat before the drop: the written break it lands from). The kick stays on the floor
# but soft: the drop's kick ("X") lands with the bass. A bar into a drop that is not a
# build's plays the last stage.
BUILD_ROLL: tuple[Groove, ...] = (
    {KICK: "o...o...o...o...", SNARE: "o...o...o...o...", HAT: "..o...o...o...o."},
    {KICK: "o...o...o...o...", SNARE: "o.o.o.o.x.x.x.x.", OPEN_HAT: "..x...x...x...x."},
    {KICK: "o...o...o...o...", SNARE: "x.x.x.x.xxxxxxxx", OPEN_HAT: "..x...x...x...x."},
    {KICK: "o...o...o...o...", SNARE: "xxxxxxxxXXXXXXXX"},
)

# -- forms -------------------------------------------------------------------------------------

# How each named section shapes the picture's energy: (floor, ceiling, offset). The bar's
# energy from the picture is moved by `offset` and kept between floor and ceiling, so a drop
# is loud even on calm footage and a breakdown stays light even on a busy one.
SECTION_ENERGY: dict[str, tuple[float, float, float]] = {
    "intro": (0.15, 0.55, -0.1), "verse": (0.3, 0.7, 0.0), "chorus": (0.55, 1.0, 0.15),
    "build": (0.4, 0.85, 0.05), "drop": (0.75, 1.0, 0.3), "breakdown": (0.15, 0.45, -0.2),
    "bridge": (0.3, 0.7, 0.0), "climax": (0.8, 1.0, 0.3), "outro": (0.2, 0.6, -0.1),
    "rise": (0.35, 0.9, 0.1), "a": (0.3, 0.8, 0.0), "b": (0.4, 0.9, 0.05),
}

# Half-time trailer percussion: taiko-like low drums and toms, the snare on beat 3. The
# trailer's groove, and what cinematic and orchestral play when a pulse is asked for.
TRAILER_GROOVES: dict[str, Groove] = {
    "low": {KICK2: "X.......x.......", FLOOR_TOM: "x.....x.x.....x.", TOM_LO: "........x......."},
    "mid": {KICK2: "X.....x.X.......", FLOOR_TOM: "x.x...x.x.x...x.", TOM_LO: "x...x...x...x...",
            SNARE: "........X......."},
    "high": {KICK2: "X.....x.X.....x.", FLOOR_TOM: "x.xxx.x.x.xxx.xx", TOM_LO: "x.x.x.x.x.x.x.x.",
             SNARE: "........X.......", CRASH: "X..............."},
}
# A soft pulse for ambient and solo piano when drums are asked for: brushes, shaker, a
# soft kick (at least 6 hits a bar even at "low").
SOFT_GROOVES: dict[str, Groove] = {
    "low": {KICK: "x.........x.....", SHAKER: "o.o.o.o.o.o.o.o.", STICK: "........o......."},
    "mid": {KICK: "x.........x.....", SHAKER: "o.o.o.o.o.o.o.o.", STICK: "....o.......o..."},
    "high": {KICK: "x.....x...x.....", SHAKER: "oooooooooooooooo", SNARE: "....o.......o..."},
}

# In a form laid over time (`Idiom.part_bars`), a section that rises across its bars
# whatever the picture does: (energy on its first bar, on its last). A build swells into its drop (more hits, louder, the riser climbing) and
# stays under it: the drop's floor (SECTION_ENERGY) is above the build's top. In a style with
# a `build_bass` the build's last bar plays it (a soft roll on the root): the drop brings
# the full bass back with the groove and a crash.
SECTION_RISE: dict[str, tuple[float, float]] = {"build": (0.2, 0.55)}

# The parts of a form laid over time (EDM, house: `Idiom.part_bars`), in bars: a picture
# section longer than its part moves on through the form, and a cut near a planned turn
# turns it there. Music's phrases are 4 and 8 bars; a build shorter than 4 is no build.
DANCE_PART_BARS: dict[str, int] = {"build": 4, "drop": 8, "breakdown": 4}

FORM_SONG = ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro")
FORM_EDM = ("intro", "build", "drop", "breakdown", "build", "drop", "outro")
FORM_TRAILER = ("intro", "rise", "rise", "build", "climax")
FORM_AB = ("intro", "a", "b", "a", "b", "a", "outro")
FORM_ARC = ("intro", "verse", "build", "chorus", "breakdown", "chorus", "outro")
FORM_FLAT = ("intro", "a", "a", "b", "a", "b", "outro")


@dataclass(frozen=True)
class Idiom:
    """The musical idioms of one style (see the module docstring for the notation)."""

    name: str
    parent: str                               # the model's style slot (one of the first 12)
    pulse: bool                               # a groove that carries every bar after the intro
    grooves: dict[str, Groove]                # "low" | "mid" | "high"
    fills: tuple[Groove, ...]
    bass: dict[str, Pattern | tuple[Pattern, ...]]        # "low" | "high"
    comping: dict[str, Pattern | tuple[Pattern, ...]]     # "low" | "high"
    major: tuple[tuple[str, ...], ...]        # progressions, one item per bar
    minor: tuple[tuple[str, ...], ...]
    form: tuple[str, ...] = FORM_ARC
    bass_idiom: str = "pattern"               # pattern | walking | octaves | pump | 808 | ostinato | drone
    drone: bool = False                       # slow changes allowed (fewer than 4 chords in 16 bars)
    mode: str = "any"                         # "major"/"minor": the style's own mode when no mood says
    texture: str = "pad"                      # pad | arp | pulse | none
    build: tuple[Groove, ...] = ()            # the bars into a drop
    swing: float = 0.0
    intro_bars: int = 2                       # bars at the start that may play without the groove
    extensions: bool = False                  # jazz voicings (sevenths/ninths, rootless)
    # A style without a pulse of its own plays these grooves when the prompt asks for one
    # (names drums or a drum, or a driving mood: `asks_for_pulse`): "epic orchestral music
    # with taiko drums" is an orchestral piece over half-time trailer percussion.
    pulse_grooves: dict[str, Groove] | None = None
    # A form laid over time (see DANCE_PART_BARS): each part's length in bars; empty: the form
    # moves on only when the picture's sections turn.
    part_bars: dict[str, int] = field(default_factory=dict)
    # What the texture part plays in a part of the form, instead of `texture` ("riser": a
    # line climbing through the build, faster in its last bar).
    part_texture: dict[str, str] = field(default_factory=dict)
    # The bass of the bar that rolls into a drop (None: the style's own pattern).
    build_bass: Pattern | None = None
    build_bass_velocity: float = 0.6          # of the bass's velocity: the drop is louder
    # An 808 that slides (bass_idiom "808"): how long a slide from one tied note into the
    # next takes, a share of a beat held within (shortest, longest) seconds, so it is an
    # audible glide at any tempo (pitch-bend ramps in the MIDI file and in our synth:
    # `score.expression.slide_seconds`).
    slide_beats: float = 0.33
    slide_s: tuple[float, float] = (0.08, 0.25)

    def with_pulse(self) -> "Idiom":
        """This style with its asked-for pulse (itself when it has a pulse or no pulse grooves)."""
        if self.pulse or not self.pulse_grooves:
            return self
        from dataclasses import replace

        return replace(self, pulse=True, grooves=self.pulse_grooves, fills=self.fills or (FILL_LIGHT,))


IDIOMS: dict[str, Idiom] = {}


def _add(idiom: Idiom) -> None:
    IDIOMS[idiom.name] = idiom


POP_MAJOR = (("I", "V", "vi", "IV"), ("vi", "IV", "I", "V"), ("I", "vi", "IV", "V"), ("IV", "I", "V", "vi"))
POP_MINOR = (("i", "bVI", "bIII", "bVII"), ("i", "bVII", "bVI", "V"), ("i", "iv", "bVI", "bVII"))
FOLK_MAJOR = (("I", "IV", "vi", "V"), ("I", "V", "vi", "IV"), ("I", "IV", "I", "V", "vi", "IV", "ii", "V"))
FOLK_MINOR = (("i", "bVII", "bVI", "bVII", "i", "iv", "bVII", "V"), ("i", "bIII", "bVII", "iv"))
JAZZ_MAJOR = (("ii7", "V7", "Imaj7", "vi7"), ("Imaj7", "vi7", "ii7", "V7"),
              ("iii7", "VI7", "ii7", "V7", "Imaj7", "IV7", "iii7 VI7", "ii7 V7"))
JAZZ_MINOR = (("iiø", "V7", "i7", "i7"), ("i7", "iv7", "bVII7", "bIIImaj7", "bVImaj7", "iiø", "V7", "i7"))
EPIC_MINOR = (("i", "bVI", "bIII", "bVII"), ("i", "bVI", "iv", "V"), ("i", "i", "bVI", "bVI", "bIII", "bIII", "bVII", "V"))
EPIC_MAJOR = (("I", "V", "vi", "IV"), ("vi", "IV", "I", "V"), ("I", "iii", "IV", "iv"))
DARK_MINOR = (("i", "bVI", "iv", "V"), ("i", "bII", "bVI", "V"), ("i", "iv", "bII", "V"))

_add(Idiom(
    name="cinematic", parent="cinematic", pulse=False,
    grooves={"low": {}, "mid": {KICK2: "X.......x.......", TOM_LO: "x...x...x...x..x"},
             "high": {KICK2: "X.....x.X.......", TOM_LO: "x.xxx.x.x.xxx.xx", SNARE: "....X.......X...",
                      CRASH: "X..............."}},
    fills=(FILL_BOOM, FILL_TOMS), bass={"low": BASS_WHOLE, "high": (BASS_CINE, BASS_OSTINATO)},
    comping={"low": COMP_PAD, "high": (COMP_HALVES, COMP_ARP8)},
    major=EPIC_MAJOR, minor=EPIC_MINOR, form=FORM_ARC, bass_idiom="ostinato", intro_bars=4,
    pulse_grooves=TRAILER_GROOVES,
))
_add(Idiom(
    name="ambient", parent="ambient", pulse=False,
    grooves={"low": {}, "mid": {}, "high": {SHAKER: "..o...o...o...o."}},
    fills=(), bass={"low": BASS_WHOLE, "high": BASS_WHOLE},
    comping={"low": COMP_PAD, "high": (COMP_PAD, COMP_HALVES)},
    major=(("Imaj7", "Imaj7", "IVmaj7", "IVmaj7"), ("I", "I", "vi", "vi", "IV", "IV", "I", "I")),
    minor=(("i", "i", "bVImaj7", "bVImaj7"), ("i7", "i7", "iv7", "iv7")),
    form=FORM_AB, bass_idiom="drone", drone=True, texture="pad", intro_bars=4,
    pulse_grooves=SOFT_GROOVES,
))
_add(Idiom(
    name="lofi", parent="lofi", pulse=True, swing=0.6,
    grooves={"low": {KICK: "x.........x.....", STICK: "....o.......o...", HAT: "o.g.o.g.o.g.o.g."},
             "mid": {KICK: "x.....g...x.....", SNARE: "....x.......x...", HAT: "o.o.o.oo.o.o.o.o"},
             "high": {KICK: "x.....x...x..g..", SNARE: "....x.......x..g", HAT: "o.ooo.o.o.ooo.o."}},
    fills=(FILL_LIGHT, FILL_BREAK), bass={"low": (BASS_HALVES, BASS_BOOM), "high": (BASS_BOOM, BASS_HALVES)},
    comping={"low": COMP_LOFI, "high": (COMP_JAZZ, COMP_LOFI)},
    major=(("ii7", "V7", "Imaj7", "vi7"), ("IVmaj7", "iii7", "ii7", "Imaj7"), ("Imaj7", "vi7", "ii7", "V7")),
    minor=(("i7", "iv7", "bVII7", "bIIImaj7"), ("i7", "bVImaj7", "iv7", "V7")),
    form=FORM_FLAT, extensions=True,
))
_add(Idiom(
    name="pop", parent="pop", pulse=True,
    grooves={"low": {KICK: "x.......x.......", STICK: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x.......x.x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x...x...x...x...", CLAP: "....x.......x...", SNARE: "....x.......x...",
                      HAT: "xoxoxoxoxoxoxoxo", OPEN_HAT: "..............x."}},
    fills=(FILL_SNARE, FILL_BREAK), bass={"low": BASS_HALVES, "high": (BASS_POP, BASS_ROCK)},
    comping={"low": (COMP_HALVES, COMP_BROKEN), "high": (COMP_POP8, COMP_STRUM)},
    major=POP_MAJOR, minor=POP_MINOR, form=FORM_SONG,
))
_add(Idiom(
    name="rock", parent="rock", pulse=True,
    grooves={"low": {KICK: "x.......x.......", SNARE: "....o.......o...", RIDE: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x.......x.x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x.x.....x.x..x..", SNARE: "....X.......X...", HAT: "xxxxxxxxxxxxxxxx",
                      CRASH: "x..............."}},
    fills=(FILL_TOMS, FILL_SNARE), bass={"low": BASS_HALVES, "high": (BASS_ROCK, BASS_POP)},
    comping={"low": COMP_STRUM, "high": (COMP_POWER, COMP_STRUM)},
    major=(("I", "V", "vi", "IV"), ("I", "bVII", "IV", "V"), ("vi", "IV", "I", "V")),
    minor=(("i", "bVII", "bVI", "V"), ("i", "bIII", "bVII", "iv"), ("i", "bVI", "bVII", "i", "iv", "bVI", "bVII", "V")),
    form=FORM_SONG,
))
_add(Idiom(
    name="electronic", parent="electronic", pulse=True,
    grooves={"low": {KICK: "x...x...x...x...", HAT: "..o...o...o...o."},
             "mid": {KICK: "x...x...x...x...", CLAP: "....x.......x...", HAT: "..x...x...x...x.",
                     SHAKER: "oooooooooooooooo"},
             "high": {KICK: "X...X...X...X...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
                      HAT: "xoxoxoxoxoxoxoxo", CRASH: "x..............."}},
    fills=(FILL_CLAP, FILL_BREAK), bass={"low": BASS_OFFBEAT, "high": (BASS_PULSE8, BASS_OFFBEAT)},
    comping={"low": COMP_PAD, "high": (COMP_STAB, COMP_ARP8)},
    major=(("vi", "IV", "I", "V"), ("I", "V", "vi", "IV")), minor=POP_MINOR,
    form=FORM_EDM, texture="arp", build=BUILD_ROLL,
    part_bars=DANCE_PART_BARS, part_texture={"build": "riser"}, build_bass=BASS_ROLL,
))
_add(Idiom(
    name="folk", parent="folk", pulse=True,
    grooves={"low": {KICK: "x.......x.......", SHAKER: "o.o.o.o.o.o.o.o."},
             "mid": {KICK: "x.......x.......", TAMB: "....x.......x...", SHAKER: "o.o.o.o.o.o.o.o."},
             "high": {KICK: "x.....x.x.......", SNARE: "....o.......o...", TAMB: "..x...x...x...x.",
                      SHAKER: "oooooooooooooooo"}},
    fills=(FILL_LIGHT,), bass={"low": BASS_HALVES, "high": BASS_FOLK},
    comping={"low": (COMP_BROKEN, COMP_ARP8), "high": (COMP_STRUM, COMP_BROKEN)},
    major=FOLK_MAJOR, minor=FOLK_MINOR, form=FORM_SONG,
))
_add(Idiom(
    name="orchestral", parent="orchestral", pulse=False,
    grooves={"low": {}, "mid": {KICK2: "x.......o......."},
             "high": {KICK2: "X.......x.......", SNARE: "....o.o.....o.oo", CRASH: "X..............."}},
    fills=({SNARE: "........oooooxxX", KICK2: "X..............."},),
    bass={"low": BASS_HALVES, "high": (BASS_FOLK, BASS_OSTINATO)},
    comping={"low": (COMP_PAD, COMP_HALVES), "high": (COMP_QUARTERS, COMP_ALBERTI)},
    major=(("I", "vi", "IV", "V"), ("I", "IV", "ii", "V"), ("I", "V", "vi", "iii", "IV", "I", "IV", "V")),
    minor=(("i", "bVI", "iv", "V"), ("i", "iv", "bVII", "bIII", "bVI", "iiø", "V", "i")),
    form=FORM_ARC, bass_idiom="ostinato", intro_bars=4, pulse_grooves=TRAILER_GROOVES,
))
_add(Idiom(
    name="jazz", parent="jazz", pulse=True, swing=0.66,
    grooves={"low": {RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x..."},
             "mid": {RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x...", KICK: "g.......g......."},
             "high": {RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x...", SNARE: "..g....g.g....g.",
                      KICK: "g.....g.g.....g."}},
    fills=(FILL_JAZZ,), bass={"low": BASS_WALK, "high": BASS_WALK},
    comping={"low": (COMP_CHARLESTON, COMP_JAZZ), "high": (COMP_JAZZ, COMP_CHARLESTON)},
    major=JAZZ_MAJOR, minor=JAZZ_MINOR, form=FORM_AB, bass_idiom="walking", extensions=True,
))
_add(Idiom(
    name="hiphop", parent="hiphop", pulse=True, swing=0.55,
    grooves={"low": {KICK: "x.........x.....", SNARE: "....o.......o...", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x......x..x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x......x.xx...x.", SNARE: "....X.......X...", HAT: "xxx.xxx.xxxxxx.x",
                      OPEN_HAT: "......x........."}},
    fills=(FILL_BREAK, {KICK: "x.......x.x.x.x.", SNARE: "....x.......xxxx"}),
    bass={"low": BASS_808_B, "high": BASS_BOOM}, comping={"low": COMP_LOFI, "high": COMP_STAB},
    major=(("vi", "IV", "I", "V"), ("Imaj7", "iii7", "vi7", "IVmaj7")),
    minor=(("i", "bVI", "bIII", "bVII"), ("i", "iv", "bVII", "bIII")),
    form=FORM_FLAT, extensions=True,
))
_add(Idiom(
    name="corporate", parent="corporate", pulse=True,
    grooves={"low": {KICK: "x.......x.......", HAT: "..x...x...x...x.", CLAP: "....x.......x..."},
             "mid": {KICK: "x.......x.......", CLAP: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x...x...x...x...", CLAP: "....x.......x...", HAT: "xoxoxoxoxoxoxoxo",
                      TAMB: "....x.......x..."}},
    fills=(FILL_LIGHT, FILL_SNARE), bass={"low": BASS_HALVES, "high": (BASS_POP, BASS_PULSE8)},
    comping={"low": (COMP_BROKEN, COMP_ARP8), "high": (COMP_POP8, COMP_STAB)},
    major=(("I", "V", "vi", "IV"), ("IV", "I", "V", "vi"), ("I", "iii", "IV", "V")), minor=POP_MINOR,
    form=FORM_SONG, mode="major",
))
_add(Idiom(
    name="thriller", parent="thriller", pulse=True,
    grooves={"low": {KICK2: "x.........x.....", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK2: "x.......x.......", TOM_LO: "......x.......x.", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK2: "X..x..x.X..x..x.", TOM_LO: "x.x.x.x.x.x.x.x.", SNARE: "....x.......x...",
                      CRASH: "X..............."}},
    fills=(FILL_BOOM, FILL_TOMS), bass={"low": BASS_WHOLE, "high": (BASS_PULSE8, BASS_OSTINATO)},
    comping={"low": COMP_PAD, "high": COMP_HALVES},
    major=(("I", "bVI", "IV", "V"), ("vi", "IV", "iii", "V")), minor=DARK_MINOR,
    form=FORM_ARC, mode="minor", texture="pulse", bass_idiom="ostinato",
))

# -- the thirteen styles added for issue 14 ------------------------------------------------

_add(Idiom(
    name="edm", parent="electronic", pulse=True,
    grooves={"low": {KICK: "x...x...x...x...", HAT: "..x...x...x...x."},
             "mid": {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
                     HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "X...X...X...X...", CLAP: "....X.......X...", OPEN_HAT: "..x...x...x...x.",
                      HAT: "xxxxxxxxxxxxxxxx", CRASH: "x..............."}},
    fills=(FILL_CLAP,), bass={"low": BASS_PUMP, "high": (BASS_PUMP_OCT, BASS_PUMP)},
    comping={"low": COMP_OFFBEAT_STAB, "high": (COMP_OFFBEAT_STAB, COMP_STAB)},
    major=(("vi", "IV", "I", "V"), ("IV", "V", "vi", "I")), minor=POP_MINOR,
    form=FORM_EDM, bass_idiom="pump", texture="arp", build=BUILD_ROLL, intro_bars=4,
    part_bars=DANCE_PART_BARS, part_texture={"build": "riser", "intro": "pad", "breakdown": "pad"},
    build_bass=BASS_ROLL,
))
_add(Idiom(
    name="house", parent="electronic", pulse=True,
    grooves={"low": {KICK: "x...x...x...x...", OPEN_HAT: "..x...x...x...x."},
             "mid": {KICK: "x...x...x...x...", CLAP: "....x.......x...", OPEN_HAT: "..x...x...x...x.",
                     HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "X...X...X...X...", CLAP: "....x.......x...", OPEN_HAT: "..X...X...X...X.",
                      HAT: "xoxxxoxxxoxxxoxx", SHAKER: "oooooooooooooooo"}},
    fills=(FILL_CLAP,), bass={"low": BASS_OFFBEAT, "high": (BASS_OFFBEAT, BASS_OCTAVES)},
    comping={"low": COMP_OFFBEAT_STAB, "high": (COMP_OFFBEAT_STAB, COMP_STAB)},
    major=(("ii7", "V7", "Imaj7", "vi7"), ("IVmaj7", "iii7", "ii7", "V7")),
    minor=(("i7", "iv7", "bVII7", "bIIImaj7"), ("i7", "bVImaj7", "bVII7", "i7", "iv7", "bVImaj7", "V7", "i7")),
    form=FORM_EDM, bass_idiom="octaves", texture="pad", build=BUILD_ROLL, extensions=True, intro_bars=4,
    part_bars=DANCE_PART_BARS, part_texture={"build": "riser"}, build_bass=BASS_ROLL,
))
_add(Idiom(
    name="trap", parent="hiphop", pulse=True,
    grooves={"low": {KICK: "x.........x.....", HAT: "x.x.x.x.x.x.x.x.", SNARE: "........x......."},
             "mid": {KICK: "x......x..x.....", SNARE: "........x.......", HAT: "x.x.xxx.x.x.xxxx"},
             "high": {KICK: "x......x..x..x..", SNARE: "........X.......", CLAP: "........x.......",
                      HAT: "xxxxx.xxxxxx.xxx", OPEN_HAT: "......x........."}},
    fills=(FILL_TRAP,), bass={"low": BASS_808, "high": (BASS_808, BASS_808_B)},
    comping={"low": COMP_PAD, "high": (COMP_HALVES, COMP_ARP8)},
    major=(("vi", "IV", "I", "V"), ("I", "iii", "vi", "IV")),
    minor=(("i", "iv", "bVI", "V"), ("i", "bVI", "bIII", "bVII"), ("i", "bII", "bVI", "V")),
    form=FORM_FLAT, bass_idiom="808", mode="minor", slide_beats=0.33, slide_s=(0.08, 0.25),
))
_add(Idiom(
    name="boombap", parent="hiphop", pulse=True, swing=0.58,
    grooves={"low": {KICK: "x.........x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x......x..x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x......x.xx.....", SNARE: "....X.......X..g", HAT: "x.xxx.x.x.xxx.x.",
                      OPEN_HAT: "..............x."}},
    fills=(FILL_BREAK,), bass={"low": BASS_BOOM, "high": BASS_BOOM},
    comping={"low": COMP_LOFI, "high": (COMP_STAB, COMP_LOFI)},
    major=(("ii7", "V7", "Imaj7", "vi7"), ("Imaj7", "iii7", "IVmaj7", "V7")),
    minor=(("i7", "iv7", "bVII7", "bIIImaj7"), ("i7", "bVImaj7", "iv7", "V7")),
    form=FORM_FLAT, extensions=True,
))
_add(Idiom(
    name="swing", parent="jazz", pulse=True, swing=0.66,
    grooves={"low": {RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x...", SNARE: "gggggggggggggggg"},
             "mid": {RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x...", KICK: "g...g...g...g..."},
             "high": {RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x...", KICK: "o...o...o...o...",
                      SNARE: "..g....g.g.x..g."}},
    fills=(FILL_JAZZ,), bass={"low": BASS_WALK, "high": BASS_WALK},
    comping={"low": (COMP_FREDDIE, COMP_CHARLESTON), "high": (COMP_FREDDIE, COMP_JAZZ)},
    major=(("Imaj7", "vi7", "ii7", "V7"), ("I6", "VI7", "ii7", "V7", "iii7", "VI7", "ii7", "V7"),
           ("IVmaj7", "iv7", "iii7", "VI7", "ii7", "V7", "Imaj7", "V7")),
    minor=JAZZ_MINOR, form=FORM_AB, bass_idiom="walking", extensions=True,
))
_add(Idiom(
    name="bossa", parent="jazz", pulse=True,
    grooves={"low": {KICK: "x..x....x..x....", STICK: "x..x..x...x..x..", SHAKER: "x.o.x.o.x.o.x.o."},
             "mid": {KICK: "x..x....x..x....", STICK: "x..x..x...x..x..", HAT: "xxxxxxxxxxxxxxxx"},
             "high": {KICK: "x..x....x..x....", STICK: "x..x..x...x..x..", HAT: "xoxoxoxoxoxoxoxo",
                      SHAKER: "oooooooooooooooo"}},
    fills=({STICK: "x..x..x.x.x.x.xx", KICK: "x..x....x..x...."},),
    bass={"low": BASS_BOSSA, "high": BASS_BOSSA}, comping={"low": COMP_BOSSA, "high": COMP_BOSSA},
    major=(("Imaj7", "Imaj7", "II7", "II7", "ii7", "bII7", "Imaj7", "Imaj7"), ("Imaj7", "vi7", "ii7", "V7")),
    minor=(("i7", "iv7", "bVII7", "bIIImaj7"), ("i7", "i7", "iv7", "iv7", "iiø", "V7", "i7", "V7")),
    form=FORM_AB, extensions=True,
))
_add(Idiom(
    name="latin", parent="pop", pulse=True,
    grooves={"low": {CLAVES: "x..x...x..x.x...", CONGA_MUTE: "..x...x...x...x.", SHAKER: "x.x.x.x.x.x.x.x."},
             "mid": {CLAVES: "x..x...x..x.x...", CONGA_MUTE: "..x...x...x...x.", CONGA_OPEN: ".......x.......x",
                     KICK: "x.......x.......", COWBELL: "x...x...x...x..."},
             "high": {CLAVES: "x..x...x..x.x...", CONGA_OPEN: "..x..xx...x..xx.", CONGA_LO: ".......x.......x",
                      KICK: "x..x....x..x....", COWBELL: "x.x.x.x.x.x.x.x.", TIMBALE_HI: "....x.......x..."}},
    fills=(FILL_TIMBALE,), bass={"low": BASS_TUMBAO, "high": BASS_TUMBAO},
    comping={"low": COMP_MONTUNO, "high": COMP_MONTUNO},
    major=(("I", "IV", "V", "IV"), ("ii", "V", "I", "vi")), minor=(("i", "iv", "V", "i", "bVI", "iv", "V", "V"), ("i", "iv", "bVII", "bIII")),
    form=FORM_SONG,
))
_add(Idiom(
    name="trailer", parent="cinematic", pulse=True,
    grooves=TRAILER_GROOVES,
    fills=(FILL_BOOM, FILL_TOMS), bass={"low": BASS_OSTINATO, "high": (BASS_OSTINATO, BASS_GALLOP)},
    comping={"low": (COMP_HALVES, COMP_PAD), "high": (COMP_QUARTERS, COMP_POWER)},
    major=EPIC_MAJOR, minor=(("i", "i", "bVI", "bVI", "bIII", "bIII", "bVII", "V"), ("i", "bVI", "bIII", "bVII"),
                             ("i", "bVI", "iv", "V")),
    form=FORM_TRAILER, bass_idiom="ostinato", mode="minor", texture="pulse", build=(FILL_BOOM,),
))
_add(Idiom(
    name="funk", parent="pop", pulse=True, swing=0.15,
    grooves={"low": {KICK: "x.....x...x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x.....x...x..x..", SNARE: "....x..g.g..x...", HAT: "xxxxxxxxxxxxxxxx"},
             "high": {KICK: "x.x...x...x..x..", SNARE: "....X..g.g..X..g", HAT: "xxxxxxoxxxxxxxox",
                      OPEN_HAT: "......x.......x."}},
    fills=(FILL_BREAK, FILL_SNARE), bass={"low": BASS_FUNK_B, "high": (BASS_FUNK, BASS_FUNK_B)},
    comping={"low": COMP_FUNK, "high": COMP_FUNK},
    major=(("I7", "IV7", "I7", "IV7", "ii7", "V7", "I7", "V7"), ("I7", "I7", "IV7", "IV7", "vi7", "ii7", "V7", "V7")),
    minor=(("i7", "IV7", "i7", "IV7", "bVI7", "bVII7", "i7", "V7"), ("i7", "iv7", "bVII7", "bIIImaj7")),
    form=FORM_FLAT, extensions=True,
))
_add(Idiom(
    name="solopiano", parent="ambient", pulse=False,
    grooves={"low": {}, "mid": {}, "high": {}}, fills=(),
    bass={"low": BASS_HALVES, "high": (BASS_HALVES, BASS_FOLK)},
    comping={"low": (COMP_BROKEN, COMP_WALTZLIKE), "high": (COMP_ALBERTI, COMP_ARP8)},
    major=(("I", "V", "vi", "IV"), ("I", "vi", "IV", "V"), ("vi", "IV", "I", "V"), ("I", "iii", "IV", "V")),
    minor=(("i", "bVI", "bIII", "bVII"), ("i", "iv", "bVII", "bIII"), ("i", "bVI", "iv", "V")),
    form=FORM_AB, texture="none", pulse_grooves=SOFT_GROOVES,
))
_add(Idiom(
    name="acoustic", parent="folk", pulse=True,
    grooves={"low": {KICK: "x.......x.......", SHAKER: "x.o.x.o.x.o.x.o."},
             "mid": {KICK: "x.....x.x.......", STICK: "....x.......x...", SHAKER: "x.o.x.o.x.o.x.o."},
             "high": {KICK: "x.....x.x.......", SNARE: "....x.......x...", SHAKER: "xoxoxoxoxoxoxoxo",
                      TAMB: "....x.......x..."}},
    fills=(FILL_LIGHT,), bass={"low": BASS_HALVES, "high": (BASS_FOLK, BASS_POP)},
    comping={"low": (COMP_ARP8, COMP_BROKEN), "high": (COMP_STRUM, COMP_ARP8)},
    major=FOLK_MAJOR, minor=FOLK_MINOR, form=FORM_SONG,
))
_add(Idiom(
    name="chiptune", parent="electronic", pulse=True,
    grooves={"low": {KICK: "x.......x.......", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x.......x.x.....", SNARE: "....x.......x...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x...x...x.x.x...", SNARE: "....x.......x...", HAT: "xxxxxxxxxxxxxxxx"}},
    fills=(FILL_CHIP,), bass={"low": BASS_OCTAVES, "high": (BASS_OCTAVES, BASS_ARP)},
    comping={"low": COMP_ARP16, "high": COMP_ARP16},
    major=(("I", "V", "vi", "IV"), ("I", "IV", "V", "vi"), ("vi", "IV", "I", "V")),
    minor=(("i", "bVII", "bVI", "V"), ("i", "bVI", "bIII", "bVII")),
    form=FORM_SONG, bass_idiom="octaves", texture="none",
))
_add(Idiom(
    name="synthwave", parent="electronic", pulse=True,
    grooves={"low": {KICK: "x.......x.......", SNARE: "....o.......o...", HAT: "x.x.x.x.x.x.x.x."},
             "mid": {KICK: "x...x...x...x...", SNARE: "....X.......X...", HAT: "x.x.x.x.x.x.x.x."},
             "high": {KICK: "x...x...x...x...", SNARE: "....X.......X...", HAT: "xxxxxxxxxxxxxxxx",
                      CRASH: "x..............."}},
    fills=(FILL_TOMS, FILL_SNARE), bass={"low": BASS_PULSE8, "high": (BASS_OCTAVES, BASS_PULSE8)},
    comping={"low": COMP_PAD, "high": (COMP_HALVES, COMP_ARP8)},
    major=(("vi", "IV", "I", "V"), ("I", "V", "vi", "IV")),
    minor=(("i", "bVI", "bIII", "bVII"), ("i", "bVII", "bVI", "bVII", "i", "bVI", "iv", "V")),
    form=FORM_SONG, bass_idiom="octaves", texture="arp", mode="minor",
))

STYLE_IDS: tuple[str, ...] = tuple(IDIOMS)
# Styles whose bass is an 808 that slides between tied notes (pitch bends in the MIDI file,
# the pitch wheel in our synth: `score.expression.glides`).
SLIDING_BASS_STYLES = frozenset(name for name, i in IDIOMS.items() if i.bass_idiom == "808")
MODEL_STYLE_FAMILIES: tuple[str, ...] = tuple(i.name for i in IDIOMS.values() if i.parent == i.name)


def idiom_for(style: str | None) -> Idiom:
    """The idioms of `style` (an unknown or empty style: cinematic, the default palette)."""
    return IDIOMS.get(style or "", IDIOMS["cinematic"])


def family_of(style: str | None) -> str | None:
    """The model's style slot for a style id ("house" -> "electronic"); None if unknown."""
    if not style or style not in IDIOMS:
        return None
    return IDIOMS[style].parent


# -- when the prompt names no style --------------------------------------------------------------
# The style a prompt implies without naming one, read in this order: an instrument that
# belongs to one style (the first named that does), then a mood, then the picture. A prompt
# that names only instruments of no particular style ("piano and strings") keeps the default
# palette (cinematic), which plays them as named.
STYLE_BY_INSTRUMENT: dict[str, str] = {
    "nylon guitar": "acoustic", "acoustic guitar": "acoustic", "guitar": "acoustic", "banjo": "acoustic",
    "steel guitar": "acoustic", "kalimba": "acoustic",
    "fiddle": "folk", "harmonica": "folk", "accordion": "folk", "bagpipe": "folk", "dulcimer": "folk",
    "808 kit": "trap", "brush kit": "jazz", "jazz kit": "jazz", "jazz guitar": "jazz",
    "saxophone": "jazz", "tenor sax": "jazz", "alto sax": "jazz", "baritone sax": "jazz", "muted trumpet": "jazz",
    "vibraphone": "jazz",
    "electronic kit": "electronic", "synth bass": "electronic", "saw lead": "electronic",
    "square lead": "chiptune", "polysynth": "synthwave",
    "distortion guitar": "rock", "overdriven guitar": "rock", "electric guitar": "rock", "power kit": "rock",
    "slap bass": "funk", "clavinet": "funk", "steel drums": "latin", "bandoneon": "latin",
    "taiko": "trailer", "orchestra hit": "trailer", "orchestra kit": "orchestral", "timpani": "orchestral",
}
STYLE_BY_MOOD: dict[str, str] = {
    "happy": "pop", "playful": "pop", "uplifting": "corporate", "hopeful": "corporate", "bright": "pop",
    "energetic": "rock", "aggressive": "rock", "powerful": "trailer", "epic": "trailer",
    "triumphant": "orchestral", "intense": "trailer", "dramatic": "cinematic",
    "groovy": "funk", "dark": "cinematic", "tense": "cinematic", "mysterious": "cinematic", "eerie": "cinematic",
    "sad": "cinematic", "melancholic": "cinematic", "nostalgic": "cinematic", "tender": "cinematic",
    "romantic": "cinematic", "emotional": "cinematic", "warm": "cinematic",
    "calm": "acoustic", "gentle": "acoustic", "dreamy": "ambient",
}
# Nothing in the prompt says what to play: the picture's mean energy picks a style with a
# pulse ((mean energy below, style), first that fits). Calm footage gets a light acoustic
# groove, anything livelier a pop one.
STYLE_BY_PICTURE: tuple[tuple[float, str], ...] = ((0.45, "acoustic"), (float("inf"), "pop"))

# A style without its own pulse (cinematic, orchestral, ambient, solo piano) plays its
# `pulse_grooves` when the prompt names a drum or a kit, or a driving mood.
PULSE_INSTRUMENTS = frozenset({"drums", "taiko", "timpani", "melodic tom", "synth drum", "woodblock", "agogo",
                               "steel drums", "808 kit", "brush kit", "jazz kit", "electronic kit", "power kit",
                               "room kit", "standard kit", "orchestra kit"})
DRIVING_MOODS = frozenset({"epic", "triumphant", "energetic", "powerful", "intense", "aggressive"})


def style_from_prompt(instruments, moods, drum_kit: str | None = None) -> str | None:
    """The style a prompt implies without naming one (None: it implies none)."""
    for name in ([drum_kit] if drum_kit else []) + list(instruments or ()):
        if name in STYLE_BY_INSTRUMENT:
            return STYLE_BY_INSTRUMENT[name]
    for mood in moods or ():
        if mood in STYLE_BY_MOOD:
            return STYLE_BY_MOOD[mood]
    return None


def style_for_picture(mean_energy: float) -> str:
    """The style for a prompt that says nothing about what to play (see STYLE_BY_PICTURE)."""
    return next(style for below, style in STYLE_BY_PICTURE if mean_energy < below)


def asks_for_pulse(instruments, moods, drum_kit: str | None = None) -> bool:
    """Whether the prompt asks for a pulse: it names a drum or a kit, or a driving mood."""
    return bool(drum_kit) or bool(PULSE_INSTRUMENTS & set(instruments or ())) or bool(DRIVING_MOODS & set(moods or ()))


# -- roman numerals -> chords -------------------------------------------------------------------

_DEGREE = {"I": 0, "II": 2, "III": 4, "IV": 5, "V": 7, "VI": 9, "VII": 11}
_NUMERAL = re.compile(r"^(b|#)?(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)(.*)$")


@lru_cache(maxsize=512)
def chord_of(numeral: str, tonic: int) -> tuple[int, tuple[int, ...]]:
    """(root pitch class, chord pitch classes root first) of a roman numeral in a key.

    >>> chord_of("V7", 0)
    (7, (7, 11, 2, 5))
    """
    m = _NUMERAL.match(numeral.strip())
    if not m:
        raise ValueError(f"not a roman numeral: {numeral!r}")
    acc, deg, suffix = m.groups()
    root = (tonic + _DEGREE[deg.upper()] + (-1 if acc == "b" else 1 if acc == "#" else 0)) % 12
    minor = deg.islower()
    if suffix.startswith("ø"):
        ivs = (0, 3, 6, 10)
    elif suffix.startswith("°"):
        ivs = (0, 3, 6, 9) if "7" in suffix else (0, 3, 6)
    elif suffix.startswith("maj7"):
        ivs = (0, 4, 7, 11)
    elif suffix.startswith("sus"):
        ivs = (0, 5, 7)
    elif suffix.startswith("6"):
        ivs = (0, 3, 7, 9) if minor else (0, 4, 7, 9)
    elif suffix.startswith("7") or suffix.startswith("9"):
        ivs = (0, 3, 7, 10) if minor else (0, 4, 7, 10)
    else:
        ivs = (0, 3, 7) if minor else (0, 4, 7)
    return root, tuple((root + i) % 12 for i in ivs)


def bar_chords(item: str, tonic: int) -> list[tuple[int, tuple[int, ...]]]:
    """The two half-bar chords of one progression item ("ii7 V7" splits the bar)."""
    parts = item.split()
    chords = [chord_of(p, tonic) for p in parts] or [chord_of("I", tonic)]
    return [chords[0], chords[-1]] if len(chords) <= 2 else chords[:2]


def progressions(style: str | None, mode: str) -> tuple[tuple[str, ...], ...]:
    idiom = idiom_for(style)
    return idiom.minor if mode == "minor" else idiom.major


# -- realising patterns (shared by the corpus arranger and the engine) -----------------------

def near(pc: int, center: int) -> int:
    """The pitch of pitch class `pc` within half an octave of `center` (from below)."""
    p = center - 6
    while p % 12 != pc % 12:
        p += 1
    return p


def bass_pitch(symbol: str, root: int, pcs: tuple[int, ...] | list[int], next_root: int, center: int,
               scale: tuple[int, ...] = (0, 2, 4, 5, 7, 9, 11), tonic: int = 0) -> int:
    """The pitch a bass symbol plays over a chord (see the module docstring)."""
    if symbol == "A":
        return near(next_root, center) - 1
    p = near(root, center)
    if symbol == "5":
        fifth = next(((pc - root) % 12 for pc in pcs if (pc - root) % 12 in (6, 7, 8)), 7)
        return p + fifth
    if symbol == "8":
        return p + 12
    if symbol == "-5":
        return p - 5
    if symbol == "3":
        return p + ((pcs[1] - root) % 12 if len(pcs) > 1 else 4)
    if symbol == "7":
        return p + ((pcs[3] - root) % 12 if len(pcs) > 3 else 10)
    if symbol in ("2", "6"):
        steps = sorted((tonic + s) % 12 for s in scale)
        want = 2 if symbol == "2" else 9
        best = min(steps, key=lambda pc: abs(((pc - root) % 12) - want))
        return p + (best - root) % 12
    return p


def walking_line(root: int, pcs: tuple[int, ...], next_root: int, center: int, beats: int,
                 choice: int, mid: tuple[int, tuple[int, ...]] | None = None) -> list[int]:
    """A bar of walking bass in quarter notes: the root on beat 1, chord tones stepping
    towards the next chord, and a chromatic approach (a semitone below or above) into the
    next chord's root on the last beat. When the chord changes at mid-bar (`mid`), its root
    comes on beat 3, approached from a semitone. Same chord next bar: up the chord and back."""
    r = near(root, center)
    if beats < 2:
        return [r]
    if mid is not None and mid[0] != root and beats == 4:
        m = r + ((mid[0] - root) % 12)
        if m - r > 6:
            m -= 12
        t = m + ((next_root - mid[0]) % 12)
        if t - m > 6:
            t -= 12
        return [r, (m - 1, m + 1)[choice % 2], m, (t - 1, t + 1)[(choice // 2) % 2]]
    ivs = sorted({(pc - root) % 12 for pc in pcs})
    third = next((i for i in ivs if i in (3, 4)), 4)
    fifth = next((i for i in ivs if i in (6, 7, 8)), 7)
    t = r + ((next_root - root) % 12)
    if t - r > 6:
        t -= 12
    if t == r:
        mids = ((r + third, r + fifth, r + third), (r + 2, r + third, r + 2),
                (r + fifth, r + third, r + 2))[choice % 3]
        return [r, *mids][:beats]
    if abs(t - r) <= 2:
        # A step away (iii to IV): up the chord, then down onto it from above.
        return [r, r + third, r + fifth, t + 1][:beats] if t > r else [r, r - 12 + fifth, r - 12 + third + 2, t - 1][:beats]
    d = 1 if t > r else -1
    approach = t - d if choice % 3 else t + d
    tones = sorted({r + i + k for i in ivs for k in (-12, 0, 12)})
    between = [p for p in tones if min(r, approach) < p < max(r, approach)]
    n_mid = beats - 2
    if len(between) >= n_mid:
        picks = [between[round((len(between) - 1) * (k + 1) / (n_mid + 1))] for k in range(n_mid)]
        picks = sorted(picks, reverse=d < 0)
    else:
        step = (approach - r) / (n_mid + 1)
        picks = [int(round(r + step * (k + 1))) for k in range(n_mid)]
    line = [r, *picks, approach]
    # Never the same note twice in a row: a walking line moves.
    for i in range(1, len(line) - 1):
        if line[i] == line[i - 1]:
            line[i] += 2 * d
    return line[:beats]


def drum_hits(groove: Groove) -> list[tuple[int, int, int]]:
    """(step, drum key, velocity) of every hit of a groove, in step order."""
    return sorted((s, drum, HIT_VELOCITY[c]) for drum, pat in groove.items()
                  for s, c in enumerate(pat) if c != ".")


def with_fill(groove: Groove, fill: Groove, from_step: int) -> Groove:
    """`groove` with its steps from `from_step` on replaced by the fill's."""
    merged = {d: p[:from_step] + "." * (16 - from_step) for d, p in groove.items()}
    for d, p in fill.items():
        merged[d] = merged.get(d, "." * 16)[:from_step] + p[from_step:]
    return merged


def groove_level(energy: float) -> str:
    return "low" if energy < 0.4 else ("mid" if energy < 0.72 else "high")


def pick(options, index: int):
    """One of a pattern's alternatives (a tuple of patterns) or the pattern itself."""
    if isinstance(options, tuple):
        return options[index % len(options)]
    return options


@lru_cache(maxsize=65536)
def voice(pcs: tuple[int, ...], center: int, prev: tuple[int, ...] | None) -> tuple[int, ...]:
    """A close voicing of `pcs` near `center`, moving as little as possible from `prev`."""
    pcs_l = list(pcs)
    best, best_cost = None, None
    for inv in range(len(pcs_l)):
        order = pcs_l[inv:] + pcs_l[:inv]
        for base in range(center - 14, center + 2):
            if base % 12 != order[0]:
                continue
            v = [base]
            for pc in order[1:]:
                p = v[-1] + 1
                while p % 12 != pc:
                    p += 1
                v.append(p)
            mid = (v[0] + v[-1]) / 2
            cost = abs(mid - center) * 0.5
            if prev:
                cost += sum(min(abs(a - b) for b in prev) for a in v) / len(v)
            if best_cost is None or cost < best_cost:
                best, best_cost = v, cost
    return tuple(best or [center])


# One-bar motif rhythms (step, length in steps) for a theme the generator left empty: a
# tune's opening figure, at least four notes, no note as long as a half (the theme's two
# bars sing as one phrase; its second bar ends on the held note).
MOTIF_RHYTHMS: tuple[tuple[tuple[int, int], ...], ...] = (
    ((0, 2), (2, 2), (4, 4), (8, 2), (10, 2), (12, 4)),
    ((0, 3), (3, 1), (4, 4), (8, 4), (12, 4)),
    ((0, 4), (4, 2), (6, 2), (8, 6), (14, 2)),
    ((2, 2), (4, 2), (6, 2), (8, 6), (14, 2)),
    ((0, 2), (2, 2), (4, 2), (6, 2), (8, 4), (12, 4)),
    ((0, 6), (6, 2), (8, 2), (10, 2), (12, 4)),
)
