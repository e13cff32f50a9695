"""Benchmark of the desktop app (the app owner's): how soon a creator sees and hears things,
and how responsive the window stays while the engine works.

Drives the real window (offscreen Qt) with the engine in its own process, as the app runs:
- engine start: the child process up and warmed (SoundFont, text encoder, generator loaded);
- open: from File > Open to the first frame on screen, and to the analysis on the lanes;
- generate: from pressing Generate to the first chunk drawn, and to the whole piece, as
  multiples of real time (clip seconds per second of waiting);
- regenerate: a 2-bar region, from the button to the new take in place;
- the event loop during generation: longest gap of a 10 ms timer, its 95th percentile, and
  the longest stall this process caused (see `robin_studio.app.latency`);
- input latency, what the creator feels: from a key press (Shift+Right/Left, posted to the
  window's event queue every 150 ms) to the repaint of the timecode it moves, while a 60 s
  clip is generated, and with the window idle in the same run as the reference.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m robin_studio.bench.bench_app [--clip F] [--write]

`--write` replaces the "## App" section of docs/BENCHMARKS.md. Qt is imported only here,
inside `run_bench`, so the bench package stays Qt-free for everything else.

`--first-paint N` measures the start instead, from outside, as a user starts the app: N runs
of `python -m robin_studio gui` (fresh user folders each time, so the welcome opens as on a
first run) alternating with N runs of a bare PySide6 window (`BARE_WINDOW`: the reference,
what any Qt app pays), each timed from just before the process starts to its first paint
(the app's frame), and for the app also to the editor's first paint (READY); CPU time beside
wall time, the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from robin_studio.bench import bench_doc

SECTION = "## App"

# The reference for the first paint: a bare PySide6 main window, painted once, then quit.
BARE_WINDOW = (
    "import time\n"
    "from PySide6 import QtCore, QtWidgets\n"
    "app = QtWidgets.QApplication(['bare'])\n"
    "class W(QtWidgets.QMainWindow):\n"
    "    def paintEvent(self, e):\n"
    "        print(f'ROBIN_STUDIO_SHOWN epoch_s={time.time():.3f} cpu_s={time.process_time():.3f}', flush=True)\n"
    "        QtCore.QTimer.singleShot(0, app.quit)\n"
    "w = W()\n"
    "w.resize(1340, 740)\n"
    "w.show()\n"
    "app.exec()\n")


def _marks(stdout: str) -> dict[str, tuple[float, float]]:
    """{"SHOWN"|"READY": (epoch_s, cpu_s)} from a start's output."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("ROBIN_STUDIO_"):
            what, *fields = line.split()
            kv = dict(f.split("=", 1) for f in fields)
            out[what[len("ROBIN_STUDIO_"):]] = (float(kv["epoch_s"]), float(kv.get("cpu_s", "nan")))
    return out


def first_paint(runs: int = 5, python: str = sys.executable, trees: dict[str, Path] | None = None) -> dict:
    """Process start to first paint: the app (frame, then editor) and a bare PySide6 window,
    alternated run by run, `runs` each. `trees` ({name: checkout}) measures other checkouts
    of the app in the same turns (the commit before a change, say)."""
    from robin_studio.bench.benchmark import bench_env, load, run_process

    trees = trees or {}
    rows: dict[str, list[dict]] = {"bare": [], "app": [], **{name: [] for name in trees}}
    load_before = load()
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="robin-bench-start-") as tmp:
            env = bench_env(Path(tmp) / "cache")
            env.update(QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                       ROBIN_STUDIO_EXIT_AFTER_SHOWN="1", ROBIN_STUDIO_CONFIG_DIR=f"{tmp}/config",
                       ROBIN_STUDIO_DATA_DIR=f"{tmp}/data")
            # -P: the working folder is not put first on the path, so PYTHONPATH says which
            # checkout runs (with -m it would be whichever one the bench was started in)
            for name, cmd in (("bare", [python, "-c", BARE_WINDOW]),
                              ("app", [python, "-P", "-m", "robin_studio", "gui"]),
                              *((name, [python, "-P", "-m", "robin_studio", "gui"]) for name in trees)):
                run_env = dict(env)
                if name in trees:
                    run_env["PYTHONPATH"] = os.pathsep.join([str(trees[name]), env["PYTHONPATH"]])
                start = time.time()
                run = run_process(cmd, run_env, timeout_s=300)
                marks = _marks(run.stdout)
                if run.code != 0 or "SHOWN" not in marks:
                    raise RuntimeError(f"{name} did not paint (exit {run.code}): {run.stderr[-500:]}")
                row = {"shown_s": marks["SHOWN"][0] - start, "shown_cpu_s": marks["SHOWN"][1],
                       "process_wall_s": run.wall_s, "process_cpu_s": run.cpu_s}
                if "READY" in marks:
                    row.update(ready_s=marks["READY"][0] - start, ready_cpu_s=marks["READY"][1])
                rows[name].append(row)
    return {"runs": rows, "load_before": load_before, "load_after": load()}


