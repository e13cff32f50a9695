"""Mel spectrogram images: shape, dB levels that follow the audio, energy in the right band."""

import numpy as np

from robin_studio.render.spectrogram import HOP, mel_spectrogram_image, to_uint8

SR = 48000


def test_shape_dtype_and_band():
    t = np.arange(8 * SR) / SR
    low = np.sin(2 * np.pi * 110 * t).astype(np.float32)
    high = np.sin(2 * np.pi * 5000 * t).astype(np.float32)
    a = mel_spectrogram_image(np.stack([low, low], 1), SR)
    b = mel_spectrogram_image(np.stack([high, high], 1), SR)
    assert a.shape == (64, 8 * SR // HOP) and a.dtype == np.float32
    assert np.median(a.argmax(axis=0)) < np.median(b.argmax(axis=0))
    quiet = mel_spectrogram_image(np.stack([low, low], 1) * 0.1, SR)
    assert np.median(a.max(axis=0) - quiet.max(axis=0)) == np.float32(20.0) or \
        abs(float(np.median(a.max(axis=0) - quiet.max(axis=0))) - 20.0) < 0.1
    img = to_uint8(a)
    assert img.dtype == np.uint8 and img.shape == a.shape


def test_silence_and_odd_lengths():
    s = mel_spectrogram_image(np.zeros((1000, 2), np.float32), SR)
    assert s.shape == (64, 1) and np.all(s == s.min())
    assert mel_spectrogram_image(np.zeros(SR + 7, np.float32), SR).shape[1] == -(-(SR + 7) // HOP)


def test_mel_filters_are_librosas():
    """The filterbank is written out in numpy (librosa's import costs seconds of start-up):
    it must be librosa's, filter for filter."""
    import librosa

    from robin_studio.render.spectrogram import _mel_basis

    for sr, n_fft, n_mels in ((48000, 2048, 64), (44100, 1024, 40), (22050, 2048, 128)):
        ours = _mel_basis(sr, n_fft, n_mels)
        theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=30.0,
                                     fmax=min(16000.0, sr / 2))
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        assert np.abs(ours - theirs).max() <= 1e-6 * np.abs(theirs).max()
