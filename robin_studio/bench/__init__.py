"""Speed and memory benchmarks (`robin-studio bench`), kept apart from the quality evaluation in
`robin_studio.eval`: `benchmark.py` times whole inputs in subprocesses and each `bench_*.py`
measures one area and writes its own section of docs/BENCHMARKS.md."""
