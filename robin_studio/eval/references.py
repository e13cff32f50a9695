"""Real recordings we did not make, as the reference for the realism measure (issue 15).

Installed by installers/listener.sh, never committed, never needed by the tests:
- `singularity-music` (Debian, CC-BY-SA 3.0): Max McCracken's soundtrack for the game Endgame:
  Singularity, 13 tracks, about 61 minutes of composed and produced music (electronic,
  ambient, orchestral textures), in /usr/share/games/singularity/music;
- `immich-memories-music` (PyPI, MIT): 28 mood-tagged background tracks, about 15 minutes, in
  the listener venv's site-packages (its documentation says they are themselves machine-made,
  so they are production-grade stock music, not human performances).

`reference_embeddings` embeds every file with the project's FD-mel embedding (in our process)
and, when the listener is installed, with MusiCNN's penultimate layer (3 s patches, in its own
process); the result is cached under the eval workdir, keyed by the files and the code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SINGULARITY_DIR = Path("/usr/share/games/singularity/music")
AUDIO_SUFFIXES = {".ogg", ".opus", ".mp3", ".flac", ".wav"}


@dataclass(frozen=True)
class ReferenceFile:
    path: Path
    set_name: str
    label: str          # the track's mood folder or title


@dataclass(frozen=True)
class ReferenceSet:
    name: str
    licence: str
    description: str
    files: tuple[ReferenceFile, ...]


def _immich_dir() -> Path | None:
    """The package's tracks folder: in the listener venv, or importable here."""
    from robin_studio.eval.listener import site_packages, venv_dir

    sp = site_packages(venv_dir())
    if sp is not None and (sp / "immich_memories_music" / "tracks").is_dir():
        return sp / "immich_memories_music" / "tracks"
    import importlib.util

    spec = importlib.util.find_spec("immich_memories_music")
    if spec and spec.origin:
        d = Path(spec.origin).parent / "tracks"
        if d.is_dir():
            return d
    return None


def reference_sets() -> list[ReferenceSet]:
    """The reference sets installed on this machine (possibly none)."""
    sets = []
    if SINGULARITY_DIR.is_dir():
        files = tuple(ReferenceFile(p, "singularity-music", p.stem) for p in sorted(SINGULARITY_DIR.iterdir())
                      if p.suffix.lower() in AUDIO_SUFFIXES)
        if files:
            sets.append(ReferenceSet("singularity-music", "CC-BY-SA 3.0 (Debian)",
                                     "game soundtrack by Max McCracken", files))
    d = _immich_dir()
    if d is not None:
        files = tuple(ReferenceFile(p, "immich-memories-music", p.parent.name) for p in sorted(d.rglob("*"))
                      if p.suffix.lower() in AUDIO_SUFFIXES)
        if files:
            sets.append(ReferenceSet("immich-memories-music", "MIT (PyPI)",
                                     "mood-tagged stock background tracks (machine-made)", files))
    return sets


def reference_files() -> list[ReferenceFile]:
    return [f for s in reference_sets() for f in s.files]


def load_audio(path: Path) -> tuple[np.ndarray, int]:
    """(samples, rate) as float32, channels last, as the file holds them."""
    import soundfile as sf

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return audio, int(sr)


@dataclass
class ReferenceEmbeddings:
    fd_mel: dict[str, np.ndarray]           # set name -> (windows, 91)
    musicnn: dict[str, np.ndarray]          # set name -> (3 s patches, 200); empty without listener
    tags: dict[str, dict[str, float]]       # file label path -> top tags heard (for the report)
    seconds: dict[str, float]               # set name -> total duration
    note: str = ""


def _key(files: list[ReferenceFile], with_listener: bool) -> str:
    from robin_studio.eval import listener_worker, metrics_music

    h = hashlib.sha1()
    for f in files:
        st = f.path.stat()
        h.update(f"{f.path}|{st.st_size}|{int(st.st_mtime)}".encode())
    h.update(Path(metrics_music.__file__).read_bytes())
    h.update(Path(listener_worker.__file__).read_bytes())
    h.update(str(with_listener).encode())
    return h.hexdigest()[:16]


def reference_embeddings(workdir: Path, listener=None, log=print) -> ReferenceEmbeddings | None:
    """Embeddings of every installed reference recording (None when none is installed)."""
    from robin_studio.eval.metrics_music import MelChromaOnsetEmbedding

    sets = reference_sets()
    files = [f for s in sets for f in s.files]
    if not files:
        return None
    cache = Path(workdir) / "references" / f"embeddings-{_key(files, listener is not None)}.npz"
    if cache.exists():
        try:
            d = np.load(cache, allow_pickle=False)
            meta = json.loads(str(d["meta"]))
            log(f"reference embeddings read back from {cache}")
            return ReferenceEmbeddings({s: d[f"mel_{s}"] for s in meta["sets"]},
                                       {s: d[f"mnn_{s}"] for s in meta["sets"] if f"mnn_{s}" in d},
                                       meta["tags"], meta["seconds"], meta.get("note", ""))
        except (OSError, ValueError, KeyError):
            pass
    emb = MelChromaOnsetEmbedding()
    fd_mel: dict[str, list[np.ndarray]] = {}
    seconds: dict[str, float] = {}
    for f in files:
        audio, sr = load_audio(f.path)
        seconds[f.set_name] = seconds.get(f.set_name, 0.0) + len(audio) / sr
        rows = emb.embed(audio, sr)
        if len(rows):
            fd_mel.setdefault(f.set_name, []).append(rows)
    log(f"reference recordings: {len(files)} files embedded (FD-mel)")
    musicnn: dict[str, list[np.ndarray]] = {}
    tags: dict[str, dict[str, float]] = {}
    note = ""
    if listener is not None:
        heard = listener.listen_files([f.path for f in files], windows=True)
        for f, h in zip(files, heard):
            musicnn.setdefault(f.set_name, []).append(h.windows)
            tags[f"{f.set_name}/{f.label}/{f.path.name}"] = dict(h.top(5))
        log(f"reference recordings: {len(files)} files heard by the listener")
    out = ReferenceEmbeddings({k: np.vstack(v) for k, v in fd_mel.items()},
                              {k: np.vstack(v) for k, v in musicnn.items()}, tags, seconds, note)
    cache.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"mel_{k}": v for k, v in out.fd_mel.items()}
    arrays.update({f"mnn_{k}": v for k, v in out.musicnn.items()})
    meta = {"sets": list(out.fd_mel), "tags": tags, "seconds": seconds, "note": note}
    tmp = cache.with_suffix(".part.npz")
    np.savez(tmp, meta=np.asarray(json.dumps(meta)), **arrays)
    tmp.rename(cache)
    return out
