"""Which ONNX Runtime execution provider runs the models: the CPU, or an NVIDIA GPU when one
is really usable.

`onnxruntime-gpu` (the optional extra `pip install robin-studio[gpu]`) lists
CUDAExecutionProvider even on machines without CUDA, and asking it for every provider it
lists prints a page of library-load errors before falling back (../shared/RESOURCES.md). So
the CUDA provider is chosen only when it is listed *and* the CUDA libraries it needs load;
otherwise the CPU provider, silently. The choice:

    ROBIN_STUDIO_DEVICE=auto   (default) a GPU when usable, else the CPU
    ROBIN_STUDIO_DEVICE=cpu    always the CPU (bit-stable results, the tested path)
    ROBIN_STUDIO_DEVICE=cuda   the GPU, or a clear error when it is not usable

Torch-free, like the rest of the scoring path.
"""

from __future__ import annotations

import ctypes
import functools
import os

from robin_studio.errors import RobinError

ENV = "ROBIN_STUDIO_DEVICE"
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
# The shared libraries onnxruntime-gpu's CUDA provider loads (CUDA 12 and 13 builds; cuDNN 9).
# Each group is satisfied when any of its names loads.
CUDA_LIBRARIES: tuple[tuple[str, ...], ...] = (
    ("libcudart.so.12", "libcudart.so.13", "cudart64_12.dll", "cudart64_13.dll"),
    ("libcublasLt.so.12", "libcublasLt.so.13", "cublasLt64_12.dll", "cublasLt64_13.dll"),
    ("libcudnn.so.9", "cudnn64_9.dll"),
)


def _loads(names: tuple[str, ...]) -> bool:
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


@functools.cache
def cuda_usable() -> tuple[bool, str]:
    """(usable, why not): the CUDA provider is built in and its libraries load."""
    import onnxruntime as ort

    if CUDA not in ort.get_available_providers():
        return False, "this onnxruntime has no CUDA provider (install the [gpu] extra)"
    try:   # onnxruntime-gpu >= 1.21 can load CUDA/cuDNN from the nvidia-* pip packages
        ort.preload_dlls(directory="")
    except Exception:  # older builds have no preload_dlls; missing packages raise: fall through
        pass
    for group in CUDA_LIBRARIES:
        if not _loads(group):
            return False, f"the CUDA library {group[0]} does not load"
    return True, ""


def choose_providers(device: str | None = None) -> list[str]:
    """The providers list for an InferenceSession, CPU last as the fallback for any op the
    GPU provider lacks."""
    device = (device or os.environ.get(ENV) or "auto").strip().lower()
    if device not in ("auto", "cpu", "cuda"):
        raise RobinError(f"{ENV}={device!r} is not a device Robin Studio knows.",
                         f"Set {ENV} to auto, cpu or cuda.")
    if device == "cpu":
        return [CPU]
    usable, why = cuda_usable()
    if usable:
        return [CUDA, CPU]
    if device == "cuda":
        raise RobinError(f"{ENV}=cuda was asked for, but the GPU cannot be used: {why}.",
                         "Install the GPU extra (pip install 'robin-studio[gpu]') on a machine with an "
                         f"NVIDIA driver and CUDA 12, or set {ENV}=cpu.")
    return [CPU]
