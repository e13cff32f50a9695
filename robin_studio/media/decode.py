"""Decode video frames as upright RGB numpy arrays: a fast sequential pass at analysis size,
and a `FrameReader` that fetches the frame shown at any time (for previews and thumbnails).

Sequential decoding uses FFmpeg's frame+slice threading and, for the common 4:2:0 8-bit
formats, shrinks the picture planes with OpenCV instead of a full-size swscale conversion:
on a 1080p clip the conversion would otherwise cost more than the decoding itself.
Frames are rotated as the file's display matrix asks, so phone clips come out upright.

A file that breaks off or is damaged part-way yields every frame that can be decoded and
then raises `DamagedMediaError` saying at what time the picture broke.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from robin_studio.errors import MediaError
from robin_studio.media.probe import (MediaInfo, check_decoder, open_container,
                                      pick_video_stream, probe)

ANALYSIS_SHORT_SIDE = 192
# OpenCV's own thread pool off: its workers wait for work by spinning (sched_yield), and
# the frames here are small enough that one call's split saves less than the spinning costs;
# the decoder's threads and the analysis thread keep the cores busy already. Measured on the
# 40 s 1080p film: about a tenth of the whole `analyze` process's CPU time.
cv2.setNumThreads(1)
# Consecutive undecodable packets after which a file counts as broken off rather than glitched.
_MAX_BAD_PACKETS = 25
# 4:2:0 formats whose planes are shrunk directly: name -> (sample type, bits above 8).
# 10-bit covers HDR phone clips (HEVC Main 10); their colours are not tone-mapped, which
# does not matter for cuts and motion.
_FAST_FORMATS = {"yuv420p": ("u1", 0), "yuvj420p": ("u1", 0), "yuv420p10le": ("<u2", 2)}


class DamagedMediaError(MediaError):
    """The file's picture breaks off or is corrupt from `broken_at_s` on."""

    def __init__(self, message: str, hint: str = "", broken_at_s: float = 0.0,
                 duration_s: float = 0.0, frames_decoded: int = 0) -> None:
        super().__init__(message, hint)
        self.broken_at_s = broken_at_s
        self.duration_s = duration_s
        self.frames_decoded = frames_decoded


@dataclass
class Frame:
    index: int          # 0-based position in the decoded sequence
    time_s: float       # presentation time from the first frame
    rgb: np.ndarray     # (height, width, 3) uint8, upright


