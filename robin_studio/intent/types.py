"""What the creator asked for, once parsed: explicit controls that are obeyed exactly, and
a sentence embedding of the whole prompt that steers everything else."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robin_studio.score.types import Role


@dataclass
class TimedWish:
    """A wish tied to the picture: "quiet for the first 10 seconds", "drop at the title card"."""

    kind: str                 # "quiet", "loud", "drop", "silence", "build"...
    start_s: float | None = None
    end_s: float | None = None
    text: str = ""
    # Added by the engine owner (fields with defaults; nothing renamed):
    anchor_text: str = ""     # a picture moment in words ("the title card", "sunrise", "intro",
                              # "ending"): the engine ties it to a section via shot labels
    relative_to_end: bool = False  # start_s/end_s count back from the video's end ("last 10 s")
    roles: tuple[Role, ...] = ()   # the wish concerns only these roles ("no drums until ...")


@dataclass
class Intent:
    prompt: str = ""
    text_embedding: np.ndarray | None = None   # float32 (384,), L2-normalised; None = no text
    style: str | None = None                   # one of intent.styles.STYLES, or None = let the model pick
    moods: list[str] = field(default_factory=list)
    tempo_bpm: float | None = None             # an explicit tempo ("92 bpm") is obeyed exactly
    tempo_range_bpm: tuple[float, float] | None = None  # "slow", "fast"...
    key_tonic: int | None = None               # pitch class, 0 = C
    key_mode: str | None = None                # "major" / "minor"
    include_roles: set[Role] = field(default_factory=set)
    exclude_roles: set[Role] = field(default_factory=set)
    instruments: list[str] = field(default_factory=list)          # e.g. "piano", "strings"
    excluded_instruments: list[str] = field(default_factory=list)
    dynamics: float | None = None              # 0 soft .. 1 loud, None = follow the picture
    timed_wishes: list[TimedWish] = field(default_factory=list)
    # Added by the engine owner (fields with defaults; nothing renamed):
    exclusive_instruments: bool = False        # "solo piano", "only strings": nothing else plays
    # Added by the hitpoints owner: "hit at 0:12.4", "soft hit at 31 s" -> (time_s, strong)
    hit_points: list[tuple[float, bool]] = field(default_factory=list)
    # Added by the prompts owner (issue 16; fields with defaults, nothing renamed):
    drum_kit: str | None = None                # "808 kit", "brush kit"... (intent.instruments)
    energy: float | None = None                # 0 still .. 1 full tilt, from the tone words
    # control -> the words of the prompt that set it; keys as in `intent.report.controls`, and
    # "instruments:NAME", "excluded_instruments:NAME", "exclude_roles:ROLE" per item
    provenance: dict[str, list[str]] = field(default_factory=dict)
    # (start, end, control): where those words are in `prompt` (character offsets)
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    substitutions: list[tuple[str, str]] = field(default_factory=list)  # (word, instrument used)
    unknown_words: list[str] = field(default_factory=list)  # words that set no control
    notes: list[str] = field(default_factory=list)  # what could not be honoured exactly, and why
