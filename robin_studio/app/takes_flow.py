"""The takes flow of the editor: which take is in use and what the music lane and the player
show for it.

`MusicLane` is the music lane and the player as one view of a take's music (its chunk images,
its audio, the beat grid of its tempo map). `TakesFlow` puts a take in use and keeps the rest
of the editor in step with it: a new take from a generation, a click in the take list, rename
and delete (each an undoable command from `takes`), undo and redo (they switch the take in
use, they never remove one), the A/B comparison with the take it was made from, and the
selection, which snaps to the bars of the take in use that a regeneration would change.

The flow talks to narrow interfaces: the `ClipSession` (project, piece, duration, dirty), the
`TakesModel` and the undo stack, the prompt panel, the A/B button, `Feedback` for messages,
and two calls of the window's transport (`is_busy`, `seek`). It says when what can be done
changed by `stateChanged`; the window refreshes its actions then.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio.app.session import ClipSession, Feedback
from robin_studio.app.takes import (DeleteTakeCommand, GenRequest, MusicState, RenameTakeCommand, Take,
                                    TakesModel, UseTakeCommand, take_id_of)
from robin_studio.app.timeline import Timeline, format_time
from robin_studio.generate.regions import region_span
from robin_studio.timing.grid import cuts_on_beats, grid_lines


def piece_tempo_map(piece):
    """The tempo map of an engine piece (None for a take stopped before the engine finished)."""
    return getattr(piece, "tempo_map", None)


def tempo_grid(tempo_map, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat times (s) up to `duration_s`, from the timing package's grid."""
    lines = grid_lines(tempo_map, 0.0, duration_s)
    beats = np.array([g.time_s for g in lines], dtype=float)
    downbeats = np.array([g.time_s for g in lines if g.is_downbeat], dtype=float)
    return beats, downbeats


def cut_flags(tempo_map, cut_times_s) -> list[bool]:
    """Which cuts sit on a beat of the tempo map (the timing package's tolerance)."""
    return cuts_on_beats(tempo_map, list(cut_times_s))


class MusicLane:
    """The music lane of the timeline and the player, showing one take's music."""

    def __init__(self, timeline: Timeline, player, session: ClipSession) -> None:
        self.timeline, self.player, self.session = timeline, player, session
        self._grid_of = None           # the tempo map the drawn grid belongs to

    def chunks(self) -> list[tuple[int, float, float, np.ndarray]]:
        """The lane's chunks as (index, start s, end s, spectrogram)."""
        return [(c.index, c.start_s, c.end_s, c.image.image) for c in self.timeline.chunk_items]

    def clear_timeline(self) -> None:
        """An empty timeline for another clip; the beat grid is drawn again for it."""
        self.timeline.clear()
        self._grid_of = None

    def start_music(self, label: str) -> None:
        """A generation of the whole clip begins: an empty lane, silence, the pending span."""
        self.timeline.clear_music()
        self.timeline.set_pending((0.0, self.session.duration_s))
        self.timeline.set_take_label(label)
        self.player.set_audio(np.zeros((0, 2), np.float32))

    def add_chunk(self, chunk) -> None:
        """A streamed chunk: drawn on the lane and written to the player where it plays."""
        self.timeline.add_chunk(chunk.index, chunk.start_s, chunk.end_s, chunk.spectrogram)
        self.player.write(chunk.start_s, chunk.audio)

    def _no_grid(self) -> None:
        self.timeline.set_grid([], [])
        self._grid_of = None

    def show(self, state: MusicState | None) -> None:
        """Draw and play `state` (a take's music); the take in use is not changed."""
        if state is None:
            self.session.piece = None
            self.timeline.clear_music()
            self.player.set_audio(np.zeros((0, 2), np.float32))
            self._no_grid()
            return
        self.session.piece = state.piece
        if state.piece is not None and state.take_id is not None \
                and take_id_of(state.piece) != state.take_id:
            state.piece.select_take(state.take_id)   # the engine swaps notes and audio
        shown = self.chunks()
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
                self._no_grid()
            return
        self.player.set_audio(np.asarray(state.piece.audio, dtype=np.float32))
        tm = piece_tempo_map(state.piece)
        key = tm.to_dict() if tm is not None else None
        if tm is not None and key != self._grid_of:
            self.timeline.set_grid(*tempo_grid(tm, self.session.duration_s),
                                   on_beat=cut_flags(tm, self.timeline.cut_times_s))
            self._grid_of = key


