"""The "Idioms and form" metrics (robin_studio/eval/metrics_idioms.py) on small constructed
scores and signals whose answers are known: a four-on-the-floor groove, a walking bass, an
ostinato, held clashes, clicks, a restated motif, a build in loudness."""

from __future__ import annotations

import numpy as np
import pytest

from robin_studio.eval import metrics_idioms as mi
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track


def score_of(bars: int, tracks: list[Track], bpm: float = 120.0) -> Score:
    return Score(TempoMap.constant(bpm, bars * 4.0), tracks)


def house_bar(bar: int) -> list[Note]:
    """Kick on every beat, clap on 2 and 4, closed hats on the off-beats: 10 notes."""
    b = bar * 4.0
    notes = [Note(b + i, 0.25, 36) for i in range(4)]
    notes += [Note(b + 1, 0.25, 39), Note(b + 3, 0.25, 39)]
    notes += [Note(b + i + 0.5, 0.25, 42) for i in range(4)]
    return notes


def test_groove_presence_counts_the_style_idiom_after_the_intro():
    # 12 bars: an intro of 2 bars with a crash only, then house bars, and the last bar a hit.
    drums = [Note(0.0, 1.0, 49), Note(4.0, 1.0, 49)]
    for bar in range(2, 11):
        drums += house_bar(bar)
    drums += [Note(44.0, 1.0, 49), Note(44.0, 1.0, 36)]
    s = score_of(12, [Track(Role.DRUMS, 0, drums)])
    assert mi.groove_presence(s, "house") == 1.0
    # A kick and a crash on every bar (the "no groove"): 0, whatever the style.
    sparse = score_of(12, [Track(Role.DRUMS, 0, [n for b in range(12) for n in (Note(b * 4.0, 1, 36), Note(b * 4.0, 1, 49))])])
    assert mi.groove_presence(sparse, "house") == 0.0
    assert mi.groove_presence(sparse, None) == 0.0
    assert mi.longest_groove_gap(sparse, "house") == len(mi.body_bars(sparse))


def test_groove_idiom_tells_four_on_the_floor_from_a_backbeat():
    rock = []   # kick on 1 and 3, snare on 2 and 4, eighth hats: 12 notes but not four on the floor
    for bar in range(12):
        b = bar * 4.0
        rock += [Note(b, .25, 36), Note(b + 2, .25, 36), Note(b + 1, .25, 38), Note(b + 3, .25, 38)]
        rock += [Note(b + i / 2, .25, 42) for i in range(8)]
    s = score_of(12, [Track(Role.DRUMS, 0, rock)])
    assert mi.groove_presence(s, "rock") == 1.0
    assert mi.groove_presence(s, "house") == 0.0
    assert mi.groove_presence(s, "trap") == 1.0      # 8 hats and a snare on the backbeat
    assert mi.groove_presence(s, "jazz") == 1.0      # hats count as the time-keeper
    assert mi.groove_presence(s, "trailer") == 0.0   # two kicks, no toms


def test_walking_bass_against_half_notes():
    walk = [Note(bar * 4.0 + i, 1.0, p) for bar in range(8) for i, p in enumerate((36, 38, 40, 43))]
    halves = [Note(bar * 4.0 + i, 2.0, 36) for bar in range(8) for i in (0, 2)]
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 32, walk)]), "walking") == 1.0
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 32, halves)]), "walking") == 0.0
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 32, walk)]), "pulse") == 1.0
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 32, halves)]), "pulse") == 0.0


def test_ostinato_repeats_a_figure_and_drone_holds_the_bar():
    figure = [Note(bar * 4.0 + i * 0.5, 0.5, p) for bar in range(8)
              for i, p in enumerate((38, 38, 41, 38, 43, 38, 41, 40))]
    wander = [Note(bar * 4.0 + i * 0.5, 0.5, 36 + (bar * 7 + i * i) % 12) for bar in range(8) for i in range(8)]
    assert mi.bass_idiom_share(score_of(8, [Track(Role.TEXTURE, 42, figure)]), "ostinato") == 1.0
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 42, wander)]), "ostinato") == 0.0
    drone = [Note(0.0, 32.0, 26)]
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 32, drone)]), "drone") == 1.0
    assert mi.bass_idiom_share(score_of(8, [Track(Role.BASS, 32, wander)]), "drone") == 0.0


def chord_track(chords: list[tuple[int, ...]], bars_each: int = 1) -> Track:
    notes, beat = [], 0.0
    for ch in chords:
        notes += [Note(beat, 4.0 * bars_each, 60 + p) for p in ch]
        beat += 4.0 * bars_each
    return Track(Role.HARMONY, 0, notes)


