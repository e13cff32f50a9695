"""Starting the app: the QApplication, the theme, HiDPI, the window, the crash-recovery
offer, the first-run checks, and warming the engine up in the background so the first
chunk comes quickly."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio import __version__
from robin_studio.app import style
from robin_studio.errors import RobinError


def make_app(argv: list[str] | None = None) -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    if app is None:
        # Qt 6 scales for HiDPI itself; pass fractional factors through (125 %, 150 %)
        # instead of rounding them, so text and lanes keep their proportions.
        QtGui.QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            QtCore.Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QtWidgets.QApplication(argv or ["robin-studio"])
    app.setApplicationName("Robin Studio")
    app.setOrganizationName("Robin Studio")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("robin-studio")
    style.apply_theme(app)
    return app


def _warm_up(window) -> None:
    """Load the SoundFont, text encoder and model on a worker while the creator reads."""
    from robin_studio.app.workers import call_worker

    def warm():
        scorer = window.host.scorer()
        fn = getattr(scorer, "warm_up", None)
        if fn is not None:
            fn()

    worker = call_worker(warm)
    worker.errored.connect(window.note_engine_problem)
    worker.start()


class _FirstPaint(QtCore.QObject):
    """Benchmarks and bundle smoke tests: print when the window first paints, then quit."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Paint and not getattr(self, "done", False):
            self.done = True
            print(f"ROBIN_STUDIO_SHOWN epoch_s={time.time():.3f}", flush=True)
            obj.confirm_close = False
            QtCore.QTimer.singleShot(0, obj.close)
            QtCore.QTimer.singleShot(0, QtWidgets.QApplication.quit)
        return False


class _AfterFirstPaint(QtCore.QObject):
    """Runs `callback` once, just after the window first paints (the engine's warm-up starts
    a process and imports the whole engine: begun before the first paint, it made the
    window wait for it)."""

    def __init__(self, window, callback) -> None:
        super().__init__(window)
        self._callback = callback
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            obj.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, callback)
        return False


def _exit_after_shown(window) -> None:
    window._first_paint = _FirstPaint(window)
    window.installEventFilter(window._first_paint)


def run_app(path: str | None = None, argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("ROBIN_STUDIO_LOG", "WARNING"))
    app = make_app(argv)
    from robin_studio.app.main_window import MainWindow

    window = MainWindow()
    if os.environ.get("ROBIN_STUDIO_EXIT_AFTER_SHOWN"):
        _exit_after_shown(window)
    window.show()
    recovered = window.offer_recovery()
    if path:
        p = Path(path)
        if not p.exists():
            window.show_error(RobinError(f"{p} does not exist.", "Check the path and try again."))
        elif recovered is None:
            window.open_path(p)
    if not os.environ.get("ROBIN_STUDIO_EXIT_AFTER_SHOWN"):   # (that run closes at once)
        _AfterFirstPaint(window, lambda: _warm_up(window))
    return app.exec()


if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1] if len(sys.argv) > 1 else None, sys.argv))
