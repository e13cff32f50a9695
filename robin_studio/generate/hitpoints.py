"""Hit points on a finished piece: the report per hit point (planned time, where the music
put it, distance, the onset heard in the render).

`hit_report(piece)` is what `robin-studio score` prints and the app's markers panel shows.
The heard onset comes from librosa's spectral-flux onset detector run on the rendered
(mastered) audio around each hit: the nearest onset within `HEARD_WINDOW_S` of where the
music marks it, or None when nothing was heard there.

"""

from __future__ import annotations

import numpy as np

from robin_studio.timing.hits import HitLanding, hit_landings

HEARD_WINDOW_S = 0.10      # an onset this close to the marked moment is the hit heard
ONSET_SR = 22050
ONSET_HOP = 256            # ~11.6 ms frames; onsets are refined by backtracking off


def heard_onsets_s(audio: np.ndarray, sample_rate: int, times_s, window_s: float = HEARD_WINDOW_S
                   ) -> list[float | None]:
    """For each time, the nearest onset librosa detects in `audio` within `window_s`."""
    import librosa

    a = np.asarray(audio, np.float32)
    mono = a.mean(axis=1) if a.ndim == 2 else a
    out: list[float | None] = []
    for t in times_s:
        # Only a few seconds around each hit are analysed: a long piece stays quick.
        s0 = max(0, int((t - 1.0) * sample_rate))
        s1 = min(mono.shape[0], int((t + 1.0) * sample_rate))
        if s1 - s0 < sample_rate // 10:
            out.append(None)
            continue
        y = librosa.resample(mono[s0:s1], orig_sr=sample_rate, target_sr=ONSET_SR) \
            if sample_rate != ONSET_SR else mono[s0:s1]
        env = librosa.onset.onset_strength(y=y, sr=ONSET_SR, hop_length=ONSET_HOP)
        on = librosa.onset.onset_detect(onset_envelope=env, sr=ONSET_SR, hop_length=ONSET_HOP,
                                        units="time")
        on = np.asarray(on, float) + s0 / sample_rate
        near = on[np.abs(on - t) <= window_s] if on.size else on
        out.append(float(near[np.argmin(np.abs(near - t))]) if near.size else None)
    return out


def hit_report(piece, *, heard: bool = True) -> list[HitLanding]:
    """One `HitLanding` per hit point of `piece`, with the heard onset when `heard`."""
    from dataclasses import replace

    lands = hit_landings(piece.tempo_map, piece.hit_points)
    if not heard or not lands:
        return lands
    onsets = heard_onsets_s(piece.audio, piece.sample_rate, [h.music_s for h in lands])
    return [replace(h, heard_s=o) for h, o in zip(lands, onsets)]


def report_lines(lands: list[HitLanding]) -> list[str]:
    """The report as lines for the terminal: one per hit point and a summary."""
    if not lands:
        return []
    on = sum(h.on_beat for h in lands)
    heard = [h for h in lands if h.heard_s is not None]
    lines = [h.line() for h in lands]
    lines.append(f"hit points: {on}/{len(lands)} on a beat within 10 ms, {len(heard)}/{len(lands)} "
                 f"heard within {HEARD_WINDOW_S * 1000:.0f} ms (onsets detected in the render)")
    return lines
