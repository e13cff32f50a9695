"""`robin-studio eval`: run the evaluation suite (model and baselines side by side) and write
docs/EVAL.md with tables and PNG plots. `--quick` is the CI-sized suite (a few minutes).
The held-out judgement (held-out prompts, real footage, real recordings, the independent
listener: `eval/heldout.py`) follows unless `--no-heldout`; `--heldout-only` runs just that."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="two short clips, three prompts, two seeds (runs in CI in a few minutes)")
    parser.add_argument("--out", type=Path, default=None,
                        help="report to write (default: docs/EVAL.md in the checkout)")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="weights to evaluate (default: the shipped models/)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the suite's clips and cached results go (default: the user cache)")
    parser.add_argument("--systems", default=None,
                        help="comma-separated subset of model,no-video,no-text,random-latent,"
                             "naive-loop (results are cached; a later run without it reports all)")
    parser.add_argument("--fresh", action="store_true",
                        help="recompute every system even if cached results match")
    held = parser.add_mutually_exclusive_group()
    held.add_argument("--no-heldout", action="store_true",
                      help="leave out the held-out judgement (held-out prompts, real footage and "
                           "recordings, the independent listener)")
    held.add_argument("--heldout-only", action="store_true",
                      help="run only the held-out judgement and write its sections alone")


def run(args: argparse.Namespace) -> int:
    from robin_studio.eval.report import write_report
    from robin_studio.eval.suite import run_suite
    from robin_studio.paths import project_root

    out = args.out or project_root() / "docs" / "EVAL.md"

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    only = [x.strip() for x in args.systems.split(",") if x.strip()] if args.systems else None
    if args.heldout_only:
        from robin_studio.eval.heldout import run_heldout
        from robin_studio.eval.report_heldout import write_heldout_report

        held = run_heldout(quick=args.quick, workdir=args.workdir, models_dir=args.models_dir, log=log,
                           reuse=not args.fresh, system_names=tuple(only) if only else None)
        path = write_heldout_report(held, out)
        print(f"wrote {path} ({len(held.pieces)} held-out pieces, {held.wall_s / 60:.1f} min)")
        return 0
    res = run_suite(quick=args.quick, workdir=args.workdir, models_dir=args.models_dir, log=log,
                    reuse=not args.fresh, only=only, heldout=not args.no_heldout)
    path = write_report(res, out)
    extra = f", {len(res.heldout.pieces)} held-out pieces" if res.heldout else ""
    print(f"wrote {path} ({len(res.rows)} pieces{extra}, {res.wall_s / 60:.1f} min)")
    return 0
