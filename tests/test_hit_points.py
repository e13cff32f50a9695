"""Hit points the creator places: parsing (CLI and prompt), the tempo map landing them
(>= 90 % on seeded random sets with the tempo free), the music marking them (strong: a
cymbal on a downbeat where possible; soft: an accent), demoted cuts, and the per-hit report
with the onset heard in the render. Real synthesizer and mastering underneath."""

from __future__ import annotations

import pytest

from robin_studio.errors import RobinError
from robin_studio.generate.baseline import NaiveLoopGenerator
from robin_studio.generate.engine import GenerationSettings, Scorer
from robin_studio.score.theory import DRUM_KEYS
from robin_studio.score.types import Role
from robin_studio.timing.hits import (HitPoint, format_time, hit_landing_rates, parse_hit,
                                      parse_time)
from tests.test_generate_engine import make_analysis


def test_times_and_hits_parse_as_creators_write_them():
    assert parse_time("12.4") == pytest.approx(12.4)
    assert parse_time("0:31.20") == pytest.approx(31.2)
    assert parse_time("1:02:03.5") == pytest.approx(3723.5)
    assert parse_time("12,5 s") == pytest.approx(12.5)
    assert parse_hit("12.4") == HitPoint(12.4, True)
    assert parse_hit("0:31.20:soft") == HitPoint(31.2, False)
    assert parse_hit("0:31.2:strong", strong=False) == HitPoint(31.2, True)
    assert format_time(72.456) == "1:12.46"
    with pytest.raises(RobinError):
        parse_time("0:75")
    with pytest.raises(RobinError):
        parse_time("soon")


def test_the_prompt_places_hit_points():
    from robin_studio.intent.parse import describe_intent, parse_prompt

    intent = parse_prompt("warm piano, hit at 0:12.4, soft hit at 31.5 s, drop at 0:45", embed=False)
    assert intent.hit_points == [(pytest.approx(12.4), True), (pytest.approx(31.5), False)]
    assert [w.kind for w in intent.timed_wishes] == ["drop"]     # "hit" is no drop here
    assert "soft hit at 31.5 s" in describe_intent(intent)
    assert parse_prompt("hits at 0:10 and 0:20", embed=False).hit_points == [(10.0, True), (20.0, True)]


def test_hit_points_land_on_beats_on_random_sets():
    """The issue's measure: >= 90 % of hit points on a beat within 10 ms, 3-6 hit points in
    30-60 s with the tempo free (alone, and among 4-12 random cuts)."""
    alone = hit_landing_rates(60, seed=1)
    among_cuts = hit_landing_rates(60, seed=2, with_cuts=True)
    assert alone["hits"] >= 180 and alone["rate"] >= 0.90, alone
    assert among_cuts["rate"] >= 0.90, among_cuts


def test_hit_points_change_the_tempo_map():
    """Without the hit point the grid misses 7.3 s; with it, a beat sits on it."""
    from robin_studio.timing.hits import hit_cut_marks, hit_landings
    from robin_studio.timing.solver import CutMark, solve_tempo_map

    cuts = [CutMark(4.0, 0.9), CutMark(9.5, 0.9)]
    plain = solve_tempo_map(cuts, 16.0, bpm_range=(72, 132), frame_s=0.04)
    hit = HitPoint(7.3, True)
    assert not hit_landings(plain.tempo_map, [hit])[0].on_beat
    with_hit = solve_tempo_map(cuts + hit_cut_marks([hit]), 16.0, bpm_range=(72, 132), frame_s=0.04)
    assert hit_landings(with_hit.tempo_map, [hit])[0].on_beat


@pytest.fixture(scope="module")
def scorer():
    s = Scorer(generator=NaiveLoopGenerator())
    s.warm_up()
    return s


def _drum_at(piece, time_s: float, pitch: int) -> bool:
    tm = piece.tempo_map
    return any(abs(tm.seconds_at(n.start_beat) - time_s) < 0.012 and n.pitch == pitch
               for n in piece.score.track(Role.DRUMS).notes)


@pytest.mark.slow
def test_strong_and_soft_hits_are_marked_and_heard(scorer):
    from robin_studio.generate.hitpoints import hit_report, report_lines

    analysis = make_analysis()
    hits = (HitPoint(7.3, True), HitPoint(12.9, False))
    piece = scorer.generate(analysis, "rock", seed=1,
                            settings=GenerationSettings(hit_points=hits)).result()
    report = hit_report(piece)
    assert [r.time_s for r in report] == [7.3, 12.9]
    for r in report:
        assert _drum_at(piece, r.music_s, DRUM_KEYS["kick"])
        assert r.heard_s is not None and abs(r.heard_s - r.time_s) <= 0.035, r
    assert _drum_at(piece, report[0].music_s, DRUM_KEYS["crash"])       # strong: a cymbal
    assert not _drum_at(piece, report[1].music_s, DRUM_KEYS["crash"])   # soft: an accent
    lines = report_lines(report)
    assert lines[0].startswith("hit 0:07.30 strong") and "heard" in lines[0]
    assert "2/2 heard" in lines[-1]


