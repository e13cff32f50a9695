"""Hit points and demoted cuts in the app, and File > Replace Video (re-conform).

- `MarkersModel`: the hit points (`timing.hits.HitPoint`) and the demoted cuts, plus the
  latest per-hit report from the engine (planned time, where the music put it, distance,
  the onset heard in the render). No widgets; it says `changed` when anything changes.
- `MarkerCommand`: every edit (add, move, remove, strong/soft, demote/restore a cut, and a
  replaced video) is one QUndoCommand holding the markers, and when music exists the take,
  tempo map and lane images, before and after: Ctrl+Z returns all of them together.
- `MarkerLane`: the markers on the timeline's picture lane: a red line for a strong hit
  point, yellow for a soft one (drag to move), a dashed grey line on a demoted cut.
- `MarkersPanel`: the list beside the prompt panel, with the report per hit point and the
  buttons (add at the playhead, strong/soft, remove, ignore/restore the cut at the playhead).
- `MarkersController` wires them into the window (`install_markers(window)`): M adds a hit
  point at the playhead, Delete removes the selected one; once music exists, an edit
  re-times it in the engine (`generate.hitpoints.retime_for_app`: only the bars around the
  change are generated again) and File > Replace Video conforms the music to a re-edited
  video (`generate.conform.conform_for_app`), showing the conform report.

The engine runs where the window's engine runs (its own process, see `engine_process`); an
in-process `Scorer` (tests) is called directly.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio.timing.hits import HitPoint, format_time

STRONG_COLOUR = (255, 80, 80, 235)
SOFT_COLOUR = (255, 215, 80, 235)
IGNORED_COLOUR = (160, 160, 170, 200)
SNAP_CUT_S = 0.25            # "ignore the cut at the playhead": the nearest cut this close
RETIME = "robin_studio.generate.hitpoints.retime_for_app"
REPORT = "robin_studio.generate.hitpoints.report_for_app"
CONFORM = "robin_studio.generate.conform.conform_for_app"
log = logging.getLogger("robin_studio.app")


@dataclass(frozen=True)
class MarkerState:
    hits: tuple[HitPoint, ...] = ()
    ignored_cuts_s: tuple[float, ...] = ()


def call_on_piece(scorer, piece, name: str, *args, progress=None):
    """Run an engine function on `piece`, in the engine's process when it has one."""
    if hasattr(scorer, "piece_call"):
        return scorer.piece_call(piece, name, *args, progress=progress)
    module, _, fn = name.rpartition(".")
    return getattr(importlib.import_module(module), fn)(scorer, piece, *args, progress=progress)


class MarkersModel(QtCore.QObject):
    changed = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.state = MarkerState()
        self.report: list = []          # timing.hits.HitLanding per hit point, from the engine

    @property
    def hits(self) -> tuple[HitPoint, ...]:
        return self.state.hits

    def set_state(self, state: MarkerState, report: list | None = None) -> None:
        self.state = MarkerState(tuple(sorted(state.hits, key=lambda h: h.time_s)),
                                 tuple(sorted(state.ignored_cuts_s)))
        if report is not None:
            self.report = list(report)
        self.changed.emit()

    # -- edits (each returns the new state; the controller makes it an undoable command) --
    def added(self, t_s: float, strong: bool = True) -> MarkerState:
        hits = [h for h in self.hits if abs(h.time_s - t_s) > 1e-3] + [HitPoint(float(t_s), strong)]
        return replace(self.state, hits=tuple(hits))

    def moved(self, index: int, t_s: float) -> MarkerState:
        hits = list(self.hits)
        hits[index] = HitPoint(float(t_s), hits[index].strong)
        return replace(self.state, hits=tuple(hits))

    def removed(self, index: int) -> MarkerState:
        return replace(self.state, hits=tuple(h for i, h in enumerate(self.hits) if i != index))

    def toggled(self, index: int) -> MarkerState:
        hits = list(self.hits)
        hits[index] = HitPoint(hits[index].time_s, not hits[index].strong)
        return replace(self.state, hits=tuple(hits))

    def cut_toggled(self, cut_s: float) -> MarkerState:
        ignored = [t for t in self.state.ignored_cuts_s if abs(t - cut_s) > 1e-3]
        if len(ignored) == len(self.state.ignored_cuts_s):
            ignored.append(float(cut_s))
        return replace(self.state, ignored_cuts_s=tuple(ignored))

    def landing(self, hit: HitPoint):
        return next((r for r in self.report if abs(r.time_s - hit.time_s) < 1e-4), None)


