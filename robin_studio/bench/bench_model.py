"""Benchmark of the model runtime (the model owner's): the cost of one generated bar in ONNX
Runtime -- planner step (prompt and no-prompt branches batched), the guided Euler steps of
the Loc-DiT, and the VAE decoder -- and what that is as a multiple of real time.

    .venv/bin/python -m robin_studio.bench.bench_model [--models DIR] [--bars N] [--write]

`--write` replaces the "Model runtime" section of docs/BENCHMARKS.md. CPU time is reported
beside wall time: on a shared machine wall time includes waiting for a core.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import time
from pathlib import Path

import numpy as np

from robin_studio.bench import bench_doc

SECTION = "## Model runtime"


def run_bench(models_dir: Path | None = None, n_bars: int = 128, repeats: int = 3) -> dict:
    from robin_studio.intent.types import Intent
    from robin_studio.model.runtime import OnnxBarGenerator
    from robin_studio.score.controls import BarControls

    t0 = time.perf_counter()
    gen = OnnxBarGenerator.load(models_dir)
    load_s = time.perf_counter() - t0
    emb = np.random.default_rng(0).standard_normal(384).astype(np.float32)
    intent = Intent(prompt="bench", text_embedding=emb / np.linalg.norm(emb), tempo_bpm=120.0)
    controls = [BarControls(bar_index=i, energy=0.3 + 0.5 * (i % 16) / 15, section_start=i % 8 == 0,
                            section_end=i % 8 == 7, accents=(1.0 if i % 8 == 0 else 0.0, 0, 0.5, 0),
                            bars_to_end=n_bars - 1 - i) for i in range(n_bars)]
    best_wall = best_cpu = float("inf")
    first_bar = float("inf")
    for r in range(repeats):
        stream = gen.start(intent, seed=r)
        w0, c0 = time.perf_counter(), time.process_time()
        for i, c in enumerate(controls):
            stream.next_bar(c)
            if i == 0:
                first_bar = min(first_bar, time.perf_counter() - w0)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    bar_s_at_120 = 2.0
    return {
        "bars": n_bars, "load_s": load_s, "first_bar_ms": first_bar * 1000,
        "ms_per_bar_wall": best_wall / n_bars * 1000, "ms_per_bar_cpu": best_cpu / n_bars * 1000,
        "x_realtime_at_120bpm_cpu": bar_s_at_120 * n_bars / max(best_cpu, 1e-9),
        "x_realtime_at_120bpm_wall": bar_s_at_120 * n_bars / max(best_wall, 1e-9),
        "sampling_steps": gen.sampling_steps, "load_avg": os.getloadavg()[0],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": _dt.date.today().isoformat(),
    }


def to_markdown(r: dict) -> str:
    return "\n".join([
        SECTION, "",
        f"Measured {r['date']} on {r['machine']} (load average {r['load_avg']:.1f} while measuring), "
        f"ONNX Runtime, one intra-op thread, best of 3 runs of {r['bars']} bars, "
        f"{r['sampling_steps']} guided Euler steps a bar:", "",
        "| figure | value |", "|---|---|",
        f"| one bar (planner + Loc-DiT + decoder), CPU time | {r['ms_per_bar_cpu']:.2f} ms |",
        f"| one bar, wall time | {r['ms_per_bar_wall']:.2f} ms |",
        f"| first bar of a stream (wall) | {r['first_bar_ms']:.1f} ms |",
        f"| multiple of real time at 120 bpm (2 s a bar), CPU | {r['x_realtime_at_120bpm_cpu']:.0f}x |",
        f"| multiple of real time at 120 bpm, wall | {r['x_realtime_at_120bpm_wall']:.0f}x |",
        f"| loading the graphs (manifest check included) | {r['load_s'] * 1000:.0f} ms |",
        "",
    ])


def write_section(markdown: str, path: Path | None = None) -> Path:
    """Replace (or append) this benchmark's section of docs/BENCHMARKS.md."""
    return bench_doc.write_section(SECTION, markdown, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--bars", type=int, default=128)
    ap.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    md = to_markdown(run_bench(args.models, args.bars))
    print(md)
    if args.write:
        print(f"wrote {write_section(md)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
