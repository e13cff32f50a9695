"""The frozen one-folder build (dist/robin-studio/, made by installers/build_bundle.sh): it
answers --version, carries the models, SoundFont, icons and licences but no torch, scores the
sample clip headless into an MP4 that decodes and is as long as the video, and opens its window.

Building takes minutes, so CI does not build it and these tests skip when the bundle is absent.
ROBIN_STUDIO_BUNDLE_DIR tests a bundle built elsewhere (build_bundle.sh with ROBIN_BUNDLE_DISTPATH).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = Path(os.environ.get("ROBIN_STUDIO_BUNDLE_DIR") or ROOT / "dist" / "robin-studio")
EXE = BUNDLE / "robin-studio"
INTERNAL = BUNDLE / "_internal"
SAMPLE = ROOT / "resources" / "sample" / "bigbuckbunny.mp4"

pytestmark = pytest.mark.skipif(
    not EXE.is_file(),
    reason="no frozen bundle: build it with `bash installers/build_bundle.sh` (takes minutes; CI skips this)")


def bundle_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Fresh user folders, no SoundFont or model override: the bundle must use its own files."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ROBIN_STUDIO_SOUNDFONT", "ROBIN_STUDIO_MODELS_DIR", "PYTHONPATH")}
    env.update(ROBIN_STUDIO_CONFIG_DIR=str(tmp_path / "config"), ROBIN_STUDIO_DATA_DIR=str(tmp_path / "data"),
               ROBIN_STUDIO_CACHE_DIR=str(tmp_path / "cache"), **extra)
    return env


def test_version():
    from robin_studio import __version__

    out = subprocess.run([str(EXE), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"robin-studio {__version__}"


def test_bundle_carries_its_files_and_no_torch():
    assert (INTERNAL / "resources" / "sample" / "bigbuckbunny.mp4").is_file()
    assert (INTERNAL / "resources" / "LICENSES.md").is_file()
    assert (INTERNAL / "resources" / "licenses" / "GPL-3.0.txt").is_file()
    assert list((INTERNAL / "resources" / "soundfonts").glob("*.sf[23]")), "no SoundFont inside"
    assert (INTERNAL / "models" / "image" / "efficientnet_lite0.onnx").is_file()
    assert (INTERNAL / "robin_studio" / "intent" / "vocab" / "ja.toml").is_file()
    if (ROOT / "models" / "manifest.json").is_file():
        assert (INTERNAL / "models" / "manifest.json").is_file()
    for size in (16, 32, 48, 64, 128, 256, 512):
        assert (BUNDLE / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "robin-studio.png").is_file()
    assert (BUNDLE / "share" / "applications" / "robin-studio.desktop").is_file()
    torch_files = [str(p.relative_to(BUNDLE)) for p in BUNDLE.rglob("*")
                   if "torch" in p.name.lower()]
    assert not torch_files, torch_files[:10]
    # One Qt only: OpenCV's GUI build would bring Qt 5 (and GTK) beside PySide6's Qt 6.
    qt5 = [p.name for p in INTERNAL.rglob("libQt5*")]
    assert not qt5, f"OpenCV's GUI build was frozen (see build_bundle.sh): {qt5[:5]}"


def test_scores_the_sample_clip_headless(tmp_path):
    out_mp4 = tmp_path / "scored.mp4"
    run = subprocess.run(
        [str(EXE), "score", str(SAMPLE), "--prompt", "playful orchestral, builds to the end",
         "-o", str(out_mp4), "--quiet"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env=bundle_env(tmp_path, QT_QPA_PLATFORM="offscreen"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    assert "wrote" in run.stdout

    with av.open(str(SAMPLE)) as src:
        video_s = float(src.streams.video[0].duration * src.streams.video[0].time_base)
        fps = float(src.streams.video[0].average_rate)
    with av.open(str(out_mp4)) as scored:
        v = scored.streams.video[0]
        a = scored.streams.audio[0]
        frames = sum(1 for _ in scored.decode(v))
        scored.seek(0)
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in scored.decode(a)])
        audio_s = audio.size / a.channels / a.sample_rate if audio.ndim else 0.0
    assert abs(frames / fps - video_s) <= 1.0 / fps
    assert abs(audio_s - video_s) <= 0.1, (audio_s, video_s)
    rms_db = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-12)
    assert rms_db > -40.0, f"the music is silent ({rms_db:.1f} dBFS)"


def test_opens_its_window(tmp_path):
    run = subprocess.run([str(EXE), "gui"], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env=bundle_env(tmp_path, QT_QPA_PLATFORM="offscreen",
                                        ROBIN_STUDIO_EXIT_AFTER_SHOWN="1"))
    assert "ROBIN_STUDIO_SHOWN" in run.stdout, run.stderr[-4000:]
    assert run.returncode == 0, run.stderr[-4000:]
