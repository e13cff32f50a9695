"""Long-form structure measures on constructed scores with known answers, and the storyboard."""

from __future__ import annotations

import numpy as np
import pytest

from robin_studio.eval import longform
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track


def _score(bar_notes) -> Score:
    """bar_notes: per bar, a list of (step, pitch) melody notes."""
    notes = [Note(4.0 * b + s / 4.0, 0.25, p, 90) for b, bar in enumerate(bar_notes) for s, p in bar]
    return Score(TempoMap.constant(100.0, 4.0 * len(bar_notes)),
                 [Track(Role.MELODY, 73, notes), Track(Role.DRUMS, 0, [Note(0.0, 0.5, 36, 90)])])


def test_a_looped_theme_recurs_and_fresh_bars_do_not():
    rng = np.random.default_rng(0)
    theme = [[(int(s), int(p)) for s, p in zip(rng.choice(16, 5, replace=False), rng.integers(60, 80, 5))]
             for _ in range(8)]
    looped = _score(theme * 10)                      # 80 bars, an 8-bar theme over and over
    assert longform.long_range_recurrence(looped) == 1.0
    fresh = _score([[(int(s), int(p)) for s, p in zip(rng.choice(16, 5, replace=False), rng.integers(48, 90, 5))]
                    for _ in range(80)])
    assert longform.long_range_recurrence(fresh) < 0.05
    # a theme that only comes back within the planner's memory does not count as long-range
    near = _score([[(0, 60 + (b % 40))] for b in range(80)])   # repeats every 40 bars
    assert longform.long_range_recurrence(near, min_gap_bars=41) == 0.0
    # with a 32-bar gap, bars 40-79 restate bars 0-39; bars 32-39 have nothing that far back
    assert longform.long_range_recurrence(near, min_gap_bars=32) == pytest.approx(40 / 48)
    assert np.isnan(longform.long_range_recurrence(_score(theme)))   # too short to tell


def test_scene_coherence_rewards_music_that_returns_with_its_scene():
    a = [[(0, 60), (4, 64), (8, 67)]] * 4
    b = [[(2, 70), (6, 73), (10, 77), (14, 70)]] * 4
    score = _score(a + b + a + b + a)
    sections = [(0, 4), (4, 8), (8, 12), (12, 16), (16, 20)]
    assert longform.scene_coherence(score, sections, [0, 1, 0, 1, 0]) > 0.5
    assert longform.scene_coherence(score, sections, [0, 1, 1, 0, 0]) < 0.2   # scenes disagree


def test_the_long_storyboard_has_recurring_scenes():
    analysis, scenes = longform.long_storyboard()
    assert analysis.duration_s == pytest.approx(600.0)
    assert len(analysis.sections) == len(scenes) >= 15 and set(scenes) == {0, 1, 2, 3}
    gaps = np.diff([t.time_s for t in analysis.transitions])
    assert gaps.min() >= 4.0 - 1e-6 and gaps.max() <= 9.0 + 1e-6
    assert sum(len(s.shot_indices) for s in analysis.sections) == len(analysis.shots)
    assert analysis.sections[-1].end_s == pytest.approx(600.0)
