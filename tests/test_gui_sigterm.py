"""SIGTERM (a logout, a shutdown, `kill`) closes the app like a window close that keeps the
work: no question is asked, the unsaved project goes to the recovery copy, the next start
offers it back, and the process exits with 143 as the command line does. The real entry
point (`robin-studio gui CLIP`, with its engine process) runs in its own process and is
killed from outside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from robin_studio.app.project import RecoveryStore
from test_app_support import make_clip

DRIVE = r"""
import sys
from PySide6 import QtCore, QtWidgets
from robin_studio import cli
from robin_studio.app.application import make_app
from robin_studio.app.main_window import MainWindow

def edit():
    wins = [w for w in QtWidgets.QApplication.topLevelWidgets()
            if isinstance(w, MainWindow) and w.isVisible()]
    if not wins or wins[0].picture.shown_time_s is None:
        QtCore.QTimer.singleShot(100, edit)     # wait for the window and the clip's first frame
        return
    wins[0].prompt_panel.prompt.setPlainText(sys.argv[1])    # unsaved work
    print("EDITED", wins[0].dirty, flush=True)

make_app(sys.argv[:1])
QtCore.QTimer.singleShot(200, edit)
sys.exit(cli.main(["gui", sys.argv[2]]))
"""


@pytest.mark.slow
def test_sigterm_keeps_the_unsaved_work_and_exits_143(tmp_path):
    clip = make_clip(tmp_path / "c.mp4", seconds=1.0, fps=10, with_audio=False)
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ROBIN_STUDIO_DATA_DIR": str(data),
           "ROBIN_STUDIO_CONFIG_DIR": str(tmp_path / "config"),
           "ROBIN_STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    words = "slow cello, keep this after a kill"
    proc = subprocess.Popen([sys.executable, "-c", DRIVE, words, str(clip)], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.split() == ["EDITED", "True"], proc.stderr.read()[-3000:] if not line else line
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert code == 143, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    # The next start finds the work and offers it back (the session marker says the
    # process that wrote it is gone).
    recovered = RecoveryStore(data / "recovery").pending()
    assert recovered is not None and recovered.prompt == words
    assert recovered.clip_path == str(clip.resolve())
