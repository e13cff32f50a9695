"""Mixing and mastering: per-track gain and pan, a shared reverb, bus compression, a limiter
(pedalboard), loudness normalised to -14 LUFS integrated with true peak at or under -1 dBTP
(ITU-R BS.1770-4, measured in numpy by `render.loudness`: no scipy on the path to the first
sound), 48 kHz stereo float32.

The piece's shape is kept: a `LoudnessPlan` (render.loudness_plan), planned before the first
chunk, gains each sample by its offset; the live master steers only its *base* level towards
the target plus the plan, and the export brings the whole piece to the target with one gain
(`deliver`). Reaching the target costs one limiter pass and one measurement; a second pass
happens only when limiting took more than the allowance off (issue 21: up to six before).

Flow: `render_stems` -> `mix_stems` (gain, pan, reverb sends, bus tone) -> `master`, or,
from the one-pass synth mix, `render_score` -> `room_and_tone` -> `master`.
The streaming preview uses `StreamingMaster`, which runs the same chain chunk by chunk
with effect state carried across chunks and a loudness gain that settles as audio arrives;
the export masters the whole piece in one go with `master`.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pedalboard as pb

from robin_studio.render.loudness import (_TP_BLOCK, TP_PHASES, block_envelope, integrated_lufs, peak_envelope,
                                          running_mean, running_min)
from robin_studio.render.loudness_plan import LoudnessPlan
from robin_studio.render.palettes import MixSettings, mix_for
from robin_studio.score.types import Role, Track

TARGET_LUFS = -14.0
TRUE_PEAK_CEILING_DB = -1.0
_CEILING_MARGIN_DB = 0.15        # aim a little under the ceiling: the meter interpolates too
_TP_PHASES = TP_PHASES           # BS.1770-4 true peak: 4x oversampling (render.loudness)
# The limiter takes some loudness off; the first pass aims this much over the target so
# that the usual result is a little loud and only needs turning down (safe for peaks).
_LIMITER_ALLOWANCE_DB = 0.6


# ---------------------------------------------------------------------------------------
# measurements
# ---------------------------------------------------------------------------------------
def as_stereo(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    if a.shape[1] == 1:
        a = np.repeat(a, 2, axis=1)
    elif a.shape[1] != 2:
        raise ValueError(f"expected (n, 2) audio, got shape {a.shape}")
    return a


def loudness_lufs(audio: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness (LUFS, ITU-R BS.1770-4); -inf for silence or audio shorter than
    one 0.4 s gating block."""
    a = as_stereo(audio)
    if len(a) < int(0.4 * sample_rate) + 1 or not np.any(a):
        return -math.inf
    return integrated_lufs(a, int(sample_rate))


_peak_envelope = peak_envelope


def true_peak_db(audio: np.ndarray) -> float:
    a = as_stereo(audio)
    if not len(a):
        return -math.inf
    # Only where a peak could beat the largest sample is interpolation needed.
    sample_peak = float(np.abs(a).max())
    peak = float(_peak_envelope(a, floor=sample_peak).max()) if sample_peak > 0 else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


# ---------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------
def _pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power balance matching the synth's channel pan (sqrt(1-p), sqrt(1+p))."""
    p = max(-1.0, min(1.0, float(pan)))
    return math.sqrt(1.0 - p), math.sqrt(1.0 + p)


def _process(board: pb.Pedalboard, audio: np.ndarray, sample_rate: int, reset: bool = True) -> np.ndarray:
    out = board.process(np.ascontiguousarray(audio.T), float(sample_rate), reset=reset)
    return np.ascontiguousarray(out.T, dtype=np.float32)


def true_peak_clamp(audio: np.ndarray, ceiling_db: float = TRUE_PEAK_CEILING_DB - _CEILING_MARGIN_DB,
                    sample_rate: int = 48000) -> np.ndarray:
    """Look-ahead gain riding that keeps the oversampled peak under `ceiling_db`.

    The required gain is spread by a minimum filter wider than the smoothing window, so
    the smoothed gain is never above what any peak needs (and changes over ~1.5 ms)."""
    return _clamp_and_measure(audio, ceiling_db, sample_rate)[0]


