"""Export of a generated piece (behind `Scorer.export`): the scored MP4, the WAV master,
stems and MIDI, written by `media.export` (atomic writes, never overwriting unless asked,
ExportError with what to do).

- mp4: the clip's picture (copied when MP4 can hold it) with the piece's audio at the
  delivery loudness (-14 LUFS integrated, true peak under -1 dBTP: `render.master`'s
  `deliver`, made block by block by `media.export` with the settings `delivery()` gives, so
  a long piece is never copied whole);
- wav: the same audio, as long as the video, written the same way;
- stems: one WAV per track (drums.wav, bass.wav...) rendered separately with the track's
  gain and pan, no bus processing, so they sum to the dry mix in a DAW;
- midi: the score with its tempo map, so it lines up with the video in a DAW.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from robin_studio.errors import ExportError, RobinError
from robin_studio.limits import check_number

KINDS = ("mp4", "wav", "stems", "midi")


def delivery() -> "media_export.Delivery":
    """The delivery master's settings, from `render.master` (-14 LUFS integrated, true peak
    under -1 dBTP): `media.export` applies it block by block while it writes."""
    from robin_studio.media.export import Delivery
    from robin_studio.render import master

    return Delivery(target_lufs=master.TARGET_LUFS,
                    ceiling_db=master.TRUE_PEAK_CEILING_DB - master._CEILING_MARGIN_DB,
                    limiter_allowance_db=master._LIMITER_ALLOWANCE_DB, limiter_margin_db=0.3)


def delivery_audio(piece) -> np.ndarray:
    """The piece at the delivery loudness as one array (for tools and tests): exactly what
    the MP4 and WAV exports write, block by block."""
    from robin_studio.media.export import delivered_blocks

    return np.concatenate([*delivered_blocks(piece.audio, piece.sample_rate, delivery()),
                           np.zeros((0, 2), np.float32)])


def _stems(piece) -> dict:
    from robin_studio.render.synth import render_stems

    n = piece.audio.shape[0]
    fade = min(n, int(0.25 * piece.sample_rate))
    ramp = np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None] ** 2 if fade > 1 else None
    tracks = {t.role: t for t in piece.score.tracks if t.notes}
    out = {}
    # Each with its track's gain and pan played by the synth: they add up to the piece's dry
    # mix exactly (what the master bus is fed).
    for role, audio in render_stems(piece.score, piece.sample_rate, mixed=True).items():
        track = tracks.get(role)
        if track is None:
            continue
        a = np.zeros((n, 2), np.float32)
        m = min(n, audio.shape[0])
        a[:m] = audio[:m]
        if ramp is not None:
            a[-fade:] *= ramp
        out[role] = a
    return out


def export_piece(piece, out_path: str | Path, *, video_path: str | Path | None = None,
                 kind: str = "mp4", music_gain_db: float = 0.0,
                 original_gain_db: float | None = None, duck: bool = False,
                 progress: Callable[[float, str], None] | None = None,
                 cancel: Callable[[], bool] | None = None, overwrite: bool = False) -> Path:
    from robin_studio.media import export as media_export

    check_number("music_gain_db", music_gain_db, "the music level")   # NaN/1e9 dB: refused
    check_number("original_gain_db", original_gain_db, "the original sound level")
    kind = (kind or "mp4").lower()
    if kind not in KINDS:
        raise RobinError(f"Cannot export as {kind!r}.", f"Choose one of: {', '.join(KINDS)}.")
    report = progress or (lambda fraction, message="": None)
    report(0.0, f"writing {kind}")
    if kind == "mp4":
        video = video_path or piece.analysis.path
        if not video or not Path(video).exists():
            raise ExportError(f"The original video {video} is not there any more, so the MP4 "
                              "cannot be made.", "Pass the clip's path (video_path=...) or "
                              "export the music as WAV instead.")
        path = media_export.export_mp4(
            video, piece.audio, piece.sample_rate, out_path, music_gain_db=music_gain_db,
            original_gain_db=original_gain_db, duck=duck,
            progress=lambda f: report(f, "writing mp4"), cancel=cancel, overwrite=overwrite,
            delivery=delivery())
    elif kind == "wav":
        path = media_export.write_delivered_wav(piece.audio, piece.sample_rate, out_path,
                                                delivery=delivery(), gain_db=music_gain_db,
                                                overwrite=overwrite)
    elif kind == "stems":
        stems = _stems(piece)
        if cancel is not None and cancel():
            from robin_studio.errors import CancelledError
            raise CancelledError("Export cancelled; nothing was written.")
        media_export.write_stems(stems, piece.sample_rate, out_path, overwrite=overwrite)
        path = Path(out_path)
    else:
        path = media_export.write_midi(piece.score, out_path, overwrite=overwrite)
    report(1.0, "written")
    return Path(path)
