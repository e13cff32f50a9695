"""`robin-studio bench`: the summary block of docs/BENCHMARKS.md (every figure beside its
same-run reference, with the ratio, the load and the machine) and the quick run end to end."""

from __future__ import annotations

import sys

import pytest

from robin_studio.bench.benchmark import CaseResult, run_process
from robin_studio.commands.bench import SUMMARY_END, SUMMARY_START, summary_lines, write_summary


def _lines(analyze_wall=2.0):
    r = CaseResult("30s-360p", 30.0, "640x360", figures={
        "decode": {"wall_s": 1.0, "cpu_s": 0.5, "peak_mb": 60.0},
        "analyze": {"wall_s": analyze_wall, "cpu_s": 1.5, "peak_mb": 300.0},
        "remux": {"wall_s": 0.2, "cpu_s": 0.2, "peak_mb": 50.0},
        "export": {"wall_s": 0.5, "cpu_s": 0.6, "peak_mb": 500.0},
        "score": {"wall_s": 6.0, "cpu_s": 8.0, "peak_mb": 700.0},
        "first_chunk": {"wall_s": 5.0, "cpu_s": 5.0, "peak_mb": 600.0, "from_start_s": 1.25,
                        "heavy": []}})
    return summary_lines([r], "test machine, 2 cores", "2026-01-01 00:00 UTC", "0.5 / 0.4 / 0.3",
                         "0.9 / 0.5 / 0.3", "abc1234", True, {"30s-360p": 1536.0})


def test_summary_gives_each_figure_with_its_reference_and_ratio():
    text = "\n".join(_lines())
    assert "test machine, 2 cores" in text and "2026-01-01" in text and "abc1234" in text
    assert "before 0.5 / 0.4 / 0.3, after 0.9 / 0.5 / 0.3" in text
    rows = [line for line in text.splitlines() if line.startswith("| 30s-360p")]
    analyze = next(r for r in rows if "`analyze`" in r)
    assert "2.00 s / 1.50 s" in analyze and "1.00 s / 0.50 s" in analyze and "**2.00** / 3.00" in analyze
    export = next(r for r in rows if "export" in r)
    assert "**2.50** / 3.00" in export
    score = next(r for r in rows if "whole `score`" in r)
    assert "700 MB (under the 1.5 GB ceiling)" in score and "5.0x real time" in score
    assert any("1.25 s" in r and "heavy imports by then: none" in r for r in rows)


def test_writing_the_summary_keeps_other_sections(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Analysis\n\nanalysis runs 12x real time\n")
    write_summary(path, _lines(2.0))
    first = path.read_text()
    assert first.count("# Benchmarks") == 1 and "analysis runs 12x real time" in first
    assert first.index(SUMMARY_START) < first.index("## Analysis")
    write_summary(path, _lines(3.0))   # again: replaced in place, not appended
    second = path.read_text()
    assert second.count(SUMMARY_START) == 1 and second.count(SUMMARY_END) == 1
    assert "**3.00** / 3.00" in second and "analysis runs 12x real time" in second


def test_a_process_is_measured_from_outside():
    """Peak memory is the whole process's: a child that holds 200 MB shows at least that."""
    r = run_process([sys.executable, "-c", "import numpy as np, time; a = np.ones(200 * 2**20 // 8); "
                     "t = time.process_time()\nwhile time.process_time() - t < 0.2: pass"])
    assert r.code == 0 and r.peak_mb >= 200 and r.cpu_s >= 0.2 and r.wall_s >= r.cpu_s * 0.5


@pytest.mark.slow
def test_quick_bench_measures_a_30_second_input(tmp_path):
    from robin_studio.cli import main

    out = tmp_path / "BENCHMARKS.md"
    code = main(["bench", "--quick", "--out", str(out), "--no-others"])
    text = out.read_text()
    assert code == 0, text
    rows = [line for line in text.splitlines() if line.startswith("| 30s-360p")]
    assert any("`analyze`" in r and "**" in r for r in rows)            # a ratio to the decode
    assert any("export" in r and "**" in r for r in rows)               # a ratio to the remux
    score = next(r for r in rows if "whole `score`" in r)
    mb = float(score.strip("|").split("|")[-1].split()[0])
    assert 50 < mb < 8000
    assert any("first chunk" in r and "heavy imports by then: none" in r for r in rows)


def test_memory_runs_read_the_peak_of_the_whole_command_from_time_v():
    """`bench/memory_runs.py` reports /usr/bin/time -v's maximum resident set size: a command
    that holds 200 MB must read as at least that, with its wall and CPU time."""
    import shutil
    import subprocess

    from robin_studio.bench.memory_runs import _time_v, rises

    if not shutil.which("/usr/bin/time"):
        pytest.skip("GNU time is not installed")
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-c",
                           "import numpy as np, time; a = np.ones(200 * 2**20 // 8); "
                           "t = time.process_time()\nwhile time.process_time() - t < 0.2: pass"],
                          capture_output=True, text=True)
    figures = _time_v(proc.stderr)
    assert figures["exit"] == 0
    assert 200 <= figures["peak_mib"] < 400
    assert figures["cpu_s"] >= 0.2 and figures["wall_s"] >= 0.1
    assert rises([(0.0, 100.0), (1.0, 320.0), (2.0, 650.0)], 300.0) == "300 MiB at 1 s, 600 MiB at 2 s"


def test_analysis_bench_runs_the_other_checkout_in_the_same_turns(tmp_path):
    """`bench_analysis --tree NAME=CHECKOUT` must run `analyze` from that checkout (not from
    this one, which the working folder or the editable install would otherwise put first),
    beside this checkout's `analyze` and the plain decode of the same pair."""
    from robin_studio import paths
    from robin_studio.bench.bench_analysis import _pair

    other = tmp_path / "other"
    (other / "robin_studio").mkdir(parents=True)
    marker = tmp_path / "ran.txt"
    (other / "robin_studio" / "__init__.py").write_text("")
    (other / "robin_studio" / "cli.py").write_text(
        f"import sys\nopen({str(marker)!r}, 'w').write(__file__)\nsys.exit(0)\n")
    clip = paths.resources_dir() / "sample" / "bigbuckbunny.mp4"
    pair = _pair(clip, reference_first=False, trees={"other": str(other)})
    assert marker.read_text().startswith(str(other))
    assert pair["analyze_cpu_s"] > pair["other:analyze_cpu_s"] > 0
    assert pair["ratio_wall"] == pair["analyze_wall_s"] / pair["decode_wall_s"]
