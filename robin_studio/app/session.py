"""The editor's shared state and its messages, as the two narrow interfaces the flows use.

`ClipSession` is the document being edited: the project, where it is saved, whether it has
unsaved work, the open clip's probe and analysis, and the engine piece shown on the music lane.
The project, generation and takes flows read and write it instead of the window's attributes
(the window keeps them only as names that forward here).

`Feedback` is how the editor speaks: the status bar (an elided message with the whole text in
its tooltip, a progress bar, a notice of what this machine cannot do) and non-blocking message
boxes, engine errors among them. Flows report through it; none of them reaches into the window's
widgets.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtWidgets

from robin_studio import paths
from robin_studio.app.project import Project
from robin_studio.errors import RobinError


@dataclass
class ClipSession:
    """What is open and what state it is in (one per window)."""

    project: Project = field(default_factory=Project)
    project_path: Path | None = None      # where the project is saved, None until it is
    dirty: bool = False                   # unsaved work (a typed prompt, a take, an edit)
    media_info: Any = None                # the clip's probe (media.probe.MediaInfo)
    analysis: Any = None                  # the clip's analysis, once the worker delivered it
    piece: Any = None                     # the engine piece the music lane shows (None: none)
    duration_s: float = 0.0
    fps: float = 25.0


def forwarded(name: str, doc: str = "") -> property:
    """A window attribute that is `window.session.<name>` (read and written)."""
    return property(lambda self: getattr(self.session, name),
                    lambda self, value: setattr(self.session, name, value), doc=doc or f"session.{name}")


class Feedback(QtCore.QObject):
    """The status bar's message, progress and notice, and the window's message boxes."""

    def __init__(self, window: QtWidgets.QMainWindow, dialogs: list) -> None:
        super().__init__(window)
        self.window = window          # the parent of the message boxes
        self.dialogs = dialogs        # the open message boxes (tests and the key filter read them)
        self.closing = False          # set while the window closes: errors are no longer shown
        self._text = "Open a video to begin."
        self.label = QtWidgets.QLabel(self._text)
        self.label.setToolTip("What Robin Studio is doing")
        # Long messages are elided with "..." (the whole text is in the tooltip), never cut.
        self.label.setMinimumWidth(80)
        self.label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setMaximumHeight(14)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setToolTip("Progress of the current analysis or generation")
        self.progress_bar.hide()
        self.notice_label = QtWidgets.QLabel("")
        self.notice_label.setObjectName("notice")
        self.notice_label.setToolTip("Something that limits what Robin Studio can do on this machine")
        self.notice_label.hide()
        bar = window.statusBar()
        bar.addWidget(self.label, 1)
        bar.addPermanentWidget(self.notice_label)
        bar.addPermanentWidget(self.progress_bar)

    def set_status(self, text: str) -> None:
        self._text = text
        self.label.setToolTip(text or "What Robin Studio is doing")
        self.elide()

    def status_text(self) -> str:
        """The whole status message (the label may show it shortened)."""
        return self._text

    def elide(self) -> None:
        fm = self.label.fontMetrics()
        width = max(40, self.label.width() - 4)
        self.label.setText(fm.elidedText(self._text, QtCore.Qt.TextElideMode.ElideRight, width))

    def flash(self, text: str, ms: int) -> None:
        """A passing message over the status bar for `ms` milliseconds."""
        self.window.statusBar().showMessage(text, ms)

    def show_notice(self, text: str) -> None:
        """A lasting limitation, in short in the status bar; the whole advice in its tooltip."""
        short = text.split(". ")[0].split(": ")[-1] if len(text) > 60 else text
        if "sound is off" in text.lower():
            short = "Sound off (no audio device)"
        self.notice_label.setText(short.rstrip("."))
        self.notice_label.setToolTip(text)
        self.notice_label.setVisible(bool(text))

    def show_progress(self, fraction: float, message: str) -> None:
        """The progress bar at `fraction` (0..1) and `message` in the status bar."""
        self.progress_bar.show()
        self.progress_bar.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.set_status(message)

    def hide_progress(self) -> None:
        self.progress_bar.hide()

    def message(self, icon, title: str, text: str, detail: str = "") -> QtWidgets.QMessageBox:
        """A non-blocking message box (the event loop and any worker keep running)."""
        box = QtWidgets.QMessageBox(icon, title, text, QtWidgets.QMessageBox.StandardButton.Ok, self.window)
        if detail:
            box.setInformativeText(detail)
        box.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        box.finished.connect(lambda *_: self.dialogs.remove(box) if box in self.dialogs else None)
        self.dialogs.append(box)
        box.open()
        return box

    def show_error(self, err: BaseException, doing: str = "") -> QtWidgets.QMessageBox | None:
        """Engine errors as readable dialogs. The project is left as it was."""
        if self.closing:
            return None
        details = getattr(err, "details", "") or getattr(err, "engine_traceback", "")
        if details:
            _log(details if details.endswith("\n") else details + "\n")
        if isinstance(err, RobinError):
            text, detail = err.message, err.hint
        else:
            # A bug, not the user's doing: log the traceback, show one readable line.
            _log("".join(traceback.format_exception(type(err), err, err.__traceback__)))
            text = f"Something went wrong{(' while ' + doing) if doing else ''}: {err}"
            detail = f"Your project is safe. Details were written to {paths.cache_dir() / 'robin-studio.log'}."
        self.set_status(text.splitlines()[0])
        return self.message(QtWidgets.QMessageBox.Icon.Warning, "Robin Studio", text, detail)


def _log(text: str) -> None:
    try:
        with open(paths.cache_dir() / "robin-studio.log", "a", encoding="utf-8") as fh:
            fh.write(text)
    except OSError:
        pass
