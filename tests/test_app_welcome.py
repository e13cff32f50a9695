"""The first-run welcome: shown once on a fresh install with each setup check and what to do,
and its "Try the sample clip" button opens the bundled clip, ready to generate."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6 import QtWidgets

from robin_studio.app.checks import Check
from robin_studio.app.main_window import MainWindow
from robin_studio.app.welcome import SAMPLE_PROMPT, WelcomeDialog, sample_clip_path
from test_app_support import make_window

pytestmark = pytest.mark.usefixtures("user_dirs")


def welcomes(w: MainWindow) -> list[WelcomeDialog]:
    return [d for d in w.dialogs if isinstance(d, WelcomeDialog)]


def test_welcome_shows_once_on_first_run_with_every_check(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    checks = w.run_first_checks()
    [dlg] = welcomes(w)
    assert dlg.isVisible()
    text = dlg.checks_label.text()
    for c in checks:
        assert c.name in text and c.message.split(".")[0] in text
    # The real state of these machines: no sound card; the welcome says playback is off.
    assert "no audio output device" in text.lower()
    dlg.close_button.click()
    assert not welcomes(w)

    # The next start is not a first run: no welcome (serious problems still get a message).
    again = make_window(qtbot, tmp_path)
    again.run_first_checks()
    assert not welcomes(again)


def test_help_check_setup_shows_the_checks_not_the_welcome(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    w.run_first_checks(force=True)
    assert not welcomes(w) and w.dialogs


def test_failed_checks_are_marked_and_say_what_to_do(qtbot):
    checks = [Check("SoundFont", False, "No General MIDI SoundFont was found. Run setup.sh."),
              Check("Audio output", True, "Playing through Speakers.")]
    dlg = WelcomeDialog(checks)
    qtbot.addWidget(dlg)
    html = dlg.checks_label.text()
    assert "\u2716" in html.split("SoundFont")[0].rsplit("<tr>", 1)[1]   # cross before the failed one
    assert "\u2714" in html.split("Audio output")[0].rsplit("<tr>", 1)[1]
    assert "Run setup.sh." in html
    # Without a window to open it in, the sample button is off rather than silently useless.
    assert not dlg.sample_button.isEnabled()


def test_missing_sample_clip_disables_the_button_and_says_why(qtbot, tmp_path):
    dlg = WelcomeDialog([], open_path=lambda p: True, sample=tmp_path / "gone.mp4")
    qtbot.addWidget(dlg)
    assert not dlg.sample_button.isEnabled()
    assert "missing" in dlg.sample_button.toolTip()


def test_every_button_has_a_tooltip(qtbot):
    dlg = WelcomeDialog([])
    qtbot.addWidget(dlg)
    assert all(b.toolTip() for b in dlg.findChildren(QtWidgets.QAbstractButton))


def test_try_the_sample_opens_the_bundled_clip_ready_to_generate(qtbot, tmp_path):
    from robin_studio.generate.engine import Scorer

    sample = sample_clip_path()
    assert sample.is_file(), "resources/sample/bigbuckbunny.mp4 must ship with the app"
    # The engine in this process (the app's own process split is tested elsewhere).
    w = make_window(qtbot, tmp_path, scorer_factory=Scorer)
    w.run_first_checks()
    [dlg] = welcomes(w)
    with qtbot.waitSignal(w.analysisReady, timeout=120_000):
        dlg.sample_button.click()
    assert not welcomes(w)
    assert Path(w.project.clip_path) == sample.resolve()
    assert abs(w.duration_s - 5.3) < 0.2
    assert w.prompt_panel.text() == SAMPLE_PROMPT
    assert w.prompt_panel.generate_button.isEnabled()
