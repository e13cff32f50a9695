"""Which bars a region regeneration changes, and which stretch of audio: one definition, used
by the engine (`RegenerationJob`) and by the app (the selection snaps to exactly this before
the creator presses Ctrl+R). Light on purpose: the window imports it without the engine.

A selection [start_s, end_s) becomes the bars that overlap it. The new audio starts one attack
lead (`sound.ATTACK_LOOKAHEAD_S`) before the first bar line, where slow attacks of the new
notes begin to sound, and runs `REGION_TAIL_S` past the last bar line, where the new notes'
releases and reverb ring out; everywhere else the audio stays sample for sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robin_studio.generate.sound import ATTACK_LOOKAHEAD_S

REGION_TAIL_S = 1.5         # after a regenerated region, new audio rings this long


@dataclass(frozen=True)
class RegionSpan:
    bar_start: int            # first bar regenerated
    bar_end: int              # exclusive
    bars_start_s: float       # first bar line
    bars_end_s: float         # bar line after the last bar (or the clip's end)
    audio_start_s: float      # the audio changes from here...
    audio_end_s: float        # ...to here (release tail included)


def region_bars(tm, start_s: float, end_s: float, duration_s: float,
                n_bars: int | None = None) -> tuple[int, int]:
    """The bars [b0, b1) of tempo map `tm` that a selection [start_s, end_s) regenerates."""
    n_bars = max(1, tm.total_bars) if n_bars is None else int(n_bars)
    start_s, end_s = sorted((float(start_s), float(end_s)))
    b0 = int(np.clip(tm.bar_at(max(start_s, tm.offset_s) + 1e-6), 0, n_bars - 1))
    b1 = int(math.ceil(tm.beat_at(min(end_s, duration_s)) / tm.beats_per_bar - 1e-6))
    return b0, int(np.clip(max(b1, b0 + 1), 1, n_bars))


def audio_edge_s(tm, bar: int) -> float:
    """Where audio belonging to `bar` onwards may begin: its bar line less the attack lead."""
    return max(0.0, tm.bar_start_s(bar) - ATTACK_LOOKAHEAD_S)


def region_span(tm, start_s: float, end_s: float, duration_s: float,
                n_bars: int | None = None) -> RegionSpan:
    n = max(1, tm.total_bars) if n_bars is None else int(n_bars)
    b0, b1 = region_bars(tm, start_s, end_s, duration_s, n)
    dur = float(duration_s)
    a_s = audio_edge_s(tm, b0) if b0 > 0 else 0.0
    e_s = dur if b1 >= n else min(dur, tm.bar_start_s(b1) + REGION_TAIL_S)
    return RegionSpan(b0, b1, max(0.0, tm.bar_start_s(b0)), min(dur, tm.bar_start_s(b1)), a_s, e_s)
