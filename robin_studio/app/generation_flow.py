"""The generation flow of the editor: Generate, Stop and Regenerate Selection, the engine
calls that make them (through the `EngineHost`, in a worker thread), the streamed chunks drawn
on the music lane and written to the player as they arrive, and the new take each one makes
(put in use by the takes flow, an undoable switch).

`GenerationFlow` talks to narrow interfaces, never to the window's attributes: the
`ClipSession` (analysis, project, piece), the prompt panel (what is asked), the `MusicLane`
(chunks drawn and played), the `TakesFlow` (the takes made and the one in use) and `Feedback`
(status, progress, errors). It says what happened by signals the window wires: `busyChanged`,
`chunkShown`, `starting` (playback pauses), `replayAbandoned` (a project's replay ends),
`jobDone` (autosave, replay goes on) and `stateChanged` (the actions are refreshed). A stopped
generation keeps what arrived as a partial take; a stopped job's late chunks and progress
reports are ignored (each job gets its own progress relay).
"""

from __future__ import annotations

from PySide6 import QtCore

from robin_studio.app.session import ClipSession, Feedback
from robin_studio.app.takes import GenRequest, MusicState, Take, cut_state as _cut_state, take_id_of
from robin_studio.app.takes_flow import MusicLane, TakesFlow, piece_tempo_map  # noqa: F401 - re-exported
from robin_studio.app.timeline import format_time
from robin_studio.app.workers import EngineHost, ProgressRelay, generation_worker, to_engine_settings
from robin_studio.errors import CancelledError
from robin_studio.generate.regions import region_span


