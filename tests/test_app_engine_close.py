"""Closing the app's engine process (app/engine_process.py) while it works: the work in its
threads is cancelled and joined before the process ends, so nothing is cut off mid-write.

The real engine in its own process, as the app runs it, on a real clip. Closing while an MP4
export is being written leaves no half-written file (the temporary file is removed, or the
export finished whole); closing while a generation streams ends the generation and the process
by itself (exit code 0, not killed by the terminate that follows a close that waited in vain).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import pytest

from robin_studio.app.engine_process import RemoteScorer
from robin_studio.errors import RobinError
from test_app_support import make_clip

CLIP_S = 40.0
pytestmark = pytest.mark.usefixtures("user_dirs")


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("close") / "long.mp4", seconds=CLIP_S, fps=25,
                     size=(320, 180), cut_frames=(250, 500, 750), with_audio=True)


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".partial" in p.name)


def _decoded_s(path: Path) -> float:
    with av.open(str(path)) as c:
        frames = sum(1 for _ in c.decode(video=0))
    return frames / 25.0


def test_closing_during_an_export_leaves_no_half_written_file(clip, tmp_path):
    engine = RemoteScorer()
    analysis = engine.analyze(clip)
    job = engine.generate(analysis, "calm piano and strings", seed=3)
    for _ in job:
        pass
    piece = job.result()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "scored.mp4"
    outcome: dict = {}

    def export() -> None:
        try:
            outcome["path"] = engine.export(piece, target, video_path=str(clip), kind="mp4")
        except RobinError as err:
            outcome["error"] = err

    worker = threading.Thread(target=export)
    worker.start()
    # Close once the export is writing its temporary file (or has already finished).
    deadline = time.monotonic() + 300
    while not _partials(out_dir) and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    writing = bool(_partials(out_dir))
    engine.close()
    worker.join(60)

    assert not worker.is_alive(), "the export call did not return after the engine closed"
    assert engine._proc.exitcode == 0, f"the engine process was killed (exit {engine._proc.exitcode})"
    assert _partials(out_dir) == [], "a half-written temporary file was left behind"
    if target.exists():      # the export got to finish: then it is whole
        assert _decoded_s(target) == pytest.approx(CLIP_S, abs=0.1)
    else:
        assert "error" in outcome
    assert writing or target.exists()


def test_closing_during_a_generation_ends_it_and_the_process_by_itself(clip):
    engine = RemoteScorer()
    analysis = engine.analyze(clip)
    job = engine.generate(analysis, "driving rock with drums and bass", seed=5)
    chunks: list = []
    ended: dict = {}

    def listen() -> None:
        try:
            for chunk in job:
                chunks.append(chunk)
            ended["piece"] = job.result()
        except RobinError as err:
            ended["error"] = err

    listener = threading.Thread(target=listen)
    listener.start()
    deadline = time.monotonic() + 300
    while not chunks and listener.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert chunks, "no chunk arrived"
    engine.close()
    listener.join(60)

    assert not listener.is_alive(), "the generation did not end when the engine closed"
    assert engine._proc.exitcode == 0, f"the engine process was killed (exit {engine._proc.exitcode})"
    assert not engine.alive
    assert "error" in ended or "piece" in ended
