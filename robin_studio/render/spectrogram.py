"""Mel spectrogram images for the timeline's audio lane and previews.

Built for speed on a laptop CPU (an 8 s chunk in a few milliseconds; see
docs/BENCHMARKS.md): mono downmix, frames as a strided view, one real FFT batch, one matrix
product with a cached mel filterbank (librosa's Slaney-style filters, written out in numpy:
importing librosa pulls in scipy.signal and numba, seconds of start-up on the path to the
first sound; tests/test_render_spectrogram.py checks the filters against librosa's). Levels are absolute dB of mel-band power (not
normalised per chunk), so chunks rendered one after another line up in colour.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

N_FFT = 2048
HOP = 1024            # 21 ms at 48 kHz: ~47 columns a second, plenty for a timeline lane
N_MELS = 64
FLOOR_DB = -100.0


@lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
        return ThreadpoolController()
    except Exception:  # threadpoolctl missing: run with whatever BLAS does
        return None


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear to 1 kHz, logarithmic above."""
    hz = np.asarray(hz, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep,
                    hz / f_sp)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


@lru_cache(maxsize=8)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular mel filters, area-normalised ("slaney"), as `librosa.filters.mel` makes
    them with fmin=30 Hz and fmax=min(16 kHz, Nyquist)."""
    fmin, fmax = 30.0, min(16000.0, sample_rate / 2)
    fft_hz = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    weights = np.zeros((n_mels, len(fft_hz)), np.float32)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:n_mels + 2] - mel_hz[:n_mels]))[:, None]
    return weights


@lru_cache(maxsize=4)
def _window(n_fft: int) -> np.ndarray:
    return np.hanning(n_fft + 1)[:-1].astype(np.float32)


def mel_spectrogram_image(audio: np.ndarray, sample_rate: int, *, n_mels: int = N_MELS,
                          n_fft: int = N_FFT, hop: int = HOP) -> np.ndarray:
    """(n_mels, frames) float32 in dB (power, re full scale), low frequencies in row 0.

    Frame k covers samples [k*hop, k*hop + n_fft) of the zero-padded input, so
    frames = ceil(len / hop)."""
    a = np.asarray(audio, dtype=np.float32)
    # (L + R) / 2 by hand: numpy's strided mean over axis 1 is ~20x slower here.
    mono = (a[:, 0] + a[:, -1]) * np.float32(0.5) if a.ndim == 2 else a
    n_frames = max(1, -(-len(mono) // hop))
    padded = np.zeros((n_frames - 1) * hop + n_fft, np.float32)
    padded[: len(mono)] = mono
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, n_fft), strides=(padded.strides[0] * hop, padded.strides[0]))
    spec = np.fft.rfft(frames * _window(n_fft), axis=1)   # float32 in, complex64 out (numpy 2)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    # Scale to full-scale power, so levels do not depend on the FFT size.
    power *= np.float32(4.0 / (np.sum(_window(n_fft)) ** 2))
    basis = _mel_basis(int(sample_rate), n_fft, n_mels)
    ctl = _blas_controller()
    if ctl is None:
        mel = basis @ power.T
    else:
        # A small product: a second BLAS thread only waits for a busy core (10x slower
        # on a loaded 2-core machine), so use one.
        with ctl.limit(limits=1, user_api="blas"):
            mel = basis @ power.T
    return np.maximum(10.0 * np.log10(np.maximum(mel, 1e-12)), FLOOR_DB).astype(np.float32)


def to_uint8(spec_db: np.ndarray, floor_db: float = -80.0, ceiling_db: float = 0.0) -> np.ndarray:
    """dB image -> uint8 0..255 (for a QImage or a PNG), rows flipped so high is up."""
    x = (np.asarray(spec_db, np.float32) - floor_db) / (ceiling_db - floor_db)
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)[::-1]
