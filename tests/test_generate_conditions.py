"""Per-bar conditions from the picture: accents on cuts, sections, energy from motion,
bars to the end, shot semantics, and timed wishes tied to the picture."""

from __future__ import annotations

import numpy as np
import pytest

from robin_studio.generate.conditions import (MUTE_KEY, SEMANTIC_KEY, build_controls, typical_accents,
                                              find_anchor_section, resolve_wishes)
from robin_studio.intent.parse import parse_prompt
from robin_studio.score.tempo_map import TempoMap

from test_generate_engine import make_analysis

BPM = 120.0   # 2 s a bar: the cuts at 4.0 and 9.5 s fall on bar 2 beat 1 and bar 4 beat 4


@pytest.fixture(scope="module")
def setup():
    analysis = make_analysis(16.0, (4.0, 9.5))
    tm = TempoMap.constant(BPM, total_beats=32)
    return analysis, tm


def test_one_control_per_bar_with_bars_to_end(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm)
    assert [x.bar_index for x in c] == list(range(8))
    assert [x.bars_to_end for x in c] == list(range(7, -1, -1))


def test_cuts_become_accents_on_their_beats(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm)
    assert c[2].accents[0] >= 0.9                 # cut at 4.0 s = bar 2, beat 1
    assert c[4].accents[3] >= 0.9                 # cut at 9.5 s = bar 4, beat 4
    # visual beat at 2.0 s: lighter, it only lifts beat 1 to 0.35 if the band's usual is below
    assert c[1].accents[0] == pytest.approx(max(0.35, typical_accents(c[1].energy)[0]))
    # a bar with no event keeps the accents a band plays at its energy (never all zero:
    # in the training music 87-100 % of beats carry an accent)
    assert c[0].accents == pytest.approx(tuple(typical_accents(c[0].energy)))
    assert min(c[0].accents) > 0.0


def test_typical_accents_follow_energy_with_a_strong_downbeat():
    quiet, loud = typical_accents(0.1), typical_accents(0.9)
    assert np.all(loud > quiet)
    for row in (quiet, typical_accents(0.5), loud):
        assert row[0] == row.max() and row[2] >= max(row[1], row[3])   # 1 > 3 > 2, 4
    assert typical_accents(0.7, beats_per_bar=3)[0] == pytest.approx(typical_accents(0.7)[0])


def test_sections_follow_shots(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm)
    starts = [x.bar_index for x in c if x.section_start]
    assert starts == [0, 2, 5]                    # 9.5 s rounds to the bar line at 10 s
    assert [x.section_id for x in c] == [0, 0, 1, 1, 1, 2, 2, 2]
    assert [x.bar_index for x in c if x.section_end] == [1, 4, 7]


def test_energy_follows_motion(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm)
    busy = np.mean([x.energy for x in c[2:4]])
    calm = np.mean([x.energy for x in c[6:8]])
    assert busy > calm + 0.3
    assert c[3].density > c[7].density


def test_shot_semantics_reach_every_bar(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm)
    vecs = [x.extra[SEMANTIC_KEY] for x in c]
    assert all(v.shape == (384,) and abs(np.linalg.norm(v) - 1) < 1e-4 for v in vecs)
    assert np.array_equal(vecs[0], vecs[1]) and not np.array_equal(vecs[1], vecs[2])


def test_anchors_find_their_sections(setup):
    analysis, _ = setup
    assert find_anchor_section("title card", analysis) == 2
    assert find_anchor_section("the beach at sunset", analysis) == 0
    assert find_anchor_section("the car chase", analysis) == 1
    assert find_anchor_section("intro", analysis) == 0
    assert find_anchor_section("ending", analysis) == 2


def test_wishes_resolve_to_spans(setup):
    analysis, _ = setup
    w = resolve_wishes(parse_prompt("drop at the car chase, quiet for the last 3 seconds", embed=False),
                       analysis)
    got = {x.kind: (x.start_s, x.end_s) for x in w}
    assert got["drop"] == (4.0, 4.0)
    assert got["quiet"] == (13.0, 16.0)


def test_wishes_change_the_bars(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm, parse_prompt("no drums until the title card, drop at 0:12",
                                                  embed=False))
    assert all("drums" in x.extra.get(MUTE_KEY, ()) for x in c[:5])
    assert all(MUTE_KEY not in x.extra for x in c[5:])
    assert c[6].energy >= 0.95 and c[6].section_start and c[6].accents[0] == 1.0
    assert c[5].energy <= 0.45                      # a breath before the drop


