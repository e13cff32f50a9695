"""Loudness and true peak in plain numpy (ITU-R BS.1770-4): integrated, short-term and
momentary loudness, and the 4x-oversampled true peak.

Why not pyloudnorm: it imports `scipy.signal`, about 1.9 s cold on these machines, which sat
on the path to the first sound (issue 21). The K-weighting is the same pair of filters
pyloudnorm builds (RBJ cookbook high shelf +4 dB at 1500 Hz, Q 1/sqrt(2); high-pass 38 Hz,
Q 0.5), run as pedalboard's IIR filters in float32 (`media.loudness.k_weighting_board`, the
streamed export's meter): a third of the time of the float64 FFT convolution it replaced
(issue 15), and still within 0.05 LU of pyloudnorm (tests/test_render_loudness.py).

The true-peak interpolator is BS.1770-4's: a 48-tap Kaiser (beta 8) low-pass split into
four 12-tap phases (it equals `scipy.signal.firwin(48, 0.25, window=("kaiser", 8.0))`,
checked in the tests). Its design and the O(n) running minimum and mean live in
`media.loudness`, which the streamed export uses, and are imported from there: one copy.
"""

from __future__ import annotations

import math

import numpy as np

from robin_studio.media.loudness import (OVERSAMPLE, TP_CONTEXT, k_weighting_board, running_mean,  # noqa: F401 (re-exported)
                                         running_min, tp_phases, true_peak_envelope)

BLOCK_S = 0.4              # gating block (momentary loudness)
SHORT_TERM_S = 3.0         # short-term loudness window
ABS_GATE_LUFS = -70.0
REL_GATE_LU = -10.0


def k_weighted_power(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Per-sample K-weighted power summed over channels (float64, length n): the quantity
    every BS.1770 loudness figure averages. Mono is counted as one channel, stereo as two."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    if not len(a):
        return np.zeros(0, np.float64)
    k = k_weighting_board().process(np.ascontiguousarray(a.T), float(sample_rate), reset=True)
    power = np.square(k[0]).astype(np.float64)
    for c in range(1, k.shape[0]):
        power += np.square(k[c])
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


_TP_BLOCK = 16              # samples per block of the pruned true-peak envelope


def peak_envelope(audio: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Per-sample true-peak estimate: max |x| over 4x oversampled points, both channels.

    Only blocks of 16 samples whose neighbourhood could reach above `floor` are interpolated
    (an interpolated point is at most `TP_GAIN_BOUND` times the largest |x| its taps see);
    elsewhere the envelope is |x|, which is then known to stay under `floor` too. So every
    value above `floor` is exact. With `floor=0` every sample is interpolated."""
    n = len(audio)
    env = np.abs(audio).max(axis=1)
    if n == 0:
        return env
    if floor > 0:
        blk = _TP_BLOCK
        nb = -(-n // blk)
        bmax = np.zeros(nb * blk, np.float32)
        bmax[:n] = env
        bmax = bmax.reshape(nb, blk).max(axis=1)
        # a point reads 6 samples either side: a block and its neighbours cover it
        near = np.maximum(bmax, np.maximum(np.concatenate([[0], bmax[:-1]]), np.concatenate([bmax[1:], [0]])))
        hot = np.nonzero(near * TP_GAIN_BOUND > floor)[0]
        if not len(hot):
            return env
        if 2 * len(hot) < nb:
            exact = block_envelope(audio, hot)
            flat = np.zeros(nb * blk, np.float32)
            flat[:n] = env
            flat.reshape(nb, blk)[hot] = exact
            return flat[:n]
    return _whole_envelope(audio)


def block_envelope(audio: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """The exact true-peak envelope (k, 16) of the 16-sample blocks `blocks` (sorted block
    indices) of `audio`: each block is read with the interpolator's 6 samples of context
    either side (zeros beyond the ends), then the four 12-tap phases are 12 scaled, shifted
    adds on the (k, 28) window array."""
    n = len(audio)
    blk = _TP_BLOCK
    taps = len(TP_PHASES[0])
    delay = (taps - 1) // 2                      # line the interpolated points up with the input
    ctx = taps // 2                              # 6 samples of context each side
    blocks = np.asarray(blocks, np.int64)
    nb = -(-n // blk)
    cols = (blocks * blk)[:, None] + np.arange(-ctx, blk + ctx)[None, :] + ctx
    out = np.zeros((len(blocks), blk), np.float32)
    for c in range(audio.shape[1]):
        xp = np.zeros(nb * blk + 2 * ctx, np.float32)
        xp[ctx:ctx + n] = audio[:, c]
        w = xp[cols]                             # (k, 16 + 12)
        np.maximum(out, np.abs(w[:, ctx:ctx + blk]), out=out)
        y = np.empty((len(blocks), blk), np.float32)
        tmp = np.empty_like(y)
        for h in TP_PHASES:
            y.fill(0.0)
            for j, coef in enumerate(h):
                s = ctx + delay - j              # x[i + delay - j]
                np.multiply(w[:, s:s + blk], coef, out=tmp)
                y += tmp
            np.abs(y, out=y)
            np.maximum(out, y, out=out)
    return out


def _whole_envelope(audio: np.ndarray) -> np.ndarray:
    """Every sample interpolated: the streamed export's `true_peak_envelope` on the whole
    piece, zeros for the context before the start and after the end."""
    n = len(audio)
    padded = np.zeros((n + 2 * TP_CONTEXT, audio.shape[1]), np.float32)
    padded[TP_CONTEXT:TP_CONTEXT + n] = audio
    return true_peak_envelope(padded, TP_CONTEXT, n)
