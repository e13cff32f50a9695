"""The held-out judgement: prompts written before the work (heldout_prompts.toml), real footage,
real recordings and an independent tagger, for the measurement parts of issues 14, 15, 16, 18.

`run_heldout` generates a piece for every held-out prompt on synthetic and real-motion clips,
for the shipped model and the same-run baselines, and measures:
- idioms and form on the score (`metrics_idioms`) and loudness arcs on the audio;
- mood-mode agreement over seeds;
- intent adherence judged against the prompt file's own expectations (tempo heard by librosa,
  mode and key written and heard, instruments by General MIDI program, bans, arcs), per language;
- what MusiCNN hears (`listener`), and instrument identity for one-lead-instrument prompts;
- realism: Frechet distances from our renders to real recordings (`references`) on MusiCNN's
  embedding and on the project's FD-mel, per sound chain available in this checkout;
- hit-point landing rates on random sets beside cut landing rates on the same sets.
Instrument names in the prompt file are mapped to General MIDI programs here, from the GM
standard, not through our parser's tables, so a parser mistake counts against us.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from robin_studio.eval import metrics_idioms as mid
from robin_studio.eval.clips import EvalClip

PROMPTS_FILE = Path(__file__).with_name("heldout_prompts.toml")

# General MIDI programs (0-based) of the instrument names the prompt file uses.
GM_PROGRAMS: dict[str, frozenset[int]] = {
    "piano": frozenset(range(0, 4)), "electric_piano": frozenset({4, 5}),
    "synth_bass": frozenset({38, 39}), "acoustic_bass": frozenset({32, 43}),
    "electric_bass": frozenset({33, 34, 35, 36, 37}), "trumpet": frozenset({56, 59}),
    "electric_guitar": frozenset(range(26, 32)), "nylon_guitar": frozenset({24}),
    "acoustic_guitar": frozenset({24, 25}), "cello": frozenset({42}), "violin": frozenset({40, 110}),
    "strings": frozenset({40, 41, 42, 43, 44, 45, 48, 49, 50, 51}), "brass": frozenset(range(56, 64)),
    "timpani": frozenset({47}),
}
# MagnaTagATune tags that name each lead instrument (MTT has no "bass", "trumpet" or "brass")
LEAD_TAGS: dict[str, tuple[str, ...]] = {
    "piano": ("piano",), "electric_piano": ("piano",), "acoustic_guitar": ("guitar",),
    "nylon_guitar": ("guitar",), "electric_guitar": ("guitar",), "strings": ("strings", "violin", "cello"),
    "cello": ("cello", "strings"), "violin": ("violin", "strings"), "synth_bass": ("synth",),
}
# tags that say the same thing in MTT's vocabulary
TAG_SYNONYMS = {"beat": ("beat", "beats"), "classical": ("classical", "classic"), "vocal": ("vocal", "vocals")}
TOP_TAGS = 5
HIT_TOLERANCE_S = 0.010       # issue 18: a hit point lands when a beat is within 10 ms


@dataclass(frozen=True)
class HeldoutPrompt:
    name: str
    lang: str
    text: str
    style: str | None = None
    tempo_bpm: float | None = None
    mode: str | None = None
    key: str | None = None
    wanted: tuple[str, ...] = ()
    unwanted: tuple[str, ...] = ()
    groove: bool | None = None
    arc: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def mood_mode(self) -> bool:
        """The mode comes from mood words, not from an explicit key."""
        return self.mode is not None and self.key is None

    @property
    def lead(self) -> str | None:
        """The one pitched instrument the prompt names, if exactly one."""
        pitched = [w for w in self.wanted if w != "drums"]
        return pitched[0] if len(pitched) == 1 and pitched[0] in LEAD_TAGS else None


def load_prompts(path: Path = PROMPTS_FILE) -> list[HeldoutPrompt]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for p in data["prompt"]:
        out.append(HeldoutPrompt(
            p["name"], p["lang"], p["text"], p.get("style"), p.get("tempo_bpm"), p.get("mode"),
            p.get("key"), tuple(p.get("wanted", ())), tuple(p.get("unwanted", ())), p.get("groove"),
            p.get("arc"), tuple(p.get("tags", ()))))
    return out


# -- per-piece measures ------------------------------------------------------------------------
def has_instrument(score, name: str) -> bool:
    if name == "drums":
        return any(t.is_drums and t.notes for t in score.tracks)
    programs = GM_PROGRAMS.get(name)
    if programs is None:
        return False
    return any(not t.is_drums and t.notes and t.program in programs for t in score.tracks)


def arc_figure(prompt: HeldoutPrompt, audio: np.ndarray, sr: int) -> tuple[str, float] | None:
    """(kind, dB) of the prompt's arc: build (last 15 % - first 25 %), quiet_start (rest - first
    N s), drop (4 s after - 4 s before)."""
    if not prompt.arc:
        return None
    kind, _, arg = prompt.arc.partition(":")
    dur = len(audio) / sr
    if kind == "build":
        return kind, mid.build_arc_db(audio, sr)
    if kind == "quiet_start" and float(arg) < dur - 3:
        return kind, mid.quiet_start_db(audio, sr, float(arg))
    if kind == "drop" and float(arg) < dur - 2:
        return kind, mid.drop_db(audio, sr, float(arg))
    return None


def asked_rests_s(prompt: HeldoutPrompt) -> tuple[list[tuple[float, float]], list[float]]:
    """(quiet spans, drop times) in seconds where the prompt file says the pulse may rest:
    "quiet_start:N" rests it for the first N s, "drop:T" for the written break before T."""
    kind, _, arg = (prompt.arc or "").partition(":")
    if kind == "quiet_start":
        return [(0.0, float(arg))], []
    if kind == "drop":
        return [], [float(arg)]
    return [], []


def piece_measures(piece, prompt: HeldoutPrompt) -> dict[str, float]:
    """Every figure of one piece: idioms (score), arc (audio), intent (score and audio)."""
    from robin_studio.eval import metrics_intent as mi
    from robin_studio.score.theory import pitch_class

    score, audio, sr = piece.score, piece.audio, piece.sample_rate
    m = mid.idiom_metrics(score, prompt.style, *asked_rests_s(prompt))
    arc = arc_figure(prompt, audio, sr)
    if arc:
        m[f"arc_{arc[0]}_db"] = arc[1]
    if prompt.tempo_bpm:
        heard = mi.heard_tempo_bpm(audio, sr)
        m["tempo_heard_bpm"] = heard
        m["tempo_ok"] = float(mi.tempo_error(heard, prompt.tempo_bpm) <= 0.02)
        m["tempo_ok_octave"] = float(mi.tempo_error_octave(heard, prompt.tempo_bpm) <= 0.02)
    tonic, mode, _ = mi.estimate_key_audio(audio, sr)
    m["mode_written_major"] = float(score.key_mode == "major")
    m["mode_heard_major"] = float(mode == "major")
    if prompt.mode:
        m["mode_written_ok"] = float(score.key_mode == prompt.mode)
        m["mode_heard_ok"] = float(mode == prompt.mode)
    if prompt.key:
        want = pitch_class(prompt.key)
        m["key_written_ok"] = float(score.key_tonic == want and score.key_mode == prompt.mode)
        m["key_heard_ok"] = float(tonic == want and mode == prompt.mode)
    if prompt.wanted:
        m["instruments_present"] = float(np.mean([has_instrument(score, w) for w in prompt.wanted]))
    if prompt.unwanted:
        kept = [not has_instrument(score, w) for w in prompt.unwanted]
        if "drums" in prompt.unwanted:
            kept.append(mi.percussive_energy_ratio(audio, sr) < mi.DRUMS_AUDIBLE_RATIO)
        m["bans_kept"] = float(np.mean(kept))
    return m


def tags_heard(probs: dict[str, float], expected: tuple[str, ...], top_n: int = TOP_TAGS) -> bool | None:
    """Whether one of the expected tags (or its MTT synonym) is among the top `top_n` tags;
    None when no expected tag exists in the tagger's vocabulary."""
    vocab = set(probs)
    wanted = {s for e in expected for s in TAG_SYNONYMS.get(e, (e,)) if s in vocab}
    if not wanted:
        return None
    top = [t for t, _ in sorted(probs.items(), key=lambda kv: -kv[1])[:top_n]]
    return any(t in wanted for t in top)