def test_chord_labels_and_distinct_chords_per_16_bars():
    assert mi.chord_label(np.bincount([0, 4, 7], minlength=12)) == "C"
    assert mi.chord_label(np.bincount([9, 0, 4], minlength=12)) == "Am"
    assert mi.chord_label(np.bincount([7, 11, 2, 5], minlength=12)) == "G7"
    c, g, am, f = (0, 4, 7), (7, 11, 14), (9, 12, 16), (5, 9, 12)
    pop = score_of(16, [chord_track([c, g, am, f] * 4)])
    assert mi.distinct_chords_per_16_bars(pop) == 4
    two = score_of(16, [chord_track([f, (0, 4, 7, 10)] * 8)])
    assert mi.distinct_chords_per_16_bars(two) == 2
    assert mi.longest_two_chord_stretch(two) == 16
    assert mi.longest_two_chord_stretch(pop) == 2


def test_clashes_only_between_parts_and_only_when_held():
    # E5 against F5 for 2 beats at 120 bpm (1 s) between melody and harmony: one clash of 1 s.
    held = score_of(4, [Track(Role.MELODY, 0, [Note(0.0, 2.0, 77)]), Track(Role.HARMONY, 0, [Note(0.0, 2.0, 76)])])
    c = mi.clashes(held)
    assert c.count == 1 and c.longest_s == pytest.approx(1.0)
    # A minor ninth counts; a passing semitone of an eighth note (0.25 s) does not; a major
    # seventh is not a semitone clash.
    ninth = score_of(4, [Track(Role.MELODY, 0, [Note(0.0, 2.0, 73)]), Track(Role.BASS, 0, [Note(0.0, 2.0, 60)])])
    assert mi.clashes(ninth).count == 1
    passing = score_of(4, [Track(Role.MELODY, 0, [Note(0.0, 0.5, 77)]), Track(Role.HARMONY, 0, [Note(0.0, 2.0, 76)])])
    assert mi.clashes(passing).count == 0
    seventh = score_of(4, [Track(Role.MELODY, 0, [Note(0.0, 2.0, 71)]), Track(Role.HARMONY, 0, [Note(0.0, 2.0, 60)])])
    assert mi.clashes(seventh).count == 0
    # inside one part (a cluster voiced by one instrument) it is not a clash between parts
    one = score_of(4, [Track(Role.HARMONY, 0, [Note(0.0, 2.0, 76), Note(0.0, 2.0, 77)])])
    assert mi.clashes(one).count == 0


def test_short_note_share_in_seconds_not_beats():
    # at 120 bpm a 32nd note lasts 62.5 ms: fine; a 1/32 of a beat lasts 15.6 ms: a click
    notes = [Note(0.0, 0.125, 60), Note(1.0, 1 / 32, 62), Note(2.0, 1.0, 64), Note(3.0, 1.0, 65)]
    s = score_of(1, [Track(Role.MELODY, 0, notes), Track(Role.DRUMS, 0, [Note(0.0, 0.01, 36)])])
    assert mi.short_note_share(s) == pytest.approx(0.25)


def melody(pitches_by_phrase: list[list[int]], note_beats: float = 0.5, rest_beats: float = 2.0) -> Track:
    notes, beat = [], 0.0
    for phrase in pitches_by_phrase:
        for p in phrase:
            notes.append(Note(beat, note_beats, p))
            beat += note_beats
        beat += rest_beats
    return Track(Role.MELODY, 0, notes)


def test_motif_restated_varied_or_absent():
    motif = [60, 62, 64, 62, 67]
    restated = [p + 5 for p in motif] + [72]          # transposed up a fourth, then one more note
    varied = [60, 62, 63, 62, 69]                      # same contour, intervals within 2 semitones
    other = [70, 58, 71, 57, 72]                       # zig-zag, not the motif
    f = mi.melody_form(score_of(8, [melody([motif, restated, varied, other])]))
    assert f.phrases == 4
    assert (f.restated, f.varied) == (1, 1)
    assert f.motif_recurrence == pytest.approx(2 / 3)
    assert f.median_phrase_notes == 5
    # the zig-zag phrase has 3 leaps over an octave (13, 14, 15 semitones; 70 -> 58 is an
    # octave exactly), in 8 bars
    assert f.leaps_per_8_bars == pytest.approx(3.0)


def test_k_weighting_matches_bs1770_at_48k():
    (b1, a1), (b2, a2) = mi.k_weighting(48000)
    np.testing.assert_allclose(b1, [1.53512485958697, -2.69169618940638, 1.19839281085285], rtol=1e-6)
    np.testing.assert_allclose(a1, [1.0, -1.69065929318241, 0.73248077421585], rtol=1e-6)
    np.testing.assert_allclose(a2, [1.0, -1.99004745483398, 0.99007225036621], rtol=1e-6)
    # a full-scale 997 Hz sine in both channels reads about 0 LUFS ( -3.01 + 3.01 for two channels)
    t = np.arange(48000 * 4) / 48000
    y = np.sin(2 * np.pi * 997 * t)
    _, lufs = mi.short_term_loudness(np.stack([y, y], 1), 48000)
    assert np.median(lufs) == pytest.approx(0.0, abs=0.1)