class MarkerCommand(QtGui.QUndoCommand):
    """One marker edit as an undoable step. With music, the controller groups it with the
    switch to the re-timed take (a macro), so Ctrl+Z returns both; a replaced video also
    switches the window's clip (`switch(after)`) and then redraws the take in use."""

    def __init__(self, text: str, model: MarkersModel, before: MarkerState, after: MarkerState,
                 report_before=None, report_after=None, switch=None, refresh=None) -> None:
        super().__init__(text)
        self.model, self.before, self.after = model, before, after
        self.reports = (report_before, report_after)
        self.switch, self.refresh = switch, refresh

    def _apply(self, after: bool) -> None:
        if self.switch is not None:
            self.switch(after)
        self.model.set_state(self.after if after else self.before, self.reports[1 if after else 0])
        if self.refresh is not None:
            self.refresh()

    def redo(self) -> None:
        self._apply(True)

    def undo(self) -> None:
        self._apply(False)


class MarkerLane(QtCore.QObject):
    """The markers drawn on the timeline's picture lane; drag a hit point to move it."""

    moveRequested = QtCore.Signal(int, float)

    def __init__(self, timeline, model: MarkersModel) -> None:
        super().__init__(timeline)
        self.timeline, self.model = timeline, model
        self.lines: list[pg.InfiniteLine] = []
        model.changed.connect(self.redraw)

    def redraw(self) -> None:
        lane = self.timeline.picture_lane
        for line in self.lines:
            lane.removeItem(line)
        self.lines = []
        for i, h in enumerate(self.model.hits):
            colour = STRONG_COLOUR if h.strong else SOFT_COLOUR
            line = pg.InfiniteLine(pos=h.time_s, angle=90, movable=True,
                                   pen=pg.mkPen(colour, width=3),
                                   hoverPen=pg.mkPen(colour, width=5),
                                   label="H" if h.strong else "h",
                                   labelOpts={"position": 0.15, "color": colour})
            line.setToolTip(f"Hit point {h.label()}: drag to move")
            line.setZValue(20)
            line.sigPositionChangeFinished.connect(lambda ln, i=i: self.moveRequested.emit(i, ln.value()))
            lane.addItem(line)
            self.lines.append(line)
        for t in self.model.state.ignored_cuts_s:
            line = pg.InfiniteLine(pos=t, angle=90, movable=False,
                                   pen=pg.mkPen(IGNORED_COLOUR, width=2, style=QtCore.Qt.PenStyle.DashLine))
            line.setToolTip(f"Cut at {format_time(t)} ignored by the music")
            line.setZValue(19)
            lane.addItem(line)
            self.lines.append(line)


