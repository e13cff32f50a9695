"""Events heard in rendered audio: beats and onsets.

Every rhythm metric in `eval/` is computed from these, i.e. from what a listener would hear,
never from the beat grid the engine planned. librosa does the work (beat tracking after
Ellis 2007, spectral-flux onsets); audio is first reduced to mono at 24 kHz, which keeps the
frame hop at 256 samples (10.7 ms) so that a 35 ms tolerance is several frames wide.
VeM's Beat-IoU/TB-IoU use madmom's RNN beat tracker instead (see `metrics_rhythm`); madmom is not
installed here, so librosa's beats stand in for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

ANALYSIS_SR = 24000
HOP = 256


def to_mono_24k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at `ANALYSIS_SR`. Accepts (n,), (n, channels) or (channels, n)."""
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 2:
        # The engine hands (n, 2); librosa's convention is (2, n). The longer axis is time.
        y = y.mean(axis=1) if y.shape[0] > y.shape[1] else y.mean(axis=0)
    if sample_rate != ANALYSIS_SR:
        # polyphase is exact and fast for the 48 kHz -> 24 kHz ratio the renderer produces
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=ANALYSIS_SR, res_type="polyphase")
    return np.ascontiguousarray(y, dtype=np.float32)


@dataclass
class HeardEvents:
    """What librosa hears in a piece of audio (all times in seconds from the start)."""

    duration_s: float
    tempo_bpm: float
    beats_s: np.ndarray
    onsets_s: np.ndarray
    onset_envelope: np.ndarray   # onset strength per frame (frame rate = ANALYSIS_SR / HOP)
    frame_rate_hz: float


def hear(audio: np.ndarray, sample_rate: int) -> HeardEvents:
    """Beat-track and onset-detect `audio` (any channel layout, any rate)."""
    y = to_mono_24k(audio, sample_rate)
    duration_s = len(y) / ANALYSIS_SR
    if len(y) < HOP * 4 or float(np.max(np.abs(y))) < 1e-6:
        return HeardEvents(duration_s, 0.0, np.zeros(0), np.zeros(0), np.zeros(0), ANALYSIS_SR / HOP)
    env = librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)
    tempo, beats = librosa.beat.beat_track(onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP,
                                           units="time")
    onsets = librosa.onset.onset_detect(onset_envelope=env, sr=ANALYSIS_SR, hop_length=HOP,
                                        units="time")
    return HeardEvents(duration_s, float(np.atleast_1d(tempo)[0]), np.asarray(beats, float),
                       np.asarray(onsets, float), env, ANALYSIS_SR / HOP)