def first_paint_markdown(r: dict) -> str:
    def med(name, key):
        vals = sorted(row[key] for row in r["runs"][name])
        return vals[len(vals) // 2]

    def span(name, key):
        vals = [row[key] for row in r["runs"][name]]
        return f"{min(vals):.2f}-{max(vals):.2f}"

    ratio = [a["shown_s"] / b["shown_s"] for a, b in zip(r["runs"]["app"], r["runs"]["bare"])]
    n = len(r["runs"]["app"])
    return "\n".join([
        f"| what ({n} runs each, alternated) | wall: median (range) | CPU at that point: median |",
        "|---|---:|---:|",
        f"| bare PySide6 window, first paint (reference) | {med('bare', 'shown_s'):.2f} s ({span('bare', 'shown_s')}) "
        f"| {med('bare', 'shown_cpu_s'):.2f} s |",
        f"| app: first paint (the window's frame) | {med('app', 'shown_s'):.2f} s ({span('app', 'shown_s')}) "
        f"| {med('app', 'shown_cpu_s'):.2f} s |",
        f"| app: the editor's first paint (every control working) | {med('app', 'ready_s'):.2f} s "
        f"({span('app', 'ready_s')}) | {med('app', 'ready_cpu_s'):.2f} s |",
        f"| ratio app / bare window, first paint, run by run | {sorted(ratio)[len(ratio) // 2]:.2f} "
        f"({min(ratio):.2f}-{max(ratio):.2f}) | |",
        *(f"| {name}: first paint | {med(name, 'shown_s'):.2f} s ({span(name, 'shown_s')}) "
          f"| {med(name, 'shown_cpu_s'):.2f} s |" for name in r["runs"] if name not in ("bare", "app")),
        "",
        f"Load average (1/5/15 min) before {r['load_before']}, after {r['load_after']}.",
    ])


def run_bench(clip: Path | None = None) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix="robin-bench-app-"))
    os.environ["ROBIN_STUDIO_CONFIG_DIR"] = str(scratch / "config")
    os.environ["ROBIN_STUDIO_DATA_DIR"] = str(scratch / "data")
    from PySide6 import QtTest

    from robin_studio.app.application import make_app
    from robin_studio.app.engine_process import RemoteScorer
    from robin_studio.app.latency import LoopLatency
    from robin_studio.app.main_window import MainWindow
    from robin_studio.app.screenshots import build_demo_clip

    clip = clip or build_demo_clip(scratch / "demo-clip.mp4")
    make_app(sys.argv[:1])

    def wait(cond, limit_s: float = 300.0) -> float:
        t0 = time.perf_counter()
        while not cond():
            if time.perf_counter() - t0 > limit_s:
                raise TimeoutError("the window did not get there in time")
            QtTest.QTest.qWait(5)
        return time.perf_counter() - t0

    out: dict = {"clip": clip.name}
    t0 = time.perf_counter()
    engine = RemoteScorer()
    engine.warm_up()
    out["engine_start_s"] = time.perf_counter() - t0

    w = MainWindow(scorer_factory=lambda: engine, run_first_checks=False,
                   recovery_dir=scratch / "recovery")
    w.confirm_close = False
    w.resize(1366, 740)
    w.show()
    QtTest.QTest.qWait(200)

    t0 = time.perf_counter()
    w.open_clip(clip)
    wait(lambda: w.picture.shown_time_s is not None)
    out["first_frame_s"] = time.perf_counter() - t0
    wait(lambda: w.analysis is not None or bool(w.dialogs))
    out["analysis_s"] = time.perf_counter() - t0
    out["duration_s"] = w.duration_s
    if w.analysis is None:
        raise RuntimeError("analysis failed: " + "; ".join(d.text() for d in w.dialogs))

    first: list[float] = []
    w.chunkShown.connect(lambda i: first.append(time.perf_counter()) if not first else None)
    latency = LoopLatency()
    w.prompt_panel.prompt.setPlainText("warm lo-fi piano, builds to the end")
    latency.start()
    t0 = time.perf_counter()
    w.generate()
    wait(lambda: not w.busy)
    total = time.perf_counter() - t0
    latency.stop()
    out["first_chunk_s"] = first[0] - t0 if first else float("nan")
    out["generate_s"] = total
    out["generate_x_realtime"] = w.duration_s / total if total > 0 else float("nan")
    out["chunks"] = len(w.timeline.chunk_items)
    out.update(latency.summary())

    t0 = time.perf_counter()
    w.prompt_panel.seed.setValue(1)
    w.generate()
    wait(lambda: not w.busy)
    out["generate_again_s"] = time.perf_counter() - t0

    tm = w.piece.tempo_map
    w.timeline.set_selection(tm.bar_start_s(1), min(w.duration_s, tm.bar_start_s(3)))
    t0 = time.perf_counter()
    w.regenerate_selection()
    wait(lambda: not w.busy)
    out["regenerate_2_bars_s"] = time.perf_counter() - t0
    w.close()
    out.update(input_latency(engine, scratch, wait))
    engine.close()
    return out


