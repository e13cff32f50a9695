"""Time to the first chunk of music from process start, for a whole `robin-studio score` run.

    python -m robin_studio.bench.firstchunk SCORE-ARGUMENTS...

runs `robin-studio score SCORE-ARGUMENTS...` in this process, unchanged, and prints as the
last line of stdout a JSON object: the wall-clock time (`time.time()`) at which the first
chunk was ready and the CPU time the process had used by then, the heavy modules (`HEAVY`) imported by then and by the end, and the exit
code. The caller notes `time.time()` just before starting the process, so the difference is
the time from process start (interpreter start-up and every import included) to the first
sound. Only the engine's chunk iterator is wrapped; nothing else is touched.

    python -m robin_studio.bench.firstchunk --compare N [--tree NAME=PATH]... SCORE-ARGUMENTS...

runs that N times, each beside the references in the same run (`python -c pass`: the
interpreter alone; `python -c "import numpy"`: the least any scoring process pays), all as
fresh processes with byte code cached, and prints a table: wall time from process start to
the first chunk and the CPU time by then, beside the references' wall and CPU, with the
load average before and after; `--tree` measures another checkout in the same turns. Run
`robin-studio analyze CLIP` first so the analysis is cached (and one untimed run fills the
other caches).
"""

from __future__ import annotations

import json
import resource
import sys
import time

# Imports that must never be on the path to the first sound (issue 21): seconds of start-up
# each, and torch is never on the scoring path at all.
HEAVY = ("torch", "librosa", "numba", "scipy.signal", "scipy.stats", "pyloudnorm", "PySide6",
         "matplotlib")


def _heavy() -> list[str]:
    return [m for m in HEAVY if m in sys.modules]


REFERENCES = (("python -c pass", "pass"), ("python -c \"import numpy\"", "import numpy"))


def compare(runs: int, score_args: list[str], python: str = sys.executable,
            trees: dict[str, str] | None = None) -> dict:
    """First chunk of `score score_args`, `runs` times, alternated with the references;
    `trees` ({name: checkout}) are measured in the same turns (the commit before, say)."""
    import os
    import tempfile
    from pathlib import Path

    from robin_studio.bench.benchmark import bench_env, load, run_process

    env = bench_env(Path(os.environ.get("ROBIN_STUDIO_CACHE_DIR") or tempfile.mkdtemp()))
    trees = trees or {}
    out: dict = {"load_before": load(), "ours": [], **{name: [] for name, _ in REFERENCES},
                 **{name: [] for name in trees}}
    for _ in range(runs):
        for name, code in REFERENCES:
            r = run_process([python, "-c", code], env)
            out[name].append({"wall_s": r.wall_s, "cpu_s": r.cpu_s})
        for name in ("ours", *trees):
            run_env = dict(env)
            if name in trees:
                run_env["PYTHONPATH"] = os.pathsep.join([trees[name], env["PYTHONPATH"]])
            start = time.time()
            # -P: PYTHONPATH, not the working folder, says which checkout runs
            r = run_process([python, "-P", "-m", "robin_studio.bench.firstchunk", *score_args], run_env)
            if r.code != 0:
                raise RuntimeError(f"score failed (exit {r.code}): {r.stderr[-800:]}")
            state = json.loads(r.stdout.strip().splitlines()[-1])
            out[name].append({"wall_s": state["first_chunk_time"] - start, "cpu_s": state["first_chunk_cpu_s"],
                              "heavy": state["heavy_at_first_chunk"], "process_wall_s": r.wall_s,
                              "process_cpu_s": r.cpu_s, "peak_mb": r.peak_mb})
    out["load_after"] = load()
    return out


def compare_markdown(r: dict) -> str:
    def med(rows, key):
        vals = sorted(row[key] for row in rows)
        return vals[len(vals) // 2]

    def cell(rows):
        walls = [row["wall_s"] for row in rows]
        return (f"{med(rows, 'wall_s'):.2f} s ({min(walls):.2f}-{max(walls):.2f}) | "
                f"{med(rows, 'cpu_s'):.2f} s")

    numpy_rows = r[REFERENCES[1][0]]
    ratio = sorted(o["wall_s"] / n["wall_s"] for o, n in zip(r["ours"], numpy_rows))
    cpu_ratio = sorted(o["cpu_s"] / n["cpu_s"] for o, n in zip(r["ours"], numpy_rows))
    heavy = sorted({m for row in r["ours"] for m in row["heavy"]}) or ["none"]
    lines = [f"| what ({len(r['ours'])} runs each, alternated) | wall: median (range) | CPU: median |",
             "|---|---:|---:|"]
    for name, _ in REFERENCES:
        lines.append(f"| {name} (reference) | {cell(r[name])} |")
    lines.append(f"| `score`: process start to the first chunk | {cell(r['ours'])} |")
    known = {"ours", "load_before", "load_after", *(name for name, _ in REFERENCES)}
    lines += [f"| {name}: `score`, process start to the first chunk | {cell(r[name])} |"
              for name in r if name not in known]
    lines += [
              f"| ratio to `import numpy`, run by run | wall {ratio[len(ratio) // 2]:.1f} "
              f"({ratio[0]:.1f}-{ratio[-1]:.1f}) | CPU {cpu_ratio[len(cpu_ratio) // 2]:.1f} |",
              "",
              f"Heavy modules imported by the first chunk: {', '.join(heavy)}. Load average "
              f"(1/5/15 min) before {r['load_before']}, after {r['load_after']}."]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compare"]:     # --compare N [--tree NAME=PATH]... SCORE-ARGUMENTS
        rest, trees = argv[2:], {}
        while rest[:1] == ["--tree"]:
            name, path = rest[1].split("=", 1)
            trees[name] = path
            rest = rest[2:]
        print(compare_markdown(compare(int(argv[1]), rest, trees=trees)))
        return 0
    from robin_studio.generate import engine

    state: dict = {}
    run = engine.GenerationJob._run

    def timed_run(self):
        for chunk in run(self):
            if "first_chunk_time" not in state:
                state["first_chunk_time"] = time.time()
                usage = resource.getrusage(resource.RUSAGE_SELF)
                state["first_chunk_cpu_s"] = usage.ru_utime + usage.ru_stime
                state["heavy_at_first_chunk"] = _heavy()
            yield chunk

    engine.GenerationJob._run = timed_run
    from robin_studio.cli import main as cli_main

    code = cli_main(["score", *argv])
    state.update(exit_code=code, heavy_at_end=_heavy())
    print(json.dumps(state), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
