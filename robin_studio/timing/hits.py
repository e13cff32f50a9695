"""Hit points: moments the creator places ("hit at 0:12.4") that the music must mark.

A hit point is strong (a downbeat, an accent with a cymbal) or soft (an accent). The tempo
solver treats every hit point like a strong cut that matters more than any cut: it may
change the tempo there, and it aims for a beat within 10 ms whatever the frame rate (see
`solver._build_points`). A strong hit point asks for a bar line harder than a strong cut
and may jump the tempo three times as far (a cue changes tempo at its sync point), so that
72-80 % of strong hit points land on a bar line on the eval's random sets (52-62 % before).
Where the tempo freedom cannot put it on a beat, the music still hits it exactly where it
falls, as it does for off-beat cuts (`generate.conditions`); where it lands on a beat inside
the bar, the band plays that beat as a downbeat: bass and harmony arrive with the crash
(`Arrangement.hit_points`).

Also here: cuts the creator demoted ("ignore this cut"), parsing and printing of times
("12.4", "0:31.20", "1:02:03.5", with ":strong"/":soft"), the landing of each hit point
on a solved tempo map, and `hit_landing_rates`, the measure `robin-studio eval` reports
beside the cut landing rates.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from robin_studio.errors import RobinError
from robin_studio.score.tempo_map import TempoMap
from robin_studio.timing.grid import ON_BEAT_TOLERANCE_S, nearest_beat
from robin_studio.timing.solver import CutMark

STRONG_HIT_STRENGTH = 1.0    # a strong hit point asks for a bar line, as a strong cut does
SOFT_HIT_STRENGTH = 0.4      # a soft one for a beat
IGNORE_CUT_SNAP_S = 0.05     # a demoted cut matches an analysed cut this close to it
HIT_MIN_GAP_S = 1.0          # random hit sets (the eval): hit points at least this far apart


@dataclass(frozen=True)
class HitPoint:
    """A moment the music must mark, placed by the creator."""

    time_s: float
    strong: bool = True

    def label(self) -> str:
        return f"{format_time(self.time_s)} {'strong' if self.strong else 'soft'}"

    def to_dict(self) -> dict:
        return {"time_s": round(float(self.time_s), 4), "strong": bool(self.strong)}

    @classmethod
    def from_dict(cls, d: dict) -> "HitPoint":
        t = float(d["time_s"])
        if not (math.isfinite(t) and t >= 0):
            raise ValueError(f"a hit point at {t} s is not a time in the video")
        return cls(t, bool(d.get("strong", True)))


_TIME_RE = re.compile(r"^\s*(?:(?:(?P<h>\d+):)?(?P<m>\d+):)?(?P<s>\d+(?:[.,]\d*)?)\s*s?\s*$")


def parse_time(text: str) -> float:
    """Seconds from "12.4", "12,4 s", "0:31.20" (m:ss.ff) or "1:02:03.5" (h:mm:ss.f)."""
    m = _TIME_RE.match(str(text))
    if not m:
        raise RobinError(f"'{text}' is not a time.",
                         "Write a time in seconds (12.4) or minutes:seconds (0:31.20).")
    secs = float(m.group("s").replace(",", "."))
    if m.group("m") is not None:
        if secs >= 60:
            raise RobinError(f"'{text}' has {secs:g} seconds in a minute.",
                             "Write minutes:seconds with seconds below 60, such as 1:05.2.")
        secs += 60 * int(m.group("m"))
    if m.group("h") is not None:
        secs += 3600 * int(m.group("h"))
    return secs


def parse_hit(text: str, strong: bool = True) -> HitPoint:
    """A hit point from the command line: a time, optionally ":strong" or ":soft" after it."""
    t = str(text).strip()
    word = re.search(r"[:\s]+(strong|soft)\s*$", t, re.I)
    if word:
        strong = word.group(1).lower() == "strong"
        t = t[:word.start()]
    return HitPoint(parse_time(t), strong)


def format_time(seconds: float) -> str:
    """"0:12.40" for 12.4 s (m:ss.ff; h:mm:ss.ff past an hour)."""
    seconds = max(0.0, float(seconds))
    cs = int(round(seconds * 100))
    h, rest = divmod(cs, 360000)
    m, rest = divmod(rest, 6000)
    s = rest / 100
    return f"{h}:{m:02d}:{s:05.2f}" if h else f"{m}:{s:05.2f}"


def check_hits(hits: Iterable[HitPoint], duration_s: float) -> list[HitPoint]:
    """The hit points sorted, one per moment; a clear message for one outside the video."""
    out: dict[int, HitPoint] = {}
    for h in hits:
        if not (0.0 < h.time_s < duration_s):
            raise RobinError(f"The hit point at {format_time(h.time_s)} is outside the video "
                             f"(0:00.00 to {format_time(duration_s)}).",
                             "Place hit points within the video's length.")
        k = int(round(h.time_s * 1000))
        out[k] = HitPoint(h.time_s, h.strong or (k in out and out[k].strong))
    return [out[k] for k in sorted(out)]


def hit_cut_marks(hits: Iterable[HitPoint]) -> list[CutMark]:
    """The hit points as moments for the tempo solver."""
    return [CutMark(float(h.time_s), STRONG_HIT_STRENGTH if h.strong else SOFT_HIT_STRENGTH,
                    hit=True) for h in hits]


def is_ignored(time_s: float, ignored_cuts_s: Sequence[float]) -> bool:
    """Whether the cut at `time_s` was demoted by the creator (a marker within 50 ms)."""
    return any(abs(float(time_s) - float(c)) <= IGNORE_CUT_SNAP_S for c in ignored_cuts_s)


# -- where the music put each hit point ----------------------------------------------------
@dataclass(frozen=True)
class HitLanding:
    """One hit point against the music: planned, where the grid put it, what was heard."""

    time_s: float              # planned (the creator's time)
    strong: bool
    music_s: float             # where the music marks it: the beat when on one, else itself
    beat: int                  # nearest whole beat of the piece
    beat_s: float              # that beat's time
    distance_ms: float         # planned time minus the nearest beat, signed (> 0: beat early)
    on_beat: bool              # within 10 ms of that beat
    on_bar_line: bool          # ... and the beat starts a bar
    heard_s: float | None = None   # the onset heard in the render nearest to it, if any

    @property
    def heard_ms(self) -> float | None:
        return None if self.heard_s is None else 1000.0 * (self.heard_s - self.time_s)

    def line(self) -> str:
        where = ("on a bar line" if self.on_bar_line else "on a beat") if self.on_beat else \
            f"off the beat ({self.distance_ms:+.0f} ms): hit where it falls"
        heard = "" if self.heard_s is None else f", heard at {format_time(self.heard_s)} " \
                                                f"({self.heard_ms:+.0f} ms)"
        return (f"hit {format_time(self.time_s)} {'strong' if self.strong else 'soft'}: "
                f"music at {format_time(self.music_s)}, {where}{heard}")


def hit_landings(tempo_map: TempoMap, hits: Sequence[HitPoint],
                 tolerance_s: float = ON_BEAT_TOLERANCE_S) -> list[HitLanding]:
    """Where the tempo map puts each hit point (heard onsets are added by the engine)."""
    bpb = tempo_map.beats_per_bar
    out = []
    for h in hits:
        b, r = nearest_beat(tempo_map, float(h.time_s))
        on = abs(r) <= tolerance_s
        bt = tempo_map.seconds_at(b)
        out.append(HitLanding(float(h.time_s), bool(h.strong), bt if on else float(h.time_s), b,
                              bt, 1000.0 * r, on, on and b % bpb == 0))
    return out


# -- the eval's measure ------------------------------------------------------------------
def random_hit_set(rng: random.Random, *, min_gap_s: float = HIT_MIN_GAP_S
                   ) -> tuple[float, list[HitPoint]]:
    """(duration, hit points): 3-6 hit points, strong or soft at random, in a 30-60 s clip,
    at least `min_gap_s` apart and from either end (a creator marks moments, not flams)."""
    dur = rng.uniform(30.0, 60.0)
    n = rng.randint(3, 6)
    while True:
        times = sorted(rng.uniform(min_gap_s, dur - min_gap_s) for _ in range(n))
        if all(b - a >= min_gap_s for a, b in zip(times, times[1:])):
            return dur, [HitPoint(t, rng.random() < 0.5) for t in times]


def hit_landing_rates(n_sets: int = 60, seed: int = 0, *, with_cuts: bool = False,
                      min_gap_s: float = HIT_MIN_GAP_S, fps: float = 25.0,
                      bpm_range: tuple[float, float] = (72.0, 132.0)) -> dict:
    """Share of hit points on a beat within 10 ms, tempo free, over seeded random sets.

    Each set is `random_hit_set`; with `with_cuts`, 4-12 random cuts of random strength
    compete with the hit points (as in a real edit). Returns the rates for people and for
    `robin-studio eval`: {"hits", "on_beat", "rate", "strong_on_bar", "strong",
    "strong_bar_rate", "median_miss_ms", "sets"}."""
    from robin_studio.timing.solver import solve_tempo_map

    rng = random.Random(seed)
    n_hits = on = strong = strong_bar = 0
    misses: list[float] = []
    for _ in range(n_sets):
        dur, hits = random_hit_set(rng, min_gap_s=min_gap_s)
        marks = hit_cut_marks(hits)
        if with_cuts:
            marks += [CutMark(rng.uniform(0.5, dur - 0.5), rng.uniform(0.2, 0.9))
                      for _ in range(rng.randint(4, 12))]
        sol = solve_tempo_map(marks, dur, bpm_range=bpm_range, frame_s=1.0 / fps)
        for land in hit_landings(sol.tempo_map, hits):
            n_hits += 1
            on += land.on_beat
            if land.strong:
                strong += 1
                strong_bar += land.on_bar_line
            if not land.on_beat:
                misses.append(abs(land.distance_ms))
    misses.sort()
    return {"sets": n_sets, "hits": n_hits, "on_beat": on, "rate": on / max(1, n_hits),
            "strong": strong, "strong_on_bar": strong_bar,
            "strong_bar_rate": strong_bar / max(1, strong),
            "median_miss_ms": misses[len(misses) // 2] if misses else 0.0}
