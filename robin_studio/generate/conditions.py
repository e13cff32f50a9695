"""From the picture (and the creator's timed wishes) to one `BarControls` per bar.

- energy: the motion curve averaged over the bar, contrast-stretched over the clip, then
  bent by the prompt's dynamics and timed wishes (quiet/loud spans, drops, builds);
- density: how busy the bar should be, from energy and the cuts and visual beats in it;
- accents: per beat, the accents a band typically plays at the bar's energy (what the model
  saw in training: there nearly every beat carries some accent), raised by the cuts (strong)
  and visual beats (light) that land in the bar;
- extra["hits"]: every hard cut in the bar (on its beat, or exactly where it falls when no
  tempo could put it on one), so the arrangement can mark it with an onset;
- sections: starts/ends from the analysis' sections snapped to bar lines, `section_id`;
- bars_to_end: 0 on the final bar, so the model writes a cadence;
- extra["semantic_embedding"]: the mean of the section's shot-label embeddings (e5 space),
  so a beach at sunset and a car chase pull the music different ways even with no prompt;
- extra["mute_roles"] / extra["velocity_scale"]: explicit wishes the arrangement obeys exactly
  (muted roles never sound; velocities scaled for soft/loud/builds/quiet spans);
- extra["prompt_energy"] / extra["prompt_section"]: the arc the prompt alone asks for
  (its dynamics and timed wishes on a picture of middle energy), so a baseline blind to the
  picture (`eval.baselines`, no-video) still gets the quiet spans, builds and drops.

Timed wishes tied to words ("drop at the title card", "calm when the sun comes up") are
resolved here: the anchor text is embedded with the same encoder as the shot labels and
matched to the most similar section ("intro" and "ending" mean the first and last section).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robin_studio.analysis.types import VideoAnalysis
from robin_studio.intent.types import Intent, TimedWish
from robin_studio.score.controls import BarControls
from robin_studio.score.metre import written_offset
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import ROLES, Role
from robin_studio.timing.grid import ON_BEAT_TOLERANCE_S
from robin_studio.timing.sections import sections_to_bars

SEMANTIC_KEY = "semantic_embedding"   # same key as robin_studio.model.conditioning.SEMANTIC_KEY
MUTE_KEY = "mute_roles"
HITS_KEY = "hits"                     # hard cuts in the bar: (beats into the bar, strong?)
HITS_BEFORE_KEY = "hits_before"       # off-beat hits just before the bar line (beats, < 0)
STRONG_HIT_POINTS_KEY = "strong_hit_points"   # the creator's strong hit points (beats into the bar)
HIT_PULL_BEATS = 0.25                 # notes this close to an off-beat hit are played with it
ON_BEAT_S = 0.06                      # a visual beat this close to a beat accents it
HIT_WEIGHT = 0.9                      # accents this strong (strong cuts, drops) get a cymbal
SOFT_HIT_WEIGHT = 0.75                # a soft hit point: an accent, no cymbal
VELOCITY_KEY = "velocity_scale"
DROP_KEY = "drop"                      # the bar an asked drop ("drops at 0:20") lands on
QUIET_KEY = "quiet"                    # a bar in an asked quiet span or breakdown
PROMPT_ENERGY_KEY = "prompt_energy"    # the bar's energy from the prompt alone (no picture)
PROMPT_SECTION_KEY = "prompt_section"  # (starts, ends): an asked drop (or resolve) starts a section
NEUTRAL_ENERGY = 0.5                   # the picture's energy when there is no picture

# Mean accent per beat of the bar (beats 1-4) at bar energies 0.1, 0.3, 0.5, 0.7, 0.9, measured
# on the corpus the shipped model learns from (`robin-studio corpus build --commercial-only
# --without openmsx`, held-out split, 7,646 bars; `score.controls` defines the field). In that
# music 87-100 % of beats carry some accent, so a bar whose beats all read 0 means "nobody
# plays on the beat" to the model: without this baseline a clip's bars between cuts were
# asked for a limp pulse, and librosa then heard a weaker, often wrong, beat.
TYPICAL_ACCENT_ENERGIES = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
TYPICAL_ACCENTS = np.array([
    [0.23, 0.04, 0.10, 0.04],
    [0.40, 0.07, 0.16, 0.08],
    [0.59, 0.18, 0.41, 0.23],
    [0.85, 0.44, 0.63, 0.47],
    [0.99, 0.69, 0.89, 0.72],
])


def typical_accents(energy: float, beats_per_bar: int = 4) -> np.ndarray:
    """The accents per beat a bar of this energy usually has (interpolated in energy)."""
    row = np.array([np.interp(float(energy), TYPICAL_ACCENT_ENERGIES, TYPICAL_ACCENTS[:, k])
                    for k in range(TYPICAL_ACCENTS.shape[1])])
    if beats_per_bar == row.size:
        return row
    # Other metres: the downbeat keeps beat 1's accent, the rest take the weak beats' mean.
    out = np.full(beats_per_bar, float(row[1:].mean()))
    out[0] = row[0]
    return out

def muted_roles(controls: BarControls | None) -> set[str]:
    """The role names a bar's wishes silence (`extra["mute_roles"]`); empty without controls."""
    if controls is None or not controls.extra:
        return set()
    return set(controls.extra.get(MUTE_KEY, ()))


