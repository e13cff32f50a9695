"""The first-run welcome: what Robin Studio does in three steps, a sample clip to try at once,
and the setup checks (SoundFont, models, audio device) each with what to do about it.

Shown once, the first time the app starts (`AppSettings.seen_first_run`); Help > Check Setup
shows the checks again later. The dialog does not open anything itself: it calls the
`open_path` it was given with the sample clip, so the window stays the only one that loads
clips.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio import paths
from robin_studio.app import style
from robin_studio.app.checks import Check

SAMPLE_CLIP_NAME = "bigbuckbunny.mp4"
SAMPLE_PROMPT = "playful orchestral, light and bouncy, builds to the end"

STEPS = (
    ("Open a clip", "Drag a video onto the window or use File \u203a Open. Robin Studio finds "
     "its cuts, shots and motion."),
    ("Say what you want", "Type the music you have in mind, for example "
     f"\u201c{SAMPLE_PROMPT}\u201d."),
    ("Generate and export", "Music streams in while it is made, with cuts on beats. Regenerate "
     "any part you do not like, then export an MP4, WAV, stems or MIDI."),
)


def sample_clip_path() -> Path:
    return paths.resources_dir() / "sample" / SAMPLE_CLIP_NAME


def check_rows_html(checks: list[Check]) -> str:
    """The checks as HTML rows: a green tick or an orange cross, the part, and the message."""
    rows = []
    for c in checks:
        mark, colour = ("\u2714", "#5fd08a") if c.ok else ("\u2716", "#ffb36b")
        rows.append(f"<tr><td style='color:{colour}; padding-right:8px'>{mark}</td>"
                    f"<td style='padding-right:10px'><b>{html.escape(c.name)}</b></td>"
                    f"<td>{html.escape(c.message)}</td></tr>")
    return "<table cellspacing='4'>" + "".join(rows) + "</table>"


class WelcomeDialog(QtWidgets.QDialog):
    """Welcome with a "Try the sample clip" button and the setup checks."""

    def __init__(self, checks: list[Check], open_path: Callable[[Path], object] | None = None,
                 parent: QtWidgets.QWidget | None = None, sample: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Robin Studio")
        self.setObjectName("welcome")
        self.checks = list(checks)
        self.sample = Path(sample) if sample is not None else sample_clip_path()
        self._open_path = open_path
        self.opened: Path | None = None

        icon = QtGui.QIcon(str(style.icon_path()))
        head = QtWidgets.QHBoxLayout()
        logo = QtWidgets.QLabel()
        logo.setPixmap(icon.pixmap(64, 64))
        title = QtWidgets.QLabel("<h2>Welcome to Robin Studio</h2>"
                                 "Music for your videos that follows the picture.")
        head.addWidget(logo)
        head.addWidget(title, 1)

        steps = QtWidgets.QLabel("<ol>" + "".join(
            f"<li><b>{html.escape(t)}.</b> {html.escape(d)}</li>" for t, d in STEPS) + "</ol>")
        steps.setWordWrap(True)

        failed = [c for c in self.checks if not c.ok]
        checks_head = QtWidgets.QLabel("Setup" if not failed else
                                       "Setup \u2013 some things need your attention")
        checks_head.setObjectName("heading")
        self.checks_label = QtWidgets.QLabel(check_rows_html(self.checks))
        self.checks_label.setWordWrap(True)
        self.checks_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)

        self.sample_button = QtWidgets.QPushButton("Try the sample clip")
        self.sample_button.setObjectName("primary")
        self.sample_button.setToolTip(f"Open {self.sample.name} (5 s of Big Buck Bunny, CC-BY 3.0) "
                                      "with a prompt ready to generate")
        self.sample_button.setEnabled(self.sample.is_file() and open_path is not None)
        if not self.sample.is_file():
            self.sample_button.setToolTip(f"The sample clip is missing ({self.sample}); "
                                          "open one of your own clips instead.")
        self.sample_button.clicked.connect(self.try_sample)
        self.close_button = QtWidgets.QPushButton("Start with my own clip")
        self.close_button.setToolTip("Close this welcome; open a clip with File \u203a Open or by dragging it in")
        self.close_button.clicked.connect(self.accept)

        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.sample_button)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(steps)
        layout.addWidget(checks_head)
        layout.addWidget(self.checks_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(560)
        self.sample_button.setDefault(True)

    def try_sample(self) -> None:
        """Open the sample clip in the window and put a prompt in the prompt box."""
        if self._open_path is None or not self.sample.is_file():
            return
        self.accept()
        if self._open_path(self.sample) is not False:
            self.opened = self.sample
            panel = getattr(self.parent(), "prompt_panel", None)
            edit = getattr(panel, "prompt", None)
            if edit is not None and hasattr(edit, "setPlainText") and not edit.toPlainText().strip():
                edit.setPlainText(SAMPLE_PROMPT)


def show_welcome(window, checks: list[Check]) -> WelcomeDialog:
    """Open the welcome over `window` without blocking it (tests find it in `window.dialogs`)."""
    dlg = WelcomeDialog(checks, getattr(window, "open_path", None), window)
    project = getattr(window, "project", None)
    if project is not None and getattr(project, "clip_path", ""):
        # A clip was given (on the command line, or dropped already): do not offer another.
        dlg.sample_button.hide()
        dlg.close_button.setText("Continue with my clip")
        dlg.close_button.setDefault(True)
    _track(window, dlg)
    dlg.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    dlg.open()
    return dlg


def _track(window, dlg: QtWidgets.QDialog) -> None:
    dialogs = getattr(window, "dialogs", None)
    if dialogs is not None:
        dialogs.append(dlg)
        dlg.finished.connect(lambda *_: dialogs.remove(dlg) if dlg in dialogs else None)
