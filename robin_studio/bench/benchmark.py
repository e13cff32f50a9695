"""`robin-studio bench`: speed and memory of the whole path for 30 s, 60 s and 10 min inputs.

Each input length runs in its own subprocess (`python -m robin_studio.bench.benchmark CASE`),
so its peak memory (`ru_maxrss`) is that case's alone. Per case:
  analysis (decode, shots, motion, semantics: `Scorer.analyze`),
  generation (notes + streaming synthesis, chunk by chunk) and its first-chunk latency,
  rendering alone (the finished score through the synthesizer again) and mastering alone,
  export (MP4 mux with the original picture).
Every time is printed as a multiple of real time (clip length / time: 10x = ten times faster
than the clip plays) and in *reference units*: the time divided by a fixed numpy workload (FFTs
and a matrix product) timed in the same run, so figures from different machines compare.
The other engineers' `bench/bench_*.py` modules are called too, when present.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

CASES_S = {"30s": 30.0, "60s": 60.0, "10min": 600.0}
QUICK_CASES = ("30s",)
PROMPT = "warm piano and strings with a light beat, builds to the end"


def reference_seconds(repeats: int = 3) -> float:
    """Best-of-`repeats` time of a fixed numpy workload (about 0.1-0.3 s on a laptop core)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 16384))
    a = rng.standard_normal((384, 384))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(4):
            np.fft.rfft(x, axis=1)
        for _ in range(4):
            a = np.tanh(a @ a / 384.0)
        best = min(best, time.perf_counter() - t)
    return best


@dataclass
class CaseResult:
    case: str
    duration_s: float
    analysis_s: float = float("nan")
    first_chunk_s: float = float("nan")
    generation_s: float = float("nan")     # notes + streaming synthesis, whole piece
    render_s: float = float("nan")         # the finished score through the synth again
    master_s: float = float("nan")
    export_s: float = float("nan")
    peak_rss_mb: float = float("nan")
    generator: str = ""
    errors: list[str] = field(default_factory=list)
    cpu_s: dict[str, float] = field(default_factory=dict)   # stage -> CPU time of this process


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _Stage:
    """Times a stage in wall and CPU seconds (CPU time is what an idle machine would need)."""

    def __init__(self, res: "CaseResult", name: str) -> None:
        self.res, self.name = res, name

    def __enter__(self):
        self.t, self.c = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc):
        setattr(self.res, f"{self.name}_s", time.perf_counter() - self.t)
        self.res.cpu_s[self.name] = _cpu() - self.c
        return False


def _bench_clip(duration_s: float):
    from robin_studio.eval.clips import CutPattern, write_clip
    from robin_studio.paths import cache_dir

    pattern = CutPattern(f"bench-{int(duration_s)}s-640x360", duration_s, 640, 360,
                         (3.1, 4.4, 2.2, 6.0, 1.6, 5.3), fps=30)
    return write_clip(pattern, cache_dir() / "bench")


def run_case(case: str, clip_path: str, models_dir: str | None = None) -> CaseResult:
    """One input length, in this process (the parent runs this in a subprocess).

    The analysis cache is pointed at an empty folder first, so analysis is really measured.
    """
    import tempfile

    os.environ["ROBIN_STUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="robin-bench-cache-")
    from robin_studio.generate import sound
    from robin_studio.generate.engine import Scorer

    dur = CASES_S[case]
    res = CaseResult(case, dur)
    scorer = Scorer(models_dir=models_dir)
    res.generator = scorer.generator_name
    with _Stage(res, "analysis"):
        analysis = scorer.analyze(clip_path)
    with _Stage(res, "generation"):
        job = scorer.generate(analysis, PROMPT, seed=0)
        for _ in job:
            pass
        piece = job.result()
    res.first_chunk_s = job.timings_s[0] if job.timings_s else float("nan")
    with _Stage(res, "render"):
        raw = sound.render_full(piece.score, piece.duration_s)
    with _Stage(res, "master"):
        sound.master(raw, sound.SAMPLE_RATE)
    try:
        with tempfile.TemporaryDirectory() as d, _Stage(res, "export"):
            scorer.export(piece, Path(d) / "out.mp4", video_path=clip_path)
    except Exception as err:   # export not available yet, or failed: report, don't hide
        res.export_s = float("nan")
        res.errors.append(f"export: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
    res.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    return res


def run_case_subprocess(case: str, models_dir: str | None = None, timeout_s: float = 3600) -> CaseResult:
    clip = _bench_clip(CASES_S[case])
    cmd = [sys.executable, "-m", "robin_studio.bench.benchmark", case, "--clip", str(clip.path)]
    if models_dir:
        cmd += ["--models-dir", str(models_dir)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return CaseResult(case, CASES_S[case], errors=[f"case failed: {tail}"])
    return CaseResult(**json.loads(lines[-1]))


def other_benches() -> list[str]:
    """The other areas' benchmark modules present in this checkout (bench/bench_*.py)."""
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("bench_*.py"))


def run_other_benches(quick: bool, write: bool, timeout_s: float = 1800) -> dict[str, str]:
    """Run each `python -m robin_studio.bench.bench_X` in its own process (so memory figures stay
    its own), with `--quick` and `--write` when the module takes them; returns its output."""
    here = Path(__file__).resolve().parent
    out: dict[str, str] = {}
    for name in other_benches():
        source = (here / f"{name}.py").read_text(encoding="utf-8")
        cmd = [sys.executable, "-m", f"robin_studio.bench.{name}"]
        if quick and "--quick" in source:
            cmd.append("--quick")
        if write and "--write" in source:
            cmd.append("--write")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)
            text = proc.stdout.strip()
            if proc.returncode != 0:
                text += f"\n(exit {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1]})"
        except subprocess.TimeoutExpired:
            text = f"(stopped after {timeout_s:.0f} s)"
        out[name] = text
    return out


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="one benchmark case (used by robin-studio bench)")
    p.add_argument("case", choices=list(CASES_S))
    p.add_argument("--clip", required=True)
    p.add_argument("--models-dir", default=None)
    a = p.parse_args(argv)
    try:
        res = run_case(a.case, a.clip, a.models_dir)
    finally:
        import shutil
        tmp = os.environ.get("ROBIN_STUDIO_CACHE_DIR", "")
        if "robin-bench-cache-" in tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(asdict(res)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
