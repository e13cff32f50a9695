"""Python's cyclic garbage collector, run on the GUI thread only while a window is open.

The collector runs in whichever thread happens to allocate when a generation passes its
threshold: in this app, often a worker (the analysis decoder, the image network's loader, a
generation). When the garbage it finds holds Qt widgets (a closed dialog, or a window's wrappers
in a reference cycle), their C++ side is destroyed on that worker while the GUI thread may be
painting or delivering events to them, and the process dies with a segmentation fault. That is
how tests/test_app_welcome crashed once: the collector ran inside ONNX Runtime's import on the
image-network thread, with the widgets of earlier tests' windows as its garbage. A small script
that closes dialogs left in cycles while a worker allocates crashes the same way within seconds.

So while a window is open, automatic collection is off and a timer on the GUI thread collects
instead, a generation at a time as Python's own thresholds say (the scheme of pyqtgraph's
`GarbageCollector`, which keeps it off for the whole process and cannot be undone). Each
window holds the collector while it is open (`hold`/`release`); when the last one lets go,
automatic collection comes back. The objects that exist when the first window holds it are
frozen (`gc.freeze`) until then, so that a full collection on the GUI thread stays short.
"""

from __future__ import annotations

import gc

from PySide6 import QtCore

INTERVAL_MS = 1000      # how often the GUI thread looks at the collector's counts


class _Collector(QtCore.QObject):
    def __init__(self) -> None:
        super().__init__()
        self.holders = 0
        self.was_enabled = True
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect_due)

    def collect_due(self) -> None:
        """Collect the oldest generation whose threshold is passed, as automatic collection
        would have (a generation's collection includes the younger ones)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = -1
        for generation in range(3):
            if counts[generation] <= thresholds[generation]:
                break
            due = generation
        if due >= 0:
            gc.collect(due)


_collector: _Collector | None = None


def hold() -> None:
    """A window opens: from now on only the GUI thread collects (call on the GUI thread)."""
    global _collector
    if _collector is None:
        _collector = _Collector()
    c = _collector
    if c.holders == 0:
        c.was_enabled = gc.isenabled()
        gc.disable()
        # What exists now (modules, the window's widgets) lives as long as the window: left
        # out of the collections, a full one takes 13-22 ms instead of 135-320 ms (measured
        # with a clip open, on the loaded 2-core machine), and it runs on the GUI thread.
        gc.freeze()
        c.timer.start()
    c.holders += 1


def release() -> None:
    """A window has closed: when it was the last, automatic collection comes back, over
    everything again."""
    c = _collector
    if c is None or c.holders == 0:
        return
    c.holders -= 1
    if c.holders == 0:
        c.timer.stop()
        gc.unfreeze()
        if c.was_enabled:
            gc.enable()


def holding() -> bool:
    """Whether a window holds the collector (automatic collection is off)."""
    return _collector is not None and _collector.holders > 0
