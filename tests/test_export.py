"""Export: MP4 (stream copy with identical packets, H.264 re-encode for WebM/ProRes, AAC
music, original sound with gains and ducking, exact length, progress, cancel), WAV, stems,
MIDI, and every bad destination a creator can pick."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from robin_studio.errors import CancelledError, ExportError, MediaError
from robin_studio.media import export as ex
from robin_studio.media.export import (duck_gain, export_mp4, unique_path, write_midi, write_stems,
                                       write_wav)
from robin_studio.score.midi_io import read_midi
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track

SR = 48000


def make_clip(path: Path, codec="libx264", seconds=2.0, fps=25, size=(320, 180), audio=False,
              pix_fmt="yuv420p", options=None) -> Path:
    """A small clip; with audio: a 220 Hz tone, on for the first half of every second."""
    w, h = size
    n = int(round(seconds * fps))
    with av.open(str(path), "w") as out:
        vs = out.add_stream(codec, rate=Fraction(fps))
        vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
        vs.options = options or ({"preset": "ultrafast"} if codec == "libx264" else {})
        ast = None
        if audio:
            ast = out.add_stream("aac", rate=SR)
            ast.layout = "stereo"
        t = np.arange(int(seconds * SR)) / SR
        tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (t % 1 < 0.5)).astype(np.float32)
        apos = 0
        for i in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[:, (i * 7) % w] = 255
            img[:, :, 1] = (i * 5) % 255
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
            while ast is not None and apos < (i + 1) * SR / fps and apos < len(tone):
                chunk = np.ascontiguousarray(np.stack([tone[apos:apos + 1024]] * 2))
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate, af.pts = SR, apos
                for p in ast.encode(af):
                    out.mux(p)
                apos += 1024
        for p in vs.encode():
            out.mux(p)
        if ast is not None:
            for p in ast.encode():
                out.mux(p)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("clips")
    return {
        "h264": make_clip(d / "plain.mp4"),
        "h264_audio": make_clip(d / "with sound.mp4", audio=True),
        "vp9": make_clip(d / "clip.webm", codec="libvpx-vp9", options={"deadline": "realtime", "cpu-used": "8"}),
        "prores": make_clip(d / "clip.mov", codec="prores_ks", pix_fmt="yuv422p10le", seconds=1.0, fps=24),
        # B-frames (decode order != display order) in Matroska: still copied, not re-encoded
        "h264_bframes_mkv": make_clip(d / "bframes.mkv", options={"preset": "medium", "bf": "3"}),
    }


def _music(seconds=3.0, level=0.1, seed=0):
    return np.random.default_rng(seed).normal(0, level, (int(seconds * SR), 2)).astype(np.float32)


def _packets(path, kind="video"):
    with av.open(str(path)) as c:
        s = c.streams.video[0] if kind == "video" else c.streams.audio[0]
        return [bytes(p) for p in c.demux(s) if p.size]


def _streams(path):
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        vdur = sum(1 for _ in c.decode(v)) / float(v.average_rate)
    with av.open(str(path)) as c:
        audio = np.concatenate([f.to_ndarray().T for f in c.decode(audio=0)])
    return v.codec_context.name, a.codec_context.name, vdur, audio


def _rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


@pytest.mark.parametrize("kind", ["h264", "h264_bframes_mkv"])
def test_stream_copy_keeps_packets_identical(clips, tmp_path, kind):
    progress = []
    out = export_mp4(clips[kind], _music(), SR, tmp_path / "out.mp4", progress=progress.append)
    assert _packets(out) == _packets(clips[kind])
    vcodec, acodec, vdur, audio = _streams(out)
    assert (vcodec, acodec) == ("h264", "aac")
    assert abs(len(audio) / SR - vdur) < 1 / 25           # as long as the picture, within a frame
    assert _rms_db(audio) > -25                           # the music is there
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]   # no temp file left


@pytest.mark.parametrize("kind", ["vp9", "prores"])
def test_reencodes_what_mp4_cannot_hold(clips, tmp_path, kind):
    out = export_mp4(clips[kind], _music(0.5), SR, tmp_path / f"{kind}.mp4")   # short music: padded
    vcodec, acodec, vdur, audio = _streams(out)
    with av.open(str(clips[kind])) as c:
        n_in = sum(1 for _ in c.decode(video=0))
        src_dur = n_in / float(c.streams.video[0].average_rate)
    with av.open(str(out)) as c:
        n_out = sum(1 for _ in c.decode(video=0))
    assert vcodec == "h264" and acodec == "aac"
    assert n_out == n_in and abs(vdur - src_dur) < 1e-6
    assert abs(len(audio) / SR - src_dur) < 1 / 24


def test_original_sound_gains_and_ducking(clips, tmp_path):
    silent = np.zeros((3 * SR, 2), np.float32)
    no_orig = export_mp4(clips["h264_audio"], silent, SR, tmp_path / "a.mp4")
    with_orig = export_mp4(clips["h264_audio"], silent, SR, tmp_path / "b.mp4", original_gain_db=0.0)
    quieter = export_mp4(clips["h264_audio"], silent, SR, tmp_path / "c.mp4", original_gain_db=-12.0)
    a, b, c = (_streams(p)[3] for p in (no_orig, with_orig, quieter))
    assert _rms_db(a) < -80                      # None drops the clip's own sound
    assert _rms_db(b) > -20
    assert _rms_db(b) - _rms_db(c) == pytest.approx(12.0, abs=0.5)

    noise = _music(level=0.05)
    plain = _streams(export_mp4(clips["h264_audio"], noise, SR, tmp_path / "d.mp4", original_gain_db=-60.0))[3]
    ducked_orig = export_mp4(clips["h264_audio"], noise, SR, tmp_path / "e.mp4", original_gain_db=0.0, duck=True)
    ducked = _streams(export_mp4(clips["h264_audio"], noise, SR, tmp_path / "f.mp4", original_gain_db=-60.0,
                                 duck=True))[3]
    # With the original nearly muted there is nothing loud to duck under.
    assert abs(_rms_db(plain) - _rms_db(ducked)) < 0.5
    tone_on = slice(int(1.15 * SR), int(1.45 * SR))
    tone_off = slice(int(1.85 * SR), int(1.98 * SR))
    mix = _streams(ducked_orig)[3]
    orig_only = _streams(with_orig)[3]
    music_part = mix - orig_only                     # what the music contributes
    assert _rms_db(music_part[tone_on]) < _rms_db(plain[tone_on]) - 6.0   # dips under the tone
    assert _rms_db(music_part[tone_off]) > _rms_db(music_part[tone_on]) + 3.0


def test_duck_gain_shape():
    t = np.arange(2 * SR) / SR
    loud = np.where((t > 0.5) & (t < 1.0), 0.5, 0.0)[:, None] * np.ones((1, 2))
    g = 20 * np.log10(duck_gain(loud.astype(np.float32)))
    assert g[int(0.4 * SR)] > -0.1 and g[int(0.95 * SR)] < -9.0 and g[int(1.9 * SR)] > -3.0


def test_cancel_leaves_nothing(clips, tmp_path):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(CancelledError):
        export_mp4(clips["vp9"], _music(), SR, tmp_path / "x.mp4", cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_never_silently_replaced(clips, tmp_path):
    target = tmp_path / "scored.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(ExportError) as err:
        export_mp4(clips["h264"], _music(), SR, target)
    assert "already exists" in str(err.value) and "scored (2).mp4" in str(err.value)
    assert target.read_bytes() == b"precious"
    assert unique_path(target).name == "scored (2).mp4"
    (tmp_path / "scored (2).mp4").write_bytes(b"x")
    assert unique_path(target).name == "scored (3).mp4"
    assert unique_path(tmp_path / "scored (2).mp4").name == "scored (3).mp4"
    export_mp4(clips["h264"], _music(), SR, target, overwrite=True)
    assert _packets(target) == _packets(clips["h264"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored (2).mp4", "scored.mp4"]


def test_unicode_and_spaces(clips, tmp_path):
    folder = tmp_path / "mes exports ü 日本"
    folder.mkdir()
    src = folder / "Été à la plage.mp4"
    shutil.copy(clips["h264"], src)
    out = export_mp4(src, _music(), SR, folder / "Été — final cut 🎬 v2.mp4")
    assert out.name == "Été — final cut 🎬 v2.mp4" and _packets(out) == _packets(src)
    wav = write_wav(_music(0.5), SR, folder / "müsic master.wav")
    assert sf.info(str(wav)).samplerate == SR


def test_missing_folder_and_folder_as_target(clips, tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        export_mp4(clips["h264"], _music(), SR, tmp_path / "nope" / "x.mp4")
    with pytest.raises(ExportError, match="is a folder"):
        export_mp4(clips["h264"], _music(), SR, tmp_path)


def test_bad_video_raises_media_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(2000))
    with pytest.raises(MediaError):
        export_mp4(bad, _music(), SR, tmp_path / "x.mp4")


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return r.returncode == 0


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True)


def test_unwritable_folder(clips, tmp_path):
    ro = tmp_path / "read-only"
    if _mount_tmpfs(ro, "ro,size=1m"):
        try:
            with pytest.raises(ExportError, match="may not write") as err:
                export_mp4(clips["h264"], _music(), SR, ro / "x.mp4")
            assert "Choose a folder" in str(err.value)
            with pytest.raises(ExportError, match="may not write"):
                write_wav(_music(0.2), SR, ro / "x.wav")
        finally:
            _umount(ro)
    elif os.geteuid() != 0:
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(ExportError, match="may not write"):
                export_mp4(clips["h264"], _music(), SR, ro / "x.mp4")
        finally:
            ro.chmod(0o700)
    else:
        pytest.skip("root without mount: cannot make a folder root may not write to")


def test_full_disk_real_tmpfs(clips, tmp_path):
    tiny = tmp_path / "tiny disk"
    if not _mount_tmpfs(tiny, "size=48k"):
        pytest.skip("needs root and mount to make a tiny disk")
    try:
        with pytest.raises(ExportError, match="disk is full") as err:
            export_mp4(clips["h264_audio"], _music(), SR, tiny / "x.mp4")
        assert "Free some space" in str(err.value)
        assert list(tiny.iterdir()) == []
        with pytest.raises(ExportError, match="disk is full"):
            write_wav(_music(3.0), SR, tiny / "x.wav")
        assert list(tiny.iterdir()) == []
    finally:
        _umount(tiny)


def test_full_disk_midway(clips, tmp_path, monkeypatch):
    """Wherever the disk fills up (here: while the soundtrack is encoded), the message says
    so and the partial file is removed."""
    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(ex, "_encode_aac", full)
    with pytest.raises(ExportError, match="disk is full"):
        export_mp4(clips["h264"], _music(), SR, tmp_path / "x.mp4")
    assert list(tmp_path.iterdir()) == []


def test_wav_stems_and_midi(tmp_path):
    audio = _music(1.0, level=0.2)
    wav = write_wav(audio, SR, tmp_path / "master.wav")
    back, sr = sf.read(str(wav), dtype="float32")
    assert sr == SR and back.shape == audio.shape and np.abs(back - audio).max() < 1e-5
    with pytest.raises(ExportError, match="already exists"):
        write_wav(audio, SR, wav)
    stems = {Role.DRUMS: audio, Role.BASS: audio * 0.5}
    paths = write_stems(stems, SR, tmp_path / "stems")
    assert sorted(p.name for p in paths) == ["bass.wav", "drums.wav"]
    with pytest.raises(ExportError, match="already exists"):
        write_stems(stems, SR, tmp_path / "stems")
    score = Score(TempoMap.constant(100, 8), [Track(Role.BASS, 33, [Note(0, 1, 40), Note(1, 1, 43)])])
    mid = write_midi(score, tmp_path / "piece ü.mid")
    assert read_midi(mid).tracks == score.tracks
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.wav", "piece ü.mid", "stems"]


def test_rotation_survives_copy_and_reencode(tmp_path):
    """A phone clip stored sideways keeps its display rotation either way."""
    from robin_studio.media.probe import probe

    for codec, opts, name in (("libx264", {"preset": "ultrafast"}, "phone.mp4"),
                              ("libvpx-vp9", {"deadline": "realtime", "cpu-used": "8"}, "phone.webm")):
        src = tmp_path / name
        with av.open(str(src), "w") as out:
            vs = out.add_stream(codec, rate=25)
            vs.width, vs.height, vs.pix_fmt = 64, 48, "yuv420p"
            vs.options = opts
            vs.set_display_rotation(-90)
            for i in range(10):
                img = np.full((48, 64, 3), i * 20, np.uint8)
                for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(p)
            for p in vs.encode():
                out.mux(p)
        assert probe(src).rotation_deg == 90
        out_path = export_mp4(src, _music(0.5), SR, tmp_path / f"{name}.mp4")
        assert probe(out_path).rotation_deg == 90


# -- the delivery master, streamed -------------------------------------------------------
def _song(seconds, seed=1):
    """Music-like test audio: a bass line and a bright lead with loud accents and a quiet
    passage (so gating, the K-weighting's shelf and the true-peak clamp all matter)."""
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    bass = 0.4 * np.sin(2 * np.pi * 55 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t))
    lead = 0.2 * np.sign(np.sin(2 * np.pi * 1760 * t)) * (t % 0.5 < 0.1)
    x = np.stack([bass + lead, 0.7 * bass + lead], axis=1) + rng.normal(0, 0.02, (len(t), 2))
    x[int(0.3 * len(t)): int(0.4 * len(t))] *= 0.02
    return x.astype(np.float32)