def input_latency(engine, scratch: Path, wait) -> dict:
    """Key press to repaint while a 60 s clip is generated, and idle (the reference)."""
    from PySide6 import QtTest

    from robin_studio.app.latency import InputLatency
    from robin_studio.app.main_window import MainWindow
    from robin_studio.app.screenshots import build_demo_clip

    clip = build_demo_clip(scratch / "demo-clip-60s.mp4", repeat=5)
    w = MainWindow(scorer_factory=lambda: engine, run_first_checks=False,
                   recovery_dir=scratch / "recovery-latency")
    w.confirm_close = False
    w.resize(1366, 740)
    w.show()
    w.activateWindow()
    w.open_clip(clip)
    wait(lambda: w.analysis is not None or bool(w.dialogs))
    w.setFocus()
    out: dict = {"latency_clip_s": w.duration_s}
    idle = InputLatency(w)
    idle.start()
    QtTest.QTest.qWait(6000)
    idle.stop()
    out.update({f"idle_{k}": v for k, v in idle.summary().items()})
    busy = InputLatency(w)
    w.prompt_panel.prompt.setPlainText("driving electronic, builds to the end")
    w.generate()
    busy.start()
    t0 = time.perf_counter()
    wait(lambda: not w.busy)
    busy.stop()
    out["latency_generate_s"] = time.perf_counter() - t0
    out.update({f"gen_{k}": v for k, v in busy.summary().items()})
    w.close()
    return out


def run_latency_only() -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch = Path(tempfile.mkdtemp(prefix="robin-bench-latency-"))
    os.environ["ROBIN_STUDIO_CONFIG_DIR"] = str(scratch / "config")
    os.environ["ROBIN_STUDIO_DATA_DIR"] = str(scratch / "data")
    from PySide6 import QtTest

    from robin_studio.app.application import make_app
    from robin_studio.app.engine_process import RemoteScorer

    make_app(sys.argv[:1])

    def wait(cond, limit_s: float = 600.0) -> None:
        t0 = time.perf_counter()
        while not cond():
            if time.perf_counter() - t0 > limit_s:
                raise TimeoutError("the window did not get there in time")
            QtTest.QTest.qWait(5)

    engine = RemoteScorer()
    engine.warm_up()
    try:
        return input_latency(engine, scratch, wait)
    finally:
        engine.close()


