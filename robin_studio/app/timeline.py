"""The timeline: a ruler and three lanes sharing one time axis (pyqtgraph).

- ruler: time in m:ss(.f); click or drag to move the playhead;
- picture lane: thumbnails along the clip, shot boundaries, cut markers;
- motion lane: the analysis' motion energy and visual beats;
- music lane: each generated chunk's spectrogram as it arrives, the bar/beat grid (downbeats
  brighter), cuts drawn green when they sit on a beat and orange when they do not; drag to
  select a region.
Wheel zooms in time, middle-drag or the scroll bar scrolls. The lanes only draw what they are
given: the analysis, the tempo map's grid and the engine's chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from robin_studio.app import style

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background=style.LANE_BG,
                    foreground=style.TEXT_DIM)

ON_BEAT_TOLERANCE_S = 0.010   # as timing.grid: a cut within 10 ms of a beat reads as on it
LANE_LABEL_WIDTH = 74


_COLORMAP = None


def spectrogram_colormap():
    """The spectrogram colours, loaded once (pyqtgraph reads the map from a file each call)."""
    global _COLORMAP
    if _COLORMAP is None:
        _COLORMAP = pg.colormap.get("inferno")
    return _COLORMAP


def format_time(t_s: float, precise: bool = False) -> str:
    t_s = max(0.0, float(t_s))
    m, s = divmod(t_s, 60.0)
    return f"{int(m)}:{s:06.3f}" if precise else f"{int(m)}:{s:04.1f}"


class TimeAxis(pg.AxisItem):
    """Ticks as minutes:seconds, with tenths only when zoomed in far enough to need them."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        out = []
        for v in values:
            if v < 0:
                out.append("")
                continue
            m, s = divmod(v, 60.0)
            out.append(f"{int(m)}:{s:04.1f}" if spacing < 1.0 else f"{int(m)}:{int(round(s)):02d}")
        return out


class _LaneViewBox(pg.ViewBox):
    """Time-only zoom and pan; a left click asks to move the playhead there."""

    def __init__(self, timeline: "Timeline") -> None:
        super().__init__(enableMenu=False)
        self._timeline = timeline
        self.setMouseEnabled(x=True, y=False)

    def mouseClickEvent(self, ev):  # noqa: N802
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self._timeline.seekRequested.emit(self._timeline._clamp(self.mapToView(ev.pos()).x()))
        else:
            super().mouseClickEvent(ev)


class _RulerViewBox(_LaneViewBox):
    """Dragging on the ruler scrubs the playhead instead of panning."""

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self._timeline.seekRequested.emit(self._timeline._clamp(self.mapToView(ev.pos()).x()))
        else:
            super().mouseDragEvent(ev, axis)


class _MusicViewBox(_LaneViewBox):
    """Left-drag across the music lane selects a region (like an editor's range tool)."""

    def mouseDragEvent(self, ev, axis=None):  # noqa: N802
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            return super().mouseDragEvent(ev, axis)
        ev.accept()
        a = self._timeline._clamp(self.mapToView(ev.buttonDownPos()).x())
        b = self._timeline._clamp(self.mapToView(ev.pos()).x())
        self._timeline.set_selection(min(a, b), max(a, b), emit=ev.isFinish())


@dataclass
class ChunkItem:
    """A chunk drawn on the music lane (`Timeline.chunk_items` is kept in time order)."""

    index: int
    start_s: float
    end_s: float
    image: pg.ImageItem


