"""Export: the scored MP4, the WAV master, one WAV per track (stems), and MIDI.

MP4: the clip's picture stream is copied packet for packet when MP4 can hold it (H.264,
HEVC, MPEG-4 Part 2, AV1), so nothing is re-encoded and the export takes seconds; other
codecs (VP8/VP9 from WebM, ProRes, ...) are re-encoded to H.264. The music is encoded as
AAC, optionally mixed with the clip's own sound at its own gain, with the music ducking
under loud passages of it. The sound is exactly as long as the picture.

Every file is written to a hidden temporary file in the destination folder and renamed
into place only when complete, so a cancelled or failed export leaves nothing behind; an
existing file is never replaced unless `overwrite=True` (`unique_path` suggests
"name (2).mp4"). Problems a user can fix raise ExportError with what to do.

This module sits at the bottom layer (beside `score`): it takes audio as numpy arrays and
imports nothing from `render`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import math
import os
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator, Mapping

import av
import numpy as np

from robin_studio import outputs
from robin_studio.errors import CancelledError, ExportError, MediaError, RobinError
from robin_studio.media.spool import release

EXPORT_SAMPLE_RATE = 48000
AAC_BITRATE = 256_000
COPYABLE_CODECS = {"h264", "hevc", "mpeg4", "av1"}   # what MP4 holds and players play
H264_OPTIONS = {"preset": "veryfast", "crf": "18"}
DUCK_DEPTH_DB = 10.0          # how far the music dips under loud original sound
DUCK_THRESHOLD_DB = -38.0     # original sound (RMS dBFS) where ducking starts ...
DUCK_FULL_DB = -22.0          # ... and where it is complete
PEAK_CEILING = 10 ** (-1.0 / 20)   # the mix of music and original sound stays under -1 dBFS

Progress = Callable[[float], None]
Cancel = Callable[[], bool]


# ---------------------------------------------------------------------------------------
# paths, temp files and errors
# ---------------------------------------------------------------------------------------
def unique_path(path: str | os.PathLike) -> Path:
    """`path` if free, else the first free "name (2).ext", "name (3).ext", ..."""
    p = Path(path)
    if not p.exists():
        return p
    stem, suffix = p.stem, p.suffix
    # "clip (2)" -> continue from 2 rather than making "clip (2) (2)"
    if stem.endswith(")") and " (" in stem:
        base, _, num = stem.rpartition(" (")
        if num[:-1].isdigit():
            stem = base
    k = 2
    while True:
        cand = p.with_name(f"{stem} ({k}){suffix}")
        if not cand.exists():
            return cand
        k += 1


def _os_error(err: OSError, target: Path) -> ExportError:
    folder = target.parent
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        return ExportError(f"The disk is full: there is no room in {folder} for {target.name}.",
                           "Free some space on that disk, or export to another drive or folder.")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return ExportError(f"Robin Studio may not write into {folder}.",
                           "Choose a folder you can write to (for example your Videos or Desktop folder), "
                           "or change the folder's permissions.")
    if code in (errno.ENOENT, errno.ENOTDIR):
        return ExportError(f"The folder {folder} does not exist.",
                           "Choose an existing folder, or create it first.")
    if code == errno.ENAMETOOLONG:
        return ExportError(f"The file name {target.name!r} is too long for this disk.",
                           "Choose a shorter name.")
    return ExportError(f"Could not write {target} ({getattr(err, 'strerror', None) or err}).",
                       "Check that the disk is connected and has room, then try again.")


def _check_destination(out_path: str | os.PathLike, overwrite: bool,
                       inputs: tuple = ()) -> Path:
    target = Path(out_path).expanduser()
    outputs.check_name(target)   # before exists(), which raises on a 300-character name
    if not target.name or target.name in (".", ".."):
        raise ExportError(f"{out_path!s} is not a file name.", "Give the export a file name.")
    target = target.absolute()
    if target.is_dir():
        raise ExportError(f"{target} is a folder.", "Give the export a file name inside it.")
    folder = target.parent
    if not folder.is_dir():
        raise ExportError(f"The folder {folder} does not exist.", "Choose an existing folder, or create it first.")
    if target.exists() and not overwrite:
        raise ExportError(f"{target.name} already exists in {folder}.",
                          f"Choose another name (for example '{unique_path(target).name}'), "
                          "or allow replacing the existing file.")
    # Never over an input (also through a hard link or symlink), a device, a FIFO; folder writable.
    return outputs.check_output(target, inputs=inputs, overwrite=True)


@contextlib.contextmanager
def _atomic_target(target: Path, overwrite: bool) -> Iterator[Path]:
    """Yield a hidden temporary path beside `target`; rename it into place on success,
    delete it on any failure or cancel. OS errors become ExportError."""
    outputs.remove_stale_partials(target.parent)   # left by an export that was killed
    tmp = outputs.partial_name(target, uuid.uuid4().hex[:8])
    try:
        try:
            # Fail early and clearly if the folder cannot take a file at all.
            with open(tmp, "wb"):
                pass
        except OSError as err:
            raise _os_error(err, target) from None
        yield tmp
        if target.exists() and not overwrite:  # appeared while we were writing
            raise ExportError(f"{target.name} appeared in {target.parent} during the export.",
                              f"Choose another name (for example '{unique_path(target).name}').")
        try:
            os.replace(tmp, target)
        except OSError as err:
            raise _os_error(err, target) from None
    except RobinError:
        _remove(tmp)
        raise
    except OSError as err:
        _remove(tmp)
        raise _os_error(err, target) from None
    except av.error.FFmpegError as err:
        _remove(tmp)
        code = getattr(err, "errno", None)
        if code:
            raise _os_error(OSError(code, os.strerror(code)), target) from None
        raise ExportError(f"Could not write {target.name} ({err}).",
                          "Try again; if it keeps failing, export to another folder.") from None
    except BaseException:
        _remove(tmp)
        raise


def _remove(p: Path) -> None:
    with contextlib.suppress(OSError):
        p.unlink()


def _check_cancel(cancel: Cancel | None) -> None:
    if cancel is not None and cancel():
        raise CancelledError("Export cancelled.", "Nothing was written.")


# ---------------------------------------------------------------------------------------
# WAV, stems, MIDI
# ---------------------------------------------------------------------------------------
def _as_stereo(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    if a.shape[1] == 1:
        a = np.repeat(a, 2, axis=1)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"expected (n, 2) audio, got {np.shape(audio)}")
    return a


def write_wav(audio: np.ndarray, sr: int, path: str | os.PathLike, *, subtype: str = "PCM_24",
              overwrite: bool = False) -> Path:
    """A WAV file (24-bit PCM by default; subtype="FLOAT" keeps float32)."""
    import soundfile as sf

    target = _check_destination(path, overwrite)
    data = np.clip(_as_stereo(audio), -1.0, 1.0) if subtype != "FLOAT" else _as_stereo(audio)
    # Encode in memory, then write with Python's own file I/O: libsndfile reports a full
    # disk only as "System error", Python raises OSError(ENOSPC) that says what happened.
    buf = io.BytesIO()
    sf.write(buf, data, int(sr), subtype=subtype, format="WAV")
    with _atomic_target(target, overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
    return target


def write_delivered_wav(music: np.ndarray, sr: int, path: str | os.PathLike, *,
                        delivery: Delivery, gain_db: float = 0.0, overwrite: bool = False) -> Path:
    """A 24-bit WAV of `music` through the delivery master (`Delivery`), then `gain_db`:
    measured and written block by block (the header is written by hand, so only a block at a time is in
    memory and a full disk raises OSError(ENOSPC) through Python's own file I/O)."""
    target = _check_destination(path, overwrite)
    if int(sr) != EXPORT_SAMPLE_RATE:
        raise ValueError(f"the delivery master is made at {EXPORT_SAMPLE_RATE} Hz, not {sr}")
    n = len(music)
    data_bytes = n * 2 * 3
    header = (b"RIFF" + (36 + data_bytes).to_bytes(4, "little") + b"WAVE"
              + b"fmt " + (16).to_bytes(4, "little") + (1).to_bytes(2, "little")
              + (2).to_bytes(2, "little") + int(sr).to_bytes(4, "little")
              + (int(sr) * 6).to_bytes(4, "little") + (6).to_bytes(2, "little")
              + (24).to_bytes(2, "little") + b"data" + data_bytes.to_bytes(4, "little"))
    g = np.float32(10 ** (gain_db / 20))
    with _atomic_target(target, overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(header)
            for block in _music_blocks(music, sr, n, delivery, target.parent):
                q = np.rint(np.clip(block * g, -1.0, 1.0) * 8388607.0).astype("<i4")
                f.write(q.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())
    return target


def write_stems(stems: Mapping, sr: int, folder: str | os.PathLike, *, subtype: str = "PCM_24",
                overwrite: bool = False, prefix: str = "") -> list[Path]:
    """One WAV per stem ("drums.wav", "bass.wav", ...) in `folder` (created if missing).
    All names are checked before anything is written."""
    folder = Path(folder).expanduser().absolute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _os_error(err, folder / "stems") from None
    names = {}
    for key in stems:
        name = getattr(key, "value", str(key))
        names[key] = folder / f"{prefix}{name}.wav"
    for p in names.values():
        _check_destination(p, overwrite)
    return [write_wav(stems[k], sr, p, subtype=subtype, overwrite=overwrite) for k, p in names.items()]


def write_midi(score, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """The score as a Standard MIDI File, tempo map included (see score.midi_io)."""
    from robin_studio.score.midi_io import score_to_midi

    target = _check_destination(path, overwrite)
    mid = score_to_midi(score)
    with _atomic_target(target, overwrite) as tmp:
        mid.save(str(tmp))
    return target


# ---------------------------------------------------------------------------------------
# MP4
# ---------------------------------------------------------------------------------------
def _open_video(video_path: str | os.PathLike):
    from robin_studio.media.probe import open_container, pick_video_stream

    container = open_container(video_path)
    try:
        stream = pick_video_stream(container, Path(video_path).name)
    except BaseException:
        container.close()
        raise
    return container, stream


def _video_span(video_path) -> tuple[int, int, Fraction]:
    """(first pts, end pts, time base) of the picture: end = last frame's pts + duration."""
    container, stream = _open_video(video_path)
    with container:
        tb = stream.time_base
        first = None
        end = None
        last_dur = 0
        for pkt in container.demux(stream):
            if pkt.pts is None:
                continue
            first = pkt.pts if first is None else min(first, pkt.pts)
            dur = pkt.duration or 0
            if dur:
                last_dur = dur
            stop = pkt.pts + (dur or last_dur)
            end = stop if end is None else max(end, stop)
        if first is None:
            raise MediaError(f"'{Path(video_path).name}' holds no pictures.", "Choose another clip.")
        if end is None or end <= first:
            rate = stream.average_rate or Fraction(30)
            end = first + max(1, int(round(1 / (rate * tb))))
    return first, end, tb


def _resample(audio: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    if int(sr) == target_sr:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(int(sr), target_sr)
    return resample_poly(audio, target_sr // g, int(sr) // g, axis=0).astype(np.float32)


def _original_audio(video_path, start_s: float, n: int) -> np.ndarray | None:
    """The clip's own sound, 48 kHz stereo float32, aligned to the picture's start."""
    container, _ = _open_video(video_path)
    with container:
        if not container.streams.audio:
            return None
        astream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=EXPORT_SAMPLE_RATE)
        out = np.zeros((n, 2), np.float32)
        pos = None
        try:
            for frame in container.decode(astream):
                for rf in resampler.resample(frame):
                    arr = rf.to_ndarray().T.astype(np.float32)
                    if pos is None:
                        t = rf.time if rf.time is not None else (frame.time or 0.0)
                        pos = int(round((t - start_s) * EXPORT_SAMPLE_RATE))
                    a, b = pos, pos + len(arr)
                    lo, hi = max(a, 0), min(b, n)
                    if hi > lo:
                        out[lo:hi] = arr[lo - a:hi - a]
                    pos = b
                    if pos >= n:
                        return out
        except av.error.FFmpegError:
            pass  # a damaged audio tail: keep what decoded
        return out


def duck_gain(original: np.ndarray, sample_rate: int = EXPORT_SAMPLE_RATE,
              depth_db: float = DUCK_DEPTH_DB) -> np.ndarray:
    """Per-sample gain (linear) for the music: down by up to `depth_db` while the original
    sound is loud; quick to dip (60 ms), slow to recover (500 ms)."""
    hop = sample_rate // 100
    n = len(original)
    m = max(1, -(-n // hop))
    mono = np.zeros(m * hop, np.float32)
    mono[:n] = np.abs(original).max(axis=1) if original.ndim == 2 else np.abs(original)
    rms = np.sqrt(np.mean(mono.reshape(m, hop) ** 2, axis=1) + 1e-12)
    level = 20 * np.log10(rms)
    target = -depth_db * np.clip((level - DUCK_THRESHOLD_DB) / (DUCK_FULL_DB - DUCK_THRESHOLD_DB), 0.0, 1.0)
    attack = 1 - math.exp(-1 / 6.0)     # 10 ms steps: ~60 ms
    release = 1 - math.exp(-1 / 50.0)   # ~500 ms
    g = np.empty(m, np.float32)
    cur = 0.0
    for i, t in enumerate(target):
        cur += (t - cur) * (attack if t < cur else release)
        g[i] = cur
    per_sample = np.interp(np.arange(n), np.arange(m) * hop + hop / 2, g)
    return (10 ** (per_sample / 20)).astype(np.float32)


@dataclass(frozen=True)
class Delivery:
    """The delivery master the engine asks for (`render.master.to_target`, made block by
    block): one gain for the whole piece to `target_lufs` integrated, aiming
    `limiter_allowance_db` loud, a limiter `limiter_margin_db` under `ceiling_db`, the
    true-peak clamp at `ceiling_db`; if limiting ate more than 0.3 LU the gain goes up once
    more (by 1.5x the shortfall, at most 12 dB); a result more than 0.1 LU loud is turned
    down by a plain gain (which cannot raise a peak)."""
    target_lufs: float = -14.0
    ceiling_db: float = -1.15
    limiter_allowance_db: float = 0.6
    limiter_margin_db: float = 0.3


def _blocks(audio: np.ndarray) -> Iterator[np.ndarray]:
    for i in range(0, len(audio), _BLOCK):
        yield audio[i:i + _BLOCK]
        release(audio, i, i + _BLOCK)    # a piece spooled to disk (media.spool) leaves memory as read


def _delivered(audio: np.ndarray, d: Delivery, spool_dir: Path | None) -> Iterator[np.ndarray]:
    """`audio` (48 kHz stereo) through the delivery master, in blocks. The limited and
    clamped pass is spooled to a temporary file (float32, deleted when done) while it is
    measured, so the final gain is applied on the way out without a second limiter pass and
    without a copy of the piece in memory."""
    import tempfile

    import pedalboard as pb

    from robin_studio.media import loudness as L

    sr = EXPORT_SAMPLE_RATE
    level = L.integrated_loudness(audio, sr)
    if not math.isfinite(level):
        clamp = L.TruePeakClamp(d.ceiling_db, sr)
        for block in _blocks(audio):
            yield clamp.process(block)
        yield clamp.finish()
        return
    gain_db = d.target_lufs - level + d.limiter_allowance_db
    threshold_db = d.ceiling_db - d.limiter_margin_db
    back = np.float32(10 ** (threshold_db / 20))
    spool = None
    try:
        for _ in range(2):
            if spool is not None:
                spool.close()
            spool = tempfile.TemporaryFile(dir=spool_dir, prefix=".robin-master-")
            # pedalboard's limiter normalises its ceiling to 0 dBFS: scale back to the threshold
            limiter = pb.Pedalboard([pb.Limiter(threshold_db=threshold_db, release_ms=120.0)])
            clamp = L.TruePeakClamp(d.ceiling_db, sr)
            meter = L.LoudnessMeter(sr)
            g = np.float32(10 ** (gain_db / 20))
            first = True
            for block in itertools.chain(_blocks(audio), [None]):   # one block at a time
                if block is None:
                    y = clamp.finish()
                else:
                    y = limiter.process(np.ascontiguousarray((block * g).T), float(sr), reset=first).T * back
                    first = False
                    y = clamp.process(y)
                meter.add(y)
                spool.write(np.ascontiguousarray(y, dtype=np.float32).tobytes())
            err = d.target_lufs - meter.integrated()
            if err <= 0.3:
                break
            # Limiting makes loudness grow more slowly than gain: step past the error.
            gain_db += float(np.clip(1.5 * err, 0.0, 12.0))
        trim = np.float32(10 ** (err / 20)) if err < -0.1 else np.float32(1.0)
        spool.seek(0)
        frame_bytes = 2 * 4
        while True:
            raw = spool.read(_BLOCK * frame_bytes)
            if not raw:
                return
            yield np.frombuffer(raw, np.float32).reshape(-1, 2) * trim
    finally:
        if spool is not None:
            spool.close()


def delivered_blocks(music: np.ndarray, sample_rate: int, delivery: Delivery) -> Iterator[np.ndarray]:
    """`music` through the delivery master at 48 kHz, as the MP4 and WAV exports write it,
    block by block (its temporary spool in the system's temporary folder)."""
    return _music_blocks(music, sample_rate, len(music) if int(sample_rate) == EXPORT_SAMPLE_RATE
                         else int(round(len(music) * EXPORT_SAMPLE_RATE / sample_rate)), delivery)


def _music_blocks(music: np.ndarray, sample_rate: int, n: int, delivery: Delivery | None,
                  spool_dir: Path | None = None) -> Iterator[np.ndarray]:
    """The music at 48 kHz through the delivery master (if asked), cut or padded to `n`
    samples, in blocks. Only a few blocks exist at a time: the piece is held once, by the
    caller."""
    audio = _resample(_as_stereo(music), sample_rate, EXPORT_SAMPLE_RATE)
    source = _delivered(audio, delivery, spool_dir) if delivery is not None else _blocks(audio)
    sent = 0
    for block in source:
        block = block[: max(0, n - sent)]
        if len(block):
            sent += len(block)
            yield block
        if sent >= n:
            return
    while sent < n:
        m = min(_BLOCK, n - sent)
        sent += m
        yield np.zeros((m, 2), np.float32)


def _soundtrack_blocks(video_path, music, sample_rate, n: int, start_s: float, music_gain_db: float,
                       original_gain_db: float | None, duck: bool, delivery: Delivery | None = None,
                       spool_dir: Path | None = None) -> Iterator[np.ndarray]:
    """The MP4's sound, block by block: the music (see `_music_blocks`) at `music_gain_db`,
    with the clip's own sound mixed in when asked (ducking the music under it), and a limiter
    when the sum would go over -1 dBFS."""
    music_gain = np.float32(10 ** (music_gain_db / 20))
    orig = duck_g = None
    if original_gain_db is not None:
        orig = _original_audio(video_path, start_s, n)
        if orig is not None:
            orig *= np.float32(10 ** (original_gain_db / 20))
            if duck:   # under the original as it will be heard, not as recorded
                duck_g = duck_gain(orig)

    def mixed() -> Iterator[np.ndarray]:
        pos = 0
        for block in _music_blocks(music, sample_rate, n, delivery, spool_dir):
            block = block * music_gain
            if orig is not None:
                end = pos + len(block)
                if duck_g is not None:
                    block *= duck_g[pos:end, None]
                block += orig[pos:end]
            pos += len(block)
            yield block

    # A true-peak clamped piece stays under the ceiling unless it is turned up or mixed with
    # the clip's sound: only then is the whole stream measured first, to see whether it needs
    # the limiter (which is not transparent, so it only runs when needed).
    safe = (delivery is not None and orig is None
            and 10 ** ((delivery.ceiling_db + music_gain_db) / 20) <= PEAK_CEILING)
    peak = 0.0 if safe else max((float(np.abs(b).max()) for b in mixed()), default=0.0)
    if peak <= PEAK_CEILING:
        for block in mixed():
            yield np.ascontiguousarray(block, dtype=np.float32)
        return
    import pedalboard as pb

    # pedalboard's limiter normalises its ceiling to 0 dBFS: scale back under -1 dBFS.
    lim = pb.Pedalboard([pb.Limiter(threshold_db=-1.5, release_ms=100.0)])
    first = True
    for block in mixed():
        out = lim.process(np.ascontiguousarray(block.T), float(EXPORT_SAMPLE_RATE), reset=first).T
        first = False
        out = np.clip(out * np.float32(10 ** (-1.5 / 20)), -PEAK_CEILING, PEAK_CEILING)
        yield np.ascontiguousarray(out, dtype=np.float32)


_BLOCK = 1 << 16       # samples per block of the streamed soundtrack (1.4 s at 48 kHz)


def _encode_aac(out: av.container.OutputContainer,
                blocks: Iterator[np.ndarray]) -> tuple[av.audio.stream.AudioStream, Iterator]:
    """Add the AAC stream to `out`; returns it and an iterator of its packets, which encodes
    the blocks as the packets are asked for (so the sound is never held whole)."""
    stream = out.add_stream("aac", rate=EXPORT_SAMPLE_RATE)
    stream.layout = "stereo"
    stream.bit_rate = AAC_BITRATE
    # FFmpeg's default "twoloop" coder costs about twice the CPU; at 256 kb/s the fast
    # coder is transparent for music and keeps a 60 s export near a second.
    stream.options = {"aac_coder": "fast"}
    stream.time_base = Fraction(1, EXPORT_SAMPLE_RATE)

    def packets() -> Iterator:
        step = 1024            # AAC frame length
        pending = np.zeros((0, 2), np.float32)
        pts = 0

        def frames(planar: np.ndarray):
            nonlocal pts
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar), format="fltp", layout="stereo")
            frame.sample_rate = EXPORT_SAMPLE_RATE
            frame.pts = pts
            frame.time_base = Fraction(1, EXPORT_SAMPLE_RATE)
            pts += planar.shape[1]
            return stream.encode(frame)

        for block in blocks:
            pending = np.concatenate([pending, block]) if len(pending) else block
            whole = len(pending) // step * step
            if whole:
                planar = pending[:whole].T
                for i in range(0, whole, step):
                    yield from frames(planar[:, i:i + step])
                pending = pending[whole:]
        if len(pending):
            yield from frames(pending.T)
        yield from stream.encode(None)

    return stream, packets()


def export_mp4(video_path: str | os.PathLike, music: np.ndarray, sample_rate: int,
               out_path: str | os.PathLike, *, music_gain_db: float = 0.0,
               original_gain_db: float | None = None, duck: bool = False,
               progress: Progress | None = None, cancel: Cancel | None = None,
               overwrite: bool = False, delivery: Delivery | None = None) -> Path:
    """Write the clip with `music` as its soundtrack to `out_path` (an MP4).

    original_gain_db: None drops the clip's own sound; a number mixes it in at that gain.
    duck: the music dips under loud passages of the original sound.
    delivery: put the music through the delivery master first (see `Delivery`), measured
    and applied block by block, so nothing the length of the piece is held twice. progress(fraction 0..1) is called as the export proceeds; cancel() returning True
    stops it (CancelledError; nothing is left behind). Returns the written path."""
    target = _check_destination(out_path, overwrite, inputs=(video_path,))
    first_pts, end_pts, tb = _video_span(video_path)
    start_s = float(first_pts * tb)
    duration_s = float((end_pts - first_pts) * tb)
    n = int(round(duration_s * EXPORT_SAMPLE_RATE))
    _report(progress, 0.0)
    _check_cancel(cancel)
    blocks = _soundtrack_blocks(video_path, music, sample_rate, n, start_s, music_gain_db,
                                original_gain_db, duck, delivery, target.parent)
    _report(progress, 0.05)
    _check_cancel(cancel)
    with _atomic_target(target, overwrite) as tmp:
        container, vin = _open_video(video_path)
        with container, av.open(str(tmp), "w", format="mp4") as out:
            copy = (vin.codec_context.name if vin.codec_context else "") in COPYABLE_CODECS
            if copy:
                vout = out.add_stream_from_template(vin)
                if vin.codec_context.name == "hevc":
                    vout.codec_tag = "hvc1"   # what Apple players need to open HEVC in MP4
            else:
                vout = _h264_stream(out, vin)
                rotation = _rotation_deg(video_path)
                if rotation:   # decoded frames are stored unrotated: keep the display matrix
                    vout.set_display_rotation(-rotation)
            astream, apackets = _encode_aac(out, blocks)
            waiting = None     # the next audio packet, encoded but not yet muxed

            def flush_audio_until(t_s: float) -> None:
                nonlocal waiting
                while True:
                    if waiting is None:
                        waiting = next(apackets, None)
                        if waiting is None:
                            return
                    if (waiting.pts or 0) / EXPORT_SAMPLE_RATE > t_s:
                        return
                    waiting.stream = astream
                    out.mux(waiting)
                    waiting = None

            count = 0
            if copy:
                for pkt in container.demux(vin):
                    if pkt.dts is None and pkt.pts is None:
                        continue   # the demuxer's empty flush packet
                    t = float(((pkt.dts if pkt.dts is not None else pkt.pts) - first_pts) * tb)
                    flush_audio_until(t)
                    if pkt.pts is not None:
                        pkt.pts -= first_pts
                    if pkt.dts is not None:
                        pkt.dts -= first_pts
                    pkt.stream = vout
                    out.mux(pkt)
                    count += 1
                    if count % 32 == 0:
                        _check_cancel(cancel)
                        _report(progress, 0.05 + 0.9 * min(1.0, max(0.0, t / max(duration_s, 1e-9))))
            else:
                for frame in _frames(container, vin):
                    t = float((frame.pts - first_pts) * tb)
                    flush_audio_until(t)
                    img = frame.reformat(width=vout.width, height=vout.height, format="yuv420p")
                    img.pts = frame.pts - first_pts
                    img.time_base = tb
                    for pkt in vout.encode(img):
                        out.mux(pkt)
                    count += 1
                    if count % 8 == 0:
                        _check_cancel(cancel)
                        _report(progress, 0.05 + 0.9 * min(1.0, max(0.0, t / max(duration_s, 1e-9))))
                for pkt in vout.encode(None):
                    out.mux(pkt)
            flush_audio_until(math.inf)
            _check_cancel(cancel)
    _report(progress, 1.0)
    return target


def _report(progress: Progress | None, frac: float) -> None:
    if progress is not None:
        progress(float(frac))


def _frames(container, stream):
    try:
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            yield frame
    except av.error.FFmpegError:
        return   # a damaged tail: export what decodes (the probe has already warned)


def _rotation_deg(video_path) -> int:
    try:
        from robin_studio.media.probe import probe
        return int(probe(video_path).rotation_deg or 0) % 360
    except Exception:   # rotation is a nicety; never fail an export over it
        return 0


def _h264_stream(out, vin):
    ctx = vin.codec_context
    rate = vin.average_rate or vin.guessed_rate or Fraction(30)
    vout = out.add_stream("libx264", rate=rate)
    # yuv420p needs even dimensions.
    vout.width = max(2, (ctx.width // 2) * 2)
    vout.height = max(2, (ctx.height // 2) * 2)
    vout.pix_fmt = "yuv420p"
    vout.time_base = vin.time_base
    vout.codec_context.time_base = vin.time_base
    vout.options = dict(H264_OPTIONS)
    if vin.sample_aspect_ratio:
        vout.sample_aspect_ratio = vin.sample_aspect_ratio
    return vout
