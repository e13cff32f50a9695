"""`robin-studio bench`: speed and memory of whole commands, each beside a reference measured
in the same run on the same input.

Every figure comes from a separate process started the way a user starts the command
(`python -m robin_studio.cli ...`), timed from outside: wall time, the CPU time of the
process and its children, and the peak resident memory of the whole process (`wait4`'s
`ru_maxrss`), not of one stage. Each figure sits beside a reference measured back to back on
the same file, and the ratio between them is what counts, because this machine is shared
and the wall time of anything carries other people's load:

- analysis: `robin-studio analyze` (empty cache) / a plain PyAV decode of every frame of the
  same file (`DECODE_REFERENCE`, its own process, FFmpeg's threads on);
- export: the MP4 export of a finished piece (`Scorer.export`, whose cost is the delivery
  master and the AAC encode around a picture copy) / a PyAV remux of the same file (the
  picture stream copied into a new MP4: what `ffmpeg -c copy` does);
- score: the whole `robin-studio score` run (empty cache): wall, CPU and peak memory, for
  memory against the 1.5 GB (10 min) and 2.5 GB (60 min) ceilings;
- first chunk: from process start to the first chunk of music of `robin-studio score` on a
  clip whose analysis is cached (`bench/firstchunk.py`), and the heavy modules imported by
  then.

The load average before and after and the CPU model are printed with the figures. Inputs are
synthetic H.264 clips with hard cuts at known frames (`bench/longclip.py`; cached in the user
cache folder, never committed) and, for the analysis ratio on footage that costs a real
decoder something, Big Buck Bunny cut with moving patterns (`bench_analysis.make_clip`).
Python byte code is cached outside the checkout for these processes (as an installed
package has it), so no run pays for compiling the sources.

The other areas' `bench/bench_*.py` modules are run too, each in its own process.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# name -> (seconds, width, height, content): "synthetic" = bench/longclip.py, "film" = Big
# Buck Bunny cut with patterns (bench_analysis.make_clip)
CASES: dict[str, tuple[float, int, int, str]] = {
    "30s-360p": (30.0, 640, 360, "synthetic"),
    "60s-360p-film": (60.0, 640, 360, "film"),
    "30s-1080p-film": (30.0, 1920, 1080, "film"),
    "10min-1080p": (600.0, 1920, 1080, "synthetic"),
    "60min-360p": (3600.0, 640, 360, "synthetic"),
}
QUICK_CASES = ("30s-360p",)
FULL_CASES = ("60s-360p-film", "30s-1080p-film", "10min-1080p")
LONG_CASES = ("60min-360p",)
# What each case measures (the long ones only the whole score run and its reference decode:
# their analysis is inside the score run, and running it twice would double the CPU spent).
_STEPS = {"30s-360p": ("analyze", "score", "first_chunk", "export"),
          "60s-360p-film": ("analyze", "score", "first_chunk", "export"),
          "30s-1080p-film": ("analyze",),
          "10min-1080p": ("score",),
          "60min-360p": ("score",)}
MEMORY_CEILING_MB = {"10min-1080p": 1536.0, "60min-360p": 2560.0}
PROMPT = "warm piano and strings with a light beat, builds to the end"

DECODE_REFERENCE = (
    "import av, sys\n"
    "with av.open(sys.argv[1]) as c:\n"
    "    s = c.streams.video[0]\n"
    "    s.thread_type = 'AUTO'\n"
    "    print(sum(1 for _ in c.decode(s)))\n")
REMUX_REFERENCE = (
    "import av, sys\n"
    "with av.open(sys.argv[1]) as src, av.open(sys.argv[2], 'w', format='mp4') as out:\n"
    "    vin = src.streams.video[0]\n"
    "    vout = out.add_stream_from_template(vin)\n"
    "    for p in src.demux(vin):\n"
    "        if p.dts is None:\n"
    "            continue\n"
    "        p.stream = vout\n"
    "        out.mux(p)\n")


@dataclass
class Run:
    """One process: wall and CPU seconds, peak resident memory, exit code."""
    wall_s: float
    cpu_s: float
    peak_mb: float
    code: int
    stdout: str = ""
    stderr: str = ""


def run_process(cmd: list[str], env: dict | None = None, timeout_s: float = 7200) -> Run:
    """Run `cmd` and measure it from outside (`wait4`: the CPU time and peak memory of that
    process, its waited-for children included)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        deadline = t + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0,
                   proc.returncode, out.read().decode(errors="replace"),
                   err.read().decode(errors="replace"))


