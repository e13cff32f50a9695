"""The reduced copies of the analysis frames that the trackers share, made for a batch of
frames at a time.

The decoder hands over each frame once, at half the analysis size (`media.decode.
iter_analysis_frames`): that is what the cut detector compares (in HSV, as PySceneDetect
compares frames at about 256 px wide). From it come, by an exact halving (OpenCV's fast area
path), the quarter-size copy for motion and colour histograms, and a 32x18 copy for the
gradual-transition search and colour statistics.

A batch of frames is stacked into one tall image before each resize or colour conversion, so
OpenCV runs once per batch instead of once per frame (the per-call overhead, not the pixels,
was most of the cost at these sizes). Halving a stack of even-height images never mixes two
images; the 32x18 area resize of a stack maps each image's rows onto exactly 18 output rows,
so each copy equals the one made from its frame alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

TINY_SIZE = (32, 18)   # (width, height)


@dataclass
class BatchCopies:
    half_hsv: np.ndarray     # (B, h/2, w/2, 3) HSV (OpenCV's 0..180 hue), for the cut detector
    small_rgb: np.ndarray    # (B, h/4, w/4, 3)
    small_grey: np.ndarray   # (B, h/4, w/4) luma
    tiny_rgb: np.ndarray     # (B, 18, 32, 3)
    tiny_hsv: np.ndarray     # (B, 18, 32, 3)


def _halve(frames: np.ndarray) -> np.ndarray:
    """(B, h, w, c) -> (B, h//2, w//2, c) by 2x2 averaging; tiny frames stay as they are."""
    b, h, w = frames.shape[:3]
    h2, w2 = h // 2, w // 2
    if h2 < 8 or w2 < 8:
        return frames
    stack = np.ascontiguousarray(frames[:, : 2 * h2, : 2 * w2]).reshape(b * 2 * h2, 2 * w2, -1)
    out = cv2.resize(stack, (w2, b * h2), interpolation=cv2.INTER_AREA)
    return out.reshape(b, h2, w2, -1)


def _stacked(fn, frames: np.ndarray, *args) -> np.ndarray:
    b, h = frames.shape[:2]
    out = fn(np.ascontiguousarray(frames).reshape(b * h, *frames.shape[2:]), *args)
    return out.reshape(b, h, *out.shape[1:])


def make_batch_copies(half: np.ndarray) -> BatchCopies:
    """The copies of a batch of frames at half the analysis size, (B, h, w, 3) RGB uint8."""
    small = _halve(half)
    b, hs, ws = small.shape[:3]
    tiny = cv2.resize(np.ascontiguousarray(small).reshape(b * hs, ws, 3),
                      (TINY_SIZE[0], b * TINY_SIZE[1]), interpolation=cv2.INTER_AREA)
    tiny = tiny.reshape(b, TINY_SIZE[1], TINY_SIZE[0], 3)
    return BatchCopies(
        half_hsv=_stacked(cv2.cvtColor, half, cv2.COLOR_RGB2HSV),
        small_rgb=small,
        small_grey=_stacked(cv2.cvtColor, small, cv2.COLOR_RGB2GRAY),
        tiny_rgb=tiny,
        tiny_hsv=_stacked(cv2.cvtColor, tiny, cv2.COLOR_RGB2HSV))
