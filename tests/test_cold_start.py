"""Cold start: nothing heavy is imported on the way to the first sound of `robin-studio score`
(issue 21: librosa, numba, scipy.signal, pyloudnorm and torch cost seconds of start-up each),
nor, for the plain MP4, on the way to the written file. Run in a fresh process, as a user
would, on the shipped sample clip with its analysis cached. And the app's first paint (the
window's frame) comes before the editor's heavy imports, which then replace it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import RESOURCES


@pytest.mark.slow
def test_first_chunk_imports_nothing_heavy(tmp_path):
    clip = RESOURCES / "sample" / "bigbuckbunny.mp4"
    env = dict(os.environ, ROBIN_STUDIO_CACHE_DIR=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "-m", "robin_studio.cli", "analyze", str(clip)], env=env,
                   check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-m", "robin_studio.bench.firstchunk", str(clip),
                          "-o", str(tmp_path / "scored.mp4"), "-q"],
                         env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["heavy_at_first_chunk"] == []
    assert state["heavy_at_end"] == []
    assert (tmp_path / "scored.mp4").stat().st_size > 0


def test_soundfont_measures_are_kept_between_runs(tmp_path, monkeypatch):
    """The bank's note levels and attacks (a few hundred rendered notes, about a second before
    the first sound) are measured once and read back by the next process."""
    from robin_studio.render import synth as S

    monkeypatch.setenv("ROBIN_STUDIO_CACHE_DIR", str(tmp_path))
    path = S.find_soundfont().resolve()
    first = S.Synth(path)
    first.lead_table(48, False, S.Role.HARMONY)
    assert list((tmp_path / "soundfont-measures").glob("*.json"))

    def no_rendering(*_a, **_k):
        raise AssertionError("measured again")

    monkeypatch.setattr(S.Synth, "_measure_note", no_rendering)
    second = S.Synth(path)
    assert second.lead_table(48, False, S.Role.HARMONY) == first.lead_table(48, False, S.Role.HARMONY)
    assert second._levels == first._levels


_AT_FIRST_PAINT = """
import sys
from PySide6 import QtWidgets
from robin_studio import cli
from robin_studio.app import application as A
report = A._report
def look(what):
    shown = [type(w).__name__ for w in QtWidgets.QApplication.topLevelWidgets() if w.isVisible()]
    loaded = [m for m in HEAVY if m in sys.modules]
    print(what, "LOADED", *loaded, "SHOWN", *shown, flush=True)
    report(what)
A._report = look
sys.exit(cli.main(["gui"]))
"""

# What the window's first paint must not wait for: the engine (it starts after the editor's
# paint, in its own process), superqt (its package imports every widget it has, 0.7 s and
# more), and the editor's own numpy, PyAV, OpenCV and pyqtgraph (two seconds in all on a
# busy machine; the frame paints before them and the editor takes its place).
GUI_HEAVY = ("superqt", "robin_studio.generate.engine", "onnxruntime", "torch", "librosa",
             "tinysoundfont", "numpy", "av", "cv2", "pyqtgraph", "robin_studio.app.main_window")


@pytest.mark.slow
def test_window_frame_paints_before_the_editor_loads_and_the_editor_replaces_it(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ROBIN_STUDIO_EXIT_AFTER_SHOWN="1",
               ROBIN_STUDIO_CACHE_DIR=str(tmp_path / "c"), ROBIN_STUDIO_CONFIG_DIR=str(tmp_path / "cfg"),
               ROBIN_STUDIO_DATA_DIR=str(tmp_path / "d"))
    out = subprocess.run([sys.executable, "-c", f"HEAVY = {GUI_HEAVY!r}\n" + _AT_FIRST_PAINT], env=env,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = {ln.split()[0]: ln.split()[1:] for ln in out.stdout.splitlines()
             if ln.startswith(("SHOWN ", "READY "))}
    loaded, shown = _split(lines["SHOWN"])
    assert loaded == [] and shown == ["StartFrame"]
    loaded, shown = _split(lines["READY"])      # then the real editor, in the frame's place
    assert "robin_studio.app.main_window" in loaded
    assert "MainWindow" in shown and "StartFrame" not in shown   # (a first run: the welcome too)
    assert "superqt" not in loaded and "robin_studio.generate.engine" not in loaded


def _split(words: list[str]) -> tuple[list[str], list[str]]:
    i = words.index("SHOWN")
    return words[1:i], words[i + 1:]


_EDITOR_FAILS = """
import sys
from robin_studio import cli
from robin_studio.app import main_window
from robin_studio.errors import RobinError

def broken(self, *args, **kwargs):
    raise RobinError("The editor could not start (a test).", "Nothing to do.")
main_window.MainWindow.__init__ = broken
sys.exit(cli.main(["gui"]))
"""


@pytest.mark.slow
def test_an_editor_that_cannot_start_ends_the_app_with_its_message(tmp_path):
    """The frame must not stay on screen saying "starting" when the editor behind it fails."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", ROBIN_STUDIO_CONFIG_DIR=str(tmp_path / "cfg"),
               ROBIN_STUDIO_DATA_DIR=str(tmp_path / "d"), ROBIN_STUDIO_CACHE_DIR=str(tmp_path / "c"))
    out = subprocess.run([sys.executable, "-c", _EDITOR_FAILS], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2, out.stderr[-2000:]
    assert "The editor could not start (a test)." in out.stderr
