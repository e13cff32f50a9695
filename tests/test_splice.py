"""The tempo splice of a re-edit (`timing.splice`), on tempo maps alone: a shot that lost part
of a bar gets a short bar (2/4 or 3/4) that plays the old music of that picture, the kept
bars after it stay under their picture with their cuts on their beats, and no kept bar is
given up; a gap that needs new music gets whole bars, or ends on a short bar, rather than
freeing the kept bars around it. Also the short bar's bookkeeping: the tempo map's music
positions, folding notes into a short bar, and MIDI files keeping it."""

from __future__ import annotations

import pytest

from robin_studio.score.metre import fold_into_short_bar, written_offset
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.score.types import Note, Role
from robin_studio.timing.solver import CutMark
from robin_studio.timing.splice import GAP_MAX_RATIO, KeptBlock, splice_tempo_map

BAR_S = 2.0                     # 120 bpm, 4/4


def old_map(bars: int = 10) -> TempoMap:
    return TempoMap.constant(120.0, 4.0 * bars)


def cuts(*times, strength=1.0):
    return [CutMark(float(t), strength) for t in times]


def test_a_shot_that_loses_half_a_bar_gets_a_2_4_bar_of_its_own_music():
    """Old cuts on the bar lines at 6 s and 8 s. The shot from 6 s loses its last second, so
    the next shot (old 8 s) now starts at 7 s: the gap is half a bar."""
    old = old_map()
    blocks = [KeptBlock(0, 3, 0.0), KeptBlock(4, 9, 1.0)]       # old bar 3 (6-8 s) lost 1 s
    plan = splice_tempo_map(old, 19.0, blocks, cuts(2.0, 6.0, 7.0, 11.0),
                            bpm_range=(90, 140), old_moments=cuts(2.0, 6.0, 8.0, 12.0))
    tm = plan.tempo_map
    assert plan.released == []                                   # no kept bar given up
    assert plan.short_old_beats == {3: (12.0, 2)}                          # old beats 12-14: bar 3's head
    assert tm.short_bars == {3: 2} and tm.bar_beats(3) == 2
    assert plan.sources[:3] == [0, 1, 2] and plan.sources[4:9] == [4, 5, 6, 7, 8]
    # every kept bar where its picture is, at the old tempo (so its cuts stay on its beats)
    for i, j in enumerate(plan.sources[:9]):
        if i != 3:
            assert tm.bar_start_s(i) == pytest.approx(old.bar_start_s(j) - (1.0 if j >= 4 else 0.0))
    # the short bar plays two of the music's beats at the music's tempo
    assert tm.bar_start_s(4) - tm.bar_start_s(3) == pytest.approx(1.0)
    assert tm.music_seconds(3, 1.0) == pytest.approx(6.5)
    assert tm.music_position(6.75) == (3, pytest.approx(1.5))


def test_a_trim_that_is_not_a_whole_number_of_beats_re_times_the_kept_music_up_to_its_next_cut():
    """The shot from 6 s (to the cut at 11 s) loses its first 0.85 s: after the cut at 6 s
    its picture resumes at old 6.85 s, so old bar 4 (8-10 s) now starts 1.15 s (2.3 beats)
    after 6 s. Two beats fit only if the kept music from there to the shot's next cut (old
    11 s, new 10.15 s: 6 beats) plays with them a little slower; that cut stays on its beat
    and no kept bar is given up."""
    old = old_map()
    blocks = [KeptBlock(0, 3, 0.0), KeptBlock(4, 9, 0.85)]
    plan = splice_tempo_map(old, 19.15, blocks, cuts(2.0, 6.0, 10.15),
                            bpm_range=(90, 140), old_moments=cuts(2.0, 6.0, 11.0))
    tm = plan.tempo_map
    assert plan.released == [] and tm.short_bars == {3: 2}
    assert plan.short_old_beats == {3: (12.0, 2)}           # the music after the cut at 6 s, as before
    assert tm.music_position(10.15) == (5, pytest.approx(2.0, abs=1e-6))   # its old beat
    slower = 60.0 * (2 + 6) / (10.15 - 6.0)
    assert 0 < 1 - slower / 120.0 <= GAP_MAX_RATIO
    assert tm.bpm_at_beat(17.0) == pytest.approx(slower)       # kept bar 4, re-timed
    assert tm.bpm_at_beat(23.0) == pytest.approx(120.0)        # after the cut: as it was
    assert tm.bar_start_s(6) == pytest.approx(12.0 - 0.85)     # under its picture again


