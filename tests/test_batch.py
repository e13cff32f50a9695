"""`robin-studio batch` (issue 20): many videos from a CSV or a folder, on a process pool or a
Ray cluster started by the test; one bad video fails its own row, a second run skips the
finished jobs, the report says per video what happened."""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import av
import pytest

from robin_studio.errors import RobinError
from robin_studio.generate import batch as B
from robin_studio.generate.batch_runners import process_pool

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "resources" / "sample" / "bigbuckbunny.mp4"


def run_cli(*args: str, env=None, timeout=900) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "robin_studio", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Two real clips and one corrupt file."""
    folder = tmp_path_factory.mktemp("batch-in")
    shutil.copy(SAMPLE, folder / "bunny.mp4")
    from fixtures.build import counter_frames, write_clip
    write_clip(folder / "counter.mp4", counter_frames(60), fps=25)
    (folder / "corrupt.mp4").write_bytes(SAMPLE.read_bytes()[: 4000] + os.urandom(30_000))
    (folder / "notes.txt").write_text("not a video")
    return folder


def _report(out: Path) -> dict[str, dict]:
    with open(out / "batch-report.csv", newline="", encoding="utf-8") as f:
        return {r["name"]: r for r in csv.DictReader(f)}


def _video_seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        return float(c.duration / av.time_base)


@pytest.mark.slow
def test_a_folder_on_the_process_pool_then_resumed(clips, tmp_path):
    out = tmp_path / "out"
    proc = run_cli("batch", str(clips), "-o", str(out), "--prompt", "calm piano, no drums",
                   "--outputs", "mp4,midi", "--workers", "2")
    assert proc.returncode == 1, proc.stderr[-3000:]            # one row failed, the batch did not
    rows = _report(out)
    assert set(rows) == {"bunny", "corrupt", "counter"}         # the .txt is not a video
    assert rows["corrupt"]["status"] == "failed" and "damaged" in rows["corrupt"]["error"]
    for name in ("bunny", "counter"):
        r = rows[name]
        assert r["status"] == "ok", r
        assert abs(_video_seconds(out / f"{name}.mp4") - float(r["duration_s"])) < 0.1
        assert (out / f"{name}.mid").stat().st_size > 100
        assert -24.0 < float(r["loudness_lufs"]) < -8.0          # measured, and plausible
        assert float(r["total_s"]) > 0 and r["prompt"] == "calm piano, no drums"
    summary = json.loads((out / "batch-report.json").read_text())
    assert (summary["ok"], summary["failed"]) == (2, 1)
    assert "2 of 3 videos scored, 1 failed" in proc.stdout

    # Run again: the finished videos are not scored again, the failed one is retried.
    stamp = (out / "bunny.mp4").stat().st_mtime_ns
    again = run_cli("batch", str(clips), "-o", str(out), "--prompt", "calm piano, no drums",
                    "--outputs", "mp4,midi", "--workers", "1")
    rows = _report(out)
    assert rows["bunny"]["status"] == rows["counter"]["status"] == "done earlier"
    assert rows["corrupt"]["status"] == "failed"
    assert (out / "bunny.mp4").stat().st_mtime_ns == stamp
    assert again.returncode == 1
    # A changed prompt is a different job: scored again.
    (out / "counter.mid").unlink()
    third = run_cli("batch", str(clips), "-o", str(out), "--prompt", "calm piano, no drums",
                    "--outputs", "mp4,midi", "--workers", "0")
    assert _report(out)["counter"]["status"] == "ok" and (out / "counter.mid").exists(), third.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_csv_on_a_local_ray_cluster(clips, tmp_path):
    ray_bin = shutil.which("ray", path=str(Path(sys.executable).parent))
    assert ray_bin, "ray is in the test extra"
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("video,prompt,seed,outputs,name,hits\n"
                    f"{clips / 'bunny.mp4'},upbeat pop 120 bpm,3,mp4;wav,bunny-pop,2.5;4.0:soft\n"
                    f"{clips / 'corrupt.mp4'},,,,,\n"
                    f"{clips / 'counter.mp4'},,7,midi,,\n", encoding="utf-8")
    port = _free_port()
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=os.urandom(16).hex(),
               RAY_USAGE_STATS_ENABLED="0",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    start = subprocess.run([ray_bin, "start", "--head", "--port", str(port), "--num-cpus", "2",
                            "--include-dashboard=false", "--disable-usage-stats"],
                           capture_output=True, text=True, env=env, timeout=180, cwd=tmp_path)
    assert start.returncode == 0, start.stderr[-2000:]
    try:
        out = tmp_path / "out"
        proc = run_cli("batch", str(jobs), "-o", str(out), "--prompt", "warm strings",
                       "--ray", f"127.0.0.1:{port}", env=env)
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert "on Ray" in proc.stderr
        rows = _report(out)
        assert rows["bunny-pop"]["status"] == "ok" and rows["bunny-pop"]["seed"] == "3"
        assert rows["bunny-pop"]["hit_points"] == "2" and int(rows["bunny-pop"]["hits_heard"]) >= 1
        assert (out / "bunny-pop.mp4").exists() and (out / "bunny-pop.wav").exists()
        assert rows["counter"]["status"] == "ok" and rows["counter"]["prompt"] == "warm strings"
        assert (out / "counter.mid").exists() and not (out / "counter.mp4").exists()
        assert rows["corrupt"]["status"] == "failed"
        # the work ran in Ray's worker processes, not in the command's own
        assert all(r["worker"] and r["worker"].split(":")[1] != str(os.getpid()) for r in rows.values())
    finally:
        subprocess.run([ray_bin, "stop", "--force"], capture_output=True, env=env, timeout=120)


def _die_on_b(job: B.Job, out_dir: Path) -> B.JobResult:
    """A job function for the pool test: the worker scoring "b" dies outright."""
    if job.name == "b":
        os._exit(3)
    res = B.JobResult(job.name, job.video, "ok", key=job.key(), total_s=0.01)
    B.save_result(out_dir, res)
    return res


def test_a_worker_that_dies_fails_only_its_own_row(tmp_path):
    jobs = [B.Job(n, str(tmp_path / f"{n}.mp4")) for n in ("a", "b", "c", "d")]
    results = B.run_batch(jobs, tmp_path / "out", runner=process_pool(2, job_fn=_die_on_b))
    status = {r.name: r.status for r in results}
    assert status == {"a": "ok", "b": "failed", "c": "ok", "d": "ok"}
    assert "died" in results[1].error
    assert _report(tmp_path / "out")["b"]["status"] == "failed"


def test_jobs_from_a_csv(tmp_path):
    (tmp_path / "clips").mkdir()
    f = tmp_path / "jobs.csv"
    f.write_text("Video,Prompt,Seed,Tempo,Hits,Outputs,Name\n"
                 "clips/a.mp4,,,,,,\n"
                 "clips/a.mp4,jazz trio,4,96,12.4;0:31.2:soft,wav stems,\n"
                 "/abs/b.mov,,,,,midi,promo\n", encoding="utf-8")
    jobs = B.read_jobs(f, prompt="default", seed=9, outputs=("mp4",))
    assert [j.name for j in jobs] == ["a", "a-2", "promo"]
    assert jobs[0].video == str((tmp_path / "clips" / "a.mp4").resolve())
    assert (jobs[0].prompt, jobs[0].seed, jobs[0].outputs) == ("default", 9, ("mp4",))
    assert (jobs[1].prompt, jobs[1].seed, jobs[1].tempo_bpm) == ("jazz trio", 4, 96.0)
    assert jobs[1].hits == (B.HitPoint(12.4, True), B.HitPoint(31.2, False))
    assert jobs[1].outputs == ("wav", "stems")
    assert jobs[1].paths(tmp_path)["stems"].name == "a-2_stems"
    assert jobs[2].video == "/abs/b.mov" and jobs[2].outputs == ("midi",)
    assert jobs[0].key() != jobs[1].key()


@pytest.mark.parametrize("text, message", [
    ("video,prompt\n", "has no jobs"),
    ("clip,prompt\nx.mp4,a\n", "no 'video' column"),
    ("video,colour\nx.mp4,red\n", "does not know: colour"),
    ("video,seed\nx.mp4,many\n", "Row 2: the seed 'many' is not a number"),
    ("video,tempo\nx.mp4,1e9\n", "outside the tempo range"),
    ("video,tempo\nx.mp4,nan\n", "outside the tempo range"),
    ("video,seed\nx.mp4,-3\n", "outside the seed range"),
    ("video,hits\nx.mp4,soon\n", "not a time"),
    ("video,outputs\nx.mp4,gif\n", "Unknown output kind gif"),
    ("video\n\n,\n", "names no video"),
])
def test_bad_job_lists_say_what_is_wrong(tmp_path, text, message):
    f = tmp_path / "jobs.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(RobinError, match=message):
        B.read_jobs(f)


def test_a_folder_without_videos_and_a_missing_source(tmp_path):
    with pytest.raises(RobinError, match="There is no video"):
        B.read_jobs(tmp_path)
    with pytest.raises(RobinError, match="no file or folder"):
        B.read_jobs(tmp_path / "nope.csv")


def test_outputs_never_land_on_the_batch_own_videos(tmp_path):
    """`batch clips/ -o clips/`: each video's MP4 would be written over the video itself."""
    clip = tmp_path / "a.mp4"
    clip.write_bytes(SAMPLE.read_bytes())
    before = clip.read_bytes()
    jobs = B.read_jobs(tmp_path, outputs=("mp4", "midi"))
    results = B.run_batch(jobs, tmp_path, runner=B.run_in_process)
    assert results[0].status == "failed" and "is the input file" in results[0].error
    assert clip.read_bytes() == before and not (tmp_path / "a.mid").exists()