# -- results -----------------------------------------------------------------------------------
@dataclass
class HeldoutPiece:
    system: str
    clip: str
    clip_source: str          # "generated" or "real"
    prompt: str
    seed: int
    duration_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, float] = field(default_factory=dict)     # all 50 MTT tags (empty without listener)


@dataclass
class HeldoutResults:
    quick: bool
    prompts: list[HeldoutPrompt]
    systems: list[str]
    clips: list[EvalClip]
    pieces: list[HeldoutPiece] = field(default_factory=list)
    listener_note: str = ""
    footage_note: str = ""
    chain_note: str = ""
    realism: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)  # row -> set -> {fd_mel, fd_musicnn}
    reference_seconds: dict[str, float] = field(default_factory=dict)
    hits: dict[str, dict] = field(default_factory=dict)
    chain_tags: dict[str, list[tuple[str, dict[str, float]]]] = field(default_factory=dict)  # row -> (prompt, tags)
    parse: dict[str, dict[str, float]] = field(default_factory=dict)   # lang -> parser's share of controls read
    current_chain: str = "current"
    windows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)   # row -> MusiCNN windows
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def prompt(self, name: str) -> HeldoutPrompt:
        return next(p for p in self.prompts if p.name == name)

    def of(self, system: str, prompt: str | None = None, source: str | None = None) -> list[HeldoutPiece]:
        return [p for p in self.pieces if p.system == system and (prompt is None or p.prompt == prompt)
                and (source is None or p.clip_source == source)]