class MarkersPanel(QtWidgets.QWidget):
    """The list of hit points and ignored cuts, with what the music did with each."""

    addRequested = QtCore.Signal()
    removeRequested = QtCore.Signal(int)
    toggleRequested = QtCore.Signal(int)
    cutRequested = QtCore.Signal()

    def __init__(self, model: MarkersModel, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("markersPanel")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        self.list = QtWidgets.QListWidget()
        self.list.setWordWrap(True)
        self.setMaximumWidth(300)
        self.list.setToolTip("Moments the music must mark. M adds one at the playhead; drag it "
                             "on the picture lane to move it; Delete removes it.")
        lay.addWidget(self.list, 1)
        row = QtWidgets.QHBoxLayout()
        self.add_button = QtWidgets.QPushButton("Add (M)")
        self.add_button.setToolTip("Add a hit point at the playhead")
        self.strong_button = QtWidgets.QPushButton("Strong/soft")
        self.strong_button.setToolTip("Strong: a downbeat and an accent with a cymbal. Soft: an accent.")
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected hit point (Delete)")
        for b in (self.add_button, self.strong_button, self.remove_button):
            b.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            row.addWidget(b)
        lay.addLayout(row)
        self.cut_button = QtWidgets.QPushButton("Ignore/restore the cut at the playhead")
        self.cut_button.setToolTip("A demoted cut gets no hit and need not land on a beat")
        self.cut_button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.cut_button)
        self.summary = QtWidgets.QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setObjectName("dim")
        lay.addWidget(self.summary)
        self.add_button.clicked.connect(self.addRequested)
        self.strong_button.clicked.connect(lambda: self._with_row(self.toggleRequested))
        self.remove_button.clicked.connect(lambda: self._with_row(self.removeRequested))
        self.cut_button.clicked.connect(self.cutRequested)
        model.changed.connect(self.refresh)
        self.refresh()

    def _with_row(self, signal) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.model.hits):
            signal.emit(row)

    def selected(self) -> int:
        row = self.list.currentRow()
        return row if 0 <= row < len(self.model.hits) else -1

    def row_texts(self) -> list[str]:
        out = []
        for h in self.model.hits:
            text = h.label()
            land = self.model.landing(h)
            if land is not None:
                text += (" \u2014 on the beat" if land.on_beat else
                         f" \u2014 hit where it falls ({land.distance_ms:+.0f} ms from the beat)")
                if land.heard_ms is not None:
                    text += f", heard {land.heard_ms:+.0f} ms"
            out.append(text)
        out += [f"cut {format_time(t)} ignored" for t in self.model.state.ignored_cuts_s]
        return out

    def refresh(self) -> None:
        row = self.list.currentRow()
        self.list.clear()
        self.list.addItems(self.row_texts())
        if 0 <= row < self.list.count():
            self.list.setCurrentRow(row)
        n = len(self.model.hits)
        on = sum(1 for h in self.model.hits if (lambda r: r is not None and r.on_beat)(self.model.landing(h)))
        self.summary.setText("" if not n or not self.model.report else
                             f"{on} of {n} hit point{'s' if n != 1 else ''} on a beat within 10 ms")