INTRO_WORDS = {"intro", "beginning", "start", "opening", "the start", "the beginning"}
ENDING_WORDS = {"ending", "end", "outro", "finale", "the end", "credits", "end card",
                "end credits", "finish", "close"}
# ImageNet labels that a title card, a logo or on-screen text tends to get.
TEXTLIKE_LABELS = {"web site", "website", "book jacket", "menu", "envelope", "scoreboard",
                   "comic book", "street sign", "packet", "monitor", "screen", "television",
                   "digital clock", "rule", "slide rule", "crossword puzzle", "binder", "notebook"}
TITLE_WORDS = ("title", "logo", "text", "caption", "card", "name", "credits")


@dataclass
class _Span:
    """A shot standing in for a section when the analysis has none."""

    index: int
    start_s: float
    description: str = ""


@dataclass
class ResolvedWish:
    """A timed wish with its span in seconds on this clip."""

    kind: str
    start_s: float
    end_s: float
    roles: tuple[Role, ...] = ()
    source: TimedWish | None = field(default=None, repr=False)


def _section_spans(analysis: VideoAnalysis) -> list[tuple[float, float]]:
    if analysis.sections:
        return [(s.start_s, s.end_s) for s in analysis.sections]
    if analysis.shots:
        return [(s.start_s, s.end_s) for s in analysis.shots]
    return [(0.0, analysis.duration_s)]


_SHOT_VEC_CACHE: dict[tuple, np.ndarray] = {}


def shot_embeddings(analysis: VideoAnalysis) -> np.ndarray:
    """One e5 embedding per shot from its labels (zero rows where a shot has none).

    Cached per clip content and labels, so generating again (another seed, another prompt,
    a region) costs nothing; `Scorer.analyze` fills the cache right after the analysis.
    """
    from robin_studio.intent.text_encoder import embed_shot_labels

    key = (analysis.content_key, tuple(tuple(lab for lab, _ in s.labels[:3]) for s in analysis.shots))
    vecs = _SHOT_VEC_CACHE.get(key)
    if vecs is None:
        vecs = embed_shot_labels([s.labels for s in analysis.shots])
        if len(_SHOT_VEC_CACHE) > 256:
            _SHOT_VEC_CACHE.clear()
        _SHOT_VEC_CACHE[key] = vecs
    return vecs


