"""The transport bar under the picture: play controls, timecode, marks, A/B and zoom buttons.

It only emits what was pressed; the main window owns the keys (Space, J/K/L, arrows, I/O...)
and the actual transport logic, so buttons and keys do the same thing.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from robin_studio.app.timeline import format_time


def _button(text: str, tip: str, checkable: bool = False, icon=None) -> QtWidgets.QToolButton:
    b = QtWidgets.QToolButton()
    if icon is not None:
        b.setIcon(b.style().standardIcon(icon))
    else:
        b.setText(text)
    b.setToolTip(tip)
    b.setCheckable(checkable)
    b.setAutoRaise(False)
    b.setMinimumWidth(30)
    return b


class TransportBar(QtWidgets.QWidget):
    """Buttons in groups that wrap onto a second row on a narrow window (1024x600) instead of
    collapsing; the timecode is always wide enough for the clip's longest time and frame."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        from robin_studio.app.prompt_panel import FlowLayout

        flow = FlowLayout(self, spacing=6)
        flow.setContentsMargins(4, 2, 4, 2)
        groups = []

        def group() -> QtWidgets.QHBoxLayout:
            box = QtWidgets.QWidget()
            row = QtWidgets.QHBoxLayout(box)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(3)
            flow.addWidget(box)
            groups.append(box)
            return row

        lay = group()
        SP = QtWidgets.QStyle.StandardPixmap
        self.home = _button("", "Go to start (Home)", icon=SP.SP_MediaSkipBackward)
        self.back_frame = _button("", "One frame back (Left; Shift+Left: one second)",
                                  icon=SP.SP_MediaSeekBackward)
        self.play = _button("", "Play / pause (Space); J/K/L shuttle back, stop, forward",
                            icon=SP.SP_MediaPlay)
        self.fwd_frame = _button("", "One frame forward (Right; Shift+Right: one second)",
                                 icon=SP.SP_MediaSeekForward)
        self.end = _button("", "Go to end (End)", icon=SP.SP_MediaSkipForward)
        for b in (self.home, self.back_frame, self.play, self.fwd_frame, self.end):
            b.setIconSize(QtCore.QSize(18, 18))
            b.setMinimumSize(32, 28)
            lay.addWidget(b)
        lay = group()
        self.timecode = QtWidgets.QLabel("0:00.000")
        self.timecode.setObjectName("timecode")
        self.timecode.setToolTip("Playhead time (minutes:seconds) and frame number")
        self.timecode.setMinimumWidth(self.timecode.fontMetrics().horizontalAdvance("0:00.000 / 0:00.0  frame 0000") + 8)
        lay.addWidget(self.timecode)
        lay = group()
        self.mark_in = _button("I", "Set the selection start at the playhead (I)")
        self.mark_out = _button("O", "Set the selection end at the playhead (O)")
        self.ab = _button("A/B", "Compare: hear the previous take of the last regenerated region\n"
                          "(A = current take, B = previous)", checkable=True)
        self.ab.setEnabled(False)
        self.zoom_out = _button("\u2212", "Zoom the timeline out (Ctrl+-)")
        self.zoom_fit = _button("Fit", "Show the whole clip on the timeline (Ctrl+0)")
        self.zoom_in = _button("+", "Zoom the timeline in (Ctrl+=)")
        self.clip_sound = _button("Clip audio", "Hear the clip's own sound under the music while "
                                  "playing (-12 dB, as the export's default mix)", checkable=True)
        self.clip_sound.setChecked(True)
        for b in (self.mark_in, self.mark_out, self.ab, self.clip_sound):
            lay.addWidget(b)
        lay = group()
        for b in (self.zoom_out, self.zoom_fit, self.zoom_in):
            lay.addWidget(b)
        for b in self.findChildren(QtWidgets.QToolButton):
            b.setMinimumWidth(max(b.minimumWidth(), b.sizeHint().width()))
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Minimum)

    def show_time(self, t_s: float, duration_s: float, frame: int) -> None:
        text = f"{format_time(t_s, True)} / {format_time(duration_s)}  frame {frame}"
        # Wide enough for the longest time and frame number of this clip, so nothing is cut.
        longest = f"{format_time(duration_s, True)} / {format_time(duration_s)}  frame {int(duration_s * 120) + 1}"
        need = self.timecode.fontMetrics().horizontalAdvance(longest) + 8
        if self.timecode.minimumWidth() < need:
            self.timecode.setMinimumWidth(need)
        self.timecode.setText(text)

    def show_playing(self, playing: bool) -> None:
        SP = QtWidgets.QStyle.StandardPixmap
        self.play.setIcon(self.style().standardIcon(SP.SP_MediaPause if playing else SP.SP_MediaPlay))
