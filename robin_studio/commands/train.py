"""`robin-studio train`: train the bar VAE, the planner and the Loc-DiT from the corpus,
evaluate them on the held-out split, export ONNX and write the weights manifest.

On one CPU by default (the shipped path). `--device cuda` trains on a GPU with mixed
precision; started by `torchrun` it trains data-parallel in every process it starts (NCCL
on GPUs, gloo on CPUs), one machine or several: see docs/SCALING.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from robin_studio.model.config import PRESETS

# The choices, without importing torch for `--help` (train.distributed checks them again).
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", type=Path, default=None,
                        help="corpus folder (default: the one `robin-studio corpus build` wrote)")
    parser.add_argument("--out", type=Path, default=None, help="where the weights go (default: models/; with --tiny: the user cache)")
    parser.add_argument("--budget-minutes", type=float, default=75.0,
                        help="wall-clock budget for all stages together (default 75)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--tiny", action="store_true",
                        help="a tiny model for a few steps (on a synthetic corpus unless --corpus): "
                             "proves the pipeline in well under two minutes")
    parser.add_argument("--max-examples", type=int, default=None,
                        help="train on at most this many examples (a seeded random subset)")
    parser.add_argument("--max-captions", type=int, default=2000,
                        help="caption embeddings to compute beyond the cache (default 2000)")
    parser.add_argument("--vae-steps", type=int, default=None,
                        help="exact VAE steps (with a generous budget: reproduces a run's schedule)")
    parser.add_argument("--gen-steps", type=int, default=None,
                        help="exact planner + Loc-DiT steps (see --vae-steps)")
    parser.add_argument("--log", type=Path, default=None, help="also append the log to this file")
    parser.add_argument("--device", choices=DEVICES, default="cpu",
                        help="where to train: cpu (default, the shipped path), cuda, or auto (a GPU when torch sees one)")
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="auto: bf16 (or fp16) mixed precision on a GPU, float32 on a CPU")
    parser.add_argument("--model-size", choices=tuple(PRESETS), default="small",
                        help="network size preset (default small, the shipped model; medium/large for GPUs)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from OUT/train-state/ (same corpus, seed and settings)")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="warm start: keep this models/ folder's bar VAE and continue training its "
                             "planner + Loc-DiT on the corpus (the whole budget goes to them)")


def run(args: argparse.Namespace) -> int:
    from robin_studio.paths import models_dir
    from robin_studio.train.distributed import setup
    from robin_studio.train.pipeline import TrainSettings, run_training

    settings = TrainSettings(budget_minutes=args.budget_minutes, seed=args.seed,
                             threads=args.threads, tiny=args.tiny,
                             max_train_examples=args.max_examples, max_new_captions=args.max_captions,
                             model_size=args.model_size, resume=args.resume)
    if args.init_from:
        settings.init_from = str(args.init_from)
    if args.vae_steps:
        settings.vae_max_steps = args.vae_steps
    if args.gen_steps:
        settings.gen_max_steps = args.gen_steps
    if args.tiny and args.budget_minutes == 75.0:
        settings.budget_minutes = 1.0
    # A tiny run never overwrites the shipped weights unless asked to with --out.
    if args.out:
        out = args.out
    elif args.tiny:
        from robin_studio.paths import cache_dir
        out = cache_dir() / "tiny-models"
    else:
        out = models_dir()
    rt = setup(args.device, args.precision)
    try:
        report = run_training(args.corpus, out, settings, log_file=args.log, rt=rt)
    finally:
        rt.close()
    if not rt.is_main:
        return 0
    vae_f1 = report["vae"].get("valid", {}).get("onset_f1", float("nan"))
    print(f"bar VAE held-out note F1 {vae_f1:.3f}; generator held-out flow loss "
          f"{report['generator'].get('valid', {}).get('flow_loss', float('nan')):.4f}; "
          f"{report['wall_clock_s'] / 60:.1f} min. Weights in {out}")
    return 0
