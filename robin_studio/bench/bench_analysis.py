"""Benchmark of video analysis (the analysis owner's): `robin-studio analyze` as a whole
process against a plain PyAV decode of the same file, back to back in the same run.

Issue 21's targets: the whole `analyze` process (Python start-up, imports, the image network,
writing the cache: everything a user waits for, with an empty analysis cache) within 1.2x
of a plain PyAV decode of every frame of the same file at 1080p, within 2x at 640x360, and at
least 8x real time on 1080p H.264 on an idle 2-core machine. The reference is
`benchmark.DECODE_REFERENCE` (its own process: `import av`, FFmpeg's threads on, every frame
decoded, nothing done with it).

Inputs are generated H.264 clips, 30 fps (x264 `veryfast`, CRF 20), made of Big Buck Bunny
segments and synthetic moving patterns with a cut every 2-4 s (`make_clip`; kept in the user
cache, never committed): 40 s at 1920x1080 and 60 s at 640x360, the issue's two rows. Each
repetition runs the reference and `analyze` back to back (the order alternates), each timed
from outside (`benchmark.run_process`: wall, CPU time of all its threads, peak memory). The
machine here is shared, so the load average before and after is printed, CPU time sits
beside wall time, and the ratios of each pair are what count.

    .venv/bin/python -m robin_studio.bench.bench_analysis [--quick] [--repeats N] [--write]
        [--tree NAME=CHECKOUT]...

`--write` replaces the "## Analysis" section of docs/BENCHMARKS.md. `--tree` also measures
`analyze` from another checkout (the code before a change, say) in the same turns, right
after this checkout's, each against the same pair's decode.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import statistics
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from robin_studio import paths
from robin_studio.bench import bench_doc

SECTION = "## Analysis"
TARGET_X = 8.0
# case -> (seconds, width, height, ratio target)
CASES: dict[str, tuple[float, int, int, float]] = {
    "1080p": (40.0, 1920, 1080, 1.2),
    "640x360": (60.0, 640, 360, 2.0),
}


def make_clip(path: Path, size: tuple[int, int], seconds: float = 30.0, fps: int = 30) -> Path:
    """A test clip: Big Buck Bunny stretches and moving patterns, a cut every 2-4 s."""
    import av
    import cv2

    w, h = size
    bunny_path = paths.resources_dir() / "sample" / "bigbuckbunny.mp4"
    with av.open(str(bunny_path)) as c:
        bunny = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0: w + 96]
    checker = np.array([[20, 20, 20], [235, 235, 235], [240, 140, 30]], np.uint8)[
        ((xx // 32) + (yy // 32)) % 3]
    n = int(seconds * fps)
    shot_end, kind, start, phase = 0, 0, 0, 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for i in range(n):
            if i >= shot_end:
                shot_end = i + int(rng.uniform(2.0, 4.0) * fps)
                kind, start, phase = (kind + 1) % 3, int(rng.integers(0, len(bunny) - 1)), i
            k = i - phase
            if kind == 2:
                img = np.ascontiguousarray(checker[:, (4 * k) % 96: (4 * k) % 96 + w])
            else:
                # Bunny footage played back and forth (no jump), with a slow zoom so it moves.
                pos = (start + k) % (2 * len(bunny) - 2)
                src = bunny[pos if pos < len(bunny) else 2 * len(bunny) - 2 - pos]
                zoom = 1.0 + 0.004 * k
                sh, sw = src.shape[:2]
                ch, cw = int(sh / zoom), int(sw / zoom)
                y0, x0 = (sh - ch) // 2, (sw - cw) // 2
                img = cv2.resize(src[y0: y0 + ch, x0: x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def film_clip(seconds: float, width: int, height: int) -> Path:
    """A `make_clip` film of that length and size, made once and kept in the user cache
    (shared with `benchmark.case_clip`)."""
    from robin_studio.paths import cache_dir

    path = cache_dir() / "bench" / f"film-{int(seconds)}s-{width}x{height}.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.stem + ".part.mp4")
        make_clip(tmp, (width, height), seconds)
        tmp.rename(path)
    return path


def clip_for(case: str) -> Path:
    """The input of `case`."""
    seconds, w, h, _ = CASES[case]
    return film_clip(seconds, w, h)


def _pair(clip: Path, reference_first: bool, trees: dict[str, str] | None = None) -> dict:
    """One reference decode and one whole `analyze` process (empty cache), back to back;
    then `analyze` from each of `trees` ({name: checkout}), its figures under "NAME:"."""
    from robin_studio.bench.benchmark import DECODE_REFERENCE, bench_env, run_process

    trees = trees or {}
    runs = {}
    with tempfile.TemporaryDirectory(prefix="robin-bench-analysis-") as tmp:
        order = ["decode", "analyze", *trees]
        for what in (order if reference_first else order[::-1]):
            env = bench_env(Path(tmp) / what)          # its own, empty analysis cache
            if what in trees:
                env["PYTHONPATH"] = os.pathsep.join([trees[what], env["PYTHONPATH"]])
            # -P: PYTHONPATH, not the working folder, says which checkout runs
            cmd = ([sys.executable, "-c", DECODE_REFERENCE, str(clip)] if what == "decode" else
                   [sys.executable, "-P", "-m", "robin_studio.cli", "analyze", "-q", str(clip)])
            run = run_process(cmd, env)
            if run.code != 0:
                tail = (run.stderr.strip().splitlines() or ["no output"])[-1]
                raise RuntimeError(f"{what} of {clip.name} failed (exit {run.code}): {tail}")
            runs[what] = run
    d = runs["decode"]
    out = {"decode_wall_s": d.wall_s, "decode_cpu_s": d.cpu_s}
    for what in ("analyze", *trees):
        a, prefix = runs[what], "" if what == "analyze" else f"{what}:"
        out.update({f"{prefix}analyze_wall_s": a.wall_s, f"{prefix}analyze_cpu_s": a.cpu_s,
                    f"{prefix}peak_mb": a.peak_mb, f"{prefix}ratio_wall": a.wall_s / d.wall_s,
                    f"{prefix}ratio_cpu": a.cpu_s / d.cpu_s})
    return out


def run_bench(quick: bool = False, repeats: int = 3, trees: dict[str, str] | None = None) -> dict:
    """{case: {duration_s, size, pairs: [...]}, load_before, load_after, trees}."""
    from robin_studio.media.probe import probe

    cases = ("1080p",) if quick else tuple(CASES)
    clips = {case: clip_for(case) for case in cases}     # made before any timing
    result: dict = {"load_before": os.getloadavg() if hasattr(os, "getloadavg") else None,
                    "cases": {}, "trees": dict(trees or {})}
    for case in cases:
        info = probe(clips[case])
        result["cases"][case] = {"duration_s": info.duration_s, "size": f"{info.width}x{info.height}",
                                 "bitrate_mbps": info.bit_rate / 1e6, "pairs": []}
    for k in range(1 if quick else repeats):
        for case in cases:        # the cases interleaved, so a burst of load hits both
            result["cases"][case]["pairs"].append(_pair(clips[case], k % 2 == 0, trees))
    result["load_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return result


def _span(values: list[float], fmt: str = "{:.2f}") -> str:
    """median (min-max) of the values."""
    med = fmt.format(statistics.median(values))
    if len(values) == 1:
        return med
    return f"{med} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def to_markdown(result: dict, machine: str, commit: str = "") -> str:
    date = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = lambda key: ("n/a" if not result.get(key) else  # noqa: E731
                        " / ".join(f"{v:.1f}" for v in result[key]))
    lines = [SECTION, "",
             f"`python -m robin_studio.bench.bench_analysis`, {date}{', ' + commit if commit else ''}, "
             f"{machine}. Load average (1/5/15 min) before {load('load_before')}, after "
             f"{load('load_after')}. `robin-studio analyze -q` as a whole process with an empty "
             "analysis cache, against a plain PyAV decode of every frame of the same file "
             "(`benchmark.DECODE_REFERENCE`), back to back, each timed from outside; "
             "generated H.264 clips, 30 fps, x264 veryfast CRF 20, Big Buck Bunny cut with "
             "moving patterns (`make_clip`). Median (min-max) over the repetitions; a ratio is "
             "taken within each back-to-back pair.", "",
             "| clip | runs | analyze: wall / CPU | decode: wall / CPU | ratio wall | ratio CPU "
             "| target | real time (wall) | CPU-bound on 2 cores | peak memory |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts = []
    trees = result.get("trees") or {}
    for case, c in result["cases"].items():
        pairs, seconds = c["pairs"], c["duration_s"]
        target = CASES[case][3]
        for label, pre in [("", ""), *[(f", `analyze` of {name} ({_commit(path) or path})", f"{name}:")
                                       for name, path in trees.items()]]:
            col = lambda key: [p[key if key.startswith("decode") else pre + key]  # noqa: E731
                               for p in pairs]
            xs = [seconds / w for w in col("analyze_wall_s")]
            cpu_x = [seconds / (cpu / 2) for cpu in col("analyze_cpu_s")]
            lines.append(
                f"| {case} ({c['size']}, {seconds:.0f} s, {c['bitrate_mbps']:.1f} Mb/s){label} "
                f"| {len(pairs)} | {_span(col('analyze_wall_s'))} s / {_span(col('analyze_cpu_s'))} s "
                f"| {_span(col('decode_wall_s'))} s / {_span(col('decode_cpu_s'))} s "
                f"| **{_span(col('ratio_wall'))}** | {_span(col('ratio_cpu'))} | {target:g} "
                f"| {_span(xs, '{:.1f}')}x | {_span(cpu_x, '{:.1f}')}x | {max(col('peak_mb')):.0f} MB |")
        col = lambda key: [p[key] for p in pairs]  # noqa: E731
        xs = [seconds / p["analyze_wall_s"] for p in pairs]
        cpu_x = [seconds / (p["analyze_cpu_s"] / 2) for p in pairs]
        wall_med = statistics.median(col("ratio_wall"))
        cpu_med = statistics.median(col("ratio_cpu"))
        met = sum(r <= target for r in col("ratio_wall"))
        verdicts.append(f"{case}: within {target:g}x of the decode in wall time in {met} of "
                        f"{len(pairs)} pairs (median {wall_med:.2f}), CPU time ratio {cpu_med:.2f}")
        for name in trees:
            verdicts.append(
                f"{case}: this checkout / {name} in the same turns "
                f"{_span([p['analyze_wall_s'] / p[name + ':analyze_wall_s'] for p in pairs])} wall, "
                f"{_span([p['analyze_cpu_s'] / p[name + ':analyze_cpu_s'] for p in pairs])} CPU")
        if case == "1080p":
            verdicts.append(f"1080p at least {TARGET_X:.0f}x real time: {statistics.median(xs):.1f}x "
                            f"wall on this run's load, {statistics.median(cpu_x):.1f}x if both cores "
                            "were busy with it alone (clip length / half the CPU time)")
    lines += ["", "; ".join(verdicts) + "."]
    return "\n".join(lines) + "\n"


def write_section(markdown: str, path: Path | None = None) -> Path:
    """Replace (or append) this benchmark's section of docs/BENCHMARKS.md."""
    return bench_doc.write_section(SECTION, markdown, path)


def _commit(checkout: str | Path | None = None) -> str:
    try:
        out = subprocess.run(["git", "-C", str(checkout or paths.project_root()), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return f"at {out.stdout.strip()}" if out.returncode == 0 and out.stdout.strip() else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the 1080p clip, one pair")
    ap.add_argument("--repeats", type=int, default=3, help="pairs per clip (default 3)")
    ap.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    ap.add_argument("--tree", action="append", default=[], metavar="NAME=CHECKOUT",
                    help="also measure `analyze` of another checkout in the same turns")
    args = ap.parse_args(argv)
    from robin_studio.bench.benchmark import machine

    trees = dict(t.split("=", 1) for t in args.tree)
    md = to_markdown(run_bench(quick=args.quick, repeats=max(1, args.repeats), trees=trees),
                     machine(), _commit())
    print(md)
    if args.write:
        print(f"wrote {write_section(md)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
