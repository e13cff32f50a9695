"""Starting the app: the QApplication, the theme, HiDPI, the window, the crash-recovery
offer, the first-run checks, and warming the engine up in the background so the first
chunk comes quickly.

The first thing on screen is the window's frame (`start_frame.StartFrame`: its layout, every
control disabled and saying the editor is starting), painted before numpy, PyAV, pyqtgraph
or the engine is imported; the editor is then imported a module at a time and takes the
frame's place, and the engine warms up after the editor's own first paint. SIGTERM closes
the editor keeping the work (the recovery copy stays and is offered at the next start) and
the app exits with 143, like the command line."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio import __version__
from robin_studio.app import style
from robin_studio.app.start_frame import StartFrame
from robin_studio.errors import RobinError

# The exit code after SIGTERM, as the command line's (cli.EXIT_TERMINATED, 128 + 15).
EXIT_TERMINATED = 143


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


class _OnPaint(QtCore.QObject):
    """Runs `callback` once, just after `widget` first paints."""

    def __init__(self, widget, callback) -> None:
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            obj.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, callback)
        return False


def _report(what: str) -> None:
    """Benchmarks and smoke tests (ROBIN_STUDIO_EXIT_AFTER_SHOWN=1): when the first paint
    (SHOWN) and the editor's first paint (READY) happened."""
    print(f"ROBIN_STUDIO_{what} epoch_s={time.time():.3f} cpu_s={time.process_time():.3f}", flush=True)


# What the editor needs, imported one at a time after the frame has painted, so the frame
# keeps answering the window system (a resize, an expose) between them.
EDITOR_MODULES = (("numpy", "numpy"), ("PyAV", "av"), ("the timeline", "pyqtgraph"),
                  ("the timeline", "robin_studio.app.timeline"),
                  ("the project", "robin_studio.app.project_flow"),
                  ("generation", "robin_studio.app.generation_flow"),
                  ("the window", "robin_studio.app.main_window"))


class _SigtermWatch(QtCore.QObject):
    """SIGTERM (a logout, a shutdown, `kill`) closes the window the way a close does, but
    keeping the work instead of asking: see `close_keeping_work`. Qt's event loop runs in C++,
    where a Python signal handler would wait for the next Python call; the handler's wake-up
    byte on a socket pair is that call."""

    def __init__(self, app: QtWidgets.QApplication, on_term) -> None:
        super().__init__(app)
        self.terminated = False
        self._on_term = on_term
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._old_fd = signal.set_wakeup_fd(self._write.fileno())
        self._old_handler = signal.signal(signal.SIGTERM, self._handler)
        self._notifier = QtCore.QSocketNotifier(self._read.fileno(), QtCore.QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _handler(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        if not self.terminated:
            self.terminated = True
            QtCore.QTimer.singleShot(0, self._on_term)

    def _drain(self, *_args) -> None:
        try:
            while self._read.recv(64):
                pass
        except OSError:   # nothing more to read
            pass

    def restore(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._old_fd)
        signal.signal(signal.SIGTERM, self._old_handler)
        self._read.close()
        self._write.close()


def close_keeping_work(window) -> None:
    """Close `window` without a question, keeping the work: a running generation stops (what
    arrived stays as a take), the unsaved project is written to the recovery copy, and the
    recovery copy is left in place, so the next start offers it back as after a crash."""
    window.stop_everything()
    if window.project.clip_path and window.dirty:
        window.project_flow.autosave(wait=True)
        window.keep_recovery = True
    window.confirm_close = False
    app = QtWidgets.QApplication.instance()
    for dialog in list(getattr(window, "dialogs", [])):   # an open question has no one to answer it
        dialog.close()
    modal = app.activeModalWidget() if app is not None else None
    while modal is not None and modal is not window:
        modal.close()
        if app.activeModalWidget() is modal:
            break
        modal = app.activeModalWidget()
    window.close()


class _Start:
    """The start: the frame paints first, then the editor is imported and built step by step
    and takes the frame's place."""

    def __init__(self, app, path: str | None, exit_after_shown: bool) -> None:
        self.app = app
        self.path = path
        self.exit_after_shown = exit_after_shown
        self.window = None
        self.error: BaseException | None = None
        self.frame = StartFrame()
        self._steps = list(EDITOR_MODULES)
        _OnPaint(self.frame, self._frame_painted)

    def _frame_painted(self) -> None:
        if self.exit_after_shown:
            _report("SHOWN")
        self._next_step()

    def _next_step(self) -> None:
        if self.frame is None:       # closed (or terminated) while the editor was loading
            return
        try:
            if self._steps:
                what, module = self._steps.pop(0)
                self.frame.set_step(what)
                importlib.import_module(module)
                QtCore.QTimer.singleShot(0, self._next_step)
                return
            self._build_window()
        except BaseException as err:  # noqa: BLE001 - raised again by run_app, out of Qt's loop
            # An editor that cannot start must not leave the frame saying "starting" forever.
            self.error = err
            if self.frame is not None:
                self.frame.close()
            self.app.quit()

    def _build_window(self) -> None:
        from robin_studio.app.main_window import MainWindow

        window = MainWindow()
        window.restoreGeometry(self.frame.saveGeometry())   # where the creator sees the frame
        self.window = window
        if self.exit_after_shown:
            _OnPaint(window, self._ready_then_quit)
        window.show()
        frame, self.frame = self.frame, None
        frame.close()
        frame.deleteLater()
        recovered = window.offer_recovery()
        if self.path:
            p = Path(self.path)
            if not p.exists():
                window.show_error(RobinError(f"{p} does not exist.", "Check the path and try again."))
            elif recovered is None:
                window.open_path(p)
        if not self.exit_after_shown:   # (that run closes at once)
            _OnPaint(window, lambda: _warm_up(window))

    def _ready_then_quit(self) -> None:
        _report("READY")
        self.window.confirm_close = False
        self.window.close()
        self.app.quit()

    def terminate(self) -> None:
        if self.window is not None:
            close_keeping_work(self.window)
        if self.frame is not None:
            self.frame.close()
            self.frame = None
        self.app.quit()


def run_app(path: str | None = None, argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("ROBIN_STUDIO_LOG", "WARNING"))
    app = make_app(argv)
    start = _Start(app, path, bool(os.environ.get("ROBIN_STUDIO_EXIT_AFTER_SHOWN")))
    watch = _SigtermWatch(app, start.terminate)
    start.frame.show()
    try:
        code = app.exec()
    finally:
        watch.restore()
    if start.error is not None:
        raise start.error
    return EXIT_TERMINATED if watch.terminated else code


if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1] if len(sys.argv) > 1 else None, sys.argv))
