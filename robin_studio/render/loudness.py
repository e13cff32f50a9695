"""Loudness and true peak in plain numpy (ITU-R BS.1770-4): integrated, short-term and
momentary loudness, and the 4x-oversampled true peak.

Why not pyloudnorm: it imports `scipy.signal`, about 1.9 s cold on these machines, which sat
on the path to the first sound (issue 21). The K-weighting here is the same pair of biquads
pyloudnorm builds (RBJ cookbook high shelf +4 dB at 1500 Hz, Q 1/sqrt(2); high-pass 38 Hz,
Q 0.5), applied as their impulse response truncated where it has decayed below 1e-12
(16384 taps at 48 kHz), by FFT convolution in blocks so memory stays bounded on long
pieces. tests/test_render_loudness.py checks it against pyloudnorm to 0.05 LU.

The true-peak interpolator is BS.1770-4's: a 48-tap Kaiser (beta 8) low-pass split into
four 12-tap phases (it equals `scipy.signal.firwin(48, 0.25, window=("kaiser", 8.0))`,
checked in the tests). Its design and the O(n) running minimum and mean live in
`media.loudness`, which the streamed export uses, and are imported from there: one copy.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from robin_studio.media.loudness import (OVERSAMPLE, TP_CONTEXT, running_mean, running_min,  # noqa: F401 (re-exported)
                                         tp_phases, true_peak_envelope)

BLOCK_S = 0.4              # gating block (momentary loudness)
SHORT_TERM_S = 3.0         # short-term loudness window
ABS_GATE_LUFS = -70.0
REL_GATE_LU = -10.0
_FFT_BLOCK = 1 << 17       # samples per FFT convolution block
_IR_TAPS = 1 << 14


def _biquads(sample_rate: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two K-weighting stages (b, a), normalised by a0, as pyloudnorm designs them."""
    out = []
    for kind, gain_db, q, fc in (("high_shelf", 4.0, 1 / math.sqrt(2.0), 1500.0), ("high_pass", 0.0, 0.5, 38.0)):
        a_ = 10 ** (gain_db / 40.0)
        w0 = 2.0 * math.pi * fc / sample_rate
        alpha = math.sin(w0) / (2.0 * q)
        c = math.cos(w0)
        if kind == "high_shelf":
            b = [a_ * ((a_ + 1) + (a_ - 1) * c + 2 * math.sqrt(a_) * alpha),
                 -2 * a_ * ((a_ - 1) + (a_ + 1) * c),
                 a_ * ((a_ + 1) + (a_ - 1) * c - 2 * math.sqrt(a_) * alpha)]
            a = [(a_ + 1) - (a_ - 1) * c + 2 * math.sqrt(a_) * alpha,
                 2 * ((a_ - 1) - (a_ + 1) * c),
                 (a_ + 1) - (a_ - 1) * c - 2 * math.sqrt(a_) * alpha]
        else:
            b = [(1 + c) / 2, -(1 + c), (1 + c) / 2]
            a = [1 + alpha, -2 * c, 1 - alpha]
        out.append((np.array(b) / a[0], np.array(a) / a[0]))
    return out


@lru_cache(maxsize=8)
def _k_weighting_spectrum(sample_rate: int) -> tuple[np.ndarray, int]:
    """rfft of the K-weighting impulse response, zero-padded for blocks of `_FFT_BLOCK`."""
    impulse = np.zeros(_IR_TAPS)
    impulse[0] = 1.0
    h = impulse
    for b, a in _biquads(float(sample_rate)):
        # Direct-form recursion over the short impulse (16k samples, once per rate).
        y = np.zeros_like(h)
        x1 = x2 = y1 = y2 = 0.0
        b0, b1, b2 = b
        _, a1, a2 = a
        for i, x0 in enumerate(h.tolist()):
            y0 = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            y[i] = y0
            x2, x1, y2, y1 = x1, x0, y1, y0
        h = y
    nfft = _FFT_BLOCK + _IR_TAPS
    return np.fft.rfft(h, nfft), nfft


