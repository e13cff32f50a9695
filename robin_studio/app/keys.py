"""The editor keys: Space, J/K/L, Left/Right (Shift: a second), Home/End, I/O, and Help > Keys.

An application-wide event filter, so the keys work wherever the focus is in the window, except
while the creator types in a text field, uses a list or table, a menu is open or being walked
with the keyboard (Left/Right then move between menus, as in every desktop app), or a dialog
is open. The filter only calls the window's transport methods; Ctrl+Z, Ctrl+R... are ordinary
menu shortcuts. `EDITOR_KEYS` is the one list the filter and Help > Keys both read.
"""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

# (keys as shown, what they do): the editor keys handled by TransportKeys below.
EDITOR_KEYS = (
    ("Space", "Play / pause (without an audio device: the picture plays silently)"),
    ("J / K / L", "Shuttle back / stop / forward (again: 2x, 4x)"),
    ("Left / Right", "One frame back / forward"),
    ("Shift+Left / Shift+Right", "One second back / forward"),
    ("Home / End", "Start / end of the clip"),
    ("I / O", "Selection start / end at the playhead (snaps to the bars that will change)"),
)


class TransportKeys(QtCore.QObject):
    """Editor keys for the whole window, except while typing in a text field."""

    TEXT_WIDGETS = (QtWidgets.QLineEdit, QtWidgets.QPlainTextEdit, QtWidgets.QTextEdit,
                    QtWidgets.QAbstractSpinBox)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window

    def _typing(self, widget) -> bool:
        """The key goes to a text field (or its viewport, or an editable combo box)."""
        while isinstance(widget, QtWidgets.QWidget) and widget is not self.w:
            if isinstance(widget, self.TEXT_WIDGETS):
                return True
            if isinstance(widget, QtWidgets.QComboBox) and widget.isEditable():
                return True
            widget = widget.parentWidget()
        return False

    def _menus_active(self, obj) -> bool:
        if isinstance(obj, (QtWidgets.QMenu, QtWidgets.QMenuBar)):
            return True
        if QtWidgets.QApplication.activePopupWidget() is not None:
            return True
        bar = self.w.menuBar()
        # Alt (or F10) puts the menu bar in keyboard mode with no menu open yet.
        return bar.activeAction() is not None or bar.hasFocus()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        if event.type() != QtCore.QEvent.Type.KeyPress:
            return False
        if not isinstance(obj, QtWidgets.QWidget) or obj.window() is not self.w:
            return False
        if self._menus_active(obj):
            return False
        focus = QtWidgets.QApplication.focusWidget()
        if self._typing(focus) or self._typing(obj):
            return False
        if self.w.dialogs and any(d.isVisible() for d in self.w.dialogs):
            return False
        key, mods = event.key(), event.modifiers()
        K = QtCore.Qt.Key
        shift = bool(mods & QtCore.Qt.KeyboardModifier.ShiftModifier)
        plain = not (mods & (QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.AltModifier
                             | QtCore.Qt.KeyboardModifier.MetaModifier))
        if not plain:
            return False
        w = self.w
        actions = {
            K.Key_Space: w.toggle_play,
            K.Key_J: lambda: w.shuttle(-1),
            K.Key_K: lambda: w.shuttle(0),
            K.Key_L: lambda: w.shuttle(1),
            K.Key_Left: (lambda: w.step_seconds(-1.0)) if shift else (lambda: w.step_frames(-1)),
            K.Key_Right: (lambda: w.step_seconds(1.0)) if shift else (lambda: w.step_frames(1)),
            K.Key_Home: lambda: w.seek(0.0),
            K.Key_End: lambda: w.seek(w.duration_s),
            K.Key_I: w.mark_in,
            K.Key_O: w.mark_out,
        }
        fn = actions.get(key)
        if fn is None:
            return False
        if isinstance(focus, QtWidgets.QAbstractItemView) and key in (K.Key_Left, K.Key_Right,
                                                                      K.Key_Home, K.Key_End):
            return False   # arrows move within a list that has the focus (the take list)
        fn()
        return True


def menu_shortcuts(window: QtWidgets.QMainWindow) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every menu action with a shortcut, in menu order."""
    rows = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        for a in menu.actions():
            keys = [k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts()]
            keys = [k for k in keys if k]
            if keys and not a.isSeparator():
                rows.append((menu_action.text().replace("&", ""), a.text().replace("&", "").rstrip("\u2026"),
                             " / ".join(keys)))
    return rows


class KeysDialog(QtWidgets.QDialog):
    """Help > Keys: every editor key and every menu shortcut, in an aligned two-column table."""

    def __init__(self, window: QtWidgets.QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keys")
        lay = QtWidgets.QVBoxLayout(self)
        self.table = QtWidgets.QTableWidget()
        self.table.setToolTip("Every key Robin Studio answers to")
        rows = [(k, what) for k, what in EDITOR_KEYS]
        rows += [(keys, f"{action} ({menu} menu)") for menu, action, keys in menu_shortcuts(window)]
        rows += [("Alt+letter, F10", "Open a menu; Left / Right move between menus, Esc closes"),
                 ("F2 / Delete", "Rename / delete the selected take in the take list"),
                 ("Tab / Shift+Tab", "Move between controls")]
        self.rows = rows
        self.table.setColumnCount(2)
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels(["Keys", "What they do"])
        for i, (k, what) in enumerate(rows):
            self.table.setItem(i, 0, QtWidgets.QTableWidgetItem(k))
            self.table.setItem(i, 1, QtWidgets.QTableWidgetItem(what))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.table)
        close = QtWidgets.QPushButton("Close")
        close.setToolTip("Close this list (Esc)")
        close.clicked.connect(self.accept)
        lay.addWidget(close, 0, QtCore.Qt.AlignmentFlag.AlignRight)
        self.resize(620, min(640, 60 + 26 * len(rows)))
