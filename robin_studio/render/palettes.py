"""Instrument palettes: which General MIDI program plays each role in each style, and the
mix defaults that go with them.

`PALETTES[style][role]` is a GM program (0-127, 0-based). For `Role.DRUMS` it is the drum
kit: the preset number in bank 128 (0 Standard, 8 Room, 16 Power, 24 Electronic, 25 TR-808,
32 Jazz, 40 Brush, 48 Orchestra), which is also what a GM2/GS synth reads from a program
change on channel 10. FluidR3_GM's Power (16), Electronic (24) and Jazz (32) kits play
their closed hi-hat 30 dB under the kick, so no palette uses them. Every program used here is checked by tests/test_render_palettes.py
to sound, at a normal level, across its role's pitch range in the default bank.

`MIX[style]` holds per-role gain/pan/reverb send and the bus settings `render.master`
uses: the reverb's kind (hall, room, plate), bus glue (compressor), tone, and the sidechain
pump of the styles that breathe with the kick (`render.synth` plays it). Style ids are those
of `robin_studio.intent.styles.STYLES`; an id without an entry sounds like its relative in
`STYLE_FALLBACK` or the default style. `LEGACY_PALETTES`/`LEGACY_MIX` are the tables of the
"gm-legacy" sound chain (before issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from robin_studio.score.types import Role, Score

D, B, H, M, T = Role.DRUMS, Role.BASS, Role.HARMONY, Role.MELODY, Role.TEXTURE

DEFAULT_STYLE = "cinematic"

# What each choice means to a listener, so a later edit keeps the intent:
PALETTES: dict[str, dict[Role, int]] = {
    # strings carry harmony, horn the tune, a choir pad behind; orchestral percussion
    "cinematic":  {D: 48, B: 42, H: 48, M: 60, T: 52},
    # felt piano over slow pads, fretless bass, soft brush kit
    "ambient":    {D: 40, B: 35, H: 88, M: 0, T: 94},
    # Rhodes-style lo-fi keys, round acoustic bass, vibraphone line, room kit
    "lofi":       {D: 8, B: 32, H: 4, M: 11, T: 89},
    # piano and finger bass, bright synth lead, synth strings
    "pop":        {D: 0, B: 33, H: 0, M: 80, T: 50},
    # room kit, picked bass, overdriven rhythm guitar, distorted lead, rock organ
    "rock":       {D: 8, B: 34, H: 29, M: 30, T: 18},
    # TR-808 kit, synth bass, poly-synth chords, saw lead, sweep pad
    "electronic": {D: 25, B: 38, H: 90, M: 81, T: 95},
    # brush kit, acoustic bass, steel-string guitar, fiddle, accordion
    "folk":       {D: 40, B: 32, H: 25, M: 110, T: 21},
    # orchestra kit, cello basses, string section, violin, French horn
    "orchestral": {D: 48, B: 42, H: 48, M: 40, T: 60},
    # brush kit, upright bass, electric piano comping, tenor sax, jazz guitar
    "jazz":       {D: 40, B: 32, H: 4, M: 66, T: 26},
    # TR-808, synth bass, electric piano, piano hook, warm pad
    "hiphop":     {D: 25, B: 38, H: 4, M: 0, T: 89},
    # standard kit, finger bass, piano, marimba plucks, string section
    "corporate":  {D: 0, B: 33, H: 0, M: 12, T: 48},
    # standard kit, cello, tremolo strings, music box, bowed pad
    "thriller":   {D: 0, B: 42, H: 44, M: 10, T: 92},
    # --- the styles added for issue 14 (their idioms are the music's; these are their sounds)
    # 808 kit, synth bass, poly-synth stabs, saw lead (MuseScore's, see render.synth), sweep pad
    "edm":        {D: 25, B: 38, H: 90, M: 81, T: 95},
    # 808 kit, synth bass, bright house piano, saw lead, warm pad
    "house":      {D: 25, B: 38, H: 1, M: 81, T: 89},
    # 808 kit (its long kick is the 808 bass), synth bass, dark pad, celesta bells, choir pad
    "trap":       {D: 25, B: 38, H: 89, M: 8, T: 91},
    # room kit, upright bass, Rhodes, piano hook, a sampled string section
    "boombap":    {D: 8, B: 32, H: 4, M: 0, T: 48},
    # brush kit, upright bass, piano comping, trumpet, brass section
    "swing":      {D: 40, B: 32, H: 0, M: 56, T: 61},
    # brush kit, upright bass, nylon guitar, flute, slow strings
    "bossa":      {D: 40, B: 32, H: 24, M: 73, T: 49},
    # standard kit, finger bass, piano montuno, trumpet, brass section
    "latin":      {D: 0, B: 33, H: 0, M: 56, T: 61},
    # orchestra kit (toms, timpani), cellos, string section, horns, choir
    "trailer":    {D: 48, B: 42, H: 48, M: 60, T: 52},
    # standard kit, slap bass, clean electric guitar, brass section, drawbar organ
    "funk":       {D: 0, B: 36, H: 27, M: 61, T: 16},
    # one grand piano plays every part (drums unused)
    "solopiano":  {D: 0, B: 0, H: 0, M: 0, T: 0},
    # brush kit, upright bass, steel-string guitar, nylon guitar, string section
    "acoustic":   {D: 40, B: 32, H: 25, M: 24, T: 48},
    # 808 kit, square-wave bass and chords, square lead, calliope
    "chiptune":   {D: 25, B: 80, H: 80, M: 80, T: 82},
    # 808 kit, synth bass, poly-synth, saw lead, warm pad
    "synthwave":  {D: 25, B: 38, H: 90, M: 81, T: 89},
}

# The palettes as they were before issue 15 (the "gm-legacy" sound chain keeps them, so
# the evaluation can play the old sound beside the new one).
LEGACY_PALETTES: dict[str, dict[Role, int]] = {k: dict(v) for k, v in PALETTES.items()
                                               if k in ("cinematic", "ambient", "lofi", "pop", "rock", "electronic",
                                                        "folk", "orchestral", "jazz", "hiphop", "corporate", "thriller")}

# An id without a palette of its own sounds like its nearest relative; anything else like
# the default style.
STYLE_FALLBACK = {"dance": "edm", "techno": "edm", "trance": "edm", "dubstep": "edm", "drill": "trap",
                  "rap": "hiphop", "bigband": "swing", "samba": "bossa", "salsa": "latin", "reggaeton": "latin",
                  "epic": "trailer", "disco": "funk", "piano": "solopiano", "singer": "acoustic",
                  "chip": "chiptune", "retrowave": "synthwave", "classical": "orchestral", "country": "folk",
                  "metal": "rock", "indie": "rock", "soul": "funk", "rnb": "hiphop", "blues": "jazz"}


@dataclass(frozen=True)
class RoleMix:
    gain_db: float = 0.0
    pan: float = 0.0            # -1 left .. +1 right
    reverb_send: float = 0.2    # 0..1 of the track fed to the shared reverb


# Reverb kinds as a mixing engineer names them, as pedalboard (JUCE/Freeverb) settings:
# a hall is big and dark, a room small and close, a plate dense and bright.
REVERB_KINDS: dict[str, tuple[float, float]] = {   # kind -> (room_size, damping)
    "hall": (0.88, 0.35),
    "room": (0.38, 0.6),
    "plate": (0.62, 0.12),
}


@dataclass(frozen=True)
class Band:
    """One EQ band as an engineer writes it: a 12 dB/octave "highpass" or "lowpass" at
    `hz`, or a "peak", "lowshelf" or "highshelf" of `gain_db` (pedalboard's filters)."""
    kind: str
    hz: float
    gain_db: float = 0.0
    q: float = 0.707


# Per-role EQ of the studio chain, the usual moves of a mix: chords and pads are high-passed,
# so the low end belongs to the bass and the kit, and give up some of their low mids (the
# "mud" around 300 Hz where everything piles up); the kit loses a little boxiness. The lead
# is left as it is: a presence lift was tried and measured against real recordings, our
# mixes already carry 3-7 dB too much between 1 and 5 kHz (see BUS_EQ), and the lift made
# them further from real music, not closer. A style changes it with `MixSettings(eq=...)`; the gm-legacy chain has
# none.
ROLE_EQ: dict[Role, tuple[Band, ...]] = {
    D: (Band("peak", 420.0, -1.0, 1.4),),
    B: (Band("peak", 250.0, -1.0, 1.0),),
    H: (Band("highpass", 90.0), Band("peak", 300.0, -2.0, 0.9)),
    M: (),
    T: (Band("highpass", 40.0), Band("peak", 300.0, -1.5, 1.4)),
}


# The studio chain's bus EQ, before the glue compressor: the tonal balance of the whole mix.
# Measured with the FD-mel embedding against real recordings we did not make (docs/LISTEN.md,
# "Tonal balance"): General MIDI banks as we play them are 3-7 dB heavier than produced music
# between 1 and 5 kHz and about 3 dB lighter below 150 Hz, in every style tried; this lifts
# the low end and takes the edge off the upper mids. Developed on the immich-memories-music
# recordings with our own prompts; the singularity soundtrack, the other reference set, moved
# the same way; the held-out prompts were not used.
BUS_EQ: tuple[Band, ...] = (Band("lowshelf", 150.0, 4.0, 0.7), Band("peak", 2800.0, -5.0, 0.6))


@dataclass(frozen=True)
class MixSettings:
    roles: dict[Role, RoleMix] = field(default_factory=dict)
    reverb_room: float = 0.5    # pedalboard Reverb room_size 0..1 (or from `reverb_kind`)
    reverb_damping: float = 0.5
    reverb_return_db: float = -6.0
    lowpass_hz: float | None = None       # a darker, dustier bus (lo-fi)
    highpass_hz: float = 30.0             # rumble the speakers cannot play anyway
    comp_threshold_db: float = -18.0      # bus glue
    comp_ratio: float = 2.0
    reverb_kind: str | None = None        # "hall", "room", "plate": sets room size and damping
    # Sidechain pump: every other part ducks this many dB on each kick and comes back over
    # `sidechain_release_s` (the breathing of house and EDM); 0 = none.
    sidechain_db: float = 0.0
    sidechain_release_s: float = 0.22
    # Per-role EQ bands (render.synth plays them on each role before the roles are summed);
    # None = ROLE_EQ.
    eq: dict[Role, tuple[Band, ...]] | None = None
    # The bus EQ (render.master, before the compressor); None = BUS_EQ.
    bus_eq: tuple[Band, ...] | None = None

    def __post_init__(self) -> None:
        if self.reverb_kind is not None:
            room, damping = REVERB_KINDS[self.reverb_kind]
            object.__setattr__(self, "reverb_room", room)
            object.__setattr__(self, "reverb_damping", damping)

    def role(self, role: Role) -> RoleMix:
        return self.roles.get(Role(role), RoleMix())

    def role_eq(self) -> dict[Role, tuple[Band, ...]]:
        return dict(ROLE_EQ if self.eq is None else self.eq)

    def bus_bands(self) -> tuple[Band, ...]:
        return BUS_EQ if self.bus_eq is None else self.bus_eq


def _roles(d=(0, 0, 0.05), b=(0, 0, 0.05), h=(-3, -0.25, 0.3), m=(0, 0.15, 0.25), t=(-6, 0.3, 0.5)):
    return {r: RoleMix(*v) for r, v in zip((D, B, H, M, T), (d, b, h, m, t))}


MIX: dict[str, MixSettings] = {
    "cinematic":  MixSettings(reverb_kind="hall", roles=_roles(d=(-5, 0, 0.3), h=(-2, -0.3, 0.45), m=(0, 0.2, 0.4), t=(-5, 0.3, 0.6)),
                              reverb_room=0.85, reverb_return_db=-3.0),
    "ambient":    MixSettings(reverb_kind="hall", roles=_roles(d=(-8, 0, 0.4), b=(-2, 0, 0.2), h=(-2, -0.3, 0.6), m=(-1, 0.2, 0.55), t=(-3, 0.3, 0.7)),
                              reverb_room=0.95, reverb_damping=0.3, reverb_return_db=-2.0),
    "lofi":       MixSettings(reverb_kind="room", roles=_roles(d=(-1, 0, 0.1), h=(-2, -0.2, 0.25), m=(-2, 0.25, 0.3)),
                              reverb_room=0.4, lowpass_hz=6500.0, comp_ratio=3.0),
    "pop":        MixSettings(reverb_kind="plate", roles=_roles(t=(-5, 0.3, 0.5)), reverb_room=0.45),
    "rock":       MixSettings(reverb_kind="room", roles=_roles(d=(0, 0, 0.1), h=(-3, -0.4, 0.1), m=(-1, 0.3, 0.15), t=(-8, 0.2, 0.2)),
                              reverb_room=0.35, comp_ratio=3.0),
    "electronic": MixSettings(reverb_kind="plate", roles=_roles(h=(-3, -0.3, 0.25), m=(-2, 0.2, 0.3), t=(-6, 0.3, 0.5)),
                              reverb_room=0.6, comp_ratio=3.0, sidechain_db=4.0),   # the dance styles breathe with the kick
    "folk":       MixSettings(reverb_kind="room", roles=_roles(d=(-4, 0, 0.15), h=(-1, -0.3, 0.2), m=(0, 0.25, 0.25), t=(-6, 0.35, 0.3)),
                              reverb_room=0.45),
    "orchestral": MixSettings(reverb_kind="hall", roles=_roles(d=(-7, 0, 0.35), b=(-1, 0.1, 0.3), h=(-1, -0.3, 0.45), m=(0, 0.2, 0.4), t=(-4, 0.35, 0.5)),
                              reverb_room=0.85, reverb_return_db=-3.0, comp_ratio=1.5),
    "jazz":       MixSettings(reverb_kind="room", roles=_roles(d=(-3, 0, 0.15), h=(-2, -0.3, 0.2), m=(-1.5, 0.2, 0.25), t=(-3, 0.35, 0.2)),
                              reverb_room=0.5, comp_ratio=1.8),
    "hiphop":     MixSettings(reverb_kind="room", roles=_roles(d=(0, 0, 0.05), b=(0, 0, 0.0), h=(-3, -0.25, 0.25), m=(-3, 0.2, 0.3)),
                              reverb_room=0.4, lowpass_hz=9000.0, comp_ratio=3.0),
    "corporate":  MixSettings(reverb_kind="plate", roles=_roles(d=(-2, 0, 0.1), h=(-2, -0.25, 0.25), m=(-1, 0.25, 0.25), t=(-6, 0.3, 0.4)),
                              reverb_room=0.5),
    "thriller":   MixSettings(reverb_kind="hall", roles=_roles(d=(-4, 0, 0.35), b=(0, 0, 0.2), h=(-2, -0.3, 0.5), m=(-3, 0.3, 0.6), t=(-3, 0.3, 0.7)),
                              reverb_room=0.9, reverb_damping=0.35, reverb_return_db=-3.0),
    # --- the styles added for issue 14
    "edm":        MixSettings(reverb_kind="plate", roles=_roles(d=(1, 0, 0.0), b=(0, 0, 0.0), h=(-4, -0.35, 0.3), m=(-2, 0.2, 0.3), t=(-6, 0.35, 0.5)),
                              reverb_return_db=-5.0, comp_ratio=3.0, comp_threshold_db=-16.0,
                              sidechain_db=7.0, sidechain_release_s=0.2),
    "house":      MixSettings(reverb_kind="plate", roles=_roles(d=(1, 0, 0.0), b=(0, 0, 0.0), h=(-3, -0.3, 0.25), m=(-3, 0.25, 0.3), t=(-6, 0.35, 0.5)),
                              comp_ratio=3.0, sidechain_db=5.0, sidechain_release_s=0.24),
    "trap":       MixSettings(reverb_kind="room", roles=_roles(d=(1, 0, 0.05), b=(0, 0, 0.0), h=(-5, -0.3, 0.35), m=(-3, 0.2, 0.35), t=(-6, 0.35, 0.5)),
                              comp_ratio=3.0, lowpass_hz=15000.0),
    "boombap":    MixSettings(reverb_kind="room", roles=_roles(d=(0, 0, 0.08), b=(0, 0, 0.0), h=(-3, -0.25, 0.2), m=(-3, 0.2, 0.25), t=(-7, 0.3, 0.3)),
                              lowpass_hz=10000.0, comp_ratio=3.0),
    "swing":      MixSettings(reverb_kind="room", roles=_roles(d=(-3, 0.1, 0.15), b=(0, -0.1, 0.1), h=(-2, -0.3, 0.2), m=(-1, 0.25, 0.25), t=(-3, 0.35, 0.25)),
                              comp_ratio=1.6),
    "bossa":      MixSettings(reverb_kind="room", roles=_roles(d=(-5, 0.1, 0.15), b=(-1, 0, 0.1), h=(-1, -0.3, 0.2), m=(-2, 0.25, 0.3), t=(-8, 0.35, 0.4)),
                              comp_ratio=1.6),
    "latin":      MixSettings(reverb_kind="room", roles=_roles(d=(0, 0, 0.1), b=(0, 0, 0.05), h=(-2, -0.3, 0.2), m=(-1, 0.25, 0.25), t=(-4, 0.35, 0.25)),
                              comp_ratio=2.5),
    "trailer":    MixSettings(reverb_kind="hall", roles=_roles(d=(-2, 0, 0.35), b=(-1, 0.1, 0.3), h=(-1, -0.3, 0.45), m=(0, 0.2, 0.4), t=(-4, 0.35, 0.5)),
                              reverb_return_db=-3.0, comp_ratio=2.5, comp_threshold_db=-16.0),
    "funk":       MixSettings(reverb_kind="room", roles=_roles(d=(0, 0, 0.05), b=(0, 0, 0.0), h=(-3, -0.35, 0.1), m=(-2, 0.3, 0.15), t=(-6, 0.3, 0.15)),
                              comp_ratio=3.0),
    "solopiano":  MixSettings(reverb_kind="hall", roles=_roles(d=(-12, 0, 0.2), b=(-2, -0.1, 0.3), h=(-2, -0.05, 0.3), m=(0, 0.1, 0.3), t=(-4, 0.0, 0.3)),
                              reverb_return_db=-5.0, comp_ratio=1.4),
    "acoustic":   MixSettings(reverb_kind="room", roles=_roles(d=(-5, 0, 0.15), b=(-1, 0, 0.1), h=(-1, -0.3, 0.2), m=(0, 0.25, 0.25), t=(-7, 0.35, 0.35)),
                              comp_ratio=1.8),
    "chiptune":   MixSettings(reverb_kind="room", roles=_roles(d=(-2, 0, 0.0), b=(-1, 0, 0.0), h=(-5, -0.4, 0.05), m=(-2, 0.2, 0.1), t=(-3, 0.4, 0.1)),
                              reverb_return_db=-10.0, comp_ratio=2.0),
    "synthwave":  MixSettings(reverb_kind="plate", roles=_roles(d=(0, 0, 0.2), b=(0, 0, 0.0), h=(-3, -0.35, 0.35), m=(-2, 0.2, 0.4), t=(-5, 0.35, 0.55)),
                              reverb_return_db=-4.0, comp_ratio=2.5, sidechain_db=3.0),
}


LEGACY_MIX: dict[str, MixSettings] = {   # before issue 15 (the gm-legacy chain)
    "cinematic":  MixSettings(_roles(d=(-5, 0, 0.3), h=(-2, -0.3, 0.45), m=(0, 0.2, 0.4), t=(-5, 0.3, 0.6)),
                              reverb_room=0.85, reverb_return_db=-3.0),
    "ambient":    MixSettings(_roles(d=(-8, 0, 0.4), b=(-2, 0, 0.2), h=(-2, -0.3, 0.6), m=(-1, 0.2, 0.55), t=(-3, 0.3, 0.7)),
                              reverb_room=0.95, reverb_damping=0.3, reverb_return_db=-2.0),
    "lofi":       MixSettings(_roles(d=(-1, 0, 0.1), h=(-2, -0.2, 0.25), m=(-2, 0.25, 0.3)),
                              reverb_room=0.4, lowpass_hz=6500.0, comp_ratio=3.0),
    "pop":        MixSettings(_roles(), reverb_room=0.45),
    "rock":       MixSettings(_roles(d=(0, 0, 0.1), h=(-3, -0.4, 0.1), m=(-1, 0.3, 0.15), t=(-8, 0.2, 0.2)),
                              reverb_room=0.35, comp_ratio=3.0),
    "electronic": MixSettings(_roles(h=(-3, -0.3, 0.25), m=(-2, 0.2, 0.3), t=(-6, 0.3, 0.5)),
                              reverb_room=0.6, comp_ratio=3.0),
    "folk":       MixSettings(_roles(d=(-4, 0, 0.15), h=(-1, -0.3, 0.2), m=(0, 0.25, 0.25), t=(-6, 0.35, 0.3)),
                              reverb_room=0.45),
    "orchestral": MixSettings(_roles(d=(-7, 0, 0.35), b=(-1, 0.1, 0.3), h=(-1, -0.3, 0.45), m=(0, 0.2, 0.4), t=(-4, 0.35, 0.5)),
                              reverb_room=0.85, reverb_return_db=-3.0, comp_ratio=1.5),
    "jazz":       MixSettings(_roles(d=(-3, 0, 0.15), h=(-2, -0.3, 0.2), m=(-1.5, 0.2, 0.25), t=(-3, 0.35, 0.2)),
                              reverb_room=0.5, comp_ratio=1.8),
    "hiphop":     MixSettings(_roles(d=(0, 0, 0.05), b=(0, 0, 0.0), h=(-3, -0.25, 0.25), m=(-3, 0.2, 0.3)),
                              reverb_room=0.4, lowpass_hz=9000.0, comp_ratio=3.0),
    "corporate":  MixSettings(_roles(d=(-2, 0, 0.1), h=(-2, -0.25, 0.25), m=(-1, 0.25, 0.25), t=(-6, 0.3, 0.4)),
                              reverb_room=0.5),
    "thriller":   MixSettings(_roles(d=(-4, 0, 0.35), b=(0, 0, 0.2), h=(-2, -0.3, 0.5), m=(-3, 0.3, 0.6), t=(-3, 0.3, 0.7)),
                              reverb_room=0.9, reverb_damping=0.35, reverb_return_db=-3.0),
}


# (the old chain had no per-role EQ)
LEGACY_MIX = {k: replace(v, eq={}, bus_eq=()) for k, v in LEGACY_MIX.items()}


def style_key(style: str | None) -> str:
    """The palette/mix entry for a style id: itself, its nearest relative, or the default
    (an unknown id is not an error here: the music still needs instruments)."""
    if style is None:
        return DEFAULT_STYLE
    key = style.strip().lower()
    if key in PALETTES:
        return key
    return STYLE_FALLBACK.get(key, DEFAULT_STYLE)


def check_style(style: str) -> str:
    """`style` if it has a palette of its own, else ValueError naming the known ones (for a
    user typing --style)."""
    key = style.strip().lower()
    if key not in PALETTES:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(PALETTES)}")
    return key


