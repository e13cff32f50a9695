"""Never lose work: before the project is replaced (another clip or project opened, a file
dropped, a recent file picked) or the window closed, ask Save / Discard / Cancel when there are
unsaved changes or a generation is running, and say that one is running.

The question is a window-modal box opened without blocking (the generation goes on meanwhile);
`ask_keep_work` calls `then(answer)` with "save", "discard" or "cancel" once it is answered,
or at once with "discard" when there is nothing to lose.
"""

from __future__ import annotations

from typing import Callable

from PySide6 import QtCore, QtWidgets

SB = QtWidgets.QMessageBox.StandardButton


def question_text(doing: str, dirty: bool, busy: bool) -> tuple[str, str]:
    """The question and its detail, e.g. ("Save the project before opening b.mp4?", ...)."""
    title = f"Save the project before {doing}?"
    parts = []
    if busy:
        parts.append("A generation is running: it will be stopped, and the music made so far "
                     "is kept as a take in the project if you save.")
    if dirty:
        parts.append("The project has changes that are not saved; Discard loses them "
                     "(Ctrl+Z cannot bring them back).")
    return title, " ".join(parts)


def ask_keep_work(window, doing: str, dirty: bool, busy: bool,
                  then: Callable[[str], None]) -> QtWidgets.QMessageBox | None:
    if not (dirty or busy):
        then("discard")
        return None
    title, detail = question_text(doing, dirty, busy)
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Robin Studio", title,
                                SB.Save | SB.Discard | SB.Cancel, window)
    box.setObjectName("keep-work")
    box.setInformativeText(detail)
    box.setDefaultButton(SB.Save)
    box.setEscapeButton(SB.Cancel)
    box.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    dialogs = getattr(window, "dialogs", None)
    if dialogs is not None:
        dialogs.append(box)

    def answered(_result: int) -> None:
        if dialogs is not None and box in dialogs:
            dialogs.remove(box)
        clicked = box.standardButton(box.clickedButton()) if box.clickedButton() else SB.Cancel
        then({SB.Save: "save", SB.Discard: "discard"}.get(clicked, "cancel"))

    box.finished.connect(answered)
    box.open()
    return box
