"""The tempo map: the one place where seconds and beats are converted.

A tempo map is a list of segments laid end to end in beats. Within a segment the tempo
either holds or ramps linearly (in beats) from `start_bpm` to `end_bpm`, which is how a
musician writes an accelerando. Beat 0 is at `offset_s` seconds: usually 0; negative when
the first bar is cut in (an anacrusis: the music is already playing when the video starts,
so it sounds from 0 s); positive for music that enters late. Beats before 0 and times
before `offset_s` convert too (the first segment's tempo extends backwards).
Everything else in the project asks this class; nobody multiplies by 60/bpm themselves.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TempoSegment:
    start_beat: float
    length_beats: float
    start_bpm: float
    end_bpm: float

    @property
    def end_beat(self) -> float:
        return self.start_beat + self.length_beats

    def seconds_in(self, beats: float) -> float:
        """Seconds from the segment start to `beats` beats into it."""
        t0, t1, n = self.start_bpm, self.end_bpm, self.length_beats
        if abs(t1 - t0) < 1e-9 or n <= 0:
            return 60.0 * beats / t0
        k = (t1 - t0) / n  # bpm per beat
        return 60.0 / k * math.log((t0 + k * beats) / t0)

    def beats_in(self, seconds: float) -> float:
        """Inverse of `seconds_in`."""
        t0, t1, n = self.start_bpm, self.end_bpm, self.length_beats
        if abs(t1 - t0) < 1e-9 or n <= 0:
            return seconds * t0 / 60.0
        k = (t1 - t0) / n
        return t0 * (math.exp(k * seconds / 60.0) - 1.0) / k

    def bpm_at(self, beats: float) -> float:
        if self.length_beats <= 0:
            return self.start_bpm
        return self.start_bpm + (self.end_bpm - self.start_bpm) * beats / self.length_beats


@dataclass
class TempoMap:
    """Piecewise tempo in beats; the last segment's tempo extends past its end."""

    segments: list[TempoSegment]
    beats_per_bar: int = 4
    offset_s: float = 0.0
    # Short bars (a bar of 2/4 or 5/8 in a 4/4 piece, where a re-edit took part of a bar: see
    # `timing.splice`): bar index -> the p beats of music it holds (whole or half beats). Its
    # beats_per_bar grid beats run at beats_per_bar/p times the music's tempo, and its notes
    # are laid into them scaled (`score.metre`), so it sounds at the music's own tempo.
    short_bars: dict[int, float] = field(default_factory=dict)
    _start_s: list[float] = field(default_factory=list, init=False, repr=False, compare=False)
    _start_beat: list[float] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError("a tempo map needs at least one segment")
        beat = 0.0
        for seg in self.segments:
            if abs(seg.start_beat - beat) > 1e-6:
                raise ValueError("tempo segments must be contiguous from beat 0")
            if seg.start_bpm <= 0 or seg.end_bpm <= 0:
                raise ValueError("tempo must be positive")
            beat = seg.end_beat
        self._start_beat = [s.start_beat for s in self.segments]
        self._start_s = []
        t = self.offset_s
        for seg in self.segments:
            self._start_s.append(t)
            t += seg.seconds_in(seg.length_beats)

    @classmethod
    def constant(cls, bpm: float, total_beats: float = 0.0, beats_per_bar: int = 4,
                 offset_s: float = 0.0) -> "TempoMap":
        return cls([TempoSegment(0.0, float(total_beats), bpm, bpm)], beats_per_bar, offset_s)

    # -- conversions -------------------------------------------------------------------
    def _segment_for_beat(self, beat: float) -> int:
        return max(0, bisect.bisect_right(self._start_beat, beat) - 1)

    def seconds_at(self, beat: float) -> float:
        """Time in seconds of a beat position (beats may be fractional or past the end)."""
        i = self._segment_for_beat(beat)
        seg = self.segments[i]
        into = beat - seg.start_beat
        if into > seg.length_beats and i == len(self.segments) - 1:
            # Past the end the final tempo holds.
            return (self._start_s[i] + seg.seconds_in(seg.length_beats)
                    + 60.0 * (into - seg.length_beats) / seg.end_bpm)
        return self._start_s[i] + seg.seconds_in(into)

    def beat_at(self, seconds: float) -> float:
        """Beat position at a time in seconds."""
        i = max(0, bisect.bisect_right(self._start_s, seconds) - 1)
        seg = self.segments[i]
        into_s = seconds - self._start_s[i]
        seg_len_s = seg.seconds_in(seg.length_beats)
        if into_s > seg_len_s and i == len(self.segments) - 1:
            return seg.end_beat + (into_s - seg_len_s) * seg.end_bpm / 60.0
        return seg.start_beat + seg.beats_in(into_s)

    def bpm_at_beat(self, beat: float) -> float:
        i = self._segment_for_beat(beat)
        seg = self.segments[i]
        return seg.bpm_at(min(beat - seg.start_beat, seg.length_beats))

    def bar_start_s(self, bar_index: int) -> float:
        return self.seconds_at(bar_index * self.beats_per_bar)

    def bar_at(self, seconds: float) -> int:
        return int(math.floor(self.beat_at(seconds) / self.beats_per_bar + 1e-9))

    # -- short bars: the music's own beats -----------------------------------------------
    def bar_beats(self, bar_index: int) -> float:
        """How many of the music's beats `bar_index` holds (fewer in a short bar)."""
        return self.short_bars.get(bar_index, self.beats_per_bar)

    def music_bpm_at_beat(self, beat: float) -> float:
        """The tempo heard at a grid beat (in a short bar its grid runs bpb/p times faster)."""
        bar = int(math.floor(beat / self.beats_per_bar + 1e-9))
        return self.bpm_at_beat(beat) * self.bar_beats(bar) / self.beats_per_bar

    def music_position(self, seconds: float) -> tuple[int, float]:
        """(bar, the music's beats into it) at a time: in a short bar the grid beats are
        scaled back to the music's (in any other bar the two are the same)."""
        beat = self.beat_at(seconds)
        bar = int(math.floor(beat / self.beats_per_bar + 1e-9))
        into = beat - bar * self.beats_per_bar
        p = self.short_bars.get(bar)
        return bar, (into * p / self.beats_per_bar if p else into)

    def music_seconds(self, bar_index: int, into: float) -> float:
        """The time `into` of the music's beats after `bar_index`'s line."""
        p = self.short_bars.get(bar_index)
        k = self.beats_per_bar / p if p else 1.0
        return self.seconds_at(bar_index * self.beats_per_bar + into * k)

    @property
    def total_beats(self) -> float:
        return self.segments[-1].end_beat

    @property
    def total_bars(self) -> int:
        return int(round(self.total_beats / self.beats_per_bar))

    @property
    def end_s(self) -> float:
        return self.seconds_at(self.total_beats)

    def mean_bpm(self) -> float:
        dur = self.end_s - self.offset_s
        beats = self.total_beats - sum(self.beats_per_bar - p for p in self.short_bars.values())
        return 60.0 * beats / dur if dur > 0 else self.segments[0].start_bpm

    def music_segments(self) -> list[TempoSegment]:
        """The segments with the music's tempo (a short bar's grid runs faster: its segment
        is given at the tempo its beats are heard at), for reports of tempo and its changes."""
        out = []
        for seg in self.segments:
            bar = int(math.floor(seg.start_beat / self.beats_per_bar + 1e-9))
            p = self.short_bars.get(bar)
            if p and seg.end_beat <= (bar + 1) * self.beats_per_bar + 1e-6:
                k = p / self.beats_per_bar
                seg = TempoSegment(seg.start_beat, seg.length_beats, seg.start_bpm * k, seg.end_bpm * k)
            out.append(seg)
        return out

    # -- plain-data round trip (projects, caches, JSON) ----------------------------------
    def to_dict(self) -> dict:
        return {
            "beats_per_bar": self.beats_per_bar,
            "offset_s": self.offset_s,
            "segments": [[s.start_beat, s.length_beats, s.start_bpm, s.end_bpm] for s in self.segments],
            **({"short_bars": sorted([int(i), int(p) if float(p).is_integer() else float(p)]
                                     for i, p in self.short_bars.items())}
               if self.short_bars else {}),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "TempoMap":
        return cls([TempoSegment(*map(float, s)) for s in d["segments"]],
                   int(d.get("beats_per_bar", 4)), float(d.get("offset_s", 0.0)),
                   {int(i): float(p) for i, p in d.get("short_bars", ())})
