"""The loudness curve of a piece, planned before its first note sounds.

Why: a master that steers every chunk towards -14 LUFS levels out every build the
arrangement writes (issue 14: "builds to a huge climax at the end" came out 0.7-3.5 dB
*quieter* at the end). Instead the piece's shape is planned from what is known before the
first chunk, the per-bar energy of the plan (which already carries the picture's motion and
the prompt's wishes) and the wishes themselves, and the master follows that curve: the
streaming master gains each sample by `offset_db(t)` on top of its level, the export then
brings the whole piece to -14 LUFS integrated with one gain, so the shape survives.

The numbers below are musical choices, in dB relative to the piece's main level:
- the energy of a bar moves its level by `ENERGY_DB_PER_UNIT` per unit of energy around
  `ENERGY_CENTRE` (smoothed over three bars so motion does not make the level wobble);
- a quiet span sits `QUIET_DB` under the main level, a loud one `LOUD_DB` over it;
- a build ramps from `BUILD_FROM_DB` to `BUILD_TO_DB` over its span (a climax at the end);
- a drop takes a breath (`DROP_BREATH_DB` for `DROP_BREATH_BARS` bars before it) and then
  lands `DROP_DB` over the main level for `DROP_BARS` bars, as a step, not a ramp.

Plain data in, plain data out: the engine (generate/sound.py) turns its controls and the
resolved wishes into `Wish`es; render/ never imports generate/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

ENERGY_CENTRE = 0.6
ENERGY_DB_PER_UNIT = 8.0
ENERGY_RANGE_DB = (-8.0, 2.0)
QUIET_DB = -10.0
LOUD_DB = 2.0
BUILD_FROM_DB = -10.0
BUILD_TO_DB = 2.0
DROP_BREATH_DB = -9.0
DROP_BREATH_BARS = 2
DROP_DB = 2.0
DROP_BARS = 8
RAMP_S = 0.3          # a change of level between bars is spread over this long (no clicks)


@dataclass(frozen=True)
class Wish:
    """A timed wish, resolved to seconds: kind in quiet/loud/silence/build/drop/resolve."""
    kind: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class LoudnessPlan:
    """A piecewise-linear loudness offset (dB) over time (s); flat beyond its ends."""
    times_s: tuple[float, ...]
    offsets_db: tuple[float, ...]

    @classmethod
    def flat(cls) -> "LoudnessPlan":
        return cls((0.0,), (0.0,))

    @property
    def is_flat(self) -> bool:
        return not any(abs(v) > 1e-9 for v in self.offsets_db)

    def offset_db(self, t_s: np.ndarray | float) -> np.ndarray:
        return np.interp(np.asarray(t_s, np.float64), self.times_s, self.offsets_db)

    def gains(self, start_n: int, n: int, sample_rate: int) -> np.ndarray:
        """Linear gain per sample for samples [start_n, start_n + n), float32 (n,)."""
        if self.is_flat:
            return np.ones(n, np.float32)
        # The curve is smooth over RAMP_S: evaluate every 64 samples and interpolate.
        step = 64
        idx = np.arange(start_n - start_n % step, start_n + n + step, step)
        coarse = 10 ** (self.offset_db(idx / sample_rate) / 20.0)
        return np.interp(np.arange(start_n, start_n + n), idx, coarse).astype(np.float32)


def plan_loudness(bar_starts_s: Sequence[float], bar_energy: Sequence[float],
                  wishes: Iterable[Wish] = ()) -> LoudnessPlan:
    """The plan for a piece whose bar i starts at `bar_starts_s[i]` (one more entry than
    bars: the end) and has energy `bar_energy[i]` (0..1)."""
    starts = np.asarray(bar_starts_s, np.float64)
    n = len(starts) - 1
    if n <= 0:
        return LoudnessPlan.flat()
    energy = np.clip(np.asarray(bar_energy, np.float64)[:n], 0.0, 1.0)
    if len(energy) < n:
        energy = np.concatenate([energy, np.full(n - len(energy), ENERGY_CENTRE)])
    smooth = np.convolve(np.pad(energy, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    off = np.clip(ENERGY_DB_PER_UNIT * (smooth - ENERGY_CENTRE), *ENERGY_RANGE_DB)
    steps: set[int] = set()          # bar lines where the level changes at once (drops)
    mids = (starts[:-1] + starts[1:]) / 2

    def bars_in(a: float, b: float) -> np.ndarray:
        return np.nonzero((mids >= a) & (mids < max(b, a + 1e-6)))[0]

    for w in sorted(wishes, key=lambda w: w.kind == "drop"):   # drops last: they win
        if w.kind in ("quiet", "silence"):
            idx = bars_in(w.start_s, w.end_s)
            off[idx] = np.minimum(off[idx], QUIET_DB)
        elif w.kind == "loud":
            idx = bars_in(w.start_s, w.end_s)
            off[idx] = np.maximum(off[idx], LOUD_DB)
        elif w.kind == "build":
            idx = bars_in(w.start_s, w.end_s)
            if len(idx):
                off[idx] = np.linspace(BUILD_FROM_DB, BUILD_TO_DB, len(idx))
        elif w.kind == "drop":
            # the bar the arrangement drops on (generate.conditions: the bar holding the
            # wish's time, with half a beat of grace so a drop just before a bar line is on it)
            grace = (starts[1:] - starts[:-1]) / 8.0
            bar = int(np.clip(np.sum(starts[:-1] <= w.start_s + grace) - 1, 0, n - 1))
            b0 = max(0, bar - DROP_BREATH_BARS)
            off[b0:bar] = np.minimum(off[b0:bar], DROP_BREATH_DB)
            off[bar:bar + DROP_BARS] = np.maximum(off[bar:bar + DROP_BARS], DROP_DB)
            steps.add(bar)
    times: list[float] = []
    values: list[float] = []
    for i in range(n):
        a, b = starts[i], starts[i + 1]
        half = 0.0 if i in steps else min(RAMP_S / 2, (b - a) / 4)
        end_half = 0.0 if (i + 1) in steps else min(RAMP_S / 2, (b - a) / 4)
        if i in steps:
            a += 0.01          # a step over 10 ms (no click): the previous bar holds to the bar line
        times += [a + half, b - end_half]
        values += [float(off[i]), float(off[i])]
    return LoudnessPlan(tuple(times), tuple(values))