def _section_embeddings(analysis: VideoAnalysis) -> list[np.ndarray | None]:
    """Mean shot-label embedding per section (None where no shot has labels)."""
    spans = _section_spans(analysis)
    if not analysis.shots:
        return [None] * len(spans)
    shot_vecs = shot_embeddings(analysis)
    out: list[np.ndarray | None] = []
    sections = analysis.sections or []
    for i, (a, b) in enumerate(spans):
        if sections:
            idx = [j for j in sections[i].shot_indices if 0 <= j < len(analysis.shots)]
        else:
            idx = [i] if i < len(analysis.shots) else []
        if not idx:  # fall back on overlap in time
            idx = [j for j, s in enumerate(analysis.shots) if s.start_s < b and s.end_s > a]
        vecs = [shot_vecs[j] for j in idx if np.linalg.norm(shot_vecs[j]) > 0]
        if not vecs:
            out.append(None)
            continue
        v = np.mean(vecs, axis=0)
        n = float(np.linalg.norm(v))
        out.append((v / n).astype(np.float32) if n > 1e-9 else None)
    return out


def find_anchor_section(anchor_text: str, analysis: VideoAnalysis,
                        section_vecs: list[np.ndarray | None] | None = None) -> int:
    """The section a phrase like "the title card" or "sunrise" most likely means."""
    spans = _section_spans(analysis)
    text = anchor_text.strip().lower()
    if text in INTRO_WORDS or text.startswith("intro"):
        return 0
    if text in ENDING_WORDS or text.startswith(("end", "outro")):
        return len(spans) - 1
    if section_vecs is None:
        section_vecs = _section_embeddings(analysis)
    from robin_studio.intent.text_encoder import embed_text

    q = embed_text(f"a video shot of {text}")
    scores = np.full(len(spans), -1.0)
    for i, v in enumerate(section_vecs):
        if v is not None and q is not None:
            scores[i] = float(v @ q)
    if any(w in text for w in TITLE_WORDS) and analysis.sections:
        # Titles are flat, text-like pictures: help the labels with what ImageNet calls them.
        for i, sec in enumerate(analysis.sections):
            labels = {lab.split(",")[0].strip().lower()
                      for j in sec.shot_indices if 0 <= j < len(analysis.shots)
                      for lab, _ in analysis.shots[j].labels[:3]}
            if labels & TEXTLIKE_LABELS:
                scores[i] += 0.1
    if np.all(scores < -0.5):
        return 0 if "title" in text else len(spans) - 1
    return int(np.argmax(scores))


def _cut_time(anchor_text: str, analysis: VideoAnalysis) -> float | None:
    """The time of the cut an anchor names by number ("cut 1" the first, "cut -1" the last;
    written by the prompt parser for "after the first cut"), or None."""
    import re

    m = re.fullmatch(r"cut (-?\d+)", anchor_text or "")
    cuts = [float(s.start_s) for s in analysis.shots[1:]]
    if m is None or not cuts:
        return None
    n = int(m.group(1))
    i = n - 1 if n > 0 else n
    return cuts[i] if -len(cuts) <= i < len(cuts) else None


