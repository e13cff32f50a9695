"""Score <-> MIDI: lossless round trip, tempo map within 1 ms in a DAW, foreign files."""

import math
from pathlib import Path

import mido
import pytest

from robin_studio.errors import MediaError
from robin_studio.score.expression import perform_score
from robin_studio.score.midi_io import read_midi, score_to_midi, write_midi
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.score.types import Note, Role, Score, Track


def _score(offset_s=0.0):
    tm = TempoMap([TempoSegment(0, 8, 96, 96), TempoSegment(8, 16, 96, 134.5),
                   TempoSegment(24, 7.5, 134.5, 80), TempoSegment(31.5, 8.5, 80, 80)],
                  beats_per_bar=4, offset_s=offset_s)
    return Score(tm, [
        Track(Role.DRUMS, 25, [Note(b * 0.5, 0.25, 36 if b % 2 == 0 else 42, 100) for b in range(80)], "kit"),
        Track(Role.BASS, 33, [Note(b, 1.0, 40 + b % 7, 70 + b % 30) for b in range(40)], gain_db=-4.5, pan=-0.25),
        Track(Role.HARMONY, 89, [Note(4 * k, 4.0, p, 60) for k in range(10) for p in (60, 64, 67)], pan=0.4),
        Track(Role.MELODY, 73, [Note(1 + k * 0.75, 0.5, 72 + k % 5, 90) for k in range(45)], "flute"),
        Track(Role.TEXTURE, 95, []),
    ], key_tonic=2, key_mode="dorian", beats_per_bar=4)


@pytest.mark.parametrize("offset_s", [0.0, 0.42, -1.3, -2.4])
def test_round_trip_is_lossless(tmp_path, offset_s):
    s = _score(offset_s)
    path = write_midi(s, tmp_path / "x.mid")
    r = read_midi(path)
    assert r.tempo_map == s.tempo_map
    assert r.tracks == s.tracks
    assert (r.key_tonic, r.key_mode, r.beats_per_bar, r.time_signature) == (2, "dorian", 4, (4, 4))


def _played(score: Score) -> list[Track]:
    """The tracks as performed (what the synthesizer plays and the file's notes hold)."""
    return [Track(t.role, t.program, p.notes) for t, p in zip(score.tracks, perform_score(score))]


def _seconds_of_ticks(mid: mido.MidiFile) -> dict[int, float]:
    """What a DAW computes: seconds of each tick from the file's own tempo events only."""
    tempos = sorted((sum(m.time for m in mid.tracks[0][:i + 1]), m.tempo)
                    for i, m in enumerate(mid.tracks[0]) if m.type == "set_tempo")
    def sec(tick):
        t, last_tick, us = 0.0, 0, 500000
        for tk, tempo in tempos:
            if tk >= tick:
                break
            t += (tk - last_tick) * us / mid.ticks_per_beat / 1e6
            last_tick, us = tk, tempo
        return t + (tick - last_tick) * us / mid.ticks_per_beat / 1e6
    return sec


@pytest.mark.parametrize("offset_s", [0.0, 1.25])
def test_file_lines_up_with_video_within_1ms(offset_s):
    """Strip our private header: a plain MIDI reader must put every note within 1 ms of
    where our synthesizer plays it (the performance: a drummer's repeats sit a few ms off)."""
    s = _score(offset_s)
    mid = score_to_midi(s)
    sec = _seconds_of_ticks(mid)
    worst = 0.0
    for ti, track in enumerate(_played(s), start=1):
        tick = 0
        ons = []
        for m in mid.tracks[ti]:
            tick += m.time
            if m.type == "note_on" and m.velocity > 0:
                ons.append(tick)
        for n, on_tick in zip(sorted(track.notes, key=lambda n: n.start_beat), sorted(ons)):
            worst = max(worst, abs(sec(on_tick) - s.tempo_map.seconds_at(n.start_beat)))
    assert worst < 1e-3


@pytest.mark.parametrize("offset_s", [-0.347, -1.3, -2.4])
def test_a_cut_in_first_bar_starts_the_file_at_the_video_start(offset_s):
    """Beat 0 before 0 s (the first bar cut in): a plain MIDI reader that puts the file at
    the video's start hears every note that sounds in the video within 1 ms of its time,
    notes already ringing at 0 s start at 0 s, notes over before 0 s are not in the file,
    and a marker shows the first bar line."""
    s = _score(offset_s)
    tm = s.tempo_map
    mid = score_to_midi(s)
    sec = _seconds_of_ticks(mid)
    for ti, track in enumerate(_played(s), start=1):
        tick, ons = 0, []
        for m in mid.tracks[ti]:
            tick += m.time
            if m.type == "note_on" and m.velocity > 0:
                ons.append((round(sec(tick), 6), m.note))
        expected = []
        for n in track.notes:
            if tm.seconds_at(n.end_beat) > 1e-3:
                expected.append((max(0.0, tm.seconds_at(n.start_beat)), n.pitch))
        assert len(ons) == len(expected)
        for (got_s, got_p), (want_s, want_p) in zip(sorted(ons), sorted(expected)):
            assert got_p == want_p and abs(got_s - want_s) < 1e-3
    heard = [n for t in s.tracks for n in t.notes if tm.seconds_at(n.start_beat) < 0]
    assert heard, "the example must have notes before 0 s"
    tick, marks = 0, {}
    for m in mid.tracks[0]:
        tick += m.time
        if m.type == "marker":
            marks[m.text] = tick
    first_bar = math.ceil(tm.beat_at(0.0) / 4)
    assert abs(sec(marks[f"bar {first_bar + 1}"]) - tm.bar_start_s(first_bar)) < 1e-3


