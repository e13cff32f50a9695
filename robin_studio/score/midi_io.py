"""Score <-> Standard MIDI File.

Writing: one conductor track (tempo map, metre, key) and one track per score track. Tempo
ramps become stepped tempo events on a fine grid whose step durations are solved from the
tempo map itself, so every event in the file sounds within 1 ms of where the score says (a
DAW then lines the file up with the video). A lead-in bar absorbs a positive `offset_s`.
A negative one (the first bar cut in: beat 0 before the video starts) makes the file start
at the tick of the beat that sounds at 0 s, so a DAW that puts the file at the video's
start hears every note in time; notes that start before 0 s start at the file's start, as
the synthesizer plays them, and those that end before it are left out (both are kept
exactly in the track's text meta event). The DAW's own bar grid then starts mid-bar; a
marker names the first bar line.
The notes are the performance (`score.expression.perform_score`): repeated strikes varied
in velocity, a drummer's repeated hits a few ms off the grid, exactly as our synthesizer
plays them, so a DAW plays the same performance. The exact score (tempo map, roles, mix
settings, style and seed, and the written velocity and time of every note the performance
changed) is also stored in text meta events, so reading our own files back is lossless for
everything a Score holds (note times are on a 960-per-beat tick grid), and rendering the
file performs it again exactly as the app did.

Reading: any General MIDI file (type 0, 1 or 2, running status, odd metres, tempo changes,
unterminated notes). Notes are grouped per (track, channel, program); roles are guessed:
channel 10 is drums, bass by program and register, harmony vs melody by polyphony and
register, long sustained pad-like parts as texture. What looked odd is reported in
`score.meta["warnings"]`; the metre changes in `score.meta["time_signatures"]`.
"""

from __future__ import annotations

import io
import json
import math
from struct import error as struct_error
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import mido
from mido.midifiles.meta import KeySignatureError

from robin_studio import schema as sc
from robin_studio.errors import MediaError
from robin_studio.score.expression import (GLIDE_MAX_SEMITONES, TICKS_PER_BEAT, glide_bends, perform_score,
                                          snap_to_ticks)
from robin_studio.score.metre import music_beats, music_tempo_map
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.score.theory import SCALES, estimate_key
from robin_studio.score.types import ROLES, Note, Role, Score, Track

DRUM_CHANNEL = 9
RAMP_STEP_TICKS = 120          # 1/8 beat: keeps a stepped ramp well within 1 ms of the curve
_SCORE_TAG = "robin-studio:score "
_TRACK_TAG = "robin-studio:track "

# What a MIDI file may ask of us (a 37-byte file can otherwise ask for 100 GiB of audio, a
# 2-hour one for 8.5 GB of memory). Plain numbers: widen them if a real file needs it.
MAX_MIDI_BYTES = 4 * 2**20     # mido parses ~100k events a second; real files are < 1 MB
MAX_MIDI_SECONDS = 12 * 60.0   # a little over the longest video we score (10 min); a 19-minute render peaked at 5.7 GB
MAX_MIDI_NOTES = 100_000       # 80 notes a second for 20 minutes
MAX_TEMPO_EVENTS = 10_000
MAX_MIDI_TRACKS = 256

