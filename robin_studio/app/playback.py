"""The transport of the editor: the playhead, the picture that follows it, playing (J/K/L
shuttle, frame and second steps), marking a region in and out, and the transport bar's buttons.

`Playback` drives the picture preview, the player and the timeline's playhead from one clock,
the audio device's or, without a device, the system clock (the picture then plays silently
and the notice says so). It reads what is open from the `ClipSession` (duration, frame rate,
the clip's probe) and reports through `Feedback`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from robin_studio.app.picture import FrameFetcher, PicturePreview, frame_index_at
from robin_studio.app.session import ClipSession, Feedback
from robin_studio.app.timeline import Timeline
from robin_studio.app.transport import TransportBar
from robin_studio.media.decode import FrameReader


class Playback(QtCore.QObject):
    """Play, pause, seek and step the clip and its music; mark a region in and out."""

    def __init__(self, parent: QtCore.QObject, session: ClipSession, picture: PicturePreview,
                 transport: TransportBar, player, timeline: Timeline, feedback: Feedback) -> None:
        super().__init__(parent)
        self.session, self.picture, self.transport = session, picture, transport
        self.player, self.timeline, self.feedback = player, timeline, feedback
        self.position_s = 0.0
        self._fetcher: FrameFetcher | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(15)
        self._timer.timeout.connect(self._tick)
        t = transport
        t.home.clicked.connect(lambda: self.seek(0.0))
        t.end.clicked.connect(lambda: self.seek(self.session.duration_s))
        t.back_frame.clicked.connect(lambda: self.step_frames(-1))
        t.fwd_frame.clicked.connect(lambda: self.step_frames(1))
        t.play.clicked.connect(self.toggle_play)
        t.mark_in.clicked.connect(self.mark_in)
        t.mark_out.clicked.connect(self.mark_out)
        t.clip_sound.toggled.connect(lambda on: setattr(self.player, "original_on", bool(on)))
        timeline.seekRequested.connect(self.seek)

    def show_picture_of(self, path: Path) -> None:
        """The picture preview reads frames of the clip at `path` from now on."""
        self.stop_picture()
        self.picture.clear()
        try:
            reader = FrameReader(path, self.session.media_info)
        except Exception as err:  # noqa: BLE001
            self.feedback.show_error(err, "reading the picture")
            return
        self._fetcher = FrameFetcher(reader.frame_at, max_side=1280, close_fn=reader.close)
        self._fetcher.frameReady.connect(self.picture.set_image)
        self._fetcher.failed.connect(lambda msg: self.feedback.set_status(f"Picture: {msg}"))

    def stop_picture(self) -> None:
        if self._fetcher is not None:
            self._fetcher.stop()
            self._fetcher = None

    # -- marks ----------------------------------------------------------------------------
    def mark_in(self) -> None:
        sel = self.timeline.selection_s()
        end = sel[1] if sel and sel[1] > self.position_s else self.session.duration_s
        self.timeline.set_selection(self.position_s, end)

    def mark_out(self) -> None:
        sel = self.timeline.selection_s()
        start = sel[0] if sel and sel[0] < self.position_s else 0.0
        self.timeline.set_selection(start, self.position_s)

    # -- the playhead -----------------------------------------------------------------------
    def seek(self, t_s: float, from_player: bool = False) -> None:
        duration_s, fps = self.session.duration_s, self.session.fps
        t_s = float(np.clip(t_s, 0.0, max(0.0, duration_s)))
        self.position_s = t_s
        if not from_player:
            self.player.seek(t_s)
        self.timeline.set_playhead(t_s, follow=from_player)
        frame = frame_index_at(t_s, fps)
        self.transport.show_time(t_s, duration_s, frame)
        if self._fetcher is not None:
            # Ask for the frame's own start time: frame-accurate whatever t_s was within it.
            self._fetcher.request(min(frame / fps, max(0.0, duration_s - 0.5 / fps)))

    def step_frames(self, n: int) -> None:
        self.pause()
        fps = self.session.fps
        frame = frame_index_at(self.position_s, fps) + n
        last = max(0, int(math.ceil(self.session.duration_s * fps)) - 1)
        self.seek(min(max(0, frame), last) / fps)

    def step_seconds(self, s: float) -> None:
        self.pause()
        self.seek(self.position_s + s)

    def play(self, speed: float = 1.0) -> bool:
        """Play at `speed` (J/K/L). Without an audio device the picture plays silently by the
        system clock, and the notice says that sound is off."""
        if self.session.duration_s <= 0 or not self.player.play(speed):
            return False
        if self.player.silent:
            self.feedback.show_notice(self.player.notice)
            self.feedback.set_status(f"Playing the picture{'' if speed == 1 else f' at {speed:+g}x'} without "
                                     "sound (no audio device); export still has the music.")
        self._timer.start()
        self.transport.show_playing(True)
        return True

    def pause(self) -> None:
        if self.player.playing or self._timer.isActive():
            self.player.pause()
            self._timer.stop()
            self.transport.show_playing(False)

    def toggle_play(self) -> None:
        if self.player.playing:
            self.pause()
        else:
            self.play(1.0)

    def shuttle(self, direction: int) -> None:
        """J/K/L: K stops; L plays forward, again for 2x and 4x; J the same backwards."""
        if direction == 0:
            self.pause()
            return
        speed = self.player.speed if self.player.playing else 0.0
        self.play(max(-4.0, min(4.0, speed * 2)) if speed * direction > 0 else float(direction))

    def _tick(self) -> None:
        """Player clock (the audio device's, or the system clock) -> picture and playhead."""
        t = self.player.position_s()
        if abs(t - self.position_s) > 1e-4:
            self.seek(t, from_player=True)
        if not self.player.playing:
            self.pause()
