"""The independent listener's plumbing: its float32 features stay finite where musicnn's own
float16 step overflows, a missing venv is reported (not raised), and, when the listener is
installed on this machine, it hears a real recording (skipped in CI, where it is not)."""

from __future__ import annotations

import types

import numpy as np
import pytest

from robin_studio.eval import listener, listener_worker

# musicnn.configuration's values, without importing musicnn (not in the project's venv)
CONFIG = types.SimpleNamespace(SR=16000, FFT_HOP=256, FFT_SIZE=512, N_MELS=96)


def loud_tone(tmp_path, seconds=4.0):
    import soundfile as sf

    t = np.arange(int(seconds * CONFIG.SR)) / CONFIG.SR
    y = 0.98 * np.sign(np.sin(2 * np.pi * 110 * t))   # a mastered-loud square wave
    path = tmp_path / "loud.wav"
    sf.write(path, y.astype(np.float32), CONFIG.SR)
    return path


def test_float32_features_stay_finite_where_float16_overflows(tmp_path):
    import librosa

    path = loud_tone(tmp_path)
    ours = listener_worker._features(str(path), CONFIG)
    assert ours.shape[1] == 96 and np.all(np.isfinite(ours))
    # musicnn's own step (extractor.batch_data): cast to float16, then log10(10000 x + 1)
    audio, sr = librosa.load(str(path), sr=CONFIG.SR)
    mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=CONFIG.FFT_HOP,
                                         n_fft=CONFIG.FFT_SIZE, n_mels=CONFIG.N_MELS).T
    with np.errstate(over="ignore", invalid="ignore"):
        theirs = np.log10(10000 * mel.astype(np.float16) + 1)
    assert not np.all(np.isfinite(theirs))
    # where float16 did not overflow, the two agree (same computation)
    ok = np.isfinite(theirs)
    np.testing.assert_allclose(theirs[ok].astype(np.float32), ours[ok], atol=2e-2)


def test_patches_are_3_second_blocks_and_short_audio_is_padded():
    rep = np.ones((1000, 96), np.float32)
    assert listener_worker._patches(rep, 188).shape == (5, 188, 96)
    short = listener_worker._patches(np.ones((50, 96), np.float32), 188)
    assert short.shape == (1, 188, 96) and short[0, 50:].sum() == 0


def test_missing_listener_is_none_with_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBIN_LISTENER_VENV", str(tmp_path / "nothing-here"))
    assert listener.Listener.find() is None
    assert "installers/listener.sh" in listener.NOT_INSTALLED
    assert listener.main(["x.wav"]) == 2


def test_heard_top_tags_and_expected_tag_check():
    h = listener.Heard("x", {"techno": 0.6, "slow": 0.1, "beat": 0.3, "piano": 0.05}, np.zeros(200))
    assert h.top(2) == [("techno", 0.6), ("beat", 0.3)]
    assert listener.heard_any(h, ["dance", "beat"], top_n=2)
    assert not listener.heard_any(h, ["piano"], top_n=2)


@pytest.mark.slow
def test_installed_listener_hears_a_real_recording(tmp_path):
    found = listener.Listener.find()
    if found is None:
        pytest.skip(listener.NOT_INSTALLED)
    from robin_studio.eval import references

    refs = references.reference_files()
    if not refs:
        pytest.skip("no reference recordings installed (installers/listener.sh)")
    heard = found.listen_files([refs[0].path], windows=True)[0]
    assert abs(sum(heard.probs.values())) > 0 and all(np.isfinite(list(heard.probs.values())))
    assert heard.embedding.shape == (200,) and heard.windows.shape == (heard.patches, 200)
