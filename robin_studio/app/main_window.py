"""The main window: a thin assembler of panels, each with its own model. The picture and
transport, the prompt panel, the take list (`takes_panel` over `takes.TakesModel`), the
timeline; menus and keys. Opening, saving, autosave and crash recovery are
`project_flow.ProjectFlow`'s; generating, regenerating and stopping (the workers that talk to
the engine, the streamed chunks) are `generation_flow.GenerationFlow`'s; the window wires its
panels, menus and keys to them.

Every edit of the music is an undoable command (`takes.UseTakeCommand` and friends): undo and
redo switch the take in use, they never remove one. Everything the window knows about music and
analysis comes from the engine's front door (`robin_studio.generate.engine.Scorer`) through
`EngineHost`; which bars a region regenerates from `generate.regions`, the same function the
engine uses, so the selection shows exactly what will change. The window keeps the project
safe: replacing or closing it asks first (`keep_work`), engine errors become readable dialogs,
an autosave copy is written as work happens, and a crash is offered back next time.
"""

from __future__ import annotations

import logging
import math
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio import paths
from robin_studio.app.app_settings import AppSettings
from robin_studio.app.audio_player import AudioPlayer
from robin_studio.app.checks import Check, run_checks
from robin_studio.app.export_dialog import ExportDialog
from robin_studio.app.generation_flow import GenerationFlow, piece_tempo_map as _piece_tempo_map
from robin_studio.app.keep_work import ask_keep_work
from robin_studio.app.keys import KeysDialog, TransportKeys
from robin_studio.app.picture import FrameFetcher, PicturePreview, frame_index_at
from robin_studio.app.project import PROJECT_SUFFIX, Project, RecoveryStore
from robin_studio.app.project_flow import VIDEO_SUFFIXES, ProjectFlow
from robin_studio.app.prompt_panel import PromptPanel
from robin_studio.app.takes import (DeleteTakeCommand, MusicState, RenameTakeCommand, Take, TakesModel,
                                    UseTakeCommand, take_id_of)
from robin_studio.app.takes_panel import TakesPanel
from robin_studio.app.timeline import Timeline, format_time
from robin_studio.app.transport import TransportBar
from robin_studio.app.workers import EngineHost, ProgressRelay
from robin_studio.errors import RobinError
from robin_studio.generate.regions import region_span
from robin_studio.timing.grid import cuts_on_beats, grid_lines
# Imported up front: a first import inside a worker thread holds the GIL and stalls the UI.
import robin_studio.analysis.types  # noqa: E402,F401 - unpickled from the engine process
from robin_studio.media.decode import FrameReader  # noqa: E402

log = logging.getLogger("robin_studio.app")

AUTOSAVE_MS = 20_000