def format_time(seconds: float) -> str:
    """0:03.20 style, as a creator reads times in an editor."""
    seconds = max(0.0, seconds)
    minutes = int(seconds // 60)
    return f"{minutes}:{seconds - 60 * minutes:05.2f}"


def scaled_size(width: int, height: int, short_side: int | None = None,
                max_side: int | None = None) -> tuple[int, int]:
    """Even-numbered (width, height) keeping the aspect, never larger than the source."""
    scale = 1.0
    if short_side:
        scale = min(scale, short_side / max(1, min(width, height)))
    if max_side:
        scale = min(scale, max_side / max(1, max(width, height)))
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def _plane(plane, dtype: str = "u1") -> np.ndarray:
    samples = np.frombuffer(plane, np.dtype(dtype))
    return samples.reshape(plane.height, plane.line_size // samples.itemsize)[:, : plane.width]


def shrink(plane: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize one picture plane to (width, height) with area averaging.

    OpenCV's area resize is fast (SIMD) only for exact halving, so halve while the plane is
    at least twice the target (cropping an odd edge pixel) and finish with a bilinear step
    of less than 2x.
    """
    while plane.shape[0] >= 2 * height and plane.shape[1] >= 2 * width:
        h, w = plane.shape[0] // 2, plane.shape[1] // 2
        plane = cv2.resize(plane[: 2 * h, : 2 * w], (w, h), interpolation=cv2.INTER_AREA)
    if plane.shape[0] != height or plane.shape[1] != width:
        plane = cv2.resize(plane, (width, height), interpolation=cv2.INTER_LINEAR)
    return plane


def frame_to_rgb(frame: av.VideoFrame, width: int, height: int,
                 out: np.ndarray | None = None) -> np.ndarray:
    """RGB array of `frame` shrunk to (width, height) in coded orientation (written into
    `out`, a C-contiguous (height, width, 3) uint8 array, when given)."""
    fast = _FAST_FORMATS.get(frame.format.name)
    if fast is not None and width % 2 == 0 and height % 2 == 0:
        dtype, extra_bits = fast
        Y, U, V = (shrink(_plane(frame.planes[i], dtype), width // (1 + (i > 0)),
                          height // (1 + (i > 0))) for i in range(3))
        if extra_bits:
            Y, U, V = ((p >> extra_bits).astype(np.uint8) for p in (Y, U, V))
        # I420 as OpenCV reads it: the three planes one after the other, seen as rows of `width`.
        i420 = np.concatenate([Y.ravel(), U.ravel(), V.ravel()]).reshape(height * 3 // 2, width)
        rgb = cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420, dst=out)
    else:
        rgb = frame.reformat(width, height, "rgb24", interpolation="AREA").to_ndarray()
    if out is None or rgb is out:
        return rgb
    out[...] = rgb          # OpenCV made a new array (out was not the size it wanted)
    return out


def upright(rgb: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Turn a coded-orientation picture clockwise by `rotation_deg`."""
    if rotation_deg % 360 == 0:
        return rgb
    return np.ascontiguousarray(np.rot90(rgb, k=-(rotation_deg // 90)))


def _coded_target(info: MediaInfo, short_side: int | None, max_side: int | None) -> tuple[int, int]:
    """Target size in coded orientation for an upright picture of the asked size."""
    w, h = scaled_size(info.display_width, info.display_height, short_side, max_side)
    if info.rotation_deg in (90, 270):
        w, h = h, w
    # The fast path needs sizes divisible by 4 (chroma planes at half size, stacked).
    return max(4, w // 4 * 4), max(4, h // 4 * 4)


def _setup_stream(stream) -> None:
    stream.thread_type = "AUTO"
    # FFmpeg's own count (0: one frame thread per core, plus one), as the plain decode that
    # `bench_analysis` measures against has it. With one thread per core, a frame thread
    # waiting for its reference frame's rows (decoded by the other thread, which shares its
    # core with our conversion and trackers) leaves a core idle; with one more there is
    # always a frame to work on. Same CPU time either way (measured); threads do not change
    # the decoded pictures (FFmpeg's frame threading is exact).
    stream.thread_count = 0
    # Deblocking only matters for how the full-size picture looks; analysis frames are tiny.
    # "fast" allows H.264 shortcuts that are not bit-exact; invisible at analysis size.
    stream.codec_context.options = {"skip_loop_filter": "all", "flags2": "+fast"}


def iter_frames(path: str | os.PathLike, short_side: int = ANALYSIS_SHORT_SIDE,
                info: MediaInfo | None = None, max_side: int | None = None) -> Iterator[Frame]:
    """Yield every frame of the clip, upright, shrunk so its short side is `short_side`.

    Decoding runs once, front to back, with threads. If the picture breaks off or the
    stream is corrupt, the frames before that are yielded and then `DamagedMediaError` says
    where it broke.
    """
    info = info or probe(path)
    width, height = _coded_target(info, short_side, max_side)
    for index, time_s, frame in _decoded(path, info):
        yield Frame(index=index, time_s=time_s,
                    rgb=upright(frame_to_rgb(frame, width, height), info.rotation_deg))


@dataclass
class AnalysisFrame:
    index: int
    time_s: float
    half_rgb: np.ndarray            # upright, half the analysis size (what the trackers use)
    rgb: np.ndarray | None          # upright, at analysis size: only the frames asked for


@dataclass
class AnalysisBatch:
    """Up to `batch` consecutive frames of `iter_analysis_batches`."""
    first_index: int
    times_s: list[float]            # presentation time of each frame from the first frame
    half_rgb: np.ndarray            # (n, h, w, 3) upright, half the analysis size
    samples: list[tuple[float, np.ndarray]]   # (time, upright analysis-size picture) asked for


def _analysis_sizes(info: MediaInfo, short_side: int) -> tuple[int, int, int, int]:
    """(width, height) at analysis size and at half of it, in coded orientation."""
    width, height = _coded_target(info, short_side, None)
    # Half size, kept even (what the fast path takes).
    return width, height, max(2, width // 2 // 2 * 2), max(2, height // 2 // 2 * 2)


def iter_analysis_frames(path: str | os.PathLike, every_s: float,
                         info: MediaInfo | None = None,
                         short_side: int = ANALYSIS_SHORT_SIDE) -> Iterator[AnalysisFrame]:
    """Like `iter_frames`, but each frame is converted once, at half the analysis size (the
    largest copy the trackers use), straight from the decoded planes; the analysis-size
    picture is made only for one frame every `every_s` seconds (the frames the image network
    may see). At 640x360 the full-size conversion of every frame cost more than decoding it.
    """
    for batch in iter_analysis_batches(path, every_s, 1, info, short_side):
        yield AnalysisFrame(batch.first_index, batch.times_s[0], batch.half_rgb[0],
                            batch.samples[0][1] if batch.samples else None)


def iter_analysis_batches(path: str | os.PathLike, every_s: float, batch: int,
                          info: MediaInfo | None = None,
                          short_side: int = ANALYSIS_SHORT_SIDE) -> Iterator[AnalysisBatch]:
    """The frames of `iter_analysis_frames`, `batch` at a time, each converted straight into
    its batch's array (no copy to stack them). Handing frames over a batch at a time (see
    `prefetch`) also spares a thread switch per frame. If the picture breaks off, the frames
    before the break come in a last, shorter batch and then `DamagedMediaError` is raised.
    """
    info = info or probe(path)
    width, height, half_w, half_h = _analysis_sizes(info, short_side)
    rotation = info.rotation_deg
    upright_half = (half_h, half_w) if rotation % 180 == 0 else (half_w, half_h)
    next_s = 0.0
    current: AnalysisBatch | None = None

    def new_batch(first_index: int) -> AnalysisBatch:
        return AnalysisBatch(first_index, [], np.empty((batch, *upright_half, 3), np.uint8), [])

    def finished(b: AnalysisBatch) -> AnalysisBatch:
        b.half_rgb = b.half_rgb[: len(b.times_s)]
        return b

    try:
        for index, time_s, frame in _decoded(path, info):
            if current is None:
                current = new_batch(index)
            if time_s + 1e-9 >= next_s:
                next_s = time_s + every_s
                current.samples.append((time_s, upright(frame_to_rgb(frame, width, height), rotation)))
            slot = current.half_rgb[len(current.times_s)]
            if rotation % 360 == 0:
                frame_to_rgb(frame, half_w, half_h, out=slot)
            else:
                slot[...] = upright(frame_to_rgb(frame, half_w, half_h), rotation)
            current.times_s.append(time_s)
            if len(current.times_s) == batch:
                yield current
                current = None
    except DamagedMediaError:
        if current is not None:
            yield finished(current)
        raise
    if current is not None:
        yield finished(current)


def _decoded(path: str | os.PathLike, info: MediaInfo) -> Iterator[tuple[int, float, av.VideoFrame]]:
    """(index, time from the first frame, decoded frame) of every frame, front to back."""
    name = Path(path).name
    container = open_container(path)
    try:
        stream = pick_video_stream(container, name)
        check_decoder(stream, name)
        _setup_stream(stream)
        index = 0
        t0: float | None = None
        last_time_s = 0.0
        bad_run = 0
        error: str | None = None
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as err:  # the container itself is damaged here
                error = str(err)
                break
            try:
                frames = packet.decode()
                bad_run = 0
            except av.error.FFmpegError as err:
                bad_run += 1
                error = str(err)
                if bad_run >= _MAX_BAD_PACKETS:
                    break
                continue
            for frame in frames:
                t = frame.time if frame.time is not None else index / max(info.fps, 1e-6)
                if t0 is None:
                    t0 = t
                time_s = t - t0
                last_time_s = time_s
                yield index, time_s, frame
                index += 1
        if index == 0:
            raise MediaError(f"'{name}' holds no picture that can be decoded"
                             + (f" ({error})." if error else "."),
                             "The file is damaged or empty; export or copy it again.")
        frame_s = 1.0 / max(info.fps, 1e-6)
        decoded_until_s = last_time_s + frame_s
        # A clip that stops well short of its announced length was cut off (e.g. a partial copy).
        missing_s = info.duration_s - decoded_until_s
        if missing_s > max(0.5, 3 * frame_s) or (error and bad_run >= _MAX_BAD_PACKETS):
            raise DamagedMediaError(
                f"'{name}' is damaged: its picture breaks off at {format_time(decoded_until_s)} "
                f"of {format_time(info.duration_s)}.",
                "Only the part before that can be used. Copy or export the clip again "
                "(a download or copy may have stopped early).",
                broken_at_s=decoded_until_s, duration_s=info.duration_s, frames_decoded=index)
    finally:
        container.close()


def prefetch(frames: Iterator, depth: int = 12) -> Iterator:
    """Run a frame (or batch) iterator in a background thread, `depth` items ahead of the
    consumer.

    PyAV and OpenCV release the GIL while they decode and resize, so the next frames are
    decoded while the caller analyses this one. Errors (such as `DamagedMediaError`) reach
    the caller after the frames that came before them. Stopping early stops the thread.
    """
    box: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for frame in frames:
                while not stop.is_set():
                    try:
                        box.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(done)
        except BaseException as err:  # handed to the consumer, raised there
            box.put(err)
        finally:
            if stop.is_set() and hasattr(frames, "close"):
                frames.close()

    worker = threading.Thread(target=produce, name="robin-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


class FrameReader:
    """Random access to upright frames, for the picture preview and thumbnails.

    `frame_at(t)` returns the frame on screen at time t (the last frame whose presentation
    time is <= t), decoding forward from the previous position when that is cheaper than a
    seek, so scrubbing forward and playback-like access stay fast.
    """

    # Decode forward instead of seeking when the target is at most this far ahead.
    FORWARD_WINDOW_S = 2.0

    def __init__(self, path: str | os.PathLike, info: MediaInfo | None = None) -> None:
        self.path = str(path)
        self.info = info or probe(path)
        self._name = Path(path).name
        self._container = open_container(path)
        self._stream = pick_video_stream(self._container, self._name)
        check_decoder(self._stream, self._name)
        self._stream.thread_type = "AUTO"
        self._time_base = float(self._stream.time_base)
        start = self._stream.start_time
        self._start_s = float(start * self._stream.time_base) if start is not None else 0.0
        self._decoder: Iterator[av.VideoFrame] | None = None
        self._current: av.VideoFrame | None = None   # last frame returned by the decoder
        self._pending: av.VideoFrame | None = None   # decoded but after the last target
        self._decoded = 0                             # frames decoded since the last seek

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def duration_s(self) -> float:
        return self.info.duration_s

    def _time(self, frame: av.VideoFrame) -> float:
        return (frame.time if frame.time is not None else 0.0) - self._start_s

    def _seek_to(self, t_s: float) -> None:
        target = int((t_s + self._start_s) / self._time_base)
        try:
            self._container.seek(max(target, 0), stream=self._stream, backward=True,
                                 any_frame=False)
        except av.error.FFmpegError:
            # Raw streams cannot seek: start again from the top and decode forward.
            self._container.close()
            self._container = open_container(self.path)
            self._stream = pick_video_stream(self._container, self._name)
            self._stream.thread_type = "AUTO"
        self._decoded = 0
        self._decoder = self._decode_packets()
        self._current = None
        self._pending = None

    def _seek(self, t_s: float) -> None:
        """Position the decoder on a keyframe at or before `t_s`.

        Some demuxers land after the asked time (or on a frame that cannot start decoding);
        then ask again further back, and from the very start as the last resort.
        """
        eps = min(1e-3, 0.05 / max(self.info.fps, 1e-6))
        for back_s in (0.0, 1.0, 4.0, 16.0, math.inf):
            target_s = max(0.0, t_s - back_s)
            self._seek_to(target_s)
            first = self._next()
            if first is not None and (self._time(first) <= t_s + eps or target_s == 0.0):
                self._pending = first
                return

    def _decode_packets(self) -> Iterator[av.VideoFrame]:
        """Frames from the packets after a seek; packets that cannot be decoded (an inter
        frame right after a seek, a damaged one) are skipped instead of ending the reading."""
        for packet in self._container.demux(self._stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue
            yield from frames

    def _next(self) -> av.VideoFrame | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame
        try:
            frame = next(self._decoder) if self._decoder is not None else None
        except StopIteration:
            return None
        except av.error.FFmpegError:  # the container itself is unreadable from here
            return None
        if frame is not None and frame.pts is None:
            # Raw streams carry no timestamps; they are always decoded from the start, so
            # the count of frames gives the time.
            frame.pts = self._decoded
            frame.time_base = Fraction(1, 1) / Fraction(self.info.fps).limit_denominator(1001)
        self._decoded += 1
        return frame

    def frame_at(self, t_s: float, max_side: int | None = None) -> np.ndarray:
        """The upright RGB picture on screen at `t_s` seconds, at most `max_side` px long."""
        t_s = min(max(0.0, t_s), max(0.0, self.info.duration_s))
        # Timestamps are rounded to the stream's time base; allow for that, nothing more.
        eps = min(1e-3, 0.05 / max(self.info.fps, 1e-6))
        cur = self._current
        if (self._decoder is None or cur is None or t_s + eps < self._time(cur)
                or t_s > self._time(cur) + self.FORWARD_WINDOW_S):
            self._seek(t_s)
        best = self._current
        while True:
            frame = self._next()
            if frame is None:
                break
            if self._time(frame) > t_s + eps and best is not None:
                self._pending = frame
                break
            best = frame
        if best is None:
            raise MediaError(f"No picture could be decoded at {format_time(t_s)} "
                             f"in '{self._name}'.", "The file may be damaged there.")
        self._current = best
        width, height = _coded_target(self.info, None, max_side) if max_side else (
            (best.width // 4 * 4, best.height // 4 * 4))
        return upright(frame_to_rgb(best, width, height), self.info.rotation_deg)

    def keyframe_near(self, t_s: float, max_side: int | None = None) -> tuple[float, np.ndarray]:
        """(time, picture) of the keyframe at or before `t_s`: not frame-accurate, but it costs
        one frame's decoding however far apart the file's keyframes are (for thumbnails)."""
        t_s = min(max(0.0, t_s), max(0.0, self.info.duration_s))
        self._seek(t_s)
        frame = self._next()
        if frame is None:
            return t_s, self.frame_at(t_s, max_side)
        self._current = frame
        width, height = _coded_target(self.info, None, max_side) if max_side else (
            (frame.width // 4 * 4, frame.height // 4 * 4))
        return self._time(frame), upright(frame_to_rgb(frame, width, height), self.info.rotation_deg)

    def frame_index_at(self, t_s: float) -> int:
        """Index of the frame on screen at `t_s` for a constant-frame-rate clip."""
        return int(math.floor(t_s * self.info.fps + 1e-6))
