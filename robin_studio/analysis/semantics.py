"""Image semantics per shot: ImageNet labels and pooled features from EfficientNet-Lite0.

The network runs through ONNX Runtime on the CPU (`models/image/efficientnet_lite0.onnx`,
exported once by `robin_studio.train.export_image_encoder`). During the single decoding pass
`SemanticSampler` keeps square centre crops of a few frames per second; `label_shots` runs
the network on up to `FRAMES_PER_SHOT` of them per shot, averages the class probabilities and
features, and stores the top labels and the 1280-d features. `ShotLabeller` runs the network
on each shot's picks on a background thread as soon as a cut closes the shot, so the network
works while the video is still decoding.
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
        self.interval_s = self._interval_s = 1.0 / rate
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
        # The weights must be the ones shipped: a replaced file would silently change every
        # shot's labels. Hashed once per change of the file (see model.manifest.verify).
        from robin_studio.model.manifest import verify
        verify([f"image/{MODEL_FILE}", f"image/{LABELS_FILE}"], folder.parent)
        options = ort.SessionOptions()
        # One thread: the network runs beside the decoder (which keeps both cores busy), and
        # ONNX Runtime's worker threads spin while they wait, which more than doubled the
        # network's CPU time (0.45 s instead of 0.18 s for 18 images, measured).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
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
                encoder: ImageEncoder | None = None,
                encoded: dict[int, tuple[np.ndarray, np.ndarray]] | None = None) -> None:
    """Fill each shot's `labels` and `features` in place from the sampled frames.

    `encoded` maps sample indices to (probabilities, features) already computed (by
    `ShotLabeller` while the video decoded); only the samples missing from it are encoded."""
    chosen = [_pick(samples, shot) for shot in shots]
    wanted = sorted({i for picks in chosen for i in picks})
    if not wanted:
        return
    encoder = encoder or image_encoder()
    done = dict(encoded or {})
    missing = [i for i in wanted if i not in done]
    if missing:
        p, f = encoder.encode([samples[i][1] for i in missing])
        done.update({i: (p[k], f[k]) for k, i in enumerate(missing)})
    probs = np.stack([done[i][0] for i in wanted])
    feats = np.stack([done[i][1] for i in wanted])
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


class ShotLabeller:
    """Runs the image network on a background thread while the video is still decoding.

    As soon as a hard cut closes a shot, `shot_closed` hands the samples `label_shots` will
    pick for that shot to the thread, so by the end of decoding most shots are encoded and
    only the last shot (and any shot a fade or dissolve reshaped) is left. `label` waits for
    the thread, encodes what is missing and fills the shots; `close` (also called by `label`,
    and on any error by the caller) stops the thread and waits for it, so no ONNX Runtime
    session is running when the analysis returns or raises."""

    def __init__(self) -> None:
        import queue

        self._jobs: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._done: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._sent: set[int] = set()
        self._encoder: ImageEncoder | None = None
        self._thread = threading.Thread(target=self._work, name="robin-image-model", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        try:
            self._encoder = image_encoder()
        except Exception:  # noqa: BLE001 - raised again by `label`, in the caller's thread
            return
        while not self._stop.is_set():
            job = self._jobs.get()
            if job is None or self._stop.is_set():
                return
            indices, images = job
            probs, feats = self._encoder.encode(images)
            for k, i in enumerate(indices):
                self._done[i] = (probs[k], feats[k])

    def shot_closed(self, samples: list[tuple[float, np.ndarray]], start_s: float, end_s: float) -> None:
        picks = [i for i in _pick(samples, Shot(index=-1, start_s=start_s, end_s=end_s))
                 if i not in self._sent]
        if picks:
            self._sent.update(picks)
            self._jobs.put((picks, [samples[i][1] for i in picks]))

    def close(self, wait_for_jobs: bool = False) -> None:
        if not wait_for_jobs:
            self._stop.set()
        self._jobs.put(None)
        self._thread.join()

    def label(self, shots: list[Shot], samples: list[tuple[float, np.ndarray]]) -> None:
        self.close(wait_for_jobs=True)
        label_shots(shots, samples, self._encoder, dict(self._done))
