"""The generation flow of the main window: Generate, Stop and Regenerate Selection, the
engine calls that make them (through the window's `EngineHost`, in a worker thread), the
streamed chunks drawn on the music lane and written to the player as they arrive, and the new
take each one makes (an undoable switch to it, `takes.UseTakeCommand`).

`GenerationFlow` is a QObject the window creates; the window wires the prompt panel, the
Music menu and the keys to it, and says it is busy while `worker` runs. A stopped
generation keeps what arrived as a partial take; a stopped job's late chunks and progress
reports are ignored (each job gets its own progress relay).
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore

from robin_studio.app.takes import (GenRequest, MusicState, Take, UseTakeCommand,
                                    cut_state as _cut_state, take_id_of)
from robin_studio.app.timeline import format_time
from robin_studio.app.workers import ProgressRelay, generation_worker, to_engine_settings
from robin_studio.errors import CancelledError
from robin_studio.generate.regions import region_span


def piece_tempo_map(piece):
    """The tempo map of an engine piece (None for a take stopped before the engine finished)."""
    return getattr(piece, "tempo_map", None)


class GenerationFlow(QtCore.QObject):
    """Generate, regenerate and stop; the streamed music and the takes it makes."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.worker = None                          # the running generation, None when idle
        self.job = None                             # its engine job (to cancel), once known
        self.request: GenRequest | None = None      # what the running generation was asked
        self.relay = self._new_relay()              # the progress relay the status bar shows
        self.pushing_new_take = False   # a new take is being put in use (the panel shows it already)

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def claim_progress(self) -> ProgressRelay:
        """A fresh progress relay for another engine job (re-timing, conforming): its reports
        are shown, an earlier job's no longer."""
        self.relay = self._new_relay()
        return self.relay

    def _new_relay(self) -> ProgressRelay:
        """One relay per generation: a stopped job's late progress reports go nowhere."""
        relay = ProgressRelay(self)
        relay.progress.connect(self._progress)
        return relay

    def _progress(self, fraction: float, message: str) -> None:
        if self.sender() is self.relay:
            self.window.show_progress(fraction, message or "Generating\u2026")

    def generate(self) -> None:
        if self.window.busy:
            return
        if self.window.analysis is None:
            self.window.set_status("Open a clip and wait for its analysis before generating.")
            return
        self.window.prompt_panel.flush()
        text, settings = self.window.prompt_panel.text(), self.window.prompt_panel.settings()
        self.window.project.remember_prompt(text)
        self.window.prompt_panel.set_history(self.window.project.prompt_history)
        self.window.project_flow.replay = []
        self.start(GenRequest("generate", text, self.window.prompt_panel.engine_prompt(), settings,
                                          settings.seed))

    def regenerate_selection(self) -> None:
        if self.window.busy:
            return
        sel = self.window.timeline.selection_s()
        cur = self.window.takes.current_take()
        if self.window.piece is None or sel is None or cur is None:
            self.window.set_status("Generate first, then select a region (drag on the music lane, or I and O).")
            return
        if not cur.complete:
            self.window.set_status(f"{cur.name} was stopped before it was finished; generate the whole clip "
                            "again to regenerate parts of it.")
            return
        self.window.prompt_panel.flush()
        text, settings = self.window.prompt_panel.text(), self.window.prompt_panel.settings()
        self.window.project.remember_prompt(text)
        self.window.prompt_panel.set_history(self.window.project.prompt_history)
        # A fresh seed per take, derived from the panel's seed and the take's number, so a
        # project replays the same takes.
        seed = (settings.seed * 7919 + 1 + self.window.takes.next_number() * 104729) % (2**31 - 1)
        self.start(GenRequest("regenerate", text, self.window.prompt_panel.engine_prompt(), settings,
                                          seed, region=sel, parent=cur.number))

    def start(self, req: GenRequest) -> None:
        self.window.pause()
        if self.window.transport.ab.isChecked():
            self.window.transport.ab.setChecked(False)
        self.request = req
        self.relay = self._new_relay()
        analysis, relay = req.analysis or self.window.analysis, self.relay
        engine_prompt, seed, panel_settings = req.engine_prompt, req.seed, req.settings
        panel_settings = self.window.markers.with_markers(panel_settings)   # hit points, ignored cuts
        rec = req.record
        if rec is not None and rec.hit_points is not None:   # a saved take: the markers it had
            panel_settings.hit_points = list(rec.hit_points)
            panel_settings.ignored_cuts_s = list(rec.ignored_cuts_s or [])
        if req.markers is None:
            parent = self.window.takes.any_take(req.parent) if req.kind != "generate" else None
            req.markers = ((list(panel_settings.hit_points), list(panel_settings.ignored_cuts_s))
                           if parent is None else (parent.hit_points, parent.ignored_cuts_s))

        if req.kind == "generate":
            self.window.timeline.clear_music()
            self.window.timeline.set_pending((0.0, self.window.duration_s))
            self.window.timeline.set_take_label(f"Take {self._take_number(req)}: generating\u2026")
            self.window.player.set_audio(np.zeros((0, 2), np.float32))

            def start(scorer):
                # The engine process converts the panel's settings itself, so the window
                # never imports the engine; an in-process Scorer gets them converted here.
                settings = (panel_settings if getattr(scorer, "takes_panel_settings", False)
                            else to_engine_settings(panel_settings, seed))
                return scorer.generate(analysis, engine_prompt, seed=seed, settings=settings,
                                       progress=relay.callback)
            self.window.show_progress(0.0, "Generating\u2026")
        else:
            a, b = req.region
            piece = self.window.takes.any_take(req.parent).state.piece
            self.window.timeline.set_pending((a, b))

            def start(scorer):
                return scorer.regenerate(piece, a, b, seed=seed, prompt=engine_prompt,
                                         progress=relay.callback)
            self.window.show_progress(0.0, f"Regenerating {format_time(a)}\u2013{format_time(b)}\u2026")

        worker = generation_worker(self.window.host, start)
        worker.yielded.connect(self._yielded)
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        worker.finished.connect(self._finished)
        self.worker = worker
        self.job = None
        self.window.busyChanged.emit(True)
        self.window.update_state()
        worker.start()

    def _take_number(self, req: GenRequest) -> int:
        return req.record.number if req.record is not None and req.record.number else self.window.takes.next_number()

    def _yielded(self, item) -> None:
        if not self._from_current(self.worker):
            return  # a stopped worker's late chunks
        kind, value = item
        if kind == "job":
            self.job = value
            return
        chunk = value
        self.window.timeline.add_chunk(chunk.index, chunk.start_s, chunk.end_s, chunk.spectrogram)
        self.window.player.write(chunk.start_s, chunk.audio)
        region = self.request.region
        total = region[1] if region else self.window.duration_s
        start = region[0] if region else 0.0
        frac = (chunk.end_s - start) / max(1e-6, total - start)
        self.window.show_progress(frac, f"{'Regenerating' if region else 'Generating'}: "
                                  f"bars {chunk.bar_start + 1}\u2013{chunk.bar_end} "
                                  f"(up to {format_time(chunk.end_s)})")
        self.window.chunkShown.emit(int(chunk.index))

    def _returned(self, piece) -> None:
        if piece is None or not self._from_current(self.worker):
            return
        req = self.request
        state = self._music_state(piece)
        span = None
        if req.kind == "regenerate":
            tm = piece_tempo_map(piece)
            rs = region_span(tm, req.region[0], req.region[1], self.window.duration_s)
            span = (rs.audio_start_s, rs.audio_end_s)
        if req.record is not None and req.record.partial_until_s is not None:
            state = _cut_state(state, req.record.partial_until_s)
        take = self.add_take(req, state, span)
        if take is None:
            return
        # An asked tempo that leaves cuts off the beat says so (and what a free tempo gives).
        advice = getattr(piece, "tempo_advice", "") if req.kind == "generate" else ""
        self.window.prompt_panel.set_note(advice)
        self.window.set_status(f"{take.describe()}: done. "
                        + (advice or "Play it, select a region to regenerate, or export."))

    def add_take(self, req: GenRequest, state: MusicState, span, partial_until_s=None) -> Take | None:
        """A new take in the list; in a normal session it is put in use by an undoable switch.
        While a project is replayed, takes are put back as they were (no undo history)."""
        rec = req.record
        number = self._take_number(req)
        name = (rec.name if rec is not None and rec.name else f"Take {number}")
        take = Take(number, req.kind, name, req.text, req.engine_prompt, req.settings, req.seed, state,
                    region_s=req.region, changed_s=span, parent=req.parent,
                    partial_until_s=(rec.partial_until_s if rec is not None else partial_until_s))
        if req.markers is not None:
            take.hit_points, take.ignored_cuts_s = req.markers
        # The clip the music was made for: a regeneration or re-timing keeps its parent's
        # (an old cut's take stays of the old cut); a conform, the new clip now in the window.
        parent_take = self.window.takes.any_take(req.parent) if req.parent is not None else None
        if rec is not None and rec.clip_path:
            take.clip_path = rec.clip_path
        elif req.analysis is not None:
            take.clip_path = str(req.analysis.path)
        elif parent_take is not None and parent_take.clip_path and req.kind != "conform":
            take.clip_path = parent_take.clip_path
        else:
            take.clip_path = self.window.project.clip_path
        if rec is not None:
            if rec.created:
                take.created = rec.created
            if rec.deleted:
                self.window.takes.add_archived(take)
            else:
                self.window.takes.add(take)
            return take
        before = self.window.takes.current
        self.window.takes.add(take)
        verb = "Generate" if req.kind == "generate" else "Regenerate"
        cmd = UseTakeCommand(self.window.takes, before, number, self.window.apply_take, f"{verb} ({name})")
        self.pushing_new_take = True
        self.window.undo_stack.push(cmd)      # redo() puts the new take in use
        self.pushing_new_take = False
        self.window.dirty = True
        return take

    def _errored(self, err) -> None:
        if not self._from_current(self.worker):
            return
        self.window.show_current_take()   # nothing half-done stays on the lane
        self.window.project_flow.replay = []
        if isinstance(err, CancelledError):
            self.window.set_status("Stopped.")
            return
        self.window.show_error(err, "generating")

    def _finished(self) -> None:
        if not self._from_current(self.worker):
            return
        self.worker = None
        self.job = None
        self.window.hide_progress()
        self.window.timeline.set_pending(None)
        self.window.busyChanged.emit(False)
        self.window.update_state()
        self.window.project_flow.autosave()
        self.window.project_flow.continue_replay()

    def stop(self) -> None:
        worker, job, req = self.worker, self.job, self.request
        if worker is None:
            return
        if job is not None:
            try:
                job.cancel()
            except Exception:  # noqa: BLE001 - the job may have just finished
                pass
        worker.quit()
        self.relay = self._new_relay()   # the old job's progress is no longer shown
        # Forget the worker now: Stop takes effect at once for the user, and whatever the
        # thread still delivers is ignored (see the sender checks above).
        self.worker = None
        self.job = None
        self.window.project_flow.replay = []
        self.window.timeline.set_pending(None)
        self.window.hide_progress()
        chunks = self.window.lane_chunks()
        if req is not None and req.kind == "generate" and chunks:
            # What arrived is a take of its own (partial), kept in the list and in the undo
            # history: Ctrl+Z goes back to the take before it, Ctrl+Shift+Z brings it back.
            until = max(c[2] for c in chunks)
            state = MusicState(None, None, chunks, self.window.player.snapshot())
            take = self.add_take(GenRequest(req.kind, req.text, req.engine_prompt, req.settings, req.seed),
                                  state, None, partial_until_s=until)
            self.window.set_status(f"Stopped. The music generated so far is kept as {take.name} "
                            f"(up to {format_time(until)}).")
        else:
            if req is not None and req.kind == "regenerate":
                parent = self.window.takes.any_take(req.parent)
                # The engine may still finish the cancelled take; put its piece back on ours.
                piece = parent.state.piece if parent is not None else None
                resync = getattr(piece, "resync", None)
                if resync is not None and parent.state.take_id is not None:
                    resync(parent.state.take_id)
            self.window.show_current_take()
            self.window.set_status("Stopped. Nothing was changed.")
        self.window.busyChanged.emit(False)
        self.window.update_state()

    def _from_current(self, worker) -> bool:
        """Signals from a worker the window has since stopped or replaced are ignored."""
        return worker is not None and self.sender() is worker.signals

    def _music_state(self, piece) -> MusicState:
        return MusicState(piece, take_id_of(piece), self.window.lane_chunks())