def test_loudness_arcs():
    sr = 16000
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(sr * 20) * 0.1
    ramp = noise * np.linspace(0.05, 1.0, len(noise))      # a crescendo of 26 dB
    assert mi.build_arc_db(ramp, sr) > 12.0
    assert abs(mi.build_arc_db(noise, sr)) < 0.5
    quiet = noise.copy()
    quiet[: sr * 5] *= 0.1                                 # first 5 s 20 dB down
    assert mi.quiet_start_db(quiet, sr, 5.0) == pytest.approx(20.0, abs=1.5)
    dropped = noise.copy()
    dropped[sr * 10:] *= 4.0                               # the beat comes in at 10 s: +12 dB
    assert mi.drop_db(dropped, sr, 10.0) == pytest.approx(12.0, abs=1.0)


def test_idiom_metrics_on_an_empty_part_are_not_numbers_not_crashes():
    s = score_of(4, [Track(Role.DRUMS, 0, [Note(0.0, 1.0, 36)])])
    m = mi.idiom_metrics(s, "jazz")
    assert np.isnan(m["short_note_share"]) and np.isnan(m["motif_recurrence"])
    assert m["groove_presence"] == 0.0 and m["bass_idiom_share"] == 0.0


def test_asked_rests_leave_the_quiet_span_and_the_break_before_a_drop_out_of_the_groove():
    """16 bars at 120 bpm (2 s a bar): quiet for the first 8 s (bars 0-3), a drop at 24 s
    (bar 12). The kit rests in bars 0-5 (the quiet span, and bars 4-5 which were not asked)
    and in bars 10-11 (the written break), and grooves elsewhere."""
    drums = []
    for bar in range(16):
        if bar not in (0, 1, 2, 3, 4, 5, 10, 11):
            drums += house_bar(bar)
    s = score_of(16, [Track(Role.DRUMS, 0, drums)])
    rests = mi.asked_rest_bars(s, quiet_spans_s=[(0.0, 8.0)], drops_s=[24.0])
    assert rests == {0, 1, 2, 3, 10, 11}
    body = mi.groove_bars(s, rests)            # bars 4-14 less 10, 11
    assert body == [4, 5, 6, 7, 8, 9, 12, 13, 14]
    assert mi.groove_presence(s, "house", rests) == pytest.approx(7 / 9)   # bars 4 and 5 were not asked
    assert mi.longest_groove_gap(s, "house", rests) == 2
    # a drop half a beat after a bar line belongs to that bar; the break is the 2 bars before it
    assert mi.asked_rest_bars(s, drops_s=[24.2]) == {10, 11}
    # nothing asked: every body bar counts
    assert mi.groove_presence(s, "house") == pytest.approx(7 / 13)     # bars 2-14
    m = mi.idiom_metrics(s, "house", [(0.0, 8.0)], [24.0])
    assert m["groove_presence"] == pytest.approx(7 / 9)


def test_the_no_video_baseline_gets_the_prompts_arc_but_not_the_picture():
    """Before: the no-video baseline fed the model energy 0.5 in every bar, so the prompt's
    quiet start, its drop and the breath before it never reached it (an unfair row in the arc
    figures). Now it gets the arc the prompt alone asks for, the same on any footage; what the
    picture adds (the busy middle shot, cut accents, sections) stays out."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_generate_engine import make_analysis

    from robin_studio.eval.baselines import neutral_controls
    from robin_studio.generate.conditions import build_controls
    from robin_studio.intent.parse import parse_prompt

    prompt = "quiet for the first 8 seconds, then it drops at 0:20, 120 bpm"
    intent = parse_prompt(prompt, embed=False)
    tm = TempoMap.constant(120.0, 60 * 2.0)          # 2 s bars: the drop is bar 10
    seen = []
    for clip in (make_analysis(30.0, (9.0, 21.0)), make_analysis(30.0, (4.0, 14.0))):
        model_side = build_controls(clip, tm, intent, with_semantics=False)
        blind = [neutral_controls(c) for c in model_side]
        seen.append([round(c.energy, 3) for c in blind])
        quiet = [c for c in model_side if c.extra.get("quiet")]
        assert [c.bar_index for c in quiet] == [0, 1, 2, 3]
        for m, b in zip(model_side, blind):
            if m.bar_index < 4:                     # the asked quiet span: as quiet as the model's
                assert b.energy <= 0.2 and b.extra.get("quiet")
            elif m.bar_index == 9:                  # the breath before the drop
                assert b.energy <= 0.45 and b.section_end
            elif m.bar_index == 10:                 # the drop: loud, a new section, on the downbeat
                assert b.energy >= 0.95 and b.section_start and b.accents[0] == 1.0 and b.extra.get("drop")
            elif m.bar_index > 13:                  # the rest: middle energy whatever the picture
                assert b.energy == pytest.approx(0.5) and not b.section_start
            assert b.section_id == 0 and "semantic_embedding" not in b.extra
    assert seen[0] == seen[1]                        # the picture does not reach it
