"""The engine's front door: `Scorer`. The CLI, the app and the tests all go through it.

    scorer = Scorer()                                   # the shipped model (or the baseline)
    analysis = scorer.analyze("clip.mp4")               # cached per file
    job = scorer.generate(analysis, "warm lo-fi piano, no drums", seed=3)
    for chunk in job:                                   # a few bars at a time, first one fast
        play(chunk.audio); draw(chunk.spectrogram)
    piece = job.result()                                # full score, mastered audio, takes
    job = scorer.regenerate(piece, 12.0, 18.5, seed=7)  # only those bars change
    for chunk in job: ...
    piece.undo(); piece.redo(); piece.select_take(0)    # every take is kept: A/B, undo
    scorer.export(piece, "out.mp4", video_path="clip.mp4")

`progress` callbacks everywhere are called as `progress(fraction_0_to_1, message)`.

Generation: the prompt is parsed (`intent.parse`), the tempo map solved from the cuts (an
explicit tempo narrows the solver's range to within 0.5 % of it), per-bar conditions are
built from the picture (`generate.conditions`), the arrangement fixes the tracks, sounds and key
(`generate.arrange`), and a `BarGenerator` writes bar after bar. Every few bars the new notes
are handed to the streaming synthesizer and a `Chunk` comes out.

Attack lead: the synthesizer starts slow-attack notes (strings, pads) up to
`sound.ATTACK_LOOKAHEAD_S` before their beat so they are heard on it. A streamed chunk's
audio therefore ends that long before the next chunk's first bar line (whose notes are not
written yet), and a region's audio starts that long before its first bar line.

Regeneration keeps everything outside the region bit-identical, in notes and in audio:
  - notes: only notes that start inside the region's bars are replaced; the new bars'
    notes are clipped at the region's end, so nothing new sounds after it except releases;
  - audio: the synthesizer is deterministic block by block, so a re-render of the new
    score equals the old dry mix up to the region start; it goes through the same live
    mastering chain with the same per-chunk loudness gains (restarted at a chunk boundary
    a few seconds before the region, by which time the restart is inaudible: -140 dB), and
    its audio is used from the region start to the end of a short tail window after the
    region (where the new notes' releases and reverb ring out, with a 30 ms fade back at
    its end); everywhere else the old audio stays, sample for sample.

Mastering: chunks go through `render.master.StreamingMaster` (room, bus compression, the
loudness curve planned from the controls and wishes before the first chunk, limiter; its base
level steered towards -14 LUFS plus the plan); `Piece.audio` is exactly the concatenation of
the chunks the listener heard, and the export brings the whole piece to -14 LUFS with one gain.

The generator sees an `Intent` with the key, mode and tempo resolved by the engine
(`key_tonic`/`key_mode` always set: generate in that key; `tempo_bpm` set), banned roles in
`exclude_roles` and roles carrying asked instruments in `include_roles`.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from robin_studio import paths
from robin_studio.analysis.types import VideoAnalysis
from robin_studio.errors import CancelledError, ModelFileError, RobinError
from robin_studio.generate import sound
from robin_studio.generate.arrange import Arrangement, build_arrangement, choose_key, implied_style
from robin_studio.generate.conditions import MUTE_KEY, build_controls, muted_roles
from robin_studio.generate.regions import REGION_TAIL_S, audio_edge_s, region_bars
from robin_studio.generate.takes import Take, TakeHistory
from robin_studio.intent.parse import parse_prompt
from robin_studio.intent.styles import STYLE_TEMPO_RANGE_BPM
from robin_studio.intent.types import Intent
from robin_studio.limits import check_number
from robin_studio.media.spool import release, spooled_zeros
from robin_studio.model.interface import BarGenerator, GeneratedBar
from robin_studio.score.controls import BarControls
from robin_studio.score.metre import fold_into_short_bar, written_offset
from robin_studio.score.types import ROLES, Note, Role, Score, Track
from robin_studio.timing.grid import landing_tolerance_s

Progress = Callable[[float, str], None]

SAMPLE_RATE = sound.SAMPLE_RATE
DEFAULT_BPM_RANGE = (72.0, 132.0)
EXPLICIT_TEMPO_TOLERANCE = 0.005  # "92 bpm" gives a tempo map within 0.5 % of 92
END_RELEASE_S = 0.45        # the final chord stops this long before the video ends...
END_FADE_S = 0.25           # ...and the last moments fade, so nothing is cut off mid-note
FIRST_CHUNK_BARS = 2        # the first chunk's length in bars (later ones: chunk_bars)
REGION_LEAD_S = 6.0         # a region re-render starts this long before it (see RegenerationJob)
NOTE_TAIL_S = 3.0           # how long a released note can still be heard
XFADE_S = 0.03              # at the end of that window, back onto the old audio


@dataclass
class GenerationSettings:
    tempo_bpm: float | None = None              # None = follow the prompt or the picture
    key_tonic: int | None = None                # pitch class; None = prompt or seed
    key_mode: str | None = None                 # "major"/"minor"; None = prompt or seed
    roles_on: dict[Role, bool] = field(default_factory=dict)   # per role on/off switches
    chunk_bars: int = 4
    seed: int | None = None                     # overrides generate(seed=)
    style: str | None = None                    # overrides the prompt's style
    hit_points: tuple = ()                      # timing.hits.HitPoint: moments the music must mark
    ignored_cuts_s: tuple = ()                  # cuts the creator demoted ("ignore this cut")


@dataclass
class Chunk:
    index: int
    bar_start: int
    bar_end: int                                 # exclusive
    start_s: float
    end_s: float
    audio: np.ndarray                            # float32 (n, 2) at `sample_rate`
    spectrogram: np.ndarray
    notes: dict[str, list[Note]]                 # role -> notes, absolute beats
    sample_rate: int = SAMPLE_RATE


@dataclass
class Piece:
    analysis: VideoAnalysis
    intent: Intent
    tempo_solution: object                       # timing.solver.TempoSolution
    score: Score
    audio: np.ndarray                            # mastered full mix, float32 (n, 2)
    sample_rate: int
    bars: list[GeneratedBar]
    controls: list[BarControls]
    takes: TakeHistory
    arrangement: Arrangement
    seed: int
    chunk_ends: list[int] = field(default_factory=list)       # sample where each chunk ended
    chunk_gains_db: list[float | None] = field(default_factory=list)  # live master gain per chunk
                                                 # (None: measured from the chunk, the first)
    generator_name: str = ""
    tempo_advice: str = ""       # when an asked tempo leaves cuts off the beat (`tempo_advice`)
    loudness_plan: object = None  # render.loudness_plan.LoudnessPlan the live master followed
    hit_points: list = field(default_factory=list)       # timing.hits.HitPoint, sorted
    ignored_cuts_s: list = field(default_factory=list)   # demoted cuts (no hit, no landing)

    def cut_times_s(self) -> list[float]:
        """The cuts the music marks (demoted ones left out) and the hit points, sorted."""
        return _marked_times_s(self.analysis, self.hit_points, self.ignored_cuts_s)

    @property
    def tempo_map(self):
        return self.score.tempo_map

    @property
    def duration_s(self) -> float:
        return self.analysis.duration_s

    def notes_by_role(self) -> dict[str, list[Note]]:
        return {t.role.value: list(t.notes) for t in self.score.tracks}

    # -- takes -------------------------------------------------------------------------
    # A take keeps its notes whole (small) but its audio as a patch on the take it was made
    # from (the region and its tail), so many takes of a 10-minute piece stay cheap.
    def _snapshot(self, audio_patch: tuple | None = None) -> dict:
        state = {"tracks": [replace(t, notes=list(t.notes)) for t in self.score.tracks],
                 "bars": list(self.bars), "controls": list(self.controls),
                 # (a re-timed take: moved hit points, a re-conformed cut, has its own timing)
                 "timing": (self.score.tempo_map, self.tempo_solution, self.analysis,
                            list(self.hit_points), list(self.ignored_cuts_s),
                            list(self.chunk_ends), list(self.chunk_gains_db))}
        if audio_patch is None:
            state["audio"] = self.audio
        else:
            state["audio_patch"] = audio_patch    # (parent take id, start sample, samples)
        return state

    def _take_audio(self, take: Take) -> np.ndarray:
        chain = [take]
        while "audio" not in chain[-1].state:
            parent = chain[-1].state["audio_patch"][0]
            chain.append(next(t for t in self.takes.takes if t.take_id == parent))
        audio = chain[-1].state["audio"]
        if len(chain) > 1:
            audio = audio.copy()
            for t in reversed(chain[:-1]):
                _, start, samples = t.state["audio_patch"]
                audio[start:start + len(samples)] = samples
        return audio

    def apply_current_take(self) -> Take:
        """Make the piece sound like `takes.current_take` (after undo/redo/select)."""
        take = self.takes.current_take
        st = take.state
        self.score.tracks = [replace(t, notes=list(t.notes)) for t in st["tracks"]]
        self.bars = list(st["bars"])
        self.controls = list(st["controls"])
        if "timing" in st:
            (self.score.tempo_map, self.tempo_solution, self.analysis, hits, ignored, ends,
             gains) = st["timing"]
            self.hit_points, self.ignored_cuts_s = list(hits), list(ignored)
            self.chunk_ends, self.chunk_gains_db = list(ends), list(gains)
        self.audio = self._take_audio(take)
        return take

    def undo(self) -> Take:
        self.takes.undo()
        return self.apply_current_take()

    def redo(self) -> Take:
        self.takes.redo()
        return self.apply_current_take()

    def select_take(self, take_id: int) -> Take:
        self.takes.select(take_id)
        return self.apply_current_take()


def _resolve_generator(models_dir: Path) -> tuple[BarGenerator, str]:
    """The shipped ONNX model when its weights are shipped; the naive-loop baseline only when
    no generator weights exist at all. Missing or damaged weights raise ModelFileError: the
    engine never falls back silently on a broken install."""
    try:
        from robin_studio.model.runtime import RUNTIME_FILES, OnnxBarGenerator
    except ImportError as err:
        raise ModelFileError(f"The model runtime could not be loaded: {err}",
                             "Reinstall Robin Studio (bash installers/setup.sh).") from err
    manifest = models_dir / "manifest.json"
    listed: set[str] = set()
    if manifest.exists():
        try:
            listed = {f["file"] for f in json.loads(manifest.read_text())["files"]}
        except (ValueError, KeyError, TypeError) as err:
            raise ModelFileError(f"The model manifest {manifest} is damaged ({err}).",
                                 "Reinstall Robin Studio, or rebuild the weights with: "
                                 "robin-studio train") from None
    if listed & set(RUNTIME_FILES) or any((models_dir / f).exists() for f in RUNTIME_FILES):
        return OnnxBarGenerator.load(models_dir), "model"
    from robin_studio.generate.baseline import NaiveLoopGenerator
    return NaiveLoopGenerator(), "naive-loop baseline (no trained model in models/)"


class Scorer:
    """Analyse a clip, generate music for it in chunks, regenerate regions, export."""

    def __init__(self, models_dir: str | Path | None = None, soundfont: str | Path | None = None,
                 generator: BarGenerator | None = None, spool_dir: str | Path | None = None) -> None:
        self.models_dir = Path(models_dir) if models_dir else paths.models_dir()
        self.soundfont = soundfont
        # A folder for the pieces' audio (media.spool): held in a temporary file there rather
        # than in memory, for runs that only write the piece out (`score`: an hour is 1.4 GB).
        self.spool_dir = spool_dir
        self._generator = generator
        self._generator_name = getattr(generator, "name", type(generator).__name__) if generator else ""
        self._lock = threading.Lock()

    @property
    def generator(self) -> BarGenerator:
        with self._lock:
            if self._generator is None:
                self._generator, self._generator_name = _resolve_generator(self.models_dir)
            return self._generator

    def warm_up(self) -> None:
        """Load what the first chunk would otherwise wait for: the SoundFont, the level trim
        of every program the arrangement can choose (measured now, so that measuring one
        later never loads a second copy of the bank mid-generation), the text encoder, the
        prompt rules, the spectrogram's filters and the generator. The app calls it in the
        background at start-up; it takes a few seconds."""
        from robin_studio.generate.arrange import FALLBACK_PROGRAMS
        from robin_studio.intent.instruments import INSTRUMENTS
        from robin_studio.intent.text_encoder import warm_up as warm_text
        from robin_studio.render.palettes import all_programs
        from robin_studio.render.synth import load_synth

        self.generator  # noqa: B018
        synth = load_synth(self.soundfont)
        wanted = set(all_programs())
        wanted |= {(r, p) for r, ps in FALLBACK_PROGRAMS.items() if r != Role.DRUMS for p in ps}
        wanted |= {(r, p) for spec in INSTRUMENTS.values() for r in spec.roles if r != Role.DRUMS
                   for p in spec.programs}
        for role, program in sorted(wanted, key=lambda rp: (rp[0].value, rp[1])):
            synth.trim_db(program, role == Role.DRUMS, role)
        sound.warm_second_banks(self.soundfont)
        warm_text()
        parse_prompt("warm up at 90 bpm, no drums until the title card", embed=False)
        _spectrogram(np.zeros((4096, 2), np.float32))

    @property
    def generator_name(self) -> str:
        self.generator  # noqa: B018 -- resolve it
        return self._generator_name

    # -- analysis ------------------------------------------------------------------------
    def analyze(self, video_path: str | Path, progress: Progress | None = None,
                use_cache: bool = True) -> VideoAnalysis:
        """Shots, cuts, motion, labels and sections of a clip (cached per file content);
        raises MediaError with what to do when the file cannot be used."""
        from robin_studio.analysis.analyze import analyze_video
        from robin_studio.generate.conditions import shot_embeddings

        analysis = analyze_video(str(video_path), progress=progress, use_cache=use_cache)
        shot_embeddings(analysis)   # shot semantics ready before the first chunk is asked for
        return analysis

    # -- generation ----------------------------------------------------------------------
    def generate(self, analysis: VideoAnalysis, prompt: str = "", *, seed: int = 0,
                 settings: GenerationSettings | None = None,
                 progress: Progress | None = None) -> "GenerationJob":
        settings = settings or GenerationSettings()
        if settings.seed is not None:
            seed = settings.seed
        return GenerationJob(self, analysis, prompt or "", int(seed), settings, progress)

    def regenerate(self, piece: Piece, start_s: float, end_s: float, *, seed: int | None = None,
                   prompt: str | None = None, progress: Progress | None = None) -> "RegenerationJob":
        return RegenerationJob(self, piece, float(start_s), float(end_s), seed, prompt, progress)

    # -- export --------------------------------------------------------------------------
    def export(self, piece: Piece, out_path: str | Path, *, video_path: str | Path | None = None,
               kind: str = "mp4", music_gain_db: float = 0.0, original_gain_db: float | None = None,
               duck: bool = False, progress: Progress | None = None,
               cancel: Callable[[], bool] | None = None, overwrite: bool = False) -> Path:
        """Write `piece` as kind "mp4" (with the clip's picture), "wav", "stems" (a folder of
        one WAV per track) or "midi". Never replaces an existing file unless `overwrite`."""
        from robin_studio.generate.exporting import export_piece

        return export_piece(piece, out_path, video_path=video_path, kind=kind,
                            music_gain_db=music_gain_db, original_gain_db=original_gain_db,
                            duck=duck, progress=progress, cancel=cancel, overwrite=overwrite)


# -- shared helpers ------------------------------------------------------------------------
def _solve_tempo(analysis: VideoAnalysis, intent: Intent, settings: GenerationSettings):
    from robin_studio.timing.solver import cut_marks_from_transitions, solve_tempo_map

    dur = float(analysis.duration_s)
    asked = settings.tempo_bpm or intent.tempo_bpm
    style = settings.style or implied_style(intent)      # "808s and hi-hats": trap's tempi
    bpm_range = intent.tempo_range_bpm or STYLE_TEMPO_RANGE_BPM.get(style or "", DEFAULT_BPM_RANGE)
    if asked:
        # An asked tempo is held within 0.5 % (the solver's own fixed-tempo mode allows 2 %,
        # and the ear, or librosa, must hear the tempo that was asked); cuts the grid then
        # misses still get their hit, exactly where they fall.
        bpm_range = (float(asked) * (1 - EXPLICIT_TEMPO_TOLERANCE), float(asked) * (1 + EXPLICIT_TEMPO_TOLERANCE))
    from robin_studio.timing.hits import hit_cut_marks, is_ignored

    transitions = [t for t in analysis.transitions if 0.0 < t.time_s < dur
                   and not is_ignored(t.time_s, settings.ignored_cuts_s)]
    cuts = cut_marks_from_transitions(transitions) + hit_cut_marks(_hits(intent, settings, dur))
    starts = [s.start_s for s in analysis.sections[1:]] if analysis.sections else []
    # Same clip, same tempo wish: same answer. Another seed or prompt wording reuses it
    # (the search takes about a second of CPU on a 10-minute clip).
    key = (analysis.content_key, dur, tuple((c.time_s, c.strength, c.hit) for c in cuts), tuple(starts),
           tuple(map(float, bpm_range)))
    solution = _TEMPO_CACHE.get(key)
    if solution is None:
        solution = solve_tempo_map(cuts, dur, bpm_range=tuple(map(float, bpm_range)),
                                   section_starts_s=starts, frame_s=_frame_s(analysis))
        if len(_TEMPO_CACHE) > 64:
            _TEMPO_CACHE.clear()
        _TEMPO_CACHE[key] = solution
    return solution


_TEMPO_CACHE: dict[tuple, object] = {}


def _hits(intent: Intent, settings: GenerationSettings, duration_s: float) -> list:
    """The hit points of the settings (CLI, app) and the prompt ("hit at 0:12.4"), checked."""
    from robin_studio.timing.hits import HitPoint, check_hits

    asked = list(settings.hit_points) + [HitPoint(float(t), bool(strong))
                                         for t, strong in getattr(intent, "hit_points", ())]
    return check_hits(asked, duration_s)


def _marked_times_s(analysis: VideoAnalysis, hit_points, ignored_cuts_s) -> list[float]:
    """Cut times the music marks (demoted cuts left out) plus the hit points, sorted: the
    moments humanising must not move."""
    from robin_studio.timing.hits import is_ignored

    dur = analysis.duration_s
    return sorted([t.time_s for t in analysis.transitions if 0.0 < t.time_s < dur
                   and not is_ignored(t.time_s, ignored_cuts_s)]
                  + [h.time_s for h in hit_points])


def tempo_advice(analysis: VideoAnalysis, intent: Intent, settings: GenerationSettings,
                 solution) -> str:
    """What an asked tempo costs the picture, in a sentence for the creator ("" if nothing).

    A fixed tempo cannot bend to irregular cuts: most fall between beats (they still get an
    accent exactly where they fall). The creator can only choose knowingly if told how many,
    and what the same clip gives with the tempo left free to follow the picture.
    """
    asked = settings.tempo_bpm or intent.tempo_bpm
    residuals = list(solution.residuals_s)
    if not asked or not residuals:
        return ""
    tol = landing_tolerance_s(_frame_s(analysis)) + 1e-9
    landed = sum(abs(r) <= tol for r in residuals)
    if landed == len(residuals):
        return ""
    n = len(residuals)
    text = (f"At {float(asked):g} bpm, {landed} of the {n} cut{'s' if n != 1 else ''} "
            f"{'is' if landed == 1 else 'are'} on a beat; the others get an accent exactly where "
            f"they fall.")
    free = _solve_tempo(analysis, replace(intent, tempo_bpm=None), replace(settings, tempo_bpm=None))
    free_landed = sum(abs(r) <= tol for r in free.residuals_s)
    if free_landed > landed:
        text += (f" Leave the tempo out and the music follows the picture: {free_landed} of {n} "
                 f"on beats, at about {free.tempo_map.mean_bpm():.0f} bpm.")
    return text


def _frame_s(analysis: VideoAnalysis) -> float | None:
    # Cut times are whole frames: half a frame off a beat is on it (fewer tempo changes).
    return 1.0 / analysis.fps if analysis.fps and analysis.fps > 0 else None


def _n_samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def _fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32).reshape(-1, 2)
    if audio.shape[0] >= n:
        return audio[:n]
    return np.concatenate([audio, np.zeros((n - audio.shape[0], 2), np.float32)])


def _end_fade(audio: np.ndarray) -> np.ndarray:
    n = min(audio.shape[0], _n_samples(END_FADE_S))
    if n > 1:
        audio = audio.copy()
        audio[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)[:, None] ** 2
    return audio


class _BarWriter:
    """Turns generated bars into score notes, obeying the arrangement and the ending."""

    def __init__(self, score: Score, arrangement: Arrangement, duration_s: float) -> None:
        self.score = score
        self.arrangement = arrangement
        self.tracks = {t.role: t for t in score.tracks}
        tm = score.tempo_map
        self.end_beat = tm.total_beats
        self.final_bar = max(0, score.total_bars - 1)
        # (The music sounds from max(0, offset_s): a first bar cut in starts before 0 s.)
        self.release_beat = tm.beat_at(max(0.0, tm.offset_s, duration_s - END_RELEASE_S))
        self.last_sounding: dict = {}     # the last bar that had notes (as generated)
        self.seed = 0                     # the job's seed: the idioms' choices follow it

    def _seconds_per_beat(self, bar_index: int) -> float:
        """Of the music's beats (a short bar's grid beats are shorter)."""
        tm = self.score.tempo_map
        return max(1e-3, (tm.bar_start_s(bar_index + 1) - tm.bar_start_s(bar_index)) / tm.bar_beats(bar_index))

    def bar_notes(self, bar: GeneratedBar, controls: BarControls,
                  clip_end_beat: float | None = None) -> dict[Role, list[Note]]:
        spb = self._seconds_per_beat(bar.bar_index)
        from robin_studio.generate.hitpoints import realise_bar   # (the harmony moves to strong hit points)

        written = realise_bar(self.arrangement, bar.bar_index, bar.notes, controls, self.seed, spb)
        notes = self.arrangement.apply_bar(written, controls)
        if any(notes.values()):
            self.last_sounding = written
        else:
            # No silent bars unless asked: a generator that returns an empty bar where the
            # music should play gets the last sounding bar again (as a player would vamp).
            muted = muted_roles(controls)
            playing = [r for r in self.arrangement.tracks if r.value not in muted]
            if playing and controls.energy > 0.05 and self.last_sounding:
                notes = self.arrangement.apply_bar(self.last_sounding, controls)
            elif playing and controls.energy > 0.05:
                # Nothing has sounded yet (the model opened with rests): hold the tonic chord
                # softly, as a player sustains the key until the tune comes in.
                held = self.arrangement.ending_bar(self.score.beats_per_bar, self.score.beats_per_bar,
                                                   velocity=int(45 + 35 * controls.energy))
                notes = self.arrangement.apply_bar(
                    {r: ns for r, ns in held.items() if r not in (Role.DRUMS, Role.MELODY)}, controls)
        bpb = self.score.beats_per_bar
        b0 = bar.bar_index * bpb
        if bar.bar_index == self.final_bar:
            ring = self.release_beat - b0
            ending = self.arrangement.ending_bar(bpb, ring)
            muted = muted_roles(controls)
            notes = {r: ns for r, ns in ending.items() if r.value not in muted}
        else:
            notes = self.arrangement.pulse(notes, bpb, controls)
        notes = self.arrangement.hit_points(notes, controls)
        notes = self.arrangement.settle(bar.bar_index, notes, spb)
        short = self.score.tempo_map.short_bars.get(bar.bar_index)
        if short:                # a 2/4 bar of a re-edit: the bar's last beats, at the music's tempo
            notes = fold_into_short_bar(notes, short, bpb, written_offset(short, bpb), carry=True)
        limit = min(self.release_beat if bar.bar_index == self.final_bar else self.end_beat,
                    clip_end_beat if clip_end_beat is not None else math.inf)
        out: dict[Role, list[Note]] = {}
        for role, ns in notes.items():
            kept = []
            for n in ns:
                start = b0 + max(0.0, n.start_beat)
                if start >= limit - 1e-6:
                    continue
                dur = min(n.duration_beats, limit - start)
                kept.append(Note(round(start, 6), round(dur, 6), n.pitch, n.velocity))
            out[role] = kept
        # No pitched note shorter than a click (hit re-strikes, clipped ends).
        from robin_studio.generate.idioms import enforce_min_length
        return enforce_min_length(out, spb, room_beats=limit)

    def add(self, notes: dict[Role, list[Note]], bar_index: int, seed: int,
            cuts_s: list[float]) -> dict[Role, list[Note]]:
        """Humanise one bar's notes (timing and velocity, as players would) and add them to
        the score; returns what was added. Notes on cuts and on the bar lines stay exactly
        where they are, so nothing lands before a chunk that has already been rendered."""
        played = _humanise_bar(self.score, notes, bar_index, seed, cuts_s)
        for role, ns in played.items():
            track = self.tracks.get(role)
            if track is not None:
                track.notes.extend(ns)
        return played


def _humanise_bar(score: Score, notes: dict[Role, list[Note]], bar_index: int, seed: int,
                  cuts_s: list[float]) -> dict[Role, list[Note]]:
    from robin_studio.render.humanise import humanise

    tm = score.tempo_map
    a, b = tm.bar_start_s(bar_index), tm.bar_start_s(bar_index + 1)
    protect = [a, b] + [t for t in cuts_s if a - 0.05 <= t <= b + 0.05]
    mini = Score(tempo_map=tm, tracks=[Track(role=r, notes=sorted(ns)) for r, ns in notes.items()],
                 beats_per_bar=score.beats_per_bar)
    out = humanise(mini, protected_times_s=protect, seed=(int(seed) * 1_000_003 + bar_index) % 2**32,
                   ghost_notes=True)
    return {t.role: list(t.notes) for t in out.tracks}


def _generator_intent(intent: Intent, arrangement: Arrangement, tempo_bpm: float | None,
                      settings: GenerationSettings) -> Intent:
    """The intent as the generator sees it: key, mode and tempo resolved by the engine."""
    g = copy.copy(intent)
    g.key_tonic, g.key_mode = arrangement.tonic, arrangement.mode
    g.tempo_bpm = tempo_bpm
    # The style the piece is played in (asked, implied by an instrument or a mood, or the
    # picture's choice), so the model writes in the style the arranger plays.
    g.style = arrangement.style
    off = set(intent.exclude_roles) | {r for r, on in settings.roles_on.items() if not on}
    if intent.exclusive_instruments:   # "solo piano": the roles that will not sound are off
        off |= {r for r in ROLES if r not in arrangement.tracks}
    g.exclude_roles = off
    # Roles that play an instrument the prompt asked for are "on" for the model.
    g.include_roles = (set(intent.include_roles) | set(arrangement.asked_roles)) - off
    return g


def _spectrogram(audio: np.ndarray) -> np.ndarray:
    return sound.spectrogram(audio, SAMPLE_RATE)


# -- streaming generation ------------------------------------------------------------------
class GenerationJob:
    """Iterate for `Chunk`s (a few bars each); `cancel()` stops between chunks; `result()`."""

    def __init__(self, scorer: Scorer, analysis: VideoAnalysis, prompt: str, seed: int,
                 settings: GenerationSettings, progress: Progress | None) -> None:
        self.scorer = scorer
        self.analysis = analysis
        self.prompt = prompt
        self.seed = seed
        self.settings = settings
        self.progress = progress
        self._cancel = threading.Event()
        self._piece: Piece | None = None
        self._iterator: Iterator[Chunk] | None = None
        self.chunks_done = 0
        self.timings_s: list[float] = []   # wall time at which each chunk was ready

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def __iter__(self) -> Iterator[Chunk]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def result(self) -> Piece:
        """The finished piece (runs the remaining chunks first if they were not iterated)."""
        if self._piece is None:
            for _ in self:
                pass
        if self._piece is None:
            raise CancelledError("Generation was cancelled before it finished.",
                                 "Start it again to get the whole piece.")
        return self._piece

    def _report(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(float(min(1.0, max(0.0, fraction))), message)

    def _run(self) -> Iterator[Chunk]:
        t0 = time.perf_counter()
        analysis, settings = self.analysis, self.settings
        dur = float(analysis.duration_s)
        if not dur > 0:
            raise RobinError("The clip has no length, so there is nothing to score.",
                             "Open a video that plays for at least a second.")
        check_number("tempo", settings.tempo_bpm, "the tempo")   # 0, NaN or 1e9 bpm: refused
        generator = self.scorer.generator
        self._report(0.0, "reading the prompt")
        intent = parse_prompt(self.prompt)
        solution = _solve_tempo(analysis, intent, settings)
        tm = solution.tempo_map
        key = choose_key(intent, self.seed)
        if settings.key_tonic is not None:
            key = (int(settings.key_tonic) % 12, key[1])
        if settings.key_mode in ("major", "minor"):
            key = (key[0], settings.key_mode)
        hits = _hits(intent, settings, dur)
        ignored = sorted(float(t) for t in settings.ignored_cuts_s)
        controls = build_controls(analysis, tm, intent, hit_points=hits, ignored_cuts_s=ignored)
        # A prompt that says nothing of what to play gets its style from the picture's energy.
        arrangement = build_arrangement(intent, self.seed, style=settings.style,
                                        roles_on=settings.roles_on or None, key=key,
                                        picture_energy=float(np.mean([c.energy for c in controls])))
        if settings.key_mode in ("major", "minor"):
            arrangement.snap_mode = True
        if settings.tempo_bpm:
            arrangement.keep_pulse = True
        score = Score(tempo_map=tm, tracks=arrangement.new_tracks(), key_tonic=arrangement.tonic,
                      key_mode=arrangement.mode, beats_per_bar=tm.beats_per_bar,
                      # the style: the synth's per-style playing (sidechain, drum feel); the
                      # seed: the performance's (score.expression), kept by regenerations
                      meta={"style": arrangement.style, "seed": int(self.seed)})
        arrangement.plan_idioms(controls, self.seed, tm.beats_per_bar)
        writer = _BarWriter(score, arrangement, dur)
        writer.seed = self.seed
        cuts_s = _marked_times_s(analysis, hits, ignored)
        fixed = settings.tempo_bpm or intent.tempo_bpm
        g_intent = _generator_intent(intent, arrangement, fixed or tm.mean_bpm(), settings)
        stream = generator.start(g_intent, self.seed)
        # Before the renderer takes the synth: measuring the reference level needs it too, and
        # a second synth state would mean loading the SoundFont again.
        reference_gain_db = _reference_gain_db(score, arrangement, self.scorer.soundfont)
        renderer = sound.make_renderer(score, self.scorer.soundfont)

        n_bars = len(controls)
        step = max(1, int(settings.chunk_bars))
        bars: list[GeneratedBar] = []
        total_n = _n_samples(dur)
        spool_dir = getattr(self.scorer, "spool_dir", None)
        # filled chunk by chunk (no copies); on disk when the scorer spools
        audio_full = (spooled_zeros(total_n, 2, spool_dir) if spool_dir is not None
                      else np.zeros((total_n, 2), np.float32))
        bounds: list[int] = []
        gains_db: list[float | None] = []
        rendered_n = 0
        # The loudness curve is planned now, before the first chunk (issue 14, item 6).
        plan = sound.loudness_plan(controls, tm, intent, analysis, arrangement.form_energies(controls))
        live = sound.streaming_master(arrangement.style, plan)
        live.gain_db = reference_gain_db
        index = 0
        try:
            # The first chunk is short (at most FIRST_CHUNK_BARS) so that music starts at once.
            edges = [0, min(n_bars, FIRST_CHUNK_BARS, step)]
            while edges[-1] < n_bars:
                edges.append(min(n_bars, edges[-1] + step))
            for b0, b1 in zip(edges, edges[1:]):
                if self._cancel.is_set():
                    return
                chunk_notes: dict[str, list[Note]] = {}
                for i in range(b0, b1):
                    gb = stream.next_bar(controls[i])
                    gb = GeneratedBar(i, gb.latent, gb.notes)
                    notes = writer.bar_notes(gb, controls[i])
                    played = writer.add(notes, i, self.seed, cuts_s)
                    rel = {r: [Note(n.start_beat - i * tm.beats_per_bar, n.duration_beats, n.pitch,
                                    n.velocity) for n in ns] for r, ns in notes.items()}
                    bars.append(GeneratedBar(i, np.asarray(gb.latent, np.float32), rel))
                    for r, ns in played.items():
                        chunk_notes.setdefault(r.value, []).extend(ns)
                # Only this chunk's notes go to the renderer: notes already struck keep ringing
                # inside it, and re-reading the whole score each chunk would grow quadratically.
                by_role = {Role(r): ns for r, ns in chunk_notes.items()}
                renderer.update_score(replace(score, tracks=[
                    replace(t, notes=sorted(by_role.get(t.role, []))) for t in score.tracks]))
                end_s = dur if b1 >= n_bars else _audio_edge_s(tm, b1)
                end_n = total_n if b1 >= n_bars else min(total_n, _n_samples(end_s))
                raw = np.asarray(renderer.render_until(end_n / SAMPLE_RATE), dtype=np.float32).reshape(-1, 2)
                raw = _fit_length(raw, max(0, end_n - rendered_n))
                start_s = rendered_n / SAMPLE_RATE
                rendered_n = end_n
                gains_db.append(live.gain_db)        # the gain this chunk is mastered with
                audio = live.process(raw) if raw.size else raw
                bounds.append(end_n)
                if b1 >= n_bars:
                    audio = _end_fade(audio)
                audio_full[end_n - audio.shape[0]:end_n] = audio
                release(audio_full, end_n - audio.shape[0], end_n)   # (spooled: out of memory)
                chunk = Chunk(index, b0, b1, start_s, end_s, audio, _spectrogram(audio), chunk_notes)
                index += 1
                self.chunks_done = index
                self.timings_s.append(time.perf_counter() - t0)
                self._report(b1 / n_bars, f"bar {b1} of {n_bars}")
                yield chunk
        finally:
            renderer.close()

        takes = TakeHistory()
        piece = Piece(analysis=analysis, intent=intent, tempo_solution=solution, score=score,
                      audio=audio_full, sample_rate=SAMPLE_RATE, bars=bars, controls=controls,
                      takes=takes, arrangement=arrangement, seed=self.seed,
                      generator_name=self.scorer.generator_name, chunk_ends=bounds,
                      chunk_gains_db=gains_db,
                      tempo_advice=tempo_advice(analysis, intent, settings, solution),
                      hit_points=hits, ignored_cuts_s=ignored, loudness_plan=plan)
        takes.add(Take(0, 0, n_bars, 0.0, dur, self.seed, self.prompt, piece._snapshot(), "original"))
        self._report(1.0, "done")
        self._piece = piece


_audio_edge_s = audio_edge_s    # (generate.regions) where a bar's audio may begin


def _reference_gain_db(score: Score, arrangement: Arrangement, soundfont) -> float | None:
    """The live master's starting gain, from two bars of the naive loop played by this
    piece's tracks at a moderate level (100 bpm, C major), not from the piece's own first
    chunk: a piece that opens quietly ("quiet for the first 10 seconds") must not be turned
    up to full loudness. Cached per set of tracks."""
    from robin_studio.generate.baseline import NaiveLoopGenerator
    from robin_studio.score.tempo_map import TempoMap

    key = (arrangement.style, tuple((t.role, t.program, t.gain_db, t.pan) for t in score.tracks),
           str(soundfont), sound.chain())
    if key in _REFERENCE_GAINS:
        return _REFERENCE_GAINS[key]
    tm = TempoMap.constant(100.0, 8)
    stream = NaiveLoopGenerator().start(Intent(key_tonic=0, key_mode="major"), 0)
    ref = Score(tempo_map=tm, tracks=[replace(t, notes=[]) for t in score.tracks])
    by_role = {t.role: t for t in ref.tracks}
    for i in range(2):
        bar = stream.next_bar(BarControls(bar_index=i, energy=0.6))
        for role, notes in arrangement.apply_bar(bar.notes, None).items():
            by_role[role].notes += [replace(n, start_beat=n.start_beat + 4 * i) for n in notes]
    dry = sound.render_full(ref, tm.seconds_at(8), soundfont)
    probe = sound.streaming_master(arrangement.style)
    probe.process(dry)
    gain = probe.gain_db if probe.gain_db is not None and math.isfinite(probe.gain_db) else None
    _REFERENCE_GAINS[key] = gain
    return gain


_REFERENCE_GAINS: dict[tuple, float | None] = {}


def _remaster(piece: "Piece", raw: np.ndarray, upto_n: int, first_chunk: int = 0) -> np.ndarray:
    """Run the live mastering chain again over `raw[:upto_n]`, chunk by chunk on the same
    boundaries and with the same loudness gains as the first take. Every stage is causal
    and deterministic, so the output equals the old audio wherever the input does, up to
    the first changed sample (when started at chunk 0). Output before `first_chunk` is zero."""
    plan = piece.loudness_plan
    if plan is None:
        plan = sound.loudness_plan(piece.controls, piece.score.tempo_map, piece.intent, piece.analysis,
                                   piece.arrangement.form_energies(piece.controls))
    live = sound.streaming_master(piece.arrangement.style, plan)
    out = np.zeros((upto_n, 2), np.float32)
    starts = [0, *piece.chunk_ends[:-1]]
    for k, (start, end, gain) in enumerate(zip(starts, piece.chunk_ends, piece.chunk_gains_db)):
        if start >= upto_n:
            break
        if k < first_chunk:
            continue
        live.gain_db = gain                      # the old gain path, not a re-steered one
        live.position_n = start                  # where the loudness plan is read
        chunk = live.process(raw[start:end])     # whole chunks, so the chain's state matches
        n = min(end, upto_n) - start
        out[start:start + n] = chunk[:n]
    return out


# -- region regeneration -------------------------------------------------------------------
class RegenerationJob(GenerationJob):
    """Regenerate the bars covering [start_s, end_s) of `piece`; iterate for chunks of the
    region, then `result()` is the same `Piece`, updated, with a new take."""

    def __init__(self, scorer: Scorer, piece: Piece, start_s: float, end_s: float,
                 seed: int | None, prompt: str | None, progress: Progress | None) -> None:
        super().__init__(scorer, piece.analysis, prompt if prompt is not None else piece.intent.prompt,
                         0, GenerationSettings(), progress)
        self.piece = piece
        self.start_s, self.end_s = sorted((start_s, end_s))
        self.new_prompt = prompt
        n_takes = len(piece.takes)
        self.seed = int(seed) if seed is not None else int(piece.seed) + 1000 * n_takes + 1
        # The same bars the app's selection snaps to (generate.regions).
        self.bar_start, self.bar_end = region_bars(piece.score.tempo_map, self.start_s, self.end_s,
                                                   piece.duration_s, len(piece.controls))

    def _run(self) -> Iterator[Chunk]:
        t0 = time.perf_counter()
        piece = self.piece
        score = piece.score
        tm = score.tempo_map
        bpb = tm.beats_per_bar
        r0, r1 = self.bar_start, self.bar_end
        n_bars = len(piece.controls)
        dur = piece.duration_s
        generator = self.scorer.generator

        intent = piece.intent
        controls = list(piece.controls)
        if self.new_prompt is not None and self.new_prompt != piece.intent.prompt:
            intent = parse_prompt(self.new_prompt)
            region_controls = build_controls(piece.analysis, tm, intent, hit_points=piece.hit_points,
                                             ignored_cuts_s=piece.ignored_cuts_s)
            for i in range(r0, r1):
                c = region_controls[i]
                if intent.exclude_roles:
                    mutes = muted_roles(c) | {r.value for r in intent.exclude_roles}
                    c.extra[MUTE_KEY] = sorted(mutes)
                controls[i] = c
        arrangement = piece.arrangement
        fixed = intent.tempo_bpm or piece.intent.tempo_bpm
        g_intent = _generator_intent(intent, arrangement, fixed or tm.mean_bpm(), GenerationSettings())
        stream = generator.start(g_intent, self.seed, prefix=piece.bars[:r0],
                                 prefix_controls=controls[:r0])

        new_score = Score(tempo_map=tm, tracks=[replace(t, notes=[]) for t in score.tracks],
                          key_tonic=score.key_tonic, key_mode=score.key_mode, beats_per_bar=bpb,
                          time_signature=score.time_signature, meta=dict(score.meta))
        beat0, beat1 = r0 * bpb, r1 * bpb
        for old, new in zip(score.tracks, new_score.tracks):
            new.notes = [n for n in old.notes if not (beat0 - 1e-6 <= n.start_beat < beat1 - 1e-6)]
        writer = _BarWriter(new_score, arrangement, dur)
        writer.seed = self.seed
        if r0 > 0:
            writer.last_sounding = piece.bars[r0 - 1].notes
        cuts_s = piece.cut_times_s()
        clip_end = beat1 if r1 < n_bars else None
        new_bars = list(piece.bars)
        step = max(1, int(self.settings.chunk_bars))
        chunks_notes: list[tuple[int, int, dict[str, list[Note]]]] = []
        for c0 in range(r0, r1, step):
            if self._cancel.is_set():
                return
            c1 = min(r1, c0 + step)
            notes_out: dict[str, list[Note]] = {}
            for i in range(c0, c1):
                right = piece.bars[r1] if (i == r1 - 1 and r1 < n_bars) else None
                gb = stream.next_bar(controls[i], right_context=right)
                gb = GeneratedBar(i, gb.latent, gb.notes)
                notes = writer.bar_notes(gb, controls[i], clip_end_beat=clip_end)
                played = writer.add(notes, i, self.seed, cuts_s)
                rel = {r: [Note(n.start_beat - i * bpb, n.duration_beats, n.pitch, n.velocity)
                           for n in ns] for r, ns in notes.items()}
                new_bars[i] = GeneratedBar(i, np.asarray(gb.latent, np.float32), rel)
                for r, ns in played.items():
                    notes_out.setdefault(r.value, []).extend(ns)
            chunks_notes.append((c0, c1, notes_out))
            self._report(0.6 * (c1 - r0) / max(1, r1 - r0), f"bar {c1} of {r1}")
        for t in new_score.tracks:
            t.notes.sort()

        # Audio: re-render up to the end of the tail window, splice where the region's first
        # notes may start to sound (their attack lead before its first bar line).
        a_s = _audio_edge_s(tm, r0) if r0 > 0 else 0.0
        a_n = _n_samples(a_s)
        total_n = piece.audio.shape[0]
        w_s = dur if r1 >= n_bars else min(dur, tm.bar_start_s(r1) + REGION_TAIL_S)
        w_n = min(total_n, _n_samples(w_s))
        # The new score's dry mix equals the old one before the region (same notes, and the
        # synth is deterministic block by block). It is rendered from a chunk boundary at
        # least REGION_LEAD_S before the region (only the notes that can still sound from
        # there on), and the live mastering chain restarts at that boundary with the old
        # gains: by the region start its reverb and compressor have forgotten the restart
        # (far below audibility), and a long piece regenerates as fast as a short one.
        k0 = max((k for k, e in enumerate(piece.chunk_ends) if e <= a_n - _n_samples(REGION_LEAD_S)),
                 default=-1) + 1
        start_n = piece.chunk_ends[k0 - 1] if k0 > 0 else 0
        render_score = new_score
        if start_n > 0:
            from_s = start_n / SAMPLE_RATE - NOTE_TAIL_S
            render_score = replace(new_score, tracks=[
                replace(t, notes=[n for n in t.notes if tm.seconds_at(n.end_beat) > from_s])
                for t in new_score.tracks])
        raw_new = _fit_length(sound.render_full(render_score, w_n / SAMPLE_RATE, self.scorer.soundfont), w_n)
        mastered_new = _remaster(piece, raw_new, w_n, first_chunk=k0)
        del raw_new
        audio = piece.audio.copy()
        hi = w_n
        audio[a_n:hi] = mastered_new[a_n:hi]
        if r1 >= n_bars:
            audio = _end_fade(audio)
        # At the region start both versions hold the same notes up to that sample (only the
        # whole-piece loudness gain may differ by a hair, far too little to click), so the cut
        # is clean. At the window's end the new notes' reverb has all but died; a short fade
        # inside the window hides what is left. Outside the window: bit-identical.
        x = min((hi - a_n) // 2, _n_samples(XFADE_S))
        if x > 1 and hi < total_n:
            ramp = np.linspace(0.0, 1.0, x, dtype=np.float32)[:, None]
            audio[hi - x:hi] = (1 - ramp) * mastered_new[hi - x:hi] + ramp * piece.audio[hi - x:hi]
        self._report(0.9, "rendering")

        for k, (c0, c1, notes_out) in enumerate(chunks_notes):
            s = a_n if k == 0 else _n_samples(_audio_edge_s(tm, c0))
            e = hi if k == len(chunks_notes) - 1 else _n_samples(_audio_edge_s(tm, c1))
            part = audio[s:e]
            self.timings_s.append(time.perf_counter() - t0)
            yield Chunk(k, c0, c1, s / SAMPLE_RATE, e / SAMPLE_RATE, part, _spectrogram(part),
                        notes_out)
            self.chunks_done = k + 1

        parent = piece.takes.current_take.take_id
        piece.score.tracks = new_score.tracks
        piece.bars = new_bars
        piece.controls = controls
        piece.audio = audio
        take = Take(piece.takes.next_id(), r0, r1, max(0.0, tm.bar_start_s(r0)), min(dur, tm.bar_start_s(r1)),
                    self.seed, self.prompt, None)
        take.state = piece._snapshot(audio_patch=(parent, a_n, audio[a_n:hi].copy()))
        piece.takes.add(take)
        self._report(1.0, "done")
        self._piece = piece
