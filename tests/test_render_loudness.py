"""The numpy BS.1770 meter agrees with pyloudnorm (an independent implementation), the
true-peak filter is scipy's firwin design, the loudness plan has the shapes it promises,
and nothing on the path to the first sound imports scipy.signal or pyloudnorm."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin

from robin_studio.render import loudness as L
from robin_studio.render.loudness_plan import LoudnessPlan, Wish, plan_loudness


@pytest.mark.parametrize("sr", [48000, 44100])
@pytest.mark.parametrize("seconds", [0.7, 7.3, 31.0])
def test_integrated_loudness_matches_pyloudnorm(sr, seconds):
    rng = np.random.default_rng(int(seconds * 10))
    n = int(seconds * sr)
    t = np.arange(n) / sr
    # noise with a swell, a low hum and a high tone: every part of the K-weighting matters
    x = rng.normal(0, 0.05, (n, 2)) * np.linspace(0.02, 1.0, n)[:, None]
    x[:, 0] += 0.2 * np.sin(2 * np.pi * 50 * t)
    x[:, 1] += 0.05 * np.sin(2 * np.pi * 6000 * t)
    ours = L.integrated_lufs(x.astype(np.float32), sr)
    ref = pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float32).astype(np.float64))
    assert ours == pytest.approx(ref, abs=0.05)


def test_silence_and_too_short_are_minus_infinity():
    assert L.integrated_lufs(np.zeros((48000, 2)), 48000) == -np.inf
    assert L.integrated_lufs(np.ones((1000, 2)) * 0.1, 48000) == -np.inf


def test_short_term_follows_a_step():
    sr = 48000
    x = np.random.default_rng(0).normal(0, 1, (sr * 12, 2)).astype(np.float32)
    x[: sr * 6] *= 0.01
    x[sr * 6:] *= 0.1                       # +20 dB at 6 s
    t, st = L.short_term_lufs(x, sr, hop_s=0.5)
    assert st[t > 9].mean() - st[t < 4].mean() == pytest.approx(20.0, abs=0.3)


def test_true_peak_filter_is_firwins_design():
    h = firwin(48, 0.25, window=("kaiser", 8.0))
    for k, phase in enumerate(L.TP_PHASES):       # the four phases of 4 x firwin's design
        assert np.allclose(phase, (4 * h[k::4]).astype(np.float32), atol=1e-7)


def test_running_filters_match_scipy_ndimage():
    x = np.random.default_rng(1).normal(size=5003)
    for size in (1, 3, 145, 1001):
        assert np.array_equal(L.running_min(x, size), minimum_filter1d(x, size | 1, mode="nearest"))
        assert np.allclose(L.running_mean(x, size), uniform_filter1d(x, size | 1, mode="nearest"))


def test_plan_shapes():
    starts = [2.0 * i for i in range(21)]          # 20 bars of 2 s
    flat = plan_loudness(starts, [0.6] * 20)
    assert flat.is_flat
    build = plan_loudness(starts, [0.6] * 20, [Wish("build", 0.0, 40.0)])
    assert build.offset_db(39.0) - build.offset_db(1.0) >= 10.0
    assert np.all(np.diff(build.offset_db(np.arange(0.5, 40, 0.5))) >= -1e-9)   # only rises
    quiet = plan_loudness(starts, [0.6] * 20, [Wish("quiet", 0.0, 10.0)])
    assert quiet.offset_db(5.0) <= -9.0 and quiet.offset_db(20.0) == pytest.approx(0.0)
    drop = plan_loudness(starts, [0.6] * 20, [Wish("drop", 20.0, 20.0)])
    assert drop.offset_db(19.99) <= -6.0 and drop.offset_db(20.01) >= 2.0     # a step, not a ramp
    g = drop.gains(0, 48000 * 40, 48000)
    assert g.dtype == np.float32 and np.all(np.abs(np.diff(20 * np.log10(g))) < 0.05)   # no click: 9 dB over 10 ms at most
    assert LoudnessPlan.flat().gains(0, 10, 48000).tolist() == [1.0] * 10


def test_no_heavy_import_on_the_path_to_the_first_sound():
    code = ("import sys, robin_studio.generate.engine, robin_studio.render.master, "
            "robin_studio.render.synth, robin_studio.render.loudness_plan, robin_studio.generate.sound\n"
            "print(sorted(m for m in sys.modules if m in ('scipy.signal', 'pyloudnorm', 'librosa', 'torch')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
