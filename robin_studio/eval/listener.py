"""The independent listener: MusiCNN (Pons & Serra, trained on MagnaTagATune's real recordings)
heard through a subprocess in its own venv, so nothing we made judges our music.

`installers/listener.sh` builds `.venv-listener` (tensorflow-cpu, tf-keras, librosa, musicnn).
`Listener.find()` returns None when it is absent (as in CI): callers then print
`NOT_INSTALLED` in the report instead of failing. TensorFlow is never imported in our process:
`listen_files` writes a JSON request to `listener_worker.py` run by the venv's Python and reads
JSON back (per file: the 50 MTT tag probabilities averaged over 3 s patches, the 200-d
penultimate-layer embedding averaged over patches, and optionally the per-patch embeddings
for Frechet distances).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NOT_INSTALLED = "listener not installed: run installers/listener.sh"
WORKER = Path(__file__).with_name("listener_worker.py")
SAMPLE_RATE = 16_000          # musicnn's own rate; we resample once before writing the WAV
MODEL = "MTT_musicnn"


@dataclass
class Heard:
    """What the tagger heard in one file."""

    path: str
    probs: dict[str, float]                      # tag -> mean probability over 3 s patches
    embedding: np.ndarray                        # (200,) clip-level embedding
    windows: np.ndarray = field(default_factory=lambda: np.zeros((0, 200)))   # (patches, 200)
    patches: int = 0

    def top(self, n: int = 5) -> list[tuple[str, float]]:
        return sorted(self.probs.items(), key=lambda kv: -kv[1])[:n]


class ListenerError(RuntimeError):
    pass


def venv_dir() -> Path:
    """Where installers/listener.sh puts the venv (ROBIN_LISTENER_VENV overrides)."""
    env = os.environ.get("ROBIN_LISTENER_VENV")
    if env:
        return Path(env)
    from robin_studio.paths import project_root
    return project_root() / ".venv-listener"


def site_packages(venv: Path) -> Path | None:
    """The venv's site-packages folder (for the packages installed there as data)."""
    found = sorted(venv.glob("lib/python*/site-packages"))
    return found[0] if found else None


@dataclass
class Listener:
    python: Path
    model: str = MODEL
    timeout_s: float = 3600.0

    @classmethod
    def find(cls, venv: Path | None = None) -> "Listener | None":
        """The listener when its venv holds musicnn and tensorflow, else None."""
        venv = Path(venv) if venv else venv_dir()
        python = venv / "bin" / "python"
        sp = site_packages(venv)
        if not python.exists() or sp is None:
            return None
        if not (sp / "musicnn" / MODEL).is_dir() or not (sp / "tensorflow").is_dir():
            return None
        return cls(python)

    def listen_files(self, paths: list[str | Path], windows: bool = False) -> list[Heard]:
        """Tags and embeddings of audio files (anything librosa reads). Raises ListenerError
        when the worker fails as a whole or cannot hear one of the files."""
        if not paths:
            return []
        request = {"files": [str(p) for p in paths], "model": self.model, "windows": windows,
                   "threads": 1}
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2",
                   CUDA_VISIBLE_DEVICES="")
        env.pop("PYTHONPATH", None)   # our tree must not shadow the venv's packages
        try:
            proc = subprocess.run([str(self.python), str(WORKER)], input=json.dumps(request),
                                  capture_output=True, text=True, timeout=self.timeout_s, env=env)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ListenerError(f"the listener could not run: {err}") from err
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise ListenerError(f"the listener failed (exit {proc.returncode}): {tail}")
        answer = json.loads(proc.stdout)
        labels = answer["labels"]
        out = []
        for row in answer["results"]:
            if row.get("error"):
                raise ListenerError(f"the listener could not hear {row['path']}: {row['error']}")
            out.append(Heard(row["path"], dict(zip(labels, map(float, row["tags"])) ),
                             np.asarray(row["embedding"], float),
                             np.asarray(row.get("windows") or np.zeros((0, 200)), float),
                             int(row["patches"])))
        return out

    def listen_audio(self, pieces: list[tuple[np.ndarray, int]], windows: bool = False) -> list[Heard]:
        """Tags and embeddings of audio arrays ((n,) or (n, channels) floats at their rate)."""
        import soundfile as sf

        with tempfile.TemporaryDirectory(prefix="robin-listener-") as tmp:
            paths = []
            for i, (audio, sr) in enumerate(pieces):
                path = Path(tmp) / f"piece-{i:04d}.wav"
                sf.write(path, to_listener_rate(audio, sr), SAMPLE_RATE, subtype="FLOAT")
                paths.append(path)
            return self.listen_files(paths, windows=windows)


def to_listener_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz, as musicnn hears it."""
    import librosa

    y = np.asarray(audio, np.float32)
    if y.ndim == 2:
        y = y.mean(axis=1)
    if sample_rate != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sample_rate, target_sr=SAMPLE_RATE)
    return y.astype(np.float32)


def heard_any(heard: Heard, wanted: list[str], top_n: int = 5) -> bool:
    """True when one of `wanted` is among the `top_n` tags heard."""
    top = {t for t, _ in heard.top(top_n)}
    return any(w in top for w in wanted)


def main(argv: list[str] | None = None) -> int:
    """`python -m robin_studio.eval.listener FILE...`: print the top tags of each file."""
    args = sys.argv[1:] if argv is None else argv
    listener = Listener.find()
    if listener is None:
        print(NOT_INSTALLED, file=sys.stderr)
        return 2
    for h in listener.listen_files(args):
        print(f"{h.path}: " + ", ".join(f"{t} {p:.2f}" for t, p in h.top(8)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