def test_a_new_shot_gets_new_music_not_a_short_bar_of_old_music():
    """A new shot of 3 s (6 beats) between two kept stretches has cuts the old music never
    had there: it is new music in whole bars (the neighbouring kept bars give way as
    before), never someone else's old beats."""
    old = old_map()
    blocks = [KeptBlock(0, 4, 0.0), KeptBlock(4, 9, -3.0)]
    plan = splice_tempo_map(old, 21.0, blocks, cuts(2.0, 8.0, 11.0, 13.0),
                            bpm_range=(90, 140), old_moments=cuts(2.0, 8.0, 10.0))
    assert plan.short_old_beats == {} and not plan.tempo_map.short_bars
    assert plan.released                           # whole bars: kept bars gave way
    assert all(abs(plan.tempo_map.bar_start_s(i + 1) - plan.tempo_map.bar_start_s(i) - BAR_S)
               <= GAP_MAX_RATIO * BAR_S + 1e-6 for i in range(plan.tempo_map.total_bars - 1))


def test_without_the_old_moments_a_fractional_gap_frees_bars_as_before():
    old = old_map()
    blocks = [KeptBlock(0, 3, 0.0), KeptBlock(4, 9, 1.0)]
    plan = splice_tempo_map(old, 19.0, blocks, cuts(2.0, 6.0, 7.0, 11.0), bpm_range=(90, 140))
    assert plan.released and not plan.tempo_map.short_bars


def test_folding_notes_into_a_short_bar_keeps_its_first_beats_at_their_time():
    notes = {Role.BASS: [Note(0.0, 1.0, 40, 90), Note(1.5, 1.0, 43, 80), Note(2.0, 1.0, 45, 80)],
             Role.DRUMS: [Note(3.0, 0.25, 36, 100)]}
    folded = fold_into_short_bar(notes, 2, 4)
    assert folded[Role.BASS] == [Note(0.0, 2.0, 40, 90), Note(3.0, 1.0, 43, 80)]   # ends at the bar end
    assert folded[Role.DRUMS] == []
    tail = fold_into_short_bar(notes, 2, 4, first_beat=1.5)
    assert [n.start_beat for n in tail[Role.BASS]] == [0.0, 1.0]
    # A whole bar written for a short bar gives its last beats, its held notes struck again.
    assert written_offset(2, 4) == 2 and written_offset(2.5, 4) == 1 and written_offset(3, 4) == 1
    held = {Role.HARMONY: [Note(0.0, 4.0, 60, 70)], Role.DRUMS: [Note(2.0, 0.25, 36, 90),
                                                                 Note(3.5, 0.25, 38, 90)]}
    last = fold_into_short_bar(held, 2, 4, written_offset(2, 4), carry=True)
    assert last[Role.HARMONY] == [Note(0.0, 4.0, 60, 70)]
    assert last[Role.DRUMS] == [Note(0.0, 0.5, 36, 90), Note(3.0, 0.5, 38, 90)]


