"""`robin-studio gui VIDEO` and plain `robin-studio` open the window (the real entry points,
with the engine process they start), and the first-run checks and export dialog speak up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6 import QtWidgets

from robin_studio.app.export_dialog import ExportDialog
from robin_studio.app.main_window import MainWindow
from test_app_support import make_clip

pytestmark = pytest.mark.usefixtures("user_dirs")


LOOK = r"""
import json, sys
from PySide6 import QtCore, QtWidgets
from robin_studio import cli
from robin_studio.app.main_window import MainWindow

seen = {}

def look():
    wins = [w for w in QtWidgets.QApplication.topLevelWidgets()
            if isinstance(w, MainWindow) and w.isVisible()]
    if not wins or (sys.argv[2:] and wins[0].picture.shown_time_s is None):
        QtCore.QTimer.singleShot(100, look)   # wait for the window (and the clip's first frame)
        return
    w = wins[0]
    seen.update(title=w.windowTitle(), clip=w.project.clip_path, frame=w.picture.shown_time_s)
    for d in list(w.dialogs):
        d.close()
    w.confirm_close = False
    w.close()
    QtWidgets.QApplication.quit()

from robin_studio.app.application import make_app
make_app(sys.argv[:1])          # the app must exist before the timer; run_app reuses it
QtCore.QTimer.singleShot(200, look)
code = cli.main(sys.argv[1:])
print("SEEN" + json.dumps(seen))
sys.exit(code)
"""


def _run_and_look(argv: list[str], tmp_path) -> dict:
    """Run the real entry point in its own process; once its window is up, record what it
    shows and close it (a QApplication's exec/quit belongs in a process of its own)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", LOOK, *argv], capture_output=True, text=True,
                         env=env, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("SEEN"))
    return json.loads(line[4:])


def test_gui_command_opens_the_clip(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", seconds=1.0, fps=10, with_audio=False)
    seen = _run_and_look(["gui", str(clip)], tmp_path)
    assert Path(seen["clip"]) == clip.resolve() and seen["frame"] == 0.0
    assert "c.mp4" in seen["title"]


def test_no_subcommand_opens_the_app(tmp_path):
    seen = _run_and_look([], tmp_path)
    assert seen["title"].startswith("Robin Studio") and seen["clip"] == ""


def test_first_run_checks_dialog_names_each_missing_part(qtbot, tmp_path):
    w = MainWindow(run_first_checks=False, recovery_dir=tmp_path / "rec")
    w.confirm_close = False
    qtbot.addWidget(w)
    checks = w.run_first_checks(force=True)
    assert [c.name for c in checks] == ["SoundFont", "Models", "Audio output"]
    text = w.dialogs[-1].text()
    for c in checks:
        assert c.message in text
    assert "no audio output device" in text.lower()    # the real state of these machines


def test_export_dialog_controls_have_tooltips_and_defaults(qtbot, tmp_path):
    calls = []
    dlg = ExportDialog(None, str(tmp_path / "clip.mp4"), lambda *a: calls.append(a), has_original_audio=False)
    qtbot.addWidget(dlg)
    kinds = (QtWidgets.QAbstractButton, QtWidgets.QSlider, QtWidgets.QLineEdit, QtWidgets.QProgressBar)
    missing = [c for k in kinds for c in dlg.findChildren(k) if not c.toolTip()]
    assert not missing
    assert dlg.path_edit.text().endswith("clip-scored.mp4")
    dlg.kind_buttons["midi"].setChecked(True)
    assert dlg.path_edit.text().endswith("clip-scored.mid") and not dlg.mix_box.isEnabled()
    assert not dlg.duck.isChecked() and dlg.settings()["original_gain_db"] == -60.0
