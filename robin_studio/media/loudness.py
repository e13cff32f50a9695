"""Loudness (ITU-R BS.1770-4) and true peak measured and controlled block by block, so the
export of a long piece never holds more than a few seconds of audio beside the piece itself.

- `LoudnessMeter`: integrated loudness with the standard's gating. The K-weighting is the
  BS.1770 pre-filter (a +4 dB high shelf at 1.5 kHz, Q 0.71) and RLB high-pass (38 Hz, Q 0.5),
  the same RBJ-cookbook biquads pyloudnorm builds; they run in pedalboard (already on the
  sound path, filter state carried from block to block) and only the energy of each 100 ms
  step is kept, so a one-hour piece costs 36,000 numbers, not a float64 copy of the audio.
  The 38 Hz high-pass is two first-order high-passes in a row: with Q = 0.5 that is the same
  filter (both bilinear, prewarped at the cut-off).
- `true_peak_envelope`: the 4x oversampled peak (BS.1770-4 Annex 2, a 48-tap interpolator in
  four phases) of a block, with a margin of context on either side.
- `TruePeakClamp`: look-ahead gain riding that keeps the true peak under a ceiling, as
  `render.master.true_peak_clamp` does for a whole array, fed block by block with a short
  delay (the look-ahead).

Nothing here imports scipy: `scipy.signal` alone takes 1-2 s to import, more than the
loudness pass of a minute of music.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from robin_studio.media.spool import release

OVERSAMPLE = 4
_TAPS = 48
_GATE_ABSOLUTE_LUFS = -70.0
_BLOCK_S = 0.4          # gating block
_STEP_S = 0.1           # 75 % overlap


@lru_cache(maxsize=1)
def tp_phases() -> tuple[np.ndarray, ...]:
    """The interpolation filter's four phases: a Kaiser-windowed (beta 8) sinc low-pass at a
    quarter of the oversampled band, unity gain at DC (what `scipy.signal.firwin(48, 0.25,
    window=("kaiser", 8.0))` gives), times the oversampling factor."""
    m = np.arange(_TAPS) - (_TAPS - 1) / 2.0
    h = np.sinc(m / OVERSAMPLE) / OVERSAMPLE * np.kaiser(_TAPS, 8.0)
    h /= h.sum()
    return tuple((OVERSAMPLE * h[k::OVERSAMPLE]).astype(np.float32) for k in range(OVERSAMPLE))


TP_CONTEXT = _TAPS // OVERSAMPLE        # samples of context the interpolator reads either side


def true_peak_envelope(padded: np.ndarray, start: int, n: int) -> np.ndarray:
    """Per-sample true-peak estimate (max |x| over the sample and its oversampled points, both
    channels) of `padded[start:start + n]`; `padded` must hold TP_CONTEXT samples of context
    (zeros at the ends of the piece) before `start` and after `start + n`.

    Each phase is a 12-tap FIR written as 12 scaled, shifted adds: on float32 that is several
    times faster than np.convolve or FFT convolution for so few taps."""
    env = np.abs(padded[start:start + n]).max(axis=1)
    phases = tp_phases()
    taps = len(phases[0])
    delay = (taps - 1) // 2
    y = np.empty(n, np.float32)
    tmp = np.empty(n, np.float32)
    for c in range(padded.shape[1]):
        x = padded[:, c]
        for h in phases:
            y.fill(0.0)
            for j, coef in enumerate(h):
                s = start + delay - j
                np.multiply(x[s:s + n], coef, out=tmp)
                y += tmp
            np.abs(y, out=y)
            np.maximum(env, y, out=env)
    return env


def k_weighting_board():
    """BS.1770's K-weighting as a pedalboard chain (float32, state kept between blocks with
    `reset=False`): the +4 dB high shelf at 1.5 kHz (Q 0.71), then the RLB 38 Hz high-pass
    (Q 0.5) as two first-order high-passes, which is the same bilinear filter. Used for every
    loudness figure here and in `render.loudness` (one design)."""
    import pedalboard as pb

    return pb.Pedalboard([
        pb.HighShelfFilter(cutoff_frequency_hz=1500.0, gain_db=4.0, q=1 / math.sqrt(2)),
        pb.HighpassFilter(cutoff_frequency_hz=38.0),
        pb.HighpassFilter(cutoff_frequency_hz=38.0)])


class LoudnessMeter:
    """Integrated loudness of audio fed in blocks of any length (float32 (n, 2) or (n,))."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = int(sample_rate)
        self._board = k_weighting_board()
        self._step = int(round(_STEP_S * self.sample_rate))
        self._partial = np.zeros(2, np.float64)   # energy of the step being filled, per channel
        self._partial_n = 0
        self._steps: list[np.ndarray] = []          # energy per completed 100 ms step
        self._samples = 0
        self._started = False

    def add(self, audio: np.ndarray) -> None:
        a = np.asarray(audio, np.float32)
        if a.ndim == 1:
            a = a[:, None]
        if a.shape[1] == 1:
            a = np.repeat(a, 2, axis=1)
        if not len(a):
            return
        k = self._board.process(np.ascontiguousarray(a.T), float(self.sample_rate),
                                reset=not self._started)
        self._started = True
        sq = np.square(k.astype(np.float64))
        i, n = 0, sq.shape[1]
        while i < n:
            take = min(n - i, self._step - self._partial_n)
            self._partial += sq[:, i:i + take].sum(axis=1)
            self._partial_n += take
            i += take
            if self._partial_n == self._step:
                self._steps.append(self._partial.copy())
                self._partial[:] = 0.0
                self._partial_n = 0
        self._samples += n

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS; -inf for silence or less than one 0.4 s block."""
        sr = self.sample_rate
        block = int(_BLOCK_S * sr)
        if self._samples < block + 1:
            return -math.inf
        steps = list(self._steps)
        if self._partial_n:
            steps.append(self._partial.copy())
        e = np.asarray(steps, np.float64)                    # (n_steps, 2)
        per = int(round(_BLOCK_S / _STEP_S))
        # Blocks as pyloudnorm counts them: round((T - 0.4) / 0.1) + 1 blocks, 100 ms apart
        # (the last may run past the end, its missing part silent).
        t = self._samples / sr
        n_blocks = int(np.round((t - _BLOCK_S) / _STEP_S)) + 1
        padded = np.zeros((n_blocks + per, 2))
        padded[:min(len(e), n_blocks + per)] = e[:n_blocks + per]
        c = np.concatenate([np.zeros((1, 2)), np.cumsum(padded, axis=0)])
        z = (c[per:per + n_blocks] - c[:n_blocks]) / block          # mean square per block
        power = z.sum(axis=1)
        with np.errstate(divide="ignore"):
            lk = -0.691 + 10 * np.log10(power)
        gated = lk >= _GATE_ABSOLUTE_LUFS
        if not gated.any():
            return -math.inf
        rel = -0.691 + 10 * np.log10(power[gated].mean()) - 10.0
        keep = (lk > rel) & (lk > _GATE_ABSOLUTE_LUFS)
        if not keep.any():
            return -math.inf
        return float(-0.691 + 10 * np.log10(power[keep].mean()))


def integrated_loudness(audio: np.ndarray, sample_rate: int, block_s: float = 1.0) -> float:
    """Integrated loudness of a whole array, measured `block_s` seconds at a time (no copy of
    the array is made)."""
    meter = LoudnessMeter(sample_rate)
    step = max(1, int(block_s * sample_rate))
    for i in range(0, len(audio), step):
        meter.add(audio[i:i + step])
        release(audio, i, i + step)     # a piece spooled to disk (media.spool) leaves memory as read
    return meter.integrated()


def running_min(x: np.ndarray, size: int) -> np.ndarray:
    """Centred running minimum over `size` samples (odd), edges padded with the end values:
    van Herk/Gil-Werman, O(n) whatever the size. (Shared with `render.loudness`, which
    imports it from here: media sits below render.)"""
    size = max(1, int(size) | 1)
    if size == 1 or len(x) == 0:
        return x.copy()
    r = size // 2
    xp = np.concatenate([np.full(r, x[0]), x, np.full(r + size, x[-1])]).astype(x.dtype)
    nb = len(xp) // size
    xp = xp[: nb * size].reshape(nb, size)
    fwd = np.minimum.accumulate(xp, axis=1).ravel()
    bwd = np.minimum.accumulate(xp[:, ::-1], axis=1)[:, ::-1].ravel()
    n = len(x)
    return np.minimum(bwd[:n], fwd[size - 1:size - 1 + n])


def running_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Centred running mean over `size` samples (odd), edges padded with the end values."""
    size = max(1, int(size) | 1)
    if size == 1 or len(x) == 0:
        return x.copy()
    r = size // 2
    xp = np.concatenate([np.full(r, x[0]), x, np.full(r, x[-1])]).astype(np.float64)
    csum = np.concatenate([[0.0], np.cumsum(xp)])
    return ((csum[size:] - csum[:-size]) / size).astype(x.dtype)


