"""How responsive the window is: a probe of the Qt event loop (`LoopLatency`) and of what the
creator feels, key press to repaint (`InputLatency`), used by the tests and the app benchmark.

A 10 ms QTimer on the UI thread records the gap between its ticks: how long the event loop
could not answer. For each gap it also records the CPU time this process (all its threads)
used meanwhile. A stall the app causes (work on the UI thread, or another thread holding the
GIL) burns this process's CPU; a gap during which the process barely ran is the machine's
scheduler serving other programs, which no design of the app can prevent. So
`app_stall_ms` = min(gap, CPU used in it) is the part of each gap the app owns.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6 import QtCore


class LoopLatency:
    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QtCore.QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.last: tuple[float, float] | None = None
        self.gaps_ms: list[float] = []
        self.app_stall_ms: list[float] = []
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        if self.last is not None:
            gap = 1000.0 * (now - self.last[0])
            self.gaps_ms.append(gap)
            self.app_stall_ms.append(min(gap, 1000.0 * (cpu - self.last[1])))
        self.last = (now, cpu)

    def start(self) -> None:
        self.last = None
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def summary(self) -> dict:
        g = np.asarray(self.gaps_ms or [0.0])
        return {"ticks": len(self.gaps_ms), "max_gap_ms": float(g.max()),
                "p95_gap_ms": float(np.percentile(g, 95)),
                "max_app_stall_ms": float(max(self.app_stall_ms or [0.0]))}


class InputLatency(QtCore.QObject):
    """What the creator feels: from a key press to the repaint that shows its effect.

    Every `interval_ms` a real key event (Shift+Right, or Shift+Left near the end) is posted to
    the window's event queue, as the windowing system delivers input; the time runs until the
    transport's timecode label has painted a new time. A press whose repaint has not come
    after `give_up_ms` counts as missed. Used by the app benchmark while a generation runs.
    """

    def __init__(self, window, interval_ms: int = 150, give_up_ms: float = 3000.0) -> None:
        super().__init__(window)
        self.w = window
        self.label = window.transport.timecode
        self.samples_ms: list[float] = []
        self.missed = 0
        self.give_up_ms = give_up_ms
        self._pending: tuple[float, str] | None = None
        self._direction = 1
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.press)
        self.label.installEventFilter(self)

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._pending = None

    def press(self) -> None:
        from PySide6 import QtGui, QtWidgets

        now = time.perf_counter()
        if self._pending is not None:
            if 1000.0 * (now - self._pending[0]) < self.give_up_ms:
                return                      # the last press has not been shown yet
            self.missed += 1
        w = self.w
        if w.position_s > w.duration_s - 1.5:
            self._direction = -1
        elif w.position_s < 1.5:
            self._direction = 1
        key = QtCore.Qt.Key.Key_Right if self._direction > 0 else QtCore.Qt.Key.Key_Left
        shift = QtCore.Qt.KeyboardModifier.ShiftModifier
        target = QtWidgets.QApplication.focusWidget() or w
        self._pending = (time.perf_counter(), self.label.text())
        for kind in (QtCore.QEvent.Type.KeyPress, QtCore.QEvent.Type.KeyRelease):
            QtWidgets.QApplication.postEvent(target, QtGui.QKeyEvent(kind, key, shift))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if (event.type() == QtCore.QEvent.Type.Paint and self._pending is not None
                and self.label.text() != self._pending[1]):
            self.samples_ms.append(1000.0 * (time.perf_counter() - self._pending[0]))
            self._pending = None
        return False

    def summary(self) -> dict:
        s = np.asarray(self.samples_ms or [float("nan")])
        return {"presses": len(self.samples_ms), "missed": self.missed,
                "p50_ms": float(np.percentile(s, 50)), "p95_ms": float(np.percentile(s, 95)),
                "max_ms": float(s.max())}
