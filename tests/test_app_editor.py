"""Issue 17 defects that need no music engine, on the real window with real key and mouse
events: menus by keyboard (5), small screens (6), stale state (8), the export dialog (9),
Help > Keys, and the prompt and the side panel telling one truth (issue 16, item 4).
Each test failed on the code before the fix (see the commit messages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio.app import style
from robin_studio.app.export_dialog import ExportDialog
from robin_studio.app.project import GenerationSettings
from robin_studio.app.start_frame import COMPACT_WIDTH, StartFrame
from robin_studio.app.takes import MusicState, Take
from robin_studio.score.tempo_map import TempoMap
from test_app_support import hand_analysis, make_clip, make_window

Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier
pytestmark = pytest.mark.usefixtures("user_dirs")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("ed") / "a.mp4", seconds=2.0, fps=20, with_audio=False)


def activate(qtbot, w: QtWidgets.QWidget) -> None:
    """Make `w` the active window, as a click on it would (shortcuts go to the active one)."""
    qtbot.waitExposed(w)
    w.raise_()
    w.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is w, timeout=2000)


def luminance(rgb) -> float:
    def lin(c):
        c = c / 255.0
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(float(x)) for x in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def pixels(widget: QtWidgets.QWidget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(bytes(img.constBits()), np.uint8).reshape(h, bpl)[:, : 3 * w].reshape(h, w, 3)


# -- 5. menus by keyboard ------------------------------------------------------------------
def test_left_right_move_between_open_menus_not_the_playhead(qtbot, tmp_path, clip):
    w = make_window(qtbot, tmp_path)
    w.open_clip(clip)
    w.seek(1.0)
    activate(qtbot, w)
    qtbot.keyClick(w, Key.Key_F, Mod.AltModifier)                   # Alt+F opens File
    app = QtWidgets.QApplication.instance()
    qtbot.waitUntil(lambda: app.activePopupWidget() is not None, timeout=2000)
    assert app.activePopupWidget().title() == "&File"
    qtbot.keyClick(app.activePopupWidget(), Key.Key_Right)          # Right: the next menu
    qtbot.waitUntil(lambda: app.activePopupWidget() is not None
                    and app.activePopupWidget().title() == "&Edit", timeout=2000)
    assert w.position_s == pytest.approx(1.0), "the playhead stays where it was"
    qtbot.keyClick(app.activePopupWidget(), Key.Key_Left)
    qtbot.waitUntil(lambda: app.activePopupWidget().title() == "&File", timeout=2000)
    assert w.position_s == pytest.approx(1.0)
    qtbot.keyClick(app.activePopupWidget(), Key.Key_Escape)
    qtbot.keyClick(app.activePopupWidget() or w.menuBar(), Key.Key_Escape)
    qtbot.waitUntil(lambda: app.activePopupWidget() is None and w.menuBar().activeAction() is None,
                    timeout=2000)
    w.setFocus()
    qtbot.keyClick(w, Key.Key_Right)                                # menus closed: a frame on
    assert w.position_s == pytest.approx(1.05)


def test_help_keys_lists_every_key_in_an_aligned_table(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    activate(qtbot, w)
    qtbot.keyClick(w, Key.Key_F1)
    dlg = w.keys_dialog
    assert dlg.isVisible()
    table = dlg.table
    keys = [table.item(r, 0).text() for r in range(table.rowCount())]
    text = " | ".join(keys)
    for k in ("Space", "J / K / L", "Left / Right", "Shift+Left / Shift+Right", "Home / End", "I / O",
              "Ctrl+Z", "Ctrl+Shift+Z", "Ctrl+Return", "Ctrl+R", "Esc", "Ctrl+E", "Ctrl+O", "Ctrl+S",
              "Ctrl+B", "F2 / Delete"):
        assert k in text, f"{k} missing from Help > Keys"
    # Every menu shortcut is listed (nothing added later can be forgotten).
    for a in w.findChildren(QtGui.QAction):
        for seq in a.shortcuts():
            s = seq.toString(QtGui.QKeySequence.SequenceFormat.NativeText)
            assert s in text, f"{a.text()} ({s}) missing"
    # Aligned: two columns, every description starts at the same x.
    assert table.columnCount() == 2
    xs = {table.visualRect(table.model().index(r, 1)).left() for r in range(table.rowCount())}
    assert len(xs) == 1
    dlg.close()


# -- 6. small screens ------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(1024, 600), (1920, 1080)])
def test_usable_from_1024x600_no_clipped_labels(qtbot, tmp_path, size):
    w = make_window(qtbot, tmp_path)
    w.resize(*size)
    qtbot.wait(100)
    assert (w.width(), w.height()) == size
    clipped = []
    for c in w.findChildren(QtWidgets.QWidget):
        if not c.isVisibleTo(w) or c.window() is not w:
            continue
        if isinstance(c, QtWidgets.QAbstractButton) and c.text():
            if c.width() < c.sizeHint().width() - 1:
                clipped.append(f"{type(c).__name__} {c.text()!r} {c.width()}<{c.sizeHint().width()}")
        if isinstance(c, QtWidgets.QLabel) and c.text() and not c.wordWrap() and c is not w.status_label:
            need = c.fontMetrics().horizontalAdvance(c.text())
            if c.contentsRect().width() < need:
                clipped.append(f"QLabel {c.text()!r} {c.contentsRect().width()}<{need}")
    assert not clipped, clipped
    # Side docks (the hit-point list) start hidden on a narrow window; the View menu has them.
    for dock in w.findChildren(QtWidgets.QDockWidget):
        assert dock.isVisible() == (size[0] >= w.COMPACT_WIDTH)
        assert dock.toggleViewAction() in w.actions()
    # Every style chip and control can be reached: the panel scrolls rather than squeezing.
    panel = w.prompt_panel
    assert panel.height() >= panel.minimumSizeHint().height()
    for chip in panel.chips.values():
        assert panel.rect().contains(chip.geometry().translated(chip.parentWidget().pos())), chip.text()
    # The music lane keeps a usable height; the transport icons keep their size.
    assert w.timeline.music_lane.geometry().height() >= 90
    for b in (w.transport.home, w.transport.play, w.transport.end):
        assert b.width() >= 30 and b.iconSize().width() >= 16
    # The frame counter shows the whole frame number, also for frame 300 of a long clip.
    w.transport.show_time(12.0, 3600.0, 300)
    tc = w.transport.timecode
    assert tc.text().endswith("frame 300")
    assert tc.contentsRect().width() >= tc.fontMetrics().horizontalAdvance(tc.text())


@pytest.mark.parametrize("size", [(1024, 600), (1920, 1080)])
def test_the_start_frame_shows_the_hit_point_dock_where_the_window_does(qtbot, tmp_path, size):
    """The frame painted while the editor loads has the window's layout at every size, so the
    window taking its place moves nothing (at 1024x600 the frame kept an empty dock the window
    hides, and its panels jumped when the window came)."""
    frame = StartFrame()
    qtbot.addWidget(frame)
    frame.resize(*size)
    frame.show()
    w = make_window(qtbot, tmp_path)
    w.resize(*size)
    qtbot.wait(100)
    [frame_dock] = frame.findChildren(QtWidgets.QDockWidget)
    [dock] = w.findChildren(QtWidgets.QDockWidget)
    assert frame_dock.isVisible() == dock.isVisible() == (size[0] >= COMPACT_WIDTH)


def test_the_first_take_does_not_move_the_picture(qtbot, tmp_path):
    """At 1024x600 the take list's "1 take, using Take 1" used to widen the side panel when the
    first take arrived, pushing the picture aside mid-generation (706 -> 652 px wide)."""
    w = make_window(qtbot, tmp_path)
    w.resize(1024, 600)
    qtbot.wait(100)

    def picture_place():
        return w.picture.mapTo(w, QtCore.QPoint(0, 0)), w.picture.size()

    before = picture_place()
    silence = MusicState(None, None, [], np.zeros((0, 2), np.float32))
    w.takes.add(Take(1, "generate", "Take 1", "warm piano", "warm piano", GenerationSettings(), 0, silence))
    w.takes.set_current(1)
    qtbot.wait(100)
    assert w.takes_panel.summary.text() == "1 take"
    assert w.takes_panel.summary.toolTip() == "Using Take 1"
    assert picture_place() == before


def test_status_bar_elides_and_keeps_the_whole_message(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.resize(1024, 600)
    qtbot.wait(50)
    long = ("At 80 bpm, 0 of the 2 cuts are on a beat; the others get an accent exactly where they "
            "fall. Leave the tempo out and the music follows the picture: 2 of 2 on beats, at about 86 bpm.")
    w.set_status(long)
    qtbot.wait(20)
    shown = w.status_label.text()
    assert w.status_label.fontMetrics().horizontalAdvance(shown) <= w.status_label.width()
    assert shown == long or shown.endswith("\u2026"), "cut text is marked, not chopped"
    assert w.status_label.toolTip() == long and w.status_text() == long
    # The no-device notice does not cover the message.
    assert not w.status_label.geometry().intersects(w.notice_label.geometry())


# -- 8. stale state --------------------------------------------------------------------------
def test_a_new_clip_shows_nothing_of_the_previous_clips_music(qtbot, tmp_path, clip):
    w = make_window(qtbot, tmp_path)
    w.open_clip(clip)
    an = hand_analysis(2.0, 20, (0.5, 1.0))
    w.timeline.set_analysis(an)
    tm = TempoMap.constant(120.0, 8)
    w.timeline.set_grid([0.0, 0.5, 1.0, 1.5], [0.0], on_beat=[True, True])
    assert w.timeline.bar_axis._tickLevels and w.timeline.cuts_on_beat.getData()[0].size
    other = make_clip(tmp_path / "b.mp4", seconds=1.0, fps=20, with_audio=False)
    assert w.open_path(other)
    assert not w.timeline.bar_axis._tickLevels or not any(w.timeline.bar_axis._tickLevels[0])
    x, _ = w.timeline.cuts_on_beat.getData()
    assert x is None or len(x) == 0, "no green on-beat cut markers before any music"
    assert w.timeline.beat_times_s.size == 0 and tm.total_bars == 2


def test_welcome_does_not_offer_the_sample_when_a_clip_was_given(qtbot, tmp_path, clip):
    w = make_window(qtbot, tmp_path, run_first_checks=True)     # first run: the welcome shows
    w.open_path(clip)                                            # as `robin-studio gui clip.mp4`
    qtbot.waitUntil(lambda: any(type(d).__name__ == "WelcomeDialog" for d in w.dialogs), timeout=5000)
    welcome = next(d for d in w.dialogs if type(d).__name__ == "WelcomeDialog")
    assert not welcome.sample_button.isVisibleTo(welcome)
    assert Path(w.project.clip_path).name == "a.mp4"


# -- 9. export dialog ------------------------------------------------------------------------
def _export_dialog(qtbot, has_audio: bool) -> ExportDialog:
    style.apply_theme(QtWidgets.QApplication.instance())
    dlg = ExportDialog(None, "/tmp/clip.mp4", lambda *a: None, has_audio)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


@pytest.mark.parametrize("has_audio,kind,original_on", [(False, "mp4", False), (True, "wav", False),
                                                        (True, "midi", False), (True, "mp4", True)])
def test_export_mix_controls_only_where_they_do_something(qtbot, has_audio, kind, original_on):
    dlg = _export_dialog(qtbot, has_audio)
    qtbot.mouseClick(dlg.kind_buttons[kind], QtCore.Qt.MouseButton.LeftButton,
                     pos=QtCore.QPoint(8, dlg.kind_buttons[kind].height() // 2))
    assert dlg.kind() == kind
    for wdg in (dlg.original_name, dlg.original_gain, dlg.original_label, dlg.duck):
        assert wdg.isEnabled() == original_on, wdg
    if not original_on:
        assert dlg.mix_reason.isVisibleTo(dlg) and dlg.mix_reason.text()
        assert not dlg.duck.isChecked()


def test_export_dialog_disabled_controls_look_disabled(qtbot):
    dlg = _export_dialog(qtbot, False)
    on = pixels(dlg.music_gain)
    off = pixels(dlg.original_gain)
    accent = np.array(QtGui.QColor(style.ACCENT).getRgb()[:3])
    near = lambda img: int((np.abs(img.astype(int) - accent).sum(axis=2) < 40).sum())  # noqa: E731
    assert near(on) > 20, "the enabled slider's handle is orange"
    assert near(off) == 0, "a disabled slider has no orange handle"


def test_export_dialog_radio_buttons_and_progress_text_are_readable(qtbot):
    dlg = _export_dialog(qtbot, True)
    bg = dlg.palette().color(QtGui.QPalette.ColorRole.Window).getRgb()
    for rb in dlg.kind_buttons.values():
        img = pixels(rb)[:, :22]                                     # the indicator
        best = max(contrast(px, bg) for px in img.reshape(-1, 3)[::3])
        assert best >= 3.0, f"{rb.text()}: indicator contrast {best:.1f}"
    box = pixels(dlg.duck)[:, :22]
    assert max(contrast(px, bg) for px in box.reshape(-1, 3)[::3]) >= 3.0
    for value in (1000, 0):
        dlg.progress.setValue(value)
        dlg.progress.setTextVisible(True)
        img = pixels(dlg.progress)
        h, wd, _ = img.shape
        mid = img[h // 4: 3 * h // 4, wd // 2 - 30: wd // 2 + 30].reshape(-1, 3)
        colours, counts = np.unique(mid, axis=0, return_counts=True)
        ground = colours[np.argmax(counts)]                          # the fill behind the text
        best = max(contrast(px, ground) for px in colours)
        assert best >= 4.5, f"'{dlg.progress.text()}' at {value}: contrast {best:.1f}"


# -- issue 16, item 4: one truth -------------------------------------------------------------
def test_prompt_controls_show_in_the_panel_and_panel_changes_are_sent(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    panel = w.prompt_panel
    panel.prompt.setFocus()
    qtbot.keyClicks(panel.prompt, "tense strings, 120 bpm, in D minor, no drums")
    assert panel.text() == "tense strings, 120 bpm, in D minor, no drums"
    qtbot.waitUntil(lambda: not panel.instruments["drums"].isChecked(), timeout=2000)
    s = panel.settings()
    assert s.tempo_bpm == 120 and s.key == "D minor" and not s.instruments["drums"]
    marked = panel.sources_label.text()
    assert "From the prompt: tempo (\u201c120 bpm\u201d)" in marked and "drums (\u201cno drums\u201d)" in marked
    assert all(name in marked for name in ("key", "style"))
    assert "no drums" in panel.instruments["drums"].toolTip()
    assert panel.chips["thriller"].isChecked() and panel.chips["thriller"].property("source") == "prompt"
    assert panel.instruments["drums"].property("source") == "prompt"
    # The creator picks another key in the panel: it is marked, and it is what is sent.
    panel.key.setFocus()
    qtbot.keyClick(panel.key, Key.Key_Down)                          # D minor -> Eb minor
    assert panel.key.currentText() == "Eb minor"
    assert "overrides the prompt" in panel.sources_label.text() and panel.key.property("source") == "panel"
    from robin_studio.intent.parse import parse_prompt
    sent = parse_prompt(panel.engine_prompt(), embed=False)
    assert (sent.key_tonic, sent.key_mode, sent.tempo_bpm) == (3, "minor", 120.0)
    # Drums back on in the panel: the prompt's "no drums" is not sent.
    qtbot.mouseClick(panel.instruments["drums"], QtCore.Qt.MouseButton.LeftButton)
    sent = parse_prompt(panel.engine_prompt(), embed=False)
    assert not sent.exclude_roles
    # Words removed from the prompt: the controls they set go back to Auto.
    panel.prompt.setPlainText("tense strings")
    qtbot.waitUntil(lambda: panel.tempo_auto.isChecked(), timeout=2000)
    assert panel.key.currentText() == "Eb minor", "the panel's own choice stays"


def test_what_was_not_understood_or_substituted_shows_next_to_the_prompt(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    panel = w.prompt_panel
    panel.prompt.setPlainText("happy ukulele and whistling for a travel vlog")
    qtbot.waitUntil(panel.note.isVisible, timeout=2000)
    note = panel.note.text()
    assert "ukulele: not in our instruments" in note and "not understood: travel, vlog" in note
    assert panel.note.wordWrap()
    panel.prompt.setPlainText("")
    qtbot.waitUntil(lambda: not panel.note.isVisible(), timeout=2000)


def test_panel_shows_a_takes_prompt_seed_and_controls(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    settings = GenerationSettings(seed=42, tempo_bpm=90.0, key="A minor",
                                  instruments={"drums": False, "bass": True, "harmony": True,
                                               "melody": True, "texture": True})
    w.prompt_panel.apply("calm piano, 90 bpm, no drums", settings)
    p = w.prompt_panel
    assert p.text() == "calm piano, 90 bpm, no drums" and p.seed.value() == 42
    assert p.controls.source["tempo"] == "prompt" and p.controls.source["key"] == "panel"
    assert p.controls.source["drums"] == "prompt"


# -- 10. input latency is measured from the key press to the repaint -------------------------------
def test_input_latency_probe_times_key_press_to_repaint(qtbot, tmp_path, clip):
    """The benchmark's probe (robin_studio.app.latency.InputLatency) sends real key events and
    stops the clock at the timecode's repaint: a window that takes 150 ms to answer a key reads
    as >= 150 ms (the event-loop probe the app had would not see a key at all)."""
    import time

    from robin_studio.app.latency import InputLatency

    w = make_window(qtbot, tmp_path)
    w.open_clip(clip)
    activate(qtbot, w)
    start = w.position_s
    probe = InputLatency(w, interval_ms=40)
    probe.start()
    qtbot.waitUntil(lambda: len(probe.samples_ms) >= 3, timeout=5000)
    probe.stop()
    assert w.position_s != start, "the key presses moved the playhead"
    assert probe.missed == 0

    class Slow(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802
            if event.type() == QtCore.QEvent.Type.KeyPress:
                time.sleep(0.15)            # a window busy for 150 ms when the key arrives
            return False

    slow = Slow()
    QtWidgets.QApplication.instance().installEventFilter(slow)
    try:
        probe = InputLatency(w, interval_ms=40)
        probe.start()
        qtbot.waitUntil(lambda: len(probe.samples_ms) >= 3, timeout=5000)
        probe.stop()
    finally:
        QtWidgets.QApplication.instance().removeEventFilter(slow)
    assert min(probe.samples_ms) >= 150.0
