"""Issue 19, item 5: the app starts whatever its autosave, session marker or preferences
hold; the damaged file is set aside (renamed, kept) with a message, nothing else is lost;
hostile `.robin` files are refused with the project's own error, never loaded with
impossible values."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from hardening_util import ROOT

from robin_studio.app.project import Project, ProjectError, RecoveryStore

GOOD = Project(clip_path="clip.mp4", prompt="warm piano").to_dict()


def _with(**changes):
    d = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        target = d
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return d


HOSTILE = {
    "version_text": _with(version="two"),
    "tempo_nan": _with(settings__tempo_bpm=math.nan),
    "tempo_negative": _with(settings__tempo_bpm=-5),
    "tempo_inf": _with(settings__tempo_bpm=math.inf),
    "tempo_text": _with(settings__tempo_bpm="fast"),
    "clip_shadow": _with(clip_path="/etc/shadow"),
    "clip_device": _with(clip_path="/dev/zero"),
    "clip_list": _with(clip_path=["a", "b"]),
    "settings_list": _with(settings=[1, 2]),
    "instruments_list": _with(settings__instruments=["drums"]),
    "instruments_values": _with(settings__instruments={"drums": "yes"}),
    "styles_text": _with(settings__styles="jazz"),
    "seed_float": _with(settings__seed=1.5),
    "seed_huge": _with(settings__seed=10**30),
    "takes_dict": _with(takes={"a": 1}),
    "take_missing": _with(takes=[{"start_s": 0}]),
    "take_nan": _with(takes=[{"start_s": math.nan, "end_s": 1, "seed": 0}]),
    "selection_short": _with(selection_s=[1.0]),
    "selection_text": _with(selection_s="0-5"),
    "history_dict": _with(prompt_history={"a": "b"}),
    "history_numbers": _with(prompt_history=[1, 2]),
    "export_nested": _with(export={"kind": {"a": [1]}}),
    "export_list": _with(export=[1]),
    "generated_text": _with(generated="yes"),
    "prompt_number": _with(prompt=12),
    "a_list": [GOOD],
    "a_number": 3,
    "null": None,
    "deep": json.loads("[" * 50 + "]" * 50),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_project_files_are_refused_with_our_error(tmp_path, case):
    path = tmp_path / "x.robin"
    path.write_text(json.dumps(HOSTILE[case]), encoding="utf-8")   # NaN/Infinity as JSON allows
    with pytest.raises(ProjectError):
        Project.load(path)


@pytest.mark.parametrize("text", ["[" * 100_000, '{"format": "robin-studio-project", "prompt": "\\ud800"',
                                  "\xff\xfe garbage"])
def test_unreadable_project_text_is_our_error(tmp_path, text):
    path = tmp_path / "x.robin"
    path.write_bytes(text.encode("utf-8", "surrogatepass") if "\\" not in text else text.encode())
    with pytest.raises(ProjectError):
        Project.load(path)


def test_a_fifo_is_not_a_project(tmp_path):
    fifo = tmp_path / "pipe.robin"
    os.mkfifo(fifo)
    code = ("import sys\nfrom robin_studio.app.project import Project, ProjectError\n"
            "try:\n    Project.load(sys.argv[1])\nexcept ProjectError:\n    sys.exit(3)\n")
    run = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})   # not a hang
    assert run.returncode == 3, run.stderr[-2000:]


def test_good_project_round_trips(tmp_path):
    project = Project(clip_path=str(tmp_path / "clip.mp4"), prompt="warm piano")
    project.settings.tempo_bpm = 92.0
    project.remember_prompt("warm piano")
    back = Project.load(project.save(tmp_path / "p.robin"))
    assert back.to_dict() == project.to_dict()


@pytest.mark.parametrize("marker", ['{"pid": "abc"}', "[1, 2]", '{"pid": 1e400}', "not json",
                                    '{"pid": -1}'])
def test_damaged_marker_and_autosave_are_set_aside(tmp_path, marker):
    store = RecoveryStore(tmp_path)
    store.marker_path.write_text(marker)
    store.autosave_path.write_text(json.dumps(HOSTILE["tempo_nan"]))
    (tmp_path / "unrelated.txt").write_text("keep me")
    assert store.pending() is None
    leftover = sorted(p.name for p in tmp_path.iterdir())
    assert "unrelated.txt" in leftover
    assert store.marker_path.name not in leftover and store.autosave_path.name not in leftover
    assert any(n.startswith("session-running.json.damaged-") for n in leftover)
    assert any(n.startswith("autosave.robin.damaged-") for n in leftover)
    assert len(store.set_aside) == 2 and "could not be read" in store.set_aside[0]


def test_a_damaged_marker_still_offers_a_good_autosave(tmp_path):
    store = RecoveryStore(tmp_path)
    store.marker_path.write_text('{"pid": "abc"}')
    Project(clip_path="clip.mp4", prompt="keep this").save(store.autosave_path)
    recovered = store.pending()
    assert recovered is not None and recovered.prompt == "keep this"


def test_recovery_still_offered_for_a_good_autosave(tmp_path):
    store = RecoveryStore(tmp_path)
    store.marker_path.write_text(json.dumps({"pid": 0}))
    Project(clip_path="clip.mp4", prompt="keep this").save(store.autosave_path)
    recovered = store.pending()
    assert recovered is not None and recovered.prompt == "keep this"


def test_app_starts_with_hostile_files(tmp_path):
    data, config = tmp_path / "data", tmp_path / "config"
    recovery = data / "recovery"
    recovery.mkdir(parents=True)
    config.mkdir()
    (recovery / "session-running.json").write_text('{"pid": "abc"}')
    (recovery / "autosave.robin").write_text(json.dumps(_with(version="two")))
    (config / "settings.json").write_text("[1, 2, 3]")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
           "ROBIN_STUDIO_EXIT_AFTER_SHOWN": "1", "ROBIN_STUDIO_DATA_DIR": str(data),
           "ROBIN_STUDIO_CONFIG_DIR": str(config), "ROBIN_STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-m", "robin_studio.cli", "gui"], capture_output=True,
                         text=True, timeout=300, cwd=tmp_path, env=env)
    assert "Traceback" not in run.stderr, run.stderr[-4000:]
    assert "ROBIN_STUDIO_SHOWN" in run.stdout, run.stderr[-4000:]
    assert run.returncode == 0, run.stderr[-4000:]
    kept = sorted(p.name.split(".damaged-")[0] for p in tmp_path.rglob("*.damaged-*"))
    assert kept == ["autosave.robin", "session-running.json", "settings.json"]
    assert run.stderr.count("could not be read") == 2


def test_app_start_removes_stale_partial_exports(qtbot, tmp_path, monkeypatch):
    from robin_studio.app.main_window import MainWindow

    exports, config = tmp_path / "exports", tmp_path / "config"
    exports.mkdir()
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"last_export_dir": str(exports)}))
    monkeypatch.setenv("ROBIN_STUDIO_CONFIG_DIR", str(config))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = exports / f".film.{dead}-0badc0de.partial.mp4"    # a killed export's
    mine = exports / "film.mp4"
    for p in (stale, mine):
        p.write_bytes(b"data")
    w = MainWindow(run_first_checks=False, recovery_dir=tmp_path / "recovery")
    w.confirm_close = False
    qtbot.addWidget(w)
    assert not stale.exists() and mine.read_bytes() == b"data"
