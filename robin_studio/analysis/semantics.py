"""Image semantics per shot: ImageNet labels and pooled features from EfficientNet-Lite0.

The network runs through ONNX Runtime on the CPU (`models/image/efficientnet_lite0.onnx`,
exported once by `robin_studio.train.export_image_encoder`). During the single decoding pass
`SemanticSampler` keeps square centre crops of a few frames per second; afterwards
`label_shots` runs the network on up to `FRAMES_PER_SHOT` of them per shot, averages the
class probabilities and features, and stores the top labels and the 1280-d features.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import cv2
import numpy as np

from robin_studio.analysis.types import Shot
from robin_studio.errors import ModelFileError
from robin_studio.lifecycle import start_tracked
from robin_studio.paths import models_dir

MODEL_FILE = "efficientnet_lite0.onnx"
LABELS_FILE = "imagenet_labels.txt"
IMAGE_SIZE = 224
FRAMES_PER_SHOT = 3        # at most; one per SECONDS_PER_FRAME of shot, at least one
SECONDS_PER_FRAME = 3.0
TOP_LABELS = 3
MIN_LABEL_P = 0.05
SAMPLE_HZ = 2.0
MAX_SAMPLES = 600          # caps memory (192x192x3 bytes each) on long clips
FEATURE_DECIMALS = 4
_BATCH = 8


class SemanticSampler:
    """Keeps centre crops of frames at up to `SAMPLE_HZ` (fewer on long clips)."""

    def __init__(self, duration_s: float) -> None:
        rate = min(SAMPLE_HZ, MAX_SAMPLES / max(duration_s, 1e-3))
        self._interval_s = 1.0 / rate
        self._next_s = 0.0
        self._samples: list[tuple[float, np.ndarray]] = []

    def add(self, time_s: float, rgb: np.ndarray) -> None:
        if time_s + 1e-9 < self._next_s:
            return
        self._next_s = time_s + self._interval_s
        h, w = rgb.shape[:2]
        side = min(h, w)
        y0, x0 = (h - side) // 2, (w - side) // 2
        self._samples.append((time_s, rgb[y0: y0 + side, x0: x0 + side].copy()))

    def samples(self) -> list[tuple[float, np.ndarray]]:
        return self._samples


class ImageEncoder:
    """EfficientNet-Lite0 through ONNX Runtime: RGB uint8 images -> probabilities, features."""

    def __init__(self) -> None:
        import onnxruntime as ort

        from robin_studio.model.providers import choose_providers

        folder = models_dir() / "image"
        model, labels = folder / MODEL_FILE, folder / LABELS_FILE
        for needed in (model, labels):
            if not needed.is_file():
                raise ModelFileError(f"The image model file {needed} is missing.",
                                     "Reinstall Robin Studio, or run "
                                     "`python -m robin_studio.train.export_image_encoder`.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        options.inter_op_num_threads = 1
        # Without the arena the session returns its working memory after each run (~90 MB).
        options.enable_cpu_mem_arena = False
        try:
            self._session = ort.InferenceSession(str(model), options, providers=choose_providers())
        except Exception as err:  # ONNX Runtime raises its own exception types
            raise ModelFileError(f"The image model {model} cannot be loaded ({err}).",
                                 "Reinstall Robin Studio to restore the file.") from None
        self.labels = labels.read_text(encoding="utf-8").splitlines()
        self._lock = threading.Lock()

    def encode(self, images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities (N, 1000), features (N, 1280)) for RGB uint8 images of any size."""
        if not images:
            return np.zeros((0, len(self.labels)), np.float32), np.zeros((0, 1280), np.float32)
        probs, feats = [], []
        for i in range(0, len(images), _BATCH):
            batch = np.stack([cv2.resize(im, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_LINEAR)
                              for im in images[i: i + _BATCH]]).astype(np.float32)
            with self._lock:
                logits, features = self._session.run(None, {"images": batch.transpose(0, 3, 1, 2)})
            logits = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            probs.append(p / p.sum(axis=1, keepdims=True))
            feats.append(features)
        return np.concatenate(probs), np.concatenate(feats)


@lru_cache(maxsize=1)
def image_encoder() -> ImageEncoder:
    """The shared encoder (loading the model takes a moment; do it once)."""
    return ImageEncoder()


def warm_up() -> None:
    """Load the network in a background thread while the video decodes (errors surface later,
    when `label_shots` needs it). The thread is tracked by `lifecycle`, not a daemon: exiting
    while ONNX Runtime builds the session aborts the process (issue 19), so exit waits for it."""
    def load() -> None:
        try:
            image_encoder()
        except Exception:  # noqa: BLE001 - reported by label_shots, in the caller's thread
            pass
    start_tracked(load, "robin-image-model")


def _pick(samples: list[tuple[float, np.ndarray]], shot: Shot) -> list[int]:
    """Indices of a few samples spread over the shot, away from its edges (one per
    SECONDS_PER_FRAME, at most FRAMES_PER_SHOT): the network is the slow part on short shots."""
    margin = 0.1 * shot.duration_s
    inside = [i for i, (t, _) in enumerate(samples) if shot.start_s + margin <= t < shot.end_s - margin]
    if not inside:
        inside = [i for i, (t, _) in enumerate(samples) if shot.start_s <= t < shot.end_s]
    wanted = int(np.clip(round(shot.duration_s / SECONDS_PER_FRAME), 1, FRAMES_PER_SHOT))
    if len(inside) <= wanted:
        return inside
    spots = np.linspace(0, len(inside) - 1, wanted + 2)[1:-1]
    return sorted({inside[int(round(s))] for s in spots})


def label_shots(shots: list[Shot], samples: list[tuple[float, np.ndarray]],
                encoder: ImageEncoder | None = None) -> None:
    """Fill each shot's `labels` and `features` in place from the sampled frames."""
    chosen = [_pick(samples, shot) for shot in shots]
    wanted = sorted({i for picks in chosen for i in picks})
    if not wanted:
        return
    encoder = encoder or image_encoder()
    probs, feats = encoder.encode([samples[i][1] for i in wanted])
    row = {sample: r for r, sample in enumerate(wanted)}
    for shot, picks in zip(shots, chosen):
        if not picks:
            continue
        rows = [row[i] for i in picks]
        p = probs[rows].mean(axis=0)
        top = np.argsort(-p)[:TOP_LABELS]
        shot.labels = [(encoder.labels[k], round(float(p[k]), 4)) for k in top
                       if p[k] >= MIN_LABEL_P] or [(encoder.labels[top[0]], round(float(p[top[0]]), 4))]
        shot.features = [round(float(v), FEATURE_DECIMALS) for v in feats[rows].mean(axis=0)]
