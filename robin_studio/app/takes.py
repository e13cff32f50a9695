"""Takes as first-class objects: the model behind the take list, and the undoable edits on it.

Every Generate and every Regenerate makes a `Take` (partial ones too: a stopped generation
keeps what arrived). A take stays in the list until the creator deletes it; undo and redo never
remove one, they switch which take is in use (`UseTakeCommand`), as a video editor's versions
do. Renaming and deleting are undoable commands as well. The model is a Qt table model (name,
prompt, seed, time, region) that the take panel shows; the window applies a take's
`MusicState` to the lane and the player when the model says which take is in use.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6 import QtCore, QtGui

from robin_studio.app.project import GenerationSettings, Project, TakeRecord


def format_span(span: tuple[float, float] | None) -> str:
    if span is None:
        return "whole clip"
    a, b = span
    return f"{_clock(a)}\u2013{_clock(b)}"


def _clock(t_s: float) -> str:
    m, s = divmod(max(0.0, float(t_s)), 60.0)
    return f"{int(m)}:{s:04.1f}"


def take_id_of(piece) -> int | None:
    """The take in use: a RemotePiece says it; an in-process engine Piece keeps a history."""
    if piece is None:
        return None
    tid = getattr(piece, "current_take_id", None)
    return int(tid) if tid is not None else int(piece.takes.current_take.take_id)


@dataclass
class GenRequest:
    """One Generate or Regenerate on its way: what was asked, and from which take."""

    kind: str                                  # "generate" or "regenerate"
    text: str                                  # the prompt as typed
    engine_prompt: str                         # text + the panel's controls, as the engine gets it
    settings: GenerationSettings               # the panel's controls
    seed: int
    region: tuple[float, float] | None = None  # bars to regenerate (s)
    parent: int | None = None                  # the take regenerated
    record: TakeRecord | None = None           # set while a saved project is replayed
    first_chunk_s: float | None = None
    markers: tuple[list, list] | None = None   # (hit points as dicts, demoted cuts) it is made with
    analysis: object = None                    # the clip's analysis, when not the window's clip's

    def take_number(self, model: "TakesModel") -> int:
        """The number of the take this makes: a replayed take keeps its recorded one."""
        return self.record.number if self.record is not None and self.record.number else model.next_number()


@dataclass
class MusicState:
    """What the music lane and the player show for one take: the engine's piece (None for a
    take that was stopped before the engine finished it), which of the piece's takes, the
    chunk images drawn for it and, for a stopped take, the audio that arrived."""

    piece: Any
    take_id: int | None
    chunks: list[tuple[int, float, float, np.ndarray]]   # (index, start_s, end_s, spectrogram)
    audio: np.ndarray | None = None                       # only when `piece` is None


@dataclass
class Take:
    number: int                       # stable label number ("Take 3"), never reused
    kind: str                         # "generate" or "regenerate"
    name: str
    text: str                         # the prompt as typed
    engine_prompt: str                # the prompt as the engine got it (text + controls)
    settings: GenerationSettings      # the panel's controls when it was made
    seed: int
    state: MusicState
    region_s: tuple[float, float] | None = None     # the bars regenerated (s), as asked
    changed_s: tuple[float, float] | None = None    # the audio that changed (release tail too)
    parent: int | None = None         # the take it was made from (regenerate)
    partial_until_s: float | None = None            # stopped: music only up to here
    created: float = field(default_factory=time.time)
    hit_points: list | None = None    # the hit points ({"time_s", "strong"}) it was made with
    ignored_cuts_s: list | None = None               # and the cuts demoted then
    clip_path: str = ""               # the clip it was made for (Replace Video changes the clip)

    @property
    def complete(self) -> bool:
        return self.partial_until_s is None

    def describe(self) -> str:
        what = ("Generate" if self.kind == "generate" else "hit points re-timed" if self.kind == "retime"
                else "conformed to a re-edit" if self.kind == "conform"
                else f"Regenerate {format_span(self.region_s)}")
        if not self.complete:
            what += f", stopped at {_clock(self.partial_until_s)}"
        return f"{self.name} ({what})"


COLUMNS = ("Name", "Prompt", "Seed", "Time", "Region")


class TakesModel(QtCore.QAbstractTableModel):
    """The takes of the open clip, oldest first, and which one is in use."""

    currentChanged = QtCore.Signal(object)      # the Take in use (or None)

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.takes: list[Take] = []
        self.current: int | None = None          # Take.number in use
        self.archive: dict[int, Take] = {}        # every take made, deleted ones too
        self._next = 1
        self.window_clip = lambda: ""             # the clip now open (set by the window)

    # -- queries --------------------------------------------------------------------------
    def take(self, number: int | None) -> Take | None:
        return next((t for t in self.takes if t.number == number), None)

    def any_take(self, number: int | None) -> Take | None:
        """A take in the list or one deleted from it (its descendants still need it)."""
        return self.archive.get(number) if number is not None else None

    def current_take(self) -> Take | None:
        return self.take(self.current)

    def row_of(self, number: int | None) -> int:
        return next((i for i, t in enumerate(self.takes) if t.number == number), -1)

    def next_number(self) -> int:
        return self._next

    # -- edits (called by the commands below, and when a take is made) ---------------------
    def clear(self) -> None:
        self.beginResetModel()
        self.takes, self.current, self._next = [], None, 1
        self.archive = {}
        self.endResetModel()
        self.currentChanged.emit(None)

    def add(self, take: Take, row: int | None = None) -> None:
        row = len(self.takes) if row is None else row
        self.beginInsertRows(QtCore.QModelIndex(), row, row)
        self.takes.insert(row, take)
        self.archive[take.number] = take
        self._next = max(self._next, take.number + 1)
        self.endInsertRows()

    def add_archived(self, take: Take) -> None:
        """A deleted take brought back from a project only as an ancestor of listed ones."""
        self.archive[take.number] = take
        self._next = max(self._next, take.number + 1)

    def remove(self, number: int) -> int:
        row = self.row_of(number)
        if row < 0:
            return -1
        self.beginRemoveRows(QtCore.QModelIndex(), row, row)
        self.takes.pop(row)
        self.endRemoveRows()
        return row

    def set_current(self, number: int | None) -> None:
        old = self.current
        self.current = number
        for n in (old, number):
            r = self.row_of(n)
            if r >= 0:
                self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))
        self.currentChanged.emit(self.take(number))

    def set_name(self, number: int, name: str) -> None:
        t = self.take(number)
        if t is None:
            return
        t.name = name
        r = self.row_of(number)
        self.dataChanged.emit(self.index(r, 0), self.index(r, 0))

    def of_other_clip(self, t: Take) -> str:
        """The name of the clip `t` was made for when it is not the clip now open (a take of
        the cut before File > Replace Video), else ""."""
        now = self.window_clip()
        if not t.clip_path or not now or os.path.realpath(t.clip_path) == os.path.realpath(now):
            return ""
        return Path(t.clip_path).name

    def clip_changed(self) -> None:
        """The window's clip changed (Replace Video, or its undo): the marks are redrawn."""
        if self.takes:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.takes) - 1, len(COLUMNS) - 1))

    # -- Qt model ---------------------------------------------------------------------------
    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.takes)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=QtCore.Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == QtCore.Qt.Orientation.Horizontal and role == QtCore.Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index):
        f = QtCore.Qt.ItemFlag.ItemIsEnabled | QtCore.Qt.ItemFlag.ItemIsSelectable
        if index.column() == 0:
            f |= QtCore.Qt.ItemFlag.ItemIsEditable      # rename in place (F2 or double click)
        return f

    def data(self, index, role=QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        t = self.takes[index.row()]
        col = index.column()
        R = QtCore.Qt.ItemDataRole
        if role in (R.DisplayRole, R.EditRole):
            if col == 0:
                mark = "\u25b6 " if (t.number == self.current and role == R.DisplayRole) else ""
                return mark + t.name
            if col == 1:
                return t.text or "(no prompt)"
            if col == 2:
                return str(t.seed)
            if col == 3:
                return time.strftime("%H:%M:%S", time.localtime(t.created))
            if col == 4:
                span = format_span(t.region_s)
                span = span if t.complete else f"{span}, stopped at {_clock(t.partial_until_s)}"
                other = self.of_other_clip(t)
                return f"{span} (of {other})" if other else span
        if role == R.ToolTipRole:
            other = self.of_other_clip(t)
            made_for = (f"Made for {other}, an earlier cut: its music follows that cut, not the "
                        "video now open.\n") if other else ""
            return (f"{t.describe()}\n{made_for}Prompt: {t.engine_prompt or '(none)'}\nSeed: {t.seed}\n"
                    "Click to hear and see this take; F2 renames; Delete removes it.")
        if role == R.FontRole and t.number == self.current:
            f = QtGui.QFont()
            f.setBold(True)
            return f
        return None

    def setData(self, index, value, role=QtCore.Qt.ItemDataRole.EditRole):  # noqa: N802
        if index.column() != 0 or role != QtCore.Qt.ItemDataRole.EditRole:
            return False
        name = str(value).strip()
        t = self.takes[index.row()]
        if not name or name == t.name:
            return False
        self.renameRequested.emit(t.number, name)
        return False     # the undoable command does the renaming

    renameRequested = QtCore.Signal(int, str)


class UseTakeCommand(QtGui.QUndoCommand):
    """Switch the take in use (after a Generate/Regenerate, or a click in the take list)."""

    def __init__(self, model: TakesModel, before: int | None, after: int,
                 apply: Callable[[Take | None], None], text: str) -> None:
        super().__init__(text)
        self.model, self.before, self.after, self._apply = model, before, after, apply

    def redo(self) -> None:
        self.model.set_current(self.after)
        self._apply(self.model.take(self.after))

    def undo(self) -> None:
        self.model.set_current(self.before)
        self._apply(self.model.take(self.before))


class RenameTakeCommand(QtGui.QUndoCommand):
    def __init__(self, model: TakesModel, number: int, name: str) -> None:
        t = model.take(number)
        super().__init__(f"Rename {t.name} to {name}")
        self.model, self.number, self.old, self.new = model, number, t.name, name

    def redo(self) -> None:
        self.model.set_name(self.number, self.new)

    def undo(self) -> None:
        self.model.set_name(self.number, self.old)


class DeleteTakeCommand(QtGui.QUndoCommand):
    """Delete a take; deleting the one in use switches to the take it was made from (or the
    newest other one). Undo puts it back where it was."""

    def __init__(self, model: TakesModel, number: int, apply: Callable[[Take | None], None]) -> None:
        t = model.take(number)
        super().__init__(f"Delete {t.name}")
        self.model, self.take, self._apply = model, t, apply
        self.row = model.row_of(number)
        self.was_current = model.current == number
        self.fallback: int | None = None
        if self.was_current:
            others = [x for x in model.takes if x.number != number]
            parent = model.take(t.parent)
            pick = parent if parent is not None else (others[-1] if others else None)
            self.fallback = pick.number if pick is not None else None

    def redo(self) -> None:
        self.model.remove(self.take.number)
        if self.was_current:
            self.model.set_current(self.fallback)
            self._apply(self.model.take(self.fallback))

    def undo(self) -> None:
        self.model.add(self.take, self.row)
        if self.was_current:
            self.model.set_current(self.take.number)
            self._apply(self.take)


# -- takes in a project file ----------------------------------------------------------------
def settings_dict(settings: GenerationSettings) -> dict:
    return {"seed": settings.seed, "tempo_bpm": settings.tempo_bpm, "key": settings.key,
            "instruments": dict(settings.instruments), "styles": list(settings.styles)}


def take_records(project: Project) -> list[TakeRecord]:
    """A project's takes in the order to make them again. A version 1 project holds the
    generated piece (from the project's prompt and controls) and its regenerations in order."""
    if any(r.kind == "generate" or r.number for r in project.takes):
        return sorted(project.takes, key=lambda r: r.number)
    records: list[TakeRecord] = []
    if project.generated:
        s = project.settings
        records.append(TakeRecord(0.0, 0.0, s.seed, _compose_prompt(project.prompt, s), kind="generate",
                                  number=1, name="Take 1", text=project.prompt,
                                  settings=settings_dict(s)))
    for r in project.takes:
        n = len(records) + 1
        records.append(TakeRecord(r.start_s, r.end_s, r.seed, r.prompt, r.created, kind="regenerate",
                                  number=n, name=f"Take {n}", parent=n - 1, text=project.prompt,
                                  settings=settings_dict(project.settings)))
    return records


def cut_state(state: MusicState, until_s: float) -> MusicState:
    """A whole take cut back to a stopped take's length (a project replays a stopped take
    by generating it whole, the same music, and keeping what had arrived)."""
    audio = np.asarray(state.piece.audio, dtype=np.float32).copy()
    audio[int(round(until_s * audio.shape[0] / max(1e-9, piece_duration(state.piece, audio)))):] = 0.0
    chunks = [c for c in state.chunks if c[2] <= until_s + 1e-6]
    return MusicState(None, None, chunks, audio)


def piece_duration(piece, audio) -> float:
    return audio.shape[0] / float(getattr(piece, "sample_rate", 48_000))


def _compose_prompt(text, settings) -> str:
    from robin_studio.app.prompt_panel import compose_prompt
    return compose_prompt(text, settings)
