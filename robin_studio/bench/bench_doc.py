"""docs/BENCHMARKS.md as a set of sections, one per area's benchmark.

Each `bench_*.py` module owns one `## Heading` section and rewrites only that; the summary
block that `robin-studio bench` writes sits between `<!-- bench:... -->` markers and is
never touched from here.
"""

from __future__ import annotations

import platform
from pathlib import Path

from robin_studio import paths


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or the architecture where there is none."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def benchmarks_path() -> Path:
    return paths.project_root() / "docs" / "BENCHMARKS.md"


def write_section(heading: str, markdown: str, path: Path | None = None) -> Path:
    """Replace the section that starts with the line `heading` (or append it)."""
    path = path or benchmarks_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.strip() == heading), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + markdown
    else:
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("## ") or lines[i].startswith("<!-- bench:")), len(lines))
        new = "".join(lines[:start]) + markdown + ("\n" if end < len(lines) else "") + "".join(lines[end:])
    path.write_text(new, encoding="utf-8")
    return path
