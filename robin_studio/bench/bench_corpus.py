"""Benchmark of the corpus builder: parse speed per source group (cold, no cache), arrangement
speed (examples and hours of music made per second) and shard load speed.

    python -m robin_studio.bench.bench_corpus [--files 6] [--examples 60]

Prints multiples of real time (hours of music produced per hour of wall time) so the figures
can go into docs/BENCHMARKS.md under "Training corpus".
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def bench_parse(groups: list[str], files: int) -> dict[str, float]:
    from robin_studio.train.corpus import sources as S

    out = {}
    for g in groups:
        srcs = S.music21_sources([g])[:files]
        if not srcs:
            continue
        t0 = time.perf_counter()
        n_pieces = 0
        for s in srcs:
            n_pieces += len(S.parse_source(s))
        dt = time.perf_counter() - t0
        out[g] = dt / len(srcs)
        print(f"parse {g:<16} {dt / len(srcs):6.2f} s/file  {dt / max(1, n_pieces):6.3f} s/piece "
              f"({len(srcs)} files, {n_pieces} pieces)")
    return out


def bench_arrange(n_examples: int) -> float:
    from robin_studio.train.corpus import sources as S
    from robin_studio.train.corpus.build import arranged_example
    from robin_studio.train.corpus.styles import STYLE_NAMES

    src = S.music21_sources(["oneills1850"])[0]
    pieces = [p for p in S.parse_source(src) if p["n_bars"] >= 8]
    t0 = time.perf_counter()
    music_s = 0.0
    made = 0
    for i in range(n_examples):
        ex = arranged_example(pieces[i % len(pieces)], STYLE_NAMES[i % len(STYLE_NAMES)], 0, i)
        if ex is not None:
            music_s += ex.duration_s
            made += 1
    dt = time.perf_counter() - t0
    print(f"arrange: {made / dt:6.1f} examples/s, {music_s / dt:7.0f}x real time "
          f"({music_s / 3600:.2f} h of music in {dt:.1f} s)")
    return music_s / dt


def bench_load(n_examples: int) -> float:
    from robin_studio.train.corpus import sources as S
    from robin_studio.train.corpus.build import build
    from robin_studio.train.corpus.dataset import load_corpus

    src = S.music21_sources(["oneills1850"])[:1]
    with tempfile.TemporaryDirectory() as d:
        info = build(Path(d) / "c", hours=n_examples * 100 / 3600, workers=1, sources=src,
                     cache_root=Path(d) / "p", include_originals=False)
        t0 = time.perf_counter()
        exs = load_corpus(info.out_dir, "train")
        dt = time.perf_counter() - t0
        hours = sum(e.duration_s for e in exs) / 3600
    print(f"load: {len(exs) / dt:6.0f} examples/s ({hours / dt * 3600:.0f}x real time)")
    return len(exs) / dt


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--examples", type=int, default=60)
    a = ap.parse_args(argv)
    bench_parse(["oneills1850", "ryansMammoth", "essenFolksong", "bach"], a.files)
    bench_arrange(a.examples)
    bench_load(a.examples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
