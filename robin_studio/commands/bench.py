"""`robin-studio bench`: speed and memory of whole commands, each as a ratio to a reference
measured in the same run on the same input (see `robin_studio/bench/benchmark.py`); writes
the summary at the top of docs/BENCHMARKS.md (other sections of that file belong to the areas
that wrote them)."""

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
    parser.add_argument("--long", action="store_true",
                        help="also the 60-minute input (its whole score run: about 15 min of CPU)")
    parser.add_argument("--cases", nargs="+", default=None, metavar="CASE",
                        help="measure only these inputs (see robin_studio/bench/benchmark.py)")
    parser.add_argument("--out", type=Path, default=None,
                        help="file to write (default: docs/BENCHMARKS.md in the checkout)")
    parser.add_argument("--no-others", action="store_true",
                        help="skip the other areas' bench/bench_*.py modules (run otherwise, each "
                             "in its own process; they rewrite their own sections of "
                             "docs/BENCHMARKS.md only when --out is not given)")


def _ws(f: dict | None) -> str:
    return "–" if not f else f"{f['wall_s']:.2f} s / {f['cpu_s']:.2f} s"


def _ratio(ours: dict | None, ref: dict | None) -> str:
    if not ours or not ref or ref["wall_s"] <= 0 or ref["cpu_s"] <= 0:
        return "–"
    return f"**{ours['wall_s'] / ref['wall_s']:.2f}** / {ours['cpu_s'] / ref['cpu_s']:.2f}"


def _mb(f: dict | None) -> str:
    return "–" if not f or math.isnan(f.get("peak_mb", math.nan)) else f"{f['peak_mb']:.0f} MB"


def summary_lines(results, machine: str, started: str, load_before: str, load_after: str,
                  commit: str = "", quick: bool = False, ceilings: dict | None = None) -> list[str]:
    ceilings = ceilings or {}
    L = [SUMMARY_START, "# Benchmarks", "",
         f"Machine: {machine}. Run: {started}{f' at {commit}' if commit else ''} by "
         f"`robin-studio bench{' --quick' if quick else ''}`. Load average (1/5/15 min) before "
         f"{load_before}, after {load_after}: the machine is shared with other jobs, so wall "
         "times carry their load; the ratios to the same-run references are what count.", "",
         "Each figure is a whole process started as a user starts it, measured from outside: "
         "wall time / CPU time (all threads of the process), and its peak resident memory. "
         "The reference beside it ran back to back on the same file: a plain PyAV decode of "
         "every frame for analysis, a PyAV remux (the picture copied, as `ffmpeg -c copy`) for "
         "export. Ratio = ours / reference, wall / CPU (lower is better; **wall** in bold).", "",
         "| input | what | ours: wall / CPU | reference | reference: wall / CPU | ratio | peak memory |",
         "|---|---|---:|---|---:|---:|---:|"]
    for r in results:
        f = r.figures
        name = f"{r.case} ({r.size}, {r.duration_s:g} s)"
        if "analyze" in f:
            L.append(f"| {name} | `analyze`, empty cache | {_ws(f['analyze'])} | PyAV decode "
                     f"| {_ws(f.get('decode'))} | {_ratio(f['analyze'], f.get('decode'))} | {_mb(f['analyze'])} |")
        if "export" in f:
            L.append(f"| {name} | MP4 export of the piece (delivery master + AAC + picture copy) "
                     f"| {_ws(f['export'])} | PyAV remux | {_ws(f.get('remux'))} "
                     f"| {_ratio(f['export'], f.get('remux'))} | – |")
        if "score" in f:
            ceiling = ceilings.get(r.case)
            verdict = ""
            if ceiling:
                verdict = (f" ({'under' if f['score']['peak_mb'] <= ceiling else 'OVER'} the "
                           f"{ceiling / 1024:.1f} GB ceiling)")
            L.append(f"| {name} | whole `score`, empty cache ({r.duration_s / f['score']['wall_s']:.1f}x "
                     f"real time) | {_ws(f['score'])} | PyAV decode | {_ws(f.get('decode'))} "
                     f"| {_ratio(f['score'], f.get('decode'))} | {_mb(f['score'])}{verdict} |")
        for key, label in (("first_chunk_cold", "first chunk from process start, analysis cached, "
                                                "first run"),
                           ("first_chunk", "first chunk from process start, analysis cached, "
                                           "second run")):
            if key in f:
                heavy = ", ".join(f[key].get("heavy") or []) or "none"
                cpu = f[key].get("cpu_to_first_s")
                L.append(f"| {name} | {label} (heavy imports by then: {heavy}) "
                         f"| {f[key]['from_start_s']:.2f} s" + (f" / {cpu:.2f} s" if cpu is not None else "")
                         + f" | – | – | – | {_mb(f[key])} |")
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
    import subprocess

    from robin_studio.bench.benchmark import (CASES, FULL_CASES, LONG_CASES, MEMORY_CEILING_MB,
                                              QUICK_CASES, load, machine, run_other_benches)
    from robin_studio.paths import project_root

    out = args.out or project_root() / "docs" / "BENCHMARKS.md"
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = load()
    cases = args.cases or (list(QUICK_CASES) if args.quick else
                           list(FULL_CASES) + (list(LONG_CASES) if args.long else []))
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        from robin_studio.errors import RobinError
        raise RobinError(f"No benchmark input called {', '.join(unknown)}.",
                         f"Choose from: {', '.join(CASES)}.")
    results = []
    from robin_studio.bench.benchmark import run_case
    for case in cases:
        print(f"bench {case} ...", file=sys.stderr, flush=True)
        results.append(run_case(case))
    load_after = load()
    default_out = args.out is None
    others = {} if args.no_others else run_other_benches(args.quick, write=default_out)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=project_root(),
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    lines = summary_lines(results, machine(), started, load_before, load_after, commit,
                          args.quick, MEMORY_CEILING_MB)
    print("\n".join(ln for ln in lines if not ln.startswith("<!--")))
    for name, value in others.items():
        print(f"\n== {name}\n{value}")
    write_summary(out, lines)
    print(f"\nwrote {out}")
    return 0 if all(not r.errors for r in results) else 1