def test_a_midi_file_shows_a_short_bar_as_the_metre_and_tempo_heard_and_reads_back_exactly(tmp_path):
    """Exported MIDI: a DAW sees a bar of 2/4 at the piece's 120 bpm (not a 4/4 bar at 240),
    every note where the app plays it; our own reader gets the score's grid back."""
    import mido

    from robin_studio.score.midi_io import read_midi, write_midi
    from robin_studio.score.types import Score, Track

    tm = TempoMap([TempoSegment(0, 12, 120, 120), TempoSegment(12, 4, 240, 240),
                   TempoSegment(16, 8, 120, 120)], 4, 0.0, {3: 2})
    notes = [Note(11.0, 1.0, 40, 90), Note(12.0, 2.0, 43, 90), Note(14.0, 2.0, 45, 80),
             Note(16.0, 1.0, 47, 90), Note(20.5, 0.5, 48, 70)]
    score = Score(tempo_map=tm, tracks=[Track(role=Role.BASS, program=33, notes=notes)])
    write_midi(score, tmp_path / "s.mid")
    mid = mido.MidiFile(tmp_path / "s.mid")
    tpb = mid.ticks_per_beat
    conductor, ticks = [], 0
    for msg in mid.tracks[0]:
        ticks += msg.time
        conductor.append((ticks, msg))
    metres = [(t / tpb, m.numerator, m.denominator) for t, m in conductor if m.type == "time_signature"]
    assert metres == [(0.0, 4, 4), (12.0, 2, 4), (14.0, 4, 4)]
    assert {round(mido.tempo2bpm(m.tempo), 3) for _, m in conductor if m.type == "set_tempo"} == {120.0}
    ons, t = [], 0
    for msg in mid.tracks[1]:
        t += msg.time
        if msg.type == "note_on" and msg.velocity:
            ons.append(mido.tick2second(t, tpb, 500000))          # 120 bpm throughout
    assert ons == pytest.approx([tm.seconds_at(n.start_beat) for n in notes], abs=1e-3)
    back = read_midi(tmp_path / "s.mid")
    assert back.tempo_map.short_bars == {3: 2} and back.tempo_map.to_dict() == tm.to_dict()
    assert [(n.start_beat, n.duration_beats, n.pitch) for n in back.tracks[0].notes] == \
        [(n.start_beat, n.duration_beats, n.pitch) for n in notes]
    assert not back.meta["warnings"]
    assert TempoMap.from_dict(tm.to_dict()) == tm
    assert "short_bars" not in old_map().to_dict()          # ordinary maps write as before


def test_cuts_and_grid_lines_in_a_short_bar_are_on_the_music_beats():
    from robin_studio.timing.grid import align_cuts, grid_lines

    tm = TempoMap([TempoSegment(0, 12, 120, 120), TempoSegment(12, 4, 192, 192),
                   TempoSegment(16, 8, 120, 120)], 4, 0.0, {3: 2.5})      # a bar of 5/8 at 6 s
    on, off, line = align_cuts(tm, [6.5, 6.3125, 7.25])                    # its beat 1; grid beat 1
    assert on.on_beat and not on.on_bar_line
    assert not off.on_beat
    assert line.on_bar_line                                              # the next bar line
    inside = [g.time_s for g in grid_lines(tm, 5.9, 7.3)]
    assert inside == pytest.approx([6.0, 6.5, 7.0, 7.25])
    # the tempo report gives the tempo heard, not the short bar's grid
    from robin_studio.timing.solver import describe_tempo_map

    summary = describe_tempo_map(tm, cuts(6.5), 11.25).summary
    assert summary.startswith("120.0 bpm, 6 bars of 4/4 (1 short: 5/8)"), summary
    assert "tempo change" not in summary and tm.mean_bpm() == pytest.approx(120.0)


def test_new_bars_between_kept_bars_go_on_from_the_approved_phrase_and_never_play_the_ending():
    """The plan new bars play (`generate.retime._plan_sources`): one new bar between kept
    old bars 6 and 10 goes on from 6 (plays 7) rather than jumping away from the approved
    phrase at once (it played 9: the seam where new music began measured 1.25 of the
    approved piece's flux, where kept music resumed 0.85); and a bar in the middle of the
    new piece never plays the old final bar, the ending that rings out."""
    from robin_studio.generate.retime import _plan_sources

    assert _plan_sources([5, 6, None, 10, 11], 14) == [5, 6, 7, 10, 11]
    # old bars 0-3, 3 the ending: the new bars after kept bar 2 lead into the ending, and
    # only the new final bar plays it
    plan = _plan_sources([0, 1, 2, None, None], 4)
    assert plan[-1] == 3 and 3 not in plan[:-1]