def resolve_wishes(intent: Intent | None, analysis: VideoAnalysis,
                   section_vecs: list[np.ndarray | None] | None = None) -> list[ResolvedWish]:
    """Turn the intent's timed wishes into spans in seconds on this clip."""
    if intent is None or not intent.timed_wishes:
        return []
    dur = analysis.duration_s
    spans = _section_spans(analysis)
    out: list[ResolvedWish] = []
    for w in intent.timed_wishes:
        start, end = w.start_s, w.end_s
        if w.relative_to_end:
            start = dur - (start or 0.0)
            end = dur - (end or 0.0)
        cut = _cut_time(w.anchor_text, analysis)
        if cut is not None:                    # "drums after the first cut" (anchor "cut 1")
            if w.kind == "build":
                start, end = max(0.0, cut - 8.0), cut
            elif start == 0.0:
                start, end = 0.0, cut          # until the cut
            else:
                start, end = cut, None         # at the cut, and from it on
        elif w.anchor_text:
            i = find_anchor_section(w.anchor_text, analysis, section_vecs)
            a, b = spans[i]
            if w.kind == "mute" and start is None and end is None:
                start, end = a, b              # "no drums in the intro": that section
            elif w.kind == "mute" or (start == 0.0 and end is None):
                start, end = 0.0, a            # "no drums until the title card"
            elif w.kind == "build":
                start, end = (0.0 if i == 0 else spans[i - 1][0]), (b if i == len(spans) - 1 else a)
                if w.anchor_text in ENDING_WORDS or w.anchor_text == "ending":
                    start, end = 0.0, dur
            elif w.kind in ("quiet", "loud", "silence"):
                start, end = a, b
            else:                              # drop, resolve: a moment
                start, end = a, None
        if w.kind == "build" and start is None and end is None:
            start, end = 0.0, dur
        if start is None and end is not None:
            start = max(0.0, end - 8.0) if w.kind == "build" else 0.0
        if start is None:
            continue
        if end is None:
            end = dur if w.kind in ("quiet", "loud", "silence", "mute") else start
        start = float(np.clip(start, 0.0, dur))
        end = float(np.clip(end, start, dur))
        out.append(ResolvedWish(w.kind, start, end, tuple(w.roles), w))
    return out


def _bar_mean(curve: np.ndarray, hz: float, a_s: float, b_s: float) -> float:
    if curve.size == 0:
        return 0.5
    i0 = max(0, int(np.floor(a_s * hz)))   # a first bar cut in starts before 0 s
    i1 = max(i0 + 1, int(np.ceil(b_s * hz)))
    seg = curve[min(i0, curve.size - 1):min(i1, curve.size)]
    return float(seg.mean()) if seg.size else float(curve[-1])


