"""Many videos scored in one run: `robin-studio batch JOBS.csv|FOLDER -o OUTDIR`.

A batch is a list of `Job`s (one video each, with its own prompt, seed, tempo, hit points
and output kinds) read from a CSV file or made from every video in a folder. Each job goes
through the same front door as `robin-studio score` (`Scorer.analyze` -> `generate` ->
`export`) and ends in a `JobResult`, written at once to `OUTDIR/.robin-batch/JOB.json`:

- one bad video fails its own row (its error is in the report), never the batch;
- a batch run again (after a crash, Ctrl+C or a power cut) skips the jobs whose result says
  "ok" for the same settings and whose files are all there, and redoes the rest;
- the report (`OUTDIR/batch-report.csv` and `.json`) lists per video: status, seconds spent
  analysing, composing and exporting, the music's length, how many cuts landed on a beat,
  how many hit points landed on a beat and were heard, the loudness of the music, the files
  written, and the error if any.

Where the jobs run is the caller's choice (`run_batch(..., runner=)`): in this process, on a
local process pool (the default of the command), or on a Ray cluster
(`robin_studio.generate.batch_runners`). This module never imports Ray, torch or Qt.

The CSV columns (a header row is required; only `video` is required, the rest fall back
to the command's options):

    video,prompt,seed,tempo,hits,outputs,name
    shots/ad-01.mp4,"upbeat synth pop, 120 bpm",3,,12.4;0:31.2:strong,mp4;wav,ad-01-pop

`hits` are hit points separated by ";" (seconds or m:ss.s, each optionally `:strong` or
`:soft`); `outputs` any of mp4, wav, stems, midi separated by ";" or spaces; `name` the
output file stem (default: the video's stem, made unique). Relative video paths are read
from the CSV's folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from robin_studio.errors import RobinError
from robin_studio.timing.hits import HitPoint, parse_hit

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts")
OUTPUT_KINDS = ("mp4", "wav", "stems", "midi")
STATE_FOLDER = ".robin-batch"
REPORT_NAME = "batch-report"
COLUMNS = ("video", "prompt", "seed", "tempo", "hits", "outputs", "name")
REPORT_FIELDS = ("name", "video", "status", "error", "prompt", "seed", "tempo_bpm", "duration_s",
                 "analyse_s", "compose_s", "export_s", "total_s", "cuts", "cuts_on_beat",
                 "cut_landing", "hit_points", "hits_on_beat", "hits_heard", "loudness_lufs", "outputs", "worker")
_SUFFIX = {"mp4": ".mp4", "wav": ".wav", "midi": ".mid"}


@dataclass(frozen=True)
class Job:
    name: str                     # output stem, unique in the batch
    video: str                    # absolute path
    prompt: str = ""
    seed: int = 0
    tempo_bpm: float | None = None
    hits: tuple[HitPoint, ...] = ()
    outputs: tuple[str, ...] = ("mp4",)

    def key(self) -> str:
        """What decides whether an earlier result still stands: the settings and the video's
        size and modification time (a re-exported video is scored again)."""
        try:
            st = os.stat(self.video)
            stamp = (st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        raw = json.dumps([asdict(self), stamp], sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def paths(self, out_dir: Path) -> dict[str, Path]:
        base = Path(out_dir) / self.name
        return {k: (base.with_name(base.name + "_stems") if k == "stems" else
                    base.with_name(base.name + _SUFFIX[k])) for k in self.outputs}


@dataclass
class JobResult:
    name: str
    video: str
    status: str                   # "ok", "failed", or "done earlier" (skipped on a resumed run)
    key: str = ""
    error: str = ""
    prompt: str = ""
    seed: int = 0
    tempo_bpm: float | None = None
    duration_s: float | None = None
    analyse_s: float | None = None
    compose_s: float | None = None
    export_s: float | None = None
    total_s: float | None = None
    cuts: int | None = None
    cuts_on_beat: int | None = None
    hit_points: int = 0
    hits_on_beat: int | None = None
    hits_heard: int | None = None
    loudness_lufs: float | None = None
    outputs: list[str] = field(default_factory=list)
    worker: str = ""

    @property
    def cut_landing(self) -> float | None:
        if not self.cuts:
            return None
        return self.cuts_on_beat / self.cuts

    def row(self) -> dict:
        d = asdict(self)
        d["cut_landing"] = None if self.cut_landing is None else round(self.cut_landing, 4)
        d["outputs"] = ";".join(self.outputs)
        return {k: d.get(k) for k in REPORT_FIELDS}


# -- reading jobs ------------------------------------------------------------------------

def parse_hits(text: str) -> tuple[HitPoint, ...]:
    """"12.4;0:31.20:strong;45:soft" -> hit points (strong unless said soft), as `--hit` reads
    each one (`timing.hits.parse_hit`)."""
    hits = [parse_hit(part) for part in re.split(r";", text or "") if part.strip()]
    return tuple(sorted(hits, key=lambda h: h.time_s))


def parse_outputs(text: str | Iterable[str] | None, default: tuple[str, ...] = ("mp4",)) -> tuple[str, ...]:
    if text is None or text == "":
        return default
    parts = re.split(r"[;,\s]+", text) if isinstance(text, str) else list(text)
    kinds = tuple(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))
    bad = [k for k in kinds if k not in OUTPUT_KINDS]
    if bad or not kinds:
        what = f"Unknown output kind {', '.join(bad)}." if bad else f"No output kind in {text!r}."
        raise RobinError(what, f"Use any of: {', '.join(OUTPUT_KINDS)}.")
    return kinds


def _number(value: str, what: str, row: int, cast=float):
    """A cell as a number inside the range `limits.RANGES` gives `what` (the CLI's ranges)."""
    from robin_studio.limits import check_number

    try:
        x = cast(value)
    except ValueError:
        raise RobinError(f"Row {row}: the {what} {value!r} is not a number.",
                         f"Fix the {what} column of that row, or leave it empty.") from None
    try:
        return check_number(what, x, option=f"Row {row}: the {what}")
    except RobinError as err:
        raise RobinError(str(err).splitlines()[0], f"Fix the {what} column of that row, or leave it empty.") from None


def _unique(name: str, taken: set[str]) -> str:
    stem, i = name, 2
    while name.lower() in taken:
        name = f"{stem}-{i}"
        i += 1
    taken.add(name.lower())
    return name


def read_jobs(source: Path | str, *, prompt: str = "", seed: int = 0, tempo_bpm: float | None = None,
              hits: str = "", outputs: tuple[str, ...] = ("mp4",)) -> list[Job]:
    """Jobs from a CSV file (one row a video) or a folder (every video in it, sorted by
    name). The keyword arguments are the defaults of empty cells."""
    src = Path(source)
    default_hits = parse_hits(hits)
    taken: set[str] = set()
    if src.is_dir():
        videos = sorted((p for p in src.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES),
                        key=lambda p: p.name.lower())
        if not videos:
            raise RobinError(f"There is no video in {src}.",
                             f"Put the clips ({', '.join(VIDEO_SUFFIXES)}) in that folder, or pass a CSV file.")
        return [Job(_unique(v.stem, taken), str(v.resolve()), prompt, seed, tempo_bpm, default_hits, outputs)
                for v in videos]
    if not src.is_file():
        raise RobinError(f"There is no file or folder {src}.", "Pass a CSV of jobs or a folder of videos.")
    try:
        with open(src, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (UnicodeDecodeError, csv.Error) as err:
        raise RobinError(f"{src} is not a readable CSV file ({err}).",
                         "Save the job list as UTF-8 CSV with a header row: video,prompt,seed,...") from None
    if not rows:
        raise RobinError(f"{src} has no jobs.", "Add a header row (video,prompt,...) and one row per video.")
    header = {k.strip().lower() for k in rows[0] if k}
    if "video" not in header:
        raise RobinError(f"{src} has no 'video' column.", f"The header row names the columns: {','.join(COLUMNS)}.")
    unknown = header - set(COLUMNS)
    if unknown:
        raise RobinError(f"{src} has columns Robin Studio does not know: {', '.join(sorted(unknown))}.",
                         f"Use the columns {','.join(COLUMNS)}.")
    jobs = []
    for i, raw in enumerate(rows, start=2):       # row 1 is the header
        # cells beyond the header's columns (key None) are ignored
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
        if not row.get("video"):
            raise RobinError(f"Row {i} of {src} names no video.", "Fill in its video column or delete the row.")
        video = Path(row["video"]).expanduser()
        if not video.is_absolute():
            video = src.parent / video
        jobs.append(Job(
            name=_unique(row.get("name") or video.stem, taken),
            video=str(video.resolve()),
            prompt=row.get("prompt") or prompt,
            seed=_number(row["seed"], "seed", i, int) if row.get("seed") else seed,
            tempo_bpm=_number(row["tempo"], "tempo", i, float) if row.get("tempo") else tempo_bpm,
            hits=parse_hits(row["hits"]) if row.get("hits") else default_hits,
            outputs=parse_outputs(row.get("outputs"), outputs)))
    return jobs


# -- running one job -----------------------------------------------------------------------

_SCORER = None     # one Scorer (models loaded once) per worker process


def _scorer():
    global _SCORER
    if _SCORER is None:
        from robin_studio.generate.engine import Scorer
        _SCORER = Scorer()
    return _SCORER


def _settings(job: Job):
    from robin_studio.generate.engine import GenerationSettings

    return GenerationSettings(tempo_bpm=job.tempo_bpm, hit_points=tuple(job.hits))


def run_job(job: Job, out_dir: Path | str) -> JobResult:
    """Score one video and write its outputs; never raises for a bad video (the result says
    what went wrong)."""
    out_dir = Path(out_dir)
    res = JobResult(job.name, job.video, "failed", key=job.key(), prompt=job.prompt, seed=job.seed,
                    tempo_bpm=job.tempo_bpm, hit_points=len(job.hits),
                    worker=f"{os.uname().nodename}:{os.getpid()}")
    t0 = time.perf_counter()
    try:
        scorer = _scorer()
        analysis = scorer.analyze(job.video)
        t1 = time.perf_counter()
        res.analyse_s = round(t1 - t0, 3)
        gen = scorer.generate(analysis, job.prompt, seed=job.seed, settings=_settings(job))
        for _ in gen:
            pass
        piece = gen.result()
        t2 = time.perf_counter()
        res.compose_s = round(t2 - t1, 3)
        res.duration_s = round(float(piece.duration_s), 3)
        res.cuts, res.cuts_on_beat = _cut_landing(piece)
        if job.hits:
            res.hits_on_beat, res.hits_heard = _hit_landing(piece)
        res.loudness_lufs = _loudness(piece)
        for kind, path in job.paths(out_dir).items():
            scorer.export(piece, path, video_path=job.video, kind=kind, overwrite=True)
            res.outputs.append(path.name)
        res.export_s = round(time.perf_counter() - t2, 3)
        res.status = "ok"
    except RobinError as err:
        res.error = str(err)
    except Exception as err:    # one bad video must never end the batch: report it instead
        res.error = f"unexpected {type(err).__name__}: {err}"
    res.total_s = round(time.perf_counter() - t0, 3)
    save_result(out_dir, res)
    return res


def _cut_landing(piece) -> tuple[int, int]:
    """(cuts, cuts within the landing tolerance of a beat): the video's cuts only (hit
    points are reported on their own)."""
    from robin_studio.timing.grid import align_cuts, landing_tolerance_s

    fps = getattr(piece.analysis, "fps", None)
    tol = landing_tolerance_s(1.0 / fps if fps else None) + 1e-9
    cuts = [t.time_s for t in piece.analysis.transitions]
    return len(cuts), sum(a.on_beat for a in align_cuts(piece.tempo_map, cuts, tol))


def _hit_landing(piece) -> tuple[int, int]:
    """(hit points on a beat within 10 ms, hit points heard in the render within 100 ms)."""
    from robin_studio.generate.hitpoints import hit_report

    lands = hit_report(piece)
    return sum(h.on_beat for h in lands), sum(h.heard_s is not None for h in lands)


def _loudness(piece) -> float | None:
    from robin_studio.render.master import loudness_lufs

    value = float(loudness_lufs(piece.audio, piece.sample_rate))
    return round(value, 2) if math.isfinite(value) else None


# -- results on disk -----------------------------------------------------------------------

def _state_path(out_dir: Path, name: str) -> Path:
    return Path(out_dir) / STATE_FOLDER / f"{name}.json"


def save_result(out_dir: Path, res: JobResult) -> None:
    path = _state_path(out_dir, res.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(asdict(res), indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def finished_earlier(job: Job, out_dir: Path) -> JobResult | None:
    """The earlier result of this job when it still stands: status ok, same settings and
    video, and every output file still there."""
    try:
        d = json.loads(_state_path(out_dir, job.name).read_text(encoding="utf-8"))
        res = JobResult(**{k: v for k, v in d.items() if k in JobResult.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None
    if res.status != "ok" or res.key != job.key():
        return None
    if not all(p.exists() for p in job.paths(out_dir).values()):
        return None
    res.status = "done earlier"
    return res


def write_report(out_dir: Path, results: list[JobResult]) -> tuple[Path, Path]:
    """`batch-report.csv` and `batch-report.json` in `out_dir` (each written whole, then renamed)."""
    out_dir = Path(out_dir)
    csv_path, json_path = out_dir / f"{REPORT_NAME}.csv", out_dir / f"{REPORT_NAME}.json"
    tmp = csv_path.with_name(csv_path.name + ".partial")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=REPORT_FIELDS)
        w.writeheader()
        for r in results:
            w.writerow(r.row())
    os.replace(tmp, csv_path)
    summary = {"jobs": len(results),
               "ok": sum(r.status == "ok" for r in results),
               "done_earlier": sum(r.status == "done earlier" for r in results),
               "failed": sum(r.status == "failed" for r in results),
               "results": [r.row() for r in results]}
    tmp = json_path.with_name(json_path.name + ".partial")
    tmp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, json_path)
    return csv_path, json_path


# -- the batch -----------------------------------------------------------------------------

def _check_destinations(job: Job, out_dir: Path, videos: list[str]) -> JobResult | None:
    """A failed result when one of the job's outputs would land on a video of the batch (say
    `-o` names the clips' own folder), a device, a FIFO or a folder; None when all are safe.
    Earlier outputs of the same job are replaced: that is how a batch resumes."""
    from robin_studio.outputs import check_output

    try:
        for kind, path in job.paths(out_dir).items():
            check_output(path, inputs=videos, overwrite=True, folder_ok=kind == "stems")
    except RobinError as err:
        return JobResult(job.name, job.video, "failed", key=job.key(), prompt=job.prompt, seed=job.seed,
                         tempo_bpm=job.tempo_bpm, hit_points=len(job.hits), error=str(err))
    return None


Runner = Callable[[list[Job], Path, Callable[[JobResult], None]], None]


def run_in_process(jobs: list[Job], out_dir: Path, done: Callable[[JobResult], None]) -> None:
    """One job after another in this process (the reference the others are measured against)."""
    for job in jobs:
        done(run_job(job, out_dir))


def run_batch(jobs: list[Job], out_dir: Path | str, *, runner: Runner = run_in_process,
              on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Run the jobs not finished earlier, write the report, return every job's result in the
    jobs' order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, JobResult] = {}
    todo = []
    videos = [j.video for j in jobs]
    for job in jobs:
        earlier = finished_earlier(job, out_dir)
        if earlier is not None:
            results[job.name] = earlier
            if on_result:
                on_result(earlier)
            continue
        refused = _check_destinations(job, out_dir, videos)
        if refused is not None:         # before any work: never over an input, a device...
            save_result(out_dir, refused)
            results[job.name] = refused
            if on_result:
                on_result(refused)
            continue
        todo.append(job)

    def done(res: JobResult) -> None:
        results[res.name] = res
        if on_result:
            on_result(res)

    try:
        if todo:
            runner(todo, out_dir, done)
    finally:
        # Also after Ctrl+C: the report says what finished; the rest runs on the next call.
        ordered = [results[j.name] for j in jobs if j.name in results]
        write_report(out_dir, ordered)
    return [results[j.name] for j in jobs]