class MarkersController(QtCore.QObject):
    """Wires the markers into the window (see the module docstring)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.model = MarkersModel(self)
        self.lane = MarkerLane(window.timeline, self.model)
        self.panel = MarkersPanel(self.model)
        self._worker = None
        self._report_worker = None
        self.last_conform_lines: list[str] = []
        self.panel.addRequested.connect(self.add_at_playhead)
        self.panel.removeRequested.connect(lambda i: self.edit(self.model.removed(i), "Remove hit point"))
        self.panel.toggleRequested.connect(lambda i: self.edit(self.model.toggled(i), "Hit point strong/soft"))
        self.panel.cutRequested.connect(self.toggle_cut_at_playhead)
        self.lane.moveRequested.connect(self._moved)
        self.model.changed.connect(self._to_project)
        window.analysisReady.connect(self._from_project)
        window.busyChanged.connect(self._after_generation)

    def _after_generation(self, busy: bool) -> None:
        """After a Generate or Regenerate: ask the engine where the hit points landed and
        were heard, for the panel (in the background; the window does not wait)."""
        from robin_studio.app.workers import call_worker

        w = self.window
        if busy or w.piece is None or not self.model.hits or self._worker is not None:
            return
        piece, host, hits = w.piece, w.host, self.model.hits
        worker = call_worker(lambda: call_on_piece(host.scorer(), piece, REPORT))

        def done(data) -> None:
            if self._report_worker is worker and w.piece is piece and self.model.hits == hits:
                self.model.set_state(self.model.state, data.get("report", []))
            self._report_worker = None

        worker.returned.connect(done)
        worker.errored.connect(lambda err: setattr(self, "_report_worker", None))
        self._report_worker = worker
        worker.start()

    # -- the window's project ---------------------------------------------------------
    def _to_project(self) -> None:
        self.window.project.hit_points = [h.to_dict() for h in self.model.hits]
        self.window.project.ignored_cuts_s = list(self.model.state.ignored_cuts_s)

    def _from_project(self) -> None:
        p = self.window.project
        hits = tuple(HitPoint.from_dict(h) for h in p.hit_points)
        state = MarkerState(hits, tuple(p.ignored_cuts_s))
        if state != self.model.state:
            self.model.set_state(state, [])

    def with_markers(self, settings):
        """The panel's settings carrying the hit points and demoted cuts to the engine."""
        settings.hit_points = [h.to_dict() for h in self.model.hits]
        settings.ignored_cuts_s = list(self.model.state.ignored_cuts_s)
        return settings

    # -- edits --------------------------------------------------------------------------
    def add_at_playhead(self) -> None:
        w = self.window
        if w.analysis is None:
            w.set_status("Open a clip first, then press M at the moment the music must mark.")
            return
        t = float(w.position_s)
        if not 0.0 < t < w.duration_s:
            w.set_status("A hit point must lie inside the clip.")
            return
        self.edit(self.model.added(t), f"Add hit point {format_time(t)}")

    def remove_selected(self) -> None:
        i = self.panel.selected()
        if i < 0 and self.model.hits:      # none selected: the one nearest the playhead
            i = min(range(len(self.model.hits)),
                    key=lambda k: abs(self.model.hits[k].time_s - self.window.position_s))
        if i >= 0:
            self.edit(self.model.removed(i), "Remove hit point")

    def toggle_cut_at_playhead(self) -> None:
        w = self.window
        cuts = [t.time_s for t in (w.analysis.transitions if w.analysis is not None else [])]
        near = [c for c in cuts if abs(c - w.position_s) <= SNAP_CUT_S]
        if not near:
            w.set_status("Put the playhead on a cut to ignore it (or restore it).")
            return
        cut = min(near, key=lambda c: abs(c - w.position_s))
        self.edit(self.model.cut_toggled(cut), f"Ignore/restore cut {format_time(cut)}")

    def _moved(self, index: int, t_s: float) -> None:
        w = self.window
        t = min(max(float(t_s), 0.01), w.duration_s - 0.01)
        if 0 <= index < len(self.model.hits) and abs(self.model.hits[index].time_s - t) > 1e-3:
            self.edit(self.model.moved(index, t), f"Move hit point to {format_time(t)}")
        else:
            self.lane.redraw()

    def edit(self, after: MarkerState, text: str) -> None:
        """Apply a marker edit: at once without music; with music, after the engine has
        re-timed the piece (the markers show the edit meanwhile)."""
        w = self.window
        before = self.model.state
        if after == before:
            return
        if w.busy or self._worker is not None:
            w.set_status("Wait for the music to finish before moving hit points.")
            self.model.set_state(before)
            return
        if w.piece is None:
            w.undo_stack.push(MarkerCommand(text, self.model, before, after,
                                            report_before=self.model.report, report_after=[]))
            w.dirty = True
            return
        self.model.set_state(after)        # shown at once; the music follows
        # The seed is chosen here and saved with the take, so a reopened project makes the
        # same re-timed take again (`replay_retime`).
        seed = (w.prompt_panel.settings().seed * 7919 + 3 + w.takes.next_number() * 104729) % (2**31 - 1)
        self._run(RETIME, ([h.to_dict() for h in after.hits], list(after.ignored_cuts_s), seed),
                  text, before, after)

    def _run(self, name: str, args: tuple, text: str, before: MarkerState, after: MarkerState | None,
             extra_before=None) -> None:
        from robin_studio.app.workers import call_worker

        w = self.window
        piece, host, relay = w.piece, w.host, w.generation_flow.claim_progress()
        report_before = list(self.model.report)

        def work():
            return call_on_piece(host.scorer(), piece, name, *args, progress=relay.callback)

        worker = call_worker(work)

        def done(data) -> None:
            self._worker = None
            w.hide_progress()
            if name == CONFORM:
                self.last_conform_lines = list(data.get("lines", []))
                after_state = self._mapped_markers(data.get("report"))
                switch = self._video_switch(extra_before, data["analysis"])
                cmd = MarkerCommand(text, self.model, before, after_state, report_before, [],
                                    switch=switch, refresh=w.show_current_take)
            else:
                cmd = MarkerCommand(text, self.model, before, after, report_before,
                                    data.get("report", []), refresh=w.show_current_take)
            if name == CONFORM:
                self._push_take(text, cmd, piece, data, "conform", seed=args[1],
                                markers=([h.to_dict() for h in after_state.hits],
                                         list(after_state.ignored_cuts_s)))
            else:
                self._push_take(text, cmd, piece, data, "retime", seed=args[2],
                                markers=(list(args[0]), list(args[1])))
            if name == CONFORM:
                w.set_status("Conformed to the new cut: " + (self.last_conform_lines[0]
                                                             if self.last_conform_lines else ""))
                self.show_conform_report()
            else:
                n_new = len(data.get("new_bars", []))
                w.set_status(f"{text}: {n_new} bar{'s' if n_new != 1 else ''} generated again, "
                             f"the rest kept. {data.get('summary', '')}")
            w.dirty = True
            w.update_state()

        def failed(err) -> None:
            self._worker = None
            w.hide_progress()
            self.model.set_state(before, report_before)
            w.show_error(err, "re-timing the music" if name == RETIME else "conforming the music")

        worker.returned.connect(done)
        worker.errored.connect(failed)
        self._worker = worker
        w.show_progress(0.0, "Re-timing the music\u2026" if name == RETIME else "Conforming\u2026")
        worker.start()

    def _push_take(self, text: str, cmd: MarkerCommand, piece, data: dict, kind: str,
                   seed: int | None = None, markers: tuple | None = None) -> None:
        """The re-timed music as a new take in the take list, switched to together with the
        markers (one undo step); `seed` and `markers` (what the re-timing was made with)
        are saved with it, so that the project can make it again."""
        from robin_studio.app.takes import GenRequest, take_id_of
        from robin_studio.app.takes import MusicState

        w = self.window
        cur = w.takes.current_take()
        state = MusicState(piece, take_id_of(piece), [tuple(c) for c in data.get("chunks", [])])
        req = GenRequest(kind, cur.text if cur else "", cur.engine_prompt if cur else "",
                         cur.settings if cur else w.prompt_panel.settings(),
                         seed if seed is not None else cur.seed if cur else 0,
                         parent=cur.number if cur else None, markers=markers)
        w.undo_stack.beginMacro(text)
        w.undo_stack.push(cmd)
        w.generation_flow.add_take(req, state, None)
        w.undo_stack.endMacro()

    def replay_retime(self, rec, parent, markers: tuple | None = None) -> None:
        """Make a saved re-timed take again while a project opens: the same hit points,
        demoted cuts and seed on the same parent take give the same notes and tempo map.
        `markers` (hit point dicts, demoted cuts): for a version 2 take, which did not record
        its own. The window's replay goes on when it is back (or failed: said, as a missing
        take)."""
        hits, ignored = markers if markers is not None else (list(rec.hit_points),
                                                             list(rec.ignored_cuts_s or []))
        self._replay_call(RETIME, (list(hits), list(ignored), int(rec.seed)), rec, parent,
                          markers=(list(hits), list(ignored)))

    def saved_markers(self) -> tuple[list[dict], list[float]]:
        """The markers as the project holds them now (hit point dicts, demoted cuts)."""
        state = self.model.state
        return [h.to_dict() for h in state.hits], list(state.ignored_cuts_s)

    def replay_conform(self, rec, parent) -> None:
        """Make a saved conformed take again: its parent take conformed to the take's clip
        (the new cut) with the same seed, as File > Replace Video did."""
        self._replay_call(CONFORM, (rec.clip_path, int(rec.seed)), rec, parent)

    def replay_analysis(self, path: str) -> None:
        """Analyse an earlier cut whose takes a project holds (made before Replace Video);
        the window's replay goes on with it (False when it cannot be read)."""
        from robin_studio.app.workers import call_worker

        w = self.window
        host = w.host
        worker = call_worker(lambda: host.scorer().analyze(path))

        def finish(analysis) -> None:
            self._worker = None
            w.hide_progress()
            w.project_flow.replay_analyses[path] = analysis
            w.project_flow.continue_replay()

        worker.returned.connect(finish)
        worker.errored.connect(lambda err: finish(False))
        self._worker = worker
        w.show_progress(0.0, f"Analysing the earlier cut {Path(path).name}\u2026")
        worker.start()

    def _replay_call(self, name: str, args: tuple, rec, parent, markers: tuple | None = None) -> None:
        from robin_studio.app.takes import GenRequest, take_id_of
        from robin_studio.app.project import settings_from_dict
        from robin_studio.app.takes import MusicState
        from robin_studio.app.workers import call_worker

        w = self.window
        w.show_music(parent.state)         # the engine's piece is at the parent take
        piece, host = parent.state.piece, w.host

        def work():
            return call_on_piece(host.scorer(), piece, name, *args)

        worker = call_worker(work)

        def done(data) -> None:
            self._worker = None
            w.hide_progress()
            state = MusicState(piece, take_id_of(piece), [tuple(c) for c in data.get("chunks", [])])
            settings = settings_from_dict(rec.settings) if rec.settings else parent.settings
            made_with = markers if markers is not None else (
                None if rec.hit_points is None else (list(rec.hit_points), list(rec.ignored_cuts_s or [])))
            req = GenRequest(rec.kind, rec.text, rec.prompt, settings, int(rec.seed),
                             parent=parent.number, record=rec, markers=made_with)
            w.generation_flow.add_take(req, state, None)
            w.project_flow.continue_replay()

        def failed(err) -> None:
            self._worker = None
            w.hide_progress()
            w.project_flow.cannot_replay(rec, str(err))
            w.project_flow.continue_replay()

        worker.returned.connect(done)
        worker.errored.connect(failed)
        self._worker = worker
        w.show_progress(0.0, "Re-timing the music\u2026" if name == RETIME else "Conforming\u2026")
        worker.start()

    # -- File > Replace Video ---------------------------------------------------------------
    def replace_video_dialog(self) -> None:
        w = self.window
        if w.piece is None:
            w.set_status("Generate music first: Replace Video makes that music follow a re-edit.")
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            w, "Replace video with a re-edit", str(Path(w.project.clip_path).parent),
            "Videos (*.mp4 *.mov *.mkv *.webm *.avi *.m4v);;All files (*)")
        if path:
            self.replace_video(path)

    def replace_video(self, path: str | Path) -> None:
        """Conform the music to the re-edited video at `path` (one undoable step)."""
        w = self.window
        if w.piece is None or w.busy or self._worker is not None:
            w.set_status("Generate music first (and wait for it) before replacing the video.")
            return
        old = (w.project.clip_path, w.analysis, w.media_info, w.duration_s, w.fps)
        seed = (w.prompt_panel.settings().seed * 7919 + 5 + w.takes.next_number() * 104729) % (2**31 - 1)
        self._run(CONFORM, (str(Path(path).resolve()), seed), f"Replace video with {Path(path).name}",
                  self.model.state, None, extra_before=old)

    def _mapped_markers(self, report) -> MarkerState:
        if report is None:
            return self.model.state
        hits = tuple(new for _, new in getattr(report, "moved_hits", []))
        return MarkerState(hits, ())

    def _video_switch(self, old: tuple, analysis):
        """apply(after): switches the window between the old and the new clip."""
        from robin_studio.media.probe import probe

        w = self.window
        info = probe(analysis.path)
        fps = float(info.fps) if info.fps > 0 else 25.0
        new = (str(Path(analysis.path).resolve()), analysis, info, float(info.duration_s), fps)

        def apply(after: bool) -> None:
            path, an, inf, dur, f = new if after else old
            if w.analysis is an:
                return
            w.project.clip_path, w.analysis, w.media_info, w.duration_s, w.fps = path, an, inf, dur, f
            w.clear_timeline()
            w.timeline.set_duration(dur, f)
            w.timeline.set_analysis(an)
            w.player.set_duration(dur)
            w.show_picture_of(Path(path))
            try:
                from robin_studio.media.thumbnails import thumbnail_strip
                w.timeline.set_thumbnails(thumbnail_strip(Path(path), 12, max_side=160))
            except Exception:  # noqa: BLE001 - thumbnails are decoration
                pass
            self.lane.redraw()
            w.takes.clip_changed()       # the old cut's takes are marked "(of old_cut.mp4)"
            w.seek(min(w.position_s, dur))
        return apply

    def show_conform_report(self) -> QtWidgets.QMessageBox:
        box = QtWidgets.QMessageBox(self.window)
        box.setWindowTitle("Conform report")
        box.setIcon(QtWidgets.QMessageBox.Icon.Information)
        lines = self.last_conform_lines
        box.setText(lines[0] if lines else "Conformed.")
        box.setInformativeText("\n".join(lines[1:]))
        box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
        self.window.dialogs.append(box)
        box.finished.connect(lambda *_: box in self.window.dialogs and self.window.dialogs.remove(box))
        box.open()
        return box


