"""The evaluation suite: clips x prompts x seeds, for the model and every baseline.

`run_suite(quick=...)` generates music for each case through the engine (`Scorer`), computes
every metric of `metrics_rhythm`, `metrics_intent` and `metrics_music` on the rendered audio
and the score, adds diversity across seeds, seam quality after a region regeneration and the
held-out corpus as a reference, and returns an `EvalResults` that `report.write_report` turns
into docs/EVAL.md. The prompts carry their expected answers (tempo, key, instruments, timed
wishes) written by hand, so a prompt the parser misreads counts against us.
"""

from __future__ import annotations

import hashlib
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robin_studio.eval import detector_latency, longform
from robin_studio.eval import metrics_intent as mi
from robin_studio.eval import metrics_music as mm
from robin_studio.eval import metrics_rhythm as mr
from robin_studio.eval.audio_events import vem_beat_tracker
from robin_studio.eval.baselines import System, systems as default_systems
from robin_studio.eval.clips import EvalClip, suite_clips


@dataclass(frozen=True)
class PromptCase:
    name: str
    text: str
    language: str
    tempo_bpm: float | None = None
    key_tonic: int | None = None
    key_mode: str | None = None
    wanted: tuple[str, ...] = ()
    unwanted: tuple[str, ...] = ()
    wishes: tuple[tuple[str, float, float], ...] = ()   # (kind, start_s, end_s)

    @property
    def explicit(self) -> bool:
        return bool(self.tempo_bpm or self.key_mode or self.wanted or self.unwanted or self.wishes)


PROMPTS: dict[str, PromptCase] = {p.name: p for p in (
    PromptCase("en-explicit", "warm piano and strings, 92 bpm, in D minor, no drums", "en",
               tempo_bpm=92, key_tonic=2, key_mode="minor", wanted=("piano", "strings"),
               unwanted=("drums",)),
    PromptCase("fr-explicit", "musique douce au piano, sans batterie, 100 bpm", "fr",
               tempo_bpm=100, wanted=("piano",), unwanted=("drums",)),
    PromptCase("en-free", "energetic upbeat music for a travel montage", "en"),
    PromptCase("en-timed", "quiet for the first 10 seconds, then drums and brass, in C major", "en",
               key_tonic=0, key_mode="major", wanted=("drums", "brass"),
               wishes=(("quiet", 0.0, 10.0),)),
    PromptCase("es-explicit", "música tranquila con guitarra, en la menor, 80 bpm", "es",
               tempo_bpm=80, key_tonic=9, key_mode="minor", wanted=("guitar",)),
    PromptCase("de-free", "ruhige, nachdenkliche Musik für einen Dokumentarfilm", "de"),
)}


@dataclass(frozen=True)
class Case:
    clip: str
    prompt: str
    seed: int


def plan_cases(clips: list[EvalClip], quick: bool) -> tuple[list[Case], list[Case], list[int]]:
    """(cases, the cases regenerated for seam quality, seeds for diversity on the first clip)."""
    names = list(PROMPTS)
    cases: list[Case] = []
    if quick:
        # every clip gets an explicit prompt; the first also a free one in another language
        # every metric family at least once, four languages between the two suites
        cases.append(Case(clips[0].name, "en-explicit", 0))
        cases.append(Case(clips[0].name, "en-timed", 0))
        for c in clips[1:]:
            cases.append(Case(c.name, "fr-explicit", 0))
            cases.append(Case(c.name, "de-free", 0))
        seeds = [0, 1]
    else:
        # Two prompts per clip: one that leaves the tempo free and one that asks for a tempo,
        # each rotating through its kind, so that both are measured on every cut pattern
        # (a fixed tempo cannot land irregular cuts; a free one must, on the hard clips too).
        free = [n for n in names if not PROMPTS[n].tempo_bpm]
        asked = [n for n in names if PROMPTS[n].tempo_bpm]
        for i, c in enumerate(clips):
            cases.append(Case(c.name, free[i % len(free)], 0))
            cases.append(Case(c.name, asked[i % len(asked)], 0))
        seeds = [0, 1, 2]
    if quick:
        seams = [Case(clips[-1].name, cases[-1].prompt, 0)]
    else:
        # One seam is too few to tell a click from a downbeat: three clips, three prompts.
        seams = [Case(clips[1].name, "en-free", 0)]
        seams += [Case(c.name, p, 0) for c, p in zip(clips[3:5], ("en-explicit", "de-free"))]
    return list(dict.fromkeys(cases)), seams, seeds


