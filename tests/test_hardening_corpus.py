"""Issue 19, item 6: `corpus add` is all or nothing, never touches another source's files or
licence, reads SPDX ids and common spellings of non-commercial and share-alike, stays inside
the corpus folder, and refuses FIFOs without hanging."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hardening_util import ROOT, small_midi

from robin_studio.cli import main


@pytest.fixture()
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBIN_STUDIO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _songs(folder, n=2):
    folder.mkdir(parents=True)
    for i in range(n):
        small_midi(folder / f"song{i}.mid")
    return folder


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_a_bad_file_means_nothing_is_added(tmp_path, data, capsys):
    folder = _songs(tmp_path / "mine")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    assert main(["corpus", "add", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "broken.mid" in err and "nothing was added" in err and "Traceback" not in err
    assert _tree(data / "corpus_midi") == []


def test_a_second_source_of_the_same_name_changes_nothing(tmp_path, data, capsys):
    first = _songs(tmp_path / "a" / "songs")
    assert main(["corpus", "add", str(first), "--licence", "CC-BY-NC-4.0 Ann"]) == 0
    dest = data / "corpus_midi" / "songs"
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    second = _songs(tmp_path / "b" / "songs", n=3)
    assert main(["corpus", "add", str(second), "--licence", "public domain"]) == 2
    assert "already has a source named 'songs'" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before
    from robin_studio.train.corpus.build import user_sources
    assert {s.noncommercial for s in user_sources()} == {True}
    assert main(["corpus", "add", str(second), "--licence", "public domain", "--name", "songs-b"]) == 0


@pytest.mark.parametrize("licence,nc,sa", [
    ("CC-BY-NC-4.0", True, False), ("CC-BY-NC-SA-4.0", True, True), ("CC-BY-SA-3.0", False, True),
    ("cc by-nc 2.0 Jane", True, False), ("Creative Commons Attribution-NonCommercial-ShareAlike", True, True),
    ("non commercial use only", True, False), ("GPL-3.0-or-later", False, True),
    ("CC-BY-4.0 Jane Doe", False, False), ("CC0-1.0", False, False), ("public domain", False, False),
])
def test_licence_terms_are_recognised(tmp_path, data, licence, nc, sa):
    from robin_studio.train.corpus.licence_terms import licence_terms

    terms = licence_terms(licence)
    assert (terms.noncommercial, terms.sharealike) == (nc, sa)
    if nc:   # and the corpus build reads them so
        assert main(["corpus", "add", str(_songs(tmp_path / "x")), "--licence", licence]) == 0
        from robin_studio.train.corpus.build import user_sources
        assert all(s.noncommercial for s in user_sources())


def test_a_folder_named_dotdot_stays_inside_the_corpus(tmp_path, data):
    folder = _songs(tmp_path / "some" / "dir")
    assert main(["corpus", "add", str(tmp_path / "some" / "dir" / "..")]) == 0
    assert sorted(p.name for p in data.iterdir()) == ["corpus_midi"]
    assert (data / "corpus_midi" / "some" / "dir" / "song0.mid").is_file()
    assert main(["corpus", "add", str(folder), "--name", "../escape"]) == 2
    assert main(["corpus", "add", str(folder), "--name", ".."]) == 2
    assert sorted(p.name for p in data.iterdir()) == ["corpus_midi"]


def test_fifos_are_refused_without_hanging(tmp_path):
    folder = _songs(tmp_path / "mine")
    os.mkfifo(folder / "pipe.mid")
    lone = tmp_path / "lone.fifo"
    os.mkfifo(lone)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ROBIN_STUDIO_DATA_DIR": str(tmp_path / "data")}
    run = subprocess.run([sys.executable, "-m", "robin_studio.cli", "corpus", "add", str(lone)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 2 and "Not a folder" in run.stderr
    run = subprocess.run([sys.executable, "-m", "robin_studio.cli", "corpus", "add", str(folder)],
                         capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "pipe.mid is not a regular file" in run.stderr
    assert sorted(p.name for p in (tmp_path / "data" / "corpus_midi" / "mine").iterdir()) == [
        "LICENCE.txt", "song0.mid", "song1.mid"]