def _spread_gain(need: np.ndarray, w: int) -> np.ndarray:
    """The clamp's gain: `need` spread by a running minimum over 2w + 1 samples, then smoothed
    by a running mean over w. Worked out only around the samples that need a cut (a few
    short stretches in a mastered piece); elsewhere the gain is 1."""
    low = np.nonzero(need < 1.0)[0]
    if len(low) * 8 > len(need):
        return np.minimum(running_mean(running_min(need, 2 * w + 1), w | 1), 1.0)
    gain = np.ones(len(need), need.dtype)
    margin = 3 * w                      # more than the two filters reach (1.5 w)
    breaks = np.nonzero(np.diff(low) > 3 * margin)[0]
    for first, last in zip(np.concatenate([[0], breaks + 1]), np.concatenate([breaks, [len(low) - 1]])):
        lo, hi = max(0, low[first] - margin), min(len(need), low[last] + margin + 1)
        part = running_mean(running_min(need[lo:hi], 2 * w + 1), w | 1)
        gain[lo:hi] = np.minimum(part, 1.0)
    return gain


def _clamp_and_measure(audio: np.ndarray, ceiling_db: float, sample_rate: int) -> tuple[np.ndarray, float]:
    """(`true_peak_clamp` of `audio`, the true peak of the result, linear): the envelope the
    clamp needs is also the measurement, so a caller that reports the true peak does not
    measure the piece again. Exact: the envelope is exact wherever it could pass the lower
    of the ceiling and the sample peak, and the blocks the clamp turned down are measured
    again after the gain."""
    a = as_stereo(audio)
    if not len(a):
        return a, 0.0
    ceiling = 10 ** (ceiling_db / 20)
    sample_peak = float(np.abs(a).max())
    if sample_peak <= 0.0:
        return a, 0.0
    floor = min(ceiling, sample_peak)
    env = _peak_envelope(a, floor=floor)        # exact wherever a peak could pass the floor
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
    if need.min() >= 1.0:
        return a, float(env.max())
    gain = _spread_gain(need, max(8, int(0.0015 * sample_rate)))
    out = (a * gain[:, None]).astype(np.float32)
    # Blocks whose interpolator reads a turned-down sample are measured again.
    blk = _TP_BLOCK
    nb = -(-len(a) // blk)
    touched = np.zeros(nb * blk, bool)
    touched[:len(a)] = gain < 1.0
    touched = touched.reshape(nb, blk).any(axis=1)
    touched[1:] |= touched[:-1].copy()
    touched[:-1] |= touched[1:].copy()
    blocks = np.nonzero(touched)[0]
    flat = np.zeros(nb * blk, np.float32)
    flat[:len(a)] = env
    flat.reshape(nb, blk)[blocks] = block_envelope(out, blocks)
    peak = float(flat.max())
    if peak < floor:            # the loudest point may be one the pruned envelope skipped
        peak = float(_peak_envelope(out, floor=float(np.abs(out).max())).max())
    return out, peak


# ---------------------------------------------------------------------------------------
# mix
# ---------------------------------------------------------------------------------------
# JUCE's reverb (behind pedalboard.Reverb) scales wet by 3 and dry by 2 internally.
_WET_UNITY = 1.0 / 3.0
_DRY_UNITY = 0.5


def _reverb(settings: MixSettings) -> pb.Reverb:
    return pb.Reverb(room_size=settings.reverb_room, damping=settings.reverb_damping,
                     wet_level=_WET_UNITY, dry_level=0.0, width=1.0)


def mix_stems(stems: Mapping[Role | str, np.ndarray], tracks: Iterable[Track], *,
              style: str | None = None, sample_rate: int = 48000) -> np.ndarray:
    """Sum dry stems (from `render_stems`) into a stereo mix: each role gets the gain and
    pan of its track in `tracks` (the first track with that role), a send to one shared
    reverb, and the style's bus tone (high-pass, lo-fi low-pass). Not loudness-normalised:
    pass the result to `master`."""
    settings = mix_for(style)
    by_role: dict[Role, Track] = {}
    for t in tracks:
        by_role.setdefault(Role(t.role), t)
    if not stems:
        return np.zeros((0, 2), np.float32)
    n = max(len(a) for a in stems.values())
    dry = np.zeros((n, 2), np.float32)
    send = np.zeros((n, 2), np.float32)
    for role, audio in stems.items():
        role = Role(role)
        a = as_stereo(audio)
        track = by_role.get(role)
        rm = settings.role(role)
        gain_db = track.gain_db if track is not None else rm.gain_db
        pan = track.pan if track is not None else rm.pan
        gl, gr = _pan_gains(pan)
        g = 10 ** (gain_db / 20)
        part = a * np.array([g * gl, g * gr], np.float32)
        dry[: len(part)] += part
        if rm.reverb_send > 0:
            send[: len(part)] += part * rm.reverb_send
    wet = _process(pb.Pedalboard([_reverb(settings), pb.Gain(settings.reverb_return_db)]), send, sample_rate)
    mix = dry + wet[:n]
    return _bus_tone(mix, settings, sample_rate)


def _bus_tone(mix: np.ndarray, settings: MixSettings, sample_rate: int) -> np.ndarray:
    fx = [pb.HighpassFilter(settings.highpass_hz)]
    if settings.lowpass_hz:
        fx.append(pb.LowpassFilter(settings.lowpass_hz))
    return _process(pb.Pedalboard(fx), mix, sample_rate)


def _bus_eq(settings: MixSettings) -> list:
    """The style's bus EQ bands (palettes.BUS_EQ) as pedalboard filters."""
    from robin_studio.render.synth import _eq_filters

    return [f for band in settings.bus_bands() for f in _eq_filters(band)]


# ---------------------------------------------------------------------------------------
# master
# ---------------------------------------------------------------------------------------
def _limit(audio: np.ndarray, sample_rate: int, threshold_db: float, board: pb.Pedalboard | None = None,
           reset: bool = True) -> np.ndarray:
    """pedalboard's Limiter (JUCE) normalises its ceiling to 0 dBFS; scale it back down so
    the ceiling is `threshold_db`."""
    board = board or pb.Pedalboard([pb.Limiter(threshold_db=threshold_db, release_ms=120.0)])
    return _process(board, audio, sample_rate, reset=reset) * np.float32(10 ** (threshold_db / 20))


def _bus_compressor(settings: MixSettings) -> pb.Compressor:
    return pb.Compressor(threshold_db=settings.comp_threshold_db, ratio=settings.comp_ratio,
                         attack_ms=15.0, release_ms=180.0)


def to_target(x: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS,
              true_peak_ceiling_db: float = TRUE_PEAK_CEILING_DB, *, report: dict | None = None) -> np.ndarray:
    """One gain to `target_lufs` integrated (+/- 0.3 LU), the limiter and the true-peak
    clamp at `true_peak_ceiling_db`. The shape of `x` is kept: nothing here moves in time
    except the limiter's gain riding on peaks. One limiter pass and two measurements in
    the usual case: the pass aims a little loud, then a plain gain turns it down (which
    cannot raise a peak); only if limiting took more than the allowance is there a second.

    `report`, if given, receives the result's "lufs" and "true_peak_db", as measured on the
    way (the last loudness measurement and the clamp's envelope, moved by the final plain
    gain): the caller need not measure the piece again."""
    x = as_stereo(x)
    ceiling = true_peak_ceiling_db - _CEILING_MARGIN_DB
    level = loudness_lufs(x, sample_rate)
    if not math.isfinite(level):
        y, peak = _clamp_and_measure(x, ceiling, sample_rate)
        if report is not None:
            report.update(lufs=loudness_lufs(y, sample_rate), true_peak_db=_db(peak))
        return y
    gain_db = target_lufs - level + _LIMITER_ALLOWANCE_DB
    y = x
    for _ in range(2):
        y = _limit(x * np.float32(10 ** (gain_db / 20)), sample_rate, ceiling - 0.3)
        y, peak = _clamp_and_measure(y, ceiling, sample_rate)
        out_level = loudness_lufs(y, sample_rate)
        err = target_lufs - out_level
        if err <= 0.3:
            break
        # Limiting makes loudness grow more slowly than gain: step past the error.
        gain_db += float(np.clip(1.5 * err, 0.0, 12.0))
    if err < -0.1:
        y = y * np.float32(10 ** (err / 20))
        # a plain gain moves both figures by itself (BS.1770's gates are relative to the
        # level, and the interpolated peak is linear in the signal)
        out_level += err
        peak *= 10 ** (err / 20)
    if report is not None:
        report.update(lufs=out_level, true_peak_db=_db(peak))
    return y.astype(np.float32, copy=False)


def _db(linear: float) -> float:
    return 20 * math.log10(linear) if linear > 0 else -math.inf


def master(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS, *,
           style: str | None = None, true_peak_ceiling_db: float = TRUE_PEAK_CEILING_DB,
           plan: LoudnessPlan | None = None, report: dict | None = None) -> np.ndarray:
    """The bus EQ (the style's tonal balance), bus compression, the loudness plan's curve
    (if any), then the whole piece to
    `target_lufs` integrated with the true peak at or under `true_peak_ceiling_db`
    (`to_target`). Returns float32 (n, 2).

    Silence and clips shorter than 0.4 s (too short to measure) are only peak-limited.
    `report` as for `to_target`."""
    settings = mix_for(style)
    x = as_stereo(audio)
    if not len(x):
        return x.copy()
    x = _process(pb.Pedalboard([*_bus_eq(settings), _bus_compressor(settings)]), x, sample_rate)
    if plan is not None and not plan.is_flat:
        x = x * plan.gains(0, len(x), sample_rate)[:, None]
    return to_target(x, sample_rate, target_lufs, true_peak_ceiling_db, report=report)


def deliver(audio: np.ndarray, sample_rate: int, target_lufs: float = TARGET_LUFS,
            true_peak_ceiling_db: float = TRUE_PEAK_CEILING_DB) -> np.ndarray:
    """A finished (mastered) piece at the delivery loudness: one gain for the whole piece,
    so a planned arc (a quiet opening, a build) keeps its shape, then limiter and clamp."""
    return to_target(audio, sample_rate, target_lufs, true_peak_ceiling_db)


def _room_and_tone_board(settings: MixSettings) -> list:
    """High-pass, the shared room at the palette's mean send, the style's low-pass."""
    send = float(np.mean([settings.role(r).reverb_send for r in Role]))
    verb = pb.Reverb(room_size=settings.reverb_room, damping=settings.reverb_damping,
                     wet_level=_WET_UNITY * send * 10 ** (settings.reverb_return_db / 20),
                     dry_level=_DRY_UNITY)
    fx = [pb.HighpassFilter(settings.highpass_hz), verb]
    if settings.lowpass_hz:
        fx.append(pb.LowpassFilter(settings.lowpass_hz))
    return fx


def room_and_tone(raw: np.ndarray, style: str | None = None, sample_rate: int = 48000) -> np.ndarray:
    """The one-pass synth mix (`render_score`, track gains and pans applied) with the style's
    room and bus tone: the same effects `StreamingMaster` applies live, in one go, so that
    `master(room_and_tone(raw, style), sr, style=style)` sounds like the live preview."""
    return _process(pb.Pedalboard(_room_and_tone_board(mix_for(style))), as_stereo(raw), sample_rate)


class StreamingMaster:
    """The mix bus and mastering chain for chunks as they arrive (the live preview).

    Reverb, compressor and limiter keep their state between chunks, so there are no
    seams. Each sample is gained by `gain_db` (the base level) plus the loudness plan's
    offset at its time, a curve known before the first chunk; the base level starts from
    the caller's reference (or the first chunk's measurement) and then moves at most
    `max_step_db` per chunk so that each chunk sits at the target *plus its planned
    offset*: the piece keeps its shape instead of being levelled chunk by chunk."""

    def __init__(self, sample_rate: int = 48000, style: str | None = None,
                 target_lufs: float = TARGET_LUFS, gain_db: float | None = None,
                 max_step_db: float = 1.5, plan: LoudnessPlan | None = None):
        self.sample_rate = int(sample_rate)
        self.target_lufs = target_lufs
        self.gain_db = gain_db
        self.max_step_db = max_step_db
        self.plan = plan if plan is not None and not plan.is_flat else None
        self.position_n = 0           # samples processed so far (where the plan is read)
        settings = mix_for(style)
        self._pre = pb.Pedalboard(_room_and_tone_board(settings) + _bus_eq(settings) + [_bus_compressor(settings)])
        self._limit_db = TRUE_PEAK_CEILING_DB - 1.0
        self._limiter = pb.Pedalboard([pb.Limiter(threshold_db=self._limit_db, release_ms=120.0)])
        self._started = False

    def _planned_db(self, n: int) -> float:
        """The plan's mean offset over the next `n` samples (power mean)."""
        if self.plan is None:
            return 0.0
        g = self.plan.gains(self.position_n, n, self.sample_rate)[::256].astype(np.float64)
        return float(10 * np.log10(np.mean(g ** 2)))

    def process(self, chunk: np.ndarray) -> np.ndarray:
        x = as_stereo(chunk)
        if not len(x):
            return x.copy()
        pre = _process(self._pre, x, self.sample_rate, reset=not self._started)
        planned = self._planned_db(len(x))
        if self.plan is not None:
            pre = pre * self.plan.gains(self.position_n, len(x), self.sample_rate)[:, None]
        if self.gain_db is None:
            level = loudness_lufs(pre, self.sample_rate)
            if math.isfinite(level):
                self.gain_db = float(np.clip(self.target_lufs + planned - level, -30.0, 30.0))
        gain = np.float32(10 ** ((self.gain_db or 0.0) / 20))
        out = _limit(pre * gain, self.sample_rate, self._limit_db, self._limiter, reset=not self._started)
        self._started = True
        self.position_n += len(x)
        # Steer the base level by what came out (the limiter changes loudness too), a little
        # per chunk, towards the target plus this chunk's planned offset.
        level = loudness_lufs(out, self.sample_rate)
        if math.isfinite(level) and level > self.target_lufs + planned - 20 and self.gain_db is not None:
            self.gain_db += float(np.clip(self.target_lufs + planned - level,
                                          -self.max_step_db, self.max_step_db))
        return out