@dataclass
class PieceRow:
    system: str
    clip: str
    prompt: str
    seed: int
    duration_s: float
    generate_s: float
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class EvalResults:
    quick: bool
    started: str
    machine: str
    systems: list[System]
    system_note: str
    clips: list[EvalClip]
    rows: list[PieceRow] = field(default_factory=list)
    diversity: dict[str, float] = field(default_factory=dict)
    seams: dict[str, dict[str, float]] = field(default_factory=dict)
    fd: dict[str, float] = field(default_factory=dict)
    fd_windows: dict[str, int] = field(default_factory=dict)
    fd_name: str = "FD-mel"
    corpus: dict[str, float] = field(default_factory=dict)
    corpus_note: str = ""
    longform: dict[str, dict[str, float]] = field(default_factory=dict)   # full suite only
    latency: dict[str, float] = field(default_factory=dict)   # librosa's lateness (detector_latency)
    wall_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    revision: str = ""
    heldout: object = None        # heldout.HeldoutResults when the held-out judgement ran

    def system_means(self, metric: str) -> dict[str, float]:
        out = {}
        for s in self.systems:
            vals = [r.metrics.get(metric, float("nan")) for r in self.rows if r.system == s.name]
            vals = [v for v in vals if v is not None and not math.isnan(v)]
            out[s.name] = float(np.mean(vals)) if vals else float("nan")
        return out


def code_revision() -> str:
    """The checkout's commit (and whether files differ from it), for the report header."""
    import subprocess

    from robin_studio.paths import project_root
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project_root(),
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "robin_studio"],
                               cwd=project_root(), capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{rev}{' with uncommitted changes' if dirty else ''}" if rev else ""


def machine_description() -> str:
    import os
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def piece_metrics(piece, clip: EvalClip, prompt: PromptCase, flow: tuple[np.ndarray, float],
                  analysis, beat_latency_s: float = 0.0) -> dict[str, float]:
    """Every per-piece metric of one generated piece (`beat_latency_s`: librosa's lateness,
    from `detector_latency.measure`, for the calibrated hit rate)."""
    audio, sr = piece.audio, piece.sample_rate
    ref_beats = np.unique(np.round(np.concatenate(
        [np.asarray(clip.cuts_s, float), np.asarray(analysis.visual_beats_s or [], float)]), 3))
    rh = mr.rhythm_report(audio, sr, np.asarray(clip.cuts_s), ref_beats, flow_curve=flow[0], fps=flow[1],
                          beat_latency_s=beat_latency_s)
    m: dict[str, float] = rh.as_dict()
    m.update(mm.score_metrics(piece.score))
    # intent
    nan = float("nan")
    if prompt.tempo_bpm:
        m["tempo_error"] = mi.tempo_error(rh.heard_tempo_bpm, prompt.tempo_bpm)
        m["tempo_error_octave"] = mi.tempo_error_octave(rh.heard_tempo_bpm, prompt.tempo_bpm)
    if prompt.key_mode:
        tonic, mode, _ = mi.estimate_key_audio(audio, sr)
        m["mode_correct"] = float(mode == prompt.key_mode)
        m["key_correct"] = float(mode == prompt.key_mode and tonic == prompt.key_tonic)
    if prompt.wanted or prompt.unwanted:
        chk = mi.check_instruments(piece.score, audio, sr, list(prompt.wanted), list(prompt.unwanted))
        m["instrument_presence"] = chk.presence_rate if prompt.wanted else nan
        m["negation_kept"] = chk.negation_rate if prompt.unwanted else nan
        m["drums_audio_ratio"] = chk.drums_audio_ratio
    kept = []
    for kind, a, b in prompt.wishes:
        if b < piece.duration_s - 2.0:
            delta = mi.window_vs_rest_db(audio, sr, a, b)
            m[f"wish_{kind}_delta_db"] = delta
            k = mi.timed_wish_kept(kind, delta)
            if k is not None:
                kept.append(float(k))
    if kept:
        m["timed_wish_kept"] = float(np.mean(kept))
    return m


