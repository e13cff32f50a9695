"""Long-form structure: does a 10-minute score keep recurring themes, or wander?

The planner remembers the last 31 bars (its KV-cache window), so anything a piece repeats
from further back it has to bring back on its own. This module builds a constructed
10-minute storyboard whose scenes recur (beach, car chase, beach, church, car chase, ...,
with cuts every 4-9 s and one section per scene), scores it with a system, and measures on
the score:

- long-range recurrence: the share of bars (from bar 32 on) that restate a bar at least
  32 bars earlier, i.e. beyond the planner's memory. Two bars restate each other when their
  sets of pitched notes (role, 16th step in the bar, pitch) overlap with Jaccard >= 0.5. The
  same on the melody alone says whether tunes come back, not only accompaniment patterns.
- scene coherence: mean similarity (cosine of `metrics_music.bar_features` averaged over the
  section) between sections showing the same scene, minus that between sections showing
  different scenes. Above 0: music follows the picture's returns.

A random-latent system should score near 0 recurrence, a looped pattern near 1; music a
listener would call structured sits between, with recurrences that follow the scenes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from robin_studio.analysis.types import Section, Shot, Transition, VideoAnalysis
from robin_studio.eval import metrics_music as mm
from robin_studio.score.types import Role, Score

LONG_S = 600.0
MIN_GAP_BARS = 32            # beyond the planner's 31-bar memory
RESTATE_JACCARD = 0.5
SCENES: tuple[list[tuple[str, float]], ...] = (
    [("seashore, coast", 0.6), ("sandbar", 0.2)],
    [("sports car, sport car", 0.6), ("racer, race car", 0.3)],
    [("church, church building", 0.6), ("altar", 0.2)],
    [("valley, vale", 0.6), ("alp", 0.3)],
)
SCENE_ORDER = (0, 1, 0, 2, 1, 0, 3, 1, 0, 2, 3, 0)   # the order scenes come back in
SHOTS_PER_SCENE = 6


def long_storyboard(duration_s: float = LONG_S, seed: int = 0) -> tuple[VideoAnalysis, list[int]]:
    """A constructed analysis with recurring scenes, and the scene of each section."""
    rng = np.random.default_rng(seed)
    bounds = [0.0]
    while bounds[-1] + 9.0 < duration_s - 4.0:
        bounds.append(round(bounds[-1] + float(rng.uniform(4.0, 9.0)), 3))
    bounds.append(duration_s)
    shots, sections, scene_of_section = [], [], []
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        scene = SCENE_ORDER[(i // SHOTS_PER_SCENE) % len(SCENE_ORDER)]
        motion = (0.2, 0.8, 0.35, 0.5)[scene]
        shots.append(Shot(i, a, b, motion=motion, labels=list(SCENES[scene])))
        if i % SHOTS_PER_SCENE == 0:
            sections.append(Section(len(sections), a, 0.0, []))
            scene_of_section.append(scene)
        sections[-1].shot_indices.append(i)
        sections[-1].duration_s = b - sections[-1].start_s
    hz = 10.0
    t = np.arange(int(duration_s * hz)) / hz
    motion = np.array([shots[min(len(shots) - 1, int(np.searchsorted(bounds, x, side="right")) - 1)].motion
                       for x in t])
    transitions = [Transition("cut", s, s, int(round(s * 25)), 1.0 if k % SHOTS_PER_SCENE == 0 else 0.7)
                   for k, s in enumerate(bounds[1:-1], start=1)]
    analysis = VideoAnalysis(
        path="constructed-long.mp4", content_key=f"constructed-long-{duration_s}-{seed}",
        duration_s=duration_s, fps=25.0, width=320, height=180, transitions=transitions,
        shots=shots, sections=sections, motion_hz=hz, motion_energy=motion.tolist(),
        visual_beats_s=[])
    return analysis, scene_of_section


def _bar_note_sets(score: Score, roles: Sequence[Role] | None = None) -> list[frozenset]:
    bpb = score.beats_per_bar
    sets: list[set] = [set() for _ in range(mm.n_bars(score))]
    for t in score.tracks:
        if t.is_drums or (roles is not None and t.role not in roles):
            continue
        for n in t.notes:
            b = int(n.start_beat // bpb)
            if 0 <= b < len(sets):
                sets[b].add((t.role.value, int(round((n.start_beat - b * bpb) * 4)), n.pitch))
    return [frozenset(s) for s in sets]


def long_range_recurrence(score: Score, min_gap_bars: int = MIN_GAP_BARS,
                          roles: Sequence[Role] | None = None,
                          threshold: float = RESTATE_JACCARD) -> float:
    """Share of bars restating (Jaccard >= threshold) a bar at least `min_gap_bars` earlier;
    bars with no note of the roles are left out. nan for a piece too short to tell."""
    sets = _bar_note_sets(score, roles)
    hits = []
    for i in range(min_gap_bars, len(sets)):
        if not sets[i]:
            continue
        hits.append(any(len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold
                        for j in range(i - min_gap_bars + 1) if sets[j]))
    return float(np.mean(hits)) if hits else float("nan")


def scene_coherence(score: Score, section_bars: Sequence[tuple[int, int]],
                    scene_of_section: Sequence[int]) -> float:
    """Same-scene minus different-scene similarity of non-adjacent sections (see above)."""
    f = mm.bar_features(score)
    means = [f[a:b].mean(axis=0) if b > a else None for a, b in section_bars]
    same, other = [], []
    for i, j in itertools.combinations(range(len(means)), 2):
        if j == i + 1 or means[i] is None or means[j] is None:
            continue
        (same if scene_of_section[i] == scene_of_section[j] else other).append(
            mm._cos(means[i], means[j]))
    if not same or not other:
        return float("nan")
    return float(np.mean(same) - np.mean(other))


def measure(scorer, prompt: str = "cinematic orchestral score", seed: int = 0) -> dict[str, float]:
    """Score the 10-minute storyboard with `scorer` (an engine `Scorer`) and measure it."""
    analysis, scenes = long_storyboard()
    piece = scorer.generate(analysis, prompt, seed=seed).result()
    tm = piece.score.tempo_map
    n = piece.score.total_bars
    section_bars = []
    for k, sec in enumerate(analysis.sections):
        a = min(n, max(0, int(round(tm.beat_at(sec.start_s) / tm.beats_per_bar))))
        b = min(n, max(a, int(round(tm.beat_at(sec.end_s) / tm.beats_per_bar))))
        section_bars.append((a, b))
    return {
        "bars": float(n),
        "recurrence": long_range_recurrence(piece.score),
        "melody_recurrence": long_range_recurrence(piece.score, roles=[Role.MELODY]),
        "scene_coherence": scene_coherence(piece.score, section_bars, scenes),
    }
