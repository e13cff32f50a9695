"""Re-arrange a real tune in a style: the tune's melody and harmony, the style's band.

`arrange(piece, style, rng)` takes a parsed piece (see `sources.py`), keeps its melody and the
chords estimated from all its parts, transposes it (and turns it to the parallel minor or major
when the style asks), lays it out in one of the style's section shapes (intro, verses, peak,
breakdown, outro) and writes drums, bass, comping, melody and texture from the patterns in
`styles.py`. The last bar is always a cadence on the tonic. Every choice comes from `rng`, so
a seed gives the same arrangement.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track
from robin_studio.train.corpus.harmony import estimate_chords, estimate_key
from robin_studio.train.corpus.roles import melody_line
from robin_studio.score.idioms import bass_pitch, walking_line
from robin_studio.train.corpus.styles import CRASH, HIT_VELOCITY, REGISTERS, Section, Style

MAX_TUNE_BARS = 32
MIN_TUNE_BARS = 8

# Programs that sound an octave or so lower than a flute: their melody sits lower.
LOW_MELODY_PROGRAMS = {24, 25, 26, 27, 29, 30, 32, 33, 42, 43, 57, 58, 66, 67, 70, 87}
# Scale-degree moves that turn major into natural minor and back (pitch class offsets).
TO_MINOR = {4: -1, 9: -1, 11: -1}
TO_MAJOR = {3: +1, 8: +1, 10: +1}


@dataclass
class BarPlan:
    section_index: int
    section_name: str
    energy: float
    roles: tuple[str, ...]
    chords: list[tuple[int, tuple[int, ...]]]     # two per bar: (root pc, pcs)
    tune_bar: int | None                           # which bar of the tune's melody plays
    first_of_section: bool = False
    last_of_section: bool = False
    phrase_end: bool = False          # the 8th bar of a phrase inside a section: a small fill


@dataclass
class Arrangement:
    score: Score
    bars: list[BarPlan]
    style: str
    tempo_bpm: float
    key_tonic: int
    key_mode: str
    programs: dict[str, int]
    shape: list[str]
    extra: dict = field(default_factory=dict)


def _shift_mode(pitch: int, tonic: int, table: dict[int, int]) -> int:
    return pitch + table.get((pitch - tonic) % 12, 0)


def prepare_tune(piece: dict, stretch: int = 1) -> tuple[list[dict], int] | None:
    """The piece's parts cropped to at most MAX_TUNE_BARS (at an 8-bar line), and that length.
    `stretch=2` plays the tune in half time (each bar becomes two), as slow styles do with
    busy dance tunes."""
    n_bars = int(piece["n_bars"]) * stretch
    if n_bars < MIN_TUNE_BARS:
        return None
    keep = n_bars if n_bars <= MAX_TUNE_BARS else MAX_TUNE_BARS
    if keep < n_bars:
        keep -= keep % 8
    end = keep * 16
    parts = []
    for p in piece["parts"]:
        if p.get("is_drum"):
            continue
        f = p["notes"]
        notes = []
        for i in range(0, len(f), 4):
            s, d = f[i] * stretch, f[i + 1] * stretch
            if s < end:
                notes += [s, min(d, end - s), f[i + 2], f[i + 3]]
        if notes:
            parts.append({**p, "notes": notes})
    if not parts:
        return None
    return parts, keep


def notes_per_bar(piece: dict) -> float:
    """How busy the busiest part is: note onsets per bar."""
    best = 0
    for p in piece["parts"]:
        if not p.get("is_drum"):
            best = max(best, len({p["notes"][i] for i in range(0, len(p["notes"]), 4)}))
    return best / max(1, int(piece["n_bars"]))


def _pick_melody_part(parts: list[dict]) -> dict:
    def mean_pitch(p: dict) -> float:
        f = p["notes"]
        return sum(f[i] for i in range(2, len(f), 4)) / max(1, len(f) // 4)
    return max(parts, key=lambda p: (mean_pitch(p), len(p["notes"])))


def _octave_towards(pitches: list[int], center: int) -> int:
    """Octave shift (in semitones) that puts the median of `pitches` nearest to `center`."""
    if not pitches:
        return 0
    med = sorted(pitches)[len(pitches) // 2]
    return 12 * round((center - med) / 12)


def _expand_sections(shape: tuple[Section, ...], tune_bars: int) -> list[tuple[Section, int]]:
    out = []
    for sec in shape:
        if sec.bars == "tune":
            n = tune_bars
        elif sec.bars == "half":
            n = max(4, (tune_bars // 2) // 4 * 4)
        else:
            n = int(sec.bars)
        out.append((sec, n))
    return out


def _outro_chords(n: int, tonic: int, mode: str) -> list[tuple[int, tuple[int, ...]]]:
    third = 3 if mode == "minor" else 4
    tonic_ch = (tonic, (tonic, (tonic + third) % 12, (tonic + 7) % 12))
    sub_root = (tonic + 5) % 12
    sub = (sub_root, (sub_root, (sub_root + third) % 12, (sub_root + 7) % 12))
    dom_root = (tonic + 7) % 12
    dom = (dom_root, (dom_root, (dom_root + 4) % 12, (dom_root + 7) % 12))
    seq = {1: [tonic_ch, tonic_ch], 2: [sub, dom, tonic_ch, tonic_ch]}.get(n)
    if seq is None:
        seq = [sub, sub, dom, dom] * ((n - 1) // 2) + [tonic_ch, tonic_ch]
        seq = seq[-2 * n:]
    return seq


def plan_bars(shape: tuple[Section, ...], chords: list[tuple[int, tuple[int, ...]]], tune_bars: int,
              tonic: int, mode: str) -> list[BarPlan]:
    plans: list[BarPlan] = []
    sections = _expand_sections(shape, tune_bars)
    for si, (sec, n) in enumerate(sections):
        is_last_section = si == len(sections) - 1
        for b in range(n):
            frac = b / max(1, n - 1)
            energy = sec.energy_start + (sec.energy_end - sec.energy_start) * frac
            if sec.bars in ("tune", "half"):
                tune_bar = b
                ch = chords[2 * b: 2 * b + 2]
            elif sec.name == "outro" or is_last_section:
                tune_bar = None
                ch = _outro_chords(n, tonic, mode)[2 * b: 2 * b + 2]
            else:  # intros and interludes ride on the tune's opening (or closing) chords
                tune_bar = None
                start = 0 if si == 0 else max(0, tune_bars - n)
                ch = chords[2 * (start + b): 2 * (start + b) + 2] or chords[:2]
            plans.append(BarPlan(si, sec.name, round(energy, 3), sec.roles, list(ch), tune_bar,
                                 first_of_section=b == 0, last_of_section=b == n - 1,
                                 phrase_end=(b + 1) % 8 == 0 and b != n - 1))
    return plans


# -- voicing helpers ---------------------------------------------------------------------------

def _chord_pcs(root: int, pcs: tuple[int, ...], sevenths: bool, dominant_root: int) -> list[int]:
    pcs = list(pcs)
    if sevenths and len(pcs) == 3:
        third = (pcs[1] - root) % 12
        fifth = (pcs[2] - root) % 12
        if fifth == 6:
            seventh = 10          # half-diminished
        elif third == 3:
            seventh = 10          # minor seventh
        else:
            seventh = 10 if root == dominant_root else 11
        pcs.append((root + seventh) % 12)
    return pcs


def _seventh(chord: tuple[int, tuple[int, ...]], sevenths: bool, dominant_root: int
             ) -> tuple[int, tuple[int, ...]]:
    root, pcs = chord
    return root, tuple(_chord_pcs(root, pcs, sevenths, dominant_root))


def _voice(pcs: list[int], center: int, prev: list[int] | None) -> list[int]:
    """A close voicing of `pcs` near `center`, moving as little as possible from `prev` (the
    engine's own voicing, `score.idioms.voice`: the corpus and the app voice chords alike)."""
    from robin_studio.score.idioms import voice

    return list(voice(tuple(pcs), center, tuple(prev) if prev else None))


def _near(pc: int, center: int) -> int:
    p = center - 6
    while p % 12 != pc % 12:
        p += 1
    return p


def _human(velocity: float, step: int, rng: random.Random) -> int:
    """A player's velocity: a little louder on the downbeat and mid-bar, never twice the same."""
    accent = 6 if step % 16 == 0 else (3 if step % 8 == 0 else (0 if step % 4 == 0 else -3))
    return int(max(1, min(127, round(velocity + accent + rng.randint(-5, 5)))))


# -- the arranger --------------------------------------------------------------------------------

def arrange(piece: dict, style: Style, rng: random.Random) -> Arrangement | None:
    stretch = 2 if notes_per_bar(piece) >= 6 and rng.random() < style.half_time else 1
    prepared = prepare_tune(piece, stretch)
    if prepared is None:
        return None
    parts, tune_bars = prepared
    # The key is estimated again here (not read from the parse cache) so that improvements
    # to the estimator reach cached pieces; it uses the cropped tune, which ends where we end.
    tonic, mode = estimate_key(parts)
    # Mode change first (on the source key), then transposition.
    table = None
    if style.mode == "minor" and mode == "major":
        table, mode = TO_MINOR, "minor"
    elif style.mode == "major" and mode == "minor":
        table, mode = TO_MAJOR, "major"
    shift = rng.randint(-5, 6)
    new_tonic = (tonic + shift) % 12
    parts = [{**p, "notes": [v if i % 4 != 2 else
                             (_shift_mode(v, tonic, table) if table else v) + shift
                             for i, v in enumerate(p["notes"])]} for p in parts]
    tonic = new_tonic
    chords = estimate_chords(parts, tune_bars, tonic, mode)
    mel_part = _pick_melody_part(parts)
    mel = melody_line(mel_part["notes"])
    if len(mel) < 12:
        return None

    programs = {role: rng.choice(progs) for role, progs in style.palette.items()}
    # Alternatives (a tuple of patterns) are chosen once per piece: a band keeps its groove.
    bass_pats = {k: rng.choice(v) if isinstance(v, tuple) else v for k, v in style.bass.items()}
    comp_pats = {k: rng.choice(v) if isinstance(v, tuple) else v for k, v in style.comping.items()}
    shape = rng.choice(style.shapes)
    plans = plan_bars(shape, chords, tune_bars, tonic, mode)
    n_bars = len(plans)
    tempo = float(rng.randint(*style.tempo_range_bpm))
    dominant = (tonic + 7) % 12

    tracks: dict[str, list[Note]] = {r: [] for r in ("drums", "bass", "harmony", "melody", "texture")}
    fill = rng.choice(style.fills) if style.fills else None
    # Melody register: octave shift that centres the tune for the chosen instrument.
    mel_center = REGISTERS["melody"] - (10 if programs.get("melody") in LOW_MELODY_PROGRAMS else 0)
    mel_oct = _octave_towards([n[2] for n in mel], mel_center)
    mel_by_bar: dict[int, list[list[int]]] = {}
    for n in mel:
        mel_by_bar.setdefault(n[0] // 16, []).append(n)

    prev_voicing: list[int] | None = None
    prev_tex: list[int] | None = None
    crash_next = False
    for bi, plan in enumerate(plans):
        base = bi * 16
        final = bi == n_bars - 1
        level = "low" if plan.energy < 0.4 else ("mid" if plan.energy < 0.72 else "high")
        vel_scale = 0.72 + 0.32 * plan.energy
        chords_bar = plan.chords if len(plan.chords) == 2 else (plan.chords * 2)[:2]

        def chord_at(step: int) -> tuple[int, tuple[int, ...]]:
            return chords_bar[min(1, step // 8)]

        # Drums. A style with a pulse keeps its groove in every section after the first
        # (quiet ones play the "low" groove, which still carries the beat).
        drums_play = "drums" in plan.roles or (style.pulse and plan.section_index > 0)
        into_drop = (style.build and not final and bi + 1 < n_bars
                     and plans[bi + 1].section_name in ("drop", "peak")
                     and plans[bi + 1].section_index != plan.section_index)
        if drums_play and style.grooves.get(level) is not None:
            groove = dict(style.grooves[level])
            if final:
                groove = {d: "X..............." for d in list(groove)[:1]}
                groove[CRASH] = "X..............."
            elif into_drop:
                # A snare roll doubling its rate into the drop.
                groove = dict(style.build[-1])
            elif fill and ((plan.last_of_section and plan.energy >= 0.3)
                           or (plan.phrase_end and plan.energy >= 0.5)):
                # A full fill into a new section; a half-bar one (last beat) at a phrase end.
                cut = 8 if plan.last_of_section else 12
                merged = {d: p[:cut] + "." * (16 - cut) for d, p in groove.items()}
                for d, p in fill.items():
                    merged[d] = merged.get(d, "." * 16)[:cut] + p[cut:]
                groove = merged
            if crash_next and level != "low":
                groove[CRASH] = "X" + groove.get(CRASH, "." * 16)[1:]
            for drum, pat in groove.items():
                for s, c in enumerate(pat):
                    if c != ".":
                        v = _human(HIT_VELOCITY[c] * vel_scale, s, rng)
                        tracks["drums"].append(Note((base + s) / 4, 0.25, drum, v))
        crash_next = plan.last_of_section and not final and plans[bi + 1].energy >= 0.7

        # Bass.
        if "bass" in plan.roles:
            pattern = bass_pats["high" if plan.energy >= 0.55 else "low"]
            if final:
                pattern = [(0, 16, "R")]
            center = REGISTERS["bass"]
            nxt = plans[bi + 1].chords[0][0] if bi + 1 < n_bars else tonic
            walk = iter(walking_line(*_seventh(chords_bar[0], style.sevenths, dominant), nxt, center,
                                     sum(1 for e in pattern if e[2] == "W"), rng.randrange(12),
                                     mid=chords_bar[1]))
            for s, d, sym in pattern:
                root, pcs = chord_at(s)
                if sym == "W":
                    p = next(walk, _near(root, center))
                else:
                    target = chord_at(8)[0] if s < 8 and chord_at(8)[0] != root else nxt
                    p = bass_pitch(sym, root, pcs, target, center)
                tracks["bass"].append(Note((base + s) / 4, d / 4, p, _human(92 * vel_scale, s, rng)))

        # Harmony (comping).
        if "harmony" in plan.roles:
            pattern = comp_pats["high" if plan.energy >= 0.55 else "low"]
            if final:
                pattern = [(0, 16, "C")]
            for s, d, sym in pattern:
                root, pcs = chord_at(s)
                voicing = _voice(_chord_pcs(root, pcs, style.sevenths, dominant), REGISTERS["harmony"], prev_voicing)
                prev_voicing = voicing
                if sym == "C":
                    chosen = voicing
                elif sym == "L":   # a power chord: root and fifth
                    r = _near(root, REGISTERS["harmony"] - 10)
                    chosen = [r, r + 7]
                elif sym == "H":
                    chosen = voicing[1:]
                else:
                    chosen = [voicing[(int(sym) - 1) % len(voicing)]]
                v = _human(74 * vel_scale, s, rng)
                for p in chosen:
                    tracks["harmony"].append(Note((base + s) / 4, d / 4, p, v))

        # Melody: the tune itself.
        if "melody" in plan.roles and plan.tune_bar is not None:
            for s, d, p, _ in mel_by_bar.get(plan.tune_bar, []):
                off = s - plan.tune_bar * 16
                v = _human(96 * vel_scale, off, rng)
                tracks["melody"].append(Note((base + off) / 4, max(1, d) / 4, p + mel_oct, v))

        # Texture.
        if "texture" in plan.roles:
            # Pads sit under the tune: about 4 dB below it at the same energy.
            v = int(min(127, 50 * vel_scale))
            for half in range(2 if not final else 1):
                root, pcs = chords_bar[half]
                tex = _voice(list(pcs), REGISTERS["texture"], prev_tex)
                prev_tex = tex
                start = base + 8 * half
                length = 16 if final else 8
                if style.texture == "arp" and not final:
                    seq = tex + [tex[0] + 12]
                    for k in range(0, 8, 2):
                        tracks["texture"].append(Note((start + k) / 4, 0.5, seq[(k // 2) % len(seq)], v))
                elif style.texture == "pulse" and not final:
                    low = _near(root, REGISTERS["texture"] - 12)
                    for k in range(0, 8, 2):
                        tracks["texture"].append(Note((start + k) / 4, 0.5, low if k % 4 == 0 else low + 7, v))
                else:
                    for p in tex:
                        tracks["texture"].append(Note(start / 4, length / 4, p, v))

    score_tracks = []
    role_order = ("drums", "bass", "harmony", "melody", "texture")
    pans = {"drums": 0.0, "bass": 0.0, "harmony": -0.25, "melody": 0.1, "texture": 0.3}
    for role in role_order:
        notes = sorted((n for n in tracks[role] if 0 <= n.pitch <= 127),
                       key=lambda n: (n.start_beat, n.pitch, n.duration_beats, n.velocity))
        if not notes:
            continue
        program = 0 if role == "drums" else int(programs.get(role, 0))
        score_tracks.append(Track(Role(role), program, notes, name=role, pan=pans[role]))
    tempo_map = TempoMap.constant(tempo, total_beats=n_bars * 4)
    score = Score(tempo_map, score_tracks, key_tonic=tonic, key_mode=mode)
    return Arrangement(score, plans, style.name, tempo, tonic, mode,
                       {r: (0 if r == "drums" else programs.get(r, 0)) for r in tracks if tracks[r]},
                       [s.name for s in shape],
                       extra={"transpose": shift, "mode_changed": table is not None,
                              "tune_bars": tune_bars, "swing": style.swing,
                              "half_time": stretch == 2})