def build_controls(analysis: VideoAnalysis, tempo_map: TempoMap, intent: Intent | None = None,
                   *, with_semantics: bool = True, hit_points=(), ignored_cuts_s=()
                   ) -> list[BarControls]:
    """One `BarControls` per bar of `tempo_map` (see the module docstring). `hit_points`
    (`timing.hits.HitPoint`) are hits like hard cuts (strong: with a cymbal; soft: an
    accent); cuts in `ignored_cuts_s` (demoted by the creator) get no hit."""
    from robin_studio.timing.hits import is_ignored

    n_bars = max(1, tempo_map.total_bars)
    bpb = tempo_map.beats_per_bar
    curve = np.asarray(analysis.motion_energy, dtype=np.float64)
    hz = float(analysis.motion_hz or 10.0)

    spans = _section_spans(analysis)
    section_vecs = _section_embeddings(analysis) if with_semantics else [None] * len(spans)
    sources = analysis.sections or [_Span(i, a) for i, (a, _) in enumerate(spans)]
    bar_sections = sections_to_bars(sources, tempo_map) or []
    bar_section = np.zeros(n_bars, dtype=int)
    for sid, bs in enumerate(bar_sections):
        bar_section[bs.bar_start:bs.bar_end] = sid
    # Semantics per bar section: the analysis sections it covers, weighted by time overlap.
    sec_vec: list[np.ndarray | None] = []
    for bs in bar_sections or [None]:
        t0 = tempo_map.bar_start_s(bs.bar_start) if bs else 0.0
        t1 = tempo_map.bar_start_s(bs.bar_end) if bs else analysis.duration_s
        acc = np.zeros(384, np.float64)
        for (a, b), v in zip(spans, section_vecs):
            w = max(0.0, min(b, t1) - max(a, t0))
            if v is not None and w > 0:
                acc += w * v
        n = float(np.linalg.norm(acc))
        sec_vec.append((acc / n).astype(np.float32) if n > 1e-9 else None)

    # Energy: raw motion mixed with its contrast-stretched version over the clip.
    raw = np.array([_bar_mean(curve, hz, tempo_map.bar_start_s(i), tempo_map.bar_start_s(i + 1))
                    for i in range(n_bars)])
    if curve.size:
        lo, hi = np.percentile(curve, [10, 90])
        stretched = np.clip((raw - lo) / max(hi - lo, 1e-6), 0.0, 1.0)
        energy = np.clip(0.5 * np.clip(raw * 1.5, 0, 1) + 0.5 * (0.15 + 0.75 * stretched), 0.0, 1.0)
    else:
        energy = np.full(n_bars, 0.5)
    # The prompt's arc is applied twice: to the picture's energy, and to a picture of middle
    # energy (`prompt_arc`, what a baseline blind to the picture is given).
    prompt_arc = np.full(n_bars, NEUTRAL_ENERGY)
    if intent is not None and intent.dynamics is not None:
        energy = 0.5 * energy + 0.5 * float(intent.dynamics)
        prompt_arc = 0.5 * prompt_arc + 0.5 * float(intent.dynamics)
    elif intent is not None and getattr(intent, "energy", None) is not None:
        # Tone words in any language ("alegre", "спокойная", "激しい": intent.energy) move the
        # picture's energy too, less than an asked loudness does.
        energy = np.clip(0.6 * energy + 0.4 * float(intent.energy), 0.0, 1.0)
        prompt_arc = np.clip(0.6 * prompt_arc + 0.4 * float(intent.energy), 0.0, 1.0)

    # Accents, event counts and hits per bar.
    accents = np.zeros((n_bars, bpb))
    events = np.zeros(n_bars)
    hits: list[list[tuple[float, bool]]] = [[] for _ in range(n_bars)]
    hits_before: list[list[float]] = [[] for _ in range(n_bars)]

    # A cut's hit goes on a beat only when the beat is on the cut (10 ms): a beat 40 ms, or
    # even half a frame, away is heard that far from the cut, so the hit goes exactly on
    # the cut instead (and the beat's notes with it, see Arrangement.hit_points). A visual
    # beat is a motion peak, less precise than a cut: it keeps a looser window.

    def mark(t: float, weight: float, hit: bool = False) -> None:
        if tempo_map.short_bars and tempo_map.bar_at(t) in tempo_map.short_bars:
            return mark_in_short_bar(t, weight, hit)
        beat = tempo_map.beat_at(t)
        b = int(round(beat))
        bar, within = divmod(b, bpb)
        on_beat = abs(tempo_map.seconds_at(b) - t) <= (ON_BEAT_TOLERANCE_S if hit else ON_BEAT_S)
        if 0 <= bar < n_bars:
            events[bar] += 1
            # Off the grid (a fixed tempo, cuts too close for any tempo) the beat hears
            # only a little of it; the hit below marks the cut where it happens.
            accents[bar, within] = max(accents[bar, within], weight if on_beat else 0.3 * weight)
        if hit:
            at = float(b) if on_beat else beat
            hbar, into = divmod(at, bpb)
            if 0 <= int(hbar) < n_bars:
                hits[int(hbar)].append((round(float(into), 4), weight >= HIT_WEIGHT))
            # The next bar must know of a hit just before its line, to let it sound.
            if not on_beat and bpb - into <= HIT_PULL_BEATS and 0 <= int(hbar) + 1 < n_bars:
                hits_before[int(hbar) + 1].append(round(float(into) - bpb, 4))

    def mark_in_short_bar(t: float, weight: float, hit: bool) -> None:
        """`mark` in a short bar (`score.metre`): in the music's beats, placed in the beats of
        the whole bar written for it that it plays (`written_offset`)."""
        bar, into = tempo_map.music_position(t)
        n = tempo_map.bar_beats(bar)
        within = int(round(into))
        on_beat = abs(tempo_map.music_seconds(bar, within) - t) <= (ON_BEAT_TOLERANCE_S if hit else ON_BEAT_S)
        if within >= n:                      # the next bar's line
            if on_beat:
                return mark(tempo_map.bar_start_s(bar + 1) + 1e-9, weight, hit)
            within = int(np.ceil(n)) - 1
        off = written_offset(n, bpb)
        if 0 <= bar < n_bars:
            events[bar] += 1
            accents[bar, within + off] = max(accents[bar, within + off], weight if on_beat else 0.3 * weight)
            if hit:
                at = float(within) if on_beat else into
                hits[bar].append((round(float(at) + off, 4), weight >= HIT_WEIGHT))
                if not on_beat and n - into <= HIT_PULL_BEATS and bar + 1 < n_bars:
                    hits_before[bar + 1].append(round(float(into) - n, 4))

    for tr in analysis.transitions:
        if 0.0 < tr.time_s < analysis.duration_s - 1e-3 and not is_ignored(tr.time_s, ignored_cuts_s):
            w = float(np.clip(0.6 + 0.4 * tr.strength, 0.0, 1.0))
            mark(tr.time_s, w, hit=tr.kind == "cut")
    for t in analysis.visual_beats_s:
        mark(float(t), 0.35)
    strong_points: list[list[float]] = [[] for _ in range(n_bars)]
    for h in hit_points:
        mark(float(h.time_s), 1.0 if h.strong else SOFT_HIT_WEIGHT, hit=True)
        if h.strong and tempo_map.bar_at(float(h.time_s)) in tempo_map.short_bars:
            bar, into = tempo_map.music_position(float(h.time_s))
            on = abs(tempo_map.music_seconds(bar, round(into)) - h.time_s) <= ON_BEAT_TOLERANCE_S
            if 0 <= bar < n_bars:
                off = written_offset(tempo_map.bar_beats(bar), bpb)
                strong_points[bar].append(round((float(round(into)) if on else into) + off, 4))
        elif h.strong:        # a strong hit point off the bar line brings the chord change
            beat = tempo_map.beat_at(float(h.time_s))
            on = abs(tempo_map.seconds_at(round(beat)) - h.time_s) <= ON_BEAT_TOLERANCE_S
            hbar, into = divmod(float(round(beat)) if on else beat, bpb)
            if 0 <= int(hbar) < n_bars:
                strong_points[int(hbar)].append(round(float(into), 4))

    mute = [set() for _ in range(n_bars)]
    # Velocity scaling makes asked dynamics audible whatever the generator plays.
    vel_scale = np.ones(n_bars)
    if intent is not None and intent.dynamics is not None:
        vel_scale[:] = 0.8 if intent.dynamics < 0.4 else 1.12 if intent.dynamics > 0.6 else 1.0
    section_start_extra = np.zeros(n_bars, dtype=bool)
    drop_bar = np.zeros(n_bars, dtype=bool)
    quiet_bar = np.zeros(n_bars, dtype=bool)
    for w in resolve_wishes(intent, analysis, section_vecs if with_semantics else None):
        # Spans snap to the nearest bar lines (music changes on bar lines), at least one bar.
        b0 = int(np.floor(tempo_map.beat_at(w.start_s) / bpb + 0.5))
        b1 = max(b0 + 1, int(np.floor(tempo_map.beat_at(w.end_s) / bpb + 0.5)))
        b0, b1 = int(np.clip(b0, 0, n_bars - 1)), int(np.clip(b1, 1, n_bars))
        if w.kind == "quiet":
            quiet_bar[b0:b1] = True
            for e in (energy, prompt_arc):
                e[b0:b1] = np.minimum(e[b0:b1], 0.2)
            vel_scale[b0:b1] = np.minimum(vel_scale[b0:b1], 0.6)
        elif w.kind == "silence":
            energy[b0:b1] = prompt_arc[b0:b1] = 0.0
            for i in range(b0, b1):
                mute[i] |= set(ROLES)
        elif w.kind == "mute":
            for i in range(b0, b1 if w.end_s > w.start_s else b0):
                mute[i] |= set(w.roles)
        elif w.kind == "loud":
            for e in (energy, prompt_arc):
                e[b0:b1] = np.maximum(e[b0:b1], 0.85)
            vel_scale[b0:b1] = np.maximum(vel_scale[b0:b1], 1.15)
        elif w.kind == "build":
            ramp = np.linspace(0.25, 0.95, max(1, b1 - b0))
            for e in (energy, prompt_arc):
                e[b0:b1] = 0.3 * e[b0:b1] + 0.7 * ramp
            vel_scale[b0:b1] *= np.linspace(0.7, 1.1, max(1, b1 - b0))
        elif w.kind in ("drop", "resolve"):
            # Half a beat of grace: a wish at 0:45 belongs to the bar whose line is just after it.
            bar = int((tempo_map.beat_at(w.start_s) + 0.5) // tempo_map.beats_per_bar)
            bar = int(np.clip(bar, 0, n_bars - 1))
            section_start_extra[bar] = True
            accents[bar, 0] = 1.0
            after = slice(bar, min(n_bars, bar + 4))
            for e in (energy, prompt_arc):
                if w.kind == "drop":
                    e[after] = np.maximum(e[after], 0.95)
                    if bar >= 1:   # a breath before the drop makes it land
                        e[bar - 1] = min(e[bar - 1], 0.45)
                else:
                    e[after] = np.clip(e[after], 0.35, 0.65)
            drop_bar[bar] = drop_bar[bar] or w.kind == "drop"

    # Cuts and visual beats raise the band's usual accents; they never lower them.
    for i in range(n_bars):
        accents[i] = np.maximum(accents[i], typical_accents(energy[i], bpb))

    controls: list[BarControls] = []
    for i in range(n_bars):
        sid = int(bar_section[i])
        start = bool(i == 0 or bar_section[i] != bar_section[i - 1] or section_start_extra[i])
        end = bool(i == n_bars - 1 or bar_section[i + 1] != bar_section[i]
                   or (i + 1 < n_bars and section_start_extra[i + 1]))
        density = float(np.clip(0.2 + 0.6 * energy[i] + 0.08 * events[i], 0.0, 1.0))
        extra: dict = {"start_s": tempo_map.bar_start_s(i), "end_s": tempo_map.bar_start_s(i + 1)}
        if sec_vec[sid] is not None:
            extra[SEMANTIC_KEY] = sec_vec[sid]
        if mute[i]:
            extra[MUTE_KEY] = sorted(r.value for r in mute[i])
        if hits[i]:
            extra[HITS_KEY] = sorted(hits[i])
        if hits_before[i]:
            extra[HITS_BEFORE_KEY] = sorted(hits_before[i])
        if strong_points[i]:
            extra[STRONG_HIT_POINTS_KEY] = sorted(strong_points[i])
        if vel_scale[i] != 1.0:
            extra[VELOCITY_KEY] = float(vel_scale[i])
        if drop_bar[i]:
            extra[DROP_KEY] = True
        if quiet_bar[i]:
            extra[QUIET_KEY] = True
        extra[PROMPT_ENERGY_KEY] = float(np.clip(prompt_arc[i], 0.0, 1.0))
        asked_start, asked_end = bool(section_start_extra[i]), bool(i + 1 < n_bars and section_start_extra[i + 1])
        if asked_start or asked_end:
            extra[PROMPT_SECTION_KEY] = (asked_start, asked_end)
        controls.append(BarControls(
            bar_index=i, energy=float(np.clip(energy[i], 0.0, 1.0)), density=density,
            section_start=start, section_end=end,
            accents=tuple(float(a) for a in accents[i]),
            bars_to_end=n_bars - 1 - i, section_id=sid, extra=extra))
    return controls
