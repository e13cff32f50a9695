"""Bounds on what a user can ask for, checked at the edges (CLI options, prompts, files).

Each number has a range that makes musical sense; outside it (or not finite) the command
stops at once with an `InputError` that names the option, the value and the range, instead
of planning 41 million bars for `--tempo 1e9` or silently ignoring `--tempo 0`. The tables
are plain data so a musician can widen a range without reading the code.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from robin_studio.errors import InputError

# name -> (lowest, highest, unit, what it is)
RANGES: dict[str, tuple[float, float, str, str]] = {
    "tempo": (20.0, 400.0, "bpm", "tempo"),
    "music_gain_db": (-60.0, 24.0, "dB", "music level"),
    "original_gain_db": (-60.0, 24.0, "dB", "original sound level"),
    "lufs": (-40.0, -5.0, "LUFS", "loudness target"),
    "seed": (0, 2**32 - 1, "", "seed"),
}

# A prompt is read up to this many characters (about 150 words); the sentence encoder costs
# about 2 ms a character, so 100,000 characters took two minutes. The rest is dropped with a note.
MAX_PROMPT_CHARS = 1000


def check_number(name: str, value: float | int | None, option: str | None = None) -> float | int | None:
    """`value` if finite and inside RANGES[name] (None passes: "not given"); else InputError."""
    if value is None:
        return None
    low, high, unit, what = RANGES[name]
    flag = option or "--" + name.replace("_", "-")
    span = f"{low:g} to {high:g}" + (f" {unit}" if unit else "")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{flag} {value!r} is not a number.",
                         f"Give the {what} as a number from {span}.") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InputError(f"{flag} {number:g} is outside the {what} range ({span}).",
                         f"Give the {what} as a finite number from {span}.")
    return value


def bounded_prompt(text: str) -> str:
    """The prompt cut to `MAX_PROMPT_CHARS` at a word boundary (unchanged when shorter)."""
    if len(text) <= MAX_PROMPT_CHARS:
        return text
    cut = text[:MAX_PROMPT_CHARS]
    space = cut.rfind(" ", MAX_PROMPT_CHARS // 2)
    return cut[:space] if space > 0 else cut


def prompt_note(text: str) -> str:
    """What to tell the user when a prompt is cut ("" when it is not)."""
    if len(text) <= MAX_PROMPT_CHARS:
        return ""
    return (f"the prompt is {len(text):,} characters long; only its first {MAX_PROMPT_CHARS:,} "
            "are read (say the few things that matter most first)")


def check_input_file(path: str | os.PathLike, what: str = "file", max_bytes: int | None = None) -> Path:
    """`path` if it is an existing regular file (not a FIFO, device, socket or folder: reading
    a FIFO blocks forever), at most `max_bytes` long; else InputError."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(f"The {what} {p} was not found.", "Check the path and try again.") from None
    except OSError as err:
        raise InputError(f"The {what} {p} cannot be read ({err.strerror}).",
                         "Check the path and its permissions.") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{p} is a folder, not a {what}.", f"Choose a {what} inside it.")
    if not stat.S_ISREG(st.st_mode):
        kind = "a pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise InputError(f"{p} is {kind}, not a {what}.",
                         f"Save the {what} to disk first and give its path.")
    if max_bytes is not None and st.st_size > max_bytes:
        raise InputError(f"The {what} {p} is {st.st_size / 2**20:.1f} MB; at most "
                         f"{max_bytes / 2**20:.0f} MB are read.", f"Use a smaller {what}.")
    return p