def install_markers(window) -> MarkersController:
    """Add the markers panel, lane, keys (M, Delete) and File > Replace Video to `window`."""
    c = MarkersController(window)
    dock = QtWidgets.QDockWidget("Hit points", window)
    dock.setObjectName("markersDock")
    dock.setWidget(c.panel)
    dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
    dock.setToolTip("Hit points: moments the music must mark")
    window.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
    c.dock = dock
    menu = window.menuBar().actions()[0].menu()          # File
    first = menu.actions()[3] if len(menu.actions()) > 3 else None
    replace_action = QtGui.QAction("&Replace Video\u2026", window)
    replace_action.setStatusTip("Make the music follow a re-edited version of this video")
    replace_action.triggered.connect(c.replace_video_dialog)
    menu.insertAction(first, replace_action)
    c.replace_action = replace_action
    c.keys = _MarkerKeys(window, c)
    QtWidgets.QApplication.instance().installEventFilter(c.keys)
    return c


class _MarkerKeys(QtCore.QObject):
    """M and Delete wherever the focus is in the window, except while typing (as the
    transport keys, `app.keys`)."""

    def __init__(self, window, controller: MarkersController) -> None:
        super().__init__(window)
        self.w, self.c = window, controller
        self._rules = None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt naming)
        from robin_studio.app.keys import TransportKeys

        if event.type() != QtCore.QEvent.Type.KeyPress:
            return False
        if not isinstance(obj, QtWidgets.QWidget) or obj.window() is not self.w:
            return False
        if event.modifiers() & (QtCore.Qt.KeyboardModifier.ControlModifier
                                | QtCore.Qt.KeyboardModifier.AltModifier
                                | QtCore.Qt.KeyboardModifier.MetaModifier):
            return False
        if self._rules is None:
            self._rules = TransportKeys(self.w)     # the transport keys' "is the user typing"
        if self._rules._menus_active(obj) or self._rules._typing(obj) or \
                self._rules._typing(QtWidgets.QApplication.focusWidget()):
            return False
        if self.w.dialogs and any(d.isVisible() for d in self.w.dialogs):
            return False
        if event.key() == QtCore.Qt.Key.Key_M:
            self.c.add_at_playhead()
            return True
        if event.key() in (QtCore.Qt.Key.Key_Delete, QtCore.Qt.Key.Key_Backspace) and self.c.model.hits:
            self.c.remove_selected()
            return True
        return False


__all__ = ["MarkerCommand", "MarkerLane", "MarkerState", "MarkersController", "MarkersModel",
           "MarkersPanel", "install_markers", "call_on_piece"]