# The score header and track info we embed in text events: checked before use, since a
# file that claims to be ours may not be.
# (Up to 1000 bpm: a short bar's grid runs up to four times the music's tempo, score.metre.)
_SEGMENT = sc.Tuple((sc.Num(0, 1e6), sc.Num(0, 1e6), sc.Num(20, 1000), sc.Num(20, 1000)))
_HEADER_SCHEMA = sc.Obj({
    "tempo_map": sc.Obj({"beats_per_bar": sc.Int(1, 32), "offset_s": sc.Num(-60, 3600),
                         "segments": sc.List(_SEGMENT, MAX_TEMPO_EVENTS, 1),
                         "short_bars": sc.List(sc.Tuple((sc.Int(0, 10**6), sc.Num(0.5, 32))),
                                               MAX_TEMPO_EVENTS)},
                        required=("segments",)),
    "key_tonic": sc.Int(0, 11), "key_mode": sc.Enum(tuple(SCALES)),
    "beats_per_bar": sc.Int(1, 32), "time_signature": sc.Tuple((sc.Int(1, 64), sc.Enum((1, 2, 4, 8, 16, 32, 64)))),
    "lead_ticks": sc.Int(-(2**31), 2**31),
    "style": sc.Str(64), "seed": sc.Int(-(2**63), 2**63 - 1),
}, required=("tempo_map", "key_tonic", "key_mode"))
_TRACK_SCHEMA = sc.Obj({
    "role": sc.Enum(tuple(r.value for r in ROLES)), "program": sc.Int(0, 127),
    "name": sc.Str(200), "gain_db": sc.Num(-120, 24), "pan": sc.Num(-1, 1),
    "pre_roll": sc.List(sc.Tuple((sc.Num(-1e6, 1e6), sc.Num(0, 1e6), sc.Int(0, 127), sc.Int(0, 127))),
                        MAX_MIDI_NOTES),
    # notes the performance changed: [played tick, key, played velocity, written tick,
    # written end tick, written velocity] (beat ticks, without the file's lead-in)
    "performed": sc.List(sc.Tuple((sc.Int(-(2**40), 2**40), sc.Int(0, 127), sc.Int(1, 127),
                                   sc.Int(-(2**40), 2**40), sc.Int(-(2**40), 2**40), sc.Int(1, 127))),
                         MAX_MIDI_NOTES),
})

_MAJOR_KEYS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_KEYS = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")
_KEY_TO_PC = {
    "C": 0, "B#": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "Fb": 4, "F": 5,
    "E#": 5, "F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10,
    "B": 11, "Cb": 11,
}


# ---------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------
def _tempo_events(tm: TempoMap, end_beat: float, lead_ticks: int) -> list[tuple[int, int]]:
    """(tick, microseconds per beat) so that the file's clock follows `tm` within 1 ms.

    File tick = beat tick + `lead_ticks`; a negative `lead_ticks` means the file starts at
    beat tick -lead_ticks, which sounds at 0 s. Breakpoints are every segment boundary
    (rounded to ticks) plus a fine grid inside ramps. Each interval's tempo is solved from
    the exact time at its end minus the time already written, so rounding never
    accumulates (and a file that starts mid-beat is exact from its first breakpoint on)."""
    tpb = TICKS_PER_BEAT
    start = max(0, -lead_ticks)
    end_tick = max(start + 1, int(math.ceil(end_beat * tpb)))
    marks = {start, end_tick}
    if start:
        marks.add(int(math.ceil(start / tpb)) * tpb)   # the first whole beat in the file
    for seg in tm.segments:
        a = int(round(seg.start_beat * tpb))
        b = int(round(seg.end_beat * tpb))
        marks.update(m for m in (a, b) if start < m < end_tick)
        if abs(seg.end_bpm - seg.start_bpm) > 1e-9:
            marks.update(m for m in range(a, min(b, end_tick), RAMP_STEP_TICKS) if m > start)
    marks = sorted(m for m in marks if start <= m <= end_tick)
    events: list[tuple[int, int]] = []
    written_s = 0.0 if start else tm.seconds_at(0.0)
    for k0, k1 in zip(marks[:-1], marks[1:]):
        exact_end = tm.seconds_at(k1 / tpb)
        us = max(1, min(0xFFFFFF, int(round((exact_end - written_s) * 1e6 * tpb / (k1 - k0)))))
        written_s += us * 1e-6 * (k1 - k0) / tpb
        if not events or events[-1][1] != us:
            events.append((k0 + lead_ticks, us))
    # Past the end, hold the final tempo of the map (as TempoMap does).
    final_us = int(round(60e6 / tm.segments[-1].end_bpm))
    if events[-1][1] != final_us:
        events.append((end_tick + lead_ticks, final_us))
    return events


def _key_signature(tonic: int, mode: str) -> str:
    return (_MINOR_KEYS if mode in ("minor", "aeolian", "dorian", "phrygian", "harmonic_minor",
                                    "melodic_minor", "minor_pentatonic", "blues")
            else _MAJOR_KEYS)[tonic % 12]


