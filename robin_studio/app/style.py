"""Colours and the dark theme, in the manner of video editors: near-black panels, grey text,
one accent colour. The stylesheet lives in resources/theme/dark.qss; the palette here covers
what stylesheets do not reach (pyqtgraph lanes, dialogs Qt draws itself)."""

from __future__ import annotations

from PySide6 import QtGui, QtWidgets

from robin_studio import paths

WINDOW_BG = "#1b1d21"
PANEL_BG = "#23262b"
LANE_BG = "#15171a"
LANE_EDGE = "#33373e"
TEXT = "#d6d9de"
TEXT_DIM = "#8b919b"
ACCENT = "#e8a23a"           # robin's-breast orange
PLAYHEAD = "#ff4d4d"
SHOT_LINE = (220, 220, 230, 200)
CUT_MARK = (255, 200, 90, 230)
MOTION_LINE = "#5fb3ff"
MOTION_FILL = (95, 179, 255, 70)
VISUAL_BEAT = (180, 220, 255, 150)
BEAT_LINE = (255, 255, 255, 45)
BAR_LINE = (255, 255, 255, 150)
CUT_ON_BEAT = (80, 230, 120, 230)
CUT_OFF_BEAT = (255, 150, 60, 200)
PENDING_FILL = (255, 255, 255, 14)
# The selection must read over a bright spectrogram: a cool fill (the spectrogram's colours
# are warm) at a strong alpha, with solid edges.
SELECTION_FILL = (90, 200, 255, 95)
SELECTION_HOVER = (90, 200, 255, 125)
SELECTION_EDGE = "#5ac8ff"
SELECTION_SHADOW = (90, 200, 255, 120)
CHANGE_FILL = (255, 255, 255, 28)     # the audio that will change (lead and release tail)
CHANGE_EDGE = "#ffffff"


def theme_path():
    return paths.resources_dir() / "theme" / "dark.qss"


def icon_path():
    return paths.resources_dir() / "icons" / "robin-studio.svg"


def apply_theme(app: QtWidgets.QApplication) -> None:
    app.setStyle("Fusion")
    pal = QtGui.QPalette()
    c = QtGui.QColor
    pal.setColor(QtGui.QPalette.ColorRole.Window, c(WINDOW_BG))
    pal.setColor(QtGui.QPalette.ColorRole.WindowText, c(TEXT))
    pal.setColor(QtGui.QPalette.ColorRole.Base, c(LANE_BG))
    pal.setColor(QtGui.QPalette.ColorRole.AlternateBase, c(PANEL_BG))
    pal.setColor(QtGui.QPalette.ColorRole.ToolTipBase, c("#2d3138"))
    pal.setColor(QtGui.QPalette.ColorRole.ToolTipText, c(TEXT))
    pal.setColor(QtGui.QPalette.ColorRole.Text, c(TEXT))
    pal.setColor(QtGui.QPalette.ColorRole.PlaceholderText, c(TEXT_DIM))
    pal.setColor(QtGui.QPalette.ColorRole.Button, c(PANEL_BG))
    pal.setColor(QtGui.QPalette.ColorRole.ButtonText, c(TEXT))
    pal.setColor(QtGui.QPalette.ColorRole.Highlight, c(ACCENT))
    pal.setColor(QtGui.QPalette.ColorRole.HighlightedText, c("#111111"))
    pal.setColor(QtGui.QPalette.ColorRole.Link, c(ACCENT))
    for role in (QtGui.QPalette.ColorRole.Text, QtGui.QPalette.ColorRole.ButtonText,
                 QtGui.QPalette.ColorRole.WindowText):
        pal.setColor(QtGui.QPalette.ColorGroup.Disabled, role, c("#5d626b"))
    app.setPalette(pal)
    try:
        app.setStyleSheet(theme_path().read_text(encoding="utf-8"))
    except OSError:
        pass  # the palette alone is a usable dark theme
    icon = icon_path()
    if icon.exists():
        app.setWindowIcon(QtGui.QIcon(str(icon)))
