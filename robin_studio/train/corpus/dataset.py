"""The training corpus as the model sees it: `Example`, `build_corpus`, `load_corpus`.

This module is the data contract between the corpus builder and the training code.

On disk a corpus is a folder::

    corpus/
      manifest.json              counts, hours per style, sources with licences, seed, version
      train-00000.jsonl.gz ...   one JSON object per line, one example each (see `example_to_dict`)
      valid-00000.jsonl.gz
      test-00000.jsonl.gz

Splits are made by *source piece* (all arrangements of one tune land in the same split), so
nothing the model is validated on was heard in training in another costume.

Every example is a 4/4 score on a 16th-note grid: note starts and durations are multiples
of 0.25 beats, durations at least 0.25. Times are in beats from the start of the example;
the tempo is constant (`tempo_bpm`) and held by the score's tempo map.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robin_studio.score.controls import BarControls
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import ROLES, Note, Role, Score, Track

CORPUS_FORMAT_VERSION = 1
SPLITS = ("train", "valid", "test")
STEPS_PER_BEAT = 4            # the 16th-note grid
STEPS_PER_BAR = 16


@dataclass
class Example:
    """One piece of training music with everything the model is conditioned on."""

    id: str                           # unique in the corpus, e.g. "ryansMammoth/x.abc#3@lofi.1"
    score: Score                      # 4/4, constant tempo, 16th grid, tracks with roles
    controls: list[BarControls]       # one per bar, len == score.total_bars
    style: str                        # one of styles.STYLE_NAMES, or "original"/"user"
    moods: list[str]
    tempo_bpm: float
    key_tonic: int                    # pitch class, 0 = C
    key_mode: str                     # "major" | "minor"
    instruments: list[str]            # plain names ("piano", "strings"...), see arrangement
    source: str                       # where the tune came from, e.g. "music21:ryansMammoth/..."
    licence: str                      # e.g. "public-domain", "CC-BY-NC (Essen)", "GPL-2.0"
    noncommercial: bool
    captions: list[str]               # varied; includes partial ones and one "" (for CFG)
    piece_id: str = ""                # the source piece; splits never separate one piece
    split: str = "train"
    extra: dict = field(default_factory=dict)   # section shape, arranger choices, title...

    @property
    def n_bars(self) -> int:
        return len(self.controls)

    @property
    def duration_s(self) -> float:
        return self.n_bars * 4 * 60.0 / self.tempo_bpm

    def roles(self) -> list[str]:
        return [t.role.value for t in self.score.tracks if t.notes]


@dataclass
class CorpusInfo:
    out_dir: Path
    n_examples: dict[str, int]            # per split
    hours: float
    hours_per_style: dict[str, float]
    n_sources: int
    seed: int
    manifest_path: Path


# -- (de)serialisation ---------------------------------------------------------------------

def _controls_to_list(c: BarControls) -> list:
    return [round(c.energy, 3), round(c.density, 3), int(c.section_start), int(c.section_end),
            [round(a, 2) for a in c.accents], c.bars_to_end, c.section_id]


def _controls_from_list(i: int, row: list) -> BarControls:
    return BarControls(bar_index=i, energy=float(row[0]), density=float(row[1]),
                       section_start=bool(row[2]), section_end=bool(row[3]),
                       accents=tuple(float(a) for a in row[4]), bars_to_end=int(row[5]),
                       section_id=int(row[6]))


def score_to_dict(score: Score) -> dict:
    """Compact form: notes as flat int lists [start_step, dur_steps, pitch, velocity, ...]."""
    tracks = []
    for t in score.tracks:
        flat: list[int] = []
        for n in sorted(t.notes, key=lambda n: (n.start_beat, n.pitch, n.duration_beats, n.velocity)):
            flat += [int(round(n.start_beat * STEPS_PER_BEAT)),
                     max(1, int(round(n.duration_beats * STEPS_PER_BEAT))), n.pitch, n.velocity]
        tracks.append({"role": t.role.value, "program": t.program, "name": t.name,
                       "gain_db": t.gain_db, "pan": t.pan, "notes": flat})
    return {"tempo_map": score.tempo_map.to_dict(), "key_tonic": score.key_tonic,
            "key_mode": score.key_mode, "tracks": tracks}


def score_from_dict(d: dict) -> Score:
    tracks = []
    for t in d["tracks"]:
        f = t["notes"]
        notes = [Note(f[i] / STEPS_PER_BEAT, f[i + 1] / STEPS_PER_BEAT, f[i + 2], f[i + 3])
                 for i in range(0, len(f), 4)]
        tracks.append(Track(Role(t["role"]), int(t["program"]), notes, t.get("name", ""),
                            float(t.get("gain_db", 0.0)), float(t.get("pan", 0.0))))
    return Score(TempoMap.from_dict(d["tempo_map"]), tracks, int(d["key_tonic"]), d["key_mode"])


def example_to_dict(ex: Example) -> dict:
    return {
        "id": ex.id, "piece_id": ex.piece_id, "split": ex.split,
        "score": score_to_dict(ex.score),
        "controls": [_controls_to_list(c) for c in ex.controls],
        "style": ex.style, "moods": ex.moods, "tempo_bpm": ex.tempo_bpm,
        "key_tonic": ex.key_tonic, "key_mode": ex.key_mode, "instruments": ex.instruments,
        "source": ex.source, "licence": ex.licence, "noncommercial": ex.noncommercial,
        "captions": ex.captions, "extra": ex.extra,
    }


def example_from_dict(d: dict) -> Example:
    return Example(
        id=d["id"], score=score_from_dict(d["score"]),
        controls=[_controls_from_list(i, r) for i, r in enumerate(d["controls"])],
        style=d["style"], moods=list(d["moods"]), tempo_bpm=float(d["tempo_bpm"]),
        key_tonic=int(d["key_tonic"]), key_mode=d["key_mode"],
        instruments=list(d["instruments"]), source=d["source"], licence=d["licence"],
        noncommercial=bool(d["noncommercial"]), captions=list(d["captions"]),
        piece_id=d.get("piece_id", ""), split=d.get("split", "train"), extra=d.get("extra", {}),
    )


def example_to_line(ex: Example) -> str:
    """One shard line (compact JSON, no newline)."""
    return json.dumps(example_to_dict(ex), separators=(",", ":"))


def write_shard(path: Path, examples: list[Example] | list[str]) -> None:
    """Write examples (or lines from `example_to_line`) to one gzip JSON-lines shard."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    # mtime=0 keeps the gzip bytes identical for identical content (determinism checks).
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz:
        for ex in examples:
            line = ex if isinstance(ex, str) else example_to_line(ex)
            gz.write((line + "\n").encode())
    tmp.replace(path)


