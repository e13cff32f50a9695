"""What issue 15's last items change for a listener: repeated strikes are not copies of each
other (velocity layers, a drummer's timing), each role has its own EQ (a clean low end, a
present lead), the stems are the mix, and a bank is loaded only as far as the piece plays it
(the same notes, a fraction of the samples)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from robin_studio.render import synth as synth_mod
from robin_studio.render.bank_subset import BankIndex
from robin_studio.render.palettes import ROLE_EQ
from robin_studio.render.synth import load_synth, render_score, render_stems
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track

SR = 48000
FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
pytestmark = pytest.mark.skipif(not FLUID.is_file(), reason="fluid-soundfont-gm not installed")


@pytest.fixture(scope="module")
def synth():
    return load_synth(FLUID)


def _hits(audio: np.ndarray, tm: TempoMap, beats: list[float], length_s: float = 0.12) -> list[np.ndarray]:
    """Each hit's audio from 20 ms before its beat (the note-on may come early)."""
    out = []
    for b in beats:
        a = int(round((tm.seconds_at(b) - 0.02) * SR))
        out.append(audio[a:a + int(length_s * SR)])
    return out


@pytest.mark.parametrize("program, drums, key, role", [(0, True, 38, Role.DRUMS), (0, False, 60, Role.HARMONY)])
def test_repeated_strikes_are_not_copies(synth, program, drums, key, role):
    """A snare on beat 2 of eight bars, a piano chord tone on beat 3: same key, same velocity,
    same place in the bar. Played as written (the old chain) every strike is the same
    sound; played by the studio chain, no strike is a copy of the one before."""
    tm = TempoMap.constant(100.0, 4 * 8)
    beats = [4.0 * bar + (1.0 if drums else 2.0) for bar in range(8)]
    score = Score(tm, [Track(role, program, [Note(b, 0.5, key, 96) for b in beats])])
    for chain in ("gm-legacy", "studio"):
        audio = render_score(score, synth=synth, chain=chain, tail_s=0.5)
        hits = _hits(audio, tm, beats)
        level = max(float(np.abs(h).max()) for h in hits)
        diffs = [float(np.abs(a - b).max()) / level for a, b in zip(hits, hits[1:])]
        if chain == "gm-legacy":
            assert max(diffs) < 1e-4, diffs          # as written: copies
        else:
            assert min(diffs) > 0.01, diffs          # every repeat differs audibly in level or tone


def test_velocity_layers_are_read_from_the_bank():
    fluid = BankIndex(FLUID)
    assert fluid.velocity_splits(0, 0)[:3] == (65, 73, 81)          # the piano's nine bands
    assert 81 in fluid.velocity_splits(128, 0)                        # the standard kit's
    assert fluid.velocity_splits(0, 33) == ()                         # finger bass: one layer


def test_most_repeats_play_another_velocity_layer():
    """The repeat steps are the same for every bank (so the MIDI file can hold them); on
    FluidR3's 8-step layers most of them reach another layer (another sample)."""
    from robin_studio.score.expression import REPEAT_VELOCITY_STEPS

    splits = BankIndex(FLUID).velocity_splits(0, 0)
    layer = lambda v: sum(v >= s for s in splits)
    moves = [(v, v + d) for v in range(65, 121) for d in REPEAT_VELOCITY_STEPS]
    crossed = sum(layer(a) != layer(b) for a, b in moves) / len(moves)
    assert crossed > 0.55, crossed
    assert 0 not in REPEAT_VELOCITY_STEPS and len(set(REPEAT_VELOCITY_STEPS)) == len(REPEAT_VELOCITY_STEPS)


def _band_db(audio: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(audio.mean(axis=1))) ** 2
    f = np.fft.rfftfreq(len(audio), 1 / SR)
    return float(10 * np.log10(spec[(f >= lo) & (f < hi)].sum() + 1e-20))


def test_each_role_has_its_eq_and_the_bus_its_balance(synth):
    """Low chords lose their rumble under the harmony's high-pass (the old chain, with no
    per-role EQ, is the reference: same notes, same program); the studio master lifts the
    low end and takes the upper mids down against the old master, on the same audio."""
    from robin_studio.render.master import master
    from robin_studio.render.palettes import BUS_EQ, mix_for

    tm = TempoMap.constant(90.0, 8)
    chords = [Note(0, 8.0, p, 80) for p in (36, 43, 48, 55)]            # C2 G2 C3 G3: a low voicing
    heard = {}
    for chain in ("gm-legacy", "studio"):
        harmony = render_score(Score(tm, [Track(Role.HARMONY, 0, chords)]), synth=synth, chain=chain)
        heard[chain] = _band_db(harmony, 20, 60) - _band_db(harmony, 200, 2000)
    assert heard["studio"] < heard["gm-legacy"] - 6.0, heard             # high-passed chords
    assert set(ROLE_EQ) == set(Role)
    noise = np.random.default_rng(0).normal(0, 0.05, (SR * 4, 2)).astype(np.float32)
    tilt = {}
    for chain in ("gm-legacy", "studio"):
        os_chain = mix_for("pop", chain)
        assert (os_chain.bus_bands() == ()) == (chain == "gm-legacy")
        import os
        os.environ["ROBIN_STUDIO_SOUND_CHAIN"] = chain
        try:
            out = master(noise, SR, style="pop")
        finally:
            os.environ.pop("ROBIN_STUDIO_SOUND_CHAIN", None)
        tilt[chain] = (_band_db(out, 40, 120) - _band_db(out, 400, 800), _band_db(out, 2000, 4000) - _band_db(out, 400, 800))
    assert tilt["studio"][0] > tilt["gm-legacy"][0] + 2.0, tilt            # more low end
    assert tilt["studio"][1] < tilt["gm-legacy"][1] - 2.0, tilt            # less edge
    assert BUS_EQ


def test_stems_are_the_mix_bit_for_bit(synth):
    from robin_studio.bench.bench_render import bench_score
    from robin_studio.render.palettes import apply_palette

    score = apply_palette(bench_score(6.0), "edm")      # second bank, sidechain pump, EQ
    stems = render_stems(score, synth=synth, mixed=True)
    mix = render_score(score, synth=synth)
    assert np.array_equal(sum(stems.values()), mix)


def test_a_piece_loads_only_what_it_plays(synth):
    """The bench's 5-part score loads its presets over its keys: under a sixth of FluidR3's
    samples, and a note from such a part sounds as from the whole bank."""
    from robin_studio.bench.bench_render import bench_score

    score = bench_score(10.0)
    with synth_mod.StreamingRenderer(replace(score, tracks=[t for t in score.tracks if t.program != 48]),
                                     synth=synth) as r:
        parts = [set(L.wanted) for L in r._layers]
        loaded = sum(len(BankIndex(FLUID).part(L.wanted)) for L in r._layers)
    assert loaded < FLUID.stat().st_size / 6, (loaded, parts)
    from tinysoundfont import _tinysoundfont as tsf

    notes = []
    for font in (tsf.SoundFont(str(FLUID)), tsf.SoundFont(BankIndex(FLUID).part({(0, 0): (55, 65)}))):
        font.set_output(tsf.OutputMode.StereoInterleaved, SR, -6.0)
        font.channel_set_preset_number(0, 0, False)
        font.channel_note_on(0, 60, 0.8)
        out = np.zeros((SR // 2, 2), np.float32)
        font.render(out, False)
        notes.append(out)
    # (sample positions count from another origin in the part: float rounding only)
    assert np.abs(notes[0] - notes[1]).max() < 1e-5 and np.abs(notes[0]).max() > 0.01
