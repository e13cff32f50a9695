"""Events heard in rendered audio: beats and onsets.

Every rhythm metric in `eval/` is computed from these, i.e. from what a listener would hear,
never from the beat grid the engine planned. librosa does the work (beat tracking after
Ellis 2007, spectral-flux onsets); audio is first reduced to mono at 24 kHz, which keeps the
frame hop at 256 samples (10.7 ms) so that a 35 ms tolerance is several frames wide.
VeM's Beat-IoU/TB-IoU are defined with madmom's RNN beat tracker (Böck et al. 2016). `vem_beats`
gives those two metrics madmom's beats when the optional `vem` extra is installed (see
`madmom_beats`) and librosa's otherwise, and says which one it used; everything else here, the
cut-to-beat hit rates included, stays on librosa.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from robin_studio.eval import madmom_beats

ANALYSIS_SR = 24000
HOP = 256
LIBROSA = "librosa"
MADMOM = "madmom"
LIBROSA_TRACKER = f"librosa {librosa.__version__} beat_track (Ellis 2007; 24 kHz, hop 256)"


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


def madmom_beats_s(audio: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """Beats tracked by madmom's RNNBeatProcessor + DBNBeatTrackingProcessor(fps=100), the
    detector of VeM's metrics; None when madmom is not importable."""
    return madmom_beats.beat_times_s(audio, sample_rate)


def vem_beat_tracker() -> str:
    """Which tracker `vem_beats` uses in this process, with its version (for reports)."""
    return madmom_beats.tracker_name() or LIBROSA_TRACKER


def vem_beats(audio: np.ndarray, sample_rate: int,
              heard: HeardEvents | None = None) -> tuple[np.ndarray, str]:
    """(beat times, `MADMOM` or `LIBROSA`): the beats VeM's Beat-IoU/TB-IoU count.

    madmom's RNN tracker when it imports, as in the paper; else librosa's beats (from `heard`
    when given, so the audio is not analysed twice).
    """
    beats = madmom_beats_s(audio, sample_rate)
    if beats is not None:
        return beats, MADMOM
    heard = heard or hear(audio, sample_rate)
    return heard.beats_s, LIBROSA