# -- sound chains --------------------------------------------------------------------------------
def sound_chains() -> tuple[str, list[str], str]:
    """(the chain the engine plays, every chain to compare on the same notes, a note).

    The sound helper keeps the chain before issue 15 selectable: `generate.sound.CHAINS`
    ("studio", "gm-legacy") and `render_chain(score, end_s, chain, style)`, which plays the
    same notes through a chain and delivers them at -14 LUFS. Without it, only the engine's own
    audio is measured."""
    from robin_studio.generate import sound

    names = tuple(getattr(sound, "CHAINS", ()))
    if len(names) < 2 or not hasattr(sound, "render_chain"):
        return "current", [], ("only one sound chain exists in this checkout (no older chain is "
                               "selectable), so there is no old-chain row")
    return getattr(sound, "DEFAULT_CHAIN", names[0]), list(names), ""


def render_through(piece, chain: str) -> tuple[np.ndarray, int]:
    """The piece's notes played and delivered by `chain` (generate.sound.render_chain)."""
    from robin_studio.generate import sound

    style = getattr(getattr(piece, "arrangement", None), "style", None)
    return sound.render_chain(piece.score, piece.duration_s, chain=chain, style=style), sound.SAMPLE_RATE


# -- the run -------------------------------------------------------------------------------------
def heldout_clips(workdir: Path, quick: bool, log=print, real: bool = True) -> tuple[list[EvalClip], str]:
    from robin_studio.eval.clips import PATTERNS, write_clip
    from robin_studio.eval.real_footage import real_clips

    synthetic = ["montage-30s-landscape"] if quick else ["montage-30s-landscape", "irregular-20s-portrait"]
    clips = [write_clip(PATTERNS[n], workdir / "clips") for n in synthetic]
    if not real:
        return clips, "real footage left out of this run"
    found, note = real_clips(workdir / "clips" / "real")
    clips += found[:1] if quick else found
    return clips, note


def plan(prompts: list[HeldoutPrompt], clips: list[EvalClip], quick: bool, system: str
         ) -> list[tuple[str, str, int]]:
    """(clip, prompt, seed) cases: every prompt on every clip with seed 0; prompts whose mode
    comes from mood words also with seeds 1 and 2 on the first clip (mood-mode agreement);
    in the full run every prompt gets three seeds on the first clip. Baselines run seed 0."""
    cases = [(c.name, p.name, 0) for c in clips for p in prompts]
    if system == "model":
        for p in prompts:
            if p.mood_mode or not quick:
                cases += [(clips[0].name, p.name, s) for s in (1, 2)]
    return cases


