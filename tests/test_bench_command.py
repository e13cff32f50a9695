"""`robin-studio bench`: the summary block of docs/BENCHMARKS.md and the quick run end to end."""

from __future__ import annotations

import math

import pytest

from robin_studio.commands.bench import SUMMARY_END, SUMMARY_START, summary_lines, write_summary
from robin_studio.bench.benchmark import CaseResult, reference_seconds


def _lines(analysis_s=2.0):
    r = CaseResult("30s", 30.0, analysis_s=analysis_s, first_chunk_s=0.5, generation_s=3.0, cpu_s={"analysis": 1.0},
                   render_s=1.0, master_s=0.2, export_s=1.5, peak_rss_mb=400.0, generator="naive")
    return summary_lines([r], 0.1, "test machine, 2 cores", "2026-01-01 00:00 UTC", True)


def test_summary_states_ratios_to_real_time_and_to_the_reference():
    text = "\n".join(_lines())
    assert "test machine, 2 cores" in text and "2026-01-01" in text
    row = next(line for line in text.splitlines() if line.startswith("| 30s"))
    assert "15.0x / 30.0x (20 ref)" in row   # analysis: 30 s clip in 2 s wall, 1 s CPU; 2 s / 0.1 s ref
    assert "0.50 s (5 ref)" in row        # first chunk
    assert "10.0x (30 ref)" in row and "400 MB" in row   # generation: no CPU figure given


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
    assert "10.0x (30 ref)" in second and "analysis runs 12x real time" in second


def test_reference_workload_is_timed():
    t = reference_seconds(repeats=1)
    assert 0.001 < t < 30


@pytest.mark.slow
def test_quick_bench_measures_a_30_second_input(tmp_path):
    from robin_studio.cli import main

    out = tmp_path / "BENCHMARKS.md"
    code = main(["bench", "--quick", "--out", str(out), "--no-others",
                 "--models-dir", str(tmp_path / "no-models")])
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| 30s"))
    assert code == 0, text
    # analysis and generation really ran: a multiple of real time in each of their cells
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2].endswith("ref)") and "x (" in cells[2] and "x (" in cells[4]
    mb = float(cells[-1].split()[0])
    assert 50 < mb < 8000 and not math.isnan(mb)
