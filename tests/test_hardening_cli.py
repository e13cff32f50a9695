"""Issue 19, items 3, 4 and 7 on the command line: the input is never written over (same
name, hard link, symlink), no device or FIFO is replaced, numbers outside musical sense and
MIDI files that ask for too much are refused at once with the project's own message (exit
2), every destination is checked before any analysis, and a SIGTERM during export leaves no
`.partial` file."""

from __future__ import annotations

import hashlib
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hardening_util import (ROOT, assert_clean_failure, cli, faststart_clip, raw_midi,
                            small_midi, vlq)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return faststart_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=60)


def _no_analysis_done(cache: Path) -> bool:
    return not cache.exists() or not any(p.is_file() for p in cache.rglob("*"))


# -- item 3: never over an input, a device or a FIFO ----------------------------------------
@pytest.mark.parametrize("how", ["same", "hardlink", "symlink"])
def test_score_never_writes_over_its_input(clip, tmp_path, how):
    video = tmp_path / "clip.mp4"
    video.write_bytes(clip.read_bytes())
    before = _digest(video)
    out = {"same": video, "hardlink": tmp_path / "link.mp4", "symlink": tmp_path / "sym.mp4"}[how]
    if how == "hardlink":
        os.link(video, out)
    elif how == "symlink":
        out.symlink_to(video)
    cache = tmp_path / "cache"
    proc = cli("score", video, "-o", out, "--overwrite", "--baseline", "-q",
               env={"ROBIN_STUDIO_CACHE_DIR": str(cache)})
    assert_clean_failure(proc, 2, "input")
    assert _digest(video) == before
    assert _no_analysis_done(cache)


def test_render_never_writes_over_its_midi(tmp_path):
    midi = small_midi(tmp_path / "x.mid")
    before = _digest(midi)
    proc = cli("render", midi, "-o", midi, "--overwrite")
    assert_clean_failure(proc, 2, "input")
    assert _digest(midi) == before


def test_render_never_replaces_a_fifo_or_device(tmp_path):
    midi = small_midi(tmp_path / "x.mid")
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    proc = cli("render", midi, "-o", fifo, "--overwrite", timeout=60)
    assert_clean_failure(proc, 2, "pipe")
    assert fifo.is_fifo()
    # A name that leads to a device (through a symlink, so a regression could only ever
    # replace the link, never /dev/null itself).
    null = tmp_path / "null.wav"
    null.symlink_to("/dev/null")
    proc = cli("render", midi, "-o", null, "--overwrite", timeout=60)
    assert_clean_failure(proc, 2, "device")
    assert null.is_symlink()


# -- item 4: bounded work ---------------------------------------------------------------------
@pytest.mark.parametrize("option", [
    ("--tempo", "0"), ("--tempo", "1e9"), ("--tempo", "nan"), ("--tempo", "inf"), ("--tempo", "-5"),
    ("--music-gain-db", "1e9"), ("--music-gain-db", "nan"), ("--keep-original-audio=-inf",),
])
def test_score_refuses_numbers_outside_musical_sense(clip, tmp_path, option):
    cache = tmp_path / "cache"
    proc = cli("score", clip, "-o", tmp_path / "o.mp4", "--baseline", "-q", *option,
               env={"ROBIN_STUDIO_CACHE_DIR": str(cache)}, timeout=60)
    assert_clean_failure(proc, 2, option[0].split("=")[0], "range")
    assert _no_analysis_done(cache) and not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("args", [("--tempo", "1e9"), ("--tempo", "0"), ("--bpm-range", "0", "1e9"),
                                  ("--bpm-range", "140", "70")])
def test_analyze_refuses_absurd_tempi(clip, tmp_path, args):
    proc = cli("analyze", clip, "-q", *args, env={"ROBIN_STUDIO_CACHE_DIR": str(tmp_path)}, timeout=60)
    assert_clean_failure(proc, 2, args[0])


@pytest.mark.parametrize("lufs", ["1e9", "nan", "0"])
def test_render_refuses_absurd_loudness(tmp_path, lufs):
    midi = small_midi(tmp_path / "x.mid")
    proc = cli("render", midi, "-o", tmp_path / "x.wav", "--lufs", lufs, timeout=60)
    assert_clean_failure(proc, 2, "--lufs")
    assert not (tmp_path / "x.wav").exists()


def test_render_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "in.mid"
    os.mkfifo(fifo)
    proc = cli("render", fifo, "-o", tmp_path / "x.wav", timeout=60)
    assert_clean_failure(proc, 2, "pipe")


def _note_for(ticks: int) -> bytes:
    return b"\x00\x90\x3c\x50" + vlq(ticks) + b"\x80\x3c\x00"


