"""The main window: a thin assembler of panels, each with its own model, and of the flows
that work on them. Panels: the picture and transport, the prompt panel, the take list
(`takes_panel` over `takes.TakesModel`), the timeline, the hit points (`markers_panel`). Flows:
`project_flow.ProjectFlow` opens, saves, autosaves and recovers; `generation_flow.GenerationFlow`
generates, regenerates and stops; `takes_flow.TakesFlow` puts a take in use (undo, redo, A/B,
the selection over it). They share the `session.ClipSession` (what is open) and speak through
`session.Feedback` (status bar, message boxes); the window wires panels, menus, keys and the
flows' signals together, and keeps the transport (play, seek, shuttle) and export.

Every edit of the music is an undoable command (`takes.UseTakeCommand` and friends): undo and
redo switch the take in use, they never remove one. Everything the window knows about music and
analysis comes from the engine's front door (`robin_studio.generate.engine.Scorer`) through
`EngineHost`. The window keeps the project safe: replacing or closing it asks first
(`keep_work`), engine errors become readable dialogs, an autosave copy is written as work
happens, and a crash is offered back next time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio import paths
from robin_studio.app import gui_gc
from robin_studio.app.app_settings import AppSettings
from robin_studio.app.audio_player import AudioPlayer
from robin_studio.app.checks import Check, run_checks
from robin_studio.app.export_dialog import ExportDialog
from robin_studio.app.export_flow import open_export
from robin_studio.app.generation_flow import GenerationFlow
from robin_studio.app.keep_work import ask_keep_work
from robin_studio.app.keys import KeysDialog, TransportKeys
from robin_studio.app.picture import PicturePreview
from robin_studio.app.playback import Playback
from robin_studio.app.project import PROJECT_SUFFIX, RecoveryStore
from robin_studio.app.project_flow import VIDEO_SUFFIXES, ProjectFlow
from robin_studio.app.prompt_panel import PromptPanel
from robin_studio.app.session import ClipSession, Feedback, forwarded
from robin_studio.app.start_frame import COMPACT_WIDTH
from robin_studio.app.takes import TakesModel
from robin_studio.app.takes_flow import MusicLane, TakesFlow, cut_flags, tempo_grid  # noqa: F401 - re-exported
from robin_studio.app.takes_panel import TakesPanel
from robin_studio.app.timeline import Timeline
from robin_studio.app.transport import TransportBar
from robin_studio.app.workers import EngineHost
# Imported up front: a first import inside a worker thread holds the GIL and stalls the UI.
import robin_studio.analysis.types  # noqa: E402,F401 - unpickled from the engine process

log = logging.getLogger("robin_studio.app")

AUTOSAVE_MS = 20_000


def routed(owner: str, name: str, doc: str = ""):
    """A window call that is `self.<owner>.<name>(...)`: the window routes it to the panel or
    flow that does it (menus, keys, the markers panel and tests call the window)."""
    def call(self, *args, **kwargs):
        return getattr(getattr(self, owner), name)(*args, **kwargs)
    call.__name__, call.__doc__ = name, doc or f"`{owner}.{name}`"
    return call


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
        self.session = ClipSession()
        self.confirm_close = True
        self.keep_recovery = False     # closing for SIGTERM: the recovery copy stays (application.py)
        self.dialogs: list[QtWidgets.QDialog] = []   # open message boxes (tests read them)
        self._close_ok = False
        self.checks: list[Check] = []
        self.feedback = Feedback(self, self.dialogs)
        self.status_label, self.notice_label = self.feedback.label, self.feedback.notice_label
        self.progress_bar = self.feedback.progress_bar

        self.player = AudioPlayer(available=audio_available, stream_factory=stream_factory)
        self.undo_stack = QtGui.QUndoStack(self)
        self.takes = TakesModel(self)
        self.takes.window_clip = lambda: self.project.clip_path   # marks takes of an earlier cut
        self.recovery = RecoveryStore(recovery_dir or (paths.data_dir() / "recovery"))
        self._build_ui()
        self._build_actions()
        from robin_studio.app.markers_panel import install_markers   # hit points, Replace Video
        self.markers = install_markers(self)
        self.generation_flow.with_markers = self.markers.with_markers   # hit points, ignored cuts
        self.project_flow.markers = self.markers     # replays re-timed and conformed takes
        self._fit_docks_to_screen()
        self._key_filter = TransportKeys(self)
        QtWidgets.QApplication.instance().installEventFilter(self._key_filter)

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
        # From here on workers run beside the window: Python's garbage is collected on the GUI
        # thread only, so a collection never destroys widgets under a worker (gui_gc).
        gui_gc.hold()
        self._holds_gc = True

    # ------------------------------------------------------------------ construction
    def _build_ui(self) -> None:
        self.picture = PicturePreview()
        self.transport = TransportBar()
        self.prompt_panel = PromptPanel()
        self.takes_panel = TakesPanel(self.takes)
        self.timeline = Timeline()
        self._build_flows()

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

        # signals
        self.prompt_panel.prompt.textChanged.connect(self._prompt_edited)
        gen = self.generation_flow
        self.prompt_panel.generateRequested.connect(gen.generate)
        self.prompt_panel.stopRequested.connect(gen.stop)
        self.prompt_panel.regenerateRequested.connect(gen.regenerate_selection)
        self.takes_panel.useRequested.connect(self.takes_flow.use)
        self.takes_panel.deleteRequested.connect(self.takes_flow.delete)
        t = self.transport
        t.ab.toggled.connect(self.takes_flow.set_ab)
        t.zoom_in.clicked.connect(lambda: self.timeline.zoom(1.6))
        t.zoom_out.clicked.connect(lambda: self.timeline.zoom(1 / 1.6))
        t.zoom_fit.clicked.connect(self.timeline.zoom_fit)
        for w in (t.home, t.back_frame, t.play, t.fwd_frame, t.end, t.mark_in, t.mark_out, t.ab, t.clip_sound,
                  t.zoom_in, t.zoom_out, t.zoom_fit):
            w.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)  # Space must not "click" a button

    def _build_flows(self) -> None:
        """The flows over the panels, and their signals wired to the window."""
        session, feedback = self.session, self.feedback
        self.playback = Playback(self, session, self.picture, self.transport, self.player, self.timeline, feedback)
        self.lane = MusicLane(self.timeline, self.player, session)
        self.takes_flow = TakesFlow(self, session, self.takes, self.undo_stack, self.lane, self.prompt_panel,
                                    self.transport.ab, feedback, lambda: self.busy, self.seek)
        # Generate, regenerate, stop; the streamed chunks and the takes they make.
        gen = self.generation_flow = GenerationFlow(self, session, self.host, self.prompt_panel, self.lane,
                                                    self.takes_flow, feedback)
        # Open, analyse, save, autosave, recover: the project's own controller.
        proj = self.project_flow = ProjectFlow(self, session, feedback, self.prompt_panel, self.takes_flow,
                                               gen, self.host, self.app_settings, self.recovery)
        gen.busyChanged.connect(self.busyChanged)
        gen.chunkShown.connect(self.chunkShown)
        gen.starting.connect(self.playback.pause)
        gen.replayAbandoned.connect(lambda: setattr(proj, "replay", []))
        gen.jobDone.connect(proj.autosave)
        gen.jobDone.connect(proj.continue_replay)
        proj.clipOpening.connect(self.stop_everything)
        proj.clipOpened.connect(self._show_clip)
        proj.analysisReady.connect(self.analysisReady)
        proj.replayDone.connect(self.replayDone)
        for flow in (self.takes_flow, gen, proj):
            flow.stateChanged.connect(self.update_state)

    COMPACT_WIDTH = COMPACT_WIDTH   # below this, side docks start hidden (View menu shows them)

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
        self.project_flow.recent_menu = self.recent_menu
        self.project_flow.fill_recent()
        f.addSeparator()
        self.act_save = self._action(f, "&Save Project", lambda: self.project_flow.save(), QtGui.QKeySequence.StandardKey.Save,
                                     "Save the project (.robin)")
        self.act_save_as = self._action(f, "Save Project &As\u2026", lambda: self.project_flow.save_as(), "Ctrl+Shift+S",
                                        "Save the project under a new name")
        f.addSeparator()
        self.act_export = self._action(f, "&Export\u2026", self.open_export, "Ctrl+E",
                                       "Export MP4, WAV, stems or MIDI")
        f.addSeparator()
        self._action(f, "&Quit", self.close, QtGui.QKeySequence.StandardKey.Quit, "Quit Robin Studio")

        e = mb.addMenu("&Edit")
        self.act_undo = self._action(e, "&Undo", self.takes_flow.undo, ["Ctrl+Z"], "Back to the previous take")
        self.act_redo = self._action(e, "&Redo", self.takes_flow.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Forward to the next take")
        e.addSeparator()
        self._action(e, "Clear Selection", lambda: self.timeline.set_selection(None), "Ctrl+Shift+A",
                     "Remove the selected region")

        g = mb.addMenu("&Music")
        self.act_generate = self._action(g, "&Generate", self.generation_flow.generate, "Ctrl+Return",
                                         "Generate music for the whole clip")
        self.act_stop = self._action(g, "&Stop", self.generation_flow.stop, "Esc", "Stop generating")
        self.act_regen = self._action(g, "&Regenerate Selection", self.generation_flow.regenerate_selection, "Ctrl+R",
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
    # What is open lives in the session the flows share; these names read and write it.
    project = forwarded("project")
    project_path = forwarded("project_path")
    dirty = forwarded("dirty")
    media_info = forwarded("media_info")
    analysis = forwarded("analysis")
    piece = forwarded("piece")
    duration_s = forwarded("duration_s")
    fps = forwarded("fps")

    @property
    def busy(self) -> bool:
        return self.generation_flow.busy

    @property
    def file_dialog(self) -> QtWidgets.QFileDialog | None:
        """The open/save dialog, while it is open."""
        return self.project_flow.file_dialog

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
        self.transport.ab.setEnabled(self.takes_flow.ab_parent() is not None and not busy)
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

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._compact_docks()
        QtCore.QTimer.singleShot(0, self.feedback.elide)

    # Messages: the status bar and message boxes are `Feedback`'s.
    set_status = routed("feedback", "set_status")
    status_text = routed("feedback", "status_text", "The whole status message (the label may show it shortened).")
    show_notice = routed("feedback", "show_notice")
    show_progress = routed("feedback", "show_progress")
    hide_progress = routed("feedback", "hide_progress")
    show_error = routed("feedback", "show_error", "Engine errors as readable dialogs; the project is left as it was.")

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
            self.feedback.message(QtWidgets.QMessageBox.Icon.Information if not failed
                          else QtWidgets.QMessageBox.Icon.Warning, title, lines)
        self.app_settings.seen_first_run = True
        self.app_settings.save()
        return self.checks

    # ------------------------------------------------------------------ the flows' calls
    open_path = routed("project_flow", "open_path", "Open a clip or a project, asking first when that would lose work.")
    open_clip = routed("project_flow", "open_clip")
    open_project = routed("project_flow", "open_project")
    offer_recovery = routed("project_flow", "offer_recovery")
    generate = routed("generation_flow", "generate")
    regenerate_selection = routed("generation_flow", "regenerate_selection")
    stop_generation = routed("generation_flow", "stop")
    clear_timeline = routed("lane", "clear_timeline")
    show_music = routed("lane", "show", "Draw and play a take's music; the take in use is not changed.")
    show_current_take = routed("takes_flow", "show_current")
    undo = routed("takes_flow", "undo")
    redo = routed("takes_flow", "redo")
    show_picture_of = routed("playback", "show_picture_of")
    seek = routed("playback", "seek")
    step_frames = routed("playback", "step_frames")
    step_seconds = routed("playback", "step_seconds")
    pause = routed("playback", "pause")
    toggle_play = routed("playback", "toggle_play")
    shuttle = routed("playback", "shuttle")
    mark_in = routed("playback", "mark_in")
    mark_out = routed("playback", "mark_out")

    @property
    def position_s(self) -> float:
        """The playhead (s)."""
        return self.playback.position_s

    def stop_everything(self) -> None:
        """Pause, stop generating and stop analysing (before another clip or closing)."""
        self.pause()
        self.stop_generation()
        self.project_flow.stop_analysis()

    def _show_clip(self, path: Path) -> None:
        """A clip was opened: its picture, from the start."""
        self.show_picture_of(path)
        self.seek(0.0)

    # ------------------------------------------------------------------ export
    def open_export(self) -> ExportDialog | None:
        dlg = open_export(self, self.session, self.takes_flow, self.pause, self.host, self.app_settings,
                          self.feedback)
        if dlg is not None:
            self.export_dialog = dlg
        return dlg

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
                    self.project_flow.save(then=lambda ok: self._close_now() if ok else None)
                else:
                    self._close_now()
            ask_keep_work(self, "closing", self.dirty, self.busy, then)
            return
        self.feedback.closing = True
        self.stop_everything()
        # Stop an engine process this window started (its pending calls end with an error
        # that is no longer shown), then let the workers finish before the window goes.
        self.host.close()
        QtCore.QThreadPool.globalInstance().waitForDone(20_000)
        self.player.close()
        self.playback.stop_picture()
        self._autosave_timer.stop()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._key_filter)
        self.app_settings.window_geometry = bytes(self.saveGeometry().toHex()).decode()
        self.app_settings.save()
        if not self.keep_recovery:
            self.recovery.clean_exit()
        if self._holds_gc:
            self._holds_gc = False
            gui_gc.release()
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
