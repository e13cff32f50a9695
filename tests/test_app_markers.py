"""Hit points in the app, through the engine process as the app runs it: M adds a hit point
at the playhead (drawn on the picture lane, listed in the panel, saved in the project),
Ctrl+Z removes it; the generated music marks it; dragging it re-times only the bars around
it (undo returns the old take and place); a cut can be ignored; File > Replace Video
conforms the music to a re-edit and shows the conform report (undo returns the old clip)."""

from __future__ import annotations

import pytest
from PySide6 import QtCore

from robin_studio.timing.hits import HitPoint
from test_app_flow import make_window
from test_app_support import make_clip, open_and_analyse, wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("user_dirs")]
Key = QtCore.Qt.Key


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_clip(tmp_path_factory.mktemp("markers") / "shots.mp4", seconds=12.0, fps=25,
                     cut_frames=(60, 170))


def _retimed(qtbot, w):
    qtbot.waitUntil(lambda: w.markers._worker is None, timeout=120_000)
    assert not w.dialogs, [d.text() + d.informativeText() for d in w.dialogs]


def test_hit_points_in_the_app(qtbot, tmp_path, clip, scorer):
    w = make_window(qtbot, tmp_path, scorer)
    open_and_analyse(qtbot, w, clip)
    m = w.markers
    w.seek(4.0)
    qtbot.keyClick(w.timeline, Key.Key_M)
    assert m.model.hits == (HitPoint(pytest.approx(4.0, abs=0.05), True),)
    assert len(m.lane.lines) == 1 and m.panel.list.count() == 1
    assert w.project.hit_points[0]["time_s"] == pytest.approx(4.0, abs=0.05)
    qtbot.keyClick(w.timeline, Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert m.model.hits == () and not m.lane.lines
    qtbot.keyClick(w.timeline, Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier
                   | QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert len(m.model.hits) == 1
    t0 = m.model.hits[0].time_s

    # generate: the music marks the hit point
    w.generate()
    wait_idle(qtbot, w)
    tm = w.piece.tempo_map
    beat = round(tm.beat_at(t0))
    assert abs(tm.seconds_at(beat) - t0) <= 0.010          # on a beat
    # the panel says where it landed and when it was heard (asked of the engine after generating)
    qtbot.waitUntil(lambda: bool(m.model.report), timeout=60_000)
    assert "on the beat" in m.panel.list.item(0).text() and "heard" in m.panel.list.item(0).text()
    old_take, old_tm = w.piece.take_id, tm

    # drag it on the picture lane: only the bars around it are generated again
    line = m.lane.lines[0]
    line.setValue(6.6)
    line.sigPositionChangeFinished.emit(line)
    _retimed(qtbot, w)
    assert m.model.hits[0].time_s == pytest.approx(6.6)
    tm = w.piece.tempo_map
    assert abs(tm.seconds_at(round(tm.beat_at(6.6))) - 6.6) <= 0.010
    assert "generated again" in w.status_label.text()
    assert "on the beat" in m.panel.list.item(0).text() and "heard" in m.panel.list.item(0).text()
    assert w.piece.take_id != old_take

    # undo: the hit point and the take return together
    w.undo()
    assert m.model.hits[0].time_s == pytest.approx(t0) and w.piece.take_id == old_take
    assert w.piece.tempo_map.to_dict() == old_tm.to_dict()
    w.redo()
    assert m.model.hits[0].time_s == pytest.approx(6.6)

    # strong/soft and ignoring a cut re-time too
    m.panel.list.setCurrentRow(0)
    m.panel.strong_button.click()
    _retimed(qtbot, w)
    assert m.model.hits[0].strong is False
    w.seek(w.analysis.transitions[0].time_s)
    m.panel.cut_button.click()
    _retimed(qtbot, w)
    assert m.model.state.ignored_cuts_s == (pytest.approx(w.analysis.transitions[0].time_s),)
    assert "ignored" in m.panel.list.item(1).text()

    # saved in the project
    assert w.project_flow.save_to(tmp_path / "p.robin")
    from robin_studio.app.project import Project
    saved = Project.load(tmp_path / "p.robin")
    assert saved.hit_points == [{"time_s": 6.6, "strong": False}]
    assert len(saved.ignored_cuts_s) == 1


def test_a_saved_re_timed_take_comes_back_exactly(qtbot, tmp_path, clip, scorer):
    """A project saved after a hit point was moved reopens with the re-timed take: the same
    notes and tempo map (its MIDI file, byte for byte) and the same audio. (Version 2
    projects did not record the markers and seed, and the app skipped such takes.)"""
    import numpy as np

    from robin_studio.app.project import Project

    w = make_window(qtbot, tmp_path, scorer)
    open_and_analyse(qtbot, w, clip)
    w.seek(4.0)
    qtbot.keyClick(w.timeline, Key.Key_M)
    w.generate()
    wait_idle(qtbot, w)
    line = w.markers.lane.lines[0]
    line.setValue(6.6)
    line.sigPositionChangeFinished.emit(line)
    _retimed(qtbot, w)
    retimed = w.takes.current_take()
    assert retimed.kind == "retime"
    want_tm, want_audio = w.piece.tempo_map.to_dict(), w.piece.audio.copy()
    scorer.export(w.piece, tmp_path / "before.mid", kind="midi")
    assert w.project_flow.save_to(tmp_path / "p.robin")
    saved = Project.load(tmp_path / "p.robin")
    assert [(t.kind, t.hit_points) for t in saved.takes] == [
        ("generate", [{"time_s": pytest.approx(4.0, abs=0.05), "strong": True}]),
        ("retime", [{"time_s": 6.6, "strong": True}])]
    w.close()

    w2 = make_window(qtbot, tmp_path, scorer)
    with qtbot.waitSignal(w2.replayDone, timeout=240_000):
        assert w2.open_project(tmp_path / "p.robin")
    assert [t.kind for t in w2.takes.takes] == ["generate", "retime"]
    assert w2.takes.current == retimed.number
    assert w2.markers.model.hits == (HitPoint(6.6, True),)
    assert w2.piece.tempo_map.to_dict() == want_tm
    scorer.export(w2.piece, tmp_path / "after.mid", kind="midi")
    assert (tmp_path / "after.mid").read_bytes() == (tmp_path / "before.mid").read_bytes()
    np.testing.assert_array_equal(w2.piece.audio, want_audio)


def test_replace_video_conforms_and_undo_returns_the_old_clip(qtbot, tmp_path, scorer):
    from tests.fixtures.reedit import reedit_cached

    truth = reedit_cached()
    w = make_window(qtbot, tmp_path, scorer)
    open_and_analyse(qtbot, w, truth.old_path)
    w.generate()
    wait_idle(qtbot, w)
    old_dur = w.duration_s
    w.markers.replace_video(truth.new_path)
    _retimed_or_report = lambda: w.markers._worker is None  # noqa: E731
    qtbot.waitUntil(_retimed_or_report, timeout=240_000)
    report = [d for d in w.dialogs if d.windowTitle() == "Conform report"]
    assert report and "shots matched" in report[0].text()
    assert "new picture" in report[0].informativeText()
    assert w.duration_s == pytest.approx(31.4, abs=0.05)
    assert w.piece.audio.shape[0] == int(round(31.4 * 48_000))
    assert w.project.clip_path.endswith("new_cut.mp4")
    report[0].close()
    w.dialogs.clear()
    w.undo()
    assert w.duration_s == pytest.approx(old_dur) and w.project.clip_path.endswith("old_cut.mp4")
    assert w.piece.audio.shape[0] == int(round(old_dur * 48_000))


def test_a_saved_conformed_take_comes_back_exactly(qtbot, tmp_path, scorer):
    """After File > Replace Video the take list holds the old cut's take and the conformed
    one, each with its clip recorded; the saved project reopens on the new cut with both: the
    old take made for the old cut, the conformed take conformed again alike (the same MIDI
    byte for byte, tempo map and audio). Version 2 projects lost the conformed take."""
    import numpy as np

    from tests.fixtures.reedit import reedit_cached

    truth = reedit_cached()
    w = make_window(qtbot, tmp_path, scorer)
    open_and_analyse(qtbot, w, truth.old_path)
    w.generate()
    wait_idle(qtbot, w)
    w.markers.replace_video(truth.new_path)
    qtbot.waitUntil(lambda: w.markers._worker is None, timeout=240_000)
    for d in list(w.dialogs):
        d.close()
    w.dialogs.clear()
    old_take, conformed = w.takes.takes
    assert (old_take.kind, conformed.kind) == ("generate", "conform")
    assert old_take.clip_path.endswith("old_cut.mp4") and conformed.clip_path.endswith("new_cut.mp4")
    # the take list says which takes are of the earlier cut (Region column and tooltip)
    region = w.takes.index(0, 4)
    assert "(of old_cut.mp4)" in w.takes.data(region)
    assert "earlier cut" in w.takes.data(region, QtCore.Qt.ItemDataRole.ToolTipRole)
    assert "(of" not in w.takes.data(w.takes.index(1, 4))
    want_tm, want_audio = w.piece.tempo_map.to_dict(), w.piece.audio.copy()
    scorer.export(w.piece, tmp_path / "before.mid", kind="midi")
    assert w.project_flow.save_to(tmp_path / "c.robin")
    w.close()

    w2 = make_window(qtbot, tmp_path, scorer)
    with qtbot.waitSignal(w2.replayDone, timeout=400_000):
        assert w2.open_project(tmp_path / "c.robin")
    assert not w2.dialogs, [d.text() + d.informativeText() for d in w2.dialogs]
    assert [t.kind for t in w2.takes.takes] == ["generate", "conform"]
    assert w2.takes.current == conformed.number
    assert w2.project.clip_path.endswith("new_cut.mp4")
    assert w2.duration_s == pytest.approx(31.4, abs=0.05)
    assert w2.piece.tempo_map.to_dict() == want_tm
    scorer.export(w2.piece, tmp_path / "after.mid", kind="midi")
    assert (tmp_path / "after.mid").read_bytes() == (tmp_path / "before.mid").read_bytes()
    np.testing.assert_array_equal(w2.piece.audio, want_audio)
    assert w2.takes.any_take(old_take.number).clip_path.endswith("old_cut.mp4")


def test_a_version_2_project_with_re_timed_takes_opens(qtbot, tmp_path, clip, scorer):
    """tests/fixtures/v2_retimed.robin was saved by the app at format 2 (c7a7304, this
    module's clip): a hit point placed at 4.0 s, generated, dragged to 6.6 s (re-timed), a
    bar regenerated on that take, then dragged to 8.0 s (re-timed again; the take in use).
    Format 2 recorded neither the hit points nor the seed of a re-timing, and the app used to
    skip such takes (and the regeneration made from one): the project opened on its first
    take. Now every take is made again, the re-timings with the project's hit points, the
    music in use lands the hit point where it was saved, and the user is told which takes
    may differ from the saved session."""
    import json
    from pathlib import Path

    from robin_studio.timing.hits import hit_landings

    saved = json.loads((Path(__file__).parent / "fixtures" / "v2_retimed.robin").read_text())
    assert saved["version"] == 2
    saved["clip_path"] = str(clip)                      # the same clip, where it is here
    (tmp_path / "v2.robin").write_text(json.dumps(saved))
    w = make_window(qtbot, tmp_path, scorer)
    with qtbot.waitSignal(w.replayDone, timeout=300_000):
        assert w.open_project(tmp_path / "v2.robin")
    assert [t.kind for t in w.takes.takes] == ["generate", "retime", "regenerate", "retime"]
    assert w.takes.current == saved["current_take"] == 4
    assert w.markers.model.hits == (HitPoint(8.0, True),)
    assert hit_landings(w.piece.tempo_map, [HitPoint(8.0, True)])[0].on_beat
    assert "not every take is as it was saved" in w.feedback.status_text().lower()
    told = [d.informativeText() for d in w.dialogs]             # a message says which and why
    assert len(told) == 1 and "format 2" in told[0] and "takes 1, 2, 3, 4" in told[0], told
    w.dialogs[0].accept()
    # saved again, it is a version 3 project whose takes record what they were made with
    assert w.project_flow.save_to(tmp_path / "v3.robin")
    again = json.loads((tmp_path / "v3.robin").read_text())
    assert again["version"] == 3
    assert [t["hit_points"] for t in again["takes"] if t["kind"] == "retime"] == [
        [{"time_s": 8.0, "strong": True}]] * 2