def _corpus_reference(quick: bool, embedding, log, workdir: Path) -> tuple[dict[str, float], np.ndarray, str]:
    """Score metrics and embeddings of held-out corpus renders (test split), cached in
    `workdir/results/` per corpus manifest and metric code."""
    try:
        from robin_studio.train.corpus.dataset import default_corpus_dir

        manifest = (default_corpus_dir() / "manifest.json").read_bytes()
    except OSError:
        manifest = b""
    key = hashlib.sha1(manifest + f"{quick}|{_code_version()}".encode()).hexdigest()[:16]
    cache = workdir / "results" / f"corpus-{key}.json"
    if manifest and cache.exists():
        try:
            d = json.loads(cache.read_text())
            log(f"corpus reference read back from {cache}")
            return d["means"], np.asarray(d["embeddings"], float), d["note"]
        except (OSError, ValueError, KeyError):
            pass
    means, emb, note = _corpus_reference_compute(quick, embedding, log)
    if means:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"means": means, "embeddings": emb.tolist(), "note": note}))
    return means, emb, note


def _corpus_reference_compute(quick: bool, embedding, log) -> tuple[dict[str, float], np.ndarray, str]:
    try:
        from robin_studio.train.corpus.dataset import load_corpus

        examples = load_corpus(None, "test")
    except Exception as err:  # no corpus built on this machine: say so in the report
        return {}, np.zeros((0, 1)), f"held-out corpus not available ({str(err).splitlines()[0]})"
    if not examples:
        return {}, np.zeros((0, 1)), "held-out corpus split 'test' is empty"
    from robin_studio.generate import sound

    rng = np.random.default_rng(0)
    pick = rng.choice(len(examples), size=min(len(examples), 6 if quick else 24), replace=False)
    rows, embs, key_hits = [], [], []
    for i in pick:
        ex = examples[int(i)]
        rows.append(mm.score_metrics(ex.score))
        end_s = min(ex.score.duration_s, 60.0)
        audio = sound.master(sound.render_full(ex.score, end_s), sound.SAMPLE_RATE)
        embs.append(embedding.embed(audio, sound.SAMPLE_RATE))
        if ex.style != "original":   # arranged pieces carry the key they were arranged in
            tonic, mode, _ = mi.estimate_key_audio(audio, sound.SAMPLE_RATE)
            key_hits.append((tonic == ex.key_tonic and mode == ex.key_mode, mode == ex.key_mode))
    log(f"corpus reference: {len(pick)} held-out examples rendered")
    means = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
    if key_hits:
        # Calibration of the audio key finder the intent table relies on.
        means["key_finder_key_accuracy"] = float(np.mean([k for k, _ in key_hits]))
        means["key_finder_mode_accuracy"] = float(np.mean([m for _, m in key_hits]))
        means["key_finder_n"] = float(len(key_hits))
    e = [x for x in embs if len(x)]
    return means, (np.vstack(e) if e else np.zeros((0, 1))), f"{len(pick)} pieces of the held-out test split"


def _code_version() -> str:
    """Hash of the code that makes the numbers (metrics, clips, baselines, `piece_metrics`):
    cached results are reused only if it is unchanged."""
    import inspect

    here = Path(__file__).resolve().parent
    h = hashlib.sha1()
    for name in ("clips.py", "baselines.py", "audio_events.py", "detector_latency.py", "metrics_rhythm.py",
                 "metrics_intent.py", "metrics_music.py", "longform.py"):
        h.update((here / name).read_bytes())
    h.update(inspect.getsource(piece_metrics).encode())
    # Beat-IoU/TB-IoU count madmom's beats when it is installed, librosa's otherwise: results
    # of one tracker are never read back for the other
    h.update((here / "madmom_beats.py").read_bytes())
    h.update(vem_beat_tracker().encode())
    # ...and the whole engine the systems run through (analysis, timing, arrangement, synth):
    # results made by an older engine are never mixed with new ones.
    package = here.parent
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).parts
        if rel[0] not in ("eval", "app", "commands", "train"):
            h.update(str(path.relative_to(package)).encode())
            h.update(path.read_bytes())
    h.update(repr(sorted(PROMPTS.items())).encode())
    return h.hexdigest()[:12]


def _system_key(system: System, plan: str, models_dir: Path | None) -> str:
    """What a system's results depend on: its name, the cases, the evaluation code and, for
    the model and its ablations, the weights (the manifest holds their sha256)."""
    from robin_studio.paths import models_dir as default_models_dir

    h = hashlib.sha1(f"{system.name}|{plan}|{_code_version()}".encode())
    if system.name != "naive-loop":
        manifest = Path(models_dir or default_models_dir()) / "manifest.json"
        if manifest.exists():
            h.update(manifest.read_bytes())
    return h.hexdigest()[:16]


