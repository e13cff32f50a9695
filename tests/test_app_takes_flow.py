"""The takes flow on its own (app/takes_flow.py), with the real timeline, take list, A/B button,
prompt panel and a player without a device, and no engine: takes here are the music that had
arrived when a generation was stopped (audio and chunk images, no engine piece), which is what
the window keeps for a stopped take.

What a creator notices: which take the lane names and the player plays after deleting the take
in use, renaming one and undoing either; and that undo waits while the music is generating.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui

from robin_studio.app.audio_player import AudioPlayer
from robin_studio.app.project import GenerationSettings, Project
from robin_studio.app.prompt_panel import PromptPanel
from robin_studio.app.session import ClipSession, Feedback
from robin_studio.app.takes import GenRequest, MusicState, TakesModel
from robin_studio.app.takes_flow import MusicLane, TakesFlow
from robin_studio.app.takes_panel import TakesPanel
from robin_studio.app.timeline import Timeline
from robin_studio.app.transport import TransportBar

SR = 48_000
DURATION_S = 8.0


class Editor:
    """The parts the takes flow works on, assembled as the window does."""

    def __init__(self, qtbot) -> None:
        from PySide6 import QtWidgets
        self.window = QtWidgets.QMainWindow()
        qtbot.addWidget(self.window)
        self.busy = False
        self.session = ClipSession(project=Project(clip_path="/clips/a.mp4"), duration_s=DURATION_S)
        self.feedback = Feedback(self.window, [])
        self.timeline = Timeline()
        self.timeline.set_duration(DURATION_S, 25.0)
        self.player = AudioPlayer(available=False)
        self.player.set_duration(DURATION_S)
        self.prompt = PromptPanel()
        self.transport = TransportBar()
        self.model = TakesModel(self.window)
        self.panel = TakesPanel(self.model)
        for widget in (self.timeline, self.prompt, self.transport, self.panel):
            qtbot.addWidget(widget)    # closed and deleted by Qt after the test, not by the GC
        self.undo = QtGui.QUndoStack(self.window)
        self.lane = MusicLane(self.timeline, self.player, self.session)
        self.flow = TakesFlow(self.window, self.session, self.model, self.undo, self.lane, self.prompt,
                              self.transport.ab, self.feedback, lambda: self.busy, lambda t: None)
        self.panel.useRequested.connect(self.flow.use)
        self.panel.deleteRequested.connect(self.flow.delete)

    def stopped_take(self, text: str, until_s: float, level: float, parent: int | None = None):
        """A take stopped at `until_s` whose music is a constant `level` (to tell takes apart)."""
        audio = np.zeros((int(DURATION_S * SR), 2), np.float32)
        audio[: int(until_s * SR)] = level
        chunks = [(0, 0.0, until_s, np.full((8, 8), level, np.float32))]
        req = GenRequest("generate", text, text, GenerationSettings(seed=7), 7, parent=parent)
        return self.flow.add_take(req, MusicState(None, None, chunks, audio), None, partial_until_s=until_s)

    def heard_level(self) -> float:
        """What the player would play at 1 s (each test take has its own level)."""
        return float(self.player.snapshot()[SR, 0])

    def label(self) -> str:
        return self.timeline.take_label.textItem.toPlainText()


@pytest.fixture
def editor(qtbot):
    return Editor(qtbot)


def test_deleting_the_take_in_use_falls_back_to_the_take_it_was_made_from_and_undo_restores_it(editor):
    first = editor.stopped_take("calm piano", 4.0, 0.25)
    second = editor.stopped_take("busy drums", 6.0, 0.5, parent=first.number)
    assert editor.model.current == second.number and editor.heard_level() == pytest.approx(0.5)
    assert "Take 2" in editor.label() and editor.session.dirty

    editor.panel.deleteRequested.emit(second.number)       # Delete in the take list
    assert [t.name for t in editor.model.takes] == ["Take 1"]
    assert editor.model.current == first.number
    assert editor.heard_level() == pytest.approx(0.25)     # the player plays take 1 again
    assert "Take 1" in editor.label()
    assert editor.prompt.text() == "calm piano"            # and the panel shows what made it
    assert "Ctrl+Z brings it back" in editor.feedback.status_text()

    editor.flow.undo()
    assert [t.name for t in editor.model.takes] == ["Take 1", "Take 2"]
    assert editor.model.current == second.number and editor.heard_level() == pytest.approx(0.5)
    assert "now using Take 2" in editor.feedback.status_text()
    assert editor.prompt.text() == "busy drums"


def test_renaming_a_take_is_undoable_and_the_lane_says_the_new_name(editor):
    editor.stopped_take("calm piano", 4.0, 0.25)
    index = editor.model.index(0, 0)
    editor.model.setData(index, "Quiet intro")             # typed in the list (F2)
    assert editor.model.takes[0].name == "Quiet intro" and "Quiet intro" in editor.label()
    editor.flow.undo()
    assert editor.model.takes[0].name == "Take 1"
    editor.flow.redo()
    assert editor.model.takes[0].name == "Quiet intro"


def test_clicking_another_take_switches_and_undo_switches_back_but_not_while_generating(editor):
    first = editor.stopped_take("calm piano", 4.0, 0.25)
    editor.stopped_take("busy drums", 6.0, 0.5)
    editor.panel.useRequested.emit(first.number)            # a click on take 1
    assert editor.model.current == first.number and editor.heard_level() == pytest.approx(0.25)

    editor.busy = True                                      # a generation is running
    editor.flow.undo()
    assert editor.model.current == first.number            # nothing switched under it
    assert editor.feedback.status_text() == "Stop generating before undoing."
    editor.panel.deleteRequested.emit(first.number)
    assert len(editor.model.takes) == 2

    editor.busy = False
    editor.flow.undo()
    assert editor.model.current == 2 and editor.heard_level() == pytest.approx(0.5)


def test_a_b_is_off_for_a_take_without_an_engine_piece_to_compare(editor):
    first = editor.stopped_take("calm piano", 4.0, 0.25)
    editor.stopped_take("busy drums", 6.0, 0.5, parent=first.number)
    assert editor.flow.ab_parent() is None                  # a stopped take cannot be heard as B
    editor.transport.ab.setEnabled(True)
    editor.transport.ab.setChecked(True)
    editor.flow.set_ab(True)
    assert not editor.transport.ab.isChecked() and editor.flow.ab_side == "A"
    assert editor.heard_level() == pytest.approx(0.5)
