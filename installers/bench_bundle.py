"""Measure the installed size of the one-folder bundle and the cold start to a visible window,
for the frozen bundle and for the development venv, and print a Markdown section for the
"Installers" part of docs/BENCHMARKS.md.

    nice -n 10 .venv/bin/python installers/bench_bundle.py [--runs 3] [--offscreen]

Start-up is timed from launching `robin-studio gui` to the main window's first paint, which the
app reports when ROBIN_STUDIO_EXIT_AFTER_SHOWN=1 (robin_studio/app/application.py); each run
uses fresh user folders, so it is a first run (the welcome dialog opens too). The window is
shown on an Xvfb display this script starts (Debian `xvfb`), or with Qt's offscreen platform.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The script runs in the venv whose `robin-studio gui` it times, so the package is installed
# there: the CPU is named by the benchmarks' own helper, as in docs/BENCHMARKS.md's other
# sections (a light module; the timed runs are subprocesses, so it adds nothing to them).
from robin_studio.bench.bench_doc import cpu_model

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "dist" / "robin-studio"
SHOWN = re.compile(r"ROBIN_STUDIO_SHOWN epoch_s=([0-9.]+)")


def du_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def biggest_parts(folder: Path, n: int = 8) -> list[tuple[str, int]]:
    """The largest entries of the bundle's _internal folder (what to trim next)."""
    inner = folder / "_internal"
    sizes = [(p.name, du_bytes(p)) for p in inner.iterdir()] if inner.is_dir() else []
    return sorted(sizes, key=lambda s: -s[1])[:n]


def start_xvfb() -> tuple[subprocess.Popen, str]:
    for display in range(91, 120):
        if Path(f"/tmp/.X11-unix/X{display}").exists():
            continue
        proc = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "1600x900x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{display}").exists():
                return proc, f":{display}"
            time.sleep(0.1)
        proc.kill()
    raise SystemExit("could not start Xvfb")


def time_to_window(cmd: list[str], env: dict, timeout_s: float = 180.0) -> float:
    with tempfile.TemporaryDirectory(prefix="robin-bench-") as scratch:
        run_env = {**env, "ROBIN_STUDIO_EXIT_AFTER_SHOWN": "1",
                   "ROBIN_STUDIO_CONFIG_DIR": f"{scratch}/config",
                   "ROBIN_STUDIO_DATA_DIR": f"{scratch}/data",
                   "ROBIN_STUDIO_CACHE_DIR": f"{scratch}/cache"}
        t0 = time.time()
        out = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=timeout_s,
                             cwd=scratch)
    m = SHOWN.search(out.stdout)
    if not m:
        raise RuntimeError(f"{cmd[0]} never showed its window (rc {out.returncode}):\n{out.stderr[-2000:]}")
    return float(m.group(1)) - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--offscreen", action="store_true", help="Qt offscreen platform instead of Xvfb")
    args = ap.parse_args(argv)

    env = dict(os.environ)
    load_before = os.getloadavg()
    xvfb = None
    if args.offscreen:
        env["QT_QPA_PLATFORM"] = "offscreen"
        where = "Qt offscreen platform"
    else:
        xvfb, display = start_xvfb()
        env["DISPLAY"] = display
        env["QT_QPA_PLATFORM"] = "xcb"
        where = f"Xvfb {display}"
    targets = [("venv (`.venv/bin/robin-studio gui`)", [str(ROOT / ".venv" / "bin" / "robin-studio"), "gui"])]
    if (BUNDLE / "robin-studio").exists():
        targets.insert(0, ("bundle (`dist/robin-studio/robin-studio gui`)", [str(BUNDLE / "robin-studio"), "gui"]))
    try:
        times = {}
        for name, cmd in targets:
            times[name] = [time_to_window(cmd, env) for _ in range(args.runs)]
            print(f"{name}: {', '.join(f'{t:.2f}' for t in times[name])} s", file=sys.stderr)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)

    load = os.getloadavg()
    lines = ["## Installers", "",
             f"`nice -n 10 .venv/bin/python installers/bench_bundle.py --runs {args.runs}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, "
             f"{os.cpu_count()} cores (shared with other engineers' jobs and a training run), "
             f"Linux {platform.release()}, Python {platform.python_version()}. "
             f"Load average (1 min) before / after: {load_before[0]:.1f} / {load[0]:.1f}.", ""]
    if BUNDLE.is_dir():
        tars = sorted((ROOT / "dist").glob("robin-studio-*.tar.gz"))
        lines += ["| bundle | size |", "|---|---:|",
                  f"| `dist/robin-studio/` (one folder, unpacked) | {du_bytes(BUNDLE) / 1e6:.0f} MB |"]
        for tar in tars:
            lines.append(f"| `dist/{tar.name}` | {tar.stat().st_size / 1e6:.0f} MB |")
        lines += ["", "Largest parts: " + ", ".join(f"{n} {s / 1e6:.0f} MB" for n, s in biggest_parts(BUNDLE)) + ".", ""]
    lines += [f"Cold start to the main window's first paint ({where}, a first run with fresh user "
              "folders; files in the page cache after the first launch):", "",
              "| program | best | median | runs |", "|---|---:|---:|---|"]
    for name, ts in times.items():
        lines.append(f"| {name} | {min(ts):.2f} s | {statistics.median(ts):.2f} s | "
                     f"{', '.join(f'{t:.2f}' for t in ts)} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