def k_weighted_power(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-sample K-weighted power summed over channels (float64, length n): the quantity
    every BS.1770 loudness figure averages. Mono is counted as one channel, stereo as two."""
    a = np.asarray(audio, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    n = a.shape[0]
    spec, nfft = _k_weighting_spectrum(int(sample_rate))
    power = np.zeros(n, np.float64)
    for c in range(a.shape[1]):
        tail = np.zeros(_IR_TAPS, np.float64)
        for s in range(0, n, _FFT_BLOCK):
            seg = a[s:s + _FFT_BLOCK, c]
            y = np.fft.irfft(np.fft.rfft(seg, nfft) * spec, nfft)
            y[:_IR_TAPS] += tail
            m = len(seg)
            tail = y[m:m + _IR_TAPS].copy()
            power[s:s + m] += y[:m] ** 2
    return power


def _window_means(power: np.ndarray, win: int, hop: int) -> np.ndarray:
    """Mean of `power` over windows of `win` samples every `hop` samples (full windows)."""
    if len(power) < win:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, len(power) - win + 1, hop)
    return (csum[starts + win] - csum[starts]) / win


def _lufs(ms: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return -0.691 + 10.0 * np.log10(ms)


def integrated_lufs(audio: np.ndarray, sample_rate: int, *, power: np.ndarray | None = None) -> float:
    """Gated integrated loudness (LUFS); -inf for silence or less than one 0.4 s block."""
    p = k_weighted_power(audio, sample_rate) if power is None else power
    win = int(round(BLOCK_S * sample_rate))
    hop = int(round(BLOCK_S * 0.25 * sample_rate))
    # pyloudnorm's block count: round((T - 0.4) / 0.1) + 1 blocks
    n_blocks = int(round((len(p) / sample_rate - BLOCK_S) / (BLOCK_S * 0.25))) + 1
    if len(p) < win or n_blocks <= 0:
        return -math.inf
    csum = np.concatenate([[0.0], np.cumsum(p)])
    lo = (np.arange(n_blocks) * hop).clip(0, len(p))
    hi = (lo + win).clip(0, len(p))
    z = (csum[hi] - csum[lo]) / win
    lk = _lufs(z)
    gated = z[lk >= ABS_GATE_LUFS]
    if not gated.size:
        return -math.inf
    rel = _lufs(gated.mean()) + REL_GATE_LU
    z2 = z[(lk > rel) & (lk > ABS_GATE_LUFS)]
    if not z2.size:
        return -math.inf
    return float(_lufs(z2.mean()))


def short_term_lufs(audio: np.ndarray, sample_rate: int, hop_s: float = 0.5, *,
                    window_s: float = SHORT_TERM_S) -> tuple[np.ndarray, np.ndarray]:
    """(times, loudness): short-term loudness (3 s windows, ungated) every `hop_s`; each
    time is the window's centre. -inf where the window is silent."""
    p = k_weighted_power(audio, sample_rate)
    win = int(round(window_s * sample_rate))
    hop = max(1, int(round(hop_s * sample_rate)))
    means = _window_means(p, win, hop)
    times = (np.arange(len(means)) * hop + win / 2) / sample_rate
    return times, np.asarray(_lufs(np.maximum(means, 0.0)), dtype=np.float64)


# ---------------------------------------------------------------------------------------
# true peak
# ---------------------------------------------------------------------------------------
# The interpolation filter (48-tap Kaiser sinc, 4 phases) is the one the streamed export
# measures with (media.loudness): one design for both.
TP_PHASES = list(tp_phases())


TP_GAIN_BOUND = float(max(np.abs(h).sum() for h in TP_PHASES))   # |interpolated| <= this x local max |x|


def peak_envelope(audio: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Per-sample true-peak estimate: max |x| over 4x oversampled points, both channels.

    Only samples whose 12-tap neighbourhood could reach above `floor` are interpolated
    (an interpolated point is at most `TP_GAIN_BOUND` times the largest |x| its taps see);
    elsewhere the envelope is |x|, which is then known to stay under `floor` too. With
    `floor=0` every sample is interpolated. Each phase is a 12-tap FIR written as 12 scaled,
    shifted adds: on float32 that is several times faster than np.convolve for so few taps."""
    n = len(audio)
    env = np.abs(audio).max(axis=1)
    taps = len(TP_PHASES[0])
    delay = (taps - 1) // 2          # line the interpolated points up with the input
    if n == 0:
        return env
    if floor > 0:
        # blocks of 16 samples whose own or neighbours' largest |x| could interpolate above
        # the floor (a point reads 6 samples either side, so a block and its neighbours cover it)
        blk = 16
        nb = -(-n // blk)
        bmax = np.zeros(nb * blk, np.float32)
        bmax[:n] = env
        bmax = bmax.reshape(nb, blk).max(axis=1)
        near = np.maximum(bmax, np.maximum(np.concatenate([[0], bmax[:-1]]), np.concatenate([bmax[1:], [0]])))
        hot = np.nonzero(near * TP_GAIN_BOUND > floor)[0]
        if not len(hot):
            return env
        idx = (hot[:, None] * blk + np.arange(blk)[None, :]).ravel()
        idx = idx[idx < n]
        if not len(idx):
            return env
        if len(idx) * 4 > n:
            return _whole_envelope(audio)
        # the candidates' taps gathered at once: (k, 12) per channel, one matrix product per phase
        offsets = delay - np.arange(taps)                      # x[i + delay - j]
        cols = np.clip(idx[:, None] + offsets[None, :], -1, n)
        bank = np.stack(TP_PHASES, axis=1)                     # (12 taps, 4 phases)
        for c in range(audio.shape[1]):
            xp = np.concatenate([[0.0], audio[:, c], [0.0]]).astype(np.float32)   # index -1 and n read 0
            vals = np.abs(xp[cols + 1] @ bank).max(axis=1)
            env[idx] = np.maximum(env[idx], vals)
        return env
    return _whole_envelope(audio)


def _whole_envelope(audio: np.ndarray) -> np.ndarray:
    """Every sample interpolated: the streamed export's `true_peak_envelope` on the whole
    piece, zeros for the context before the start and after the end."""
    n = len(audio)
    padded = np.zeros((n + 2 * TP_CONTEXT, audio.shape[1]), np.float32)
    padded[TP_CONTEXT:TP_CONTEXT + n] = audio
    return true_peak_envelope(padded, TP_CONTEXT, n)
