"""What analysing a clip produces. Plain dataclasses with units in the names, so they can
be cached as JSON, shown in the app and turned into per-bar conditions."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def _fields(obj) -> dict:
    """A dataclass's fields as a dict, values as they are (not copied)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass
class Transition:
    """A change of shot. Hard cuts have start_s == end_s; fades/dissolves span a range."""

    kind: str             # "cut", "fade" or "dissolve"
    start_s: float
    end_s: float
    frame: int            # first frame of the new shot (for a cut), or the middle frame
    strength: float       # 0..1: how strongly the picture changes

    @property
    def time_s(self) -> float:
        """The moment the music should mark: the cut itself, or the middle of a dissolve."""
        return self.start_s if self.kind == "cut" else 0.5 * (self.start_s + self.end_s)


@dataclass
class Shot:
    index: int
    start_s: float
    end_s: float
    brightness: float = 0.5          # 0..1 mean luma
    saturation: float = 0.5          # 0..1
    colour_temperature: float = 0.0  # -1 cool/blue .. +1 warm/orange
    motion: float = 0.0              # 0..1 mean motion level
    labels: list[tuple[str, float]] = field(default_factory=list)  # top ImageNet labels
    features: list[float] = field(default_factory=list)  # pooled image features (may be empty)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class Section:
    """Shots merged into a stretch a musician would score as one section."""

    index: int
    start_s: float
    duration_s: float
    shot_indices: list[int]
    description: str = ""

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass
class VideoAnalysis:
    path: str
    content_key: str
    duration_s: float
    fps: float
    width: int
    height: int
    transitions: list[Transition] = field(default_factory=list)
    shots: list[Shot] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    motion_hz: float = 10.0
    motion_energy: list[float] = field(default_factory=list)   # 0..1, one value per 1/motion_hz s
    visual_beats_s: list[float] = field(default_factory=list)
    has_audio: bool = False
    rotation_deg: int = 0             # clockwise turn applied to show the picture upright
    analysis_version: int = 0         # robin_studio.analysis.analyze.ANALYSIS_VERSION that made it
    damaged_at_s: float | None = None  # the picture breaks off here (analysed up to it), if damaged

    def to_dict(self, include_features: bool = True) -> dict:
        """A JSON-ready dict; `include_features=False` drops the per-shot image features."""
        # Built by hand rather than with dataclasses.asdict, which deep-copies every number
        # (25,000 feature values for 20 shots: a tenth of a second, as long as the cut search).
        d = _fields(self)
        d["transitions"] = [_fields(t) for t in self.transitions]
        d["shots"] = [{**_fields(s), "labels": [tuple(label) for label in s.labels],
                       "features": list(s.features) if include_features else []}
                      for s in self.shots]
        d["sections"] = [{**_fields(s), "shot_indices": list(s.shot_indices)} for s in self.sections]
        d["motion_energy"] = list(self.motion_energy)
        d["visual_beats_s"] = list(self.visual_beats_s)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "VideoAnalysis":
        d = dict(d)
        d["transitions"] = [Transition(**t) for t in d.get("transitions", [])]
        d["shots"] = [Shot(**{**s, "labels": [(str(k), float(p)) for k, p in s.get("labels", [])]})
                      for s in d.get("shots", [])]
        d["sections"] = [Section(**s) for s in d.get("sections", [])]
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

