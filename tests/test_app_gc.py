"""While the window is open, Python's garbage is collected on the GUI thread only (app/gui_gc.py).

A collection runs in whichever thread allocates when a threshold is passed. Once, in
test_app_welcome, that was the image network's thread importing ONNX Runtime while the clip
decoded, and the garbage held widgets of earlier windows: destroyed on that thread while the GUI
thread used them, they took the process down with a segmentation fault. Here the window does
the same concurrent work (the clip decoded for analysis and for the preview, the image network
loading and running on its own thread, thumbnails) while closed dialogs lie in reference cycles
and a worker makes garbage fast enough to pass the collector's thresholds many times over.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter
from typing import Callable

import pytest
from PySide6 import QtWidgets

from robin_studio.generate.engine import Scorer
from test_app_support import make_clip, make_window

pytestmark = pytest.mark.usefixtures("user_dirs")


class _Dialog(QtWidgets.QDialog):
    """A dialog whose Python side refers to itself, as a closed dialog held by its own slot does."""


def _collections_by_thread() -> tuple[list[str], Callable[[str, dict], None]]:
    """The names of the threads the collector starts in, and the gc callback that notes them."""
    names: list[str] = []

    def seen(phase: str, _info: dict) -> None:
        if phase == "start":
            names.append(threading.current_thread().name)
    return names, seen


def test_only_the_gui_thread_collects_while_the_window_analyses_a_clip(qtbot, tmp_path):
    # A clip of its own (its analysis is not in the session's cache): the decoder really runs.
    clip = make_clip(tmp_path / "gc.mp4", seconds=3.0, fps=25, size=(208, 116), cut_frames=(30, 55))
    names, seen = _collections_by_thread()
    gc.callbacks.append(seen)
    try:
        # The engine in this process, so its analysis threads allocate beside the window's widgets.
        w = make_window(qtbot, tmp_path, scorer_factory=Scorer)
        for _ in range(20):
            d = _Dialog()
            d.me = d
            d.show()
            d.close()
        del d
        stop = threading.Event()

        def churn() -> None:
            while not stop.is_set():
                cycles = [[] for _ in range(2000)]
                for c in cycles:
                    c.append(c)

        worker = threading.Thread(target=churn, name="churn", daemon=True)
        worker.start()
        try:
            with qtbot.waitSignal(w.analysisReady, timeout=120_000):
                assert w.open_clip(clip)
            qtbot.waitUntil(lambda: "MainThread" in names, timeout=10_000)   # the GUI thread's turn
        finally:
            stop.set()
            worker.join()
        assert w.analysis is not None and len(w.analysis.shots) == 3
        w.close()
    finally:
        gc.callbacks.remove(seen)
    assert set(names) == {"MainThread"}, f"collections by thread: {Counter(names)}"
    assert gc.isenabled(), "closing the last window gives automatic collection back"
