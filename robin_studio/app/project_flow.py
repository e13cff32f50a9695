"""The project flow of the main window: opening a clip or a project, the analysis that follows
an opened clip, saving (Save, Save As, the recent files), the autosave copy and the offer to
recover it after a crash, and asking before work would be lost (`keep_work`).

A saved project's takes are not stored as audio: they are generated again from the recorded
prompts, seeds and regions ("replay"), which this flow drives through the window's generation.
`ProjectFlow` talks to narrow interfaces, never to the window's attributes: the `ClipSession`
it opens into, `Feedback` for messages, the prompt panel, the `TakesFlow` (the takes and the
music lane), the `GenerationFlow` that makes replayed takes, the app's settings and the
recovery store. What the window must do itself it learns by signals: `clipOpening` (stop
playing and generating), `clipOpened` (show the new clip's picture), `analysisReady`,
`replayDone` and `stateChanged` (refresh the actions).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6 import QtCore, QtWidgets

from robin_studio import lifecycle
from robin_studio.app.app_settings import AppSettings
from robin_studio.app.generation_flow import GenerationFlow
from robin_studio.app.keep_work import ask_keep_work
from robin_studio.app.project import PROJECT_SUFFIX, Project, RecoveryStore, TakeRecord, settings_from_dict
from robin_studio.app.session import ClipSession, Feedback
from robin_studio.app.takes import GenRequest, settings_dict as _settings_dict, take_records as _take_records
from robin_studio.app.takes_flow import TakesFlow
from robin_studio.app.timeline import format_time
from robin_studio.app.workers import EngineHost, ProgressRelay, analysis_worker
from robin_studio.errors import RobinError
from robin_studio.media import export as media_export
from robin_studio.media.probe import probe
from robin_studio.media.thumbnails import thumbnail_strip

log = logging.getLogger("robin_studio.app")

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".mpg",
                  ".mpeg", ".wmv", ".flv", ".3gp", ".ogv"}
THUMBNAIL_COUNT = 24


class ProjectFlow(QtCore.QObject):
    """Open, analyse, save, autosave and recover the window's project (see the module doc)."""

    clipOpening = QtCore.Signal()             # another clip is about to open: stop what runs
    clipOpened = QtCore.Signal(object)        # the clip (Path) is open: show its picture
    analysisReady = QtCore.Signal()
    replayDone = QtCore.Signal()
    stateChanged = QtCore.Signal()

    def __init__(self, window: QtWidgets.QWidget, session: ClipSession, feedback: Feedback, prompt_panel,
                 takes: TakesFlow, generation: GenerationFlow, host: EngineHost,
                 app_settings: AppSettings, recovery: RecoveryStore) -> None:
        super().__init__(window)
        self.dialog_parent = window                 # the file dialogs and questions sit on it
        self.session, self.feedback, self.prompt_panel = session, feedback, prompt_panel
        self.takes, self.generation, self.host = takes, generation, host
        self.app_settings, self.recovery = app_settings, recovery
        self.lane = takes.lane
        self.file_dialog: QtWidgets.QFileDialog | None = None   # the open/save dialog, if open
        self.recent_menu: QtWidgets.QMenu | None = None         # File > Open Recent (the window's)
        self.markers = None            # the markers controller: replays re-timed and conformed takes
        self.analysis_relay = ProgressRelay(self)
        self.analysis_relay.progress.connect(
            lambda f, m: feedback.show_progress(f, m or "Analysing the clip\u2026"))
        self.analysis_worker = None                 # the running analysis of the opened clip
        self.replay: list[TakeRecord] = []          # recorded takes still to be made again
        self.replay_analyses: dict = {}    # earlier cuts' analyses, while a project is replayed
        self.replay_current = 0                     # the take in use when the project was saved
        self.restore_selection = None               # the saved selection, put back after replay
        self.replay_notes: list[str] = []           # what could not be made again as saved
        self.replay_remade: list[int] = []          # takes made again with the project's markers
        self.autosave_lock = threading.Lock()

    def stop_analysis(self) -> None:
        if self.analysis_worker is not None:
            self.analysis_worker.quit()
            self.analysis_worker = None

    def open_dialog(self) -> None:
        """File > Open: a non-blocking file dialog (Qt's own, so it looks and behaves the same
        on every desktop and shows its icons); the choice goes through `open_path`."""
        filt = ("Video or project (" + " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
                + f" *{PROJECT_SUFFIX});;All files (*)")
        dlg = QtWidgets.QFileDialog(self.dialog_parent, "Open", self.app_settings.last_open_dir, filt)
        dlg.setFileMode(QtWidgets.QFileDialog.FileMode.ExistingFile)
        dlg.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        dlg.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dlg.fileSelected.connect(self.open_path)
        dlg.finished.connect(lambda *_: setattr(self, "file_dialog", None))
        self.file_dialog = dlg
        dlg.open()

    def open_path(self, path: str | Path) -> bool:
        """Open a clip or a project, asking first when that would lose work. Returns False when
        nothing was opened (yet: an answer to the question may still open it)."""
        path = Path(path)
        # Work that would be lost: a running generation, or unsaved takes or prompt.
        has_work = bool(self.session.project.clip_path) and (
            self.generation.busy or (self.session.dirty and (bool(self.takes.model.archive) or bool(self.prompt_panel.text()))))
        if has_work:
            ask_keep_work(self.dialog_parent, f"opening {path.name}", self.session.dirty, self.generation.busy,
                          lambda answer: self._after_keep_work(answer, lambda: self._open_now(path)))
            return False
        return self._open_now(path)

    def _after_keep_work(self, answer: str, go: Callable[[], object]) -> None:
        if answer == "cancel":
            self.feedback.set_status("Nothing was opened; your project is as it was.")
            return
        if answer == "save":
            self.generation.stop()     # the music so far becomes a take, then is saved
            self.save(then=lambda ok: go() if ok else None)
            return
        go()

    def _open_now(self, path: Path) -> bool:
        if path.suffix.lower() == PROJECT_SUFFIX:
            return self.open_project(path)
        return self.open_clip(path)

    def open_clip(self, path: str | Path, keep_project: bool = False) -> bool:
        """Show the clip at once; analysis and thumbnails follow from a worker. (Replacing a
        project with unsaved work goes through `open_path`, which asks first.)"""
        path = Path(path)
        self.clipOpening.emit()
        try:
            info = probe(path)
        except RobinError as err:
            self.feedback.show_error(err)
            return False
        except Exception as err:  # noqa: BLE001 - anything PyAV throws at a bad file
            self.feedback.show_error(err, f"opening {path.name}")
            return False
        self.session.media_info = info
        if not keep_project:
            prompt, settings = self.prompt_panel.text(), self.prompt_panel.settings()
            self.session.project = Project(clip_path=str(path.resolve()), prompt=prompt, settings=settings,
                                   prompt_history=self.session.project.prompt_history)
            self.session.project_path = None
            self.replay = []
        else:
            self.session.project.clip_path = str(path.resolve())
        self.session.analysis = None
        self.session.piece = None
        self.takes.undo_stack.clear()
        self.takes.model.clear()
        self.session.duration_s = float(info.duration_s)
        self.session.fps = float(info.fps) if info.fps > 0 else 25.0
        self.lane.clear_timeline()
        self.lane.timeline.set_take_label("")
        self.lane.timeline.set_duration(self.session.duration_s, self.session.fps)
        self.lane.player.set_duration(self.session.duration_s)
        self.lane.player.set_audio(np.zeros((0, 2), np.float32))
        self.lane.player.set_original(None)
        self.clipOpened.emit(path)          # the window shows its picture from the start
        self.app_settings.add_recent(path)
        self.app_settings.last_open_dir = str(path.parent)
        self.app_settings.save()
        self.fill_recent()
        self.session.dirty = False      # nothing to lose yet: a typed prompt or a take changes that
        self._start_analysis(path)
        self.stateChanged.emit()
        return True

    def _thumbnails_fn(self, path: Path):
        def make():
            return thumbnail_strip(path, THUMBNAIL_COUNT, max_side=160)
        return make

    def _original_audio_fn(self, path: Path):
        n = int(round(self.session.duration_s * 48_000))
        has_audio = bool(self.session.media_info and self.session.media_info.has_audio)

        def make():
            if not has_audio:
                return None
            # The media package's decoder of a clip's sound, aligned to the picture (the one
            # its MP4 export mixes); private there, so looked up rather than imported by name.
            fn = getattr(media_export, "original_audio", None) or getattr(media_export, "_original_audio")
            return fn(path, 0.0, n)
        return make

    def _start_analysis(self, path: Path) -> None:
        self.feedback.show_progress(0.0, f"Analysing {path.name}\u2026")
        worker = analysis_worker(self.host, str(path), self.analysis_relay, self._thumbnails_fn(path),
                                 self._original_audio_fn(path))
        worker.yielded.connect(self._analysis_yielded)
        worker.errored.connect(self._analysis_failed)
        worker.finished.connect(self._analysis_finished)
        self.analysis_worker = worker
        worker.start()

    def _from_current(self, worker) -> bool:
        """Signals from a worker the window has since stopped or replaced are ignored."""
        return worker is not None and self.sender() is worker.signals

    def _analysis_yielded(self, item) -> None:
        if not self._from_current(self.analysis_worker):
            return
        kind, value = item
        if kind == "thumbnails":
            self.lane.timeline.set_thumbnails(value)
        elif kind == "original_audio":
            self.lane.player.set_original(value)
        elif kind == "analysis":
            self.session.analysis = value
            self.lane.timeline.set_analysis(value)
            n_cuts = len(value.transitions)
            self.feedback.set_status(f"{Path(self.session.project.clip_path).name}: {format_time(value.duration_s)}, "
                            f"{len(value.shots)} shots, {n_cuts} cut{'s' if n_cuts != 1 else ''}. "
                            "Describe the music and press Generate.")
            self.feedback.hide_progress()
            self.stateChanged.emit()
            self.analysisReady.emit()
            self.continue_replay()

    def _analysis_failed(self, err) -> None:
        if not self._from_current(self.analysis_worker):
            return
        self.feedback.hide_progress()
        self.feedback.show_error(err, "analysing the clip")

    def _analysis_finished(self) -> None:
        if self._from_current(self.analysis_worker):
            self.analysis_worker = None

    def open_project(self, path: str | Path) -> bool:
        try:
            project = Project.load(path)
        except RobinError as err:
            self.feedback.show_error(err)
            return False
        return self.load_project(project, Path(path))

    def load_project(self, project: Project, path: Path | None) -> bool:
        """Open a project's clip and set the panel; its takes are generated again from the
        recorded prompts, seeds and regions (the same inputs give the same music)."""
        clip = Path(project.clip_path)
        if not clip.exists():
            self.feedback.show_error(RobinError(f"The project's clip {clip} is missing.",
                                       "Move it back, or open the clip and re-enter the prompt."))
            return False
        records = _take_records(project)
        self.restore_selection = project.selection_s   # opening the clip clears the selection
        self.session.project = project
        self.session.project_path = path
        self.prompt_panel.apply(project.prompt, project.settings)
        self.prompt_panel.set_history(project.prompt_history)
        if not self.open_clip(clip, keep_project=True):
            return False
        self.replay = records
        self.replay_analyses = {}     # earlier cuts' analyses (takes made before Replace Video)
        self.replay_current = project.current_take or (records[-1].number if records else 0)
        self.replay_notes, self.replay_remade = [], []
        self.session.project.takes = []
        if path is not None:
            self.app_settings.add_recent(path)
            self.app_settings.save()
            self.fill_recent()
        self.session.dirty = False
        self.stateChanged.emit()
        if not records:
            self._replay_finished()
        return True

    def continue_replay(self) -> None:
        if self.generation.busy or self.session.analysis is None or getattr(self.markers, '_worker', None) is not None:
            return
        while self.replay:
            rec = self.replay.pop(0)
            settings = settings_from_dict(rec.settings) if rec.settings else self.session.project.settings
            if rec.kind == "generate":
                analysis = None
                if rec.hit_points is None and (self.session.project.hit_points
                                               or self.session.project.ignored_cuts_s):
                    self.replay_remade.append(rec.number)     # version 2: markers not recorded
                if rec.clip_path and not _same_file(rec.clip_path, self.session.project.clip_path):
                    # A take of an earlier cut (before File > Replace Video): made for that cut.
                    analysis = self.replay_analyses.get(rec.clip_path)
                    if analysis is None:
                        self.replay.insert(0, rec)
                        self.markers.replay_analysis(rec.clip_path)
                        return
                    if analysis is False:
                        self.cannot_replay(rec, f"its clip {rec.clip_path} cannot be read")
                        continue
                self.generation.start(GenRequest("generate", rec.text, rec.prompt, settings, rec.seed,
                                                  record=rec, analysis=analysis))
                return
            if rec.kind == "conform" and not rec.clip_path:
                # A version 2 file: the re-edited video was not recorded.
                self.cannot_replay(rec, "a version 2 project does not record the re-edited video")
                continue
            # A conformed, re-timed or regenerated take is made again from its parent take.
            parent = self.takes.model.any_take(rec.parent)
            if parent is None or parent.state.piece is None:
                self.cannot_replay(rec, f"the take it was made from ({rec.parent}) is missing")
                continue
            if rec.kind == "conform":
                # Video replaced (version 3 records the new clip and the seed): conformed again
                # as File > Replace Video did.
                self.markers.replay_conform(rec, parent)
                return
            if rec.kind == "retime":
                if rec.hit_points is not None:
                    # Hit points moved (version 3 records them and the seed): the same markers
                    # and seed bring the notes and tempo map back exactly.
                    self.markers.replay_retime(rec, parent)
                else:
                    # A version 2 re-timing kept neither its hit points nor its seed: made with
                    # the project's hit points (the last placed) and the take's seed. The timing
                    # follows those hit points; the bars made again are new music (the user is told).
                    self.replay_remade.append(rec.number)
                    self.markers.replay_retime(rec, parent, markers=self.markers.saved_markers())
                return
            if rec.parent in self.replay_remade:     # made on a take that may differ
                self.replay_remade.append(rec.number)
            self.lane.show(parent.state)
            self.generation.start(GenRequest("regenerate", rec.text, rec.prompt, settings, rec.seed,
                                              region=(rec.start_s, rec.end_s), parent=parent.number,
                                              record=rec))
            return
        if self.session.project.clip_path and not self.generation.busy and self.replay_current is not None:
            self._replay_finished()

    def cannot_replay(self, rec, why: str) -> None:
        """A take of the opened project that cannot be made again: said when it is open."""
        log.warning("take %s cannot be made again: %s", rec.number, why)
        self.replay_notes.append(f"Take {rec.number} ({rec.kind}) could not be made again: {why}.")

    def _replay_finished(self) -> None:
        """Every recorded take is back: use the one that was in use, restore the selection."""
        number = self.replay_current
        self.replay_current = None
        cur = self.takes.model.take(number) or (self.takes.model.takes[-1] if self.takes.model.takes else None)
        self.takes.model.set_current(cur.number if cur is not None else None)
        self.takes.apply(cur, panel=False)
        sel, self.restore_selection = self.restore_selection, None
        if sel is not None and self.session.duration_s > 0:
            self.lane.timeline.set_selection(*sel)
        self.session.dirty = False
        self.stateChanged.emit()
        notes, remade = list(self.replay_notes), self.replay_remade
        if remade:
            notes.insert(0, "Saved by an older Robin Studio (project format 2 or older), which did not "
                         "record the hit points and seed each take was made with: take"
                         f"{'s' if len(remade) > 1 else ''} {', '.join(map(str, remade))} "
                         "made again with the project's hit points, so "
                         f"{'their' if len(remade) > 1 else 'its'} notes may differ from the saved session.")
        self.replay_notes = notes
        if cur is not None:
            self.feedback.set_status(f"Project open: {len(self.takes.model.takes)} take(s), using {cur.name}."
                                     + (" Not every take is as it was saved (see the message)." if notes else ""))
        if notes:
            self.feedback.message(QtWidgets.QMessageBox.Icon.Information, "Project opened",
                                  "Not every take could be made again as it was saved.", "\n\n".join(notes))
        self.replayDone.emit()

    def sync_project(self) -> None:
        self.session.project.prompt = self.prompt_panel.text()
        self.session.project.settings = self.prompt_panel.settings()
        self.session.project.selection_s = self.lane.timeline.selection_s()
        listed = {t.number for t in self.takes.model.takes}
        needed = set(listed)
        for t in self.takes.model.takes:            # ancestors the listed takes were made from
            p = t.parent
            while p is not None and p not in needed and self.takes.model.any_take(p) is not None:
                needed.add(p)
                p = self.takes.model.any_take(p).parent
        records = []
        for n in sorted(needed):
            t = self.takes.model.any_take(n)
            a, b = t.region_s if t.region_s else (0.0, self.session.duration_s)
            records.append(TakeRecord(a, b, t.seed, t.engine_prompt, t.created, kind=t.kind,
                                      number=t.number, name=t.name, parent=t.parent or 0, text=t.text,
                                      settings=_settings_dict(t.settings),
                                      partial_until_s=t.partial_until_s, deleted=n not in listed,
                                      hit_points=(None if t.hit_points is None else list(t.hit_points)),
                                      ignored_cuts_s=(None if t.ignored_cuts_s is None
                                                      else list(t.ignored_cuts_s)),
                                      clip_path=t.clip_path))
        if self.replay:  # a project still being made again keeps its recorded takes
            records += self.replay
        self.session.project.takes = records
        self.session.project.generated = any(r.kind == "generate" for r in records)
        self.session.project.current_take = self.takes.model.current or 0

    def save(self, then: Callable[[bool], None] | None = None) -> bool:
        """Ctrl+S. Without a project file yet, asks where (non-blocking); `then(saved)` runs
        once it is known whether the project was saved."""
        if self.session.project_path is None:
            self.save_as(then)
            return False
        ok = self.save_to(self.session.project_path)
        if then is not None:
            then(ok)
        return ok

    def save_as(self, then: Callable[[bool], None] | None = None) -> None:
        start = self.session.project_path or Path(self.session.project.clip_path).with_suffix(PROJECT_SUFFIX)
        dlg = QtWidgets.QFileDialog(self.dialog_parent, "Save project", str(start),
                                    f"Robin Studio project (*{PROJECT_SUFFIX})")
        dlg.setAcceptMode(QtWidgets.QFileDialog.AcceptMode.AcceptSave)
        dlg.setDefaultSuffix(PROJECT_SUFFIX.lstrip("."))
        dlg.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
        dlg.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        done = {"saved": False}

        def chosen(path: str) -> None:
            if not path.endswith(PROJECT_SUFFIX):
                path += PROJECT_SUFFIX
            done["saved"] = self.save_to(Path(path))

        def finished(*_) -> None:
            self.file_dialog = None
            if then is not None:
                then(done["saved"])

        dlg.fileSelected.connect(chosen)
        dlg.finished.connect(finished)
        self.file_dialog = dlg
        dlg.open()

    def save_to(self, path: Path) -> bool:
        self.sync_project()
        try:
            self.session.project.save(path)
        except RobinError as err:
            self.feedback.show_error(err)
            return False
        self.session.project_path = path
        self.session.dirty = False
        self.recovery.discard()
        self.app_settings.add_recent(path)
        self.app_settings.save()
        self.fill_recent()
        self.feedback.set_status(f"Saved {path.name}.")
        self.stateChanged.emit()
        return True

    def autosave(self, wait: bool = False) -> None:
        """Write the recovery copy. The write (with its fsync) runs on a thread, so a slow
        disk never stalls the window; `wait` is for tests and for closing."""
        if not self.session.project.clip_path or not self.session.dirty:
            return
        self.sync_project()
        snapshot = Project.from_dict(self.session.project.to_dict())   # what to write, frozen now

        def write() -> None:
            with self.autosave_lock:
                try:
                    self.recovery.autosave(snapshot)
                except RobinError as err:
                    log.warning("autosave failed: %s", err)

        # Tracked, not a daemon: quitting waits for a copy being written (`lifecycle.shutdown`).
        thread = lifecycle.start_tracked(write, "autosave")
        if wait:
            thread.join()

    def offer_recovery(self) -> Project | None:
        """At start: if the last session crashed with unsaved work, ask to bring it back."""
        project = self.recovery.pending()
        for note in self.recovery.set_aside:   # a damaged recovery file was moved aside: say so
            log.warning(note)
            self.feedback.flash(note, 30_000)
        self.recovery.start()
        if project is None:
            return None
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Recover your work?",
                                    f"Robin Studio did not close properly last time. Recover the "
                                    f"unsaved project for {Path(project.clip_path).name}?",
                                    QtWidgets.QMessageBox.StandardButton.Yes
                                    | QtWidgets.QMessageBox.StandardButton.No, self.dialog_parent)
        box.setInformativeText("No discards the autosaved copy.")

        def answered(result: int) -> None:
            if result == QtWidgets.QMessageBox.StandardButton.Yes:
                if self.load_project(project, None):
                    self.session.dirty = True
                    self.stateChanged.emit()
            else:
                self.recovery.discard()
            if box in self.feedback.dialogs:
                self.feedback.dialogs.remove(box)

        box.finished.connect(answered)
        self.feedback.dialogs.append(box)
        box.open()
        return project

    def fill_recent(self) -> None:
        if self.recent_menu is None:
            return
        self.recent_menu.clear()
        for p in self.app_settings.recent_files:
            a = self.recent_menu.addAction(Path(p).name)
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, p=p: self.open_path(p))
        self.recent_menu.setEnabled(bool(self.app_settings.recent_files))


def _same_file(a: str, b: str) -> bool:
    return bool(a) and bool(b) and os.path.realpath(a) == os.path.realpath(b)
