"""Probe a media file: what is in it (duration, frame rate, size, rotation, codecs, audio).

`probe(path)` opens the file with PyAV, reads the container and stream headers, looks at the
first packets' timestamps to tell constant from variable frame rate, and decodes the first
frame to learn the display rotation and to make sure the picture can be decoded at all.
Everything a creator could have got wrong (not a video, audio only, empty, unsupported codec,
damaged) comes out as a `MediaError` with a message that says what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from robin_studio.errors import MediaError

# How many video packets to read when judging whether the frame rate is constant.
_VFR_PACKETS = 240
# Frame intervals that differ from the median by more than this share mean variable frame rate.
_VFR_TOLERANCE = 0.15

_HINT_REEXPORT = "Re-export the clip from your editor or phone as MP4 (H.264) and open that."


@dataclass
class AudioStreamInfo:
    index: int
    codec: str
    sample_rate_hz: int
    channels: int
    language: str = ""


@dataclass
class MediaInfo:
    """What a video file holds. Sizes are of the coded picture; `display_*` after rotation."""

    path: str
    container: str
    duration_s: float
    fps: float                  # average frame rate (frames per second)
    is_vfr: bool                # frame intervals vary (phone clips often do)
    width: int
    height: int
    rotation_deg: int           # clockwise turn needed to show the picture upright: 0/90/180/270
    video_codec: str
    pixel_format: str = ""
    frame_count: int = 0        # from the header if it has one, else estimated from duration
    bit_rate: int = 0
    audio_streams: list[AudioStreamInfo] = field(default_factory=list)

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_streams)

    @property
    def display_width(self) -> int:
        return self.height if self.rotation_deg in (90, 270) else self.width

    @property
    def display_height(self) -> int:
        return self.width if self.rotation_deg in (90, 270) else self.height

    @property
    def is_portrait(self) -> bool:
        return self.display_height > self.display_width


def clockwise_rotation(frame: av.VideoFrame) -> int:
    """The clockwise turn (0/90/180/270) that shows `frame` upright.

    FFmpeg's display matrix angle (`VideoFrame.rotation`) is counter-clockwise; a phone held
    upright usually stores -90 there, which is a 90 degree clockwise turn.
    """
    try:
        ccw = float(frame.rotation)
    except Exception:  # no display matrix, or a PyAV without the property
        return 0
    return int(round(-ccw / 90.0)) % 4 * 90


def open_container(path: str | os.PathLike) -> av.container.InputContainer:
    """Open `path` for reading or raise a `MediaError` that says why it cannot be read."""
    p = Path(path)
    name = p.name
    if not p.exists():
        raise MediaError(f"There is no file at {p}.", "Check the path and try again.")
    if p.is_dir():
        raise MediaError(f"{p} is a folder, not a video file.", "Choose a video file inside it.")
    if p.stat().st_size == 0:
        raise MediaError(f"'{name}' is empty (0 bytes): it holds no video.",
                         "The copy or download probably failed; copy the clip again.")
    try:
        try:
            return av.open(str(p), mode="r")
        except UnicodeDecodeError:
            # Tags (title, comment...) written by old tools in Latin-1, not UTF-8: "Caf\xe9".
            # Latin-1 decodes any byte, and is what such tags almost always are.
            return av.open(str(p), mode="r", metadata_encoding="latin-1")
    except av.error.EOFError:
        raise MediaError(f"'{name}' is a zero-length clip: the file ends before any picture.",
                         "The recording or copy did not finish; export or copy the clip again.") from None
    except av.error.InvalidDataError:
        if _looks_like_mp4(p):
            raise MediaError(f"'{name}' is an incomplete or damaged MP4/MOV file: the index that "
                             "says where its pictures are is missing.",
                             "This happens when a recording or copy stops early. Copy the clip "
                             "again from the camera or phone, or re-export it.") from None
        raise MediaError(f"'{name}' is not a video file Robin Studio can read: "
                         "its contents are not in any known video format, or it is badly damaged.",
                         _HINT_REEXPORT) from None
    except av.error.PermissionError:
        raise MediaError(f"Robin Studio may not read '{name}'.",
                         "Check the file's permissions.") from None
    except (av.error.FFmpegError, OSError) as err:
        raise MediaError(f"'{name}' cannot be opened as a video ({err}).", _HINT_REEXPORT) from None


def _looks_like_mp4(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(12)
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")


def pick_video_stream(container: av.container.InputContainer, name: str) -> av.video.stream.VideoStream:
    """The clip's main picture stream (cover art in audio files does not count)."""
    for stream in container.streams.video:
        if stream.disposition & av.stream.Disposition.attached_pic:
            continue
        return stream
    if container.streams.audio:
        raise MediaError(f"'{name}' holds only sound, no picture: there is no video stream to score.",
                         "Open the video file itself rather than its soundtrack.")
    raise MediaError(f"'{name}' has no video stream.", _HINT_REEXPORT)


