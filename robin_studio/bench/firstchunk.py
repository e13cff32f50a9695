"""Time to the first chunk of music from process start, for a whole `robin-studio score` run.

    python -m robin_studio.bench.firstchunk SCORE-ARGUMENTS...

runs `robin-studio score SCORE-ARGUMENTS...` in this process, unchanged, and prints as the
last line of stdout a JSON object: the wall-clock time (`time.time()`) at which the first
chunk was ready and the CPU time the process had used by then, the heavy modules (`HEAVY`) imported by then and by the end, and the exit
code. The caller notes `time.time()` just before starting the process, so the difference is
the time from process start (interpreter start-up and every import included) to the first
sound. Only the engine's chunk iterator is wrapped; nothing else is touched.
"""

from __future__ import annotations

import json
import resource
import sys
import time

# Imports that must never be on the path to the first sound (issue 21): seconds of start-up
# each, and torch is never on the scoring path at all.
HEAVY = ("torch", "librosa", "numba", "scipy.signal", "scipy.stats", "pyloudnorm", "PySide6",
         "matplotlib")


def _heavy() -> list[str]:
    return [m for m in HEAVY if m in sys.modules]


def main(argv: list[str]) -> int:
    from robin_studio.generate import engine

    state: dict = {}
    run = engine.GenerationJob._run

    def timed_run(self):
        for chunk in run(self):
            if "first_chunk_time" not in state:
                state["first_chunk_time"] = time.time()
                usage = resource.getrusage(resource.RUSAGE_SELF)
                state["first_chunk_cpu_s"] = usage.ru_utime + usage.ru_stime
                state["heavy_at_first_chunk"] = _heavy()
            yield chunk

    engine.GenerationJob._run = timed_run
    from robin_studio.cli import main as cli_main

    code = cli_main(["score", *argv])
    state.update(exit_code=code, heavy_at_end=_heavy())
    print(json.dumps(state), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