def iter_shard(path: Path) -> Iterator[Example]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield example_from_dict(json.loads(line))


# -- the public entry points ---------------------------------------------------------------

def default_corpus_dir() -> Path:
    from robin_studio.paths import cache_dir
    return cache_dir() / "corpus"


def build_corpus(out_dir: Path | str | None = None, *, hours: float = 100.0, seed: int = 0,
                 allow_noncommercial: bool = True, workers: int = 2,
                 progress: Callable[[str, float], None] | None = None,
                 **options) -> CorpusInfo:
    """Build the corpus into `out_dir` (default: cache_dir()/"corpus").

    Parses the installed sources (cached per file under cache_dir()/"parsed", so a second
    build is fast), arranges them in the styles of `styles.py` until about `hours` hours of
    music exist, computes controls and captions, and writes shards plus `manifest.json`.
    The same seed and sources give the same corpus. `allow_noncommercial=False` leaves out
    Essen and anything else not licensed for commercial use. `progress(stage, fraction)`
    is called now and then. Extra keyword options go to `build.build`: `groups` (music21
    corpus groups to use), `max_files`, `material_factor` (parse sources, spread over the
    groups, until this many times `hours` of single arrangements exist; default 1.2),
    `include_originals`, `include_user`, `without` (source groups to leave out, e.g.
    "openmsx", whose GPL-2.0-only licence may not suit weights shipped under GPL-3.0-or-later).
    """
    from robin_studio.train.corpus.build import build
    return build(Path(out_dir) if out_dir else default_corpus_dir(), hours=hours, seed=seed,
                 allow_noncommercial=allow_noncommercial, workers=workers, progress=progress,
                 **options)


