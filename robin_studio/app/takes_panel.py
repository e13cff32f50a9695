"""The take list: every take of the clip (name, prompt, seed, time, region), the one in use
marked. Click a take to hear and see it (an undoable switch), F2 or double-click renames,
Delete removes. The panel only shows the `TakesModel` and asks the window for edits."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio.app.takes import TakesModel

SUMMARY_ROOM = "100 takes"


class TakesPanel(QtWidgets.QWidget):
    useRequested = QtCore.Signal(int)        # take number clicked
    deleteRequested = QtCore.Signal(int)

    def __init__(self, model: TakesModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.model = model
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(4)
        head = QtWidgets.QHBoxLayout()
        title = QtWidgets.QLabel("Takes")
        title.setObjectName("heading")
        head.addWidget(title)
        self.summary = QtWidgets.QLabel("")
        self.summary.setObjectName("dim")
        # Only the count, with room for it from the start: a summary that grew with the takes
        # ("1 take, using Take 1", or a renamed take's name) widened the panel and pushed the
        # picture aside as the first take arrived (seen at 1024x600). The take in use is marked
        # in the list, and named in the tooltip.
        self.summary.setMinimumWidth(self.summary.fontMetrics().horizontalAdvance(SUMMARY_ROOM))
        head.addWidget(self.summary, 1)
        self.rename_button = QtWidgets.QToolButton()
        self.rename_button.setText("Rename")
        self.rename_button.setToolTip("Rename the selected take (F2)")
        self.delete_button = QtWidgets.QToolButton()
        self.delete_button.setText("Delete")
        self.delete_button.setToolTip("Delete the selected take (Delete); Ctrl+Z brings it back")
        head.addWidget(self.rename_button)
        head.addWidget(self.delete_button)
        lay.addLayout(head)

        self.view = QtWidgets.QTableView()
        self.view.setModel(model)
        self.view.setToolTip("Every take of this clip. Click one to hear and see it; F2 renames it;\n"
                             "Delete removes it. The take in use is marked \u25b6.")
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.DoubleClicked
                                  | QtWidgets.QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(False)
        self.view.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        hh = self.view.horizontalHeader()
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.setMinimumHeight(3 * (self.fontMetrics().height() + 6))
        lay.addWidget(self.view, 1)

        self.view.clicked.connect(self._clicked)
        self.rename_button.clicked.connect(self._rename_selected)
        self.delete_button.clicked.connect(self._delete_selected)
        model.currentChanged.connect(self._current_changed)
        model.rowsInserted.connect(lambda *_: self._update())
        model.rowsRemoved.connect(lambda *_: self._update())
        model.modelReset.connect(self._update)
        delete = QtGui.QShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Delete), self.view)
        delete.setContext(QtCore.Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self._delete_selected)
        self._update()

    def selected_number(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.takes[rows[0].row()].number

    def _clicked(self, index: QtCore.QModelIndex) -> None:
        if index.isValid():
            self.useRequested.emit(self.model.takes[index.row()].number)

    def _rename_selected(self) -> None:
        n = self.selected_number()
        if n is None:
            n = self.model.current
        r = self.model.row_of(n)
        if r >= 0:
            self.view.edit(self.model.index(r, 0))

    def _delete_selected(self) -> None:
        n = self.selected_number()
        if n is not None:
            self.deleteRequested.emit(n)

    def _current_changed(self, take) -> None:
        r = self.model.row_of(take.number) if take is not None else -1
        if r >= 0:
            self.view.selectRow(r)
        else:
            self.view.clearSelection()
        self._update()

    def _update(self) -> None:
        n = len(self.model.takes)
        cur = self.model.current_take()
        self.summary.setText(f"{n} take{'s' if n != 1 else ''}")
        self.summary.setToolTip(f"Using {cur.name}" if cur is not None else "No take yet")
        has = n > 0
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)