def _channels(tracks: list[Track]) -> list[int]:
    free = [c for c in range(16) if c != DRUM_CHANNEL]
    out, i = [], 0
    for t in tracks:
        if t.is_drums:
            out.append(DRUM_CHANNEL)
        else:
            out.append(free[i % len(free)])
            i += 1
    return out


def _gain_to_cc7(gain_db: float) -> int:
    # CC7 100 is the usual 0 dB point; volume follows 40*log10(cc/127) in GM.
    return int(max(0, min(127, round(100 * 10 ** (gain_db / 40.0)))))


def score_to_midi(score: Score) -> mido.MidiFile:
    tpb = TICKS_PER_BEAT
    tm = score.tempo_map
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    lead_ticks = 0
    if tm.offset_s > 1e-6:
        lead_ticks = max(1, score.beats_per_bar) * tpb
    elif tm.offset_s < -1e-6:
        lead_ticks = -max(0, int(round(tm.beat_at(0.0) * tpb)))
    last_note = max((n.end_beat for t in score.tracks for n in t.notes), default=0.0)
    end_beat = max(tm.total_beats, last_note, 1.0)
    # Short bars (a re-edit's 2/4 bar: score.metre) are written as the music is heard: in
    # its beats, with their metre and tempo; our own header keeps the score's grid.
    beat_of, _ = music_beats(tm)

    conductor: list[tuple[int, int, mido.MetaMessage]] = []   # (tick, order, msg)
    header = {
        "tempo_map": tm.to_dict(), "key_tonic": score.key_tonic, "key_mode": score.key_mode,
        "beats_per_bar": score.beats_per_bar, "time_signature": list(score.time_signature),
        "lead_ticks": lead_ticks,
    }
    meta = score.meta or {}
    if isinstance(meta.get("style"), str):
        header["style"] = meta["style"][:64]
    if isinstance(meta.get("seed"), int) and not isinstance(meta.get("seed"), bool):
        header["seed"] = int(meta["seed"])
    conductor.append((0, 0, mido.MetaMessage("track_name", name="Robin Studio")))
    conductor.append((0, 1, mido.MetaMessage("text", text=_SCORE_TAG + json.dumps(header))))
    num, den = score.time_signature
    conductor.append((0, 2, mido.MetaMessage("time_signature", numerator=int(num), denominator=int(den))))
    conductor.append((0, 3, mido.MetaMessage("key_signature", key=_key_signature(score.key_tonic, score.key_mode))))
    if lead_ticks < 0:
        bpb_ticks = max(1, score.beats_per_bar) * tpb
        first_bar = -(lead_ticks // bpb_ticks)          # the first bar line in the file
        conductor.append((first_bar * bpb_ticks + lead_ticks, 0,
                          mido.MetaMessage("marker", text=f"bar {first_bar + 1}")))
    elif lead_ticks:
        us = int(round(tm.offset_s * 1e6 / (lead_ticks / tpb)))
        conductor.append((0, 4, mido.MetaMessage("set_tempo", tempo=max(1, min(0xFFFFFF, us)))))
        conductor.append((lead_ticks, 0, mido.MetaMessage("marker", text="beat 0")))
    heard = music_tempo_map(tm) if tm.short_bars else tm
    for tick, us in _tempo_events(heard, beat_of(end_beat), lead_ticks):
        conductor.append((tick, 5, mido.MetaMessage("set_tempo", tempo=us)))
    for i, p in sorted(tm.short_bars.items()):
        short = (int(p), 4) if float(p).is_integer() else (int(round(2 * p)), 8)
        for at, (n_, d_) in ((i, short), (i + 1, (num, den))):
            conductor.append((max(0, lead_ticks + int(round(beat_of(at * tm.beats_per_bar) * tpb))), 2,
                              mido.MetaMessage("time_signature", numerator=n_, denominator=d_)))
    mid.tracks.append(_to_track(conductor))

    performances = perform_score(score)
    for track, chan, performance in zip(score.tracks, _channels(score.tracks), performances):
        evs: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
        info = {"role": track.role.value, "program": track.program, "name": track.name,
                "gain_db": track.gain_db, "pan": track.pan}
        evs.append((0, 0, mido.MetaMessage("track_name", name=track.name or track.role.value)))
        evs.append((0, 2, mido.Message("program_change", channel=chan, program=int(track.program) & 127)))
        evs.append((0, 3, mido.Message("control_change", channel=chan, control=7, value=_gain_to_cc7(track.gain_db))))
        pan_cc = int(max(0, min(127, round(64 + 63.5 * track.pan))))
        evs.append((0, 4, mido.Message("control_change", channel=chan, control=10, value=pan_cc)))
        pre_roll = []      # notes that start before the file (exactly, for our own reader)
        performed = []     # what the performance changed (as written, for our own reader)
        for cc in performance.controls:      # pedal, swells, legato, portamento as played
            tick = max(0, lead_ticks + int(round(beat_of(cc.beat) * tpb)))
            evs.append((tick, 15, mido.Message("control_change", channel=chan, control=int(cc.controller),
                                               value=int(max(0, min(127, cc.value))))))
        bends = glide_bends(track, score.beats_per_bar, (score.meta or {}).get("style"), tm.seconds_at, tm.beat_at)
        if bends:                            # an 808's slides: bend range first (RPN 0), then the ramps
            for k, (control, value) in enumerate(((101, 0), (100, 0), (6, GLIDE_MAX_SEMITONES), (38, 0))):
                evs.append((0, 5 + k / 10, mido.Message("control_change", channel=chan, control=control, value=value)))
            for beat, value in bends:
                tick = max(0, lead_ticks + int(round(beat_of(beat) * tpb)))
                evs.append((tick, 16, mido.Message("pitchwheel", channel=chan, pitch=int(value))))
        # The notes as played. (The performance leaves a note that starts before the file
        # as written: `pre_roll` keeps it exactly, as the score had it.)
        original = {snap_to_ticks(o): o for o in track.notes}
        for n, w in zip(performance.notes, performance.written):
            if n != w:
                performed.append([int(round(beat_of(n.start_beat) * tpb)), int(n.pitch),
                                  int(max(1, min(127, n.velocity))),
                                  int(round(beat_of(w.start_beat) * tpb)), int(round(beat_of(w.end_beat) * tpb)),
                                  int(max(1, min(127, w.velocity)))])
            on = lead_ticks + int(round(beat_of(n.start_beat) * tpb))
            off = max(on + 1, lead_ticks + int(round(beat_of(n.end_beat) * tpb)))
            if on < 0:
                o = original.get(w, w)
                pre_roll.append([o.start_beat, o.duration_beats, o.pitch, o.velocity])
                if off <= 0:
                    continue                  # over before the video starts: never heard
                on = 0
            vel = int(max(1, min(127, n.velocity)))
            pitch = int(max(0, min(127, n.pitch)))
            # At one tick, note-offs go before note-ons so repeated pitches re-strike.
            evs.append((on, 20, mido.Message("note_on", channel=chan, note=pitch, velocity=vel)))
            evs.append((off, 10, mido.Message("note_off", channel=chan, note=pitch, velocity=0)))
        if pre_roll:
            info["pre_roll"] = pre_roll
        if performed:
            info["performed"] = performed
        evs.append((0, 1, mido.MetaMessage("text", text=_TRACK_TAG + json.dumps(info))))
        mid.tracks.append(_to_track(evs))
    return mid


def _to_track(events) -> mido.MidiTrack:
    events = sorted(events, key=lambda e: (e[0], e[1]))
    trk = mido.MidiTrack()
    prev = 0
    for tick, _, msg in events:
        trk.append(msg.copy(time=tick - prev))
        prev = tick
    trk.append(mido.MetaMessage("end_of_track", time=0))
    return trk


def write_midi(score: Score, path: str | Path) -> Path:
    """Write `score` as a type-1 Standard MIDI File (plain write; media.export wraps it
    with the safe temp-file-and-rename and the user-facing errors)."""
    path = Path(path)
    score_to_midi(score).save(str(path))
    return path


# ---------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------
@dataclass
class _Group:
    track_index: int
    channel: int
    program: int
    name: str
    notes: list[Note]


def guess_role(notes: list[Note], program: int, is_drum_channel: bool) -> Role:
    """Role of a part from its channel, General MIDI program, register and polyphony."""
    if is_drum_channel:
        return Role.DRUMS
    if not notes:
        return Role.HARMONY
    pitches = sorted(n.pitch for n in notes)
    median = pitches[len(pitches) // 2]
    poly = _polyphony(notes)
    mean_dur = sum(n.duration_beats for n in notes) / len(notes)
    if 32 <= program <= 39 or (median < 48 and poly < 1.3):
        return Role.BASS
    if 43 <= program <= 43 and median < 50:   # contrabass
        return Role.BASS
    pad_like = 88 <= program <= 103 or program in (48, 49, 50, 51, 52, 53, 54, 89, 91, 94, 95)
    if pad_like and mean_dur >= 2.0:
        return Role.TEXTURE
    if poly >= 1.6:
        return Role.HARMONY
    if median >= 55:
        return Role.MELODY
    return Role.HARMONY


def _polyphony(notes: list[Note]) -> float:
    """Mean number of notes sounding at each note onset (1.0 = strictly monophonic)."""
    ns = sorted(notes)
    if not ns:
        return 0.0
    total, active = 0, []
    import heapq
    for n in ns:
        while active and active[0] <= n.start_beat + 1e-6:
            heapq.heappop(active)
        heapq.heappush(active, n.end_beat)
        total += len(active)
    return total / len(ns)


def read_midi(path: str | Path) -> Score:
    """Read any Standard MIDI File into a Score (roles guessed; see the module docstring).

    Raises MediaError if the file cannot be parsed or holds no notes."""
    path = Path(path)
    from robin_studio.errors import InputError
    from robin_studio.limits import check_input_file
    try:
        check_input_file(path, "MIDI file", MAX_MIDI_BYTES)   # a FIFO would block; 1 GB would not fit
    except InputError as err:
        raise MediaError(err.message, err.hint) from None
    try:
        # From memory (the file is at most 4 MB): a chunk that claims 3.7 GB then reads only
        # what is there, where reading from disk asked for the whole 3.7 GB first.
        mid = mido.MidiFile(file=io.BytesIO(path.read_bytes()), clip=True)
    except FileNotFoundError:
        raise MediaError(f"MIDI file not found: {path}", "Check the path and try again.") from None
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, struct_error,
            KeySignatureError, MemoryError) as err:
        raise MediaError(f"Cannot read {path.name} as a MIDI file ({err}).",
                         "Choose a Standard MIDI File (.mid/.midi); re-export it from your DAW if it is damaged.") from None
    return midi_to_score(mid, source=str(path))


def midi_to_score(mid: mido.MidiFile, source: str = "") -> Score:
    warnings: list[str] = []
    name = Path(source).name or "The MIDI file"
    if len(mid.tracks) > MAX_MIDI_TRACKS:
        raise MediaError(f"{name} has {len(mid.tracks)} tracks; at most {MAX_MIDI_TRACKS} are read.",
                         "Merge tracks in your DAW and export again.")
    tpb = mid.ticks_per_beat
    if not tpb or tpb <= 0 or tpb >= 0x8000:   # top bit set: SMPTE frames, not beats
        raise MediaError("This MIDI file uses SMPTE time code, which is not supported.",
                         "Re-export it with metrical timing (ticks per quarter note).")
    if mid.type == 2:
        warnings.append("type 2 (independent patterns) read as if the tracks played together")

    tempos: dict[int, int] = {}
    time_sigs: list[tuple[int, int, int]] = []
    key_sigs: list[tuple[int, str]] = []
    header: dict | None = None
    track_infos: dict[int, dict] = {}
    track_names: dict[int, str] = {}
    # notes keyed by (track, channel, program)
    groups: dict[tuple[int, int, int], list[Note]] = defaultdict(list)
    program_of = [0] * 16
    # Program changes are channel state shared by all tracks: collect them with ticks first.
    prog_changes: list[tuple[int, int, int, int]] = []   # (tick, track_i, channel, program)
    first_cc: dict[tuple[int, int], int] = {}
    end_tick = 0
    per_track_events = []
    for ti, trk in enumerate(mid.tracks):
        tick = 0
        evs = []
        for msg in trk:
            tick += msg.time
            evs.append((tick, msg))
            if msg.type == "set_tempo":
                tempos[tick] = msg.tempo
            elif msg.type == "time_signature":
                time_sigs.append((tick, msg.numerator, msg.denominator))
            elif msg.type == "key_signature":
                key_sigs.append((tick, msg.key))
            elif msg.type == "text" and msg.text.startswith(_SCORE_TAG):
                try:
                    header = json.loads(msg.text[len(_SCORE_TAG):])
                    sc.check(_HEADER_SCHEMA, header, "header")
                except (ValueError, RecursionError) as err:   # SchemaError is a ValueError
                    header = None
                    warnings.append(f"damaged Robin Studio header ignored ({err})")
            elif msg.type == "text" and msg.text.startswith(_TRACK_TAG):
                try:
                    info = json.loads(msg.text[len(_TRACK_TAG):])
                    sc.check(_TRACK_SCHEMA, info, f"track {ti}")
                    track_infos[ti] = info
                except (ValueError, RecursionError) as err:
                    warnings.append(f"damaged Robin Studio track info ignored ({err})")
            elif msg.type == "track_name" and ti not in track_names:
                track_names[ti] = msg.name.strip()
            elif msg.type == "program_change":
                prog_changes.append((tick, ti, msg.channel, msg.program))
            elif msg.type == "control_change" and msg.control in (7, 10):
                # The first volume/pan a channel gets becomes the track's mix setting.
                first_cc.setdefault((msg.channel, msg.control), msg.value)
        end_tick = max(end_tick, tick)
        per_track_events.append(evs)
    prog_changes.sort()
    if len(tempos) > MAX_TEMPO_EVENTS:
        raise MediaError(f"{name} has {len(tempos):,} tempo changes; at most {MAX_TEMPO_EVENTS:,} are read.",
                         "Simplify the tempo track in your DAW and export again.")
    if header is not None and not track_infos:
        header = None      # a header without its tracks' info: read it like any other file

    lead_ticks = int(header.get("lead_ticks", 0)) if header else 0
    for ti, evs in enumerate(per_track_events):
        # Program state per channel replayed along this track's timeline.
        program_of = [0] * 16
        pc_iter = iter(prog_changes)
        pending = next(pc_iter, None)
        open_notes: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        last_tick = 0
        for tick, msg in evs:
            last_tick = tick
            while pending is not None and (pending[0] < tick or (pending[0] == tick and pending[1] <= ti)):
                program_of[pending[2]] = pending[3]
                pending = next(pc_iter, None)
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes[(msg.channel, msg.note)].append((tick, msg.velocity, program_of[msg.channel]))
            elif msg.type in ("note_off", "note_on"):
                stack = open_notes.get((msg.channel, msg.note))
                if stack:
                    on, vel, prog = stack.pop(0)
                    groups[(ti, msg.channel, prog)].append(_note(on, tick, msg.note, vel, tpb, lead_ticks))
        dangling = sum(len(v) for v in open_notes.values())
        if dangling:
            warnings.append(f"track {ti}: {dangling} note(s) never released; ended at the track end")
            for (ch, pitch), stack in open_notes.items():
                for on, vel, prog in stack:
                    groups[(ti, ch, prog)].append(_note(on, max(last_tick, on + 1), pitch, vel, tpb, lead_ticks))

    note_count = sum(len(v) for v in groups.values())
    if note_count > MAX_MIDI_NOTES:
        raise MediaError(f"{name} has {note_count:,} notes; at most {MAX_MIDI_NOTES:,} are read.",
                         "Split the piece into shorter files.")
    if not any(groups.values()):
        raise MediaError(f"{Path(source).name or 'The MIDI file'} holds no notes.",
                         "Choose a MIDI file with at least one note.")

    # Metre.
    time_sigs.sort()
    num, den = (time_sigs[0][1], time_sigs[0][2]) if time_sigs else (4, 4)
    distinct = []
    for t, n_, d_ in time_sigs:
        if not distinct or distinct[-1][1:] != (n_, d_):
            distinct.append((t, n_, d_))
    ours_short = bool(header and header["tempo_map"].get("short_bars"))
    if len(distinct) > 1 and not ours_short:          # (our short bars: read back below)
        warnings.append("metre changes: " + ", ".join(f"{n_}/{d_} at beat {(t - lead_ticks) / tpb:g}"
                                                       for t, n_, d_ in distinct) + "; bars use the first")
    quarters = num * 4 / den
    beats_per_bar = max(1, int(round(quarters)))
    if abs(quarters - beats_per_bar) > 1e-9:
        warnings.append(f"{num}/{den} bars are {quarters:g} quarter notes long; bars counted as {beats_per_bar} beats")

    # Tracks.
    keyed: list[tuple[int, Track]] = []
    if header is not None:
        # Our own file: one score track per MIDI track, exactly as written (even if empty).
        for ti, info in track_infos.items():
            notes = sorted(n for (gti, _, _), ns in groups.items() if gti == ti for n in ns)
            if info.get("performed"):
                notes = _restore_written(notes, info["performed"], tpb, lead_ticks)
            if info.get("pre_roll"):
                notes = _restore_pre_roll(notes, info["pre_roll"], tpb, lead_ticks)
            keyed.append((ti, Track(role=Role(info.get("role", "harmony")),
                                    program=int(info.get("program", 0)), notes=notes,
                                    name=str(info.get("name", "")),
                                    gain_db=float(info.get("gain_db", 0.0)),
                                    pan=float(info.get("pan", 0.0)))))
    for (ti, ch, prog), notes in groups.items():
        if not notes or (header is not None and ti in track_infos):
            continue
        notes.sort()
        role = guess_role(notes, prog, ch == DRUM_CHANNEL)
        vol, pan = first_cc.get((ch, 7)), first_cc.get((ch, 10))
        gain_db = 0.0 if vol is None else (40.0 * math.log10(vol / 100.0) if vol > 0 else -60.0)
        pan_f = 0.0 if pan is None else max(-1.0, min(1.0, (pan - 64) / 63.5))
        keyed.append((ti, Track(role=role, program=prog, notes=notes, name=track_names.get(ti, ""),
                                gain_db=round(gain_db, 2), pan=round(pan_f, 3))))
    if header is not None:
        tracks = [t for _, t in sorted(keyed, key=lambda kt: kt[0])]
    else:
        order = {r: i for i, r in enumerate(ROLES)}
        tracks = [t for _, t in sorted(keyed, key=lambda kt: (order[kt[1].role], kt[0]))]

    last_beat = max((n.end_beat for t in tracks for n in t.notes), default=float(beats_per_bar))
    if header is not None:
        tm = TempoMap.from_dict(header["tempo_map"])
        if tm.short_bars:          # written in the music's beats: back to the score's grid
            _, grid_of = music_beats(tm)
            for t in tracks:
                t.notes = sorted(Note(round(grid_of(n.start_beat), 6),
                                      round(grid_of(n.end_beat) - grid_of(n.start_beat), 6),
                                      n.pitch, n.velocity) for n in t.notes)
        tonic, mode = int(header["key_tonic"]), str(header["key_mode"])
        beats_per_bar = int(header.get("beats_per_bar", beats_per_bar))
        num, den = header.get("time_signature", (num, den))
    else:
        total = max(beats_per_bar, math.ceil(last_beat / beats_per_bar - 1e-9) * beats_per_bar)
        tm = _tempo_map_from_events(tempos, tpb, total, beats_per_bar, warnings)
        if key_sigs:
            key_sigs.sort()
            k = key_sigs[0][1]
            mode = "minor" if k.endswith("m") else "major"
            tonic = _KEY_TO_PC.get(k[:-1] if k.endswith("m") else k, 0)
        else:
            tonic, mode = estimate_key([n for t in tracks if not t.is_drums for n in t.notes])
    length_s = _playing_seconds(tm, last_beat) if tracks else 0.0
    if not math.isfinite(length_s) or length_s > MAX_MIDI_SECONDS:
        raise MediaError(f"{name} lasts {_minutes(length_s)}; at most {MAX_MIDI_SECONDS / 60:.0f} "
                         "minutes are rendered.",
                         "Split the piece into shorter files, or check its tempo and note lengths.")
    meta = {"source": source, "warnings": warnings, "midi_type": mid.type,
            "time_signatures": [(0.0 if t <= 0 else max(0.0, (t - lead_ticks) / tpb), n_, d_)
                                for t, n_, d_ in distinct]
            or [(0.0, 4, 4)],
            "tempo_changes": len(tempos)}
    if header is not None:
        # The piece's style and seed: its performance (score.expression) and its mix.
        meta.update({k: header[k] for k in ("style", "seed") if k in header})
    return Score(tempo_map=tm, tracks=tracks, key_tonic=tonic, key_mode=mode,
                 beats_per_bar=beats_per_bar, time_signature=(int(num), int(den)), meta=meta)


def _playing_seconds(tm: TempoMap, last_beat: float) -> float:
    """How long the piece sounds: to its last note or the end of its tempo map, whichever is
    later (our own header's tempo map may end before notes a hostile file added)."""
    return max(tm.seconds_at(last_beat), tm.seconds_at(tm.total_beats))


def playing_seconds(score: Score) -> float:
    """How long `score` sounds when rendered, in seconds."""
    last = max((n.end_beat for t in score.tracks for n in t.notes), default=0.0)
    return _playing_seconds(score.tempo_map, last)


def _minutes(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "forever"
    return f"{seconds / 3600:,.1f} hours" if seconds >= 3600 else f"{seconds / 60:.1f} minutes"


def _restore_written(notes: list[Note], performed: list, tpb: int, lead: int) -> list[Note]:
    """Our own file: the notes the performance changed (a repeat's velocity, a drummer's
    push or drag), back as the score wrote them. A note no longer in the file (edited in a
    DAW that kept our text events) is left as the file has it."""
    written: dict[tuple[int, int, int], list[tuple[int, int, int]]] = {}
    for tick, pitch, vel, w_on, w_off, w_vel in performed:
        written.setdefault((tick, pitch, vel), []).append((w_on, max(w_on + 1, w_off), w_vel))
    out = []
    for n in notes:
        was = written.get((round(n.start_beat * tpb), n.pitch, n.velocity))
        if was:
            w_on, w_off, w_vel = was.pop(0)
            n = Note(w_on / tpb, (w_off - w_on) / tpb, n.pitch, w_vel)
        out.append(n)
    return sorted(out)


def _restore_pre_roll(notes: list[Note], pre_roll: list, tpb: int, lead: int) -> list[Note]:
    """Our own file that starts mid-piece: the notes that start before it, exactly as the
    score had them, instead of their audible parts written at the file's start."""
    out = list(notes)
    for start, dur, pitch, vel in pre_roll:
        off = lead + int(round((start + dur) * tpb))
        if off > 0:
            written = _note(0, off, int(max(0, min(127, pitch))), int(max(1, min(127, vel))),
                            tpb, lead)
            if written in out:
                out.remove(written)
        out.append(Note(float(start), float(dur), int(pitch), int(vel)))
    return sorted(out)


def _note(on: int, off: int, pitch: int, vel: int, tpb: int, lead: int) -> Note:
    return Note(start_beat=(on - lead) / tpb, duration_beats=max(1, off - on) / tpb,
                pitch=int(pitch), velocity=int(vel))


def _tempo_map_from_events(tempos: dict[int, int], tpb: int, total_beats: float,
                           beats_per_bar: int, warnings: list[str]) -> TempoMap:
    changes = sorted((t / tpb, 60e6 / us) for t, us in tempos.items() if us > 0)
    if not changes or changes[0][0] > 0:
        changes.insert(0, (0.0, 120.0))
    changes = [c for c in changes if c[0] < total_beats] or [(0.0, 120.0)]
    merged = [changes[0]]
    for c in changes[1:]:
        if abs(c[1] - merged[-1][1]) > 1e-6:
            merged.append(c)
    changes = merged
    segs = []
    for i, (beat, bpm) in enumerate(changes):
        nxt = changes[i + 1][0] if i + 1 < len(changes) else total_beats
        segs.append(TempoSegment(beat, max(0.0, nxt - beat), bpm, bpm))
    if len(segs) > 1:
        warnings.append(f"{len(segs)} tempo changes ({min(s.start_bpm for s in segs):.1f}"
                        f"-{max(s.start_bpm for s in segs):.1f} bpm)")
    return TempoMap(segs, beats_per_bar=beats_per_bar)
