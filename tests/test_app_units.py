"""App parts without a window: projects (atomic save, recovery), the audio player (the
no-device path that is real here, and the playing path with the output stream mocked, the
one mock allowed because no sound card exists), first-run checks and prompt composition."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from robin_studio.app import checks
from robin_studio.app.audio_player import SAMPLE_RATE, AudioPlayer
from robin_studio.app.project import (GenerationSettings, Project, ProjectError, RecoveryStore,
                                      TakeRecord)
from robin_studio.app.prompt_panel import compose_prompt


def test_project_round_trip_and_atomic_save(tmp_path):
    p = Project(clip_path="/clips/a.mp4", prompt="warm piano",
                settings=GenerationSettings(seed=7, tempo_bpm=92.0, key="A minor",
                                            instruments={"drums": False}, styles=["lofi"]),
                generated=True, takes=[TakeRecord(2.0, 4.5, 11, "louder")], selection_s=(2.0, 4.5))
    p.remember_prompt("warm piano")
    path = p.save(tmp_path / "x.robin")
    q = Project.load(path)
    assert q.settings.seed == 7 and q.settings.tempo_bpm == 92.0 and q.settings.key == "A minor"
    assert q.settings.instruments["drums"] is False and q.settings.instruments["bass"] is True
    assert q.takes[0].start_s == 2.0 and q.takes[0].seed == 11 and q.selection_s == (2.0, 4.5)
    assert q.prompt_history == ["warm piano"] and q.generated
    # No temporary files are left beside the project.
    assert [f.name for f in tmp_path.iterdir()] == ["x.robin"]


def test_a_take_keeps_the_hit_points_it_was_made_with(tmp_path):
    """Version 3: a take records its hit points and demoted cuts (a re-timed take is made
    again from them); a version 2 file still opens (its takes have none recorded); a
    damaged entry makes the file refused, not a take guessed."""
    from robin_studio.app.project import FORMAT_VERSION

    hits = [{"time_s": 6.6, "strong": False}]
    p = Project(clip_path="/clips/a.mp4", takes=[
        TakeRecord(0.0, 12.0, 3, "piano", kind="generate", number=1, hit_points=[], ignored_cuts_s=[]),
        TakeRecord(0.0, 12.0, 99, "piano", kind="retime", number=2, parent=1, hit_points=hits,
                   ignored_cuts_s=[2.4], clip_path="/clips/new_cut.mp4")])
    d = json.loads(p.save(tmp_path / "v3.robin").read_text())
    assert d["version"] == FORMAT_VERSION == 3
    q = Project.load(tmp_path / "v3.robin")
    assert q.takes[1].hit_points == hits and q.takes[1].ignored_cuts_s == [2.4]
    assert q.takes[1].seed == 99 and q.takes[0].hit_points == []
    assert q.takes[1].clip_path == "/clips/new_cut.mp4" and q.takes[0].clip_path == ""
    # a version 2 file: no markers per take
    for t in d["takes"]:
        del t["hit_points"], t["ignored_cuts_s"], t["clip_path"]
    d["version"] = 2
    (tmp_path / "v2.robin").write_text(json.dumps(d))
    old = Project.load(tmp_path / "v2.robin")
    assert [t.hit_points for t in old.takes] == [None, None] and old.takes[1].kind == "retime"
    # damaged: a hit point without its time, a negative demoted cut
    for bad in ([{"strong": True}], [{"time_s": "soon", "strong": True}]):
        d["takes"][1]["hit_points"] = bad
        (tmp_path / "bad.robin").write_text(json.dumps(d))
        with pytest.raises(ProjectError, match="damaged"):
            Project.load(tmp_path / "bad.robin")
    d["takes"][1]["hit_points"] = hits
    d["takes"][1]["ignored_cuts_s"] = [-1.0]
    (tmp_path / "bad.robin").write_text(json.dumps(d))
    with pytest.raises(ProjectError, match="damaged"):
        Project.load(tmp_path / "bad.robin")
    d["takes"][1]["ignored_cuts_s"] = []
    d["takes"][1]["clip_path"] = "/dev/zero"          # a take's clip is checked as the project's
    (tmp_path / "bad.robin").write_text(json.dumps(d))
    with pytest.raises(ProjectError, match="damaged"):
        Project.load(tmp_path / "bad.robin")


def test_save_into_unwritable_place_keeps_old_file(tmp_path):
    path = tmp_path / "keep.robin"
    Project(clip_path="a.mp4", prompt="old").save(path)
    before = path.read_text()
    with pytest.raises(ProjectError):
        Project(clip_path="a.mp4").save(tmp_path / "keep.robin" / "inside.robin")  # parent is a file
    assert path.read_text() == before


def test_load_rejects_other_json_with_readable_message(tmp_path):
    f = tmp_path / "other.robin"
    f.write_text(json.dumps({"hello": 1}))
    with pytest.raises(ProjectError, match="not a Robin Studio project"):
        Project.load(f)
    f.write_text("{ broken")
    with pytest.raises(ProjectError, match="cannot be read"):
        Project.load(f)


def test_recovery_offered_only_after_a_crash(tmp_path):
    store = RecoveryStore(tmp_path)
    assert store.pending() is None
    # A session that crashed: marker from a process that is gone, autosave present.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    (tmp_path / "session-running.json").write_text(json.dumps({"pid": int(dead.stdout)}))
    store.autosave(Project(clip_path="/clips/b.mp4", prompt="strings"))
    rec = store.pending()
    assert rec is not None and rec.prompt == "strings"
    # A clean exit leaves nothing to recover.
    store.start()
    store.clean_exit()
    assert store.pending() is None and not store.autosave_path.exists()


def test_recovery_ignores_a_running_session(tmp_path):
    store = RecoveryStore(tmp_path)
    (tmp_path / "session-running.json").write_text(json.dumps({"pid": os.getppid()}))
    store.autosave(Project(clip_path="c.mp4"))
    assert store.pending() is None


def test_checks_here_report_no_audio_device_with_advice():
    c = checks.check_audio_device()
    assert not c.ok  # these machines have no sound card
    assert "sound is off" in c.message.lower() and "picture plays" in c.message.lower()


def test_checks_soundfont_and_models_messages(tmp_path):
    missing = checks.check_soundfont(tmp_path / "none.sf2")
    assert not missing.ok and "none.sf2" in missing.message
    sf = tmp_path / "x.sf2"
    sf.write_bytes(b"RIFF")
    assert checks.check_soundfont(sf).ok
    no_model = checks.check_models(tmp_path)
    assert not no_model.ok and "loop generator" in no_model.message
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "m.onnx").write_bytes(b"0")
    assert checks.check_models(tmp_path).ok


def test_player_without_device_plays_silently_by_the_system_clock():
    player = AudioPlayer()        # the real probe: there is no device here
    assert not player.available and "sound is off" in player.notice.lower()
    now = [100.0]
    player.clock = lambda: now[0]          # the system clock, stepped by hand
    player.set_duration(2.0)
    player.seek(0.5)
    assert player.play() is True and player.playing
    now[0] += 0.75
    assert player.position_s() == pytest.approx(1.25)
    player.play(2.0)                       # L again: twice as fast
    now[0] += 0.25
    assert player.position_s() == pytest.approx(1.75)
    player.pause()
    now[0] += 1.0
    assert player.position_s() == pytest.approx(1.75) and not player.playing
    player.seek(1.25)
    assert player.position_s() == pytest.approx(1.25)
    player.play(-1.0)                      # J: backwards, stops at the start
    now[0] += 5.0
    assert player.position_s() == 0.0 and not player.playing and player.ended


class FakeStream:
    """Stands in for sounddevice.OutputStream (no device exists). The test pulls blocks
    through the real callback as PortAudio would."""

    def __init__(self, callback):
        self.callback, self.started, self.closed = callback, False, False

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def close(self):
        self.closed = True

    def pull(self, frames):
        out = np.full((frames, 2), 9.0, np.float32)
        self.callback(out, frames, None, None)
        return out


def test_player_plays_chunks_written_while_playing_and_clock_follows():
    streams = []
    player = AudioPlayer(available=True, stream_factory=lambda cb: streams.append(FakeStream(cb)) or streams[-1])
    player.set_duration(1.0)
    tone = np.stack([np.linspace(0, 1, SAMPLE_RATE // 2, dtype=np.float32)] * 2, axis=1)
    player.write(0.0, tone)                      # first chunk: 0..0.5 s
    assert player.play()
    s = streams[0]
    assert s.started
    block = s.pull(4800)
    np.testing.assert_allclose(block, tone[:4800])
    assert player.position_s() == pytest.approx(0.1)
    player.write(0.5, tone[::-1])                # second chunk arrives during playback
    s.pull(SAMPLE_RATE // 2 - 4800)
    np.testing.assert_allclose(s.pull(100), tone[::-1][:100])
    # Reverse shuttle (J) plays backwards from here.
    player.play(-1.0)
    pos = player.position_s()
    back = s.pull(10)
    assert player.position_s() == pytest.approx(pos - 10 / SAMPLE_RATE)
    assert back[0, 0] == pytest.approx(tone[::-1][100, 0], abs=1e-6)
    # Playing to the end stops and outputs silence past it.
    player.play(1.0)
    tail = s.pull(SAMPLE_RATE)
    assert player.ended and not player.playing and np.all(tail[-100:] == 0)
    player.pause()
    assert s.closed


def test_player_mixes_the_clip_sound_under_the_music_and_can_mute_it():
    streams = []
    player = AudioPlayer(available=True, stream_factory=lambda cb: streams.append(FakeStream(cb)) or streams[-1])
    player.set_duration(0.5)
    player.write(0.0, np.full((SAMPLE_RATE // 2, 2), 0.1, np.float32))
    player.set_original(np.full((SAMPLE_RATE // 2, 2), 0.5, np.float32), gain_db=-12.0)
    player.play()
    block = streams[0].pull(100)
    np.testing.assert_allclose(block, 0.1 + 0.5 * 10 ** (-12 / 20), rtol=1e-6)
    player.original_on = False
    np.testing.assert_allclose(streams[0].pull(100), 0.1)


def test_compose_prompt_folds_controls_into_words():
    s = GenerationSettings(seed=1, tempo_bpm=92, key="A minor",
                           instruments={"drums": False, "bass": True, "harmony": True,
                                        "melody": True, "texture": False},
                           styles=["lofi", "jazz"])
    text = compose_prompt("warm piano.", s)
    assert text == "warm piano, lo-fi and jazz, at 92 bpm, in A minor, no drums, no texture"
    assert compose_prompt("", GenerationSettings()) == ""


def test_the_file_dialog_shows_its_toolbar_icons(qtbot):
    """Issue 17: the themed file dialog's back/up/new-folder/view buttons showed dots: the
    theme's button padding left no room for their icons."""
    from PySide6 import QtWidgets

    from robin_studio.app.style import apply_theme

    apply_theme(QtWidgets.QApplication.instance())
    dlg = QtWidgets.QFileDialog(None, "Open", ".", "All (*)")
    dlg.setOption(QtWidgets.QFileDialog.Option.DontUseNativeDialog, True)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    buttons = [b for b in dlg.findChildren(QtWidgets.QToolButton) if b.isVisible() and not b.icon().isNull()]
    assert len(buttons) >= 4
    for b in buttons:
        # what the icon adds to the drawn button: a whole icon, not a dot
        with_icon = _pixels(b.grab())
        icon = b.icon()
        b.setIcon(type(icon)())
        without = _pixels(b.grab())
        b.setIcon(icon)
        changed = int((np.abs(with_icon.astype(int) - without.astype(int)).sum(axis=2) > 30).sum())
        assert changed >= 25, (b.toolTip(), changed)


def _pixels(pixmap) -> np.ndarray:
    img = pixmap.toImage().convertToFormat(pixmap.toImage().Format.Format_RGB888)
    w, h = img.width(), img.height()
    data = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * h).reshape(h, img.bytesPerLine())
    return data[:, : 3 * w].reshape(h, w, 3).copy()