@pytest.mark.parametrize("case", ["endless_note", "slow_tempo", "too_big"])
def test_midi_that_asks_too_much_is_refused(tmp_path, case):
    if case == "endless_note":      # 37 bytes: one note 2^28 ticks long at one tick per beat
        midi = raw_midi(tmp_path / "m.mid", _note_for(0x0FFFFFFF), tpb=1)
        assert midi.stat().st_size <= 40
    elif case == "slow_tempo":      # the slowest tempo a file can state, a long note
        midi = raw_midi(tmp_path / "m.mid", b"\x00\xff\x51\x03\xff\xff\xff" + _note_for(480 * 5000))
    else:                           # 5 MB of notes
        midi = raw_midi(tmp_path / "m.mid", b"\x00\x90\x3c\x50\x01\x80\x3c\x00" * 660_000)
    proc = cli("render", midi, "-o", tmp_path / "x.wav", timeout=120)
    assert_clean_failure(proc, 2, "at most")
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("case", ["tempo_storm", "note_flood"])
def test_midi_event_counts_are_bounded(tmp_path, monkeypatch, case):
    from robin_studio.errors import MediaError
    from robin_studio.score import midi_io

    # The real limits (10,000 tempo changes, 100,000 notes) over a file ten times smaller.
    monkeypatch.setattr(midi_io, "MAX_TEMPO_EVENTS", 1000)
    monkeypatch.setattr(midi_io, "MAX_MIDI_NOTES", 10_000)
    if case == "tempo_storm":
        storm = b"".join(b"\x01\xff\x51\x03" + (400_000 + i).to_bytes(3, "big") for i in range(2000))
        midi = raw_midi(tmp_path / "m.mid", storm + _note_for(480))
    else:
        midi = raw_midi(tmp_path / "m.mid", b"\x00\x90\x3c\x50\x01\x80\x3c\x00" * 12_000)
    with pytest.raises(MediaError, match="at most"):
        midi_io.read_midi(midi)


def test_our_own_midi_header_is_checked_not_trusted(tmp_path):
    import json

    import mido

    from robin_studio.score.midi_io import read_midi

    midi = small_midi(tmp_path / "x.mid")
    mid = mido.MidiFile(str(midi))
    header = {"tempo_map": {"segments": [[0, 1e12, 1e-9, 1e-9]], "beats_per_bar": 4},
              "key_tonic": 99, "key_mode": "kazoo"}
    mid.tracks[0].insert(0, mido.MetaMessage("text", text="robin-studio:score " + json.dumps(header)))
    mid.tracks[1].insert(0, mido.MetaMessage("text", text='robin-studio:track {"role": "kazoo", "program": 1e9}'))
    mid.save(str(tmp_path / "hostile.mid"))
    score = read_midi(tmp_path / "hostile.mid")    # read as an ordinary MIDI file instead
    assert any("header ignored" in w for w in score.meta["warnings"])
    assert 100 < score.tempo_map.mean_bpm() < 140
    assert score.tempo_map.seconds_at(score.tempo_map.total_beats) < 10
    proc = cli("render", tmp_path / "hostile.mid", "-o", tmp_path / "h.wav", timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]


@pytest.mark.slow
def test_a_100000_character_prompt_is_cut_with_a_note(clip, tmp_path):
    from robin_studio.intent.parse import parse_prompt
    from robin_studio.limits import MAX_PROMPT_CHARS

    prompt = ("warm piano and strings, 92 bpm, no drums. " * 2400)[:100_000]
    read = []
    import robin_studio.intent.text_encoder as text_encoder
    real = text_encoder.embed_text
    text_encoder.embed_text = lambda text: (read.append(text), real(text))[1]   # a spy, not a mock
    try:
        intent = parse_prompt(prompt)
    finally:
        text_encoder.embed_text = real
    assert intent.tempo_bpm == 92 and len(read) == 1 and len(read[0]) <= MAX_PROMPT_CHARS
    proc = cli("score", clip, "-o", tmp_path / "o.mp4", "--baseline", "-q", "--prompt", prompt,
               env={"ROBIN_STUDIO_CACHE_DIR": str(tmp_path / "cache")}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "100,000 characters" in proc.stderr and (tmp_path / "o.mp4").is_file()


# -- item 7: every destination checked first; no partial file after SIGTERM -------------------
def test_existing_stems_are_checked_before_anything_is_written(clip, tmp_path):
    stems = tmp_path / "o_stems"
    stems.mkdir()
    (stems / "drums.wav").write_bytes(b"mine")
    cache = tmp_path / "cache"
    proc = cli("score", clip, "-o", tmp_path / "o.mp4", "--wav", "--stems", "--baseline", "-q",
               env={"ROBIN_STUDIO_CACHE_DIR": str(cache)})
    assert_clean_failure(proc, 2, "drums.wav", "--overwrite")
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.wav").exists()
    assert (stems / "drums.wav").read_bytes() == b"mine"
    assert _no_analysis_done(cache)


def test_a_300_character_name_is_refused_before_analysis(clip, tmp_path):
    cache = tmp_path / "cache"
    proc = cli("score", clip, "-o", tmp_path / ("n" * 300 + ".mp4"), "--baseline", "-q",
               env={"ROBIN_STUDIO_CACHE_DIR": str(cache)})
    assert_clean_failure(proc, 2, "too long")
    assert _no_analysis_done(cache)


def test_an_unwritable_folder_is_refused_before_analysis(clip, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)],
                                 capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("root without mount: cannot make a folder root may not write to")
    else:
        ro.chmod(0o500)
    try:
        cache = tmp_path / "cache"
        proc = cli("score", clip, "-o", ro / "o.mp4", "--baseline", "-q",
                   env={"ROBIN_STUDIO_CACHE_DIR": str(cache)})
        assert_clean_failure(proc, 2, "may not write")
        assert _no_analysis_done(cache)
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], capture_output=True)
        else:
            ro.chmod(0o700)


