"""Errors a creator sees: each says what went wrong and what to do about it.

Every package raises a subclass of `RobinError` for problems caused by input, files or
the machine (not for programming errors). The CLI prints `str(err)`; the app shows it in a
dialog. Nothing else should need to catch a raw PyAV, ONNX Runtime or OS error.
"""

from __future__ import annotations


class RobinError(Exception):
    """A problem the user can act on. `hint` says what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class MediaError(RobinError):
    """The video (or audio) file cannot be read as asked: not a video, corrupt, empty..."""


class ExportError(RobinError):
    """A result could not be written: unwritable folder, full disk, existing file..."""


class ModelFileError(RobinError):
    """A shipped model file is missing or damaged."""


class SoundFontError(RobinError):
    """No usable SoundFont was found."""


class CancelledError(RobinError):
    """The user cancelled a long operation; nothing half-done was left behind."""

    def __init__(self, message: str = "Cancelled.", hint: str = "") -> None:
        super().__init__(message, hint)


class InputError(RobinError):
    """An option, prompt value or input file is outside what makes sense (a tempo of 0 or
    1e9 bpm, a gain of NaN dB, a FIFO where a file belongs, a MIDI file asking for 100 GiB)."""