def test_foreign_file_roles_tempo_and_metre(tmp_path):
    """A type-0 file (all channels in one track) with tempo and metre changes, no header."""
    mid = mido.MidiFile(type=0, ticks_per_beat=480)
    trk = mido.MidiTrack()
    mid.tracks.append(trk)
    ev = [(0, mido.MetaMessage("time_signature", numerator=7, denominator=8)),
          (0, mido.MetaMessage("set_tempo", tempo=500000)),
          (0, mido.Message("program_change", channel=1, program=33)),
          (0, mido.Message("program_change", channel=2, program=0)),
          (0, mido.Message("program_change", channel=3, program=73)),
          (0, mido.Message("control_change", channel=3, control=7, value=50)),
          (0, mido.Message("control_change", channel=3, control=10, value=0)),
          (480 * 8, mido.MetaMessage("set_tempo", tempo=400000)),
          (480 * 14, mido.MetaMessage("time_signature", numerator=4, denominator=4))]
    for b in range(16):
        t = b * 480
        ev += [(t, mido.Message("note_on", channel=9, note=36, velocity=100)),
               (t + 100, mido.Message("note_on", channel=9, note=36, velocity=0)),
               (t, mido.Message("note_on", channel=1, note=36 + b % 5, velocity=90)),
               (t + 400, mido.Message("note_off", channel=1, note=36 + b % 5)),
               (t + 240, mido.Message("note_on", channel=3, note=76 + b % 3, velocity=90)),
               (t + 470, mido.Message("note_off", channel=3, note=76 + b % 3))]
        if b % 4 == 0:
            for p in (60, 64, 67):
                ev += [(t, mido.Message("note_on", channel=2, note=p, velocity=70)),
                       (t + 1900, mido.Message("note_off", channel=2, note=p))]
    ev.append((480 * 16, mido.Message("note_on", channel=3, note=80, velocity=50)))  # never released
    ev.sort(key=lambda e: e[0])
    prev = 0
    for t, m in ev:
        trk.append(m.copy(time=t - prev))
        prev = t
    path = tmp_path / "foreign file é.mid"
    mid.save(str(path))
    s = read_midi(path)
    roles = {t.role: t for t in s.tracks}
    assert set(roles) == {Role.DRUMS, Role.BASS, Role.HARMONY, Role.MELODY}
    assert roles[Role.BASS].program == 33 and roles[Role.MELODY].program == 73
    assert roles[Role.MELODY].gain_db == pytest.approx(-12.04, abs=0.01) and roles[Role.MELODY].pan == -1.0
    assert roles[Role.BASS].gain_db == 0.0 and roles[Role.BASS].pan == 0.0
    assert len(roles[Role.HARMONY].notes) == 12
    assert s.tempo_map.bpm_at_beat(0) == pytest.approx(120) and s.tempo_map.bpm_at_beat(9) == pytest.approx(150)
    assert s.tempo_map.seconds_at(8) == pytest.approx(4.0)
    assert s.time_signature == (7, 8)
    text = " ".join(s.meta["warnings"])
    assert "3.5 quarter notes" in text and "metre changes" in text and "never released" in text


def test_openttd_files_read(tmp_path):
    files = sorted(Path("/usr/share/games/openttd/baseset/openmsx").glob("*.mid"))[:4]
    if not files:
        pytest.skip("openttd-openmsx not installed")
    for f in files:
        s = read_midi(f)
        assert s.duration_s > 20 and any(t.role == Role.DRUMS for t in s.tracks)


def test_bad_files_raise_media_error(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not a midi file at all")
    with pytest.raises(MediaError):
        read_midi(bad)
    with pytest.raises(MediaError):
        read_midi(tmp_path / "missing.mid")
    empty = mido.MidiFile()
    empty.tracks.append(mido.MidiTrack())
    empty.save(str(tmp_path / "empty.mid"))
    with pytest.raises(MediaError, match="no notes"):
        read_midi(tmp_path / "empty.mid")


def test_smpte_and_type2_files(tmp_path):
    import struct
    smpte = tmp_path / "smpte.mid"   # division 0xE728: 25 fps x 40 ticks, not ticks per beat
    smpte.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 0xE728) + b"MTrk" + struct.pack(">I", 12)
                      + bytes([0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0, 0x00, 0xFF, 0x2F, 0x00]))
    with pytest.raises(MediaError, match="SMPTE"):
        read_midi(smpte)
    mid = mido.MidiFile(type=2, ticks_per_beat=96)
    for p in (60, 64):
        t = mido.MidiTrack()
        t += [mido.Message("note_on", note=p, velocity=90, time=0), mido.Message("note_off", note=p, time=96)]
        mid.tracks.append(t)
    mid.save(str(tmp_path / "t2.mid"))
    s = read_midi(tmp_path / "t2.mid")
    assert sum(len(t.notes) for t in s.tracks) == 2 and "type 2" in " ".join(s.meta["warnings"])
