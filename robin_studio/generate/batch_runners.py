"""Where a batch's jobs run: a local process pool (the default) or a Ray cluster.

Both hand each job to `batch.run_job` in a worker and report its `JobResult` as soon as it
is back. A worker that dies under a job (killed, out of memory, a crash in native code)
fails that job's row with what happened, and the batch goes on:

- process pool: a dead worker breaks the whole pool in `concurrent.futures`, taking the
  unfinished jobs with it; those jobs are run again one by one, each in a pool of its own,
  so only the job that kills its worker is reported failed;
- Ray: each job is a task without retries; a task whose worker died comes back as an error
  for that job only.

On a cluster every node must see the videos and OUTDIR at the same paths (a shared file
system): workers read the videos and write the outputs themselves (docs/SCALING.md).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from robin_studio.errors import RobinError
from robin_studio.generate.batch import Job, JobResult, run_job, save_result


def default_workers() -> int:
    """Half the cores, at least one: analysis and synthesis each use two threads."""
    return max(1, (os.cpu_count() or 2) // 2)


def _crashed(job: Job, out_dir: Path, why: str) -> JobResult:
    res = JobResult(job.name, job.video, "failed", key=job.key(), prompt=job.prompt, seed=job.seed,
                    tempo_bpm=job.tempo_bpm, hit_points=len(job.hits), error=why)
    save_result(out_dir, res)
    return res


def _context():
    # "spawn": a fresh interpreter per worker; forking a process that holds ONNX Runtime and
    # decoder threads can deadlock the child.
    return multiprocessing.get_context("spawn")


def _pool_pass(jobs: list[Job], out_dir: Path, done: Callable[[JobResult], None], workers: int,
               job_fn: Callable[[Job, Path], JobResult]) -> list[Job]:
    """Run the jobs on one pool; returns the jobs lost when a worker died."""
    lost: list[Job] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = {pool.submit(job_fn, job, out_dir): job for job in jobs}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                job = futures[fut]
                try:
                    done(fut.result())
                except BrokenProcessPool:
                    lost.append(job)
                except Exception as err:   # pickling trouble and the like: this job only
                    done(_crashed(job, out_dir, f"the worker failed: {type(err).__name__}: {err}"))
    return lost


def process_pool(workers: int | None = None, job_fn: Callable[[Job, Path], JobResult] = run_job):
    """A runner on a local pool of `workers` processes (default: half the cores). `job_fn`
    (a module-level function, picklable) scores one job; tests swap it."""
    n = workers or default_workers()

    def run(jobs: list[Job], out_dir: Path, done: Callable[[JobResult], None]) -> None:
        lost = _pool_pass(jobs, out_dir, done, n, job_fn)
        for job in lost:         # alone now, so a second death is this job's own
            again = _pool_pass([job], out_dir, done, 1, job_fn)
            for j in again:
                done(_crashed(j, out_dir, "the worker process died while scoring this video "
                                          "(killed, out of memory, or a crash in a decoder)"))
    return run


def _ray_task(job: Job, out_dir: str) -> JobResult:
    return run_job(job, Path(out_dir))


def ray_cluster(address: str = "auto", num_cpus_per_job: float = 1.0):
    """A runner on Ray: `address` "auto" joins the cluster this machine belongs to (started
    with `ray start`), "local" starts a private one on this machine, anything else is a
    head node's address (host:port or ray://host:port)."""
    try:
        import ray
    except ImportError:
        raise RobinError("--ray needs Ray, which is not installed.",
                         "Install it with: pip install 'robin-studio[cluster]'") from None

    def run(jobs: list[Job], out_dir: Path, done: Callable[[JobResult], None]) -> None:
        started_here = False
        if not ray.is_initialized():
            try:
                ray.init(address=None if address == "local" else address, include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise RobinError(f"Could not join the Ray cluster at {address!r} ({err}).",
                                 "Start one with `ray start --head`, pass its address with --ray HOST:PORT, "
                                 "or use --ray local for a private instance on this machine.") from None
            started_here = True
        try:
            task = ray.remote(num_cpus=num_cpus_per_job, max_retries=0)(_ray_task)
            refs = {task.remote(job, str(Path(out_dir).resolve())): job for job in jobs}
            while refs:
                ready, _ = ray.wait(list(refs), num_returns=1)
                for ref in ready:
                    job = refs.pop(ref)
                    try:
                        done(ray.get(ref))
                    except Exception as err:   # the worker died or the task could not run
                        done(_crashed(job, Path(out_dir), f"the Ray task failed: {type(err).__name__}: "
                                                          f"{str(err).splitlines()[0][:300] if str(err) else ''}"))
        finally:
            if started_here:
                ray.shutdown()
    return run