def test_dynamics_reach_the_velocities(setup):
    from robin_studio.generate.conditions import VELOCITY_KEY

    analysis, tm = setup
    soft = build_controls(analysis, tm, parse_prompt("soft and gentle", embed=False))
    loud = build_controls(analysis, tm, parse_prompt("loud and powerful", embed=False))
    build = build_controls(analysis, tm, parse_prompt("builds to the end", embed=False))
    assert all(c.extra[VELOCITY_KEY] < 1 for c in soft)
    assert all(c.extra[VELOCITY_KEY] > 1 for c in loud)
    ramp = [c.extra.get(VELOCITY_KEY, 1.0) for c in build]
    assert ramp == sorted(ramp) and ramp[0] < 0.8 and ramp[-1] > 1.0
    assert build[-1].energy > build[0].energy + 0.3


def test_every_hard_cut_is_a_hit_on_its_beat_or_exactly_where_it_falls():
    from robin_studio.generate.conditions import HITS_KEY

    analysis = make_analysis(16.0, (4.0, 9.5))
    analysis.transitions[1].start_s = analysis.transitions[1].end_s = 9.3   # off the 120 bpm grid
    tm = TempoMap.constant(BPM, total_beats=32)
    c = build_controls(analysis, tm)
    assert c[2].extra[HITS_KEY] == [(0.0, True)]                    # on the beat
    (at, strong), = c[4].extra[HITS_KEY]
    assert at == pytest.approx(9.3 * 2 - 16) and strong             # 2.6 beats into bar 4
    # no beat claims it: every beat keeps the band's usual accent or the faint 0.3 x weight
    typical = typical_accents(c[4].energy)
    assert all(a <= max(t, 0.3) + 1e-9 for a, t in zip(c[4].accents, typical))


def test_a_ban_in_the_intro_mutes_only_the_first_section(setup):
    analysis, tm = setup
    c = build_controls(analysis, tm, parse_prompt("no drums in the intro", embed=False))
    assert [("drums" in x.extra.get(MUTE_KEY, ())) for x in c] == [True, True] + [False] * 6


def test_a_cut_a_frame_off_its_beat_is_hit_where_it_falls():
    from robin_studio.generate.conditions import HITS_BEFORE_KEY, HITS_KEY

    # a beat within 10 ms of a cut takes its hit; 20 ms (half a frame at 25 fps) or 40 ms
    # away, the hit goes on the cut
    analysis = make_analysis(16.0, (4.005, 9.54, 7.9, 13.02))
    analysis.transitions.sort(key=lambda t: t.time_s)
    tm = TempoMap.constant(BPM, total_beats=32)
    c = build_controls(analysis, tm)
    assert c[2].extra[HITS_KEY] == [(0.0, True)]                     # 5 ms: on beat 1
    (at, _), = c[4].extra[HITS_KEY]
    assert at == pytest.approx(9.54 * 2 - 16)                         # 3.08 beats, not 3.0
    (at, _), = c[6].extra[HITS_KEY]
    assert at == pytest.approx(13.02 * 2 - 24)                        # 2.04 beats, not 2.0
    assert c[4].accents[3] <= max(typical_accents(c[4].energy)[3], 0.3) + 1e-9
    # 7.9 s is 0.2 beats before bar 4's line: that bar learns of it, to let it sound
    (at, _), = c[3].extra[HITS_KEY]
    assert at == pytest.approx(3.8)
    assert c[4].extra[HITS_BEFORE_KEY] == [pytest.approx(-0.2)]
    assert HITS_BEFORE_KEY not in c[3].extra and HITS_BEFORE_KEY not in c[2].extra


def test_tone_words_move_the_energy_alike_in_every_language(setup):
    """Issue 16 item 5: "спокойная", "calm", "tranquila" lower the picture's energy;
    "エネルギッシュ", "energetic", "充满活力" raise it; translations move it alike (a loudness word
    such as "激しい" also sets the dynamics, which move it more)."""
    analysis, tm = setup

    def mean_energy(prompt):
        return float(np.mean([c.energy for c in build_controls(analysis, tm, parse_prompt(prompt, embed=False))]))

    none = mean_energy("")
    calm = [mean_energy(p) for p in ("calm music", "спокойная музыка", "música tranquila")]
    wild = [mean_energy(p) for p in ("energetic music", "エネルギッシュな音楽", "musique énergique", "充满活力的音乐")]
    assert mean_energy("激しい音楽") > none + 0.05
    assert max(calm) < none - 0.05 and min(wild) > none + 0.05
    assert max(calm) - min(calm) < 0.02 and max(wild) - min(wild) < 0.02
