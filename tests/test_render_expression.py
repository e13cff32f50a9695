"""Expression as players do it, heard in the render and written into the MIDI export:
the piano's pedal changes with the harmony, strings swell, hats groove, ghost notes fall
where a drummer drops them, and a phrase rises and falls. Streaming still equals one-shot."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from robin_studio.render.humanise import humanise
from robin_studio.render.synth import SAMPLE_RATE as SR
from robin_studio.render.synth import StreamingRenderer, load_synth, render_score
from robin_studio.score.expression import perform
from robin_studio.score.midi_io import write_midi
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track

CHORDS = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]


def _piano_and_strings(bars=4, bpm=100.0) -> Score:
    piano, strings = [], []
    for i in range(bars):
        for p in CHORDS[i % 4]:
            piano.append(Note(4 * i, 0.5, p, 90))           # struck short: the pedal holds it
            piano.append(Note(4 * i + 2, 0.5, p, 80))       # the same chord again mid-bar
            strings.append(Note(4 * i, 4.0, p - 12, 80))
    return Score(TempoMap.constant(bpm, 4 * bars), [Track(Role.HARMONY, 0, piano), Track(Role.TEXTURE, 48, strings)])


@pytest.fixture(scope="module")
def synth():
    return load_synth()


def _ccs(path, control):
    mid = mido.MidiFile(path)
    out = []
    for tr in mid.tracks:
        tick = 0
        for m in tr:
            tick += m.time
            if m.type == "control_change" and m.control == control:
                out.append((tick / mid.ticks_per_beat, m.value, m.channel))
    return out


def test_pedal_changes_with_the_harmony_in_the_midi_export(tmp_path):
    score = _piano_and_strings()
    path = write_midi(score, tmp_path / "x.mid")
    pedal = _ccs(path, 64)
    assert pedal, "no sustain pedal in the export"
    ups = [b for b, v, _ in pedal if v == 0]
    downs = [b for b, v, _ in pedal if v == 127]
    mid = mido.MidiFile(path)
    first_on = []
    for tr in mid.tracks:
        tick = 0
        for m in tr:
            tick += m.time
            if m.type == "note_on" and m.velocity > 0:
                first_on.append(tick / mid.ticks_per_beat)
    lead = min(first_on)                         # the file may start with a lead-in
    onsets = sorted({n.start_beat for n in score.tracks[0].notes})
    for o in onsets[1:]:
        # lifted just before each new chord, pressed again just after it is struck
        assert any(0 < (o + lead) - u <= 0.1 for u in ups), o
        assert any(0 < d - (o + lead) <= 0.2 for d in downs), o
    assert len(ups) == len(downs)


def test_strings_swell_in_the_export(tmp_path):
    path = write_midi(_piano_and_strings(), tmp_path / "x.mid")
    for control in (11, 1):
        values = [v for _, v, _ in _ccs(path, control)]
        assert values and max(values) - min(values) >= 20, control      # about 6 dB


def test_the_pedal_is_heard(synth):
    """A chord struck for half a beat still sounds a beat later (the pedal holds it), and is
    cleared before the next chord."""
    score = _piano_and_strings(bars=1)
    score = Score(score.tempo_map, [score.tracks[0]])
    audio = render_score(score, synth=synth, tail_s=0.5)
    tm = score.tempo_map
    rms = lambda a, b: float(np.sqrt(np.mean(audio[int(tm.seconds_at(a) * SR):int(tm.seconds_at(b) * SR)] ** 2)))
    dry = Score(tm, [Track(Role.HARMONY, 24 + 0, [])])     # reference: the struck chord alone
    assert rms(1.3, 1.7) > 0.25 * rms(0.1, 0.4)
    heard = perform(score.tracks[0]).sounding
    assert max(n.end_beat for n in heard if n.start_beat < 1) == pytest.approx(2.0 - 0.03, abs=1e-6)
    assert dry.tracks[0].notes == []


def test_streaming_with_expression_equals_one_shot(synth):
    score = _piano_and_strings(bars=4, bpm=93.0)
    one = render_score(score, synth=synth, tail_s=1.0)
    edges = [0.37, 1.9, 2.58, 4.0, 6.01, 8.3, len(one) / SR]
    with StreamingRenderer(score, SR, synth) as r:
        parts = [r.render_until(e) for e in edges]
    assert np.array_equal(np.concatenate(parts), one)


def _groove(bars=4) -> Score:
    drums = []
    for b in range(bars * 4):
        drums += [Note(b, 0.1, 42, 80), Note(b + 0.5, 0.1, 42, 80)]
        drums.append(Note(b, 0.1, 36 if b % 2 == 0 else 38, 100))
    melody = [Note(i * 0.5, 0.5, 72, 80) for i in range(bars * 8)]
    return Score(TempoMap.constant(100.0, bars * 4), [Track(Role.DRUMS, 0, drums), Track(Role.MELODY, 73, melody)])


def test_hats_groove_and_ghost_notes_fall_before_backbeats():
    out = humanise(_groove(), seed=3, ghost_notes=True)
    hats = [n for n in out.tracks[0].notes if n.pitch == 42]
    on = [n.velocity for n in hats if abs(n.start_beat - round(n.start_beat)) < 0.05]
    off = [n.velocity for n in hats if abs(n.start_beat - round(n.start_beat)) >= 0.05]
    assert np.mean(on) - np.mean(off) >= 8
    ghosts = [n for n in out.tracks[0].notes if n.pitch == 38 and n.velocity <= 40]
    assert ghosts and all(min(abs(n.start_beat % 4 - bb) for bb in (0.75, 1.75, 2.75, 3.75)) < 0.05 for n in ghosts)
    assert not [n for n in humanise(_groove(), seed=3).tracks[0].notes if n.velocity <= 40 and n.pitch == 38]


def test_velocity_follows_the_phrase():
    out = humanise(_groove(bars=32), seed=1, amount=1.0)
    mel = out.tracks[1].notes
    grid = lambda n: round(n.start_beat * 2) / 2          # the written position (humanised a hair)
    by_bar = [np.mean([n.velocity for n in mel if int(grid(n) // 4) % 4 == b]) for b in range(4)]
    assert by_bar[2] > by_bar[0] + 2 and by_bar[2] > by_bar[3] + 3      # rises to bar 3, falls back
    downbeats = [n.velocity for n in mel if grid(n) % 4 == 0]
    offbeats = [n.velocity for n in mel if grid(n) % 1 == 0.5]
    assert np.mean(downbeats) > np.mean(offbeats) + 5


def _edm(bars=4, style="edm") -> Score:
    kicks = [Note(b, 0.2, 36, 110) for b in range(bars * 4)]
    bass = [Note(b + o, 0.25, 36, 100) for b in range(bars * 4) for o in (0.0, 0.25, 0.5, 0.75)]
    pad = [Note(0, bars * 4, p, 80) for p in (60, 64, 67)]
    return Score(TempoMap.constant(128.0, bars * 4),
                 [Track(Role.DRUMS, 25, kicks), Track(Role.BASS, 38, bass), Track(Role.TEXTURE, 89, pad)],
                 meta={"style": style})


def _pad_envelope(synth, style):
    """RMS of the pad stem in 10 ms frames, folded over one beat (kick at 0)."""
    from robin_studio.render.synth import render_stems
    s = _edm(style=style)
    pad = render_stems(s, synth=synth)[Role.TEXTURE]
    beat_n = int(60 / 128 * SR)
    frames = []
    for b in range(2, 14):                      # away from the pad's attack and release
        seg = pad[b * beat_n:(b + 1) * beat_n]
        frames.append([np.sqrt(np.mean(seg[i:i + 480] ** 2)) for i in range(0, beat_n - 480, 480)])
    return 20 * np.log10(np.mean(frames, axis=0) + 1e-12)


def test_sidechain_pumps_on_kicks_in_edm_only(synth):
    edm = _pad_envelope(synth, "edm")
    pop = _pad_envelope(synth, "pop")
    # right after the kick the pad is ducked (about 7 dB), by mid-beat it is back
    assert edm[len(edm) // 2] - edm[1] >= 5.0
    assert abs(pop[len(pop) // 2] - pop[1]) < 1.5


def test_streaming_with_the_pump_equals_one_shot(synth):
    score = _edm(bars=3)
    one = render_score(score, synth=synth, tail_s=0.5)
    edges = [0.31, 0.9, 1.77, 3.0, 4.41, len(one) / SR]
    with StreamingRenderer(score, SR, synth) as r:
        parts = [r.render_until(e) for e in edges]
    assert np.array_equal(np.concatenate(parts), one)


def test_stems_sum_to_the_mix_before_the_master_bus(synth):
    """With everything the studio chain plays (a second bank's strings, pedal, swells, the
    edm pump), the export's stems (each with its track's gain and pan) add up to the dry
    mix the live master is fed: nothing is lost or doubled between stems and mix."""
    from robin_studio.render.palettes import apply_palette
    from robin_studio.render.synth import render_stems

    base = _edm(bars=3)
    s = apply_palette(Score(base.tempo_map, base.tracks + [Track(Role.HARMONY, 0, [
        Note(4 * i + o, 0.5, p, 85) for i in range(3) for o in (0, 2) for p in CHORDS[i]])]), "edm")
    s = Score(s.tempo_map, [*s.tracks[:2], Track(Role.MELODY, 48, [Note(0, 6, 72, 90), Note(6, 6, 74, 90)],
                                                 gain_db=-2.0, pan=0.3), *s.tracks[2:]], meta=s.meta)
    mix = render_score(s, synth=synth)
    stems = render_stems(s, synth=synth, mixed=True)
    total = sum(stems.values())
    assert np.abs(total - mix).max() < 1e-4 * max(1.0, float(np.abs(mix).max()))
    # and the pump is in the stems: the pad ducks after kicks in its own stem too
    assert np.abs(stems[Role.TEXTURE]).max() > 0


def test_old_and_new_chain_side_by_side():
    """The evaluation's A/B: the same notes through "gm-legacy" and "studio", both delivered
    at -14 LUFS, and audibly different (the second bank's strings, pedal, pump)."""
    from robin_studio.generate import sound
    from robin_studio.render.loudness import integrated_lufs

    s = _edm(bars=3)
    s = Score(s.tempo_map, [*s.tracks, Track(Role.HARMONY, 48, [Note(0, 12, p, 80) for p in (60, 64, 67)])], meta=s.meta)
    old = sound.render_chain(s, 7.0, chain="gm-legacy", style="edm")
    new = sound.render_chain(s, 7.0, chain="studio", style="edm")
    assert old.shape == new.shape
    for a in (old, new):
        assert integrated_lufs(a, SR) == pytest.approx(-14.0, abs=0.5)
    assert np.sqrt(np.mean((old - new) ** 2)) > 0.05 * np.sqrt(np.mean(new ** 2))
    assert "gm-legacy" in sound.CHAINS and sound.DEFAULT_CHAIN == "studio"


def test_the_engine_plays_its_style_pump():
    """A dance prompt through the engine: the score carries its style, and the synth pumps
    the pad/bass on its kicks (the style's MixSettings.sidechain_db)."""
    from robin_studio.generate.baseline import NaiveLoopGenerator
    from robin_studio.generate.engine import Scorer
    from robin_studio.render.palettes import mix_for
    from tests.test_generate_engine import make_analysis

    piece = Scorer(generator=NaiveLoopGenerator()).generate(make_analysis(8.0, cuts=(4.0, 6.0)),
                                                            "upbeat electronic dance track, 126 bpm", seed=1).result()
    style = piece.score.meta.get("style")
    assert mix_for(style).sidechain_db > 0, style
    with StreamingRenderer(piece.score, SR) as r:
        assert r._pump is not None and r._pump[0] < 0.8


def _pitch_hz(audio, a, b):
    """The strongest frequency under 1 kHz in audio[a:b] (mono), parabolic-interpolated: the
    fundamental of these notes (a square lead's third harmonic, lifted by the lead's presence
    EQ, can be as strong as it)."""
    x = audio[a:b].mean(axis=1) * np.hanning(b - a)
    spec = np.abs(np.fft.rfft(x, 1 << 16))
    top = int(1000 * (1 << 16) / SR)
    k = int(np.argmax(spec[20:top])) + 20
    y0, y1, y2 = np.log(spec[k - 1:k + 2] + 1e-12)
    return (k + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)) * SR / (1 << 16)


