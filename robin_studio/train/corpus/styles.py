"""The styles the corpus arranges real tunes in: the corpus side of every style, as data.

The musical idioms of a style (drum grooves and fills, bass and comping patterns, chord
progressions, forms) are written once in `robin_studio.score.idioms`, which the engine reads
too; a corpus `Style` takes them from there and adds what only the corpus needs: how fast it
goes, the moods its captions use, which General MIDI programs play each role, and the
section shapes (intro, build, peak, breakdown, outro, each with an energy and the roles that
play) its pieces follow. `arrangement.py` turns a tune plus a style into a multi-track
score; nothing musical is decided there that is not written here or in `score.idioms`.

In a style with a pulse (`pulse`) the arranger keeps the drums in every section after the
intro: quiet sections play the style's "low" groove, which still carries the beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The musical idioms (grooves, fills, bass and comping patterns, progressions, forms) live in
# `robin_studio.score.idioms`, shared with the engine; this file adds what only the corpus
# needs: moods, palettes to pick from, section shapes, registers, tempo ranges.
from robin_studio.score.idioms import (  # re-exported for the arranger
    CRASH, HIT_VELOCITY, IDIOMS, Groove, Pattern)


@dataclass(frozen=True)
class Section:
    """One part of a section shape.

    `bars` is a count, or "tune" (the whole source tune once), or "half" (its first half).
    Energy ramps linearly from `energy_start` to `energy_end` across the section.
    `roles` lists who plays; "melody" plays the tune's melody, the others accompany.
    """

    name: str                    # intro | verse | build | peak | breakdown | outro | ...
    bars: int | str
    energy_start: float
    energy_end: float
    roles: tuple[str, ...]


@dataclass(frozen=True)
class Style:
    name: str
    tempo_range_bpm: tuple[int, int]
    moods: tuple[str, ...]                   # mood words that suit it (captions pick some)
    grooves: dict[str, Groove]               # "low" | "mid" | "high" energy
    fills: tuple[Groove, ...]                # last bar of a section (steps 8..15 override)
    # "low" | "high" energy -> a pattern, or a tuple of patterns (one is picked per piece)
    bass: dict[str, Pattern | tuple[Pattern, ...]]
    comping: dict[str, Pattern | tuple[Pattern, ...]]
    palette: dict[str, tuple[int, ...]]      # role -> GM programs to pick from
    shapes: tuple[tuple[Section, ...], ...]  # section shapes to pick from
    registers: dict[str, int] = field(default_factory=lambda: dict(REGISTERS))
    mode: str = "any"                        # "minor" turns major tunes to the parallel minor
    sevenths: bool = False                   # jazz-style voicings with sevenths
    texture: str = "pad"                     # "pad" (held chord) | "arp" (16th arpeggio) | "pulse"
    words: tuple[str, ...] = ()              # other names people use for it in prompts
    swing: float = 0.0                       # feel, kept in the example's extra for humanising
    half_time: float = 0.0                   # chance that a busy tune is played at half speed
    pulse: bool = False                      # the groove carries every bar after the intro
    build: tuple[Groove, ...] = ()           # the bars into a drop (snare roll)
    bass_idiom: str = "pattern"              # walking | octaves | pump | 808 | ostinato | drone


# Middle of each role's register (MIDI pitch); the arranger moves parts by octaves towards it.
REGISTERS = {"bass": 40, "harmony": 62, "melody": 72, "texture": 64}

ALL = ("drums", "bass", "harmony", "melody", "texture")
NO_DRUMS = ("bass", "harmony", "melody", "texture")

# -- shared section shapes ----------------------------------------------------------------------

SONG = (
    Section("intro", 4, 0.3, 0.4, ("harmony", "texture", "drums")),
    Section("verse", "tune", 0.45, 0.6, ("drums", "bass", "harmony", "melody")),
    Section("peak", "tune", 0.8, 0.95, ALL),
    Section("outro", 2, 0.5, 0.3, ("bass", "harmony", "texture")),
)
BUILD = (
    Section("intro", 2, 0.15, 0.2, ("harmony",)),
    Section("build", "tune", 0.25, 0.75, ("bass", "harmony", "melody", "texture", "drums")),
    Section("peak", "tune", 0.85, 1.0, ALL),
    Section("outro", 2, 0.4, 0.2, ("harmony", "texture")),
)
ARC = (
    Section("intro", 4, 0.25, 0.35, ("harmony", "texture")),
    Section("verse", "tune", 0.5, 0.6, ALL),
    Section("breakdown", "half", 0.3, 0.3, ("harmony", "melody", "texture")),
    Section("peak", "tune", 0.85, 0.9, ALL),
    Section("outro", 2, 0.4, 0.2, ("harmony", "texture", "bass")),
)
STEADY = (
    Section("intro", 2, 0.4, 0.45, ("drums", "bass", "harmony")),
    Section("verse", "tune", 0.55, 0.6, ALL),
    Section("verse", "tune", 0.6, 0.65, ALL),
    Section("outro", 1, 0.4, 0.4, ("bass", "harmony", "melody")),
)
GENTLE = (
    Section("intro", 2, 0.1, 0.15, ("texture",)),
    Section("verse", "tune", 0.2, 0.35, ("harmony", "melody", "texture", "bass")),
    Section("verse", "tune", 0.35, 0.45, ("harmony", "melody", "texture", "bass")),
    Section("outro", 2, 0.2, 0.05, ("texture", "harmony")),
)
SWELL = (
    Section("intro", 4, 0.1, 0.25, ("texture", "harmony")),
    Section("verse", "tune", 0.3, 0.5, ("bass", "harmony", "melody", "texture")),
    Section("peak", "tune", 0.7, 1.0, ALL),
    Section("outro", 2, 0.3, 0.1, ("texture", "harmony")),
)
TENSE = (
    Section("intro", 4, 0.2, 0.35, ("texture", "bass", "drums")),
    Section("build", "tune", 0.4, 0.8, ALL),
    Section("breakdown", 4, 0.3, 0.3, ("texture", "bass")),
    Section("peak", "half", 0.9, 1.0, ALL),
    Section("outro", 2, 0.5, 0.1, ("texture", "bass")),
)

# Sections for styles with a pulse: the groove plays from the intro's end to the last bar
# (the picture thins it, never removes it); a drop comes after a build.
DANCE = (
    Section("intro", 4, 0.3, 0.45, ("drums", "bass", "texture")),
    Section("build", "tune", 0.45, 0.8, ALL),
    Section("drop", "tune", 0.9, 1.0, ALL),
    Section("outro", 2, 0.5, 0.3, ("drums", "bass", "harmony")),
)
GROOVE = (
    Section("intro", 2, 0.3, 0.4, ("drums", "bass", "harmony")),
    Section("verse", "tune", 0.4, 0.55, ALL),
    Section("chorus", "tune", 0.65, 0.85, ALL),
    Section("outro", 2, 0.45, 0.35, ("drums", "bass", "harmony")),
)
RISE = (
    Section("intro", 2, 0.2, 0.3, ("texture", "bass", "drums")),
    Section("build", "tune", 0.4, 0.85, ALL),
    Section("peak", "half", 0.9, 1.0, ALL),
    Section("outro", 1, 1.0, 1.0, ALL),
)
SOLO = (
    Section("intro", 2, 0.2, 0.3, ("harmony",)),
    Section("verse", "tune", 0.35, 0.55, ("bass", "harmony", "melody")),
    Section("verse", "tune", 0.5, 0.7, ("bass", "harmony", "melody")),
    Section("outro", 2, 0.3, 0.15, ("bass", "harmony")),
)

STYLES: dict[str, Style] = {}


def _add(name: str, **corpus) -> None:
    """A corpus style: the shared idioms of `name` plus the corpus-only fields."""
    idiom = IDIOMS[name]
    fields = dict(grooves=idiom.grooves, fills=idiom.fills, bass=idiom.bass, comping=idiom.comping,
                  swing=idiom.swing, sevenths=idiom.extensions, pulse=idiom.pulse,
                  build=idiom.build, bass_idiom=idiom.bass_idiom)
    if idiom.texture != "none":
        fields["texture"] = idiom.texture
    if idiom.mode != "any":
        fields["mode"] = idiom.mode
    fields.update(corpus)
    STYLES[name] = Style(name=name, **fields)


_add("cinematic", half_time=0.6, tempo_range_bpm=(70, 110),
     moods=("epic", "emotional", "inspiring", "dramatic", "majestic", "hopeful"),
     palette={"melody": (60, 48, 40, 73, 56), "harmony": (48, 49, 0), "bass": (42, 58, 32),
              "texture": (52, 89, 50, 46)},
     shapes=(BUILD, SWELL, ARC), words=("film score", "epic score", "soundtrack"))
_add("ambient", half_time=0.8, tempo_range_bpm=(60, 90),
     moods=("calm", "dreamy", "peaceful", "serene", "floating", "meditative"),
     palette={"melody": (11, 46, 98, 0, 88), "harmony": (89, 91, 95, 4), "bass": (38, 32, 42),
              "texture": (92, 94, 88, 99)},
     shapes=(GENTLE, SWELL), texture="arp", words=("atmospheric", "drone", "chill ambient", "new age"))
_add("lofi", half_time=0.3, tempo_range_bpm=(68, 88),
     moods=("chill", "relaxed", "nostalgic", "warm", "cozy", "mellow"),
     palette={"melody": (4, 11, 0, 26, 73), "harmony": (4, 0, 5), "bass": (33, 32), "texture": (89, 92)},
     shapes=(GROOVE, STEADY), words=("lo-fi", "lo fi", "chillhop", "study beats"))
_add("pop", tempo_range_bpm=(92, 126),
     moods=("happy", "upbeat", "bright", "cheerful", "catchy", "feel-good"),
     palette={"melody": (0, 73, 81, 54, 25, 11), "harmony": (0, 25, 4, 24), "bass": (33, 34, 38),
              "texture": (48, 89, 50)},
     shapes=(GROOVE, STEADY), words=("pop song", "radio pop", "indie pop"))
_add("rock", tempo_range_bpm=(104, 150),
     moods=("energetic", "driving", "powerful", "gritty", "confident", "bold"),
     palette={"melody": (29, 30, 81, 27), "harmony": (29, 30, 27, 25), "bass": (33, 34), "texture": (16, 48, 18)},
     shapes=(GROOVE, STEADY), words=("rock band", "guitar rock", "indie rock", "alt rock"))
_add("electronic", tempo_range_bpm=(116, 132),
     moods=("energetic", "futuristic", "pulsing", "euphoric", "modern", "hypnotic"),
     palette={"melody": (81, 80, 84, 87), "harmony": (90, 81, 62, 50), "bass": (38, 39, 87),
              "texture": (88, 89, 95, 94)},
     shapes=(DANCE, STEADY), words=("techno", "electronica", "dance"))
_add("folk", tempo_range_bpm=(84, 124),
     moods=("warm", "earthy", "heartfelt", "rustic", "joyful", "homely"),
     palette={"melody": (73, 40, 22, 105, 71, 21), "harmony": (25, 24, 21, 0), "bass": (32, 42),
              "texture": (48, 42, 110)},
     shapes=(GROOVE, STEADY), words=("acoustic folk", "singer-songwriter", "celtic", "country"))
_add("orchestral", half_time=0.3, tempo_range_bpm=(66, 120),
     moods=("majestic", "elegant", "grand", "noble", "romantic", "triumphant"),
     palette={"melody": (40, 73, 68, 60, 56, 71), "harmony": (48, 49, 61), "bass": (42, 70, 58),
              "texture": (46, 52, 47, 60)},
     shapes=(SWELL, ARC, SONG), words=("classical", "symphonic", "orchestra", "strings"))
_add("jazz", tempo_range_bpm=(90, 160),
     moods=("smooth", "sophisticated", "playful", "relaxed", "cool", "classy"),
     palette={"melody": (65, 66, 56, 11, 0, 73), "harmony": (0, 4, 26), "bass": (32,), "texture": (48, 11)},
     shapes=(GROOVE, STEADY), words=("jazzy", "bebop", "jazz trio", "lounge"))
_add("hiphop", tempo_range_bpm=(82, 98),
     moods=("confident", "urban", "laid-back", "gritty", "cool", "groovy"),
     palette={"melody": (4, 0, 11, 48, 80), "harmony": (4, 0, 48, 61), "bass": (38, 33, 39), "texture": (89, 50)},
     shapes=(STEADY, GROOVE), words=("hip hop", "hip-hop", "rap beat"))
_add("corporate", tempo_range_bpm=(100, 124),
     moods=("upbeat", "positive", "motivational", "bright", "confident", "optimistic"),
     palette={"melody": (0, 12, 11, 25, 73), "harmony": (0, 25, 24, 4), "bass": (33, 38), "texture": (48, 50, 89)},
     shapes=(GROOVE, DANCE), words=("commercial", "advertising", "business", "presentation", "uplifting"))
_add("thriller", half_time=0.4, tempo_range_bpm=(80, 120),
     moods=("tense", "dark", "suspenseful", "ominous", "mysterious", "anxious"),
     palette={"melody": (48, 42, 0, 71, 40), "harmony": (49, 89, 50), "bass": (42, 38), "texture": (95, 99, 45, 94)},
     shapes=(RISE, GROOVE), words=("suspense", "tension", "horror", "dark thriller", "crime"))
# -- added for issue 14 --
_add("edm", tempo_range_bpm=(122, 130),
     moods=("energetic", "euphoric", "uplifting", "pulsing", "driving", "festival"),
     palette={"melody": (81, 80, 87), "harmony": (90, 81, 62), "bass": (38, 39), "texture": (88, 95, 89)},
     shapes=(DANCE,), words=("EDM", "big room", "festival EDM", "dance"))
_add("house", tempo_range_bpm=(118, 126),
     moods=("groovy", "warm", "energetic", "hypnotic", "euphoric", "smooth"),
     palette={"melody": (81, 4, 80), "harmony": (4, 0, 90, 62), "bass": (38, 39, 33), "texture": (89, 95, 50)},
     shapes=(DANCE, STEADY), words=("house", "deep house", "house music"))
_add("trap", tempo_range_bpm=(130, 150), half_time=0.0,
     moods=("dark", "confident", "gritty", "aggressive", "menacing", "cool"),
     palette={"melody": (10, 11, 80, 0), "harmony": (89, 48, 4), "bass": (38, 39), "texture": (89, 95, 91)},
     shapes=(GROOVE, STEADY), words=("trap", "trap beat", "808 trap"))
_add("boombap", tempo_range_bpm=(84, 96),
     moods=("groovy", "laid-back", "nostalgic", "gritty", "cool", "confident"),
     palette={"melody": (0, 4, 11, 66), "harmony": (4, 0, 5), "bass": (32, 33), "texture": (48, 89)},
     shapes=(STEADY, GROOVE), words=("boom bap", "boom-bap beat", "90s hip hop"))
_add("swing", tempo_range_bpm=(120, 180),
     moods=("playful", "joyful", "classy", "upbeat", "sophisticated", "happy"),
     palette={"melody": (66, 65, 56, 11, 26), "harmony": (0, 26, 4), "bass": (32,), "texture": (61, 57, 65)},
     shapes=(GROOVE, STEADY), words=("swing", "big band swing", "swing jazz"))
_add("bossa", tempo_range_bpm=(120, 140),
     moods=("relaxed", "warm", "romantic", "smooth", "gentle", "sunny"),
     palette={"melody": (73, 65, 24, 0, 11), "harmony": (24, 0, 4), "bass": (32, 33), "texture": (48, 89)},
     shapes=(GROOVE, STEADY), words=("bossa nova", "bossa", "brazilian bossa nova"))
_add("latin", tempo_range_bpm=(96, 126),
     moods=("joyful", "festive", "energetic", "playful", "happy", "sunny"),
     palette={"melody": (56, 73, 61, 0), "harmony": (0, 24), "bass": (32, 33), "texture": (61, 48)},
     shapes=(GROOVE, STEADY), words=("latin", "salsa", "latin party music"))
_add("trailer", tempo_range_bpm=(70, 100), half_time=0.7,
     moods=("epic", "dramatic", "powerful", "intense", "triumphant", "dark"),
     palette={"melody": (60, 61, 48, 56, 57), "harmony": (48, 49, 61), "bass": (42, 58), "texture": (52, 48, 89)},
     shapes=(RISE,), words=("trailer", "epic trailer music", "movie trailer"))
_add("funk", tempo_range_bpm=(96, 116),
     moods=("groovy", "funky", "playful", "confident", "energetic", "happy"),
     palette={"melody": (61, 65, 4, 81), "harmony": (28, 27, 4), "bass": (36, 33, 37), "texture": (61, 16)},
     shapes=(GROOVE, STEADY), words=("funk", "funky groove", "funk band"))
_add("solopiano", tempo_range_bpm=(64, 104), half_time=0.5,
     moods=("tender", "melancholic", "calm", "romantic", "emotional", "gentle"),
     palette={"melody": (0,), "harmony": (0,), "bass": (0,)},
     shapes=(SOLO,), words=("solo piano", "piano solo", "solo piano piece"))
_add("acoustic", tempo_range_bpm=(84, 120),
     moods=("warm", "hopeful", "heartfelt", "happy", "gentle", "sunny"),
     palette={"melody": (24, 25, 73, 22), "harmony": (25, 24), "bass": (32, 33), "texture": (48, 21)},
     shapes=(GROOVE, STEADY), words=("acoustic", "acoustic guitar", "unplugged"))
_add("chiptune", tempo_range_bpm=(120, 150),
     moods=("playful", "happy", "energetic", "quirky", "bright", "retro"),
     palette={"melody": (80,), "harmony": (80, 81), "bass": (38, 80)},
     shapes=(GROOVE, STEADY), words=("chiptune", "8-bit", "retro game music"))
_add("synthwave", tempo_range_bpm=(84, 118),
     moods=("nostalgic", "dreamy", "driving", "retro", "moody", "cool"),
     palette={"melody": (81, 62, 80), "harmony": (90, 50, 62), "bass": (38, 39), "texture": (88, 89, 95, 91)},
     shapes=(GROOVE, DANCE), words=("synthwave", "retrowave", "80s synth"))

STYLE_NAMES: tuple[str, ...] = tuple(STYLES)
