"""TempoMap: the one place seconds and beats are converted."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robin_studio.score.tempo_map import TempoMap, TempoSegment


def ramp_map() -> TempoMap:
    # 8 beats at 120, then 8 beats ramping 120 -> 90, then 8 beats at 90.
    return TempoMap([TempoSegment(0, 8, 120, 120), TempoSegment(8, 8, 120, 90),
                     TempoSegment(16, 8, 90, 90)])


def test_constant_tempo():
    tm = TempoMap.constant(120.0, total_beats=16)
    assert tm.seconds_at(4) == pytest.approx(2.0)
    assert tm.beat_at(3.0) == pytest.approx(6.0)
    assert tm.end_s == pytest.approx(8.0)
    assert tm.total_bars == 4
    assert tm.bar_start_s(1) == pytest.approx(2.0)
    assert tm.bar_at(1.999) == 0 and tm.bar_at(2.0) == 1
    assert tm.mean_bpm() == pytest.approx(120.0)


def test_ramp_duration_matches_the_closed_form():
    tm = ramp_map()
    # A linear ramp in beats from t0 to t1 bpm over n beats lasts 60 n ln(t1/t0) / (t1 - t0).
    ramp_s = 60.0 * 8 * math.log(90 / 120) / (90 - 120)
    assert tm.seconds_at(16) == pytest.approx(4.0 + ramp_s)
    assert tm.end_s == pytest.approx(4.0 + ramp_s + 8 * 60 / 90)
    # Halfway through the ramp the tempo is halfway between.
    assert tm.bpm_at_beat(12) == pytest.approx(105.0)
    # The ramp is slower than its start and faster than its end.
    assert 8 * 60 / 120 < ramp_s < 8 * 60 / 90


def test_a_ramp_approximates_many_small_steps():
    tm = ramp_map()
    steps, t = 2000, 4.0
    for i in range(steps):
        t += (8 / steps) * 60.0 / tm.bpm_at_beat(8 + (i + 0.5) * 8 / steps)
    assert tm.seconds_at(16) == pytest.approx(t, abs=1e-6)


def test_past_the_end_the_last_tempo_holds():
    tm = ramp_map()
    end = tm.end_s
    assert tm.seconds_at(26) == pytest.approx(end + 2 * 60 / 90)
    assert tm.beat_at(end + 1.0) == pytest.approx(24 + 90 / 60)
    # Also when the map ends in a ramp: its end tempo holds.
    tm2 = TempoMap([TempoSegment(0, 4, 100, 100), TempoSegment(4, 4, 100, 80)])
    assert tm2.seconds_at(10) == pytest.approx(tm2.end_s + 2 * 60 / 80)
    assert tm2.beat_at(tm2.end_s + 3.0) == pytest.approx(8 + 3.0 * 80 / 60)


def test_offset_moves_beat_zero():
    tm = TempoMap.constant(120.0, total_beats=8, offset_s=0.5)
    assert tm.seconds_at(0) == pytest.approx(0.5)
    assert tm.beat_at(0.5) == pytest.approx(0.0)
    assert tm.end_s == pytest.approx(4.5)
    assert tm.mean_bpm() == pytest.approx(120.0)
    assert tm.beat_at(0.0) == pytest.approx(-1.0)


def test_negative_offset_is_a_first_bar_cut_in():
    """Beat 0 before the video: 0 s falls inside the first bar, the end is unchanged."""
    tm = TempoMap.constant(85.0, total_beats=8, offset_s=5.3 - 8 * 60 / 85)
    assert tm.offset_s < 0
    assert tm.end_s == pytest.approx(5.3)
    assert tm.bar_at(0.0) == 0 and tm.bar_start_s(1) > 0
    assert tm.beat_at(0.0) == pytest.approx(-tm.offset_s * 85 / 60)
    assert tm.seconds_at(tm.beat_at(0.0)) == pytest.approx(0.0, abs=1e-12)
    assert tm.mean_bpm() == pytest.approx(85.0)
    back = TempoMap.from_dict(tm.to_dict())
    assert back == tm and back.offset_s == tm.offset_s


def test_round_trip_through_a_dict():
    tm = ramp_map()
    tm.offset_s = 0.0
    back = TempoMap.from_dict(tm.to_dict())
    assert back.segments == tm.segments
    assert back.end_s == pytest.approx(tm.end_s)
    tm3 = TempoMap([TempoSegment(0, 4, 100, 110)], beats_per_bar=3, offset_s=0.25)
    back3 = TempoMap.from_dict(tm3.to_dict())
    assert back3.beats_per_bar == 3 and back3.offset_s == 0.25


def test_invalid_maps_are_refused():
    with pytest.raises(ValueError):
        TempoMap([])
    with pytest.raises(ValueError):
        TempoMap([TempoSegment(0, 4, 100, 100), TempoSegment(5, 4, 100, 100)])
    with pytest.raises(ValueError):
        TempoMap([TempoSegment(0, 4, 0, 100)])


segments = st.lists(
    st.tuples(st.integers(1, 32), st.floats(40, 240), st.booleans(), st.floats(0.8, 1.25)),
    min_size=1, max_size=8)


def build(spec, offset):
    segs, beat, bpm = [], 0.0, None
    for length, start, ramp, factor in spec:
        start = start if bpm is None else bpm
        end = start * factor if ramp else start
        segs.append(TempoSegment(beat, float(length), start, end))
        beat += length
        bpm = end if ramp else None
    return TempoMap(segs, 4, offset)


@settings(max_examples=150, deadline=None)
@given(segments, st.floats(-5, 5), st.floats(0, 1))
def test_property_conversions_invert_and_increase(spec, offset, frac):
    tm = build(spec, offset)
    total = tm.total_beats
    beat = frac * (total + 8)        # also past the end
    t = tm.seconds_at(beat)
    assert tm.beat_at(t) == pytest.approx(beat, abs=1e-7)
    sec = offset + frac * (tm.end_s - offset + 5)
    assert tm.seconds_at(tm.beat_at(sec)) == pytest.approx(sec, abs=1e-7)
    times = [tm.seconds_at(b / 4) for b in range(int(4 * (total + 4)))]
    assert all(b > a for a, b in zip(times, times[1:]))
    # Segment boundaries are continuous.
    for seg in tm.segments[1:]:
        b = seg.start_beat
        assert tm.seconds_at(b - 1e-9) == pytest.approx(tm.seconds_at(b), abs=1e-6)