class TruePeakClamp:
    """Keeps the true peak of a stream under `ceiling_db`, block by block.

    The gain needed at each sample (ceiling / true peak, at most 1) is spread by a running
    minimum wider than the smoothing that follows, so the smoothed gain never exceeds what any
    peak needs and changes over ~1.5 ms. Output lags input by `delay` samples (the look-ahead);
    `finish()` returns the rest. Where nothing comes near the ceiling the audio passes as is."""

    def __init__(self, ceiling_db: float, sample_rate: int) -> None:
        self.ceiling = 10 ** (ceiling_db / 20)
        self.w = max(8, int(0.0015 * sample_rate))
        self.size_min = 2 * self.w + 1
        self.size_mean = self.w | 1
        # The gain at a sample depends on needs up to w + size_mean // 2 away, and each need
        # on TP_CONTEXT samples of audio: hold back that much.
        self.reach = self.w + self.size_mean // 2
        self.delay = self.reach + TP_CONTEXT
        self._buf = np.zeros((0, 2), np.float32)    # audio not yet returned
        self._need = np.zeros(0, np.float32)        # need of _buf's first samples, if known
        self._head = np.zeros((TP_CONTEXT, 2), np.float32)   # audio before _buf (context)
        self._prev_need = np.ones(self.reach, np.float32)     # need before _buf

    def _needs(self, context_after: np.ndarray) -> np.ndarray:
        padded = np.concatenate([self._head, self._buf, context_after])
        env = true_peak_envelope(padded, TP_CONTEXT, len(self._buf))
        return np.minimum(1.0, self.ceiling / np.maximum(env, 1e-12)).astype(np.float32)

    def _emit(self, n_out: int, need: np.ndarray, future: np.ndarray) -> np.ndarray:
        """Return the first n_out samples of _buf with their gain; `need` covers _buf,
        `future` the needs after it (ones past the end of the stream)."""
        out = self._buf[:n_out]
        full = np.concatenate([self._prev_need, need, future])
        if full.min() < 1.0:
            g = running_min(full, self.size_min)
            g = running_mean(g, self.size_mean)
            g = np.minimum(g, 1.0)[self.reach:self.reach + n_out]
            out = (out * g[:, None].astype(np.float32)).astype(np.float32)
        else:
            out = out.copy()
        keep_from = n_out
        self._head = np.concatenate([self._head, self._buf[:keep_from]])[-TP_CONTEXT:]
        self._prev_need = np.concatenate([self._prev_need, need[:keep_from]])[-self.reach:]
        self._buf = self._buf[keep_from:]
        return out

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed a block; returns the clamped audio that is ready (shorter by the delay)."""
        self._buf = np.concatenate([self._buf, np.asarray(block, np.float32).reshape(-1, 2)])
        n_ready = len(self._buf) - self.delay
        if n_ready <= 0:
            return np.zeros((0, 2), np.float32)
        # Needs are computed for the samples that have TP_CONTEXT of audio after them.
        known = len(self._buf) - TP_CONTEXT
        padded = np.concatenate([self._head, self._buf])
        env = true_peak_envelope(padded, TP_CONTEXT, known)
        need = np.minimum(1.0, self.ceiling / np.maximum(env, 1e-12)).astype(np.float32)
        future = need[n_ready:]
        out = self._emit(n_ready, need[:n_ready], future[:self.reach])
        return out

    def finish(self) -> np.ndarray:
        """The rest of the stream (the end of the piece is followed by silence)."""
        if not len(self._buf):
            return np.zeros((0, 2), np.float32)
        tail = np.zeros((TP_CONTEXT, 2), np.float32)
        need = self._needs(tail)
        return self._emit(len(self._buf), need, np.ones(self.reach, np.float32))
