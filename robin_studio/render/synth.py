"""The SoundFont synthesizer: a Score in, 48 kHz stereo float32 out, in one go or in chunks.

Backend: TinySoundFont (the `tinysoundfont` wheel). It was measured against FluidSynth
(pyfluidsynth + libfluidsynth3) on the same 60 s, 5-track score (see docs/BENCHMARKS.md):
it renders faster, needs no system library (self-contained wheels for Linux, Windows and
macOS), and it is deterministic block by block, which is what makes chunked rendering equal
to one-shot rendering. FluidSynth's built-in reverb/chorus are not needed: the mix adds its
own reverb with pedalboard.

Attack compensation: a sound with a slow attack (strings, pads, choirs) is heard tens of ms
after its note-on, so a pad that starts on a cut would sound late against the picture. As
string players and DAW users do (a "negative track delay"), each note starts early by the
time its sound takes to reach a quarter (-12 dB) of the peak of its first 0.3 s in this bank
(measured every second key of a program's range, every key of a drum kit), at most
`MAX_ATTACK_LEAD_S`. That level was chosen against librosa's onset detector: at -6 dB strings
came out 40 ms early, at -12 dB within 5 ms. Scores, MIDI files and beat positions are
untouched; only when the synthesizer is told to play moves.

Timing: TinySoundFont updates envelopes and filters every 64 samples counted from the
start of each render call. We therefore keep every render call on a global 64-sample grid
and apply note events at grid points (rounded up: at most 1.33 ms late at 48 kHz, the same
for every note, so the rhythm is untouched). Chunked rendering then reproduces the
one-shot output bit for bit, whatever chunk sizes the caller asks for.

SoundFont: `load_synth()` looks, in order, at the `soundfont` argument, the
ROBIN_STUDIO_SOUNDFONT environment variable, `<user data>/soundfonts/`, the bundled
`resources/soundfonts/`, then the Debian packages fluid-soundfont-gm (FluidR3_GM.sf2) and
fluidr3mono-gm-soundfont (FluidR3Mono_GM.sf3). Loaded banks are pooled per path: each
renderer borrows a private synthesizer state and gives it back when done.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import os
import struct
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from robin_studio import paths
from robin_studio.errors import SoundFontError
from robin_studio.score.expression import (GLIDE_MAX_SEMITONES, TICKS_PER_BEAT, Performance, glide_ramps,
                                          perform_score, snap_to_ticks)
from robin_studio.score.theory import VOICE_RANGES
from robin_studio.score.types import Role, Score, Track

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
BLOCK = 64                      # TinySoundFont's internal effect block (TSF_RENDER_EFFECTSAMPLEBLOCK)
OUTPUT_GAIN_DB = -6.0           # headroom: a full GM arrangement sums well above 0 dBFS otherwise
MAX_VOICES = 256
DEFAULT_TAIL_S = 2.0            # releases and decays after the last note
SOUNDFONT_ENV = "ROBIN_STUDIO_SOUNDFONT"
# Banks differ by 20 dB and more between programs (a distorted guitar vs a felt piano, or
# the same program in two banks). Each channel is trimmed towards this level, measured as
# the loudest 25 ms of one note at the role's middle pitch, velocity 100.
REFERENCE_LEVEL_DB = -24.0
# Per role, where that loudest 25 ms should sit. A drum hit is short, so at the same peak
# it is far less loud in a mix than a held chord: drums aim higher. Chords stack several
# notes, so harmony aims lower. (Measured on the benchmark arrangement: with one reference
# for all, drums ended 10-13 LU under the harmony.) The styles' role gains then shape it.
ROLE_REFERENCE_DB = {Role.DRUMS: -16.0, Role.BASS: -24.0, Role.HARMONY: -27.0,
                     Role.MELODY: -24.0, Role.TEXTURE: -24.0}
MAX_TRIM_DB = 24.0            # MuseScore_General plays some programs 20 dB under FluidR3
MAX_ATTACK_LEAD_S = 0.08        # the most a note is started early (see the module docstring)
_ATTACK_WINDOW_S = 0.001        # envelope resolution of the attack measurement
_ATTACK_LEVEL = 0.25            # "sounding": a quarter of the peak (-12 dB)
DEBIAN_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/FluidR3Mono_GM.sf3"),
)
_SF_SUFFIXES = (".sf2", ".sf3")

# The sound chain: "studio" (the default: second banks per instrument, the players'
# expression) or "gm-legacy" (the chain before issue 15: FluidR3 alone, notes as written,
# the old palettes and mix), so an evaluation can put the two side by side in one run.
SOUND_CHAIN_ENV = "ROBIN_STUDIO_SOUND_CHAIN"
CHAINS = ("studio", "gm-legacy")
# Presets played from a second bank, chosen by measurement (render.bank_survey: MusiCNN's
# probability for the instrument's own tags, same phrase, same master; resources/SOUNDS.md):
# MuseScore_General's ensemble strings 0.53 vs FluidR3's 0.21 ("violin" its top tag, where
# FluidR3's strings were heard as "slow, ambient"), its saw lead 0.22 vs 0.00 (FluidR3's
# was heard as a violin), its harp 0.49 vs 0.41. Everything else measured as well or
# better in FluidR3 (its piano 0.38 vs 0.26), which also loads in a tenth of the time.
SECOND_BANK_FILES = {"musescore": Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3")}
SECOND_BANK_PRESETS: dict[tuple[bool, int], str] = {
    (False, 48): "musescore",     # String Ensemble 1
    (False, 81): "musescore",     # Lead 2 (sawtooth)
    (False, 46): "musescore",     # Orchestral Harp
}


def sound_chain(chain: str | None = None) -> str:
    """The chain in force: `chain`, else ROBIN_STUDIO_SOUND_CHAIN, else "studio"."""
    chain = (chain or os.environ.get(SOUND_CHAIN_ENV) or "studio").strip().lower()
    if chain not in CHAINS:
        raise SoundFontError(f"Unknown sound chain {chain!r}.", f"Use one of: {', '.join(CHAINS)}.")
    return chain


def second_banks() -> dict[str, tuple[Path, list[tuple[int, int]]]]:
    """name -> (source file, [(bank, program)...]) of the presets taken from it."""
    out: dict[str, tuple[Path, list[tuple[int, int]]]] = {}
    for (drums, program), name in SECOND_BANK_PRESETS.items():
        path = SECOND_BANK_FILES[name]
        out.setdefault(name, (path, []))[1].append((128 if drums else 0, program))
    return out


_SECOND: dict[str, "Synth | None"] = {}


def second_synth(name: str) -> "Synth | None":
    """The small subset bank `name` (built once by render.bank_subset, then cached), or
    None when its source is not installed (its presets then play from the main bank)."""
    with _SYNTHS_LOCK:
        if name in _SECOND:
            return _SECOND[name]
    path, presets = second_banks()[name]
    synth = None
    if path.is_file():
        from robin_studio.render.bank_subset import cached_subset
        try:
            synth = Synth(cached_subset(path, presets), measure_palettes=False, lead_every_key=True)
        except (OSError, ValueError, SoundFontError) as err:
            log.warning("second bank %s unusable (%s); playing its presets from the main bank", name, err)
    else:
        log.info("%s not installed; its presets play from the main bank", path)
    with _SYNTHS_LOCK:
        _SECOND[name] = synth
    return synth


def _second_bank_of(track: Track) -> str | None:
    return SECOND_BANK_PRESETS.get((bool(track.is_drums), int(track.program) & 127))


# ---------------------------------------------------------------------------------------
# finding and loading the SoundFont
# ---------------------------------------------------------------------------------------
def soundfont_candidates() -> list[Path]:
    """Where a SoundFont is looked for, in order of preference."""
    out: list[Path] = []
    env = os.environ.get(SOUNDFONT_ENV)
    if env:
        out.append(Path(env))
    for folder in (_user_soundfont_dir(), paths.resources_dir() / "soundfonts"):
        if folder is not None and folder.is_dir():
            out.extend(sorted(p for p in folder.iterdir() if p.suffix.lower() in _SF_SUFFIXES))
    out.extend(DEBIAN_SOUNDFONTS)
    return out


def _user_soundfont_dir() -> Path | None:
    try:
        return paths.data_dir() / "soundfonts"
    except OSError:
        return None


def find_soundfont(soundfont: str | Path | None = None) -> Path:
    if soundfont is not None:
        p = Path(soundfont).expanduser()
        if not p.is_file():
            raise SoundFontError(f"SoundFont not found: {p}",
                                 "Check the path, or leave it out to use the General MIDI bank that "
                                 "installers/setup.sh installs.")
        return p
    for p in soundfont_candidates():
        if p.is_file():
            return p
    where = ", ".join(str(p) for p in DEBIAN_SOUNDFONTS)
    raise SoundFontError(
        "No General MIDI SoundFont was found, so there is nothing to play the music with.",
        "Run `bash installers/setup.sh` (it installs the Debian package fluid-soundfont-gm), or "
        "`sudo apt-get install fluid-soundfont-gm`, or copy any .sf2/.sf3 General MIDI bank into "
        f"{paths.data_dir() / 'soundfonts'} or point {SOUNDFONT_ENV} at one. Looked in: {where}.")


class Synth:
    """A SoundFont bank, shareable across threads. Renderers borrow private synthesizer states
    (`_acquire`/`_release`) of a *part* of the bank: the presets they play over the keys
    they play (`render.bank_subset.BankIndex.part`), loaded once per part and cloned for
    each further state (TinySoundFont shares the samples between clones). A 60 s, 5-part
    score loads about 15 MB of FluidR3_GM's 148 MB this way (issue 15); a compressed (sf3) bank
    is loaded whole."""

    def __init__(self, path: Path, *, measure_palettes: bool = True, lead_every_key: bool = False):
        self.path = path
        # FluidR3 holds one sample per few keys (every second key measured is enough);
        # MuseScore_General's strings change sample, and attack, from key to key.
        self._key_step = 1 if lead_every_key else 2
        self._lock = threading.Lock()
        self._free: dict[frozenset | None, list] = {}
        self._fonts: dict[frozenset | None, object] = {}     # loaded parts, most recent last
        self._part_of: dict[int, frozenset | None] = {}      # id(state) -> its part
        self._levels: dict[tuple, float] = {}
        self._attacks: dict[tuple, float] = {}
        self._lead_tables: dict[tuple, dict[int, float]] = {}
        self._index = None
        try:
            from robin_studio.render.bank_subset import BankIndex
            index = BankIndex(path)
            if index.splittable and index.presets:
                self._index = index
        except (OSError, ValueError, struct.error):
            self._index = None
        if self._index is None:
            self._fonts[None] = self._load(None)   # fail now, with a clear message, not mid-render
        self._remembered = self._recall()
        if measure_palettes:
            self._measure_palettes()
            self.remember()

    # -- parts of the bank ---------------------------------------------------------------
    def has_preset(self, program: int, drums: bool) -> bool:
        if self._index is not None:
            return (128 if drums else 0, int(program)) in self._index.presets
        return self._fonts[None].get_preset_index(128 if drums else 0, int(program)) >= 0 \
            if None in self._fonts else True

    def resolve(self, program: int, drums: bool) -> int:
        """`program` if this bank has it, else what plays instead: the standard kit, or the
        bank's nearest program."""
        program = int(program) & 127
        if self.has_preset(program, drums):
            return program
        if drums:
            alt = 0
        else:
            alt = next((p for d in range(128) for p in (program - d, program + d)
                        if 0 <= p < 128 and self.has_preset(p, False)), 0)
        log.info("program %d not in %s, using %d", program, self.path.name, alt)
        return alt

    def part_key(self, wanted: dict[tuple[int, int], tuple[int, int]]) -> frozenset | None:
        """The key of the part holding `wanted` ({(bank, program): (low key, high key)});
        None (the whole bank) for a bank that is not split."""
        if self._index is None:
            return None
        return frozenset((b, p, lo, hi) for (b, p), (lo, hi) in wanted.items())

    def _load(self, part: frozenset | None):
        from tinysoundfont import _tinysoundfont as tsf
        try:
            if part is None:
                sf = tsf.SoundFont(str(self.path))
            else:
                sf = tsf.SoundFont(self._index.part({(b, p): (lo, hi) for b, p, lo, hi in part}))
        except Exception as err:  # the binding raises a plain RuntimeError/Exception
            raise SoundFontError(f"Cannot load the SoundFont {self.path} ({err}).",
                                 "The file is damaged or not a SoundFont 2/3 bank: reinstall it "
                                 "(`sudo apt-get install --reinstall fluid-soundfont-gm`) or choose another.") from None
        return sf

    _KEEP_PARTS = 8          # loaded parts kept for reuse (a long-lived app renders many pieces)

    def _acquire(self, sample_rate: int, part: frozenset | None = None):
        """A clean synthesizer state holding `part` (see `part_key`)."""
        from tinysoundfont import _tinysoundfont as tsf
        if self._index is None:
            part = None
        with self._lock:
            free = self._free.get(part)
            sf = free.pop() if free else None
            font = self._fonts.get(part)
        if sf is None:
            if font is None:
                font = self._load(part)
                with self._lock:
                    self._fonts[part] = font
                    while len(self._fonts) > self._KEEP_PARTS:
                        old = next(iter(self._fonts))
                        self._fonts.pop(old)
                        self._free.pop(old, None)
            sf = tsf.SoundFont(font)         # a clone: its own voices, the part's samples shared
            sf.set_max_voices(MAX_VOICES)
            with self._lock:
                self._part_of[id(sf)] = part
        self._clean(sf, sample_rate)
        return sf

    @staticmethod
    def _clean(sf, sample_rate: int) -> None:
        from tinysoundfont import _tinysoundfont as tsf
        sf.reset()
        sf.set_output(tsf.OutputMode.StereoInterleaved, int(sample_rate), OUTPUT_GAIN_DB)
        # reset() only fades voices out quickly; let them finish so every render starts
        # from the same silent state (determinism is what the streaming test relies on).
        scratch = np.empty((BLOCK * 200, 2), np.float32)
        sf.render(scratch, False)
        sf.reset()

    def _release(self, sf) -> None:
        with self._lock:
            part = self._part_of.get(id(sf))
            if part in self._fonts:
                self._free.setdefault(part, []).append(sf)
            else:                       # its part was let go: the state goes with it
                self._part_of.pop(id(sf), None)

    # -- what was measured of this bank, kept on disk between runs --------------------------
    # Measuring the palettes' levels and the attack tables renders a few hundred notes (about
    # a second, on the path to the first sound); the figures depend only on the bank and on
    # this module, so they are kept in the user cache under a key made of both.
    def _memory_path(self) -> Path:
        import hashlib

        st = self.path.stat()
        key = hashlib.sha1(f"{self.path}|{st.st_size}|{st.st_mtime_ns}|{SAMPLE_RATE}".encode()
                           + Path(__file__).read_bytes()).hexdigest()[:20]
        return paths.cache_dir() / "soundfont-measures" / f"{key}.json"

    def _recall(self) -> int:
        import json

        try:
            data = json.loads(self._memory_path().read_text(encoding="utf-8"))
            for k, level, attack in data["notes"]:
                key = (int(k[0]), bool(k[1]), int(k[2]), int(k[3]))
                self._levels[key], self._attacks[key] = float(level), float(attack)
            for k, eq, attack in data.get("eq_attacks", []):
                self._attacks[(int(k[0]), bool(k[1]), int(k[2]), int(k[3]), str(eq))] = float(attack)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self._levels.clear()
            self._attacks.clear()
        return len(self._attacks)

    def remember(self) -> None:
        """Write what has been measured of this bank to the cache (when it grew)."""
        import json
        import os

        if len(self._attacks) <= self._remembered:
            return
        target = self._memory_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            notes = [[list(k), self._levels[k], self._attacks[k]] for k in list(self._levels)]
            eq_attacks = [[list(k[:4]), k[4], v] for k, v in list(self._attacks.items()) if len(k) == 5]
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"notes": notes, "eq_attacks": eq_attacks}), encoding="utf-8")
            os.replace(tmp, target)
            self._remembered = len(notes) + len(eq_attacks)
        except OSError:   # a read-only or full cache only costs the measuring next time
            pass

    def note_level_db(self, program: int, drums: bool, pitch: int, velocity: int = 100,
                      sample_rate: int = SAMPLE_RATE, *, state=None) -> float:
        """Loudest 25 ms (RMS, dBFS) of one 0.5 s note: how loud this bank plays it.

        `state`: a synth state the caller holds and has not started rendering with (it is
        cleaned afterwards); otherwise one is borrowed from the pool."""
        key = (int(program), bool(drums), int(pitch), int(velocity))   # rate-independent
        if key not in self._levels:
            self._measure_note(key, sample_rate, state)
        return self._levels[key]

    def attack_s(self, program: int, drums: bool, pitch: int, velocity: int = 100,
                 sample_rate: int = SAMPLE_RATE, *, state=None, eq: tuple = ()) -> float:
        """Seconds from note-on until one note of `program` reaches a quarter (-12 dB) of the
        peak of its first 0.3 s in this bank, heard through the EQ bands `eq` (a role's, see
        `palettes.ROLE_EQ`: cutting a string section's body makes its bow noise, and so its
        note, heard earlier): how late a note sounds. (`state` as for `note_level_db`.)"""
        key = (int(program), bool(drums), int(pitch), int(velocity))
        if eq:
            key = (*key, repr(tuple(eq)))
        if key not in self._attacks:
            self._measure_note(key[:4], sample_rate, state, eq=tuple(eq))
        return self._attacks[key]

    def _measure_note(self, key: tuple, sample_rate: int, state, eq: tuple = ()) -> None:
        """Render one note and keep its level, its attack and (with `eq`) its attack through
        those EQ bands."""
        program, drums, pitch, velocity = key
        bank = 128 if drums else 0
        akey = (*key, repr(eq)) if eq else key
        if state is None and not self.has_preset(program, drums):
            self._levels[key], self._attacks[key], self._attacks[akey] = -200.0, 0.0, 0.0
            return
        sf = state if state is not None else self._acquire(sample_rate, self.part_key({(bank, program): (0, 127)}))
        try:
            if sf.get_preset_index(bank, program) < 0:
                level, attack, heard = -200.0, 0.0, 0.0
            else:
                sf.channel_set_preset_number(0, int(program), bool(drums))
                # A pooled state keeps its channels' last volume and pan: measure at unity.
                sf.channel_set_volume(0, 1.0)
                sf.channel_set_pan(0, 0.5)
                sf.channel_note_on(0, int(pitch), velocity / 127.0)
                n = sample_rate // 2
                audio = np.zeros((_grid(n), 2), np.float32)
                sf.render(audio, False)
                sf.channel_note_off(0, int(pitch))
                win = sample_rate // 40
                frames = audio[: len(audio) // win * win].reshape(-1, win, 2)
                level = float(10 * np.log10(np.max(np.mean(frames ** 2, axis=(1, 2))) + 1e-20))
                attack = _attack_of(audio, sample_rate)
                heard = attack if not eq else _attack_of(
                    _eq_board(eq).process(audio, float(sample_rate), buffer_size=BLOCK), sample_rate)
        finally:
            if state is not None:
                self._clean(sf, sample_rate)
            else:
                self._release(sf)
        self._levels[key], self._attacks[key], self._attacks[akey] = level, attack, heard

    def lead_table(self, program: int, drums: bool, role: Role, *, state=None,
                   sample_rate: int = SAMPLE_RATE, eq: tuple = ()) -> dict[int, float]:
        """pitch -> how early a note must start to sound on its beat (its attack, at most
        MAX_ATTACK_LEAD_S). A bank holds different samples across the keyboard (a string
        patch's attack varies 9-28 ms with the key), so pitched programs are measured every
        second key (every key in a multi-sampled second bank) over their role's range and an
        octave either side; drum kits per key.
        About 0.7 ms a key, once per program and role in a process. The table then holds
        every key (0-127), each with its nearest measured key's lead, so scheduling a note is
        one lookup."""
        key = (int(program), bool(drums), Role(role), repr(tuple(eq)))
        table = self._lead_tables.get(key)
        if table is None:
            if drums:
                keys = range(27, 88)
            else:
                lo, hi = VOICE_RANGES.get(Role(role), (48, 72))
                step = self._key_step
                keys = range(max(0, lo - 12) // step * step, min(127, hi + 12) + 1, step)
            measured = {k: min(MAX_ATTACK_LEAD_S, self.attack_s(program, drums, k, state=state,
                                                                sample_rate=sample_rate, eq=eq))
                        for k in keys}
            # (a tie between two measured keys goes to the lower one)
            table = {p: measured[min(measured, key=lambda k: abs(k - p))] for p in range(128)}
            self._lead_tables[key] = table
            self.remember()
        return table

    def trim_db(self, program: int, drums: bool, role: Role, *, state=None,
                sample_rate: int = SAMPLE_RATE) -> float:
        """Channel gain that brings `program` near its role's reference level."""
        kw = {"state": state, "sample_rate": sample_rate}
        if drums:
            level = max(self.note_level_db(program, True, 36, **kw), self.note_level_db(program, True, 38, **kw))
        else:
            lo, hi = VOICE_RANGES.get(Role(role), (48, 72))
            level = self.note_level_db(program, False, (lo + hi) // 2, **kw)
        ref = ROLE_REFERENCE_DB.get(Role(role), REFERENCE_LEVEL_DB)
        return float(np.clip(ref - level, -MAX_TRIM_DB, MAX_TRIM_DB))

    def _measure_palettes(self) -> None:
        """Level trims of every palette program (read back from the cache; measured, with one
        state holding all of them, only when some are missing)."""
        from robin_studio.render.palettes import all_programs

        todo = sorted(all_programs(), key=lambda rp: (rp[0].value, rp[1]))
        missing = [(role, prog) for role, prog in todo if any(
            k not in self._levels for k in self._trim_keys(prog, role == Role.DRUMS, role))]
        if not missing:
            return
        part = self.part_key({(128 if role == Role.DRUMS else 0, prog): (0, 127) for role, prog in missing
                              if self.has_preset(prog, role == Role.DRUMS)})
        sf = self._acquire(SAMPLE_RATE, part)
        try:
            for role, program in missing:
                self.trim_db(program, role == Role.DRUMS, role, state=sf)
        finally:
            self._release(sf)

    @staticmethod
    def _trim_keys(program: int, drums: bool, role: Role) -> list[tuple]:
        if drums:
            return [(int(program), True, 36, 100), (int(program), True, 38, 100)]
        lo, hi = VOICE_RANGES.get(Role(role), (48, 72))
        return [(int(program), False, (lo + hi) // 2, 100)]

    def __repr__(self) -> str:
        return f"Synth({str(self.path)!r})"


def _attack_of(audio: np.ndarray, sample_rate: int) -> float:
    """Seconds until a note's sound reaches a quarter of the peak of its first 0.3 s: the
    peak of each millisecond over 0.3 s from the first audible sample (a slowly rising
    sound's peak is judged over what a listener hears from its start, not from a silent
    note-on)."""
    w = max(1, int(sample_rate * _ATTACK_WINDOW_S))
    mono = np.abs(audio).max(axis=1)
    start = int(np.argmax(mono > 1e-4)) if np.any(mono > 1e-4) else 0
    seg = mono[start:start + int(0.3 * sample_rate)]
    head = seg[: len(seg) // w * w].reshape(-1, w).max(axis=1)
    peak = float(head.max()) if head.size else 0.0
    return float((start + np.argmax(head >= _ATTACK_LEVEL * peak) * w) / sample_rate) if peak > 1e-6 else 0.0


_SYNTHS: dict[Path, Synth] = {}
_SYNTHS_LOCK = threading.Lock()


def load_synth(soundfont: str | Path | None = None) -> Synth:
    """The synthesizer for `soundfont` (or the default bank), loaded once per process.

    Raises SoundFontError with what to do if no usable bank is found."""
    path = find_soundfont(soundfont).resolve()
    with _SYNTHS_LOCK:
        synth = _SYNTHS.get(path)
        if synth is None:
            synth = _SYNTHS[path] = Synth(path)
        return synth


# ---------------------------------------------------------------------------------------
# score -> timed events
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Voice:
    on: int          # grid sample of the note-on
    off: int         # grid sample of the note-off (> on)
    channel: int
    key: int
    velocity: int
    layer: int = 0   # which of the renderer's synthesizer states plays it


@dataclass(frozen=True)
class _ChannelSetup:
    channel: int
    program: int
    drums: bool
    volume: float
    pan: float       # 0 left .. 1 right


def _grid(sample_pos: float) -> int:
    """Round a sample position up to the render grid."""
    return int(math.ceil(sample_pos / BLOCK - 1e-9)) * BLOCK


def _assign_channels(tracks: list[Track], unity: bool = False, trims: list[float] | None = None,
                     roles: list[Role] | None = None) -> tuple[list[int], list[_ChannelSetup]]:
    """One channel per track; identical set-ups (of one role, with `roles`) share a channel;
    when there are more than 16, tracks of the same instrument do. `trims` (dB per track):
    the programs' level trims, included in each channel's volume. The programs are taken as
    they are (`Synth.resolve` them first)."""
    keys = []
    for i, t in enumerate(tracks):
        gain = 0.0 if unity else t.gain_db
        if trims is not None:
            gain += trims[i]
        pan = 0.0 if unity else t.pan
        role = roles[i].value if roles is not None else ""
        keys.append((t.is_drums, int(t.program) & 127, round(gain, 3), round(pan, 3), role))
    chan_of_key: dict[tuple, int] = {}
    setups: list[_ChannelSetup] = []
    out = []
    for key in keys:
        if key not in chan_of_key:
            if len(setups) < 16:
                ch = len(setups)
                drums, prog, gain, pan, _ = key
                setups.append(_ChannelSetup(ch, prog, drums, 10 ** (gain / 20.0), 0.5 + 0.5 * max(-1.0, min(1.0, pan))))
                chan_of_key[key] = ch
            else:
                # More than 16 distinct set-ups: borrow the channel of the same instrument.
                same = next((c for k, c in chan_of_key.items() if k[:2] == key[:2]), None)
                if same is None:
                    same = len(out) % 16
                    log.warning("more than 16 instrument set-ups: track shares channel %d", same)
                chan_of_key[key] = same
        out.append(chan_of_key[key])
    return out, setups


def _lead_of(table: dict[int, float] | None, pitch: int) -> float:
    """The lead of `pitch` in a `Synth.lead_table` (0 without a table)."""
    return table.get(pitch, 0.0) if table else 0.0


def _voices(score: Score, channels: list[int], sample_rate: int,
            leads: list[dict[int, float] | None] | None = None, expressive: bool = True,
            layers: list[int] | None = None, performances: list[Performance] | None = None) -> list[_Voice]:
    """The notes as synthesizer voices, as the players perform them (`performances`, from
    `score.expression.perform_score`: repeats varied, held on by the sustain pedal, joined
    legato; `expressive=False`: as written); with `leads` (a pitch -> seconds table per
    track), each note-on comes early by its sound's attack so that it is heard on the beat."""
    tm = score.tempo_map
    if expressive and performances is None:
        performances = perform_score(score)
    voices = []
    for ti, (track, ch) in enumerate(zip(score.tracks, channels)):
        table = leads[ti] if leads is not None and ti < len(leads) else None
        layer = layers[ti] if layers is not None else 0
        for n in (performances[ti].sounding if expressive else track.notes):
            if not (0 <= n.pitch <= 127) or n.velocity <= 0 or n.duration_beats <= 0:
                continue
            # A first bar cut in (tempo map offset_s < 0) has notes before 0 s: those that
            # ring on into the picture start at 0 s, those that end before it never sound.
            end_s = tm.seconds_at(n.end_beat)
            if end_s <= 0.0:
                continue
            lead = _lead_of(table, int(n.pitch))
            on = _grid(max(0.0, tm.seconds_at(n.start_beat) - lead) * sample_rate)
            off = max(on + BLOCK, _grid(end_s * sample_rate))
            voices.append(_Voice(on, off, ch, int(n.pitch), int(min(127, n.velocity)), layer))
    return voices


# Controllers TinySoundFont plays (expression); the pedal is played through note lengths
# (`_voices`), the rest (CC1, portamento) only goes into the MIDI export.
_SYNTH_CONTROLLERS = (11,)


def _control_events(score: Score, channels: list[int], sample_rate: int,
                    leads: list[dict[int, float] | None] | None = None,
                    layers: list[int] | None = None,
                    performances: list[Performance] | None = None) -> list[tuple[int, int, int, int, int, int]]:
    """(sample, 1, channel, controller, value, layer) for the performance's expression
    changes, early by the track's attack lead at middle C like its notes."""
    tm = score.tempo_map
    performances = performances if performances is not None else perform_score(score)
    out = []
    for ti, (track, ch) in enumerate(zip(score.tracks, channels)):
        table = leads[ti] if leads is not None and ti < len(leads) else None
        layer = layers[ti] if layers is not None else 0
        lead = _lead_of(table, 60)
        for cc in performances[ti].controls:
            if cc.controller in _SYNTH_CONTROLLERS:
                at = _grid(max(0.0, tm.seconds_at(cc.beat) - lead) * sample_rate)
                out.append((at, 1, ch, cc.controller, int(cc.value), layer))
        # Portamento as the pitch wheel (range GLIDE_MAX_SEMITONES): start at the previous
        # pitch, slide home along the ramp the MIDI file's bends follow (`glide_ramps`: a
        # synth lead's in GLIDE_S, an 808's over its style's slide time).
        for beat, ramp in glide_ramps(track, score.beats_per_bar, (score.meta or {}).get("style"), tm.seconds_at):
            t0 = max(0.0, tm.seconds_at(beat) - _lead_of(table, 60))
            for dt, left in ramp:
                wheel = int(round(8192 + 8191 * left / GLIDE_MAX_SEMITONES))
                out.append((_grid((t0 + dt) * sample_rate), 1, ch, PITCH_WHEEL, max(0, min(16383, wheel)), layer))
    return out


PITCH_WHEEL = 2000          # the "controller" of a pitch wheel event (not a MIDI number)

def _events(voices, controls=()) -> list[tuple[int, int, int, int, int, int]]:
    """(sample, kind, channel, key, velocity, layer); at one sample offs (0) come before
    controller changes (1), which come before ons (2)."""
    ev = list(controls)
    for v in voices:
        ev.append((v.on, 2, v.channel, v.key, v.velocity, v.layer))
        ev.append((v.off, 0, v.channel, v.key, 0, v.layer))
    ev.sort()
    return ev


def score_end_s(score: Score) -> float:
    """When the last note ends (or the tempo map ends, if later). (On the tick grid, as the
    performance and the MIDI file have it: a piece and its MIDI file render as long.)"""
    tm = score.tempo_map
    last = max((n.end_beat for t in score.tracks for n in t.notes), default=0.0)
    last = round(last * TICKS_PER_BEAT) / TICKS_PER_BEAT
    return max(tm.end_s, tm.seconds_at(last))


# ---------------------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------------------
@dataclass(eq=False)
class _Layer:
    """One synthesizer state of a renderer: it plays one role's tracks (from one bank) over
    the keys its part holds, into that role's buffer."""
    role: Role
    synth: Synth
    sf: object
    wanted: dict[tuple[int, int], tuple[int, int]]      # (bank, program) -> (low key, high key)
    setups: dict[int, _ChannelSetup]

    def covers(self, bank: int, program: int, lo: int, hi: int) -> bool:
        have = self.wanted.get((bank, program))
        return have is not None and have[0] <= lo and hi <= have[1]


# Keys a pitched part loads beyond its role's range (the attack tables measure 12 either
# side, rounded to even keys), so an ordinary score never needs another part mid-piece.
_RANGE_MARGIN = 14


class StreamingRenderer:
    """Render a score chunk by chunk, voices ringing across chunk edges.

    `render_until(end_s)` returns the audio from where the previous call stopped up to
    `end_s`; `render_roles_until(end_s)` the same, one array per role (the stems: they sum
    to `render_until`'s mix exactly); `update_score(score)` swaps in a score that has grown
    (bars appended) since. Notes that already started keep sounding as they were scheduled;
    notes of the new score that start at or after the render position are played. The
    concatenation of all chunks equals `render_score` of the final score sample for sample.

    Each role plays on synthesizer states of its own (`_Layer`, one per bank it uses), which
    hold only its presets over its keys (`Synth` parts); each role's audio goes through the
    style's per-role EQ (`palettes.MixSettings.eq`, pedalboard filters whose state runs on
    from chunk to chunk), then the roles are summed in a fixed order.
    """

    def __init__(self, score: Score, sample_rate: int = SAMPLE_RATE, synth: Synth | None = None,
                 *, unity_mix: bool = False, level_trims: bool = True, chain: str | None = None,
                 kick_score: Score | None = None):
        from robin_studio.render.palettes import mix_for

        self.sample_rate = int(sample_rate)
        self._synth = synth or load_synth()
        self.chain = sound_chain(chain)
        self._expressive = self.chain != "gm-legacy"
        # Second banks only beside the default bank: a bank the user chose plays everything.
        self._split = self.chain == "studio" and self._synth.path.name == "FluidR3_GM.sf2"
        self._unity = unity_mix
        self._trims = level_trims
        mix = mix_for(score.meta.get("style") if score.meta else None, self.chain)
        # Sidechain pump (styles whose MixSettings.sidechain_db > 0): non-drum channels duck
        # on every kick of `kick_score` (default: the score itself; stems are handed the
        # whole piece's score, so they pump on the same kicks).
        self._kicks: list[int] = []
        self._pump_gain = 1.0
        self._expr: dict[int, float] = {}
        self._pump = None
        if self._expressive and mix.sidechain_db > 0:
            self._pump = (10 ** (-mix.sidechain_db / 20.0), max(0.02, mix.sidechain_release_s))
        self._eq_bands = mix.role_eq() if self.chain == "studio" else {}
        self._eq: dict[Role, object] = {}             # role -> its running EQ board
        self._kick_score = kick_score
        self._layers: list[_Layer] = []
        self._hosts: dict[int, list[_Layer]] = {}    # channel -> the layers playing it
        self._roles: list[Role] = []                  # the order roles are summed in
        self._pos = 0            # grid samples rendered so far
        self._returned = 0       # samples handed to the caller so far
        self._buffer: dict[Role, np.ndarray] = {}     # rendered past _returned (< one block)
        self._buffered = 0
        self._voices: list[_Voice] = []
        self._events: list[tuple] = []
        self._controls: list[tuple] = []
        self._ei = 0
        self._setups: dict[int, _ChannelSetup] = {}
        self._leads: dict[tuple, dict[int, float]] = {}
        self._track_layer: dict[int, _Layer] = {}
        self._strikes: dict[int, dict[int, list[float]]] = {}   # track -> key -> beats struck
        self.score = score
        self._schedule(score, first=True)

    # -- which synthesizer state plays what -----------------------------------------------
    def _synth_of(self, track: Track) -> Synth:
        if self._split:
            name = _second_bank_of(track)
            other = second_synth(name) if name else None
            if other is not None:
                return other
        return self._synth

    @staticmethod
    def _keys_of(track: Track) -> tuple[int, int]:
        """The keys a track's part must hold: a kit whole; a pitched part its role's range
        and a margin, and every note it has."""
        if track.is_drums:
            return 0, 127
        lo, hi = VOICE_RANGES.get(Role(track.role), (48, 72))
        pitches = [int(n.pitch) for n in track.notes if 0 <= n.pitch <= 127]
        lo, hi = min([lo - _RANGE_MARGIN, *pitches]), max([hi + _RANGE_MARGIN, *pitches])
        return max(0, lo), min(127, hi)

    def _new_layer(self, role: Role, synth: Synth, wanted: dict) -> _Layer:
        layer = _Layer(role, synth, synth._acquire(self.sample_rate, synth.part_key(wanted)), dict(wanted), {})
        self._layers.append(layer)
        if role not in self._roles:
            self._roles.append(role)
            self._buffer[role] = np.zeros((self._buffered, 2), np.float32)
        return layer

    def _place(self, score: Score, first: bool) -> tuple[list[Track], list[_Layer], list[Synth]]:
        """Each track with its program as its bank plays it, the layer that plays it (made
        here when none holds its program over its keys) and its bank."""
        tracks, synths, needs = [], [], []
        for t in score.tracks:
            syn = self._synth_of(t)
            program = syn.resolve(int(t.program) & 127, t.is_drums)
            tracks.append(replace(t, program=program))
            synths.append(syn)
            needs.append((128 if t.is_drums else 0, program, *self._keys_of(t)))
        if first:
            groups: dict[tuple, dict] = {}
            for t, syn, (bank, program, lo, hi) in zip(tracks, synths, needs):
                wanted = groups.setdefault((Role(t.role), id(syn)), {})
                have = wanted.get((bank, program), (lo, hi))
                wanted[(bank, program)] = (min(lo, have[0]), max(hi, have[1]))
            made = {k: self._new_layer(k[0], next(s for s in synths if id(s) == k[1]), wanted)
                    for k, wanted in groups.items()}
            layers = [made[(Role(t.role), id(syn))] for t, syn in zip(tracks, synths)]
        else:
            layers = []
            for i, (t, syn, (bank, program, lo, hi)) in enumerate(zip(tracks, synths, needs)):
                layer = next((L for L in [self._track_layer.get(i), *self._layers] if L is not None
                              and L.role == Role(t.role) and L.synth is syn and L.covers(bank, program, lo, hi)), None)
                if layer is None:
                    # A note beyond what this role's part holds (or a new instrument) mid-piece:
                    # a state holding the whole program plays this track from now on.
                    layer = self._new_layer(Role(t.role), syn, {(bank, program): (0, 127)})
                layers.append(layer)
        self._track_layer = dict(enumerate(layers))
        return tracks, layers, synths

    # -- scheduling ----------------------------------------------------------------------
    def _schedule(self, score: Score, first: bool = False) -> None:
        tracks, layers, synths = self._place(score, first)
        # Before the first render each layer's own state measures what is not known yet (a
        # pooled one would mean loading the part again); later a pooled state does.
        for t, layer, syn in zip(tracks, layers, synths):
            key = (int(t.program), t.is_drums, t.role, id(syn))
            if key not in self._leads:
                self._leads[key] = syn.lead_table(int(t.program), t.is_drums, t.role, sample_rate=self.sample_rate,
                                                  state=layer.sf if first else None,
                                                  eq=self._eq_bands.get(Role(t.role), ()))
        trims = [syn.trim_db(int(t.program), t.is_drums, t.role, sample_rate=self.sample_rate,
                             state=layer.sf if first else None) if self._trims else 0.0
                 for t, layer, syn in zip(tracks, layers, synths)]
        # (roles in the key: tracks of two roles never share a channel's controllers)
        channels, setups = _assign_channels(tracks, unity=self._unity, trims=trims, roles=[t.role for t in tracks])
        setup_of = {s.channel: s for s in setups}
        for ch, layer in zip(channels, layers):
            hosts = self._hosts.setdefault(ch, [])
            if layer not in hosts:
                hosts.append(layer)
        for ch, hosts in self._hosts.items():
            s = setup_of.get(ch)
            if s is None:
                continue
            self._setups[ch] = s
            for layer in hosts:
                if layer.setups.get(ch) != s:
                    self._apply_setup(layer, s)
                    layer.setups[ch] = s
        placed = replace(score, tracks=tracks)
        index = [self._layers.index(L) for L in layers]
        leads = [self._leads.get((int(t.program), t.is_drums, t.role, id(syn))) for t, syn in zip(tracks, synths)]
        # The performance (score.expression): decided from the score alone, so the MIDI
        # export holds exactly what is played here. (A score of only the next bars is played
        # knowing each key's last strike before them, as in the whole piece.)
        played = perform_score(placed, self._previous_strikes(placed)) if self._expressive else None
        new = _voices(placed, channels, self.sample_rate, leads, expressive=self._expressive, layers=index,
                      performances=played)
        ccs = _control_events(placed, channels, self.sample_rate, leads, layers=index,
                              performances=played) if self._expressive else []
        if first:
            keep = []
        else:
            # Notes already struck keep their scheduled release; everything from the
            # render position on comes from the new score.
            keep = [v for v in self._voices if v.on < self._pos <= v.off]
        fresh = [v for v in new if v.on >= self._pos]
        self._voices = keep + fresh
        # Controller changes still ahead stay (a bar's pedal or swell may end after the
        # chunk does); the same change from a grown score is not sent twice.
        if self._pump is not None:
            kit = [p for t, p in zip(placed.tracks, played or []) if t.is_drums] if self._kick_score is None else None
            ccs = ccs + self._pump_events(self._kick_score or score, kit)
        self._controls = sorted({c for c in (*self._controls, *ccs) if c[0] >= self._pos})
        self._events = [e for e in _events(self._voices, self._controls) if e[0] >= self._pos]
        self._ei = 0

    def _previous_strikes(self, score: Score) -> list[dict[int, float]]:
        """Per track, key -> beat of its last strike handed over before the first strike of
        that key in `score` (remembered across `update_score`: the engine hands over only
        the next bars), and remember `score`'s strikes."""
        out = []
        for i, t in enumerate(score.tracks):
            seen = self._strikes.setdefault(i, {})
            firsts: dict[int, float] = {}
            beats = [(snap_to_ticks(n).start_beat, int(n.pitch)) for n in t.notes]
            for beat, key in beats:
                firsts[key] = min(beat, firsts.get(key, beat))
            prev = {}
            for key, first in firsts.items():
                strikes = seen.get(key, [])
                j = bisect.bisect_left(strikes, first)
                if j:
                    prev[key] = strikes[j - 1]
            for beat, key in beats:
                strikes = seen.setdefault(key, [])
                j = bisect.bisect_left(strikes, beat)
                if j == len(strikes) or strikes[j] != beat:
                    strikes.insert(j, beat)
            out.append(prev)
        return out

    def _apply_setup(self, layer: _Layer, s: _ChannelSetup) -> None:
        sf = layer.sf
        sf.channel_set_preset_number(s.channel, s.program, s.drums)
        sf.channel_set_volume(s.channel, s.volume)
        sf.channel_set_pitch_range(s.channel, float(GLIDE_MAX_SEMITONES))   # glides (score.expression)
        sf.channel_set_pitch_wheel(s.channel, 8192)
        sf.channel_set_pan(s.channel, s.pan)

    _PUMP = 1000            # the "controller" of a pump step event (not a MIDI number)
    _PUMP_STEP_S = 0.012

    def _pump_events(self, score: Score, kit: list[Performance] | None = None) -> list[tuple[int, int, int, int, int, int]]:
        """Remember the kicks of `score` (as played: `kit`, its drum tracks' performances,
        when known) and return the pump's steps after each: at each step the gain is worked
        out from all kicks known by then (`_pump_at`), so a chunk boundary or a late kick
        changes nothing."""
        tm = score.tempo_map
        if kit is None:
            kit = perform_score(replace(score, tracks=[t for t in score.tracks if t.is_drums]))
        kicks = {_grid(max(0.0, tm.seconds_at(n.start_beat)) * self.sample_rate)
                 for p in kit for n in p.notes if n.pitch in (35, 36)}
        if not kicks:
            return []
        self._kicks = sorted(set(self._kicks) | kicks)
        release_n = self._pump[1] * self.sample_rate
        steps = int(self._pump[1] / self._PUMP_STEP_S) + 1
        step_n = self._PUMP_STEP_S * self.sample_rate
        return [(_grid(k + i * step_n), 1, -1, self._PUMP, 0, -1) for k in kicks for i in range(steps + 1)
                if i * step_n <= release_n + step_n]

    def _pump_at(self, pos: int) -> float:
        """The pump's gain at sample `pos`: the deepest of the last two kicks' envelopes
        (a duck of `sidechain_db` that comes back with a quadratic ease)."""
        depth, release = self._pump
        release_n = release * self.sample_rate
        i = bisect.bisect_right(self._kicks, pos)
        g = 1.0
        for k in self._kicks[max(0, i - 2):i]:
            x = (pos - k) / release_n
            if x < 1.0:
                g = min(g, 1.0 - (1.0 - depth) * (1.0 - x) ** 2)
        return g

    def _apply_gain(self, ch: int) -> None:
        setup = self._setups.get(ch)
        base = setup.volume if setup is not None else 1.0
        pump = self._pump_gain if (setup is not None and not setup.drums) else 1.0
        for layer in self._hosts.get(ch, ()):
            layer.sf.channel_set_volume(ch, base * self._expr.get(ch, 1.0) * pump)

    def update_score(self, score: Score, kick_score: Score | None = None) -> None:
        """Use `score` (the same piece with bars appended) from the current position on."""
        self.score = score
        self._kick_score = kick_score
        self._schedule(score)

    # -- rendering -----------------------------------------------------------------------
    def _render_grid_to(self, target: int) -> dict[Role, np.ndarray]:
        """Render from self._pos to `target` (both on the grid), one array per role."""
        outs = {role: np.empty((target - self._pos, 2), np.float32) for role in self._roles}
        plan = [(outs[role], [L.sf for L in self._layers if L.role == role]) for role in self._roles]
        layers, ev = self._layers, self._events
        start = self._pos
        while self._pos < target:
            while self._ei < len(ev) and ev[self._ei][0] <= self._pos:
                _, kind, ch, key, vel, li = ev[self._ei]
                if kind == 2:
                    layers[li].sf.channel_note_on(ch, key, vel / 127.0)
                elif kind == 1:
                    # Expression (CC11) and the pump as channel gains on top of the mix's
                    # volume: sent as MIDI, TinySoundFont would replace that volume with its
                    # own curve, (volume x expression)^3. The same cube law is kept for CC11.
                    if key == PITCH_WHEEL:
                        for layer in self._hosts.get(ch, ()):
                            layer.sf.channel_set_pitch_wheel(ch, vel)
                    elif key == self._PUMP:
                        self._pump_gain = self._pump_at(self._pos)
                        for c in self._setups:
                            self._apply_gain(c)
                    else:
                        self._expr[ch] = (vel / 127.0) ** 3
                        self._apply_gain(ch)
                else:
                    layers[li].sf.channel_note_off(ch, key)
                self._ei += 1
            stop = min(target, ev[self._ei][0]) if self._ei < len(ev) else target
            a, b = self._pos - start, stop - start
            for out, states in plan:
                mix = False
                for sf in states:
                    sf.render(out[a:b], mix)
                    mix = True
            self._pos = stop
        if target > start:
            self._equalise(outs)
        return outs

    def _equalise(self, outs: dict[Role, np.ndarray]) -> None:
        """Each role's fresh audio through its EQ, in place. The render spans start and end on
        the 64-sample grid and the filters run in 64-sample blocks with their state carried,
        so any chunking gives the one-shot result bit for bit (pedalboard re-prepares, and
        its filters start over, when the block size changes between calls)."""
        for role, out in outs.items():
            bands = self._eq_bands.get(role)
            if not bands:
                continue
            board = self._eq.get(role)
            started = board is not None
            if board is None:
                board = self._eq[role] = _eq_board(bands)
            # (pedalboard takes the (samples, 2) layout as it is: no transposed copies)
            out[:] = board.process(out, float(self.sample_rate), buffer_size=BLOCK, reset=not started)

    def render_roles_until(self, end_s: float) -> dict[Role, np.ndarray]:
        """Audio (n, 2) float32 per role, from the end of the previous chunk up to `end_s`
        seconds, after the role's EQ: the stems, which `render_until` sums."""
        end = max(self._returned, int(round(end_s * self.sample_rate)))
        need = end - self._returned
        if need > self._buffered:
            fresh = self._render_grid_to(_grid(end))
            for role in self._roles:
                self._buffer[role] = (np.concatenate([self._buffer[role], fresh[role]])
                                      if self._buffered else fresh[role])
            self._buffered += len(fresh[self._roles[0]]) if self._roles else 0
        chunks = {}
        for role in self._roles:
            buf = self._buffer[role]
            chunks[role], self._buffer[role] = np.ascontiguousarray(buf[:need]), buf[need:]
        self._buffered = max(0, self._buffered - need) if self._roles else 0
        self._returned = end
        return chunks

    def render_until(self, end_s: float) -> np.ndarray:
        """Audio (n, 2) float32 from the end of the previous chunk up to `end_s` seconds."""
        before = self._returned
        chunks = self.render_roles_until(end_s)
        return _sum_roles(chunks, self._returned - before)

    @property
    def position_s(self) -> float:
        return self._returned / self.sample_rate

    def close(self) -> None:
        for layer in getattr(self, "_layers", []):
            if layer.sf is not None:
                layer.synth._release(layer.sf)
                layer.sf = None

    def __enter__(self) -> "StreamingRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # give the states back if the caller forgot
        try:
            self.close()
        except Exception:
            pass


def _sum_roles(chunks: dict[Role, np.ndarray], n: int) -> np.ndarray:
    """The roles' audio summed in their order (the order `render_stems` returns them in, so
    the stems add up to the mix exactly)."""
    out = None
    for chunk in chunks.values():
        if out is None:
            out = chunk.copy()
        else:
            out += chunk
    return out if out is not None else np.zeros((n, 2), np.float32)


def _eq_filters(band) -> list:
    """pedalboard filters for one EQ band (`palettes.Band`)."""
    import pedalboard as pb

    if band.kind == "highpass":      # 12 dB/octave: two first-order sections
        return [pb.HighpassFilter(band.hz), pb.HighpassFilter(band.hz)]
    if band.kind == "lowpass":
        return [pb.LowpassFilter(band.hz), pb.LowpassFilter(band.hz)]
    if band.kind == "peak":
        return [pb.PeakFilter(band.hz, band.gain_db, band.q)]
    if band.kind == "lowshelf":
        return [pb.LowShelfFilter(band.hz, band.gain_db, band.q)]
    if band.kind == "highshelf":
        return [pb.HighShelfFilter(band.hz, band.gain_db, band.q)]
    raise ValueError(f"unknown EQ band kind {band.kind!r}")


def _eq_board(bands) -> object:
    """A pedalboard chain for a role's EQ bands, level-matched: a final gain gives pink noise
    the loudness it had, so the EQ changes a part's tone and the mix's role gains keep
    setting its level."""
    import pedalboard as pb

    return pb.Pedalboard([f for b in bands for f in _eq_filters(b)] + [pb.Gain(_eq_makeup_db(tuple(bands)))])


@functools.lru_cache(maxsize=64)
def _eq_makeup_db(bands: tuple) -> float:
    """dB that brings 2 s of pink noise through `bands` back to its loudness (BS.1770)."""
    import pedalboard as pb

    from robin_studio.render.loudness import integrated_lufs

    rng = np.random.default_rng(0)
    n = 2 * SAMPLE_RATE
    spec = np.fft.rfft(rng.normal(size=n))
    spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1.0))        # 1/f power: pink
    pink = np.fft.irfft(spec, n)
    pink = (0.1 * pink / np.abs(pink).max()).astype(np.float32)
    x = np.stack([pink, pink], axis=1)
    board = pb.Pedalboard([f for b in bands for f in _eq_filters(b)])
    y = board.process(x, float(SAMPLE_RATE), buffer_size=BLOCK)
    return float(integrated_lufs(x, SAMPLE_RATE) - integrated_lufs(y, SAMPLE_RATE))


def render_score(score: Score, sample_rate: int = SAMPLE_RATE, *, tail_s: float = DEFAULT_TAIL_S,
                 synth: Synth | None = None, level_trims: bool = True, chain: str | None = None) -> np.ndarray:
    """The whole score, dry (per-track gain and pan, the programs' level trims and the
    roles' EQ applied, no room): float32 (n, 2)."""
    with StreamingRenderer(score, sample_rate, synth, level_trims=level_trims, chain=chain) as r:
        return r.render_until(score_end_s(score) + tail_s)


def render_stems(score: Score, sample_rate: int = SAMPLE_RATE, *, tail_s: float = DEFAULT_TAIL_S,
                 synth: Synth | None = None, level_trims: bool = True,
                 chain: str | None = None, mixed: bool = False) -> dict[Role, np.ndarray]:
    """One stem per role (tracks sharing a role are summed), all the same length, from one
    pass. Dry, level-trimmed and through the roles' EQ; with `mixed=False` at unity gain and
    centred (`render.master.mix_stems` applies the tracks' gain and pan), with `mixed=True`
    with the tracks' own gain and pan inside the synth, so that the stems add up to
    `render_score` exactly (the export's stems: a bank's own stereo placement and the synth's
    pan law make a pan applied afterwards differ)."""
    with StreamingRenderer(score, sample_rate, synth, unity_mix=not mixed, level_trims=level_trims, chain=chain,
                           kick_score=score) as r:
        return r.render_roles_until(score_end_s(score) + tail_s)