class Timeline(QtWidgets.QWidget):
    seekRequested = QtCore.Signal(float)
    selectionChanged = QtCore.Signal(object)     # (start_s, end_s) or None

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration_s = 0.0
        self.fps = 25.0
        self.chunk_items: list[ChunkItem] = []
        self.cut_times_s: list[float] = []
        self.beat_times_s = np.zeros(0)
        self.downbeat_times_s = np.zeros(0)
        self._spec_levels: tuple[float, float] | None = None
        self._updating_scroll = False

        self.view = pg.GraphicsLayoutWidget()
        self.view.setToolTip("Timeline: wheel zooms, middle-drag scrolls, click moves the playhead,\n"
                             "drag across the music lane to select a region (or press I and O).")
        self.view.ci.setSpacing(1)
        self.view.ci.setContentsMargins(0, 0, 4, 0)

        self.ruler = self._lane(_RulerViewBox(self), "", 30, top_axis=True)
        self.picture_lane = self._lane(_LaneViewBox(self), "Picture", 58)
        self.motion_lane = self._lane(_LaneViewBox(self), "Motion", 46)
        self.music_lane = self._lane(_MusicViewBox(self), "Music", 104, stretch=True)
        self.lanes = [self.ruler, self.picture_lane, self.motion_lane, self.music_lane]
        for lane in self.lanes[1:]:
            lane.setXLink(self.ruler)

        # Picture lane: thumbnails, shot boundaries, cut markers.
        self._thumb_items: list[pg.ImageItem] = []
        self.shot_lines = pg.PlotCurveItem(pen=pg.mkPen(style.SHOT_LINE, width=1), connect="pairs")
        self.cut_marks = pg.ScatterPlotItem(symbol="t", size=9, pen=None,
                                            brush=pg.mkBrush(style.CUT_MARK))
        self.picture_lane.addItem(self.shot_lines)
        self.picture_lane.addItem(self.cut_marks)
        self.shot_lines.setZValue(5)
        self.cut_marks.setZValue(6)

        # Motion lane.
        self.motion_curve = pg.PlotDataItem(pen=pg.mkPen(style.MOTION_LINE, width=1.2),
                                            fillLevel=0.0, brush=pg.mkBrush(style.MOTION_FILL))
        self.visual_beats = pg.PlotCurveItem(pen=pg.mkPen(style.VISUAL_BEAT, width=1), connect="pairs")
        self.motion_lane.addItem(self.motion_curve)
        self.motion_lane.addItem(self.visual_beats)

        # Music lane: pending-area shade, chunk images, grid, cuts, selection.
        # The span still being generated: a dashed stripe along the bottom of the lane (a
        # shaded full-height region costs a large alpha fill on every repaint).
        self.pending_region = _Span(pg.mkPen(style.ACCENT, width=3, style=QtCore.Qt.PenStyle.DashLine))
        self.pending_region.setZValue(25)
        self.music_lane.addItem(self.pending_region, ignoreBounds=True)
        self.beat_grid = pg.PlotCurveItem(pen=pg.mkPen(style.BEAT_LINE, width=1), connect="pairs")
        self.bar_grid = pg.PlotCurveItem(pen=pg.mkPen(style.BAR_LINE, width=1), connect="pairs")
        self.cuts_on_beat = pg.PlotCurveItem(pen=pg.mkPen(style.CUT_ON_BEAT, width=2), connect="pairs")
        self.cuts_off_beat = pg.PlotCurveItem(pen=pg.mkPen(style.CUT_OFF_BEAT, width=2,
                                                           style=QtCore.Qt.PenStyle.DashLine),
                                              connect="pairs")
        for z, item in enumerate((self.beat_grid, self.bar_grid, self.cuts_off_beat, self.cuts_on_beat)):
            item.setZValue(10 + z)
            self.music_lane.addItem(item)
        bar_axis = self.music_lane.getAxis("top")
        self.music_lane.showAxis("top")
        bar_axis.setHeight(16)
        bar_axis.setStyle(tickLength=-4, tickTextOffset=1)
        bar_axis.setPen(pg.mkPen(style.LANE_EDGE))
        bar_axis.setTextPen(pg.mkPen(style.TEXT_DIM))
        bar_axis.setTicks([[], []])
        bar_axis.setToolTip("Bar numbers (downbeats)")
        self.bar_axis = bar_axis
        spectrogram_colormap()   # load it now, not when the first chunk arrives
        self.music_hint = pg.TextItem("Music appears here as it is generated", color=style.TEXT_DIM,
                                      anchor=(0.5, 0.5))
        self.music_lane.addItem(self.music_hint, ignoreBounds=True)

        self.selection = pg.LinearRegionItem(brush=pg.mkBrush(style.SELECTION_FILL),
                                             pen=pg.mkPen(style.SELECTION_EDGE, width=2),
                                             hoverBrush=pg.mkBrush(style.SELECTION_HOVER))
        self.selection.setZValue(20)
        self.selection.hide()
        self.selection.sigRegionChangeFinished.connect(self._selection_moved)
        self.music_lane.addItem(self.selection)
        self.selection_shadow = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(style.SELECTION_SHADOW),
                                                    pen=pg.mkPen(None))
        self.selection_shadow.hide()
        self.ruler.addItem(self.selection_shadow)
        # Where the audio will change when the selection is regenerated (the selected bars
        # plus the attack lead before and the release tail after): a bright band along the top
        # of the music lane and a hatched one on the ruler, so nothing changes outside it.
        self.change_band = _Span(pg.mkPen(style.CHANGE_EDGE, width=6), y=0.985)
        self.change_band.setZValue(26)
        self.music_lane.addItem(self.change_band, ignoreBounds=True)
        self.change_shadow = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(style.CHANGE_FILL),
                                                 pen=pg.mkPen(style.CHANGE_EDGE, width=1))
        self.change_shadow.setZValue(19)
        self.change_shadow.hide()
        self.music_lane.addItem(self.change_shadow, ignoreBounds=True)
        # Which take is drawn (and heard): a label in the lane's top-left corner.
        self.take_label = pg.TextItem("", color=style.TEXT, fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 0))
        self.take_label.setZValue(40)
        self.music_lane.addItem(self.take_label, ignoreBounds=True)
        self.music_lane.getViewBox().sigXRangeChanged.connect(self._place_take_label)

        # Playhead in every lane; the ruler's one carries a handle.
        self.playheads = []
        for lane in self.lanes:
            line = pg.InfiniteLine(pos=0.0, angle=90, movable=False,
                                   pen=pg.mkPen(style.PLAYHEAD, width=1.5))
            line.setZValue(50)
            lane.addItem(line, ignoreBounds=True)
            self.playheads.append(line)
        self.playhead_s = 0.0

        self.scroll = QtWidgets.QScrollBar(QtCore.Qt.Orientation.Horizontal)
        self.scroll.setToolTip("Scroll along the clip")
        self.scroll.valueChanged.connect(self._scrolled)
        self.ruler.getViewBox().sigXRangeChanged.connect(self._range_changed)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.scroll)
        # Never squeezed below every lane's minimum (the music lane keeps ~100 px on 1024x600):
        # the window's splitter gives the picture less instead.
        self.setMinimumHeight(sum(int(lane.minimumHeight()) for lane in self.lanes) + 3 * 1
                              + self.scroll.sizeHint().height() + 6)
        self.set_duration(10.0, 25.0)

    # -- construction ---------------------------------------------------------------------
    def _lane(self, vb: pg.ViewBox, name: str, height: int, top_axis: bool = False,
              stretch: bool = False) -> pg.PlotItem:
        axis_items = {"top": TimeAxis("top")} if top_axis else {}
        plot = self.view.addPlot(viewBox=vb, axisItems=axis_items)
        self.view.nextRow()
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.hideAxis("bottom")
        if top_axis:
            plot.showAxis("top")
            plot.getAxis("top").setHeight(24)
        left = plot.getAxis("left")
        left.setWidth(LANE_LABEL_WIDTH)
        left.setTicks([[(0.5, name)], []])
        left.setStyle(tickLength=0)
        left.setPen(pg.mkPen(style.LANE_EDGE))
        left.setTextPen(pg.mkPen(style.TEXT))
        plot.setYRange(0.0, 1.0, padding=0.0)
        plot.setMinimumHeight(height)
        if not stretch:
            plot.setMaximumHeight(height)
        return plot

    def _clamp(self, t_s: float) -> float:
        return float(np.clip(t_s, 0.0, self.duration_s))

    # -- whole-clip data ---------------------------------------------------------------------
    def set_duration(self, duration_s: float, fps: float) -> None:
        self.duration_s = max(0.1, float(duration_s))
        self.fps = float(fps) if fps > 0 else 25.0
        self.music_hint.setPos(0.5 * self.duration_s, 0.5)
        for lane in self.lanes:
            lane.getViewBox().setLimits(xMin=0.0, xMax=self.duration_s, minXRange=0.25,
                                        yMin=0.0, yMax=1.0)
        self.zoom_fit()

    def clear(self) -> None:
        self.clear_music()
        for item in self._thumb_items:
            self.picture_lane.removeItem(item)
        self._thumb_items.clear()
        for item in (self.shot_lines, self.visual_beats, self.beat_grid, self.bar_grid,
                     self.cuts_on_beat, self.cuts_off_beat):
            item.setData([], [])
        self.cut_marks.setData([], [])
        self.motion_curve.setData([], [])
        self.cut_times_s = []
        # Nothing of the previous clip's music stays: its bar numbers and on-beat colours.
        self.beat_times_s = np.zeros(0)
        self.downbeat_times_s = np.zeros(0)
        self._on_beat_flags = None
        self.bar_axis.setTicks([[], []])
        self.set_take_label("")
        self.set_selection(None)
        self.set_change_span(None)

    def set_analysis(self, analysis) -> None:
        """Draw a robin_studio.analysis.types.VideoAnalysis: shots, cuts, motion, visual beats."""
        self.set_duration(analysis.duration_s, analysis.fps)
        bounds = [s.start_s for s in analysis.shots[1:]]
        self.shot_lines.setData(*_vlines(bounds, 0.0, 1.0))
        self.cut_times_s = [t.time_s for t in analysis.transitions]
        self._on_beat_flags = None
        self.cut_marks.setData(self.cut_times_s, [0.88] * len(self.cut_times_s))
        energy = np.asarray(analysis.motion_energy, dtype=float)
        if energy.size:
            t = np.arange(energy.size) / float(analysis.motion_hz)
            self.motion_curve.setData(t, 0.05 + 0.85 * np.clip(energy, 0.0, 1.0))
        self.visual_beats.setData(*_vlines(analysis.visual_beats_s, 0.0, 0.18))
        self._draw_cuts()

    def set_thumbnails(self, thumbs: list[tuple[float, np.ndarray]]) -> None:
        """Thumbnails as (time_s, RGB uint8 array): each is the picture around its time, so
        its tile spans from the midpoint with the previous one to the midpoint with the next
        (the first from 0, the last to the end)."""
        for item in self._thumb_items:
            self.picture_lane.removeItem(item)
        self._thumb_items.clear()
        thumbs = sorted(thumbs, key=lambda tt: tt[0])
        times = [t for t, _ in thumbs]
        edges = [0.0] + [0.5 * (a + b) for a, b in zip(times, times[1:])] + [self.duration_s]
        for i, (_, rgb) in enumerate(thumbs):
            a, b = edges[i], edges[i + 1]
            if b <= a:
                continue
            item = pg.ImageItem(np.ascontiguousarray(np.asarray(rgb)[::-1]))  # row 0 at the top
            item.setRect(QtCore.QRectF(a, 0.02, b - a, 0.96))
            item.setZValue(-1)
            self.picture_lane.addItem(item)
            self._thumb_items.append(item)

    def set_grid(self, beat_times_s, downbeat_times_s, on_beat: list[bool] | None = None) -> None:
        """The bar/beat grid, in seconds (computed from the piece's tempo map by the caller);
        `on_beat` says for each cut whether it sits on a beat (else it is measured here)."""
        self._on_beat_flags = list(on_beat) if on_beat is not None else None
        self.beat_times_s = np.asarray(beat_times_s, dtype=float)
        self.downbeat_times_s = np.asarray(downbeat_times_s, dtype=float)
        self.beat_grid.setData(*_vlines(self.beat_times_s, 0.0, 1.0))
        self.bar_grid.setData(*_vlines(self.downbeat_times_s, 0.0, 1.0))
        # Bar numbers as ticks of the lane's top axis: the axis drops labels that would
        # overlap when zoomed out, and it is one item however long the piece.
        self.bar_axis.setTicks([[(float(t), str(i + 1)) for i, t in enumerate(self.downbeat_times_s)], []])
        self._draw_cuts()

    def cuts_on_beats(self) -> tuple[list[float], list[float]]:
        """Split the cuts into those within ON_BEAT_TOLERANCE_S of a beat and the rest."""
        flags = getattr(self, "_on_beat_flags", None)
        if flags is not None and len(flags) == len(self.cut_times_s):
            return ([t for t, f in zip(self.cut_times_s, flags) if f],
                    [t for t, f in zip(self.cut_times_s, flags) if not f])
        on, off = [], []
        beats = self.beat_times_s
        for t in self.cut_times_s:
            if beats.size and np.min(np.abs(beats - t)) <= ON_BEAT_TOLERANCE_S:
                on.append(t)
            else:
                off.append(t)
        return on, off

    def _draw_cuts(self) -> None:
        on, off = self.cuts_on_beats() if self.beat_times_s.size else ([], self.cut_times_s)
        self.cuts_on_beat.setData(*_vlines(on, 0.0, 1.0))
        self.cuts_off_beat.setData(*_vlines(off, 0.0, 1.0))

    # -- music -----------------------------------------------------------------------------
    def clear_music(self) -> None:
        for c in self.chunk_items:
            self.music_lane.removeItem(c.image)
        self.chunk_items.clear()
        self.music_hint.show()
        self._spec_levels = None
        self.set_pending(None)

    def set_take_label(self, text: str) -> None:
        """Name the take drawn on the music lane ("" hides the label)."""
        self.take_label.setText(text)
        self.take_label.setVisible(bool(text))
        self._place_take_label()

    def take_label_text(self) -> str:
        return self.take_label.textItem.toPlainText() if self.take_label.isVisible() else ""

    def _place_take_label(self, *_):
        lo, _hi = self.music_lane.getViewBox().viewRange()[0]
        self.take_label.setPos(lo, 0.99)

    def set_change_span(self, span: tuple[float, float] | None) -> None:
        """The span whose audio a regeneration of the selection changes (None hides it)."""
        self.change_band.set_span(span)
        if span is None:
            self.change_shadow.hide()
        else:
            self.change_shadow.setRegion(span)
            self.change_shadow.show()

    def change_span_s(self) -> tuple[float, float] | None:
        return self.change_band.span

    def set_pending(self, span: tuple[float, float] | None) -> None:
        """Mark the span still being generated."""
        self.pending_region.set_span(span)

    def add_chunk(self, index: int, start_s: float, end_s: float, spectrogram: np.ndarray) -> ChunkItem:
        """Draw one chunk's spectrogram ((mels, frames) in dB) over [start_s, end_s]."""
        spec = np.asarray(spectrogram, dtype=np.float32)
        if self._spec_levels is None:
            top = float(np.max(spec)) if spec.size else 0.0
            self._spec_levels = (top - 70.0, top)
        # Replacing a span (regeneration): drop what was drawn underneath first.
        self.remove_music_between(start_s, end_s)
        item = pg.ImageItem(spec, levels=self._spec_levels)
        item.setColorMap(spectrogram_colormap())
        item.setRect(QtCore.QRectF(start_s, 0.0, max(1e-3, end_s - start_s), 0.97))
        self.music_lane.addItem(item)
        chunk = ChunkItem(index, float(start_s), float(end_s), item)
        self.music_hint.hide()
        self.chunk_items.append(chunk)
        self.chunk_items.sort(key=lambda c: c.start_s)   # time order (arrival order is signalled)
        if self.pending_region.span is not None:
            a, b = self.pending_region.span
            if end_s >= b - 1e-6:
                self.set_pending(None)
            else:
                self.set_pending((max(a, end_s), b))
        return chunk

    def remove_music_between(self, start_s: float, end_s: float) -> None:
        """Cut the drawn spectrograms back so that nothing covers [start_s, end_s]."""
        keep: list[ChunkItem] = []
        for c in self.chunk_items:
            if c.end_s <= start_s + 1e-6 or c.start_s >= end_s - 1e-6:
                keep.append(c)
                continue
            spec = c.image.image
            frames = spec.shape[1]
            per_s = frames / max(1e-6, c.end_s - c.start_s)
            self.music_lane.removeItem(c.image)
            for a, b in ((c.start_s, min(c.end_s, start_s)), (max(c.start_s, end_s), c.end_s)):
                if b - a <= 1e-3:
                    continue
                i0, i1 = int(round((a - c.start_s) * per_s)), int(round((b - c.start_s) * per_s))
                if i1 <= i0:
                    continue
                item = pg.ImageItem(spec[:, i0:i1], levels=self._spec_levels)
                item.setColorMap(spectrogram_colormap())
                item.setRect(QtCore.QRectF(a, 0.0, b - a, 0.97))
                self.music_lane.addItem(item)
                keep.append(ChunkItem(c.index, a, b, item))
        keep.sort(key=lambda c: c.start_s)
        self.chunk_items = keep

    def music_extent_s(self) -> float:
        return max((c.end_s for c in self.chunk_items), default=0.0)

    # -- playhead, selection, zoom -------------------------------------------------------------
    def set_playhead(self, t_s: float, follow: bool = False) -> None:
        self.playhead_s = float(t_s)
        for line in self.playheads:
            line.setValue(self.playhead_s)
        if follow:
            lo, hi = self.ruler.getViewBox().viewRange()[0]
            if not lo <= t_s <= hi:
                width = hi - lo
                self.ruler.setXRange(t_s, t_s + width, padding=0.0)

    def set_selection(self, start_s: float | None, end_s: float | None = None, emit: bool = True) -> None:
        if start_s is None or end_s is None or end_s - start_s < 1e-3:
            self.selection.hide()
            self.selection_shadow.hide()
            self.set_change_span(None)
            if emit:
                self.selectionChanged.emit(None)
            return
        self.selection.blockSignals(True)
        self.selection.setRegion((start_s, end_s))
        self.selection.blockSignals(False)
        self.selection_shadow.setRegion((start_s, end_s))
        self.selection.show()
        self.selection_shadow.show()
        if emit:
            self.selectionChanged.emit((float(start_s), float(end_s)))

    def selection_s(self) -> tuple[float, float] | None:
        if not self.selection.isVisible():
            return None
        a, b = self.selection.getRegion()
        return float(a), float(b)

    def _selection_moved(self) -> None:
        a, b = self.selection.getRegion()
        a, b = self._clamp(a), self._clamp(b)
        self.selection_shadow.setRegion((a, b))
        self.selectionChanged.emit((a, b))

    def zoom_fit(self) -> None:
        self.ruler.setXRange(0.0, self.duration_s, padding=0.0)

    def zoom(self, factor: float) -> None:
        lo, hi = self.ruler.getViewBox().viewRange()[0]
        centre = self.playhead_s if lo <= self.playhead_s <= hi else 0.5 * (lo + hi)
        half = 0.5 * (hi - lo) / factor
        self.ruler.setXRange(centre - half, centre + half, padding=0.0)

    def visible_range_s(self) -> tuple[float, float]:
        lo, hi = self.ruler.getViewBox().viewRange()[0]
        return float(lo), float(hi)

    def _range_changed(self, *_):
        lo, hi = self.visible_range_s()
        width = max(1e-6, hi - lo)
        self._updating_scroll = True
        self.scroll.setRange(0, max(0, int(1000 * (self.duration_s - width))))
        self.scroll.setPageStep(int(1000 * width))
        self.scroll.setValue(int(1000 * lo))
        self._updating_scroll = False

    def _scrolled(self, value: int) -> None:
        if self._updating_scroll:
            return
        lo, hi = self.visible_range_s()
        self.ruler.setXRange(value / 1000.0, value / 1000.0 + (hi - lo), padding=0.0)


class _Span(pg.PlotCurveItem):
    """A horizontal stripe from a to b near the bottom of a lane (None = hidden)."""

    def __init__(self, pen, y: float = 0.025) -> None:
        super().__init__(pen=pen)
        self.span: tuple[float, float] | None = None
        self._y = y

    def set_span(self, span: tuple[float, float] | None) -> None:
        self.span = None if span is None else (float(span[0]), float(span[1]))
        if self.span is None:
            self.setData([], [])
        else:
            self.setData(list(self.span), [self._y, self._y])

    def isVisible(self) -> bool:  # noqa: N802 - "is something pending", as tests ask
        return self.span is not None


def _vlines(times, y0: float, y1: float) -> tuple[np.ndarray, np.ndarray]:
    """x/y arrays for vertical segments drawn with connect='pairs'."""
    t = np.asarray(list(times), dtype=float)
    x = np.repeat(t, 2)
    y = np.tile([y0, y1], len(t)).astype(float)
    return x, y
