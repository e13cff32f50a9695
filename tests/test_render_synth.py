"""The SoundFont synthesizer: real audio, notes on time, chunked == one-shot, clear errors."""

from dataclasses import replace

import numpy as np
import pytest

from robin_studio.errors import SoundFontError
from robin_studio.render import synth as synth_mod
from robin_studio.render.synth import StreamingRenderer, load_synth, render_score, render_stems
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.score.types import Note, Role, Score, Track

SR = 48000


@pytest.fixture(scope="module")
def synth():
    return load_synth()


def _band(seconds=12.0, bpm=100.0):
    beats = int(seconds * bpm / 60)
    tm = TempoMap([TempoSegment(0, beats / 2, bpm, bpm), TempoSegment(beats / 2, beats / 2, bpm, bpm * 1.2)])
    rng = np.random.default_rng(1)
    return Score(tm, [
        Track(Role.DRUMS, 0, [Note(b + o, 0.25, k, 100) for b in range(beats) for o, k in ((0, 36), (0.5, 42))]),
        Track(Role.BASS, 33, [Note(b, 0.9, 36 + (b // 4) % 5, 90) for b in range(beats)]),
        Track(Role.HARMONY, 48, [Note(b, 4.0, p, 70) for b in range(0, beats, 4) for p in (60, 64, 67)], gain_db=-3),
        Track(Role.MELODY, 73, [Note(b + 0.5 * k, 0.5, int(rng.choice([72, 74, 76, 79])), 95)
                                for b in range(beats) for k in range(2)], pan=0.3),
        Track(Role.TEXTURE, 89, [Note(b, 8.0, 48, 60) for b in range(0, beats, 8)], gain_db=-6),
    ])


def test_render_score_is_stereo_float32_and_sounds(synth):
    s = _band(6.0)
    audio = render_score(s, synth=synth)
    assert audio.dtype == np.float32 and audio.ndim == 2 and audio.shape[1] == 2
    assert abs(len(audio) / SR - (synth_mod.score_end_s(s) + synth_mod.DEFAULT_TAIL_S)) < 1e-3
    rms = float(np.sqrt(np.mean(audio ** 2)))
    assert 0.01 < rms and np.abs(audio).max() < 1.0


def test_chunked_rendering_equals_one_shot(synth):
    s = _band(10.0)
    whole = render_score(s, synth=synth)
    rng = np.random.default_rng(7)
    r = StreamingRenderer(s, synth=synth)
    chunks, t = [], 0.0
    while t < len(whole) / SR:
        t = min(len(whole) / SR, t + float(rng.uniform(0.003, 1.5)))
        chunks.append(r.render_until(t))
    r.close()
    joined = np.concatenate(chunks)
    assert joined.shape == whole.shape
    assert np.array_equal(joined, whole)


def test_streaming_with_bars_appended_equals_final_one_shot(synth):
    """The engine's pattern: generate a bar, append it, render up to the end of that bar."""
    full = _band(8.0)
    bpb = full.beats_per_bar
    bars = int(np.ceil(full.tempo_map.total_beats / bpb))
    bpb = full.beats_per_bar

    def upto(bar):  # the score as it stands after `bar` bars were generated
        return replace(full, tracks=[replace(t, notes=[n for n in t.notes if n.start_beat < bar * bpb])
                                     for t in full.tracks])

    # Each chunk stops one attack lead short of the next bar line: the next bar's slow
    # attacks (strings, pad) start sounding that early.
    lead = synth_mod.MAX_ATTACK_LEAD_S
    r = StreamingRenderer(upto(1), synth=synth)
    chunks = [r.render_until(full.tempo_map.bar_start_s(1) - lead)]
    for bar in range(2, bars + 1):
        r.update_score(upto(bar))
        chunks.append(r.render_until(full.tempo_map.bar_start_s(bar) - lead))
    end_s = synth_mod.score_end_s(full) + synth_mod.DEFAULT_TAIL_S
    chunks.append(r.render_until(end_s))
    r.close()
    whole = render_score(full, synth=synth)
    assert np.array_equal(np.concatenate(chunks), whole)


def _sounding_at(audio: np.ndarray, from_n: int, level: float = 0.25) -> int:
    """First sample after `from_n` where the sound reaches `level` of its peak over the
    next 0.3 s (1 ms envelope): where a listener hears a note start."""
    w = SR // 1000
    env = np.abs(audio[from_n:from_n + int(0.3 * SR)]).max(axis=1)
    env = env[: len(env) // w * w].reshape(-1, w).max(axis=1)
    return from_n + int(np.argmax(env >= level * env.max())) * w


def test_note_sounds_on_its_beat(synth):
    """A note is heard on its beat whatever its attack: a piano's and a slow string section's
    sound both reach a quarter of their peak there (the strings' note-on comes early)."""
    tm = TempoMap.constant(90.0, 8)
    # (61: an odd key, whose lead comes from the nearest measured one)
    for program, role, pitch in ((0, Role.MELODY, 60), (48, Role.HARMONY, 60), (48, Role.HARMONY, 61),
                                 (73, Role.MELODY, 72)):
        for beat in (1.0, 2.37):
            s = Score(tm, [Track(role, program, [Note(beat, 2.0, pitch, 110)])])
            audio = render_score(s, synth=synth, tail_s=0.5)
            expected = tm.seconds_at(beat) * SR
            note_on = int(np.argmax(np.abs(audio).max(axis=1) > 1e-4))
            assert abs(_sounding_at(audio, note_on) - expected) <= 0.003 * SR, (program, beat)
            assert expected - synth_mod.MAX_ATTACK_LEAD_S * SR - synth_mod.BLOCK <= note_on <= expected + 0.002 * SR
    # The strings need the lead (their attack is far slower than a piano's).
    assert synth.lead_table(48, False, Role.HARMONY)[60] > 4 * synth.lead_table(0, False, Role.MELODY)[60]


def test_pan_and_gain(synth):
    tm = TempoMap.constant(120.0, 4)
    notes = [Note(0, 2.0, 60, 100)]
    left = render_score(Score(tm, [Track(Role.HARMONY, 0, notes, pan=-1.0)]), synth=synth, tail_s=0.2)
    quiet = render_score(Score(tm, [Track(Role.HARMONY, 0, notes, gain_db=-12.0)]), synth=synth, tail_s=0.2)
    loud = render_score(Score(tm, [Track(Role.HARMONY, 0, notes)]), synth=synth, tail_s=0.2)
    # The bank's stereo samples are two hard-panned regions; the channel pan shifts both,
    # so hard left keeps the right-hand region in the middle: clearly left, not one-sided.
    assert np.sqrt(np.mean(left[:, 0] ** 2)) > 1.3 * np.sqrt(np.mean(left[:, 1] ** 2))
    ratio_db = 20 * np.log10(np.sqrt(np.mean(quiet ** 2)) / np.sqrt(np.mean(loud ** 2)))
    assert ratio_db == pytest.approx(-12.0, abs=0.5)


def test_stems_sum_to_the_unity_mix(synth):
    s = _band(4.0)
    stems = render_stems(s, synth=synth)
    assert set(stems) == set(Role)
    assert len({len(a) for a in stems.values()}) == 1
    unity = replace(s, tracks=[replace(t, gain_db=0.0, pan=0.0) for t in s.tracks])
    whole = render_score(unity, synth=synth)
    total = sum(stems.values())
    # Voices are summed in a different order: equal up to float rounding.
    assert np.abs(total - whole).max() < 1e-4


def test_missing_soundfont_says_what_to_do(monkeypatch, tmp_path):
    with pytest.raises(SoundFontError, match="not found"):
        load_synth(tmp_path / "nope.sf2")
    monkeypatch.delenv(synth_mod.SOUNDFONT_ENV, raising=False)
    monkeypatch.setattr(synth_mod, "DEBIAN_SOUNDFONTS", (tmp_path / "a.sf2", tmp_path / "b.sf3"))
    monkeypatch.setattr(synth_mod, "_user_soundfont_dir", lambda: tmp_path / "user")
    monkeypatch.setattr(synth_mod.paths, "resources_dir", lambda: tmp_path / "res")
    monkeypatch.setenv("ROBIN_STUDIO_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(SoundFontError) as err:
        load_synth()
    assert "setup.sh" in str(err.value) and "fluid-soundfont-gm" in str(err.value)
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF0000sfbk garbage")
    with pytest.raises(SoundFontError, match="Cannot load"):
        load_synth(bad)


def test_user_soundfont_env_is_used(monkeypatch):
    monkeypatch.setenv(synth_mod.SOUNDFONT_ENV, "/usr/share/sounds/sf3/FluidR3Mono_GM.sf3")
    if not synth_mod.Path("/usr/share/sounds/sf3/FluidR3Mono_GM.sf3").is_file():
        pytest.skip("fluidr3mono-gm-soundfont not installed")
    assert synth_mod.find_soundfont().name == "FluidR3Mono_GM.sf3"


def test_unknown_program_levels_are_measured_without_a_second_state(synth, monkeypatch):
    """A renderer measures a new program's level with its own state before it starts, so
    it never borrows (or loads) a second copy of the bank for it."""
    acquired = []
    real = synth._acquire
    monkeypatch.setattr(synth, "_acquire", lambda sr, *a: acquired.append(sr) or real(sr, *a))
    program = 117   # melodic tom: in no palette, so not measured at load
    # (an earlier test in this process may have played it: forget it, as a fresh process would)
    for k in [k for k in synth._levels if k[0] == program and not k[1]]:
        synth._levels.pop(k, None)
        synth._attacks.pop(k, None)
    for k in [k for k in synth._lead_tables if k[0] == program and not k[1]]:
        synth._lead_tables.pop(k)
    assert (program, False, 75, 100) not in synth._levels
    s = Score(TempoMap.constant(100, 4), [Track(Role.MELODY, program, [Note(0, 1, 72, 100)])])
    audio = render_score(s, synth=synth, tail_s=0.2)
    assert len(acquired) == 1 and (program, False, 75, 100) in synth._levels
    assert np.abs(audio).max() > 0.001


def test_more_tracks_than_midi_channels(synth):
    """Files with 20 parts (orchestral MIDI) still render every part."""
    tm = TempoMap.constant(120, 4)
    tracks = [Track(Role.HARMONY, p, [Note(0, 1.0, 60 + i % 12, 90)], gain_db=-float(i % 3))
              for i, p in enumerate(range(0, 80, 4))]
    audio = render_score(Score(tm, tracks), synth=synth, tail_s=0.2)
    assert np.abs(audio).max() > 0.01
    # Only the parts beyond the 16th play: they must still be heard (sharing channels).
    late = [replace(t, notes=t.notes if i >= 16 else []) for i, t in enumerate(tracks)]
    audio = render_score(Score(tm, late), synth=synth, tail_s=0.2)
    assert np.abs(audio).max() > 0.01