def tempo_grid(tempo_map, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat times (s) up to `duration_s`, from the timing package's grid."""
    lines = grid_lines(tempo_map, 0.0, duration_s)
    beats = np.array([g.time_s for g in lines], dtype=float)
    downbeats = np.array([g.time_s for g in lines if g.is_downbeat], dtype=float)
    return beats, downbeats


def cut_flags(tempo_map, cut_times_s) -> list[bool]:
    """Which cuts sit on a beat of the tempo map (the timing package's tolerance)."""
    return cuts_on_beats(tempo_map, list(cut_times_s))


class MainWindow(QtWidgets.QMainWindow):
    """The Robin Studio window. `scorer_factory` builds the engine (tests may pass a Scorer
    configured for a fixture); `audio_available`/`stream_factory` go to the AudioPlayer."""

    chunkShown = QtCore.Signal(int)           # a chunk reached the music lane (index)
    busyChanged = QtCore.Signal(bool)
    analysisReady = QtCore.Signal()
    replayDone = QtCore.Signal()

    def __init__(self, scorer_factory: Callable[[], Any] | None = None,
                 audio_available: bool | None = None, stream_factory=None,
                 run_first_checks: bool = True, recovery_dir: Path | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Robin Studio")
        self.setAcceptDrops(True)
        self.resize(1340, 740)
        self.setMinimumSize(1000, 560)

        self.host = EngineHost(scorer_factory)
        self.app_settings = AppSettings.load()
        if self.app_settings.last_export_dir:   # an export killed last time left its temp file
            from robin_studio.outputs import remove_stale_partials
            remove_stale_partials(self.app_settings.last_export_dir)
        self.project = Project()
        self.project_path: Path | None = None
        self.dirty = False
        self.confirm_close = True
        self.keep_recovery = False     # closing for SIGTERM: the recovery copy stays (application.py)
        self.analysis = None
        self.piece = None
        self.media_info = None
        self.duration_s = 0.0
        self.fps = 25.0
        self.position_s = 0.0
        self.ab_side = "A"
        self._fetcher: FrameFetcher | None = None
        self._grid_of = None           # the tempo map the drawn grid belongs to
        self.dialogs: list[QtWidgets.QDialog] = []   # open message boxes (tests read them)
        self.file_dialog: QtWidgets.QFileDialog | None = None   # the open/save dialog, if open
        self._closing = False
        self._close_ok = False
        self.checks: list[Check] = []

        self.player = AudioPlayer(available=audio_available, stream_factory=stream_factory)
        self.undo_stack = QtGui.QUndoStack(self)
        self.undo_stack.indexChanged.connect(self._undo_index_changed)
        self.takes = TakesModel(self)
        self.takes.window_clip = lambda: self.project.clip_path   # marks takes of an earlier cut
        self.recovery = RecoveryStore(recovery_dir or (paths.data_dir() / "recovery"))
        # Open, analyse, save, autosave, recover: the project's own controller.
        self.project_flow = ProjectFlow(self)
        # Generate, regenerate, stop; the streamed chunks and the takes they make.
        self.generation_flow = GenerationFlow(self)

        self._build_ui()
        self._build_actions()
        from robin_studio.app.markers_panel import install_markers   # hit points, Replace Video
        self.markers = install_markers(self)
        self._fit_docks_to_screen()
        self._key_filter = TransportKeys(self)
        QtWidgets.QApplication.instance().installEventFilter(self._key_filter)

        self._play_timer = QtCore.QTimer(self)
        self._play_timer.setInterval(15)
        self._play_timer.timeout.connect(self._tick)
        self._autosave_timer = QtCore.QTimer(self)
        self._autosave_timer.setInterval(AUTOSAVE_MS)
        self._autosave_timer.timeout.connect(self.project_flow.autosave)
        self._autosave_timer.start()

        if self.app_settings.window_geometry:
            try:
                self.restoreGeometry(QtCore.QByteArray.fromHex(self.app_settings.window_geometry.encode()))
            except Exception:  # noqa: BLE001 - a stale geometry is not worth an error
                pass
        self.update_state()
        if self.player.silent:
            self.show_notice(self.player.notice)
        if run_first_checks:
            QtCore.QTimer.singleShot(0, self.run_first_checks)

    # ------------------------------------------------------------------ construction
    def _build_ui(self) -> None:
        self.picture = PicturePreview()
        self.transport = TransportBar()
        self.prompt_panel = PromptPanel()
        self.takes_panel = TakesPanel(self.takes)
        self.timeline = Timeline()

        left = QtWidgets.QWidget()
        ll = QtWidgets.QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(0)
        ll.addWidget(self.picture, 1)
        ll.addWidget(self.transport)

        # The prompt panel scrolls when the screen is short (1024x600), the take list below
        # it can be dragged smaller or collapsed.
        self.prompt_scroll = QtWidgets.QScrollArea()
        self.prompt_scroll.setWidget(self.prompt_panel)
        self.prompt_scroll.setWidgetResizable(True)
        self.prompt_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.prompt_scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.prompt_scroll.setMinimumWidth(self.prompt_panel.minimumWidth() + 14)
        self.side_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.side_split.addWidget(self.prompt_scroll)
        self.side_split.addWidget(self.takes_panel)
        self.side_split.setStretchFactor(0, 3)
        self.side_split.setStretchFactor(1, 1)
        self.side_split.setCollapsible(0, False)

        self.top_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        self.top_split.addWidget(left)
        self.top_split.addWidget(self.side_split)
        self.top_split.setStretchFactor(0, 3)
        self.top_split.setStretchFactor(1, 1)
        self.top_split.setCollapsible(0, False)
        self.top_split.setCollapsible(1, False)
        self.top_split.setSizes([900, 380])
        self.main_split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.main_split.addWidget(self.top_split)
        self.main_split.addWidget(self.timeline)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setStretchFactor(1, 2)
        self.main_split.setCollapsible(0, False)
        self.main_split.setCollapsible(1, False)
        self.main_split.setSizes([440, 300])
        self.setCentralWidget(self.main_split)

        sb = self.statusBar()
        self.status_label = QtWidgets.QLabel("Open a video to begin.")
        self.status_label.setToolTip("What Robin Studio is doing")
        # Long messages are elided with "..." (the whole text is in the tooltip), never cut.
        self.status_label.setMinimumWidth(80)
        self.status_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored,
                                        QtWidgets.QSizePolicy.Policy.Preferred)
        self._status_text = "Open a video to begin."
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setMaximumWidth(220)
        self.progress_bar.setMaximumHeight(14)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setToolTip("Progress of the current analysis or generation")
        self.progress_bar.hide()
        self.notice_label = QtWidgets.QLabel("")
        self.notice_label.setObjectName("notice")
        self.notice_label.setToolTip("Something that limits what Robin Studio can do on this machine")
        self.notice_label.hide()
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.notice_label)
        sb.addPermanentWidget(self.progress_bar)

        # signals
        self.prompt_panel.prompt.textChanged.connect(self._prompt_edited)
        self.prompt_panel.generateRequested.connect(self.generate)
        self.prompt_panel.stopRequested.connect(self.stop_generation)
        self.prompt_panel.regenerateRequested.connect(self.regenerate_selection)
        self.takes_panel.useRequested.connect(self.use_take)
        self.takes_panel.deleteRequested.connect(self.delete_take)
        self.takes.renameRequested.connect(self.rename_take)
        self.timeline.seekRequested.connect(self.seek)
        self.timeline.selectionChanged.connect(self._selection_changed)
        t = self.transport
        t.home.clicked.connect(lambda: self.seek(0.0))
        t.end.clicked.connect(lambda: self.seek(self.duration_s))
        t.back_frame.clicked.connect(lambda: self.step_frames(-1))
        t.fwd_frame.clicked.connect(lambda: self.step_frames(1))
        t.play.clicked.connect(self.toggle_play)
        t.mark_in.clicked.connect(self.mark_in)
        t.mark_out.clicked.connect(self.mark_out)
        t.ab.toggled.connect(self.set_ab)
        t.clip_sound.toggled.connect(self._clip_sound)
        t.zoom_in.clicked.connect(lambda: self.timeline.zoom(1.6))
        t.zoom_out.clicked.connect(lambda: self.timeline.zoom(1 / 1.6))
        t.zoom_fit.clicked.connect(self.timeline.zoom_fit)
        for w in (t.home, t.back_frame, t.play, t.fwd_frame, t.end, t.mark_in, t.mark_out, t.ab, t.clip_sound,
                  t.zoom_in, t.zoom_out, t.zoom_fit):
            w.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space must not "click" a button

        self.analysis_relay = ProgressRelay(self)
        self.analysis_relay.progress.connect(lambda f, m: self.show_progress(f, m or "Analysing the clip\u2026"))

    COMPACT_WIDTH = 1280   # below this, side docks start hidden (View menu shows them)

    def _fit_docks_to_screen(self) -> None:
        """Docks (the hit-point list) get a View menu entry (F4 toggles); on a window
        narrower than COMPACT_WIDTH they start hidden, until the creator shows them."""
        self._dock_chosen = False
        view = next((a.menu() for a in self.menuBar().actions() if a.text() == "&View"), None)
        for dock in self.findChildren(QtWidgets.QDockWidget):
            act = dock.toggleViewAction()
            act.setText(f"{dock.windowTitle()} Panel")
            act.setShortcut(QtGui.QKeySequence("F4"))
            act.setToolTip(f"Show or hide the {dock.windowTitle().lower()} panel")
            act.triggered.connect(lambda *_: setattr(self, "_dock_chosen", True))
            if view is not None:
                view.addSeparator()
                view.addAction(act)
            self.addAction(act)

    def _compact_docks(self) -> None:
        if getattr(self, "_dock_chosen", True):
            return
        narrow = self.width() < self.COMPACT_WIDTH
        for dock in self.findChildren(QtWidgets.QDockWidget):
            dock.setVisible(not narrow)

    def _prompt_edited(self) -> None:
        if self.project.clip_path and not self.dirty and self.prompt_panel.text() != self.project.prompt:
            self.dirty = True
            self.update_state()

    def _action(self, menu: QtWidgets.QMenu, text: str, slot, shortcut=None, tip: str = "") -> QtGui.QAction:
        a = QtGui.QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, (list, tuple)):
                a.setShortcuts([QtGui.QKeySequence(s) for s in shortcut])
            else:
                a.setShortcut(QtGui.QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        menu.addAction(a)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_open = self._action(f, "&Open Video or Project\u2026", self.project_flow.open_dialog,
                                     QtGui.QKeySequence.StandardKey.Open, "Open a video clip or a .robin project")
        self.recent_menu = f.addMenu("Open &Recent")
        self.recent_menu.setToolTipsVisible(True)
        self.project_flow.fill_recent()
        f.addSeparator()
        self.act_save = self._action(f, "&Save Project", lambda: self.save(), QtGui.QKeySequence.StandardKey.Save,
                                     "Save the project (.robin)")
        self.act_save_as = self._action(f, "Save Project &As\u2026", lambda: self.save_as(), "Ctrl+Shift+S",
                                        "Save the project under a new name")
        f.addSeparator()
        self.act_export = self._action(f, "&Export\u2026", self.open_export, "Ctrl+E",
                                       "Export MP4, WAV, stems or MIDI")
        f.addSeparator()
        self._action(f, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit, "Quit Robin Studio")

        e = mb.addMenu("&Edit")
        self.act_undo = self._action(e, "&Undo", self.undo, ["Ctrl+Z"], "Back to the previous take")
        self.act_redo = self._action(e, "&Redo", self.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Forward to the next take")
        e.addSeparator()
        self._action(e, "Clear Selection", lambda: self.timeline.set_selection(None), "Ctrl+Shift+A",
                     "Remove the selected region")

        g = mb.addMenu("&Music")
        self.act_generate = self._action(g, "&Generate", self.generate, "Ctrl+Return",
                                         "Generate music for the whole clip")
        self.act_stop = self._action(g, "&Stop", self.stop_generation, "Esc", "Stop generating")
        self.act_regen = self._action(g, "&Regenerate Selection", self.regenerate_selection, "Ctrl+R",
                                      "Generate the selected region again")
        g.addSeparator()
        self.act_ab = self._action(g, "Compare &A/B", lambda: self.transport.ab.toggle(), "Ctrl+B",
                                   "Switch between the take in use (A) and the take it was made from (B)")

        v = mb.addMenu("&View")
        self._action(v, "Zoom &In", lambda: self.timeline.zoom(1.6), ["Ctrl+=", "Ctrl++"], "Zoom the timeline in")
        self._action(v, "Zoom &Out", lambda: self.timeline.zoom(1 / 1.6), "Ctrl+-", "Zoom the timeline out")
        self._action(v, "&Fit Clip", self.timeline.zoom_fit, "Ctrl+0", "Show the whole clip")

        h = mb.addMenu("&Help")
        self._action(h, "Check &Setup\u2026", lambda: self.run_first_checks(force=True), None,
                     "Check the SoundFont, the models and the audio device")
        self._action(h, "&Keys\u2026", self._show_keys, "F1", "Keyboard shortcuts")
        self._action(h, "&About Robin Studio", self._about, None, "About Robin Studio")

    # ------------------------------------------------------------------ state and messages
    @property
    def busy(self) -> bool:
        return self.generation_flow.busy

    def update_state(self) -> None:
        """Enable what can be done now (actions, buttons, A/B) and title the window."""
        has_clip = bool(self.project.clip_path) and self.duration_s > 0
        busy = self.busy
        cur = self.takes.current_take()
        can_regen = (self.piece is not None and self.timeline.selection_s() is not None
                     and cur is not None and cur.complete)
        self.prompt_panel.set_busy(busy, can_regen)
        self.prompt_panel.generate_button.setEnabled(not busy and self.analysis is not None)
        self.act_generate.setEnabled(not busy and self.analysis is not None)
        self.act_stop.setEnabled(busy)
        self.act_regen.setEnabled(not busy and can_regen)
        if cur is not None and not cur.complete and self.timeline.selection_s() is not None:
            self.prompt_panel.regenerate_button.setToolTip(
                f"{cur.name} was stopped before it was finished: generate the whole clip again "
                "to regenerate parts of it")
        else:
            self.prompt_panel.regenerate_button.setToolTip(
                "Generate the selected bars again with this prompt and a new seed; the music\n"
                "around them stays (Ctrl+R). The highlight shows exactly what changes.")
        self.act_export.setEnabled(self.piece is not None and not busy and cur is not None and cur.complete)
        self.act_undo.setEnabled(self.undo_stack.canUndo() and not busy)
        self.act_redo.setEnabled(self.undo_stack.canRedo() and not busy)
        self.act_save.setEnabled(has_clip)
        self.act_save_as.setEnabled(has_clip)
        self.transport.ab.setEnabled(self._ab_parent() is not None and not busy)
        self.act_ab.setEnabled(self.transport.ab.isEnabled())
        if self.analysis is None and has_clip:
            tip = "Waiting for the analysis of the clip"
        elif not has_clip:
            tip = "Open a video first"
        else:
            tip = "Generate music for the whole clip (Ctrl+Return)"
        self.prompt_panel.generate_button.setToolTip(tip)
        name = Path(self.project.clip_path).name if self.project.clip_path else ""
        title = "Robin Studio" + (f" \u2014 {name}" if name else "")
        if self.project_path:
            title += f" [{self.project_path.name}]"
        self.setWindowTitle(title + (" *" if self.dirty else ""))

    def set_status(self, text: str) -> None:
        self._status_text = text
        self.status_label.setToolTip(text or "What Robin Studio is doing")
        self._elide_status()

    def status_text(self) -> str:
        """The whole status message (the label may show it shortened)."""
        return self._status_text

    def _elide_status(self) -> None:
        fm = self.status_label.fontMetrics()
        width = max(40, self.status_label.width() - 4)
        self.status_label.setText(fm.elidedText(self._status_text, QtCore.Qt.TextElideMode.ElideRight, width))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._compact_docks()
        QtCore.QTimer.singleShot(0, self._elide_status)

    def show_notice(self, text: str) -> None:
        """A lasting limitation, in short in the status bar; the whole advice in its tooltip."""
        short = text.split(". ")[0].split(": ")[-1] if len(text) > 60 else text
        if "sound is off" in text.lower():
            short = "Sound off (no audio device)"
        self.notice_label.setText(short.rstrip("."))
        self.notice_label.setToolTip(text)
        self.notice_label.setVisible(bool(text))

    def show_progress(self, fraction: float, message: str) -> None:
        """The progress bar at `fraction` (0..1) and `message` in the status bar."""
        self.progress_bar.show()
        self.progress_bar.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.set_status(message)

    def hide_progress(self) -> None:
        self.progress_bar.hide()

    def _message(self, icon, title: str, text: str, detail: str = "") -> QtWidgets.QMessageBox:
        """A non-blocking message box (the event loop and any worker keep running)."""
        box = QtWidgets.QMessageBox(icon, title, text, QtWidgets.QMessageBox.StandardButton.Ok, self)
        if detail:
            box.setInformativeText(detail)
        box.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        box.finished.connect(lambda *_: self.dialogs.remove(box) if box in self.dialogs else None)
        self.dialogs.append(box)
        box.open()
        return box

    def show_error(self, err: BaseException, doing: str = "") -> QtWidgets.QMessageBox | None:
        """Engine errors as readable dialogs. The project is left as it was."""
        if self._closing:
            return None
        details = getattr(err, "details", "") or getattr(err, "engine_traceback", "")
        if details:
            self._log_details(details)
        if isinstance(err, RobinError):
            text, detail = err.message, err.hint
        else:
            # A bug, not the user's doing: log the traceback, show one readable line.
            log_path = paths.cache_dir() / "robin-studio.log"
            try:
                with open(log_path, "a", encoding="utf-8") as fh:
                    fh.write("".join(traceback.format_exception(type(err), err, err.__traceback__)))
            except OSError:
                pass
            text = f"Something went wrong{(' while ' + doing) if doing else ''}: {err}"
            detail = f"Your project is safe. Details were written to {log_path}."
        self.set_status(text.splitlines()[0])
        return self._message(QtWidgets.QMessageBox.Icon.Warning, "Robin Studio", text, detail)

    def _log_details(self, text: str) -> None:
        try:
            with open(paths.cache_dir() / "robin-studio.log", "a", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
        except OSError:
            pass

    def note_engine_problem(self, err: BaseException) -> None:
        """The engine could not start (missing SoundFont/model...): say so once, keep going."""
        self.show_error(err, "starting the music engine")

    # ------------------------------------------------------------------ first run
    def run_first_checks(self, force: bool = False) -> list[Check]:
        models = None
        self.checks = run_checks(models)
        failed = [c for c in self.checks if not c.ok]
        audio_failed = any(c.name == "Audio output" for c in failed)
        serious = [c for c in failed if c.name != "Audio output"]
        if not force and not self.app_settings.seen_first_run:
            from robin_studio.app.welcome import show_welcome
            show_welcome(self, self.checks)   # first run: a welcome, the sample clip, the checks
        elif force or serious or (audio_failed and not self.app_settings.seen_first_run):
            marks = {True: "\u2714", False: "\u2716"}
            lines = "\n\n".join(f"{marks[c.ok]} {c.name}: {c.message}" for c in self.checks)
            title = "Setup check" if not failed else "Some things are missing"
            self._message(QtWidgets.QMessageBox.Icon.Information if not failed
                          else QtWidgets.QMessageBox.Icon.Warning, title, lines)
        self.app_settings.seen_first_run = True
        self.app_settings.save()
        return self.checks

    # ------------------------------------------------------------------ projects (ProjectFlow)
    def open_path(self, path: str | Path) -> bool:
        """Open a clip or a project, asking first when that would lose work (`ProjectFlow`)."""
        return self.project_flow.open_path(path)

    def open_clip(self, path: str | Path, keep_project: bool = False) -> bool:
        return self.project_flow.open_clip(path, keep_project)

    def open_project(self, path: str | Path) -> bool:
        return self.project_flow.open_project(path)

    def save(self, then: Callable[[bool], None] | None = None) -> bool:
        return self.project_flow.save(then)

    def save_as(self, then: Callable[[bool], None] | None = None) -> None:
        self.project_flow.save_as(then)

    def autosave(self, wait: bool = False) -> None:
        self.project_flow.autosave(wait)

    def offer_recovery(self) -> Project | None:
        return self.project_flow.offer_recovery()

    # ------------------------------------------------------------------ generation (GenerationFlow)
    def generate(self) -> None:
        self.generation_flow.generate()

    def regenerate_selection(self) -> None:
        self.generation_flow.regenerate_selection()

    def stop_generation(self) -> None:
        self.generation_flow.stop()

    def stop_everything(self) -> None:
        """Pause, stop generating and stop analysing (before another clip or closing)."""
        self.pause()
        self.stop_generation()
        self.project_flow.stop_analysis()

    def clear_timeline(self) -> None:
        """An empty timeline for another clip; the beat grid is drawn again for it."""
        self.timeline.clear()
        self._grid_of = None

    def show_picture_of(self, path: Path) -> None:
        """The picture preview reads frames of the clip at `path` from now on."""
        if self._fetcher is not None:
            self._fetcher.stop()
            self._fetcher = None
        self.picture.clear()
        try:
            reader = FrameReader(path, self.media_info)
        except Exception as err:  # noqa: BLE001
            self.show_error(err, "reading the picture")
            return
        self._fetcher = FrameFetcher(reader.frame_at, max_side=1280, close_fn=reader.close)
        self._fetcher.frameReady.connect(self.picture.set_image)
        self._fetcher.failed.connect(lambda msg: self.set_status(f"Picture: {msg}"))

    # ------------------------------------------------------------------ takes, undo, A/B
    def lane_chunks(self) -> list[tuple[int, float, float, np.ndarray]]:
        """The music lane's chunks as (index, start s, end s, spectrogram)."""
        return [(c.index, c.start_s, c.end_s, c.image.image) for c in self.timeline.chunk_items]

    def show_music(self, state: MusicState | None) -> None:
        """Draw and play `state` (a take's music); the take in use is not changed."""
        if state is None:
            self.piece = None
            self.timeline.clear_music()
            self.player.set_audio(np.zeros((0, 2), np.float32))
            self.timeline.set_grid([], [])
            self._grid_of = None
            return
        self.piece = state.piece
        if state.piece is not None and state.take_id is not None \
                and take_id_of(state.piece) != state.take_id:
            state.piece.select_take(state.take_id)   # the engine swaps notes and audio
        shown = self.lane_chunks()
        same = len(shown) == len(state.chunks) and all(
            a[1:3] == b[1:3] and a[3] is b[3] for a, b in zip(shown, state.chunks))
        if not same:   # right after generating, the lane already shows exactly this
            self.timeline.clear_music()
            for index, a, b, spec in state.chunks:
                self.timeline.add_chunk(index, a, b, spec)
        if state.piece is None:
            audio = state.audio if state.audio is not None else np.zeros((0, 2), np.float32)
            self.player.set_audio(np.asarray(audio, dtype=np.float32))
            if state.audio is None:
                self.timeline.set_grid([], [])
                self._grid_of = None
        else:
            self.player.set_audio(np.asarray(state.piece.audio, dtype=np.float32))
            tm = _piece_tempo_map(state.piece)
            key = tm.to_dict() if tm is not None else None
            if tm is not None and key != self._grid_of:
                self.timeline.set_grid(*tempo_grid(tm, self.duration_s),
                                       on_beat=cut_flags(tm, self.timeline.cut_times_s))
                self._grid_of = key

    def show_current_take(self) -> None:
        """Draw and play the take in use (or no music), and label the lane."""
        cur = self.takes.current_take()
        self.show_music(cur.state if cur is not None else None)
        self._label_lane()

    def apply_take(self, take: Take | None, panel: bool = True) -> None:
        """Put `take` in use: the lane, the player, the lane's label and (after undo, redo or a
        click in the take list) the prompt panel show what made it."""
        self._set_ab_side(False)
        self.show_music(take.state if take is not None else None)
        self._label_lane()
        if take is not None and panel and not self.generation_flow.pushing_new_take:
            self.prompt_panel.apply(take.text, take.settings)
        if self.timeline.selection_s() is not None:
            self._selection_changed(self.timeline.selection_s())
        self.update_state()

    def _label_lane(self, side: str = "A") -> None:
        cur = self.takes.current_take()
        if cur is None:
            self.timeline.set_take_label("")
            return
        if side == "B":
            parent = self._ab_parent()
            self.timeline.set_take_label(f"B: {parent.describe()}  (A: {cur.name})")
        else:
            self.timeline.set_take_label(("A: " if self.transport.ab.isEnabled() else "") + cur.describe())

    def use_take(self, number: int) -> None:
        """A click in the take list: hear and see that take (undoable)."""
        if self.busy or number == self.takes.current:
            return
        take = self.takes.take(number)
        if take is None:
            return
        self.undo_stack.push(UseTakeCommand(self.takes, self.takes.current, number, self.apply_take,
                                            f"Use {take.name}"))
        self.set_status(f"Using {take.describe()}.")

    def delete_take(self, number: int) -> None:
        if self.busy or self.takes.take(number) is None:
            return
        cmd = DeleteTakeCommand(self.takes, number, self.apply_take)
        self.undo_stack.push(cmd)
        self.set_status(f"{cmd.text()}. Ctrl+Z brings it back.")

    def rename_take(self, number: int, name: str) -> None:
        if self.takes.take(number) is not None:
            self.undo_stack.push(RenameTakeCommand(self.takes, number, name))
            self._label_lane()

    def undo(self) -> None:
        if self.busy:
            self.set_status("Stop generating before undoing.")
            return
        text = self.undo_stack.undoText()
        if not text:
            return
        self.undo_stack.undo()
        self._say_take(f"Undid \u201c{text}\u201d")

    def redo(self) -> None:
        if self.busy:
            return
        text = self.undo_stack.redoText()
        if not text:
            return
        self.undo_stack.redo()
        self._say_take(f"Redid \u201c{text}\u201d")

    def _say_take(self, what: str) -> None:
        cur = self.takes.current_take()
        self.set_status(f"{what}: now using {cur.describe()}." if cur is not None
                        else f"{what}: no music.")

    def _undo_index_changed(self, _index: int) -> None:
        self.dirty = True
        self.update_state()

    def _ab_parent(self) -> Take | None:
        """The take the one in use was made from (A/B compares the two)."""
        cur = self.takes.current_take()
        if cur is None or cur.parent is None:
            return None
        parent = self.takes.any_take(cur.parent)
        return parent if parent is not None and parent.state.piece is not None else None

    def _set_ab_side(self, b_side: bool) -> None:
        self.ab_side = "B" if b_side else "A"
        if self.transport.ab.isChecked() != bool(b_side):
            self.transport.ab.blockSignals(True)
            self.transport.ab.setChecked(bool(b_side))
            self.transport.ab.blockSignals(False)

    def set_ab(self, b_side: bool) -> None:
        """A/B compare: B draws and plays the take the current one was made from, A the
        current take. The take in use does not change."""
        parent, cur = self._ab_parent(), self.takes.current_take()
        if parent is None or cur is None or self.busy:
            self._set_ab_side(False)
            return
        if b_side == (self.ab_side == "B"):
            self._set_ab_side(b_side)
            return
        self._set_ab_side(b_side)
        self.show_music(parent.state if b_side else cur.state)
        self.piece = cur.state.piece if not b_side else parent.state.piece
        self._label_lane("B" if b_side else "A")
        region = cur.changed_s or cur.region_s or (0.0, self.duration_s)
        self.set_status(f"{'B: ' + parent.name + ' (before)' if b_side else 'A: ' + cur.name + ' (in use)'}"
                        f", compare {format_time(region[0])}\u2013{format_time(region[1])}")
        if b_side and not self.player.playing:
            self.seek(region[0])
        self.update_state()

    def _clip_sound(self, on: bool) -> None:
        self.player.original_on = bool(on)

    # ------------------------------------------------------------------ selection and marks
    def _selection_changed(self, sel) -> None:
        """With music on the lane, a selection snaps to the bars it touches, and the span
        whose audio will change (attack lead and release tail included) is drawn around it:
        what Ctrl+R changes is exactly what is shown."""
        tm = _piece_tempo_map(self.piece)
        if sel is not None and tm is not None and self.duration_s > 0:
            rs = region_span(tm, sel[0], sel[1], self.duration_s)
            snapped = (rs.bars_start_s, rs.bars_end_s)
            if abs(snapped[0] - sel[0]) > 1e-6 or abs(snapped[1] - sel[1]) > 1e-6:
                self.timeline.set_selection(*snapped, emit=False)
            self.timeline.set_change_span((rs.audio_start_s, rs.audio_end_s))
            sel = snapped
            self.set_status(f"Selected bars {rs.bar_start + 1}\u2013{rs.bar_end} "
                            f"({format_time(sel[0])}\u2013{format_time(sel[1])}); the music changes from "
                            f"{format_time(rs.audio_start_s)} to {format_time(rs.audio_end_s)} "
                            "(release tail included). Regenerate: Ctrl+R.")
        else:
            self.timeline.set_change_span(None)
            if sel is not None:
                self.set_status(f"Selected {format_time(sel[0])}\u2013{format_time(sel[1])} "
                                f"({sel[1] - sel[0]:.1f} s). Generate first to regenerate a part.")
        self.project.selection_s = sel
        self.update_state()

    def mark_in(self) -> None:
        sel = self.timeline.selection_s()
        end = sel[1] if sel and sel[1] > self.position_s else self.duration_s
        self.timeline.set_selection(self.position_s, end)

    def mark_out(self) -> None:
        sel = self.timeline.selection_s()
        start = sel[0] if sel and sel[0] < self.position_s else 0.0
        self.timeline.set_selection(start, self.position_s)

    # ------------------------------------------------------------------ transport
    def seek(self, t_s: float, from_player: bool = False) -> None:
        t_s = float(np.clip(t_s, 0.0, max(0.0, self.duration_s)))
        self.position_s = t_s
        if not from_player:
            self.player.seek(t_s)
        self.timeline.set_playhead(t_s, follow=from_player)
        frame = frame_index_at(t_s, self.fps)
        self.transport.show_time(t_s, self.duration_s, frame)
        if self._fetcher is not None:
            # Ask for the frame's own start time: frame-accurate whatever t_s was within it.
            self._fetcher.request(min(frame / self.fps, max(0.0, self.duration_s - 0.5 / self.fps)))

    def step_frames(self, n: int) -> None:
        self.pause()
        frame = frame_index_at(self.position_s, self.fps) + n
        last = max(0, int(math.ceil(self.duration_s * self.fps)) - 1)
        self.seek(min(max(0, frame), last) / self.fps)

    def step_seconds(self, s: float) -> None:
        self.pause()
        self.seek(self.position_s + s)

    def play(self, speed: float = 1.0) -> bool:
        """Play at `speed` (J/K/L). Without an audio device the picture plays silently by the
        system clock, and the notice says that sound is off."""
        if self.duration_s <= 0:
            return False
        if not self.player.play(speed):
            return False
        if self.player.silent:
            self.show_notice(self.player.notice)
            self.set_status(f"Playing the picture{'' if speed == 1 else f' at {speed:+g}x'} without "
                            "sound (no audio device); export still has the music.")
        self._play_timer.start()
        self.transport.show_playing(True)
        return True

    def pause(self) -> None:
        if self.player.playing or self._play_timer.isActive():
            self.player.pause()
            self._play_timer.stop()
            self.transport.show_playing(False)

    def toggle_play(self) -> None:
        if self.player.playing:
            self.pause()
        else:
            self.play(1.0)

    def shuttle(self, direction: int) -> None:
        """J/K/L: K stops; L plays forward, again for 2x and 4x; J the same backwards."""
        if direction == 0:
            self.pause()
            return
        speed = self.player.speed if self.player.playing else 0.0
        if speed * direction > 0:
            new = max(-4.0, min(4.0, speed * 2))
        else:
            new = float(direction)
        self.play(new)

    def _tick(self) -> None:
        """Player clock (the audio device's, or the system clock) -> picture and playhead."""
        t = self.player.position_s()
        if abs(t - self.position_s) > 1e-4:
            self.seek(t, from_player=True)
        if not self.player.playing:
            self.pause()

    # ------------------------------------------------------------------ export
    def export_function(self):
        piece, clip = self.piece, self.project.clip_path
        host = self.host

        def run(out_path, kind, music_gain_db, original_gain_db, duck, progress, cancel):
            return host.scorer().export(piece, out_path, video_path=clip, kind=kind,
                                        music_gain_db=music_gain_db, original_gain_db=original_gain_db,
                                        duck=duck, progress=progress, cancel=cancel.is_set)
        return run

    def open_export(self) -> ExportDialog | None:
        cur = self.takes.current_take()
        if self.piece is None or cur is None or not cur.complete:
            self.set_status("Generate music (a whole take) before exporting.")
            return None
        if self.ab_side == "B":
            self.set_ab(False)   # export what the take in use sounds like
        self.pause()
        has_audio = bool(self.media_info and self.media_info.has_audio)
        dlg = ExportDialog(self, self.project.clip_path, self.export_function(), has_audio,
                           self.project.export, self.app_settings.last_export_dir)
        dlg.exported.connect(self._exported)
        dlg.finished.connect(lambda *_: self._remember_export(dlg))
        dlg.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        self.export_dialog = dlg
        dlg.open()
        return dlg

    def _exported(self, path: str) -> None:
        self.set_status(f"Exported {path}")
        self.app_settings.last_export_dir = str(Path(path).parent)
        self.app_settings.save()

    def _remember_export(self, dlg: ExportDialog) -> None:
        self.project.export = dlg.settings()

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if _dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        path = _dropped_path(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_path(path)

    # ------------------------------------------------------------------ help
    def _show_keys(self) -> KeysDialog:
        dlg = KeysDialog(self)
        dlg.finished.connect(lambda *_: self.dialogs.remove(dlg) if dlg in self.dialogs else None)
        self.dialogs.append(dlg)
        self.keys_dialog = dlg
        dlg.open()
        return dlg

    def _about(self) -> None:
        from robin_studio.app.about import show_about
        show_about(self)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        if (not self._close_ok and self.confirm_close and self.project.clip_path
                and (self.dirty or self.busy)):
            event.ignore()

            def then(answer: str) -> None:
                if answer == "cancel":
                    return
                if answer == "save":
                    self.stop_generation()
                    self.save(then=lambda ok: self._close_now() if ok else None)
                else:
                    self._close_now()
            ask_keep_work(self, "closing", self.dirty, self.busy, then)
            return
        self._closing = True
        self.stop_everything()
        # Stop an engine process this window started (its pending calls end with an error
        # that is no longer shown), then let the workers finish before the window goes.
        self.host.close()
        QtCore.QThreadPool.globalInstance().waitForDone(20_000)
        self.player.close()
        if self._fetcher is not None:
            self._fetcher.stop()
            self._fetcher = None
        self._autosave_timer.stop()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._key_filter)
        self.app_settings.window_geometry = bytes(self.saveGeometry().toHex()).decode()
        self.app_settings.save()
        if not self.keep_recovery:
            self.recovery.clean_exit()
        super().closeEvent(event)

    def _close_now(self) -> None:
        self._close_ok = True
        self.close()


def _dropped_path(mime: QtCore.QMimeData) -> str | None:
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            p = Path(url.toLocalFile())
            if p.suffix.lower() in VIDEO_SUFFIXES or p.suffix.lower() == PROJECT_SUFFIX:
                return str(p)
    return None
