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

from robin_studio.outputs import partial_name

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


def _key(files: list[ReferenceFile], *code: bytes) -> str:
    """The files (path, size, time) and the code that embeds them."""
    h = hashlib.sha1()
    for f in files:
        st = f.path.stat()
        h.update(f"{f.path}|{st.st_size}|{int(st.st_mtime)}".encode())
    for c in code:
        h.update(c)
    return h.hexdigest()[:16]


def _fd_mel_code() -> bytes:
    import inspect

    from robin_studio.eval import audio_events, metrics_music
    return (inspect.getsource(metrics_music.MelChromaOnsetEmbedding)
            + inspect.getsource(audio_events.to_mono_24k)).encode()


def _musicnn_code() -> bytes:
    from robin_studio.eval import listener_worker
    return Path(listener_worker.__file__).read_bytes()


def _read(path: Path) -> dict | None:
    try:
        d = np.load(path, allow_pickle=False)
        return {k: d[k] for k in d.files}
    except (OSError, ValueError):
        return None


def _write(path: Path, arrays: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_name(path, "emb")    # this process's own (eval processes may share a workdir)
    np.savez(tmp, **arrays)
    tmp.replace(path)


def reference_embeddings(workdir: Path, listener=None, log=print) -> ReferenceEmbeddings | None:
    """Embeddings of every installed reference recording (None when none is installed); each
    kind is cached under `workdir/references/`, keyed by the files and the code that embeds."""
    from robin_studio.eval.metrics_music import MelChromaOnsetEmbedding

    sets = reference_sets()
    files = [f for s in sets for f in s.files]
    if not files:
        return None
    folder = Path(workdir) / "references"
    seconds: dict[str, float] = {}
    mel_cache = folder / f"fdmel-{_key(files, _fd_mel_code())}.npz"
    cached = _read(mel_cache) if mel_cache.exists() else None
    if cached is not None:
        meta = json.loads(str(cached.pop("meta")))
        fd_mel, seconds = {k[4:]: v for k, v in cached.items()}, meta["seconds"]
        log(f"reference recordings: FD-mel embeddings read back from {mel_cache}")
    else:
        emb = MelChromaOnsetEmbedding()
        rows: dict[str, list[np.ndarray]] = {}
        for f in files:
            audio, sr = load_audio(f.path)
            seconds[f.set_name] = seconds.get(f.set_name, 0.0) + len(audio) / sr
            e = emb.embed(audio, sr)
            if len(e):
                rows.setdefault(f.set_name, []).append(e)
        fd_mel = {k: np.vstack(v) for k, v in rows.items()}
        _write(mel_cache, {"meta": np.asarray(json.dumps({"seconds": seconds})),
                           **{f"mel_{k}": v for k, v in fd_mel.items()}})
        log(f"reference recordings: {len(files)} files embedded (FD-mel)")
    musicnn: dict[str, np.ndarray] = {}
    tags: dict[str, dict[str, float]] = {}
    if listener is not None:
        mnn_cache = folder / f"musicnn-{_key(files, _musicnn_code())}.npz"
        cached = _read(mnn_cache) if mnn_cache.exists() else None
        if cached is not None:
            tags = json.loads(str(cached.pop("meta")))["tags"]
            musicnn = {k[4:]: v for k, v in cached.items()}
            log(f"reference recordings: MusiCNN windows read back from {mnn_cache}")
        else:
            heard = listener.listen_files([f.path for f in files], windows=True)
            rows = {}
            for f, h in zip(files, heard):
                rows.setdefault(f.set_name, []).append(h.windows)
                tags[f"{f.set_name}/{f.label}/{f.path.name}"] = dict(h.top(5))
            musicnn = {k: np.vstack(v) for k, v in rows.items()}
            _write(mnn_cache, {"meta": np.asarray(json.dumps({"tags": tags})),
                               **{f"mnn_{k}": v for k, v in musicnn.items()}})
            log(f"reference recordings: {len(files)} files heard by the listener")
    return ReferenceEmbeddings(fd_mel, musicnn, tags, seconds)