def _cache_key(system: str, cases, models_dir: Path | None) -> str:
    from robin_studio.eval.suite import _code_version
    from robin_studio.paths import models_dir as default_models_dir

    h = hashlib.sha1(f"{system}|{cases}|{_code_version()}".encode())
    here = Path(__file__).resolve().parent
    for name in ("heldout.py", "metrics_idioms.py", "heldout_prompts.toml", "real_footage.py"):
        h.update((here / name).read_bytes())
    manifest = Path(models_dir or default_models_dir()) / "manifest.json"
    if manifest.exists():
        h.update(manifest.read_bytes())
    return h.hexdigest()[:16]


def run_heldout(quick: bool = True, workdir: Path | None = None, models_dir: Path | None = None,
                log: Callable[[str], None] = print, reuse: bool = True,
                system_names: tuple[str, ...] | None = None,
                prompt_names: tuple[str, ...] | None = None, real: bool = True,
                hit_sets: int | None = None) -> HeldoutResults:
    """Run the held-out judgement (see the module docstring). `prompt_names` limits the
    prompts and `real=False` leaves real footage out (for tests); `hit_sets` sets the number
    of random hit-point sets (100 by default)."""
    from robin_studio.eval import listener as lst
    from robin_studio.eval import references
    from robin_studio.eval.baselines import systems as default_systems
    from robin_studio.eval.metrics_music import MelChromaOnsetEmbedding, frechet_distance
    from robin_studio.generate.engine import Scorer
    from robin_studio.paths import cache_dir

    t0 = time.perf_counter()
    workdir = Path(workdir) if workdir else cache_dir() / "eval"
    prompts = [p for p in load_prompts() if prompt_names is None or p.name in prompt_names]
    clips, footage_note = heldout_clips(workdir, quick, log, real)
    wanted = system_names or (("model", "naive-loop") if quick else ("model", "no-video", "naive-loop"))
    all_systems, why = default_systems(models_dir)
    systems = [s for s in all_systems if s.name in wanted]
    res = HeldoutResults(quick, prompts, [s.name for s in systems], clips, footage_note=footage_note)
    if why:
        res.notes.append(why)
    listener = lst.Listener.find()
    res.listener_note = "" if listener else lst.NOT_INSTALLED
    res.current_chain, chains, res.chain_note = sound_chains()
    # the chains are compared on the same notes: seed 0 of every prompt on the first clip
    chain_clip = clips[0].name

    analyser = Scorer(generator=systems[-1].generator)
    analyses = {}
    for c in list(clips):
        try:
            analyses[c.name] = analyser.analyze(c.path)
        except Exception as err:   # reported; the other clips still run
            res.notes.append(f"clip {c.name} left out: analysis failed ({type(err).__name__}: {err})")
            clips.remove(c)
    by_prompt = {p.name: p for p in prompts}
    source = {c.name: c.source for c in clips}
    mel = MelChromaOnsetEmbedding()
    # per realism row (system or system/chain): FD-mel windows, and audio kept for the listener
    mel_rows: dict[str, list[np.ndarray]] = {}
    listen_audio: dict[str, list[tuple[int, int]]] = {}   # row -> (piece index, audio id)
    clips_audio: list[np.ndarray] = []                    # audio id -> 16 kHz mono

    for s in systems:
        cases = plan(prompts, clips, quick, s.name)
        heard = "-heard" if listener else ""
        cache = workdir / "heldout" / f"{s.name}-{_cache_key(s.name, cases, models_dir)}{heard}.json"
        if reuse and cache.exists():
            try:
                d = json.loads(cache.read_text())
                res.pieces += [HeldoutPiece(**p) for p in d["pieces"]]
                res.realism.update(d.get("realism", {}))
                res.chain_tags.update({k: [tuple(x) for x in v] for k, v in d.get("chain_tags", {}).items()})
                log(f"held-out {s.name}: {len(d['pieces'])} pieces read back from {cache}")
                continue
            except (OSError, ValueError, KeyError, TypeError):
                pass
        scorer = Scorer(generator=s.generator)
        start = len(res.pieces)
        for clip_name, prompt_name, seed in cases:
            prompt = by_prompt[prompt_name]
            t = time.perf_counter()
            try:
                piece = scorer.generate(analyses[clip_name], prompt.text, seed=seed).result()
                m = piece_measures(piece, prompt)
            except Exception as err:   # reported; the other cases still run
                res.notes.append(f"{s.name} on {clip_name} / {prompt_name} seed {seed} failed: "
                                 f"{type(err).__name__}: {err}")
                log(res.notes[-1])
                continue
            hp = HeldoutPiece(s.name, clip_name, source[clip_name], prompt_name, seed, piece.duration_s, m)
            res.pieces.append(hp)
            index = len(res.pieces) - 1
            if seed == 0:
                audio_id = len(clips_audio)
                clips_audio.append(lst.to_listener_rate(piece.audio, piece.sample_rate))
                mel_rows.setdefault(s.name, []).append(mel.embed(piece.audio, piece.sample_rate))
                listen_audio.setdefault(s.name, []).append((index, audio_id))
                for chain in chains if s.name == "model" and clip_name == chain_clip else ():
                    try:
                        audio, sr = render_through(piece, chain)
                    except Exception as err:   # reported; the engine's own figures stand
                        res.notes.append(f"{chain} chain on {clip_name} / {prompt_name} failed: "
                                         f"{type(err).__name__}: {err}")
                        continue
                    row = f"{s.name} / {chain} chain"
                    mel_rows.setdefault(row, []).append(mel.embed(audio, sr))
                    listen_audio.setdefault(row, []).append((index, len(clips_audio)))
                    clips_audio.append(lst.to_listener_rate(audio, sr))
            log(f"held-out {s.name:10s} {clip_name:28s} {prompt_name:16s} seed {seed} "
                f"{time.perf_counter() - t:5.1f} s  groove {m.get('groove_presence', float('nan')):.2f}")

        if listener is not None:
            _listen(listener, res, listen_audio, clips_audio, log)
        refs = references.reference_embeddings(workdir, listener, log)
        if refs is not None:
            res.reference_seconds = refs.seconds
            for row in [r for r in mel_rows if r == s.name or r.startswith(f"{s.name} /")]:
                mine = np.vstack([e for e in mel_rows[row] if len(e)])
                out = res.realism.setdefault(row, {})
                for set_name, ref in refs.fd_mel.items():
                    out.setdefault(set_name, {})["fd_mel"] = frechet_distance(mine, ref)
                out.setdefault("all", {})["fd_mel"] = frechet_distance(mine, np.vstack(list(refs.fd_mel.values())))
                win = res.windows.get(row)
                if win is not None and refs.musicnn:
                    for set_name, ref in refs.musicnn.items():
                        out[set_name]["fd_musicnn"] = frechet_distance(win, ref)
                    out["all"]["fd_musicnn"] = frechet_distance(win, np.vstack(list(refs.musicnn.values())))
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"pieces": [asdict(p) for p in res.pieces[start:]],
                                     "realism": {k: v for k, v in res.realism.items()
                                                 if k == s.name or k.startswith(f"{s.name} /")},
                                     "chain_tags": {k: v for k, v in res.chain_tags.items()
                                                    if k == s.name or k.startswith(f"{s.name} /")}}))
        mel_rows = {k: v for k, v in mel_rows.items() if not (k == s.name or k.startswith(f"{s.name} /"))}
        listen_audio, clips_audio = {}, []

    refs = references.reference_embeddings(workdir, listener, log)
    if refs is not None:
        res.reference_seconds = refs.seconds
        _reference_scale(res, refs)
    res.hits = hit_rates(hit_sets or 100)   # the solver alone: about a second for 100 sets
    res.parse = parse_adherence(prompt_names)
    res.wall_s = time.perf_counter() - t0
    return res


