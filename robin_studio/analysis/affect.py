"""Per-shot affect: brightness, saturation, colour temperature and motion level.

Colour statistics come from the tiny copy of every frame (cheap, and a shot's look is its
average). Colour temperature compares red with blue: -1 is a cold blue night, +1 a warm
orange sunset, 0 neutral. Words for these values feed the storyboard's descriptions.
"""

from __future__ import annotations

import numpy as np

from robin_studio.analysis.types import Shot


class ColourTracker:
    """Mean luma, saturation and R/B balance of every frame."""

    _LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

    def __init__(self) -> None:
        self._rows: list[np.ndarray] = []

    def add_batch(self, tiny_rgb: np.ndarray, tiny_hsv: np.ndarray) -> None:
        """The tiny copies (B, 18, 32, 3) of the next frames, in RGB and in HSV."""
        b = len(tiny_rgb)
        if not b:
            return
        # Mean of each channel first, then the weighted sum (the same value: luma is linear).
        # A matrix product over all pixels would wake OpenBLAS's threads, which then spin.
        channels = tiny_rgb.reshape(b, -1, 3).mean(axis=1, dtype=np.float32) / 255.0
        luma = (channels * self._LUMA).sum(axis=1)
        saturation = tiny_hsv[..., 1].reshape(b, -1).mean(axis=1) / 255.0
        r, blue = channels[:, 0], channels[:, 2]
        temperature = np.clip(2.0 * (r - blue) / (r + blue + 1e-3), -1.0, 1.0)
        self._rows.append(np.stack([luma, saturation, temperature], axis=1).astype(np.float64))

    def array(self) -> np.ndarray:
        return np.concatenate(self._rows) if self._rows else np.zeros((0, 3))


def fill_affect(shots: list[Shot], colour: np.ndarray, motion: np.ndarray, times_s: np.ndarray) -> None:
    """Set each shot's brightness, saturation, colour temperature and motion in place."""
    for shot in shots:
        sel = (times_s >= shot.start_s) & (times_s < shot.end_s)
        if not np.any(sel):  # a shot shorter than a frame: take the nearest frame
            sel = np.zeros_like(times_s, dtype=bool)
            sel[int(np.argmin(np.abs(times_s - shot.start_s)))] = True
        shot.brightness = round(float(colour[sel, 0].mean()), 4)
        shot.saturation = round(float(colour[sel, 1].mean()), 4)
        shot.colour_temperature = round(float(colour[sel, 2].mean()), 4)
        shot.motion = round(float(motion[sel].mean()), 4)


def affect_words(brightness: float, saturation: float, temperature: float, motion: float) -> list[str]:
    """A few plain words for a look: 'dark', 'warm', 'muted', 'busy'..."""
    words = []
    if brightness < 0.25:
        words.append("dark")
    elif brightness > 0.6:
        words.append("bright")
    if temperature > 0.25:
        words.append("warm")
    elif temperature < -0.2:
        words.append("cool")
    if saturation < 0.15:
        words.append("muted")
    elif saturation > 0.5:
        words.append("vivid")
    if motion < 0.1:
        words.append("still")
    elif motion < 0.35:
        words.append("calm")
    elif motion < 0.65:
        words.append("moving")
    else:
        words.append("busy")
    return words