def bench_env(cache_dir: Path) -> dict:
    """The environment of a measured process: its own (empty) analysis cache, byte code
    cached outside the checkout, and the checkout first on the path."""
    from robin_studio.paths import cache_dir as user_cache, project_root

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(user_cache() / "bench" / "pycache")
    env["ROBIN_STUDIO_CACHE_DIR"] = str(cache_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(project_root()), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def case_clip(case: str) -> Path:
    """The input file of `case` (made once, kept in the user cache)."""
    from robin_studio.bench.longclip import cached_clip

    seconds, w, h, content = CASES[case]
    if content == "synthetic":
        return cached_clip(seconds, w, h).path
    from robin_studio.bench.bench_analysis import film_clip

    return film_clip(seconds, w, h)


@dataclass
class CaseResult:
    case: str
    duration_s: float
    size: str
    figures: dict[str, dict] = field(default_factory=dict)   # name -> Run fields (+ extras)
    errors: list[str] = field(default_factory=list)


def _fig(run: Run, **extra) -> dict:
    d = {"wall_s": round(run.wall_s, 3), "cpu_s": round(run.cpu_s, 3), "peak_mb": round(run.peak_mb, 1)}
    d.update(extra)
    return d


def _check(res: CaseResult, name: str, run: Run) -> bool:
    if run.code != 0:
        tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
        res.errors.append(f"{name}: exit {run.code}: {tail}")
        return False
    return True


def run_case(case: str, python: str = sys.executable) -> CaseResult:
    seconds, w, h, _ = CASES[case]
    clip = case_clip(case)
    res = CaseResult(case, seconds, f"{w}x{h}")
    steps = _STEPS[case]
    with tempfile.TemporaryDirectory(prefix="robin-bench-") as tmp:
        tmp = Path(tmp)
        r = run_process([python, "-c", DECODE_REFERENCE, str(clip)], bench_env(tmp / "c0"))
        if _check(res, "decode", r):
            res.figures["decode"] = _fig(r, frames=int(r.stdout.strip() or 0))
        if "analyze" in steps:
            r = run_process([python, "-m", "robin_studio.cli", "analyze", str(clip)], bench_env(tmp / "c1"))
            if _check(res, "analyze", r):
                res.figures["analyze"] = _fig(r)
        if "score" in steps:
            r = run_process([python, "-m", "robin_studio.cli", "score", str(clip), "-p", PROMPT,
                             "-o", str(tmp / "scored.mp4"), "-q"], bench_env(tmp / "c2"))
            if _check(res, "score", r):
                res.figures["score"] = _fig(r)
        if "first_chunk" in steps:
            env = bench_env(tmp / "c3")
            run_process([python, "-m", "robin_studio.cli", "analyze", str(clip)], env)
            # once to fill the caches a second run finds (the bank's measurements), then timed
            for attempt in range(2):
                start = time.time()
                r = run_process([python, "-m", "robin_studio.bench.firstchunk", str(clip), "-p", PROMPT,
                                 "-o", str(tmp / "first.mp4"), "-q", "--overwrite"], env)
                if not _check(res, "first chunk", r):
                    break
                state = json.loads(r.stdout.strip().splitlines()[-1])
                key = "first_chunk_cold" if attempt == 0 else "first_chunk"
                res.figures[key] = _fig(r, from_start_s=round(state["first_chunk_time"] - start, 3),
                                        cpu_to_first_s=round(state["first_chunk_cpu_s"], 3),
                                        heavy=state["heavy_at_first_chunk"])
        if "export" in steps:
            r = run_process([python, "-c", REMUX_REFERENCE, str(clip), str(tmp / "remux.mp4")],
                            bench_env(tmp / "c4"))
            if _check(res, "remux", r):
                res.figures["remux"] = _fig(r)
            r = run_process([python, "-m", "robin_studio.bench.benchmark", "export", str(clip),
                             str(tmp / "export.mp4")], bench_env(tmp / "c5"))
            if _check(res, "export", r):
                stage = json.loads(r.stdout.strip().splitlines()[-1])
                res.figures["export"] = {"wall_s": stage["wall_s"], "cpu_s": stage["cpu_s"],
                                         "peak_mb": round(r.peak_mb, 1)}
    return res


def time_export(clip: str, out: str) -> dict:
    """In this process: score `clip` (not timed), then time `Scorer.export` to `out` alone
    (wall and CPU of this process)."""
    import resource

    from robin_studio.generate.engine import Scorer

    def cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime

    scorer = Scorer()
    piece = scorer.generate(scorer.analyze(clip), PROMPT, seed=0).result()
    t, c = time.perf_counter(), cpu()
    scorer.export(piece, out, video_path=clip, overwrite=True)
    return {"wall_s": round(time.perf_counter() - t, 3), "cpu_s": round(cpu() - c, 3)}


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
    from robin_studio.bench.bench_doc import cpu_model

    cpu = cpu_model()
    mem = ""
    try:
        kb = int(next(ln for ln in Path("/proc/meminfo").read_text().splitlines()
                      if ln.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["export"] and len(argv) == 3:      # used by run_case
        print(json.dumps(time_export(argv[1], argv[2])), flush=True)
        return 0
    if argv[:1] == ["case"] and len(argv) == 2:
        print(json.dumps(asdict(run_case(argv[1]))), flush=True)
        return 0
    print("usage: python -m robin_studio.bench.benchmark export CLIP OUT.mp4 | case NAME",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
