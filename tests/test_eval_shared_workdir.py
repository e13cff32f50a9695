"""Two `robin-studio eval` processes may share one workdir (the held-out judgement is run beside
the other systems to save time): when both write the same suite clip at once, both must come
out with the whole clip, and neither may rename the other's half-written file away."""
from __future__ import annotations

import multiprocessing as mp

import av

from robin_studio.eval.clips import CutPattern, write_clip

PATTERN = CutPattern("shared-6s-landscape", 6.0, 320, 180, (1.5,))


def _write(out_dir, barrier, results):
    barrier.wait()                       # both start writing the same file together
    try:
        write_clip(PATTERN, out_dir)
        results.put("ok")
    except Exception as exc:             # reported to the test, which names it
        results.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_write_the_same_clip_at_once(tmp_path):
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_write, args=(tmp_path, barrier, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    outcomes = [results.get(timeout=5) for _ in procs]
    assert outcomes == ["ok", "ok"], outcomes
    with av.open(str(tmp_path / f"{PATTERN.name}.mp4")) as f:
        frames = sum(1 for _ in f.decode(video=0))
    assert frames == int(PATTERN.duration_s * PATTERN.fps)
    assert [p.name for p in tmp_path.iterdir()] == [f"{PATTERN.name}.mp4"]   # no temporary left
