"""`robin-studio bench`: speed and memory for 30 s, 60 s and 10 min inputs, as multiples of
real time and of a reference computation timed in the same run; writes the summary at the top
of docs/BENCHMARKS.md (other sections of that file belong to the areas that wrote them)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

SUMMARY_START = "<!-- bench:summary:start -->"
SUMMARY_END = "<!-- bench:summary:end -->"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="only the 30 s input (CI)")
    parser.add_argument("--out", type=Path, default=None,
                        help="file to write (default: docs/BENCHMARKS.md in the checkout)")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="weights to measure (default: the shipped models/)")
    parser.add_argument("--no-others", action="store_true",
                        help="skip the other areas' bench/bench_*.py modules (run otherwise, each "
                             "in its own process; they rewrite their own sections of "
                             "docs/BENCHMARKS.md only when --out is not given)")


def _x(duration_s: float, seconds: float, cpu_s: float | None = None) -> str:
    """Multiple of real time: 12.3x means twelve times faster than the clip plays; with the
    CPU time beside it ("wall / CPU"), since a shared machine inflates wall time."""
    if seconds is None or math.isnan(seconds) or seconds <= 0:
        return "–"
    if cpu_s is not None and cpu_s > 0:
        return f"{duration_s / seconds:.1f}x / {duration_s / cpu_s:.1f}x"
    return f"{duration_s / seconds:.1f}x"


def _s(seconds: float) -> str:
    return "–" if seconds is None or math.isnan(seconds) else f"{seconds:.2f} s"


def _ref(seconds: float, ref_s: float) -> str:
    return "–" if seconds is None or math.isnan(seconds) else f"{seconds / ref_s:.0f}"


def summary_lines(results, ref_s: float, machine: str, started: str, quick: bool,
                  load: str = "") -> list[str]:
    L = [SUMMARY_START, "# Benchmarks", "",
         f"Machine: {machine}. Run: {started} by `robin-studio bench{' --quick' if quick else ''}`"
         + (f"; load average during the run {load} (other work on the machine slows every "
            "figure, the reference unit included)." if load else "."),
         f"Reference computation (fixed numpy FFT + matrix workload, best of 3, same run): "
         f"{ref_s * 1000:.0f} ms = 1 reference unit (ref).", "",
         "Speed as a multiple of real time (clip length / processing time; higher is faster), "
         "given as wall / CPU time where both were taken (CPU time of the case's own process: "
         "what an idle machine would need on one core; it sums all threads, so a stage that runs "
         "threads, like decoding, can show more CPU than wall time), and in reference "
         "units (wall time / reference time; lower is faster, comparable across machines). Peak memory is the maximum resident set of a separate process per "
         "input. Inputs are generated 640x360, 30 fps H.264 clips with cuts every 1.6-6 s.", "",
         "| input | generator | analysis | first chunk (cold process) | generation (notes + streaming synth) "
         "| rendering alone | mastering | export | peak memory |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        d, c = r.duration_s, r.cpu_s
        cells = [
            f"{_x(d, r.analysis_s, c.get('analysis'))} ({_ref(r.analysis_s, ref_s)} ref)",
            f"{_s(r.first_chunk_s)} ({_ref(r.first_chunk_s, ref_s)} ref)",
            f"{_x(d, r.generation_s, c.get('generation'))} ({_ref(r.generation_s, ref_s)} ref)",
            f"{_x(d, r.render_s, c.get('render'))} ({_ref(r.render_s, ref_s)} ref)",
            f"{_x(d, r.master_s, c.get('master'))} ({_ref(r.master_s, ref_s)} ref)",
            f"{_s(r.export_s)} ({_ref(r.export_s, ref_s)} ref)",
            "–" if math.isnan(r.peak_rss_mb) else f"{r.peak_rss_mb:.0f} MB",
        ]
        L.append(f"| {r.case} | {r.generator or '–'} | " + " | ".join(cells) + " |")
    errors = [f"- {r.case}: {e}" for r in results for e in r.errors]
    if errors:
        L += ["", "Not measured:"] + errors
    L += ["", "Sections below are written by each area's own benchmark (`robin_studio/bench/bench_*.py`).",
          SUMMARY_END]
    return L


def write_summary(path: Path, lines: list[str]) -> Path:
    """Replace (or insert) the summary block, leaving every other section untouched."""
    block = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if SUMMARY_START in old and SUMMARY_END in old:
        head, rest = old.split(SUMMARY_START, 1)
        _, tail = rest.split(SUMMARY_END, 1)
        new = head + block + tail
    else:
        body = old
        if body.lstrip().startswith("# Benchmarks"):
            body = body.lstrip()[len("# Benchmarks"):].lstrip("\n")
        new = block + "\n\n" + body if body.strip() else block + "\n"
    path.write_text(new, encoding="utf-8")
    return path


def run(args: argparse.Namespace) -> int:
    from robin_studio.bench.benchmark import (CASES_S, QUICK_CASES, machine, reference_seconds,
                                             run_case_subprocess, run_other_benches)
    from robin_studio.paths import project_root

    out = args.out or project_root() / "docs" / "BENCHMARKS.md"
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    ref_before = reference_seconds()
    results = []
    for case in (QUICK_CASES if args.quick else tuple(CASES_S)):
        print(f"bench {case} ...", file=sys.stderr, flush=True)
        r = run_case_subprocess(case, str(args.models_dir) if args.models_dir else None)
        results.append(r)
    ref_s = min(ref_before, reference_seconds())
    default_out = args.out is None
    others = {} if args.no_others else run_other_benches(args.quick, write=default_out)
    import os
    load = "{:.1f} / {:.1f} / {:.1f} (1/5/15 min)".format(*os.getloadavg()) if hasattr(os, "getloadavg") else ""
    lines = summary_lines(results, ref_s, machine(), started, args.quick, load)
    print("\n".join(ln for ln in lines if not ln.startswith("<!--")))
    for name, value in others.items():
        print(f"\n== {name}\n{value}")
    write_summary(out, lines)
    print(f"\nwrote {out}")
    return 0 if all(not math.isnan(r.generation_s) for r in results) else 1
