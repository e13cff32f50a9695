"""The window's frame, painted while the editor loads (issue 21: first paint under 0.6 s).

The editor (`main_window.MainWindow`) needs numpy, PyAV, OpenCV, pyqtgraph and the app's
flows: about two seconds of imports on a busy laptop before anything could be drawn. This
frame has the window's own layout (menus, picture, intent and takes panels, timeline lanes,
status bar) in the app's theme, built from plain Qt widgets only, so it paints as soon as Qt
itself is up. It does not pretend: every control is disabled and says the editor is starting,
and it takes no drops or clicks. `application.run_app` replaces it by the real window, in the
same place and at the same size, once that is built.

Only PySide6 and the theme are imported here (tests/test_cold_start.py checks the list).
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

STARTING = "Starting the editor\u2026"
# The real window's menus, in its order (main_window._build_actions).
MENUS = ("&File", "&Edit", "&Music", "&View", "&Help")
LANES = ("Picture", "Motion", "Music")
# Below this width the side docks (the hit-point list) start hidden, in the real window as here.
COMPACT_WIDTH = 1280


class StartFrame(QtWidgets.QMainWindow):
    """The main window's layout with nothing working yet; `set_step` says what is loading."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Robin Studio")
        # The same size rules as the real window, so the swap does not move anything.
        self.resize(1340, 740)
        self.setMinimumSize(1000, 560)
        for title in MENUS:
            menu = self.menuBar().addMenu(title)
            menu.menuAction().setEnabled(False)
            menu.menuAction().setToolTip(STARTING)
        self.setCentralWidget(self._layout())
        # The hit-point list's dock (markers_panel), on a window at least COMPACT_WIDTH wide.
        dock = QtWidgets.QDockWidget("Hit points")
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(QtWidgets.QWidget())
        dock.widget().setMinimumWidth(270)
        dock.setEnabled(False)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.dock = dock
        self.status_label = QtWidgets.QLabel(STARTING)
        self.statusBar().addWidget(self.status_label, 1)

    def set_step(self, what: str) -> None:
        self.status_label.setText(f"{STARTING} ({what})")

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.dock.setVisible(self.width() >= COMPACT_WIDTH)

    def _layout(self) -> QtWidgets.QWidget:
        picture = QtWidgets.QLabel(STARTING)
        picture.setObjectName("picture")
        picture.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        picture.setEnabled(False)

        intent = _panel("Intent")
        prompt = QtWidgets.QPlainTextEdit()
        prompt.setPlaceholderText("You can describe the music as soon as the editor has started.")
        prompt.setEnabled(False)
        intent.layout().addWidget(prompt, 1)
        generate = QtWidgets.QPushButton("Generate")
        generate.setObjectName("primary")
        generate.setEnabled(False)
        generate.setToolTip(STARTING)
        intent.layout().addWidget(generate)
        takes = _panel("Takes")
        takes.layout().addStretch(1)

        side = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        side.addWidget(intent)
        side.addWidget(takes)
        side.setSizes([303, 105])
        top = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        top.addWidget(picture)
        top.addWidget(side)
        top.setSizes([900, 380])

        lanes = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(lanes)
        for row, name in enumerate(LANES):
            label = QtWidgets.QLabel(name)
            label.setEnabled(False)
            grid.addWidget(label, row, 0)
            grid.setRowStretch(row, 2 if name == "Music" else 1)
        grid.setColumnStretch(1, 1)
        main = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(lanes)
        main.setSizes([440, 300])
        for split in (side, top, main):
            split.setEnabled(False)
        return main


def _panel(title: str) -> QtWidgets.QFrame:
    panel = QtWidgets.QFrame()
    panel.setObjectName("panel")
    layout = QtWidgets.QVBoxLayout(panel)
    heading = QtWidgets.QLabel(title)
    heading.setObjectName("heading")
    layout.addWidget(heading)
    return panel