def test_a_demoted_cut_gets_no_hit(scorer):
    analysis = make_analysis()
    kept = scorer.generate(analysis, "rock", seed=1).result()
    demoted = scorer.generate(analysis, "rock", seed=1,
                              settings=GenerationSettings(ignored_cuts_s=(9.5,))).result()
    tm = kept.tempo_map
    assert _drum_at(kept, tm.seconds_at(round(tm.beat_at(9.5))), DRUM_KEYS["crash"])
    tm = demoted.tempo_map
    assert not _drum_at(demoted, tm.seconds_at(round(tm.beat_at(9.5))), DRUM_KEYS["crash"])
    assert demoted.ignored_cuts_s == [9.5]


def test_a_hit_outside_the_video_is_refused(scorer):
    job = scorer.generate(make_analysis(), "rock", settings=GenerationSettings(
        hit_points=(HitPoint(99.0),)))
    with pytest.raises(RobinError, match="outside the video"):
        job.result()


def test_moving_a_hit_point_regenerates_only_the_bars_around_it(scorer):
    from robin_studio.generate.hitpoints import hit_report, retime_hits
    from robin_studio.generate.engine import _n_samples

    analysis = make_analysis(32.0, (4.0, 9.5, 20.0))
    piece = scorer.generate(analysis, "rock", seed=2,
                            settings=GenerationSettings(hit_points=(HitPoint(14.0),))).result()
    old_tm = piece.tempo_map
    old_notes = {t.role: list(t.notes) for t in piece.score.tracks}
    n_old = old_tm.total_bars
    result = retime_hits(scorer, piece, [HitPoint(15.1)])
    tm = piece.tempo_map
    land = hit_report(piece)[0]
    assert land.time_s == 15.1 and land.on_beat and land.heard_s is not None
    assert abs(land.heard_s - 15.1) <= 0.035
    # Most bars are kept note for note, at the same time; the new ones surround the move.
    assert len(result.kept_bars) >= 0.6 * tm.total_bars
    for i in result.kept_bars:
        j = result.plan.sources[i]
        assert abs(tm.bar_start_s(i) - old_tm.bar_start_s(j)) < 1e-6
    first_new, last_new = min(result.new_bars), max(result.new_bars)
    assert old_tm.bar_start_s(first_new) <= 14.0 and tm.bar_start_s(last_new + 1) >= 15.1
    bpb = tm.beats_per_bar
    kept_before = [i for i in result.kept_bars if i < first_new]
    for role, notes in old_notes.items():
        old_part = [n for n in notes if n.start_beat < len(kept_before) * bpb - 1e-6]
        new_part = [n for n in piece.score.track(role).notes if n.start_beat < len(kept_before) * bpb - 1e-6]
        assert new_part == old_part
    assert piece.audio.shape[0] == _n_samples(32.0)
    # undo returns to the old timing and notes
    piece.undo()
    assert piece.tempo_map is old_tm and piece.hit_points == [HitPoint(14.0)]
    assert piece.score.tempo_map.total_bars == n_old


def test_strong_hit_points_land_on_bar_lines_far_more_often():
    """A strong hit point is a downbeat. Before the solver let strong hit points jump the
    tempo further, 62 % (alone, seed 1) and 57 % (among cuts, seed 2) reached a bar line on
    these sets; now 78 % and 80 %, with the on-beat rate still >= 90 %."""
    alone = hit_landing_rates(60, seed=1)
    among_cuts = hit_landing_rates(60, seed=2, with_cuts=True)
    assert alone["strong_bar_rate"] >= 0.72, alone
    assert among_cuts["strong_bar_rate"] >= 0.72, among_cuts
    assert alone["rate"] >= 0.90 and among_cuts["rate"] >= 0.90


def test_a_strong_hit_inside_the_bar_is_played_as_a_downbeat():
    """Where no tempo puts a strong hit on a bar line, the band arrives on its beat as on a
    downbeat: bass and (bowed) harmony re-strike there with the drums' crash, not only the
    drums; a soft hit on a beat stays a drum accent."""
    from robin_studio.generate.arrange import build_arrangement
    from robin_studio.generate.conditions import HITS_KEY
    from robin_studio.intent.parse import parse_prompt
    from robin_studio.score.controls import BarControls
    from robin_studio.score.types import Note

    arr = build_arrangement(parse_prompt("strings and drums, cinematic", embed=False), seed=0)
    assert Role.DRUMS in arr.tracks and Role.BASS in arr.tracks and Role.HARMONY in arr.tracks
    written = {Role.HARMONY: [Note(0.0, 4.0, 62, 70), Note(0.0, 4.0, 65, 70)],
               Role.BASS: [Note(0.0, 4.0, 38, 70)], Role.DRUMS: []}
    out = arr.hit_points(written, BarControls(bar_index=3, extra={HITS_KEY: [(2.0, True)]}))
    assert {n.pitch for n in out[Role.DRUMS] if n.start_beat == 2.0} >= {DRUM_KEYS["crash"]}
    for role in (Role.BASS, Role.HARMONY):
        assert any(n.start_beat == 2.0 and n.velocity >= 100 for n in out[role]), role
    soft = arr.hit_points(written, BarControls(bar_index=3, extra={HITS_KEY: [(2.0, False)]}))
    assert not any(n.start_beat == 2.0 for n in soft[Role.BASS] + soft[Role.HARMONY])


