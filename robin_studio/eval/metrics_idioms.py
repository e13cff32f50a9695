"""Idioms and form: does each style play like itself? Pure functions of a `Score` (and, for the
loudness arc, of the rendered audio), the measurement side of issue 14.

Every definition is written so a musician can check it by reading a score:

- **Groove bar**: a bar (after the intro, before the final bar) with at least 6 drum notes per
  4 beats *and* the style's drum idiom (`GROOVE_IDIOMS`): four-on-the-floor kicks (a kick on at
  least 3 of the 4 beats) for house/EDM/electronic; a backbeat (snare, clap or side stick on
  beat 2 or 4) for rock, pop, funk, hip-hop, boom-bap, lo-fi, corporate, synthwave; trap: at
  least 8 hi-hat notes and a snare or clap on beat 3 or on the backbeat; swing/jazz: at least 4
  ride, hi-hat or brush notes; trailer: at least 3 toms, taiko (low toms) or kicks; every other
  style: the 6 notes alone. The intro is the first 2 bars of a piece of up to 16 bars, the first
  4 of a longer one. Where the prompt asked for the pulse to rest, as the judge reads the
  prompt (not as our parser does), no groove is expected: a bar whose middle lies in an asked
  quiet span ("quiet for the first 10 seconds", a breakdown), and the written break of up to
  2 bars before an asked drop ("drops at 0:20"); those bars are left out of the count.
- **Bass idiom** (`BASS_IDIOMS`): walking (jazz, swing): a bar with at least one bass note per
  beat, 3 or more pitch classes, and a median step of at most a fourth; ostinato (trailer,
  thriller): a bar whose pitched figure of 3 or more notes in the bass or texture part repeats
  the previous bar's (same onsets within a 16th, same intervals, transposition allowed);
  pulse (EDM, house, synthwave, funk, trap): a bar with at least one bass note per beat; drone
  (ambient): a bar covered end to end by one held bass or texture note.
- **Chords**: each half bar's pitch-class profile of the bass, harmony and texture parts
  (duration-weighted, the bass counted 1.5 times) is matched (cosine) to triad and seventh
  chord templates on 12 roots; distinct labels are counted per 16 bars.
- **Clash**: two notes of different parts a semitone, minor ninth or a semitone plus octaves
  apart (|p1 - p2| mod 12 = 1) sounding together for more than 250 ms.
- **Short note**: a pitched note shorter than 30 ms once the tempo map turns beats into seconds.
- **Melody** (the melody part's top line): phrases split at a rest of at least one beat or after
  a note of 2 beats or more; the opening motif is the first 5 notes (4 intervals) of the first
  phrase that has them (4 notes if no phrase has 5). A later phrase *restates* it when some 5
  consecutive notes repeat its intervals exactly (any transposition), *varies* it when they
  keep its contour with every interval within 2 semitones, or invert it exactly.
- **Leaps**: consecutive melody notes more than 12 semitones apart, per 8 bars.
- **Short-term loudness** (EBU R128 / ITU-R BS.1770 K-weighting, 3 s windows every 0.5 s, no
  gating); an arc compares the mean of the windows centred in the first 25 % with the last 15 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robin_studio.score.types import Role, Score, Track

MIN_GROOVE_HITS = 6          # drum notes per 4 beats for a bar to carry a groove (issue 14)
MAX_BREAK_BARS = 2           # a written break before a drop may rest the pulse this long
CLASH_MIN_S = 0.25           # a semitone clash shorter than this is a passing note
SHORT_NOTE_S = 0.03          # pitched notes shorter than this are clicks, not notes

KICKS = {35, 36}
SNARES = {37, 38, 39, 40}    # side stick, snares, hand clap
HATS = {42, 44, 46}
RIDES = {51, 53, 59}
TOMS = {41, 43, 45, 47, 48, 50}

# style -> the drum idiom its groove bars must show (styles not listed: the 6 notes alone)
GROOVE_IDIOMS: dict[str, str] = {
    "edm": "four_on_floor", "house": "four_on_floor", "electronic": "four_on_floor",
    "rock": "backbeat", "pop": "backbeat", "funk": "backbeat", "hiphop": "backbeat",
    "boombap": "backbeat", "lofi": "backbeat", "corporate": "backbeat", "synthwave": "backbeat",
    "trap": "trap", "swing": "ride", "jazz": "ride", "trailer": "toms",
}
# style -> the bass idiom it has (styles not listed have none that is measured)
BASS_IDIOMS: dict[str, str] = {
    "jazz": "walking", "swing": "walking", "trailer": "ostinato", "thriller": "ostinato",
    "edm": "pulse", "house": "pulse", "synthwave": "pulse", "funk": "pulse", "trap": "pulse",
    "ambient": "drone",
}
# styles whose vocabulary allows held semitones (jazz voicings: 9ths, 13ths against the 7th)
CLASH_ALLOWED_STYLES = frozenset({"jazz", "swing"})
# styles where few chords are the idiom (pedal tones, drones)
FEW_CHORDS_STYLES = frozenset({"ambient"})


def _bpb(score: Score) -> int:
    return int(score.beats_per_bar or 4)


def n_bars(score: Score) -> int:
    end = max((n.end_beat for t in score.tracks for n in t.notes), default=0.0)
    return max(int(score.total_bars), int(math.ceil(end / _bpb(score) - 1e-9)))


def intro_bars(bars: int) -> int:
    return 2 if bars <= 16 else 4


def body_bars(score: Score) -> list[int]:
    """The bars a groove is expected in: after the intro, before the final bar."""
    bars = n_bars(score)
    return list(range(intro_bars(bars), max(intro_bars(bars), bars - 1)))


def asked_rest_bars(score: Score, quiet_spans_s=(), drops_s=()) -> set[int]:
    """Bars where the prompt let the pulse rest (see the module docstring): those whose middle
    lies in an asked quiet span (start_s, end_s), and the MAX_BREAK_BARS bars before the bar
    an asked drop lands on (half a beat of grace: a drop at a bar line's time belongs to it)."""
    tm, bpb = score.tempo_map, _bpb(score)
    out: set[int] = set()
    for b in range(n_bars(score)):
        middle = tm.seconds_at((b + 0.5) * bpb)
        if any(a <= middle <= e for a, e in quiet_spans_s):
            out.add(b)
    for t in drops_s:
        d = int((tm.beat_at(float(t)) + 0.5) // bpb)
        out.update(range(max(0, d - MAX_BREAK_BARS), d))
    return out


def groove_bars(score: Score, rests: set[int] = frozenset()) -> list[int]:
    """The body's bars less those where the prompt let the pulse rest."""
    return [b for b in body_bars(score) if b not in rests]


def _tracks(score: Score, roles: set[Role]) -> list[Track]:
    return [t for t in score.tracks if t.role in roles and t.notes]


def _near(pos: float, target: float, tol: float = 0.125) -> bool:
    return abs(pos - target) <= tol


# -- groove -----------------------------------------------------------------------------------
def drum_bar_ok(notes_in_bar: list[tuple[float, int]], bpb: int, idiom: str | None) -> bool:
    """`notes_in_bar`: (beat within the bar, GM drum key). True when the bar has enough drum
    notes and shows the idiom."""
    need = math.ceil(MIN_GROOVE_HITS * bpb / 4)
    if len(notes_in_bar) < need:
        return False
    if idiom is None:
        return True
    beats = range(bpb)
    if idiom == "four_on_floor":
        return sum(any(k in KICKS and _near(p, b) for p, k in notes_in_bar) for b in beats) >= min(3, bpb)
    backbeats = [b for b in (1, 3) if b < bpb]
    if idiom == "backbeat":
        return any(k in SNARES and any(_near(p, b) for b in backbeats) for p, k in notes_in_bar)
    if idiom == "trap":
        hats = sum(k in HATS for _, k in notes_in_bar)
        snare = any(k in SNARES and any(_near(p, b) for b in [*backbeats, 2]) for p, k in notes_in_bar)
        return hats >= 8 and snare
    if idiom == "ride":
        return sum(k in RIDES or k in HATS for _, k in notes_in_bar) >= 4
    if idiom == "toms":
        return sum(k in TOMS or k in KICKS for _, k in notes_in_bar) >= 3
    return True


def drum_bars(score: Score) -> dict[int, list[tuple[float, int]]]:
    bpb = _bpb(score)
    out: dict[int, list[tuple[float, int]]] = {}
    for t in _tracks(score, {Role.DRUMS}):
        for n in t.notes:
            b = int(n.start_beat // bpb)
            out.setdefault(b, []).append((n.start_beat - b * bpb, n.pitch))
    return out


def groove_presence(score: Score, style: str | None, rests: set[int] = frozenset()) -> float:
    """Share of the body's bars (less the asked `rests`, `asked_rest_bars`) that carry the
    style's groove (NaN for a piece with no such bar)."""
    body = groove_bars(score, rests)
    if not body:
        return float("nan")
    bars = drum_bars(score)
    idiom = GROOVE_IDIOMS.get(style or "")
    return float(np.mean([drum_bar_ok(bars.get(b, []), _bpb(score), idiom) for b in body]))


def longest_groove_gap(score: Score, style: str | None, rests: set[int] = frozenset()) -> int:
    """Longest run of body bars without the groove (the issue allows written breaks of 2);
    asked rests are left out of the count."""
    bars = drum_bars(score)
    idiom = GROOVE_IDIOMS.get(style or "")
    run = best = 0
    for b in groove_bars(score, rests):
        run = 0 if drum_bar_ok(bars.get(b, []), _bpb(score), idiom) else run + 1
        best = max(best, run)
    return best


# -- bass -------------------------------------------------------------------------------------
def _bar_notes(track: Track, bar: int, bpb: int):
    return sorted((n for n in track.notes if int(n.start_beat // bpb) == bar), key=lambda n: (n.start_beat, -n.pitch))


def _lowest_line(notes) -> list:
    """One note per onset (the lowest), for the bass line of a part that plays chords."""
    out = {}
    for n in notes:
        key = round(n.start_beat * 4) / 4
        if key not in out or n.pitch < out[key].pitch:
            out[key] = n
    return [out[k] for k in sorted(out)]


def walking_bar(notes, bpb: int) -> bool:
    line = _lowest_line(notes)
    if len(line) < bpb:
        return False
    if len({n.pitch % 12 for n in line}) < 3:
        return False
    steps = [abs(b.pitch - a.pitch) for a, b in zip(line, line[1:])]
    return bool(steps) and float(np.median(steps)) <= 5


def _figure(notes, bar: int, bpb: int) -> tuple | None:
    line = _lowest_line(notes)
    if len(line) < 3:
        return None
    onsets = tuple(round((n.start_beat - bar * bpb) * 4) for n in line)
    intervals = tuple(b.pitch - a.pitch for a, b in zip(line, line[1:]))
    return onsets, intervals


def bass_idiom_share(score: Score, idiom: str) -> float:
    """Share of the body's bars that play the bass idiom (see the module docstring)."""
    body = body_bars(score)
    bpb = _bpb(score)
    bass = _tracks(score, {Role.BASS})
    low = _tracks(score, {Role.BASS, Role.TEXTURE})
    if not body:
        return float("nan")
    hits = []
    for b in body:
        if idiom == "walking":
            hits.append(any(walking_bar(_bar_notes(t, b, bpb), bpb) for t in bass))
        elif idiom == "pulse":
            hits.append(any(len(_lowest_line(_bar_notes(t, b, bpb))) >= bpb for t in bass))
        elif idiom == "ostinato":
            ok = False
            for t in low:
                f0, f1 = _figure(_bar_notes(t, b - 1, bpb), b - 1, bpb), _figure(_bar_notes(t, b, bpb), b, bpb)
                ok = ok or (f0 is not None and f0 == f1)
            hits.append(ok)
        elif idiom == "drone":
            start, end = b * bpb, (b + 1) * bpb
            hits.append(any(n.start_beat <= start + 1e-6 and n.end_beat >= end - 1e-6
                            for t in low for n in t.notes))
        else:
            raise ValueError(f"unknown bass idiom {idiom!r}")
    return float(np.mean(hits))


# -- harmony ----------------------------------------------------------------------------------
CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "m": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8), "sus4": (0, 5, 7),
    "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "m7": (0, 3, 7, 10),
}
_PC_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _templates() -> tuple[list[str], np.ndarray]:
    names, rows = [], []
    for root in range(12):
        for q, steps in CHORD_QUALITIES.items():
            v = np.zeros(12)
            v[[(root + s) % 12 for s in steps]] = 1.0
            names.append(_PC_NAMES[root] + q)
            rows.append(v / np.linalg.norm(v))
    return names, np.asarray(rows)


_CHORD_NAMES, _CHORD_TEMPLATES = _templates()


def chord_label(profile: np.ndarray) -> str | None:
    p = np.asarray(profile, float)
    if p.sum() <= 0:
        return None
    scores = _CHORD_TEMPLATES @ (p / np.linalg.norm(p))
    return _CHORD_NAMES[int(np.argmax(scores))]


def chord_sequence(score: Score, segment_beats: float = 2.0) -> list[str | None]:
    """A chord label per `segment_beats` (None where no accompaniment sounds)."""
    total = n_bars(score) * _bpb(score)
    k = max(1, int(math.ceil(total / segment_beats)))
    prof = np.zeros((k, 12))
    for t in _tracks(score, {Role.BASS, Role.HARMONY, Role.TEXTURE}):
        w = 1.5 if t.role == Role.BASS else 1.0
        for n in t.notes:
            first, last = int(n.start_beat // segment_beats), int(math.ceil(n.end_beat / segment_beats)) - 1
            for s in range(max(0, first), min(k, last + 1)):
                overlap = min(n.end_beat, (s + 1) * segment_beats) - max(n.start_beat, s * segment_beats)
                if overlap > 0:
                    prof[s, n.pitch % 12] += w * overlap
    return [chord_label(p) for p in prof]


def distinct_chords_per_16_bars(score: Score) -> float:
    """Mean number of distinct chords in each 16 bars (a last stretch of 8+ bars counts,
    scaled to 16; a piece shorter than 8 bars is scaled as a whole)."""
    seq = chord_sequence(score)
    per_bar = max(1, int(round(_bpb(score) / 2.0)))
    bars = n_bars(score)
    counts = []
    for a in range(0, bars, 16):
        b = min(bars, a + 16)
        if b - a < 8 and counts:
            break
        labels = {c for c in seq[a * per_bar: b * per_bar] if c}
        counts.append(len(labels) * 16 / max(1, (b - a)) if b - a < 16 else len(labels))
    return float(np.mean(counts)) if counts else float("nan")


def longest_two_chord_stretch(score: Score) -> int:
    """Most consecutive bars using only two chord labels (issue 14: 'F and C7 for 23 bars')."""
    bpb = _bpb(score)
    seq = chord_sequence(score, float(bpb))
    best = 0
    for i in range(len(seq)):
        seen: set[str] = set()
        j = i
        while j < len(seq):
            if seq[j]:
                seen.add(seq[j])
            if len(seen) > 2:
                break
            j += 1
        best = max(best, j - i)
    return best


# -- clashes and short notes --------------------------------------------------------------------
def _seconds(score: Score, beats: np.ndarray) -> np.ndarray:
    tm = score.tempo_map
    return np.asarray([tm.seconds_at(float(b)) for b in beats])


@dataclass
class Clashes:
    count: int          # clashes held longer than CLASH_MIN_S
    total_s: float      # their summed duration
    longest_s: float
    per_minute: float


def clashes(score: Score) -> Clashes:
    """Semitone / minor-ninth clashes between notes of different pitched parts held > 250 ms."""
    tracks = [t for t in score.tracks if not t.is_drums and t.notes]
    spans = []
    for t in tracks:
        a = np.asarray([(n.start_beat, n.end_beat, n.pitch) for n in t.notes], float)
        s, e = _seconds(score, a[:, 0]), _seconds(score, a[:, 1])
        spans.append((s, e, a[:, 2]))
    found = []
    for i in range(len(spans)):
        for j in range(i + 1, len(spans)):
            s1, e1, p1 = spans[i]
            s2, e2, p2 = spans[j]
            overlap = np.minimum(e1[:, None], e2[None, :]) - np.maximum(s1[:, None], s2[None, :])
            semis = np.abs(p1[:, None] - p2[None, :]) % 12 == 1
            found += overlap[(overlap > CLASH_MIN_S) & semis].tolist()
    minutes = max(score.duration_s, 1e-9) / 60.0
    return Clashes(len(found), float(sum(found)), float(max(found, default=0.0)), len(found) / minutes)


def short_note_share(score: Score) -> float:
    notes = [(n.start_beat, n.end_beat) for t in score.tracks if not t.is_drums for n in t.notes]
    if not notes:
        return float("nan")
    a = np.asarray(notes, float)
    dur = _seconds(score, a[:, 1]) - _seconds(score, a[:, 0])
    return float(np.mean(dur < SHORT_NOTE_S))


# -- melody -----------------------------------------------------------------------------------
def melody_line(score: Score) -> list:
    """The melody part's top line: one note (the highest) per onset."""
    out = {}
    for t in _tracks(score, {Role.MELODY}):
        for n in t.notes:
            key = round(n.start_beat * 8) / 8
            if key not in out or n.pitch > out[key].pitch:
                out[key] = n
    return [out[k] for k in sorted(out)]


def phrases(line: list, rest_beats: float = 1.0, long_beats: float = 2.0) -> list[list]:
    out: list[list] = []
    for n in line:
        prev = out[-1][-1] if out else None
        if prev is None or n.start_beat - prev.end_beat >= rest_beats or prev.duration_beats >= long_beats:
            out.append([n])
        else:
            out[-1].append(n)
    return [p for p in out if p]


def _intervals(notes) -> tuple[int, ...]:
    return tuple(b.pitch - a.pitch for a, b in zip(notes, notes[1:]))


def matches_motif(motif: tuple[int, ...], candidate: tuple[int, ...]) -> str | None:
    """'restate', 'vary' or None for two interval sequences of the same length."""
    if len(motif) != len(candidate):
        return None
    if candidate == motif:
        return "restate"
    if candidate == tuple(-x for x in motif):
        return "vary"    # exact inversion
    same_contour = all(np.sign(a) == np.sign(b) for a, b in zip(motif, candidate))
    if same_contour and all(abs(a - b) <= 2 for a, b in zip(motif, candidate)):
        return "vary"
    return None


@dataclass
class MelodyForm:
    phrases: int
    median_phrase_notes: float
    leaps_per_8_bars: float
    motif_recurrence: float     # share of later phrases restating or varying the opening motif
    restated: int
    varied: int


def melody_form(score: Score) -> MelodyForm:
    line = melody_line(score)
    ph = phrases(line)
    bars = max(1, n_bars(score))
    leaps = sum(abs(b.pitch - a.pitch) > 12 for a, b in zip(line, line[1:]))
    median = float(np.median([len(p) for p in ph])) if ph else float("nan")
    size = 5 if any(len(p) >= 5 for p in ph) else 4
    first = next((i for i, p in enumerate(ph) if len(p) >= size), None)
    restated = varied = 0
    later = []
    if first is not None:
        motif = _intervals(ph[first][:size])
        later = [p for p in ph[first + 1:] if len(p) >= size]
        for p in later:
            iv = _intervals(p)
            kinds = {matches_motif(motif, iv[i:i + size - 1]) for i in range(len(iv) - size + 2)}
            if "restate" in kinds:
                restated += 1
            elif "vary" in kinds:
                varied += 1
    recurrence = (restated + varied) / len(later) if later else float("nan")
    return MelodyForm(len(ph), median, leaps * 8.0 / bars, float(recurrence), restated, varied)


# -- loudness ---------------------------------------------------------------------------------
def k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """BS.1770 K-weighting as two biquads (b, a) at any rate (libebur128's design)."""
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (np.array([(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]),
             np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]))
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    d = 1 + k / q + k * k
    highpass = (np.array([1.0, -2.0, 1.0]), np.array([1.0, 2 * (k * k - 1) / d, (1 - k / q + k * k) / d]))
    return [shelf, highpass]


def short_term_loudness(audio: np.ndarray, sample_rate: int, window_s: float = 3.0,
                        hop_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(window centres in s, LUFS) of the K-weighted signal, no gating (silence -> -inf floor
    of -120)."""
    from scipy.signal import lfilter

    x = np.asarray(audio, float)
    if x.ndim == 1:
        x = x[:, None]
    for b, a in k_weighting(sample_rate):
        x = lfilter(b, a, x, axis=0)
    power = (x ** 2).sum(axis=1)
    w, h = int(window_s * sample_rate), int(hop_s * sample_rate)
    if len(power) < w:
        w = len(power)
    csum = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, max(1, len(power) - w + 1), max(1, h))
    ms = (csum[starts + w] - csum[starts]) / max(1, w)
    lufs = -0.691 + 10 * np.log10(np.maximum(ms, 1e-12))
    return (starts + w / 2) / sample_rate, lufs


def region_loudness(times: np.ndarray, lufs: np.ndarray, a: float, b: float, window_s: float = 3.0) -> float:
    """Power mean of the windows lying wholly inside [a, b] (else those centred in it, else
    the nearest one), so a quiet region is not blurred by the loud windows straddling its edge."""
    inside = (times - window_s / 2 >= a - 1e-6) & (times + window_s / 2 <= b + 1e-6)
    sel = inside if inside.any() else (times >= a) & (times <= b)
    if not sel.any():
        sel = np.zeros(len(times), bool)
        sel[int(np.argmin(np.abs(times - (a + b) / 2)))] = True
    return float(10 * np.log10(np.mean(10 ** (lufs[sel] / 10))))


def build_arc_db(audio: np.ndarray, sample_rate: int) -> float:
    """Short-term loudness of the last 15 % minus the first 25 % (issue 14: >= 6 dB for a build)."""
    t, l = short_term_loudness(audio, sample_rate)
    dur = len(audio) / sample_rate
    return region_loudness(t, l, dur * 0.85, dur) - region_loudness(t, l, 0.0, dur * 0.25)


def quiet_start_db(audio: np.ndarray, sample_rate: int, seconds: float) -> float:
    """Loudness of the rest minus the first `seconds` (issue 14: >= 6 dB)."""
    t, l = short_term_loudness(audio, sample_rate)
    dur = len(audio) / sample_rate
    return region_loudness(t, l, seconds, dur) - region_loudness(t, l, 0.0, seconds)


def drop_db(audio: np.ndarray, sample_rate: int, at_s: float, span_s: float = 4.0) -> float:
    """Loudness of the `span_s` after a drop minus the `span_s` before it."""
    t, l = short_term_loudness(audio, sample_rate, window_s=1.0, hop_s=0.25)
    return region_loudness(t, l, at_s, at_s + span_s, 1.0) - region_loudness(t, l, at_s - span_s, at_s, 1.0)


def idiom_metrics(score: Score, style: str | None, quiet_spans_s=(), drops_s=()) -> dict[str, float]:
    """Every score-side figure of the "Idioms and form" section for one piece; the asked
    quiet spans and drops (in seconds, as the judge reads the prompt) rest the pulse."""
    m: dict[str, float] = {}
    rests = asked_rest_bars(score, quiet_spans_s, drops_s)
    m["groove_presence"] = groove_presence(score, style, rests)
    m["groove_longest_gap"] = (float(longest_groove_gap(score, style, rests)) if groove_bars(score, rests)
                               else float("nan"))
    idiom = BASS_IDIOMS.get(style or "")
    m["bass_idiom_share"] = bass_idiom_share(score, idiom) if idiom else float("nan")
    m["chords_per_16_bars"] = distinct_chords_per_16_bars(score)
    m["two_chord_stretch_bars"] = float(longest_two_chord_stretch(score))
    c = clashes(score)
    m["clashes_over_250ms"] = float(c.count)
    m["clash_longest_s"] = c.longest_s
    m["clashes_per_minute"] = c.per_minute
    m["short_note_share"] = short_note_share(score)
    f = melody_form(score)
    m["motif_recurrence"] = f.motif_recurrence
    m["median_phrase_notes"] = f.median_phrase_notes
    m["leaps_per_8_bars"] = f.leaps_per_8_bars
    m["phrases"] = float(f.phrases)
    return m