def to_markdown(r: dict) -> str:
    today = _dt.date.today().isoformat()
    cpu = f"{os.cpu_count()}-core {platform.machine()}"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "\n".join([
        SECTION, "",
        f"The real window (offscreen Qt, 1366x740) with the engine in its own process, on "
        f"`{r['clip']}` ({r['duration_s']:.1f} s); {cpu}, {today}, load average {load:.1f} at the end "
        "(the machine is shared: wall times include waiting for other jobs). "
        "`python -m robin_studio.bench.bench_app --write`.", "",
        "| step | time | notes |",
        "|---|---|---|",
        f"| engine process up and warmed | {r['engine_start_s']:.1f} s | once per app start, in the background |",
        f"| open: first frame on screen | {r['first_frame_s'] * 1000:.0f} ms | |",
        f"| open: analysis on the lanes | {r['analysis_s']:.1f} s | cuts, motion, thumbnails |",
        f"| generate: first chunk drawn | {r['first_chunk_s']:.2f} s | playable from here |",
        f"| generate: whole piece | {r['generate_s']:.2f} s | {r['generate_x_realtime']:.1f}x real time, "
        f"{r['chunks']} chunks |",
        f"| generate again (new seed) | {r['generate_again_s']:.2f} s | "
        f"{r['duration_s'] / r['generate_again_s']:.1f}x real time; the first run also loads what it needs |",
        f"| regenerate 2 bars | {r['regenerate_2_bars_s']:.2f} s | new take in place |",
        f"| event loop during generation: longest gap | {r['max_gap_ms']:.0f} ms | 95th percentile "
        f"{r['p95_gap_ms']:.0f} ms over {r['ticks']} ticks of a 10 ms timer |",
        f"| event loop: longest stall caused by the app | {r['max_app_stall_ms']:.0f} ms | target < 50 ms; "
        "the rest of a gap is the OS serving other processes |",
        f"| key press to repaint, idle (reference) | p50 {r['idle_p50_ms']:.0f} ms, p95 {r['idle_p95_ms']:.0f} ms "
        f"| {r['idle_presses']} presses of Shift+Right/Left, {r['idle_missed']} missed |",
        f"| key press to repaint while generating {r['latency_clip_s']:.0f} s | p50 {r['gen_p50_ms']:.0f} ms, "
        f"p95 {r['gen_p95_ms']:.0f} ms, max {r['gen_max_ms']:.0f} ms | {r['gen_presses']} presses over "
        f"{r['latency_generate_s']:.1f} s, {r['gen_missed']} missed; p95 is "
        f"{r['gen_p95_ms'] / max(1e-9, r['idle_p95_ms']):.1f}x idle; target p95 < 100 ms |",
        "",
    ])


def write_section(markdown: str, path: Path | None = None) -> Path:
    """Replace (or append) this benchmark's section of docs/BENCHMARKS.md."""
    return bench_doc.write_section(SECTION, markdown, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, help="a clip to use instead of the spliced sample")
    ap.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    ap.add_argument("--latency-only", action="store_true",
                    help="only the key-press-to-repaint measurement (prints a dict)")
    ap.add_argument("--first-paint", type=int, metavar="N", default=0,
                    help="only the start: N app starts and N bare windows, to the first paint")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                    help="with --first-paint: also start the app of another checkout")
    args = ap.parse_args(argv)
    if args.first_paint:
        trees = {n: Path(p) for n, p in (t.split("=", 1) for t in args.tree)}
        print(first_paint_markdown(first_paint(args.first_paint, trees=trees)))
        return 0
    if args.latency_only:
        print(run_latency_only())
        return 0
    md = to_markdown(run_bench(args.clip))
    print(md)
    if args.write:
        print(f"wrote {write_section(md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