def _listen(listener, res: HeldoutResults, listen_audio: dict, clips_audio: list, log) -> None:
    """Tags of every seed-0 piece per realism row (the current chain's on the piece itself,
    every row's in `res.chain_tags`) and MusiCNN windows per row (`res.windows`); each audio
    is heard once, in one run of the listener."""
    import tempfile

    import soundfile as sf

    from robin_studio.eval.listener import SAMPLE_RATE

    if not clips_audio:
        return
    with tempfile.TemporaryDirectory(prefix="robin-heldout-") as tmp:
        paths = []
        for k, y in enumerate(clips_audio):
            p = Path(tmp) / f"{k:04d}.wav"
            sf.write(p, y, SAMPLE_RATE, subtype="FLOAT")
            paths.append(p)
        t = time.perf_counter()
        heard = listener.listen_files(paths, windows=True)
    log(f"listener: {len(paths)} renders heard in {time.perf_counter() - t:.0f} s")
    for row, items in listen_audio.items():
        if " / " not in row:
            for index, audio_id in items:
                res.pieces[index].tags = heard[audio_id].probs
        res.chain_tags[row] = [(res.pieces[index].prompt, heard[audio_id].probs) for index, audio_id in items]
        res.windows[row] = np.vstack([heard[a].windows for _, a in items if len(heard[a].windows)])