def check_decoder(stream: av.video.stream.VideoStream, name: str) -> None:
    """Raise a `MediaError` if this FFmpeg has no decoder for the stream's codec."""
    ctx = stream.codec_context
    try:
        decoder = av.codec.Codec(ctx.name, "r") if ctx is not None else None
    except (av.error.FFmpegError, ValueError, av.codec.codec.UnknownCodecError):
        decoder = None
    if decoder is None:
        what = f"the {ctx.name} video codec" if ctx is not None else "a video codec FFmpeg does not know"
        raise MediaError(f"'{name}' uses {what}, which Robin Studio cannot decode.",
                         "Convert it to H.264, HEVC, VP9 or ProRes (any editor or HandBrake can) "
                         "and open the converted file.")


def _duration_s(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000.0
    return 0.0


def _scan_packets(container, stream, count_all: bool) -> tuple[np.ndarray, int]:
    """(seconds between the presentation times of the first video packets, packets seen).

    Only the first `_VFR_PACKETS` are looked at, unless `count_all` (a raw stream without a
    stated duration), when every packet is counted (demuxing only: no decoding).
    """
    pts: list[int] = []
    seen = 0
    try:
        for packet in container.demux(stream):
            if packet.size <= 0:
                continue
            seen += 1
            if packet.pts is not None and len(pts) < _VFR_PACKETS:
                pts.append(packet.pts)
            if seen >= _VFR_PACKETS and not count_all:
                break
    except av.error.FFmpegError:
        pass  # damage shows up later, in decoding; this is only a rate estimate
    if len(pts) < 3 or stream.time_base is None:
        return np.zeros(0), seen
    times = np.sort(np.asarray(pts, dtype=np.float64)) * float(stream.time_base)
    return np.diff(times), seen


def _is_vfr(intervals: np.ndarray) -> bool:
    intervals = intervals[intervals > 0]
    if intervals.size < 3:
        return False
    median = float(np.median(intervals))
    off = np.abs(intervals - median) > _VFR_TOLERANCE * median
    return bool(off.mean() > 0.05)


def probe(path: str | os.PathLike) -> MediaInfo:
    """Describe the video at `path`; raise `MediaError` if it cannot be used."""
    name = Path(path).name
    container = open_container(path)
    try:
        if container.format.name.endswith("_pipe") or container.format.name == "image2":
            raise MediaError(f"'{name}' is a still picture, not a video.",
                             "Open a video clip; to score a slideshow, export it as a video first.")
        stream = pick_video_stream(container, name)
        check_decoder(stream, name)
        audio = [
            AudioStreamInfo(index=s.index, codec=s.codec_context.name if s.codec_context else "unknown",
                            sample_rate_hz=int(s.codec_context.sample_rate or 0) if s.codec_context else 0,
                            channels=int(s.codec_context.channels or 0) if s.codec_context else 0,
                            language=str(s.language or ""))
            for s in container.streams.audio
        ]
        duration_s = _duration_s(container, stream)
        intervals, packets = _scan_packets(container, stream, count_all=duration_s <= 0)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        is_vfr = _is_vfr(intervals)
        positive = intervals[intervals > 0]
        # Headers of variable-rate files often state a nominal rate; measure the real one.
        if positive.size and (is_vfr or fps <= 0 or fps > 1000):
            fps = 1.0 / float(positive.mean())
        first = _first_frame(path, name)
        rotation = clockwise_rotation(first)
        if duration_s <= 0 and packets > 1 and fps > 0:  # raw stream: no timestamps, no length
            duration_s = packets / fps
        frame_count = int(stream.frames or 0) or int(round(duration_s * fps))
        if duration_s <= 0 and frame_count <= 1:
            raise MediaError(f"'{name}' is a zero-length clip: it has no running time.",
                             "Export the clip again with some frames in it.")
        ctx = stream.codec_context
        return MediaInfo(
            path=str(path), container=container.format.name, duration_s=duration_s, fps=fps,
            is_vfr=is_vfr, width=int(ctx.width or first.width),
            height=int(ctx.height or first.height), rotation_deg=rotation, video_codec=ctx.name,
            pixel_format=str(ctx.pix_fmt or first.format.name), frame_count=frame_count,
            bit_rate=int(container.bit_rate or 0), audio_streams=audio)
    finally:
        container.close()


def _first_frame(path: str | os.PathLike, name: str) -> av.VideoFrame:
    """Decode the first picture from a fresh opening (raw streams cannot seek back)."""
    container = open_container(path)
    try:
        stream = pick_video_stream(container, name)
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as err:
        raise MediaError(f"'{name}' is damaged: its first picture cannot be decoded ({err}).",
                         _HINT_REEXPORT) from None
    finally:
        container.close()
    raise MediaError(f"'{name}' is a zero-length clip: its video stream has no frames.",
                     "Export the clip again with some frames in it.")