def test_the_heard_onset_report_imports_no_librosa():
    """`score --hit` reports the onset heard at each hit point: that must not pull librosa,
    numba or scipy.signal into the scoring process (seconds of start-up, see #21)."""
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from robin_studio.generate.hitpoints import heard_onsets_s\n"
            "a = np.zeros((96000, 2), np.float32); a[48000:48200] = 0.5\n"
            "print(heard_onsets_s(a, 48000, [1.0]))\n"
            "print(sorted(m for m in ('librosa', 'numba', 'scipy.signal') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heard, loaded = out.stdout.strip().splitlines()
    assert loaded == "[]", out.stdout
    assert abs(float(heard.strip("[]")) - 1.0) <= 0.02


@pytest.mark.slow
def test_the_onsets_heard_are_the_ones_librosa_finds(scorer):
    """The numpy onset finder agrees with librosa's `onset_detect` on renders of three styles
    (measured: 96-97 % of librosa's onsets found within 20 ms, median 3-5 ms apart). (On
    bowed strings it reports more onsets than librosa: 56 against 34 on "cinematic strings",
    docs/CONFORM.md.)"""
    import librosa
    import numpy as np

    from robin_studio.generate.engine import SAMPLE_RATE
    from robin_studio.generate.hitpoints import onset_times_s

    found, total = 0, 0
    for prompt, seed in (("rock", 1), ("warm piano ballad", 2), ("upbeat electronic dance", 3)):
        piece = scorer.generate(make_analysis(), prompt, seed=seed).result()
        mono = piece.audio.mean(axis=1)
        ours = onset_times_s(mono, SAMPLE_RATE)
        y = librosa.resample(mono, orig_sr=SAMPLE_RATE, target_sr=22050)
        ref = librosa.onset.onset_detect(y=y, sr=22050, hop_length=256, units="time")
        assert len(ref) >= 10 and 0.8 * len(ref) <= len(ours) <= 1.25 * len(ref)
        found += sum(np.min(np.abs(ours - r)) <= 0.02 for r in ref)
        total += len(ref)
    assert found / total >= 0.9, (found, total)


def test_a_strong_hit_off_the_bar_line_brings_the_chord_change(scorer):
    """At an asked tempo a strong hit point at 7.3 s falls inside a bar (beat 2.6 of it): the
    harmony change moves to it. Bass and harmony strike the next chord on the hit, nothing
    of the old chord is held over it, and the next bar line keeps that chord; a soft hit
    there changes no chord."""
    def at_hit(strong: bool):
        piece = scorer.generate(make_analysis(), "rock", seed=1, settings=GenerationSettings(
            tempo_bpm=120, hit_points=(HitPoint(7.3, strong),))).result()
        tm = piece.tempo_map
        beat = tm.beat_at(7.3)
        bar, into = divmod(beat, tm.beats_per_bar)
        assert 0.5 < into < tm.beats_per_bar - 0.5            # off the bar line
        return piece, tm, beat, int(bar)

    def pcs(notes, lo: float, hi: float) -> set[int]:
        return {n.pitch % 12 for n in notes if lo - 1e-3 <= n.start_beat < hi}

    piece, tm, beat, bar = at_hit(True)
    harmony = piece.score.track(Role.HARMONY).notes
    bass = piece.score.track(Role.BASS).notes
    before = {n.pitch % 12 for n in harmony if n.start_beat < beat - 0.3 and n.start_beat >= bar * 4}
    struck = pcs(harmony, beat - 0.01, beat + 0.01)
    root, chord = piece.arrangement.plan.bars[bar + 1].chords[0]     # the next bar line's chord
    assert struck and struck != before and struck <= set(chord), (before, struck, chord)
    assert pcs(harmony, (bar + 1) * 4, (bar + 1) * 4 + 0.05) <= set(chord)   # and it holds
    assert not [n for n in harmony + bass if n.start_beat < beat - 1e-3 and n.end_beat > beat + 1e-3]
    assert {n.pitch % 12 for n in bass if abs(n.start_beat - beat) < 0.01} == {root}

    soft, tm, beat, bar = at_hit(False)
    harmony = soft.score.track(Role.HARMONY).notes
    before = {n.pitch % 12 for n in harmony if n.start_beat < beat - 0.3 and n.start_beat >= bar * 4}
    assert pcs(harmony, beat - 0.01, beat + 0.01) <= before
