"""The window without generating music: tooltips, the timeline lanes, frame-accurate keys on a
real clip, the no-audio-device path (the real one here) and playback with the output stream
mocked, drag and drop, projects, crash recovery, and readable error dialogs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio.app.audio_player import SAMPLE_RATE
from robin_studio.app.main_window import MainWindow, cut_flags, tempo_grid
from robin_studio.app.project import Project
from robin_studio.score.tempo_map import TempoMap
from test_app_support import frame_grey, hand_analysis, make_clip, make_window
from test_app_units import FakeStream

Key = QtCore.Qt.Key
pytestmark = pytest.mark.usefixtures("user_dirs")


@pytest.fixture(scope="module")
def index_clip(tmp_path_factory) -> Path:
    """2 s at 20 fps; frame k is flat grey frame_grey(k)."""
    return make_clip(tmp_path_factory.mktemp("clips") / "index.mp4", seconds=2.0, fps=20,
                     index_grey=True, with_audio=False)


def shown_grey(w: MainWindow) -> int:
    img = w.picture._image
    return QtGui.QColor(img.pixel(img.width() // 2, img.height() // 2)).red()


def wait_frame(qtbot, w: MainWindow, t_s: float) -> None:
    qtbot.waitUntil(lambda: w.picture.shown_time_s is not None
                    and abs(w.picture.shown_time_s - t_s) < 1e-6, timeout=5000)


def test_every_control_has_a_tooltip(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    kinds = (QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox,
             QtWidgets.QSlider, QtWidgets.QPlainTextEdit, QtWidgets.QLineEdit, QtWidgets.QScrollBar)
    missing = [f"{type(c).__name__} {getattr(c, 'text', lambda: '')()!r}"
               for kind in kinds for c in w.findChildren(kind)
               if c.isVisibleTo(w) and not c.toolTip() and not isinstance(c.parent(), QtWidgets.QAbstractSpinBox)
               and not isinstance(c.parent(), QtWidgets.QComboBox)]
    assert not missing, missing


def test_window_fits_1366x768_and_lanes_stack(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.resize(1366, 728)
    qtbot.wait(50)
    assert w.width() <= 1366 and w.height() <= 768
    # The prompt panel's buttons stay on screen.
    pos = w.prompt_panel.regenerate_button.mapTo(w, QtCore.QPoint(0, 0))
    assert pos.y() + w.prompt_panel.regenerate_button.height() <= w.height()
    lanes = [lane.sceneBoundingRect().top() for lane in w.timeline.lanes]
    assert lanes == sorted(lanes)


def test_timeline_draws_analysis_grid_and_chunks_in_order(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    tl = w.timeline
    tl.set_analysis(hand_analysis(12.0, 25.0, cuts_s=(3.0, 7.3)))
    tm = TempoMap.constant(120.0, 24)
    tl.set_grid(*tempo_grid(tm, 12.0), on_beat=cut_flags(tm, tl.cut_times_s))
    assert len(tl.beat_times_s) == 25 and len(tl.downbeat_times_s) == 7
    on, off = tl.cuts_on_beats()
    assert on == [3.0] and off == [7.3]          # 3.0 s is beat 6 at 120 bpm; 7.3 s is not
    tl.set_pending((0.0, 12.0))
    for i in range(3):
        tl.add_chunk(i, 4.0 * i, 4.0 * i + 4.0, np.full((32, 100), -20.0 - i))
    assert [c.index for c in tl.chunk_items] == [0, 1, 2]
    assert tl.pending_region.span is None
    # A regenerated span replaces what was under it; the rest is cropped, not stretched.
    tl.add_chunk(0, 5.0, 6.0, np.zeros((32, 25)))
    spans = [(round(c.start_s, 3), round(c.end_s, 3)) for c in tl.chunk_items]
    assert spans == [(0.0, 4.0), (4.0, 5.0), (5.0, 6.0), (6.0, 8.0), (8.0, 12.0)]
    assert tl.chunk_items[1].image.image.shape[1] == 25      # a quarter of chunk 1's 100 frames


def test_drag_on_music_lane_selects_region(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.resize(1366, 740)
    w.duration_s = 12.0
    w.timeline.set_duration(12.0, 25.0)
    qtbot.wait(50)
    vb = w.timeline.music_lane.getViewBox()
    view = w.timeline.view

    def to_widget(t):
        return view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(t, 0.5)))

    seen = []
    w.timeline.selectionChanged.connect(seen.append)
    a, b = to_widget(2.0), to_widget(5.0)
    vp = view.viewport()
    qtbot.mousePress(vp, QtCore.Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, 11):
        p = a + (b - a) * (k / 10)
        ev = QtGui.QMouseEvent(QtCore.QEvent.Type.MouseMove, QtCore.QPointF(p), QtCore.QPointF(vp.mapToGlobal(p)),
                               QtCore.Qt.MouseButton.NoButton, QtCore.Qt.MouseButton.LeftButton,
                               QtCore.Qt.KeyboardModifier.NoModifier)
        QtWidgets.QApplication.sendEvent(vp, ev)
    qtbot.mouseRelease(vp, QtCore.Qt.MouseButton.LeftButton, pos=b)
    sel = w.timeline.selection_s()
    assert sel is not None
    assert sel[0] == pytest.approx(2.0, abs=0.1) and sel[1] == pytest.approx(5.0, abs=0.1)
    assert seen and seen[-1] == sel


def test_frame_accurate_keys_on_a_real_clip(qtbot, tmp_path, index_clip):
    w = make_window(qtbot, tmp_path)
    assert w.open_clip(index_clip)
    assert w.duration_s == pytest.approx(2.0) and w.fps == pytest.approx(20.0)
    wait_frame(qtbot, w, 0.0)
    assert abs(shown_grey(w) - frame_grey(0)) <= 3
    w.setFocus()
    for _ in range(5):
        qtbot.keyClick(w, Key.Key_Right)
    assert w.position_s == pytest.approx(5 / 20)
    wait_frame(qtbot, w, 5 / 20)
    assert abs(shown_grey(w) - frame_grey(5)) <= 3
    qtbot.keyClick(w, Key.Key_Right, QtCore.Qt.KeyboardModifier.ShiftModifier)   # +1 s = frame 25
    wait_frame(qtbot, w, 25 / 20)
    assert abs(shown_grey(w) - frame_grey(25)) <= 3
    qtbot.keyClick(w, Key.Key_Left)
    wait_frame(qtbot, w, 24 / 20)
    assert abs(shown_grey(w) - frame_grey(24)) <= 3
    # A time inside a frame shows that frame (17.6 -> frame 17).
    w.seek(17.6 / 20)
    wait_frame(qtbot, w, 17 / 20)
    assert abs(shown_grey(w) - frame_grey(17)) <= 3
    qtbot.keyClick(w, Key.Key_End)
    assert w.position_s == pytest.approx(2.0)
    qtbot.keyClick(w, Key.Key_Home)
    assert w.position_s == 0.0
    # I/O marks.
    w.seek(0.5)
    qtbot.keyClick(w, Key.Key_I)
    w.seek(1.25)
    qtbot.keyClick(w, Key.Key_O)
    assert w.timeline.selection_s() == pytest.approx((0.5, 1.25))
    # Typing in the prompt types; it does not move the playhead.
    w.prompt_panel.prompt.setFocus()
    qtbot.keyClicks(w.prompt_panel.prompt, "jkl io")
    qtbot.keyClick(w.prompt_panel.prompt, Key.Key_Right)
    assert w.prompt_panel.text() == "jkl io" and w.position_s == pytest.approx(1.25)


def test_no_audio_device_the_picture_plays_by_the_system_clock(qtbot, tmp_path, index_clip):
    """Issue 17, defect 4: with no audio device, Space and J/K/L did nothing. Now the picture
    plays against the system clock, with a notice that sound is off (failed before: Space
    left `player.playing` False and the playhead at 0)."""
    w = make_window(qtbot, tmp_path)   # real probe: there is no sound card here
    assert not w.player.available and w.player.silent
    assert w.notice_label.isVisible() and "sound off" in w.notice_label.text().lower()
    assert "speakers" in w.notice_label.toolTip()
    w.open_clip(index_clip)
    wait_frame(qtbot, w, 0.0)
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Space)
    assert w.player.playing and "without sound" in w.status_text()
    qtbot.waitUntil(lambda: w.position_s >= 0.5, timeout=5000)      # the playhead moves...
    qtbot.waitUntil(lambda: w.picture.shown_time_s is not None and w.picture.shown_time_s >= 0.4,
                    timeout=5000)                                   # ...and the picture with it
    assert shown_grey(w) != frame_grey(0)
    qtbot.keyClick(w, Key.Key_K)                                    # K stops
    assert not w.player.playing
    stopped = w.position_s
    qtbot.wait(150)
    assert w.position_s == pytest.approx(stopped)
    qtbot.keyClick(w, Key.Key_L)
    qtbot.keyClick(w, Key.Key_L)                                    # L again: twice as fast
    assert w.player.speed == 2.0
    qtbot.keyClick(w, Key.Key_K)
    at = w.position_s
    qtbot.keyClick(w, Key.Key_J)                                    # J: backwards
    assert w.player.speed == -1.0
    qtbot.waitUntil(lambda: w.position_s < at - 0.1, timeout=5000)
    qtbot.keyClick(w, Key.Key_Space)
    assert not w.player.playing
    qtbot.keyClick(w, Key.Key_End)
    qtbot.keyClick(w, Key.Key_Space)                                # at the end: from the start
    qtbot.waitUntil(lambda: not w.player.playing, timeout=5000)     # and it stops at the end
    assert w.position_s == pytest.approx(2.0, abs=0.05)


def test_playback_clock_drives_picture_with_mocked_stream(qtbot, tmp_path, index_clip):
    streams: list[FakeStream] = []
    w = make_window(qtbot, tmp_path, audio_available=True,
                    stream_factory=lambda cb: streams.append(FakeStream(cb)) or streams[-1])
    w.open_clip(index_clip)
    w.player.write(0.0, np.full((SAMPLE_RATE * 2, 2), 0.1, np.float32))
    qtbot.keyClick(w, Key.Key_Space)
    assert w.player.playing and streams and streams[-1].started
    streams[-1].pull(int(0.5 * SAMPLE_RATE))                 # the device consumed 0.5 s
    qtbot.waitUntil(lambda: w.position_s == pytest.approx(0.5), timeout=2000)
    wait_frame(qtbot, w, 10 / 20)
    assert abs(shown_grey(w) - frame_grey(10)) <= 3
    # J/K/L shuttle.
    qtbot.keyClick(w, Key.Key_L)
    assert w.player.speed == 2.0
    qtbot.keyClick(w, Key.Key_L)
    assert w.player.speed == 4.0
    qtbot.keyClick(w, Key.Key_K)
    assert not w.player.playing
    qtbot.keyClick(w, Key.Key_J)
    assert w.player.speed == -1.0
    t = w.player.position_s()
    streams[-1].pull(4800)
    assert w.player.position_s() == pytest.approx(t - 0.1)
    qtbot.keyClick(w, Key.Key_Space)
    assert not w.player.playing


def test_drop_a_clip_opens_it(qtbot, tmp_path, index_clip):
    w = make_window(qtbot, tmp_path)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(index_clip))])
    pos = QtCore.QPointF(w.picture.mapTo(w, w.picture.rect().center()))
    enter = QtGui.QDragEnterEvent(pos.toPoint(), QtCore.Qt.DropAction.CopyAction, mime,
                                  QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    w.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(pos, QtCore.Qt.DropAction.CopyAction, mime,
                            QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    w.dropEvent(drop)
    assert Path(w.project.clip_path) == index_clip.resolve()
    wait_frame(qtbot, w, 0.0)
    assert str(index_clip.resolve()) in w.app_settings.recent_files
    # A text file is refused.
    other = QtCore.QMimeData()
    other.setUrls([QtCore.QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    enter2 = QtGui.QDragEnterEvent(pos.toPoint(), QtCore.Qt.DropAction.CopyAction, other,
                                   QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier)
    enter2.setAccepted(False)
    w.dragEnterEvent(enter2)
    assert not enter2.isAccepted()


def test_corrupt_clip_gives_readable_dialog_and_keeps_project(qtbot, tmp_path, index_clip):
    w = make_window(qtbot, tmp_path)
    w.open_clip(index_clip)
    w.prompt_panel.prompt.setPlainText("tense strings")
    before = w.project.clip_path
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x01 not a video " * 100)
    assert w.open_clip(bad) is False
    assert w.dialogs, "an error dialog is shown"
    box = w.dialogs[-1]
    text = box.text() + box.informativeText()
    assert "broken.mp4" in text and "Traceback" not in text
    assert w.project.clip_path == before and w.prompt_panel.text() == "tense strings"


def test_save_project_and_recover_after_crash(qtbot, tmp_path, index_clip):
    w = make_window(qtbot, tmp_path)
    w.open_clip(index_clip)
    w.prompt_panel.prompt.setPlainText("warm piano")
    w.prompt_panel.seed.setValue(42)
    assert w.project_flow.save_to(tmp_path / "p.robin")
    data = json.loads((tmp_path / "p.robin").read_text())
    assert data["clip_path"] == str(index_clip.resolve()) and data["settings"]["seed"] == 42
    assert data["prompt"] == "warm piano"
    # Simulate a crash: a marker from a process that has died, and an autosave.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    rec_dir = tmp_path / "recovery"
    rec_dir.mkdir(exist_ok=True)
    (rec_dir / "session-running.json").write_text(json.dumps({"pid": int(dead.stdout)}))
    Project(clip_path=str(index_clip), prompt="recovered prompt").save(rec_dir / "autosave.robin")
    w2 = make_window(qtbot, tmp_path)
    offered = w2.offer_recovery()
    assert offered is not None and w2.dialogs
    w2.dialogs[-1].done(QtWidgets.QMessageBox.StandardButton.Yes)
    assert w2.prompt_panel.text() == "recovered prompt"
    assert Path(w2.project.clip_path) == index_clip
    w2.close()
    assert not (rec_dir / "autosave.robin").exists()   # clean exit: nothing left to recover