def _legacy(chain: str | None) -> bool:
    from robin_studio.render.synth import sound_chain

    return sound_chain(chain) == "gm-legacy"


def palette_for(style: str | None, chain: str | None = None) -> dict[Role, int]:
    """Role -> GM program (drum kit number for DRUMS) for a style; None = the default style."""
    key = style_key(style)
    if _legacy(chain):
        return dict(LEGACY_PALETTES.get(key, LEGACY_PALETTES[DEFAULT_STYLE]))
    return dict(PALETTES[key])


def mix_for(style: str | None, chain: str | None = None) -> MixSettings:
    key = style_key(style)
    if _legacy(chain):
        return LEGACY_MIX.get(key, LEGACY_MIX[DEFAULT_STYLE])
    return MIX[key]


def apply_palette(score: Score, style: str | None, keep_programs: bool = False) -> Score:
    """A copy of `score` whose tracks use the style's programs, gains and pans.

    keep_programs=True keeps each track's own program (e.g. a creator asked for an
    instrument) and only applies the mix."""
    pal, mix = palette_for(style), mix_for(style)
    tracks = []
    for t in score.tracks:
        rm = mix.role(t.role)
        program = t.program if keep_programs else pal.get(t.role, t.program)
        tracks.append(replace(t, program=program, gain_db=rm.gain_db, pan=rm.pan))
    return replace(score, tracks=tracks, meta={**score.meta, "style": style_key(style)})


def all_programs() -> set[tuple[Role, int]]:
    """Every (role, program) pair some palette uses: what the palette test plays."""
    return {(role, prog) for pals in (PALETTES, LEGACY_PALETTES) for pal in pals.values() for role, prog in pal.items()}