def test_block_loudness_meter_matches_pyloudnorm():
    from robin_studio.media.loudness import integrated_loudness
    from robin_studio.render.master import loudness_lufs

    for audio in (_song(23.0), _song(0.9) * 3, _song(5.0) * 1e-3, _music(4.0)):
        assert integrated_loudness(audio, SR, block_s=1.7) == pytest.approx(loudness_lufs(audio, SR), abs=0.01)
    assert integrated_loudness(np.zeros((SR, 2), np.float32), SR) == -np.inf


def test_block_true_peak_clamp_equals_the_whole_array_one():
    from robin_studio.media.loudness import TruePeakClamp
    from robin_studio.render.master import true_peak_clamp

    loud = _song(6.0) * 4
    whole = true_peak_clamp(loud, -1.15, SR)
    clamp = TruePeakClamp(-1.15, SR)
    streamed = np.concatenate([clamp.process(loud[i:i + 7000]) for i in range(0, len(loud), 7000)]
                              + [clamp.finish()])
    assert streamed.shape == whole.shape
    # (the first 2 ms differ: the whole-array version repeats the first sample's need backwards)
    assert np.abs(streamed[96:] - whole[96:]).max() < 1e-5
    assert np.abs(streamed - loud).max() > 0.1      # it really limited


def test_delivered_mp4_and_wav_are_at_the_loudness_without_copying_the_piece(clips, tmp_path):
    """The MP4's and WAV's sound is at -14 LUFS with its true peak under -1 dBTP, equal to
    the engine's whole-array delivery master, and making them holds a few blocks, not copies
    of the piece (the old export held five or more)."""
    import tracemalloc

    from robin_studio.render.master import loudness_lufs, true_peak_db

    piece = _song(40.0) * 0.3                          # far too quiet: turned up, then clamped
    tracemalloc.start()
    try:
        out = export_mp4(clips["h264"], piece, SR, tmp_path / "d.mp4", delivery=ex.Delivery())
        wav = ex.write_delivered_wav(piece, SR, tmp_path / "d.wav", delivery=ex.Delivery())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * piece.nbytes, f"{peak / 1e6:.0f} MB traced for a {piece.nbytes / 1e6:.0f} MB piece"
    audio = _streams(out)[3]
    assert len(audio) == pytest.approx(2.0 * SR, abs=1024)          # as long as the picture
    back, sr = sf.read(str(wav), dtype="float32")
    assert sr == SR and back.shape == piece.shape
    assert loudness_lufs(back, SR) == pytest.approx(-14.0, abs=0.3)
    assert true_peak_db(back) <= -1.0
    from robin_studio.render.master import deliver
    whole = deliver(piece, SR)
    # equal to the whole-array master up to the 24-bit WAV's rounding, but for the first and
    # last 2 ms (where the whole-array clamp repeats the end values instead of silence)
    assert np.abs(back[96:-96] - whole[96:-96]).max() < 2e-4
    # the MP4 holds the first 2 s of the same master (AAC-coded)
    assert _rms_db(audio[2048:SR]) == pytest.approx(_rms_db(back[2048:SR]), abs=0.5)