def _load_cached(path: Path):
    try:
        d = json.loads(path.read_text())
        rows = [PieceRow(**r) for r in d["rows"]]
        emb = [np.asarray(e, float) for e in d["embeddings"]]
        return rows, d["diversity"], d["seams"], emb, d.get("longform", {})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_cached(path: Path, rows, diversity, seams, emb, longform: dict | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    d = {"rows": [r.__dict__ for r in rows], "diversity": diversity, "seams": seams,
         "embeddings": [np.asarray(e).tolist() for e in emb], "longform": longform or {}}
    path.write_text(json.dumps(d, allow_nan=True))


def _flow(clip: EvalClip, workdir: Path) -> tuple[np.ndarray, float]:
    cached = workdir / "flow" / f"{clip.name}-{mr.FLOW_WIDTH}.npz"
    if cached.exists():
        d = np.load(cached)
        return d["curve"], float(d["fps"])
    curve, fps = mr.video_flow_curve(str(clip.path), width=min(mr.FLOW_WIDTH, clip.width))
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cached, curve=curve, fps=fps)
    return curve, fps


def run_suite(quick: bool = True, workdir: Path | None = None, models_dir: Path | None = None,
              systems: list[System] | None = None, log: Callable[[str], None] = print,
              reuse: bool = True, only: list[str] | None = None, heldout: bool = False) -> EvalResults:
    """Run the suite. With `reuse`, a system whose results were computed before with the same
    evaluation code, cases and weights (and, for naive-loop, baseline code) is read back
    from `workdir/results/` instead of being generated again; `only` restricts the run to
    some systems (e.g. to fill that cache from two processes, then report them all); `heldout`
    adds the held-out judgement (`heldout.run_heldout`) on the same systems."""
    from robin_studio.generate.engine import Scorer
    from robin_studio.paths import cache_dir

    t_start = time.perf_counter()
    workdir = Path(workdir) if workdir else cache_dir() / "eval"
    clips = suite_clips(workdir / "clips", quick)
    if systems is None:
        systems, note = default_systems(models_dir)
    else:
        note = ""
    if only:
        unknown = set(only) - {s.name for s in systems}
        if unknown:
            from robin_studio.errors import RobinError
            raise RobinError(f"Unknown or unavailable system(s): {', '.join(sorted(unknown))}.",
                             f"Available here: {', '.join(s.name for s in systems)}. {note}".strip())
        systems = [s for s in systems if s.name in only]
    res = EvalResults(quick, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine_description(),
                      systems, note, clips, revision=code_revision())
    by_name = {c.name: c for c in clips}
    embedding = mm.MelChromaOnsetEmbedding()
    res.fd_name = embedding.name

    analyser = Scorer(generator=systems[-1].generator)
    analyses, flows = {}, {}
    for c in list(clips):
        t = time.perf_counter()
        try:
            analyses[c.name] = analyser.analyze(c.path)
        except Exception as err:   # one unreadable clip must not sink the whole report
            res.notes.append(f"clip {c.name} left out: analysis failed ({type(err).__name__}: {err})")
            log(res.notes[-1])
            clips.remove(c)
            continue
        flows[c.name] = _flow(c, workdir)
        log(f"analysed {c.name} ({c.duration_s:.0f} s) in {time.perf_counter() - t:.1f} s")
    if not clips:
        from robin_studio.errors import RobinError
        raise RobinError("No evaluation clip could be analysed.", "; ".join(res.notes))
    cases, seam_cases, seeds = plan_cases(clips, quick)
    latency = detector_latency.measure()
    res.latency = latency.as_dict()
    log(f"librosa's lateness on an on-the-beat groove: beats {latency.beat_s * 1000:.0f} ms, "
        f"onsets {latency.onset_s * 1000:.0f} ms")

    embeddings: dict[str, list[np.ndarray]] = {s.name: [] for s in systems}
    first = cases[0]
    plan = repr((cases, seam_cases, seeds, [(c.name, c.duration_s, c.cuts_s) for c in clips]))
    for s in systems:
        cache_file = workdir / "results" / f"{s.name}-{_system_key(s, plan, models_dir)}.json"
        cached = _load_cached(cache_file) if reuse else None
        if cached is not None:
            rows, res.diversity[s.name], res.seams[s.name], embeddings[s.name], lf = cached
            if lf:
                res.longform[s.name] = lf
            res.rows += rows
            log(f"{s.name}: {len(rows)} pieces read back from {cache_file}")
            res.notes.append(f"{s.name}: rows computed by an earlier `robin-studio eval` process "
                             f"(e.g. `--systems {s.name}`) on the same code, cases and weights, "
                             f"read back from {cache_file.name}.")
            continue
        n_before = len(res.rows)
        scorer = Scorer(generator=s.generator)
        kept: dict[Case, object] = {}   # pieces reused for diversity and seams
        for case in cases:
            clip, prompt = by_name[case.clip], PROMPTS[case.prompt]
            t = time.perf_counter()
            try:
                piece = scorer.generate(analyses[clip.name], prompt.text, seed=case.seed).result()
            except Exception as err:   # reported in EVAL.md; the other cases still run
                res.notes.append(f"{s.name} on {clip.name} / {prompt.name} failed: "
                                 f"{type(err).__name__}: {err}")
                log(res.notes[-1])
                continue
            gen_s = time.perf_counter() - t
            row = PieceRow(s.name, clip.name, prompt.name, case.seed, piece.duration_s, gen_s,
                           piece_metrics(piece, clip, prompt, flows[clip.name], analyses[clip.name],
                                         latency.beat_s))
            res.rows.append(row)
            embeddings[s.name].append(embedding.embed(piece.audio, piece.sample_rate))
            if case == first or case in seam_cases:
                kept[case] = piece
            log(f"{s.name:14s} {clip.name:28s} {prompt.name:12s} gen {gen_s:5.1f} s  "
                f"hit70 {row.metrics['hit_beat_70ms']:.2f}")

        def piece_for(case: Case):
            if case in kept:
                return kept.pop(case)
            return scorer.generate(analyses[case.clip], PROMPTS[case.prompt].text, seed=case.seed).result()

        try:
            # diversity: the first clip and prompt, several seeds
            scores = [piece_for(Case(first.clip, first.prompt, k)).score for k in seeds]
            res.diversity[s.name] = mm.diversity(scores)
            # seams: regenerate the middle third of a few pieces
            measured = []
            for seam_case in seam_cases:
                clip = by_name[seam_case.clip]
                piece = piece_for(seam_case)
                a, b = clip.duration_s / 3, 2 * clip.duration_s / 3
                job = scorer.regenerate(piece, a, b, seed=99)
                piece = job.result()
                tm = piece.score.tempo_map
                seam_s = [tm.bar_start_s(job.bar_start), tm.bar_start_s(job.bar_end)]
                bar_s = [tm.bar_start_s(i) for i in range(1, tm.total_bars)]
                measured.append(mm.seam_quality(piece.audio, piece.sample_rate, seam_s, bar_s))
            res.seams[s.name] = {
                "flux_ratio": float(np.nanmean([q.flux_ratio for q in measured])),
                "chroma_ratio": float(np.nanmean([q.chroma_ratio for q in measured])),
                "n": float(len(measured))}
        except Exception as err:   # reported; the tables still show everything else
            res.notes.append(f"{s.name}: diversity/seam runs failed: {type(err).__name__}: {err}")
            log(res.notes[-1])
            res.diversity.setdefault(s.name, float("nan"))
            res.seams.setdefault(s.name, {"flux_ratio": float("nan"), "chroma_ratio": float("nan")})
        if not quick:
            # A 10-minute storyboard whose scenes recur: themes that come back, or wandering?
            t = time.perf_counter()
            try:
                res.longform[s.name] = longform.measure(scorer)
                log(f"{s.name}: 10-minute piece measured in {time.perf_counter() - t:.1f} s")
            except Exception as err:   # reported; the other tables stand
                res.notes.append(f"{s.name}: long-form run failed: {type(err).__name__}: {err}")
                log(res.notes[-1])
        if len(res.rows) - n_before == len(cases) and not math.isnan(res.diversity[s.name]):
            _save_cached(cache_file, res.rows[n_before:], res.diversity[s.name], res.seams[s.name],
                         embeddings[s.name], res.longform.get(s.name))

    corpus_means, corpus_emb, res.corpus_note = _corpus_reference(quick, embedding, log, workdir)
    res.corpus = corpus_means
    for s in systems:
        e = [x for x in embeddings[s.name] if len(x)]
        mine = np.vstack(e) if e else np.zeros((0, 1))
        res.fd_windows[s.name] = len(mine)
        res.fd[s.name] = mm.frechet_distance(mine, corpus_emb) if len(corpus_emb) else float("nan")
    tracker_note = mr.vem_tracker_note([r.metrics for r in res.rows])
    if tracker_note:
        res.notes.append(tracker_note)
    if heldout:
        from robin_studio.eval.heldout import run_heldout

        names = tuple(s.name for s in systems if s.name in ("model", "no-video", "naive-loop"))
        res.heldout = run_heldout(quick, workdir, models_dir, log, reuse, names or None)
    res.wall_s = time.perf_counter() - t_start
    return res