@pytest.mark.slow
def test_sigterm_during_export_leaves_no_partial_file(tmp_path):
    clip = faststart_clip(tmp_path / "in.mp4", frames=300, size=(1280, 720))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "robin_studio.cli", "score", str(clip), "-o",
                             str(out_dir / "o.mp4"), "--baseline", "-q", "--wav", "--stems"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT),
                                 "ROBIN_STUDIO_CACHE_DIR": str(tmp_path / "cache")})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if any(".partial" in p.name for p in out_dir.iterdir()):
            break
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.skip("the export finished before a partial file was seen")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "terminate called" not in err, err[-2000:]
    if proc.returncode == 0:
        pytest.skip("the export finished before the signal arrived")
    assert proc.returncode == 143, (proc.returncode, err[-2000:])
    assert [p.name for p in out_dir.rglob("*") if ".partial" in p.name] == []


def test_stale_partial_files_of_ours_are_removed_at_the_next_export(tmp_path):
    from robin_studio.outputs import LEGACY_PARTIAL_AGE_S

    midi = small_midi(tmp_path / "x.mid")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f".x.{dead}-0badc0de.partial.wav"
    legacy = tmp_path / ".old.deadbeef.partial.mp4"
    live = tmp_path / f".y.{os.getpid()}-12345678.partial.wav"    # a running export's
    foreign = tmp_path / ".notes.partial.txt"                          # not our naming
    for p in (stale, legacy, live, foreign):
        p.write_bytes(b"half")
    old = time.time() - LEGACY_PARTIAL_AGE_S - 60
    os.utime(legacy, (old, old))
    proc = cli("render", midi, "-o", tmp_path / "x.wav", timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not stale.exists() and not legacy.exists()
    assert live.exists() and foreign.exists()


def test_midi_found_by_the_fuzzer_reads_as_our_error(tmp_path):
    from robin_studio.errors import MediaError
    from robin_studio.score.midi_io import read_midi

    # A key signature with 112 flats and mode 60 (mido raised KeySignatureError).
    midi = raw_midi(tmp_path / "key.mid", b"\x00\xff\x59\x02\x90\x3c" + _note_for(480))
    with pytest.raises(MediaError):
        read_midi(midi)


@pytest.mark.slow
def test_fuzz_harness_short_mode(tmp_path):
    # What CI runs: 12 inputs per target, each in its own process with a time limit.
    run = subprocess.run([sys.executable, "-m", "robin_studio.fuzz", "--short", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT),
                              "ROBIN_STUDIO_CACHE_DIR": str(tmp_path / "cache")})
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    for target in ("media", "midi", "project", "prompt"):
        assert re.search(rf"^\| {target} \| 12 \| \d+ \| \d+ \| 0 \| 0 \| 0 \| 0 \|$", run.stdout, re.M), run.stdout


@pytest.mark.parametrize("gains", [{"music_gain_db": math.nan}, {"music_gain_db": 1e9},
                                   {"original_gain_db": -math.inf}])
def test_export_refuses_absurd_gains_from_any_caller(tmp_path, gains):
    # The app's export dialog goes through the same front door as the CLI.
    from robin_studio.errors import InputError
    from robin_studio.generate.exporting import export_piece

    with pytest.raises(InputError, match="level"):
        export_piece(None, tmp_path / "o.wav", kind="wav", **gains)
    assert list(tmp_path.iterdir()) == []


def test_a_midi_chunk_claiming_gigabytes_is_our_error(tmp_path):
    # Found by the fuzzer: a header chunk whose length field says 3.7 GB (mido asked for it all).
    good = small_midi(tmp_path / "x.mid").read_bytes()
    bad = tmp_path / "huge_chunk.mid"
    bad.write_bytes(good[:4] + b"\xe1\x00\x00\x00" + good[8:])
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))\n"
            "from robin_studio.errors import MediaError\n"
            "from robin_studio.score.midi_io import read_midi\n"
            "try:\n    read_midi(sys.argv[1])\nexcept MediaError:\n    sys.exit(3)\n")
    run = subprocess.run([sys.executable, "-c", code, str(bad)], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 3, run.stderr[-2000:]
