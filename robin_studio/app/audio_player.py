"""Playback of the music through sounddevice; its clock is the clock the picture follows.

The player holds one stereo float32 buffer at 48 kHz as long as the clip (and, mixed under
it at the export's default level, the clip's own sound, which can be switched off). Chunks are written
into it as they arrive, so playback can start before generation ends. A PortAudio callback
copies from the buffer at the current speed (1 = play, 2/4 = fast forward, negative = the
J key's reverse shuttle, sample-stepped like an editor's scrub) and advances the position;
`position_s()` is therefore the time being heard, and the window moves the picture to it.
With no output device the player says so (`available`, `notice`), never opens a stream, and
plays silently against the system clock instead (`silent`): the position advances at the asked
speed from the moment Play was pressed, so the picture still plays and J/K/L still shuttle.
No Qt here.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import numpy as np

from robin_studio.app.checks import check_audio_device

SAMPLE_RATE = 48_000


def _default_stream_factory(callback: Callable) -> object:
    import sounddevice as sd
    return sd.OutputStream(samplerate=SAMPLE_RATE, channels=2, dtype="float32",
                           callback=callback, latency="low")


class AudioPlayer:
    def __init__(self, available: bool | None = None,
                 stream_factory: Callable[[Callable], object] | None = None) -> None:
        if available is None:
            check = check_audio_device()
            available, self.notice = check.ok, ("" if check.ok else check.message)
        else:
            self.notice = "" if available else ("Sound is off: no audio output device. The picture "
                                                "plays without sound.")
        self.available = bool(available)
        self._factory = stream_factory or _default_stream_factory
        self._lock = threading.Lock()
        self._buffer = np.zeros((0, 2), dtype=np.float32)
        self._shared = False     # _buffer is someone else's array (copy before writing)
        self._original: np.ndarray | None = None   # the clip's own sound, mixed under the music
        self.original_gain = 10 ** (-12 / 20)       # as the export's default mix
        self.original_on = True
        self._pos = 0.0          # frames, fractional while shuttling
        self._speed = 0.0        # 0 = paused
        self._stream = None
        self.ended = False       # reached an end of the buffer while playing
        self._clock: tuple[float, float] | None = None   # silent play: (monotonic start, frame)
        self.clock = time.monotonic                     # the system clock (tests may step it)

    @property
    def silent(self) -> bool:
        """True when playing goes by the system clock, without sound (no output device)."""
        return not self.available

    # -- content ---------------------------------------------------------------------
    def set_duration(self, duration_s: float) -> None:
        n = max(0, int(round(duration_s * SAMPLE_RATE)))
        with self._lock:
            old = self._buffer
            self._buffer = np.zeros((n, 2), dtype=np.float32)
            k = min(n, len(old))
            self._buffer[:k] = old[:k]
            self._shared = False

    def write(self, start_s: float, audio: np.ndarray) -> None:
        """Put `audio` ((n, 2) float32 at 48 kHz) into the buffer starting at `start_s`."""
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 1:
            audio = np.repeat(audio[:, None], 2, axis=1)
        start = max(0, int(round(start_s * SAMPLE_RATE)))
        with self._lock:
            if self._shared:   # never write into a piece's own audio
                self._buffer = self._buffer.copy()
                self._shared = False
            end = min(len(self._buffer), start + len(audio))
            if end > start:
                self._buffer[start:end] = audio[: end - start]

    def set_audio(self, audio: np.ndarray) -> None:
        """Replace everything from time 0 (keeps the buffer's length). A finished piece's
        audio of the right shape is used as it is, without a copy (switching takes on a long
        piece stays instant); a later `write` copies it first."""
        audio = np.asarray(audio)
        n = len(self._buffer)
        if audio.dtype == np.float32 and audio.shape == (n, 2) and audio.flags.c_contiguous:
            with self._lock:
                self._buffer = audio
                self._shared = True
            return
        with self._lock:
            self._buffer = np.zeros((n, 2), dtype=np.float32)
            self._shared = False
        self.write(0.0, audio)

    def set_original(self, audio: np.ndarray | None, gain_db: float | None = None) -> None:
        """The clip's own sound ((n, 2) float32, 48 kHz, from time 0), or None."""
        with self._lock:
            self._original = None if audio is None else np.asarray(audio, dtype=np.float32)
            if gain_db is not None:
                self.original_gain = 10 ** (gain_db / 20)

    def snapshot(self) -> np.ndarray:
        """A copy of the music buffer as it is now (a stopped take keeps what arrived)."""
        with self._lock:
            return self._buffer.copy()

    @property
    def duration_s(self) -> float:
        return len(self._buffer) / SAMPLE_RATE

    # -- transport --------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        with self._lock:
            self._advance_clock()
            return self._speed != 0.0

    @property
    def speed(self) -> float:
        return self._speed

    def position_s(self) -> float:
        with self._lock:
            self._advance_clock()
            return self._pos / SAMPLE_RATE

    def _advance_clock(self) -> None:
        """Silent play: move the position by the system clock (caller holds the lock)."""
        if self._clock is None or self._speed == 0.0:
            return
        t0, pos0 = self._clock
        pos = pos0 + (self.clock() - t0) * SAMPLE_RATE * self._speed
        n = max(len(self._buffer), 1)
        if pos >= n or pos <= 0:
            self._pos = float(np.clip(pos, 0, n))
            self._speed = 0.0
            self._clock = None
            self.ended = True
        else:
            self._pos = pos

    def seek(self, t_s: float) -> None:
        with self._lock:
            self._pos = float(np.clip(t_s * SAMPLE_RATE, 0, len(self._buffer)))
            self.ended = False
            if self._clock is not None:
                self._clock = (self.clock(), self._pos)

    def play(self, speed: float = 1.0) -> bool:
        """Start (or change speed). Without a device, plays silently by the system clock."""
        if speed == 0.0:
            return False
        with self._lock:
            self._advance_clock()
            at_end = self._pos >= len(self._buffer) - 1
            if speed > 0 and at_end:
                self._pos = 0.0          # Space at the end plays again from the start
            self._speed = float(speed)
            self.ended = False
            if not self.available:
                self._clock = (self.clock(), self._pos)
                return True
        if self._stream is None:
            try:
                self._stream = self._factory(self._callback)
                self._stream.start()
            except Exception as err:  # noqa: BLE001 - a device that vanished or refuses
                self._stream = None
                self.available = False
                self.notice = (f"Sound is off: the audio device could not be opened ({err}). "
                               "The picture plays without sound.")
                with self._lock:      # go on silently, by the system clock
                    self._clock = (self.clock(), self._pos)
        return True

    def pause(self) -> None:
        with self._lock:
            self._advance_clock()
            self._speed = 0.0
            self._clock = None
        self._close()

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - closing a dead stream is not worth an error
                pass

    def close(self) -> None:
        self.pause()

    # -- PortAudio thread ----------------------------------------------------------------
    def _callback(self, outdata, frames, time_info, status) -> None:  # noqa: ARG002
        with self._lock:
            buf, pos, speed = self._buffer, self._pos, self._speed
            n = len(buf)
            if speed == 0.0 or n == 0:
                outdata[:] = 0.0
                return
            orig = self._original if self.original_on else None
            if speed == 1.0:
                start = int(pos)
                chunk = buf[start:start + frames]
                outdata[: len(chunk)] = chunk
                outdata[len(chunk):] = 0.0
                if orig is not None:
                    o = orig[start:start + frames]
                    outdata[: len(o)] += self.original_gain * o
                new_pos = pos + frames
            else:
                idx = (pos + np.arange(frames) * speed).astype(np.int64)
                valid = (idx >= 0) & (idx < n)
                outdata[:] = 0.0
                outdata[valid] = buf[idx[valid]]
                if orig is not None:
                    ov = valid & (idx < len(orig))
                    outdata[ov] += self.original_gain * orig[idx[ov]]
                new_pos = pos + frames * speed
            if new_pos >= n or new_pos <= 0:
                self._pos = float(np.clip(new_pos, 0, n))
                self._speed = 0.0
                self.ended = True
            else:
                self._pos = new_pos
