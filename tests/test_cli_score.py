"""`robin-studio score` end to end on the bundled sample clip, in a subprocess: the MP4
decodes and is as long as the video, the extras are written, bad input reads well, and
the scoring path never imports torch (checked with `python -X importtime`)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import av
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "sample" / "bigbuckbunny.mp4"


def run_cli(*args: str, importtime: bool = False, env=None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "robin_studio", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)


def media_duration_s(path: Path) -> tuple[float, float]:
    """(video duration, audio duration) in seconds, decoded."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0]
        v_end = max(float(f.pts * f.time_base) + float(1 / v.average_rate) for f in c.decode(v))
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        a_end = max(float(f.pts * f.time_base) + f.samples / f.sample_rate for f in c.decode(a))
    return v_end, a_end


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    out = tmp_path_factory.mktemp("score") / "scored clip.mp4"
    proc = run_cli("score", str(SAMPLE), "--prompt", "warm piano, no drums, 92 bpm", "--seed", "2",
                   "-o", str(out), "--wav", "--midi", "--stems", "--quiet", importtime=True)
    return proc, out


def test_score_writes_a_playable_mp4_as_long_as_the_video(scored):
    proc, out = scored
    assert proc.returncode == 0, proc.stderr[-2000:]
    src_v, _ = media_duration_s(SAMPLE)
    v, a = media_duration_s(out)
    assert v == pytest.approx(src_v, abs=1 / 24)
    assert a == pytest.approx(src_v, abs=0.05)
    assert "wrote" in proc.stdout


def test_the_prompt_is_read_back_before_the_music(scored):
    proc, _ = scored
    lines = proc.stdout.splitlines()
    understood = next(i for i, line in enumerate(lines) if line.startswith("understood:"))
    assert all(part in lines[understood] for part in ("92 bpm", "piano", "no drums"))
    summary = next(i for i, line in enumerate(lines) if " shots, " in line)
    assert understood < summary          # printed first (before the analysis starts)


def test_score_writes_wav_midi_and_stems(scored):
    proc, out = scored
    assert proc.returncode == 0, proc.stderr[-2000:]
    import soundfile as sf

    wav = out.with_suffix(".wav")
    info = sf.info(str(wav))
    assert info.samplerate == 48000 and info.channels == 2
    assert info.duration == pytest.approx(media_duration_s(SAMPLE)[0], abs=0.05)
    from robin_studio.render.master import loudness_lufs, true_peak_db

    audio, sr = sf.read(str(wav), dtype="float32")
    assert loudness_lufs(audio, sr) == pytest.approx(-14.0, abs=0.5)     # delivery loudness
    assert true_peak_db(audio) <= -1.0 + 0.05
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(str(out.with_suffix(".mid")))
    assert not any(inst.is_drum for inst in midi.instruments)          # "no drums"
    stems = sorted(p.name for p in out.with_name(out.stem + "_stems").glob("*.wav"))
    assert stems and not any("drum" in s for s in stems)


def test_scoring_never_imports_torch(scored):
    proc, _ = scored
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "robin_studio.generate.engine" in imported          # the hook saw the engine...
    assert not any(m == "torch" or m.startswith("torch.") for m in imported)   # ...and no torch
    assert not any(m.startswith("PySide6") for m in imported)


def test_bad_input_reads_well(tmp_path):
    proc = run_cli("score", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "o.mp4"), "-q")
    assert proc.returncode == 2 and "missing.mp4" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("score", str(SAMPLE), "-o", str(tmp_path / "o.avi"), "-q")
    assert proc.returncode == 2 and ".mp4" in proc.stderr and "Traceback" not in proc.stderr
    junk = tmp_path / "not a video.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    proc = run_cli("score", str(junk), "-o", str(tmp_path / "o.mp4"), "-q")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.strip()


def test_existing_output_is_not_replaced_without_overwrite(scored, tmp_path):
    _, out = scored
    before = out.read_bytes()
    proc = run_cli("score", str(SAMPLE), "-o", str(out), "-q")
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert out.read_bytes() == before


def test_an_asked_tempo_that_misses_cuts_says_so(tmp_path):
    from fixtures.build import spliced_cached

    clip = spliced_cached().path
    proc = run_cli("score", str(clip), "--prompt", "calm guitar, 80 bpm", "--baseline",
                   "-o", str(tmp_path / "o.mp4"), "-q")
    assert proc.returncode == 0, proc.stderr
    note = next(line for line in proc.stdout.splitlines() if line.startswith("note: At 80 bpm"))
    assert re.search(r"\d+ of the \d+ cuts (is|are) on a beat", note)
    assert "accent exactly where they fall" in note