def test_synth_leads_glide_in_synthwave_only(synth, tmp_path):
    tm = TempoMap.constant(100.0, 8)
    lead = [Note(0, 1.0, 60, 100), Note(1.0, 1.0, 67, 100)]       # legato up a fifth
    t1 = int(tm.seconds_at(1.0) * SR)
    heard = {}
    for style in ("synthwave", "jazz"):
        s = Score(tm, [Track(Role.MELODY, 80, lead)], meta={"style": style})
        audio = render_score(s, synth=synth, tail_s=0.3)
        heard[style] = (_pitch_hz(audio, t1 + 240, t1 + 240 + 1200), _pitch_hz(audio, t1 + 9600, t1 + 9600 + 4800))
        path = write_midi(s, tmp_path / f"{style}.mid")
        heard[style + "-cc65"] = [v for _, v, _ in _ccs(path, 65)]
    g4 = 440 * 2 ** ((67 - 69) / 12)
    start, settled = heard["synthwave"]
    assert settled == pytest.approx(g4, rel=0.02) and start < g4 * 0.96          # slides up into G4
    assert heard["jazz"][0] == pytest.approx(g4, rel=0.02)                      # no glide in jazz
    assert heard["synthwave-cc65"] == [127] and heard["jazz-cc65"] == []