class TakesFlow(QtCore.QObject):
    """The take in use, its edits and undo, A/B, and the selection over it (see the module doc)."""

    stateChanged = QtCore.Signal()      # what can be done (undo, A/B, regenerate...) may differ

    def __init__(self, parent: QtCore.QObject, session: ClipSession, model: TakesModel,
                 undo_stack: QtGui.QUndoStack, lane: MusicLane, prompt_panel, ab_button: QtWidgets.QAbstractButton,
                 feedback: Feedback, is_busy: Callable[[], bool], seek: Callable[[float], None]) -> None:
        super().__init__(parent)
        self.session, self.model, self.undo_stack, self.lane = session, model, undo_stack, lane
        self.prompt_panel, self.ab_button, self.feedback = prompt_panel, ab_button, feedback
        self._busy, self._seek = is_busy, seek
        self.ab_side = "A"
        self.pushing_new_take = False   # a new take is being put in use (the panel shows it already)
        undo_stack.indexChanged.connect(self._undo_index_changed)
        model.renameRequested.connect(self.rename)
        lane.timeline.selectionChanged.connect(self.snap_selection)

    # -- the take in use -------------------------------------------------------------------
    def show_current(self) -> None:
        """Draw and play the take in use (or no music), and label the lane."""
        cur = self.model.current_take()
        self.lane.show(cur.state if cur is not None else None)
        self.label_lane()

    def apply(self, take: Take | None, panel: bool = True) -> None:
        """Put `take` in use: the lane, the player, the lane's label and (after undo, redo or a
        click in the take list) the prompt panel show what made it."""
        self._set_ab_side(False)
        self.lane.show(take.state if take is not None else None)
        self.label_lane()
        if take is not None and panel and not self.pushing_new_take:
            self.prompt_panel.apply(take.text, take.settings)
        if self.lane.timeline.selection_s() is not None:
            self.snap_selection(self.lane.timeline.selection_s())
        self.stateChanged.emit()

    def label_lane(self, side: str = "A") -> None:
        cur = self.model.current_take()
        if cur is None:
            self.lane.timeline.set_take_label("")
        elif side == "B":
            self.lane.timeline.set_take_label(f"B: {self.ab_parent().describe()}  (A: {cur.name})")
        else:
            self.lane.timeline.set_take_label(("A: " if self.ab_button.isEnabled() else "") + cur.describe())

    def add_take(self, req: GenRequest, state: MusicState, span, partial_until_s=None) -> Take:
        """A new take in the list; in a normal session it is put in use by an undoable switch.
        While a project is replayed, takes are put back as they were (no undo history)."""
        rec = req.record
        number = req.take_number(self.model)
        name = (rec.name if rec is not None and rec.name else f"Take {number}")
        take = Take(number, req.kind, name, req.text, req.engine_prompt, req.settings, req.seed, state,
                    region_s=req.region, changed_s=span, parent=req.parent,
                    partial_until_s=(rec.partial_until_s if rec is not None else partial_until_s))
        if req.markers is not None:
            take.hit_points, take.ignored_cuts_s = req.markers
        # The clip the music was made for: a regeneration or re-timing keeps its parent's
        # (an old cut's take stays of the old cut); a conform, the new clip now in the window.
        parent_take = self.model.any_take(req.parent) if req.parent is not None else None
        if rec is not None and rec.clip_path:
            take.clip_path = rec.clip_path
        elif req.analysis is not None:
            take.clip_path = str(req.analysis.path)
        elif parent_take is not None and parent_take.clip_path and req.kind != "conform":
            take.clip_path = parent_take.clip_path
        else:
            take.clip_path = self.session.project.clip_path
        if rec is not None:
            if rec.created:
                take.created = rec.created
            if rec.deleted:
                self.model.add_archived(take)
            else:
                self.model.add(take)
            return take
        before = self.model.current
        self.model.add(take)
        verb = "Generate" if req.kind == "generate" else "Regenerate"
        cmd = UseTakeCommand(self.model, before, number, self.apply, f"{verb} ({name})")
        self.pushing_new_take = True
        self.undo_stack.push(cmd)      # redo() puts the new take in use
        self.pushing_new_take = False
        self.session.dirty = True
        return take

    # -- the take list's edits, undo and redo ------------------------------------------------
    def use(self, number: int) -> None:
        """A click in the take list: hear and see that take (undoable)."""
        if self._busy() or number == self.model.current:
            return
        take = self.model.take(number)
        if take is None:
            return
        self.undo_stack.push(UseTakeCommand(self.model, self.model.current, number, self.apply,
                                            f"Use {take.name}"))
        self.feedback.set_status(f"Using {take.describe()}.")

    def delete(self, number: int) -> None:
        if self._busy() or self.model.take(number) is None:
            return
        cmd = DeleteTakeCommand(self.model, number, self.apply)
        self.undo_stack.push(cmd)
        self.feedback.set_status(f"{cmd.text()}. Ctrl+Z brings it back.")

    def rename(self, number: int, name: str) -> None:
        if self.model.take(number) is not None:
            self.undo_stack.push(RenameTakeCommand(self.model, number, name))
            self.label_lane()

    def undo(self) -> None:
        if self._busy():
            self.feedback.set_status("Stop generating before undoing.")
            return
        text = self.undo_stack.undoText()
        if text:
            self.undo_stack.undo()
            self._say_take(f"Undid \u201c{text}\u201d")

    def redo(self) -> None:
        text = self.undo_stack.redoText()
        if text and not self._busy():
            self.undo_stack.redo()
            self._say_take(f"Redid \u201c{text}\u201d")

    def _say_take(self, what: str) -> None:
        cur = self.model.current_take()
        self.feedback.set_status(f"{what}: now using {cur.describe()}." if cur is not None
                                 else f"{what}: no music.")

    def _undo_index_changed(self, _index: int) -> None:
        self.session.dirty = True
        self.stateChanged.emit()

    # -- A/B ----------------------------------------------------------------------------------
    def ab_parent(self) -> Take | None:
        """The take the one in use was made from (A/B compares the two)."""
        cur = self.model.current_take()
        if cur is None or cur.parent is None:
            return None
        parent = self.model.any_take(cur.parent)
        return parent if parent is not None and parent.state.piece is not None else None

    def _set_ab_side(self, b_side: bool) -> None:
        self.ab_side = "B" if b_side else "A"
        if self.ab_button.isChecked() != bool(b_side):
            self.ab_button.blockSignals(True)
            self.ab_button.setChecked(bool(b_side))
            self.ab_button.blockSignals(False)

    def leave_ab(self) -> None:
        """Back to A (the take in use), as the A/B button does when it is released."""
        if self.ab_button.isChecked():
            self.ab_button.setChecked(False)

    def set_ab(self, b_side: bool) -> None:
        """A/B compare: B draws and plays the take the current one was made from, A the
        current take. The take in use does not change."""
        parent, cur = self.ab_parent(), self.model.current_take()
        if parent is None or cur is None or self._busy():
            self._set_ab_side(False)
            return
        if b_side == (self.ab_side == "B"):
            self._set_ab_side(b_side)
            return
        self._set_ab_side(b_side)
        self.lane.show(parent.state if b_side else cur.state)
        self.label_lane("B" if b_side else "A")
        region = cur.changed_s or cur.region_s or (0.0, self.session.duration_s)
        self.feedback.set_status(f"{'B: ' + parent.name + ' (before)' if b_side else 'A: ' + cur.name + ' (in use)'}"
                                 f", compare {format_time(region[0])}\u2013{format_time(region[1])}")
        if b_side and not self.lane.player.playing:
            self._seek(region[0])
        self.stateChanged.emit()

    # -- the selection over the take in use ----------------------------------------------------
    def snap_selection(self, sel) -> None:
        """With music on the lane, a selection snaps to the bars it touches, and the span
        whose audio will change (attack lead and release tail included) is drawn around it:
        what Ctrl+R changes is exactly what is shown."""
        timeline, status = self.lane.timeline, self.feedback.set_status
        tm = piece_tempo_map(self.session.piece)
        if sel is not None and tm is not None and self.session.duration_s > 0:
            rs = region_span(tm, sel[0], sel[1], self.session.duration_s)
            snapped = (rs.bars_start_s, rs.bars_end_s)
            if abs(snapped[0] - sel[0]) > 1e-6 or abs(snapped[1] - sel[1]) > 1e-6:
                timeline.set_selection(*snapped, emit=False)
            timeline.set_change_span((rs.audio_start_s, rs.audio_end_s))
            sel = snapped
            status(f"Selected bars {rs.bar_start + 1}\u2013{rs.bar_end} "
                   f"({format_time(sel[0])}\u2013{format_time(sel[1])}); the music changes from "
                   f"{format_time(rs.audio_start_s)} to {format_time(rs.audio_end_s)} "
                   "(release tail included). Regenerate: Ctrl+R.")
        else:
            timeline.set_change_span(None)
            if sel is not None:
                status(f"Selected {format_time(sel[0])}\u2013{format_time(sel[1])} "
                       f"({sel[1] - sel[0]:.1f} s). Generate first to regenerate a part.")
        self.session.project.selection_s = sel
        self.stateChanged.emit()
