"""`robin-studio batch JOBS.csv|FOLDER -o OUTDIR`: score many videos, on this machine's cores
or on a Ray cluster, resumable, with a report per video (`generate.batch`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robin_studio.errors import RobinError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("jobs", help="a CSV of jobs (columns video,prompt,seed,tempo,hits,outputs,name) "
                                     "or a folder of videos")
    parser.add_argument("-o", "--output", required=True, help="the folder for every output and the report")
    parser.add_argument("--prompt", "-p", default="", help="prompt for rows (or videos) that give none")
    parser.add_argument("--seed", type=int, default=0, help="seed for rows that give none (default 0)")
    parser.add_argument("--tempo", type=float, default=None, help="tempo in bpm for rows that give none")
    parser.add_argument("--hits", default="", help='hit points for rows that give none, e.g. "12.4;0:31.2:soft"')
    parser.add_argument("--outputs", default="mp4",
                        help="output kinds for rows that give none: any of mp4,wav,stems,midi (default mp4)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: half the cores); 0 runs in this process")
    where.add_argument("--ray", metavar="ADDRESS", default=None,
                       help="run on Ray: auto (the cluster this machine joined), local (a private "
                            "instance), or a head node's HOST:PORT")
    parser.add_argument("--quiet", "-q", action="store_true", help="no line per finished video")


def run(args: argparse.Namespace) -> int:
    from robin_studio.generate import batch, batch_runners

    from robin_studio.limits import check_number

    check_number("tempo", args.tempo)
    check_number("seed", args.seed)
    if args.workers is not None and args.workers < 0:
        raise RobinError("--workers cannot be negative.", "Give 0 (in this process) or more workers.")
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise RobinError(f"{out_dir} exists and is not a folder.", "Give -o a folder (it is created if missing).")
    jobs = batch.read_jobs(args.jobs, prompt=args.prompt, seed=args.seed, tempo_bpm=args.tempo,
                           hits=args.hits, outputs=batch.parse_outputs(args.outputs))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RobinError(f"Cannot create the folder {out_dir} ({err.strerror}).",
                         "Choose a folder you can write to.") from None
    if args.ray:
        runner, where = batch_runners.ray_cluster(args.ray), f"Ray ({args.ray})"
    elif args.workers == 0:
        runner, where = batch.run_in_process, "this process"
    else:
        n = args.workers or batch_runners.default_workers()
        runner, where = batch_runners.process_pool(n), f"{n} local worker process{'es' if n > 1 else ''}"
    if not args.quiet:
        print(f"batch: {len(jobs)} videos on {where}; outputs and report in {out_dir}", file=sys.stderr)

    def on_result(res) -> None:
        if args.quiet:
            return
        if res.status == "failed":
            print(f"  {res.name}: FAILED: {res.error}", file=sys.stderr)
        else:
            landing = "" if res.cut_landing is None else f", {res.cuts_on_beat}/{res.cuts} cuts on a beat"
            took = "" if res.status == "done earlier" else f" in {res.total_s:.1f} s"
            print(f"  {res.name}: {res.status}{took}{landing}", file=sys.stderr)

    results = batch.run_batch(jobs, out_dir, runner=runner, on_result=on_result)
    failed = [r for r in results if r.status == "failed"]
    csv_path = out_dir / f"{batch.REPORT_NAME}.csv"
    print(f"{len(results) - len(failed)} of {len(results)} videos scored"
          f"{f', {len(failed)} failed' if failed else ''}; report: {csv_path}")
    return 1 if failed else 0
