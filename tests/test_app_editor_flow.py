"""Issue 17 defects that need the real engine (in its own process, as the app runs it), on the
real window with real key and mouse events: work is never lost (1), undo after Stop keeps the
stopped take (2), a region changes exactly what the selection shows (3), what is playing is
shown (7), the panel follows the take in use (issue 16, item 4); and the end-to-end session.
Each defect test failed on the code before the fix (see the commit messages)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

import test_app_support as support
from robin_studio.app.audio_player import SAMPLE_RATE
from robin_studio.app.main_window import MainWindow
from test_app_support import analysed, generate, make_clip, wait_idle

Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier
Left = QtCore.Qt.MouseButton.LeftButton
SB = QtWidgets.QMessageBox.StandardButton
CLIP_S, FPS = 8.0, 25
pytestmark = pytest.mark.usefixtures("user_dirs")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("edflow")
    return (make_clip(d / "shots.mp4", seconds=CLIP_S, fps=FPS, cut_frames=(60, 130), with_audio=True),
            make_clip(d / "other.mp4", seconds=3.0, fps=FPS, cut_frames=(40,), with_audio=False))


def make_window(qtbot, tmp_path, scorer) -> MainWindow:
    w = support.make_window(qtbot, tmp_path, scorer, size=(1366, 768))
    activate(qtbot, w)
    return w


def activate(qtbot, w) -> None:
    qtbot.waitExposed(w)
    w.raise_()
    w.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is w, timeout=2000)
    w.setFocus()


def type_path(qtbot, dlg: QtWidgets.QFileDialog, path: Path) -> None:
    """Put a path in Qt's file dialog and press Enter. (Typed key by key, the dialog's own
    navigation races the typing: it jumps to each folder as its "/" arrives.)"""
    edit = dlg.findChild(QtWidgets.QLineEdit, "fileNameEdit")
    model = dlg.findChild(QtWidgets.QFileSystemModel)
    if model is not None and path.exists():     # the dialog lists folders in the background
        qtbot.waitUntil(lambda: model.index(str(path)).isValid(), timeout=5000)
    edit.setFocus()
    edit.setText(str(path))
    qtbot.keyClick(edit, Key.Key_Return)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=5000)
    main = dlg.parentWidget()
    if main is not None and main.isVisible():
        activate(qtbot, main)              # back to the window, as the desktop does


def open_by_keyboard(qtbot, w, path: Path) -> None:
    qtbot.keyClick(w, Key.Key_O, Mod.ControlModifier)
    qtbot.waitUntil(lambda: w.file_dialog is not None and w.file_dialog.isVisible(), timeout=5000)
    type_path(qtbot, w.file_dialog, path)


def question(w) -> QtWidgets.QMessageBox | None:
    return next((d for d in w.dialogs if d.objectName() == "keep-work" and d.isVisible()), None)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Left)


def drawn(w) -> list[tuple[float, float]]:
    return [(c.start_s, c.end_s) for c in w.timeline.chunk_items]


def drop(w, path: Path) -> None:
    from PySide6 import QtGui
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(path))])
    pos = QtCore.QPointF(w.width() / 2, w.height() / 2)
    for kind in (QtGui.QDragEnterEvent, QtGui.QDropEvent):
        ev = kind(pos.toPoint() if kind is QtGui.QDragEnterEvent else pos,
                  QtCore.Qt.DropAction.CopyAction, mime, Left, QtCore.Qt.KeyboardModifier.NoModifier)
        QtWidgets.QApplication.sendEvent(w, ev)


# -- 1. never lose work ------------------------------------------------------------------------
def test_opening_another_clip_asks_first_also_while_generating(qtbot, tmp_path, clips, scorer):
    clip, other = clips
    w = make_window(qtbot, tmp_path, scorer)
    drop(w, clip)
    analysed(qtbot, w)
    w.prompt_panel.prompt.setPlainText("warm piano")
    generate(qtbot, w)
    music = w.piece.audio.copy()
    # Drop another clip without saving: asked; Cancel keeps everything.
    drop(w, other)
    box = question(w)
    assert box is not None, "opening another clip over unsaved music asks first"
    assert "Save the project before opening other.mp4?" == box.text()
    click(qtbot, box.button(SB.Cancel))
    assert Path(w.project.clip_path).name == "shots.mp4" and w.piece is not None
    np.testing.assert_array_equal(w.piece.audio, music)
    # During a generation, by the keyboard (Ctrl+O): the question says one is running.
    click(qtbot, w.prompt_panel.dice)
    click(qtbot, w.prompt_panel.generate_button)
    assert w.busy
    open_by_keyboard(qtbot, w, other)
    qtbot.waitUntil(lambda: question(w) is not None, timeout=5000)
    box = question(w)
    assert "A generation is running" in box.informativeText()
    click(qtbot, box.button(SB.Discard))
    qtbot.waitUntil(lambda: Path(w.project.clip_path).name == "other.mp4", timeout=10_000)
    assert not w.busy and not w.takes.takes


def test_closing_with_a_running_generation_asks_and_save_keeps_every_take(qtbot, tmp_path, clips, scorer):
    clip, _ = clips
    w = make_window(qtbot, tmp_path, scorer)
    w.confirm_close = True
    drop(w, clip)
    analysed(qtbot, w)
    generate(qtbot, w)
    shown: list[int] = []
    w.chunkShown.connect(shown.append)
    click(qtbot, w.prompt_panel.dice)
    click(qtbot, w.prompt_panel.generate_button)
    qtbot.waitUntil(lambda: len(shown) >= 1, timeout=60_000)
    w.close()
    box = question(w)
    assert box is not None and w.isVisible() and "closing" in box.text()
    assert "A generation is running" in box.informativeText()
    click(qtbot, box.button(SB.Save))                       # no project file yet: asks where
    qtbot.waitUntil(lambda: w.file_dialog is not None and w.file_dialog.isVisible(), timeout=5000)
    type_path(qtbot, w.file_dialog, tmp_path / "kept.robin")
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=20_000)
    from robin_studio.app.project import Project
    saved = Project.load(tmp_path / "kept.robin")
    assert [r.kind for r in saved.takes] == ["generate", "generate"]
    assert saved.takes[0].partial_until_s is None and saved.takes[1].partial_until_s is not None


# -- 2. undo after Stop ---------------------------------------------------------------------------
def test_undo_after_stop_goes_to_the_previous_take_and_redo_brings_the_stopped_one(qtbot, tmp_path,
                                                                                  clips, scorer):
    clip, _ = clips
    w = make_window(qtbot, tmp_path, scorer)
    drop(w, clip)
    analysed(qtbot, w)
    generate(qtbot, w)
    full, full_spans = w.piece.audio.copy(), drawn(w)
    shown: list[int] = []
    w.chunkShown.connect(shown.append)
    click(qtbot, w.prompt_panel.dice)                        # Random, Generate, then Esc
    click(qtbot, w.prompt_panel.generate_button)
    qtbot.waitUntil(lambda: len(shown) >= 1, timeout=60_000)
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Escape)
    assert not w.busy
    partial_spans = drawn(w)
    partial_audio = w.player.snapshot()
    assert partial_spans and partial_spans[-1][1] < CLIP_S
    assert [t.name for t in w.takes.takes] == ["Take 1", "Take 2"] and not w.takes.take(2).complete
    qtbot.keyClick(w, Key.Key_Z, Mod.ControlModifier)          # undo: the complete take
    assert drawn(w) == full_spans, "undo shows the previous take, not an empty lane"
    np.testing.assert_array_equal(w.player.snapshot(), full)
    assert "Take 1" in w.status_text() and "Take 1" in w.timeline.take_label_text()
    qtbot.keyClick(w, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)   # redo: the stopped one
    assert drawn(w) == partial_spans
    np.testing.assert_array_equal(w.player.snapshot(), partial_audio)
    assert "Take 2" in w.status_text() and "stopped" in w.timeline.take_label_text()


# -- 3. regions that tell the truth ------------------------------------------------------------
def test_selection_snaps_to_the_bars_and_regeneration_changes_only_what_is_shown(qtbot, tmp_path,
                                                                                 clips, scorer):
    clip, _ = clips
    w = make_window(qtbot, tmp_path, scorer)
    drop(w, clip)
    analysed(qtbot, w)
    generate(qtbot, w)
    before = w.piece.audio.copy()
    tm = w.piece.tempo_map
    # I at 2.2 s, O at 4.2 s, by the keys (Shift+Right: a second; Right: a frame).
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Home)
    for _ in range(2):
        qtbot.keyClick(w, Key.Key_Right, Mod.ShiftModifier)
    for _ in range(5):
        qtbot.keyClick(w, Key.Key_Right)
    qtbot.keyClick(w, Key.Key_I)
    for _ in range(2):
        qtbot.keyClick(w, Key.Key_Right, Mod.ShiftModifier)
    qtbot.keyClick(w, Key.Key_O)
    a, b = w.timeline.selection_s()
    # Bar lines, the clip's start and end standing in for a pickup bar's or a last bar's.
    bars = [min(max(0.0, tm.bar_start_s(i)), CLIP_S) for i in range(tm.total_bars + 1)]
    assert min(abs(a - x) for x in bars) < 1e-6 and min(abs(b - x) for x in bars) < 1e-6, \
        "the selection snaps to bar lines"
    assert a <= 2.2 + 1e-6 and b >= 4.2 - 1e-6
    changed = w.timeline.change_span_s()
    assert changed is not None and changed[0] <= a and changed[1] > b, "lead and release tail shown"
    assert "Regenerate: Ctrl+R" in w.status_text()
    qtbot.keyClick(w, Key.Key_R, Mod.ControlModifier)
    wait_idle(qtbot, w)
    after = w.piece.audio
    diff = np.flatnonzero(np.any(after != before, axis=1))
    assert diff.size > 0
    first, last = diff[0] / SAMPLE_RATE, (diff[-1] + 1) / SAMPLE_RATE
    tol = 1.0 / SAMPLE_RATE
    assert first >= changed[0] - tol and last <= changed[1] + tol, \
        f"changed {first:.3f}-{last:.3f} s, shown {changed[0]:.3f}-{changed[1]:.3f} s"
    take = w.takes.current_take()
    assert take.region_s == pytest.approx((a, b)) and take.changed_s == pytest.approx(changed)


# -- 7. what is playing is shown; issue 16 item 4: the panel follows the take ----------------------
def test_ab_draws_what_it_plays_and_undo_shows_the_takes_prompt(qtbot, tmp_path, clips, scorer):
    clip, _ = clips
    w = make_window(qtbot, tmp_path, scorer)
    drop(w, clip)
    analysed(qtbot, w)
    panel = w.prompt_panel
    panel.prompt.setPlainText("calm piano, 96 bpm, no drums")
    panel.seed.setValue(11)
    generate(qtbot, w)
    take1_lane = drawn(w)
    take1_audio = w.piece.audio.copy()
    tm = w.piece.tempo_map
    panel.prompt.setPlainText("bright strings, in E major")
    panel.seed.setValue(12)
    w.timeline.set_selection(tm.bar_start_s(1), tm.bar_start_s(2))
    qtbot.keyClick(w, Key.Key_R, Mod.ControlModifier)
    wait_idle(qtbot, w)
    take2_audio = w.piece.audio.copy()
    take2_lane = drawn(w)
    assert take2_lane != take1_lane
    assert "Take 2" in w.timeline.take_label_text()
    # B draws and plays the take regenerated from; A the new one.
    qtbot.keyClick(w, Key.Key_B, Mod.ControlModifier)
    assert w.transport.ab.isChecked()
    assert w.timeline.take_label_text().startswith("B: Take 1")
    assert drawn(w) == take1_lane, "B draws take 1's spectrograms, not take 2's"
    np.testing.assert_array_equal(w.player.snapshot(), take1_audio)
    qtbot.keyClick(w, Key.Key_B, Mod.ControlModifier)
    assert w.timeline.take_label_text().startswith("A: Take 2") and drawn(w) == take2_lane
    np.testing.assert_array_equal(w.player.snapshot(), take2_audio)
    # Undo: the panel shows take 1's prompt, seed and controls; redo: take 2's.
    qtbot.keyClick(w, Key.Key_Z, Mod.ControlModifier)
    assert panel.text() == "calm piano, 96 bpm, no drums" and panel.seed.value() == 11
    assert panel.settings().tempo_bpm == 96 and not panel.settings().instruments["drums"]
    assert panel.controls.source["tempo"] == "prompt"
    assert "Undid" in w.status_text() and "Take 1" in w.status_text()
    qtbot.keyClick(w, Key.Key_Z, Mod.ControlModifier | Mod.ShiftModifier)
    assert panel.text() == "bright strings, in E major" and panel.seed.value() == 12
    assert panel.settings().key == "E major"
    # The take list names every take; clicking one switches to it (undoable).
    view = w.takes_panel.view
    rect = view.visualRect(w.takes.index(0, 0))
    qtbot.mouseClick(view.viewport(), Left, pos=rect.center())
    assert w.takes.current == 1 and "Take 1" in w.timeline.take_label_text()
    np.testing.assert_array_equal(w.player.snapshot(), take1_audio)


# -- the whole session, by input events only ------------------------------------------------------
@pytest.mark.slow
def test_end_to_end_by_keyboard_and_mouse(qtbot, tmp_path, clips, scorer):
    clip, other = clips
    w = make_window(qtbot, tmp_path, scorer)
    # Open (Ctrl+O, type the path), generate (the button).
    open_by_keyboard(qtbot, w, clip)
    analysed(qtbot, w)
    w.prompt_panel.prompt.setFocus()
    qtbot.keyClicks(w.prompt_panel.prompt, "gentle folk guitar")
    w.setFocus()
    generate(qtbot, w)
    take1 = w.piece.audio.copy()
    # Generate again and stop (Esc) after the first chunk: a stopped take is kept.
    shown: list[int] = []
    w.chunkShown.connect(shown.append)
    click(qtbot, w.prompt_panel.dice)
    qtbot.keyClick(w, Key.Key_Return, Mod.ControlModifier)
    qtbot.waitUntil(lambda: len(shown) >= 1, timeout=60_000)
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Escape)
    assert len(w.takes.takes) == 2
    # Back to take 1 by clicking it in the take list, then regenerate a region (I/O, Ctrl+R).
    view = w.takes_panel.view
    qtbot.mouseClick(view.viewport(), Left, pos=view.visualRect(w.takes.index(0, 0)).center())
    assert w.takes.current == 1
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Home)
    qtbot.keyClick(w, Key.Key_Right, Mod.ShiftModifier)
    qtbot.keyClick(w, Key.Key_I)
    qtbot.keyClick(w, Key.Key_Right, Mod.ShiftModifier)
    qtbot.keyClick(w, Key.Key_O)
    sel = w.timeline.selection_s()
    qtbot.keyClick(w, Key.Key_R, Mod.ControlModifier)
    wait_idle(qtbot, w)
    take3 = w.piece.audio.copy()
    assert len(w.takes.takes) == 3 and not np.array_equal(take3, take1)
    # Switch takes: click take 1, hear it; Ctrl+Z: back to take 3.
    qtbot.mouseClick(view.viewport(), Left, pos=view.visualRect(w.takes.index(0, 0)).center())
    np.testing.assert_array_equal(w.player.snapshot(), take1)
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Z, Mod.ControlModifier)
    np.testing.assert_array_equal(w.player.snapshot(), take3)
    # Save (Ctrl+S asks where the first time).
    qtbot.keyClick(w, Key.Key_S, Mod.ControlModifier)
    qtbot.waitUntil(lambda: w.file_dialog is not None and w.file_dialog.isVisible(), timeout=5000)
    type_path(qtbot, w.file_dialog, tmp_path / "session.robin")
    qtbot.waitUntil(lambda: (tmp_path / "session.robin").exists() and not w.dirty, timeout=10_000)
    # A change after saving (rename take 3 with F2), then open another clip: asked; Save.
    qtbot.mouseClick(view.viewport(), Left, pos=view.visualRect(w.takes.index(2, 0)).center())
    qtbot.keyClick(view, Key.Key_F2)
    editor = view.viewport().findChild(QtWidgets.QLineEdit)      # the name, open for editing
    assert editor is not None and editor.isVisible() and editor.text() == "Take 3"
    editor.selectAll()
    qtbot.keyClicks(editor, "chorus fix")
    qtbot.keyClick(editor, Key.Key_Return)
    qtbot.waitUntil(lambda: w.takes.take(3).name == "chorus fix", timeout=2000)   # Qt commits queued
    assert w.takes.take(3).name == "chorus fix" and w.dirty
    w.setFocus()
    open_by_keyboard(qtbot, w, other)
    qtbot.waitUntil(lambda: question(w) is not None, timeout=5000)
    click(qtbot, question(w).button(SB.Save))
    qtbot.waitUntil(lambda: Path(w.project.clip_path).name == "other.mp4", timeout=10_000)
    activate(qtbot, w)
    # Reopen the project: every take comes back, the same music, the same take in use.
    with qtbot.waitSignal(w.replayDone, timeout=180_000):
        open_by_keyboard(qtbot, w, tmp_path / "session.robin")
    assert [t.name for t in w.takes.takes] == ["Take 1", "Take 2", "chorus fix"]
    assert w.takes.current == 3 and not w.takes.take(2).complete
    np.testing.assert_array_equal(w.player.snapshot(), take3)
    assert w.timeline.selection_s() == pytest.approx(sel) and not w.windowTitle().endswith("*")
    # Export an MP4 (Ctrl+E, the dialog's own controls), then decode it.
    qtbot.keyClick(w, Key.Key_E, Mod.ControlModifier)
    dlg = w.export_dialog
    qtbot.waitUntil(dlg.isVisible, timeout=5000)
    click(qtbot, dlg.kind_buttons["mp4"])
    dlg.path_edit.setFocus()
    dlg.path_edit.selectAll()
    qtbot.keyClicks(dlg.path_edit, str(tmp_path / "scored.mp4"))
    click(qtbot, dlg.export_button)
    qtbot.waitUntil(lambda: dlg.result_path is not None or bool(dlg.error_text), timeout=120_000)
    assert not dlg.error_text, dlg.error_text
    with av.open(str(dlg.result_path)) as c:
        frames = sum(1 for _ in c.decode(c.streams.video[0]))
    with av.open(str(dlg.result_path)) as c:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(c.streams.audio[0])])
    assert frames == pytest.approx(CLIP_S * FPS, abs=1)
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 1e-3
    dlg.close()