class GenerationFlow(QtCore.QObject):
    """Generate, regenerate and stop; the streamed music and the takes it makes."""

    busyChanged = QtCore.Signal(bool)
    chunkShown = QtCore.Signal(int)          # a chunk reached the music lane (index)
    starting = QtCore.Signal()               # a generation is about to start
    replayAbandoned = QtCore.Signal()        # a new generation, a stop or an error ends a replay
    jobDone = QtCore.Signal()                # a generation ended by itself (done or failed)
    stateChanged = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject, session: ClipSession, host: EngineHost, prompt_panel,
                 lane: MusicLane, takes: TakesFlow, feedback: Feedback) -> None:
        super().__init__(parent)
        self.session, self.host, self.prompt_panel = session, host, prompt_panel
        self.lane, self.takes, self.feedback = lane, takes, feedback
        self.with_markers = lambda settings: settings   # adds the hit points (the markers panel sets it)
        self.worker = None                          # the running generation, None when idle
        self.job = None                             # its engine job (to cancel), once known
        self.request: GenRequest | None = None      # what the running generation was asked
        self.relay = self._new_relay()              # the progress relay the status bar shows

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
            self.feedback.show_progress(fraction, message or "Generating\u2026")

    def generate(self) -> None:
        if self.busy:
            return
        if self.session.analysis is None:
            self.feedback.set_status("Open a clip and wait for its analysis before generating.")
            return
        self.prompt_panel.flush()
        text, settings = self.prompt_panel.text(), self.prompt_panel.settings()
        self.session.project.remember_prompt(text)
        self.prompt_panel.set_history(self.session.project.prompt_history)
        self.replayAbandoned.emit()
        self.start(GenRequest("generate", text, self.prompt_panel.engine_prompt(), settings,
                                          settings.seed))

    def regenerate_selection(self) -> None:
        if self.busy:
            return
        sel = self.lane.timeline.selection_s()
        cur = self.takes.model.current_take()
        if self.session.piece is None or sel is None or cur is None:
            self.feedback.set_status("Generate first, then select a region (drag on the music lane, or I and O).")
            return
        if not cur.complete:
            self.feedback.set_status(f"{cur.name} was stopped before it was finished; generate the whole clip "
                            "again to regenerate parts of it.")
            return
        self.prompt_panel.flush()
        text, settings = self.prompt_panel.text(), self.prompt_panel.settings()
        self.session.project.remember_prompt(text)
        self.prompt_panel.set_history(self.session.project.prompt_history)
        # A fresh seed per take, derived from the panel's seed and the take's number, so a
        # project replays the same takes.
        seed = (settings.seed * 7919 + 1 + self.takes.model.next_number() * 104729) % (2**31 - 1)
        self.start(GenRequest("regenerate", text, self.prompt_panel.engine_prompt(), settings,
                                          seed, region=sel, parent=cur.number))

    def start(self, req: GenRequest) -> None:
        self.starting.emit()
        self.takes.leave_ab()
        self.request = req
        self.relay = self._new_relay()
        analysis, relay = req.analysis or self.session.analysis, self.relay
        engine_prompt, seed, panel_settings = req.engine_prompt, req.seed, req.settings
        panel_settings = self.with_markers(panel_settings)   # hit points, ignored cuts
        rec = req.record
        if rec is not None and rec.hit_points is not None:   # a saved take: the markers it had
            panel_settings.hit_points = list(rec.hit_points)
            panel_settings.ignored_cuts_s = list(rec.ignored_cuts_s or [])
        if req.markers is None:
            parent = self.takes.model.any_take(req.parent) if req.kind != "generate" else None
            req.markers = ((list(panel_settings.hit_points), list(panel_settings.ignored_cuts_s))
                           if parent is None else (parent.hit_points, parent.ignored_cuts_s))

        if req.kind == "generate":
            self.lane.start_music(f"Take {req.take_number(self.takes.model)}: generating\u2026")

            def start(scorer):
                # The engine process converts the panel's settings itself, so the window
                # never imports the engine; an in-process Scorer gets them converted here.
                settings = (panel_settings if getattr(scorer, "takes_panel_settings", False)
                            else to_engine_settings(panel_settings, seed))
                return scorer.generate(analysis, engine_prompt, seed=seed, settings=settings,
                                       progress=relay.callback)
            self.feedback.show_progress(0.0, "Generating\u2026")
        else:
            a, b = req.region
            piece = self.takes.model.any_take(req.parent).state.piece
            self.lane.timeline.set_pending((a, b))

            def start(scorer):
                return scorer.regenerate(piece, a, b, seed=seed, prompt=engine_prompt,
                                         progress=relay.callback)
            self.feedback.show_progress(0.0, f"Regenerating {format_time(a)}\u2013{format_time(b)}\u2026")

        worker = generation_worker(self.host, start)
        worker.yielded.connect(self._yielded)
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        worker.finished.connect(self._finished)
        self.worker = worker
        self.job = None
        self.busyChanged.emit(True)
        self.stateChanged.emit()
        worker.start()

    def _take_number(self, req: GenRequest) -> int:
        return req.record.number if req.record is not None and req.record.number else self.takes.model.next_number()

    def _yielded(self, item) -> None:
        if not self._from_current(self.worker):
            return  # a stopped worker's late chunks
        kind, value = item
        if kind == "job":
            self.job = value
            return
        chunk = value
        self.lane.add_chunk(chunk)
        region = self.request.region
        total = region[1] if region else self.session.duration_s
        start = region[0] if region else 0.0
        frac = (chunk.end_s - start) / max(1e-6, total - start)
        self.feedback.show_progress(frac, f"{'Regenerating' if region else 'Generating'}: "
                                  f"bars {chunk.bar_start + 1}\u2013{chunk.bar_end} "
                                  f"(up to {format_time(chunk.end_s)})")
        self.chunkShown.emit(int(chunk.index))

    def _returned(self, piece) -> None:
        if piece is None or not self._from_current(self.worker):
            return
        req = self.request
        state = self._music_state(piece)
        span = None
        if req.kind == "regenerate":
            tm = piece_tempo_map(piece)
            rs = region_span(tm, req.region[0], req.region[1], self.session.duration_s)
            span = (rs.audio_start_s, rs.audio_end_s)
        if req.record is not None and req.record.partial_until_s is not None:
            state = _cut_state(state, req.record.partial_until_s)
        take = self.add_take(req, state, span)
        if take is None:
            return
        # An asked tempo that leaves cuts off the beat says so (and what a free tempo gives).
        advice = getattr(piece, "tempo_advice", "") if req.kind == "generate" else ""
        self.prompt_panel.set_note(advice)
        self.feedback.set_status(f"{take.describe()}: done. "
                        + (advice or "Play it, select a region to regenerate, or export."))

    def add_take(self, req: GenRequest, state: MusicState, span, partial_until_s=None) -> Take:
        """A new take (`TakesFlow.add_take`); the markers panel adds its re-timed takes here."""
        return self.takes.add_take(req, state, span, partial_until_s)

    def _errored(self, err) -> None:
        if not self._from_current(self.worker):
            return
        self.takes.show_current()   # nothing half-done stays on the lane
        self.replayAbandoned.emit()
        if isinstance(err, CancelledError):
            self.feedback.set_status("Stopped.")
            return
        self.feedback.show_error(err, "generating")

    def _finished(self) -> None:
        if not self._from_current(self.worker):
            return
        self.worker = None
        self.job = None
        self.feedback.hide_progress()
        self.lane.timeline.set_pending(None)
        self.busyChanged.emit(False)
        self.stateChanged.emit()
        self.jobDone.emit()

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
        self.replayAbandoned.emit()
        self.lane.timeline.set_pending(None)
        self.feedback.hide_progress()
        chunks = self.lane.chunks()
        if req is not None and req.kind == "generate" and chunks:
            # What arrived is a take of its own (partial), kept in the list and in the undo
            # history: Ctrl+Z goes back to the take before it, Ctrl+Shift+Z brings it back.
            until = max(c[2] for c in chunks)
            state = MusicState(None, None, chunks, self.lane.player.snapshot())
            take = self.add_take(GenRequest(req.kind, req.text, req.engine_prompt, req.settings, req.seed),
                                  state, None, partial_until_s=until)
            self.feedback.set_status(f"Stopped. The music generated so far is kept as {take.name} "
                            f"(up to {format_time(until)}).")
        else:
            if req is not None and req.kind == "regenerate":
                parent = self.takes.model.any_take(req.parent)
                # The engine may still finish the cancelled take; put its piece back on ours.
                piece = parent.state.piece if parent is not None else None
                resync = getattr(piece, "resync", None)
                if resync is not None and parent.state.take_id is not None:
                    resync(parent.state.take_id)
            self.takes.show_current()
            self.feedback.set_status("Stopped. Nothing was changed.")
        self.busyChanged.emit(False)
        self.stateChanged.emit()

    def _from_current(self, worker) -> bool:
        """Signals from a worker the window has since stopped or replaced are ignored."""
        return worker is not None and self.sender() is worker.signals

    def _music_state(self, piece) -> MusicState:
        return MusicState(piece, take_id_of(piece), self.lane.chunks())
