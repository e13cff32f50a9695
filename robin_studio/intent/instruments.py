"""Instrument words a creator may type, what role each can play and which General MIDI
programs sound like it. The parser uses the words; the arrangement uses the programs to obey
"strings and piano" (use these) and "no piano" (never any of these programs) exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from robin_studio.score.types import Role


@dataclass(frozen=True)
class InstrumentSpec:
    name: str                       # canonical name, as stored in Intent.instruments
    roles: tuple[Role, ...]         # roles this instrument can fill, best first
    programs: tuple[int, ...]       # GM programs that sound like it, preferred first
    banned_programs: tuple[int, ...] = ()  # what "no NAME" removes (defaults to `programs`)
    kit: bool = False               # a drum kit (programs are drum-bank presets, never banned)

    @property
    def ban(self) -> frozenset[int]:
        if self.kit:
            return frozenset()
        return frozenset(self.banned_programs or self.programs)


H, M, B, T, D = Role.HARMONY, Role.MELODY, Role.BASS, Role.TEXTURE, Role.DRUMS

# Families first (what "piano", "strings", "brass" mean), then one entry per General MIDI
# program a creator may name on its own. Every one of the 128 GM programs belongs to at least
# one entry (tests/test_intent_vocabulary.py checks it); the words for them are in vocab/*.toml.
INSTRUMENTS: dict[str, InstrumentSpec] = {s.name: s for s in (
    InstrumentSpec("drums", (D,), ()),
    InstrumentSpec("bass", (B,), (33, 32, 34, 35, 38, 39), tuple(range(32, 40))),
    InstrumentSpec("piano", (H, M, B), (0, 1, 2), tuple(range(0, 8))),
    InstrumentSpec("electric piano", (H, M), (4, 5), (4, 5)),
    InstrumentSpec("organ", (H, T), (16, 19, 17), tuple(range(16, 24))),
    InstrumentSpec("acoustic guitar", (H, M), (25, 24), (24, 25)),
    InstrumentSpec("electric guitar", (H, M), (27, 26, 29, 30), tuple(range(26, 32))),
    InstrumentSpec("guitar", (H, M), (25, 24, 27), tuple(range(24, 32))),
    InstrumentSpec("strings", (H, T, M), (48, 49, 44), (40, 41, 42, 43, 44, 45, 48, 49, 50, 51)),
    InstrumentSpec("violin", (M, H), (40,), (40, 110)),
    InstrumentSpec("cello", (M, B, H), (42,), (42,)),
    InstrumentSpec("harp", (H, M), (46,), (46,)),
    InstrumentSpec("choir", (T, H), (52, 53), (52, 53, 54, 91)),
    InstrumentSpec("brass", (H, M), (61, 60, 57), tuple(range(56, 64))),
    InstrumentSpec("trumpet", (M,), (56,), (56, 59)),
    InstrumentSpec("horn", (M, H), (60,), (60,)),
    InstrumentSpec("saxophone", (M,), (65, 66, 64), (64, 65, 66, 67)),
    InstrumentSpec("flute", (M,), (73, 72), (72, 73, 74, 75, 76, 77, 78, 79)),
    InstrumentSpec("clarinet", (M,), (71,), (71,)),
    InstrumentSpec("oboe", (M,), (68,), (68, 69)),
    InstrumentSpec("woodwinds", (M, H), (71, 73, 68), tuple(range(64, 80))),
    InstrumentSpec("bells", (M, T), (14, 9, 8), (8, 9, 10, 14, 112)),
    InstrumentSpec("marimba", (M, H), (12, 11), (11, 12, 13)),
    InstrumentSpec("synth pad", (T, H), (89, 88, 91, 95), tuple(range(88, 96))),
    InstrumentSpec("synth", (M, H, T), (81, 80, 89, 88), tuple(range(80, 104))),
    # -- single General MIDI programs (issue 16: every GM instrument by name) --------------
    InstrumentSpec("bright piano", (H, M), (1,)),
    InstrumentSpec("electric grand", (H, M), (2,)),
    InstrumentSpec("honky-tonk piano", (H, M), (3,)),
    InstrumentSpec("harpsichord", (H, M), (6,)),
    InstrumentSpec("clavinet", (H, M), (7,)),
    InstrumentSpec("celesta", (M, T), (8,)),
    InstrumentSpec("glockenspiel", (M, T), (9,)),
    InstrumentSpec("music box", (M, T), (10,)),
    InstrumentSpec("vibraphone", (M, H), (11,)),
    InstrumentSpec("xylophone", (M,), (13,)),
    InstrumentSpec("tubular bells", (M, T), (14,)),
    InstrumentSpec("dulcimer", (M, H), (15,)),
    InstrumentSpec("rock organ", (H, T), (18,)),
    InstrumentSpec("church organ", (H, T), (19,)),
    InstrumentSpec("reed organ", (H, T), (20,)),
    InstrumentSpec("accordion", (H, M), (21,)),
    InstrumentSpec("harmonica", (M,), (22,)),
    InstrumentSpec("bandoneon", (H, M), (23,)),
    InstrumentSpec("nylon guitar", (H, M), (24,)),
    InstrumentSpec("steel guitar", (H, M), (25,)),
    InstrumentSpec("jazz guitar", (H, M), (26,)),
    InstrumentSpec("muted guitar", (H, M), (28,)),
    InstrumentSpec("overdriven guitar", (H, M), (29,)),
    InstrumentSpec("distortion guitar", (H, M), (30,)),
    InstrumentSpec("guitar harmonics", (T, M), (31,)),
    InstrumentSpec("acoustic bass", (B,), (32,)),
    InstrumentSpec("electric bass", (B,), (33, 34), (33, 34, 35, 36, 37)),  # fretless, slap too
    InstrumentSpec("fretless bass", (B,), (35,)),
    InstrumentSpec("slap bass", (B,), (36, 37)),
    InstrumentSpec("synth bass", (B,), (38, 39)),
    InstrumentSpec("viola", (M, H), (41,)),
    InstrumentSpec("contrabass", (B,), (43,)),
    InstrumentSpec("tremolo strings", (T, H), (44,)),
    InstrumentSpec("pizzicato strings", (H, M), (45,)),
    InstrumentSpec("timpani", (T,), (47,)),
    InstrumentSpec("synth strings", (H, T), (50, 51)),
    InstrumentSpec("voice", (T, M), (53,)),
    InstrumentSpec("synth voice", (T, H), (54,)),
    InstrumentSpec("orchestra hit", (T,), (55,)),
    InstrumentSpec("trombone", (M, H), (57,)),
    InstrumentSpec("tuba", (B, M), (58,)),
    InstrumentSpec("muted trumpet", (M,), (59,)),
    InstrumentSpec("synth brass", (H, M), (62, 63)),
    InstrumentSpec("soprano sax", (M,), (64,)),
    InstrumentSpec("alto sax", (M,), (65,)),
    InstrumentSpec("tenor sax", (M,), (66,)),
    InstrumentSpec("baritone sax", (M, B), (67,)),
    InstrumentSpec("english horn", (M,), (69,)),
    InstrumentSpec("bassoon", (M, B), (70,)),
    InstrumentSpec("piccolo", (M,), (72,)),
    InstrumentSpec("recorder", (M,), (74,)),
    InstrumentSpec("pan flute", (M,), (75,)),
    InstrumentSpec("blown bottle", (M, T), (76,)),
    InstrumentSpec("shakuhachi", (M,), (77,)),
    InstrumentSpec("whistle", (M,), (78,)),
    InstrumentSpec("ocarina", (M,), (79,)),
    InstrumentSpec("square lead", (M,), (80,)),
    InstrumentSpec("saw lead", (M,), (81,)),
    InstrumentSpec("calliope lead", (M,), (82,)),
    InstrumentSpec("chiff lead", (M,), (83,)),
    InstrumentSpec("charang lead", (M,), (84,)),
    InstrumentSpec("voice lead", (M,), (85,)),
    InstrumentSpec("fifths lead", (M,), (86,)),
    InstrumentSpec("bass and lead", (M, B), (87,)),
    InstrumentSpec("new age pad", (T, H), (88,)),
    InstrumentSpec("warm pad", (T, H), (89,)),
    InstrumentSpec("polysynth", (H, T), (90,)),
    InstrumentSpec("choir pad", (T, H), (91,)),
    InstrumentSpec("bowed pad", (T, H), (92,)),
    InstrumentSpec("metallic pad", (T, H), (93,)),
    InstrumentSpec("halo pad", (T, H), (94,)),
    InstrumentSpec("sweep pad", (T, H), (95,)),
    InstrumentSpec("rain fx", (T,), (96,)),
    InstrumentSpec("soundtrack fx", (T,), (97,)),
    InstrumentSpec("crystal fx", (T, M), (98,)),
    InstrumentSpec("atmosphere fx", (T,), (99,)),
    InstrumentSpec("brightness fx", (T,), (100,)),
    InstrumentSpec("goblins fx", (T,), (101,)),
    InstrumentSpec("echoes fx", (T,), (102,)),
    InstrumentSpec("sci-fi fx", (T,), (103,)),
    InstrumentSpec("sitar", (M, H), (104,)),
    InstrumentSpec("banjo", (H, M), (105,)),
    InstrumentSpec("shamisen", (M, H), (106,)),
    InstrumentSpec("koto", (M, H), (107,)),
    InstrumentSpec("kalimba", (M, H), (108,)),
    InstrumentSpec("bagpipe", (M,), (109,)),
    InstrumentSpec("fiddle", (M,), (110,)),
    InstrumentSpec("shanai", (M,), (111,)),
    InstrumentSpec("tinkle bell", (T, M), (112,)),
    InstrumentSpec("agogo", (T,), (113,)),
    InstrumentSpec("steel drums", (M, H), (114,)),
    InstrumentSpec("woodblock", (T,), (115,)),
    InstrumentSpec("taiko", (T,), (116,)),
    InstrumentSpec("melodic tom", (T,), (117,)),
    InstrumentSpec("synth drum", (T,), (118,)),
    InstrumentSpec("reverse cymbal", (T,), (119,)),
    InstrumentSpec("guitar fret noise", (T,), (120,)),
    InstrumentSpec("breath noise", (T,), (121,)),
    InstrumentSpec("seashore", (T,), (122,)),
    InstrumentSpec("bird tweet", (T,), (123,)),
    InstrumentSpec("telephone ring", (T,), (124,)),
    InstrumentSpec("helicopter", (T,), (125,)),
    InstrumentSpec("applause", (T,), (126,)),
    InstrumentSpec("gunshot", (T,), (127,)),
    # -- drum kits (General MIDI 2 drum-bank presets); each also asks for the drums -------
    InstrumentSpec("standard kit", (D,), (0,), kit=True),
    InstrumentSpec("room kit", (D,), (8,), kit=True),
    InstrumentSpec("power kit", (D,), (16,), kit=True),
    InstrumentSpec("electronic kit", (D,), (24,), kit=True),
    InstrumentSpec("808 kit", (D,), (25,), kit=True),
    InstrumentSpec("jazz kit", (D,), (32,), kit=True),
    InstrumentSpec("brush kit", (D,), (40,), kit=True),
    InstrumentSpec("orchestra kit", (D,), (48,), kit=True),
)}

DRUM_KITS: frozenset[str] = frozenset(n for n, s in INSTRUMENTS.items() if s.kit)


def instrument_spec(name: str) -> InstrumentSpec | None:
    """The spec for a canonical name, also written with underscores ("synth_bass")."""
    return INSTRUMENTS.get(name) or INSTRUMENTS.get(str(name).replace("_", " "))


# The words a creator may type for each instrument, in every language, are in the readable
# tables robin_studio/intent/vocab/<language>.toml (issue 16).

# Instruments that ARE a role: "no drums" removes the drum track, "no bass" the bass track.
ROLE_INSTRUMENTS: dict[str, Role] = {"drums": Role.DRUMS, "bass": Role.BASS,
                                     **{kit: Role.DRUMS for kit in DRUM_KITS}}

# Role words: "no melody" removes the melody track.
ROLE_WORDS: dict[str, Role] = {
    "melody": Role.MELODY, "melodies": Role.MELODY, "lead": Role.MELODY, "tune": Role.MELODY,
    "mélodie": Role.MELODY, "melodie": Role.MELODY, "melodía": Role.MELODY,
    "harmony": Role.HARMONY, "chords": Role.HARMONY, "accords": Role.HARMONY,
    "akkorde": Role.HARMONY, "acordes": Role.HARMONY,
    "texture": Role.TEXTURE, "textures": Role.TEXTURE,
}


def banned_programs(names: list[str]) -> frozenset[int]:
    """Every GM program that "no NAME" rules out for the given instrument names."""
    out: set[int] = set()
    for n in names:
        spec = INSTRUMENTS.get(n)
        if spec is not None:
            out |= spec.ban
    return frozenset(out)
