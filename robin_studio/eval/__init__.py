"""Evaluation: metrics computed on rendered audio, baselines, reports (the speed and memory
benchmarks live in `robin_studio.bench`)."""
