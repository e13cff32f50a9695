"""Resumable training: each stage's state (weights, optimiser, step, planned steps, loss
history and every rank's random streams) saved every few minutes to
`OUT/train-state/STAGE.pt`, so `robin-studio train --resume` continues an interrupted run
where it stopped instead of from the start.

Saved with `torch.save` and read back with `weights_only=True` (tensors and plain values
only, no arbitrary pickled objects). Written to a temporary name, then renamed, so a run
killed mid-save leaves the previous state intact. The folder is removed once the run has
exported its final weights: the shipped `models/` never holds pickles.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.distributed as dist

STATE_FOLDER = "train-state"


class StageState:
    def __init__(self, out_dir: Path | str, stage: str) -> None:
        self.path = Path(out_dir) / STATE_FOLDER / f"{stage}.pt"

    def load(self) -> dict | None:
        """The saved state, or None when there is none (a fresh start)."""
        if not self.path.is_file():
            return None
        return torch.load(self.path, map_location="cpu", weights_only=True)

    def save(self, rt, *, rng: dict, **fields) -> None:
        """Every rank calls this together (its random stream is gathered); rank 0 writes."""
        rngs = [rng]
        if rt.distributed:
            rngs = [None] * rt.world_size
            dist.all_gather_object(rngs, rng)
        if not rt.is_main:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".partial")
        torch.save({**fields, "rng": rngs, "torch_rng": torch.get_rng_state()}, tmp)
        os.replace(tmp, self.path)


def clear(out_dir: Path | str) -> None:
    """Remove the resumable state (after the final export)."""
    import shutil
    shutil.rmtree(Path(out_dir) / STATE_FOLDER, ignore_errors=True)
