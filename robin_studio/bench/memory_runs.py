"""Peak memory of whole `robin-studio score` runs on long videos (issue 21: a 10-minute video
under 1.5 GB, a 60-minute one under 2.5 GB), each with its own empty cache folder.

Each run is the command a user types, under `/usr/bin/time -v` (its "Maximum resident set
size" is the figure: the whole process, every stage), with `ROBIN_STUDIO_CACHE_DIR` set to a
new empty folder, so the analysis, the model files' hashes and the SoundFont's measured
note levels are all made inside the run, as on a first use. Beside it: the resident memory
of the process sampled from /proc every half second (when it rose, and to what), wall and
CPU time, the load average before and after, the CPU model, and the length of the output's
video and audio streams (the run must have made the whole piece). Inputs are the synthetic
640x360 clips of `bench/longclip.py` (hard cuts every 1.2-7 s; made once, kept in the user
cache).

    .venv/bin/python -m robin_studio.bench.memory_runs --minutes 10 60 --repeats 2 [--write]

Not a `bench_*.py` module on purpose: `robin-studio bench` runs those, and these runs take
most of an hour on a loaded machine (`robin-studio bench --long` has one 60-minute score
run of its own).

`trace -- ARGS...` runs `robin-studio ARGS...` in this process with a sampler thread that
prints, every half second, the resident memory and where each thread is in robin_studio's
code (to find what a rise belongs to; tracemalloc would slow the run several times):

    .venv/bin/python -m robin_studio.bench.memory_runs trace -- score CLIP -p PROMPT -o OUT.mp4 -q
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SECTION = "## Memory of long runs"
# minutes -> ceiling in MiB (issue 21: 1.5 GB for 10 minutes, 2.5 GB for 60; read as GiB)
CEILING_MIB = {10: 1536.0, 60: 2560.0}
PROMPTS = ("warm piano and strings", "warm piano and strings with a light beat, builds to the end")
SAMPLE_S = 0.5


def _rss_mib(pid: int) -> float | None:
    """Resident memory of `pid` and its children (MiB), from /proc."""
    total = 0.0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024.0
        except OSError:
            if p == pid:
                return None
    return total


def _time_v(stderr: str) -> dict:
    """The figures of `/usr/bin/time -v` from its output."""
    def grab(label: str) -> float:
        m = re.search(rf"{re.escape(label)}:\s*([\d.:]+)", stderr)
        if not m:
            return float("nan")
        value = m.group(1)
        if ":" in value:          # h:mm:ss or m:ss.ss
            parts = [float(x) for x in value.split(":")]
            return sum(p * 60 ** (len(parts) - 1 - i) for i, p in enumerate(parts))
        return float(value)

    return {"peak_mib": grab("Maximum resident set size (kbytes)") / 1024.0,
            "wall_s": grab("Elapsed (wall clock) time (h:mm:ss or m:ss)"),
            "cpu_s": grab("User time (seconds)") + grab("System time (seconds)"),
            "exit": grab("Exit status")}


def _stream_seconds(path: Path) -> dict:
    import av

    with av.open(str(path)) as c:
        out = {}
        for s in c.streams:
            if s.type in ("video", "audio") and s.duration is not None:
                out[s.type] = round(float(s.duration * s.time_base), 2)
        return out


def run_score(clip: Path, prompt: str, python: str = sys.executable) -> dict:
    """One `score` of `clip` under /usr/bin/time -v with a new, empty cache folder."""
    from robin_studio.bench.benchmark import bench_env

    with tempfile.TemporaryDirectory(prefix="robin-bench-memory-") as tmp:
        tmp = Path(tmp)
        env = bench_env(tmp / "cache")
        out = tmp / "scored.mp4"
        cmd = ["/usr/bin/time", "-v", python, "-m", "robin_studio.cli", "score", str(clip),
               "-p", prompt, "-o", str(out), "-q"]
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        timeline: list[tuple[float, float]] = []
        with tempfile.TemporaryFile() as so, tempfile.TemporaryFile() as se:
            proc = subprocess.Popen(cmd, env=env, stdout=so, stderr=se)
            child = None
            while proc.poll() is None:
                if child is None:
                    kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
                    try:
                        child = int(kids.read_text().split()[0])
                    except (OSError, IndexError, ValueError):
                        pass
                if child is not None:
                    rss = _rss_mib(child)
                    if rss is not None:
                        timeline.append((round(time.perf_counter() - t0, 1), round(rss)))
                time.sleep(SAMPLE_S)
            se.seek(0)
            so.seek(0)
            stderr = se.read().decode(errors="replace")
            stdout = so.read().decode(errors="replace")
        figures = _time_v(stderr)
        figures.update(load_before=load_before, load_after=os.getloadavg(), prompt=prompt,
                       timeline=timeline, streams=_stream_seconds(out) if out.exists() else {},
                       summary=next((ln for ln in stdout.splitlines() if " shots, " in ln), ""))
        if proc.returncode != 0:
            figures["error"] = (stderr.strip().splitlines() or ["no output"])[-20:]
        return figures


def rises(timeline: list[tuple[float, float]], step_mib: float = 150.0) -> str:
    """Where the resident memory first passed each `step_mib` (time s -> MiB)."""
    marks, next_level = [], step_mib
    for t, rss in timeline:
        while rss >= next_level:
            marks.append(f"{next_level:.0f} MiB at {t:.0f} s")
            next_level += step_mib
    return ", ".join(marks)


def to_markdown(runs: list[dict], machine: str, commit: str) -> str:
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [SECTION, "",
             f"`python -m robin_studio.bench.memory_runs`, {date}, {commit}, {machine}. "
             "Each row is one whole `robin-studio score CLIP -p PROMPT -o OUT.mp4 -q` under "
             "`/usr/bin/time -v` with a new, empty `ROBIN_STUDIO_CACHE_DIR` (analysis, model "
             "hashes and the SoundFont's note measurements made in the run); peak = its "
             "maximum resident set size. Synthetic 640x360 H.264 clips (`bench/longclip.py`).", "",
             "| video | prompt | peak memory | ceiling | wall / CPU | load before -> after "
             "| output video / audio | memory rose past |",
             "|---|---|---:|---:|---:|---|---:|---|"]
    for r in runs:
        ceiling = CEILING_MIB.get(r["minutes"])
        verdict = "" if ceiling is None else (" (under)" if r["peak_mib"] < ceiling else " (**over**)")
        streams = r.get("streams") or {}
        lines.append(
            f"| {r['minutes']} min | {r['prompt']} | **{r['peak_mib']:,.0f} MiB**{verdict} "
            f"| {'' if ceiling is None else f'{ceiling:,.0f} MiB'} "
            f"| {r['wall_s']:.0f} s / {r['cpu_s']:.0f} s "
            f"| {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f} "
            f"| {streams.get('video', '-')} / {streams.get('audio', '-')} s "
            f"| {rises(r['timeline'], 300.0) or '-'} |")
    by_len: dict[int, list[float]] = {}
    for r in runs:
        by_len.setdefault(r["minutes"], []).append(r["peak_mib"])
    lines += [""] + [f"{m} min: peak {statistics.median(v):,.0f} MiB median of {len(v)} "
                     f"({min(v):,.0f}-{max(v):,.0f})." for m, v in sorted(by_len.items())]
    return "\n".join(lines) + "\n"


def trace(argv: list[str]) -> int:
    """Run `robin-studio ARGV` here, printing RSS and the robin_studio frames of each thread
    every `SAMPLE_S` seconds to stderr."""
    import traceback

    from robin_studio import cli

    t0 = time.perf_counter()
    stop = threading.Event()

    def where(frame) -> str:
        stack = [f for f in traceback.extract_stack(frame) if "robin_studio" in f.filename
                 and "memory_runs" not in f.filename]
        return " < ".join(f"{Path(f.filename).stem}.{f.name}:{f.lineno}" for f in reversed(stack[-4:]))

    def sample() -> None:
        me = threading.get_ident()
        last = 0.0
        while not stop.wait(SAMPLE_S):
            rss = _rss_mib(os.getpid()) or 0.0
            names = {t.ident: t.name for t in threading.enumerate()}
            spots = [f"[{names.get(ident, ident)}] {where(fr)}"
                     for ident, fr in sys._current_frames().items() if ident != me]
            mark = " +" if rss - last > 50 else ""
            last = rss
            print(f"trace {time.perf_counter() - t0:7.1f} s {rss:7.0f} MiB{mark} | "
                  + " || ".join(s for s in spots if not s.endswith("] ")), file=sys.stderr, flush=True)

    threading.Thread(target=sample, name="memory-trace", daemon=True).start()
    try:
        return cli.main(argv)
    finally:
        stop.set()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["trace"]:
        rest = argv[1:]
        return trace(rest[1:] if rest[:1] == ["--"] else rest)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=int, nargs="+", default=[10, 60], help="video lengths")
    ap.add_argument("--repeats", type=int, default=2, help="runs of each length")
    ap.add_argument("--prompt", action="append", default=None,
                    help="prompt(s), taken in turn by the repeats (default: two prompts)")
    ap.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    from robin_studio.bench.bench_analysis import _commit
    from robin_studio.bench.benchmark import machine
    from robin_studio.bench.longclip import cached_clip

    prompts = args.prompt or list(PROMPTS)
    clips = {m: cached_clip(60.0 * m, 640, 360).path for m in args.minutes}   # before timing
    runs = []
    for k in range(args.repeats):
        for m in args.minutes:
            r = run_score(clips[m], prompts[k % len(prompts)])
            r["minutes"] = m
            runs.append(r)
            print(f"{m} min, {r['prompt']!r}: peak {r['peak_mib']:,.0f} MiB, {r['wall_s']:.0f} s wall, "
                  f"{r['cpu_s']:.0f} s CPU, load {r['load_before'][0]:.1f} -> {r['load_after'][0]:.1f}, "
                  f"streams {r['streams']}, rose past {rises(r['timeline'], 300.0)}"
                  + (f"\n  ERROR {r['error']}" if "error" in r else ""), flush=True)
    md = to_markdown(runs, machine(), _commit())
    print(md)
    if args.write:
        from robin_studio.bench import bench_doc
        print(f"wrote {bench_doc.write_section(SECTION, md)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