def shard_paths(corpus_dir: Path | str, split: str) -> list[Path]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    return sorted(Path(corpus_dir).glob(f"{split}-*.jsonl.gz"))


def iter_corpus(corpus_dir: Path | str | None = None, split: str = "train") -> Iterator[Example]:
    """Stream the examples of one split (lower memory than `load_corpus`)."""
    for path in shard_paths(corpus_dir or default_corpus_dir(), split):
        yield from iter_shard(path)


def load_corpus(corpus_dir: Path | str | None = None, split: str = "train") -> list[Example]:
    """All examples of one split, in a fixed order."""
    from robin_studio.errors import RobinError
    corpus_dir = Path(corpus_dir or default_corpus_dir())
    if not (corpus_dir / "manifest.json").exists():
        raise RobinError(f"No corpus in {corpus_dir}.",
                         "Build one first: robin-studio corpus build")
    version = load_manifest(corpus_dir).get("format_version")
    if version != CORPUS_FORMAT_VERSION:
        raise RobinError(f"The corpus in {corpus_dir} has format {version}; this version of "
                         f"Robin Studio reads format {CORPUS_FORMAT_VERSION}.",
                         "Rebuild it: robin-studio corpus build")
    return list(iter_corpus(corpus_dir, split))


def load_manifest(corpus_dir: Path | str | None = None) -> dict:
    return json.loads((Path(corpus_dir or default_corpus_dir()) / "manifest.json").read_text())


# -- a compact array form for fast training --------------------------------------------------

ROLE_INDEX = {r.value: i for i, r in enumerate(ROLES)}   # drums 0, bass 1, harmony 2, melody 3, texture 4


def bars_as_arrays(ex: Example) -> dict[str, np.ndarray]:
    """Numpy view of an example.

    - `notes`: int16 (N, 6) rows [bar, role_index, onset_step (0..15), dur_steps, pitch,
      velocity], sorted by bar, role, onset, pitch. Notes longer than the bar keep their
      full duration (a tied note is one row in the bar where it starts).
    - `programs`: int16 (5,) GM program per role index, -1 if the role is absent.
    - `controls`: float32 (bars, 9) [energy, density, section_start, section_end,
      accent beat 1..4, bars_to_end], and `section_id`: int32 (bars,).
    """
    rows = []
    programs = np.full(len(ROLES), -1, dtype=np.int16)
    for t in ex.score.tracks:
        ri = ROLE_INDEX[t.role.value]
        programs[ri] = t.program
        for n in t.notes:
            step = int(round(n.start_beat * STEPS_PER_BEAT))
            rows.append((step // STEPS_PER_BAR, ri, step % STEPS_PER_BAR,
                         max(1, int(round(n.duration_beats * STEPS_PER_BEAT))), n.pitch, n.velocity))
    notes = np.array(sorted(rows), dtype=np.int16).reshape(-1, 6)
    controls = np.array([[c.energy, c.density, float(c.section_start), float(c.section_end),
                          *c.accents, float(c.bars_to_end)] for c in ex.controls],
                        dtype=np.float32).reshape(-1, 9)
    section_id = np.array([c.section_id for c in ex.controls], dtype=np.int32)
    return {"notes": notes, "programs": programs, "controls": controls, "section_id": section_id}