def _reference_scale(res: HeldoutResults, refs) -> None:
    """How far the real sets are from each other: the scale for reading our distances."""
    from robin_studio.eval.metrics_music import frechet_distance

    names = list(refs.fd_mel)
    if len(names) == 2:
        a, b = names
        row = {"fd_mel": frechet_distance(refs.fd_mel[a], refs.fd_mel[b])}
        if refs.musicnn:
            row["fd_musicnn"] = frechet_distance(refs.musicnn[a], refs.musicnn[b])
        res.realism[f"{a} (real)"] = {b: row}


def parse_adherence(prompt_names: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
    """The prompt parser's own reading of the held-out prompts, per language
    (`intent.report.parse_adherence`, the prompts helper's measure), when this checkout has it."""
    try:
        from robin_studio.intent.report import parse_adherence as parse
    except ImportError:
        return {}
    entries = [p for p in tomllib.loads(PROMPTS_FILE.read_text(encoding="utf-8"))["prompt"]
               if prompt_names is None or p["name"] in prompt_names]
    return parse(entries)


def hit_rates(n: int) -> dict[str, dict]:
    """Hit-point landing on `n` random sets (timing.hits), beside cuts on the same sets."""
    try:
        from robin_studio.timing.hits import hit_landing_rates
    except ImportError:
        return {}
    out = {"hits alone": hit_landing_rates(n, seed=0), "hits among cuts": hit_landing_rates(n, seed=0, with_cuts=True)}
    out["cuts alone"] = cut_landing_rates(n, seed=0)
    return out


def cut_landing_rates(n_sets: int, seed: int = 0, fps: float = 25.0) -> dict:
    """The same random sets as `hit_landing_rates` (times and strengths), given to the solver
    as ordinary cuts: the share that land on a beat within 10 ms (the hit points' aim), and
    within the solver's own landing tolerance for cuts at this frame rate."""
    import random

    from robin_studio.timing.grid import landing_tolerance_s, nearest_beat
    from robin_studio.timing.hits import random_hit_set
    from robin_studio.timing.solver import CutMark, solve_tempo_map

    rng = random.Random(seed)
    n = on = on_tol = 0
    tol = landing_tolerance_s(1.0 / fps)
    for _ in range(n_sets):
        dur, hits = random_hit_set(rng)
        marks = [CutMark(h.time_s, 0.9 if h.strong else 0.4) for h in hits]
        sol = solve_tempo_map(marks, dur, bpm_range=(72.0, 132.0), frame_s=1.0 / fps)
        for h in hits:
            _, r = nearest_beat(sol.tempo_map, h.time_s)
            n += 1
            on += abs(r) <= HIT_TOLERANCE_S
            on_tol += abs(r) <= tol
    return {"sets": n_sets, "hits": n, "on_beat": on, "rate": on / max(1, n),
            "tolerance_ms": 1000 * HIT_TOLERANCE_S, "solver_tolerance_ms": 1000 * tol,
            "rate_solver_tolerance": on_tol / max(1, n)}


def mean(values) -> float:
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else float("nan")
