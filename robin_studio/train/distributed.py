"""Where a training run runs: one CPU (the shipped path), one GPU, or many processes.

`setup(device, precision)` reads what `torchrun` puts in the environment (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR/PORT) and returns a `Runtime` the training loops ask everything
device-specific of: where tensors go, whether to wrap a model in DistributedDataParallel,
the autocast context and gradient scaler for mixed precision, and the few collective
decisions every rank must take together (how many steps to plan, when the time budget is
spent), so that no rank waits forever on a collective the others have left.

A plain `robin-studio train` is a world of one on the CPU: no process group, no autocast, the
same random numbers as before this module existed, so the shipped weights stay reproducible.

    torchrun --nproc_per_node=2 -m robin_studio train --device cpu ...   # gloo on CPUs
    torchrun --nproc_per_node=8 -m robin_studio train --device cuda ...  # NCCL on GPUs
"""

from __future__ import annotations

import contextlib
import datetime
import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist

from robin_studio.errors import RobinError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# A collective that waits longer than this is a dead peer, not a slow one: the caption
# embedding on rank 0 (minutes on a busy CPU) is the longest wait in a run.
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=60)


@dataclass
class Runtime:
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    amp_dtype: torch.dtype | None = None      # None: full float32

    @property
    def is_main(self) -> bool:
        """Rank 0 writes files (checkpoints, ONNX, manifest, model card) and logs."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def backend(self) -> str | None:
        if not self.distributed:
            return None
        return "nccl" if self.device.type == "cuda" else "gloo"

    def describe(self) -> str:
        amp = {None: "float32", torch.bfloat16: "bf16 mixed", torch.float16: "fp16 mixed"}[self.amp_dtype]
        where = f"{self.world_size} processes ({self.backend})" if self.distributed else "1 process"
        return f"{self.device.type}, {amp} precision, {where}"

    # -- models and tensors ------------------------------------------------------------------

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """The model on this device, inside DDP when there is more than one process (DDP
        averages gradients across ranks during backward and starts all ranks from rank 0's
        weights)."""
        model.to(self.device)
        if not self.distributed:
            return model
        ids = [self.local_rank] if self.device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def step(self, loss: torch.Tensor, opt: torch.optim.Optimizer, params,
             scaler: torch.amp.GradScaler | None, max_norm: float = 1.0) -> None:
        """Backward, gradient clipping at `max_norm` and the optimiser step, through the loss
        scaler when fp16 needs one (the clip then sees unscaled gradients)."""
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, max_norm)
            opt.step()
            return
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        scaler.step(opt)
        scaler.update()

    def grad_scaler(self) -> torch.amp.GradScaler | None:
        """float16 needs loss scaling against underflow; bfloat16 and float32 do not."""
        if self.amp_dtype is torch.float16:
            return torch.amp.GradScaler(self.device.type)
        return None

    # -- decisions all ranks take together ----------------------------------------------------

    def agree_min(self, value: int) -> int:
        """The smallest of every rank's value (planned steps: the slowest rank sets the pace)."""
        if not self.distributed:
            return int(value)
        t = torch.tensor([int(value)], dtype=torch.int64, device=self._collective_device())
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return int(t.item())

    def agree_any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (the time budget is spent somewhere)."""
        if not self.distributed:
            return bool(flag)
        t = torch.tensor([1 if flag else 0], dtype=torch.int64, device=self._collective_device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def sum_arrays(self, *arrays):
        """Element-wise sums over ranks of float64 numpy arrays (global statistics from shards)."""
        if not self.distributed:
            return arrays
        import numpy as np
        out = []
        for a in arrays:
            t = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64)).to(self._collective_device())
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
            out.append(t.cpu().numpy())
        return tuple(out)

    def broadcast(self, obj):
        """Rank 0's value of a small picklable object, on every rank."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def shard(self, items: list) -> list:
        """This rank's share of a list: every world_size-th item from its rank (each rank
        prepares and samples only its own pieces)."""
        return items[self.rank::self.world_size] if self.distributed else items

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()

    def _collective_device(self) -> torch.device:
        return self.device if self.backend == "nccl" else torch.device("cpu")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise RobinError(f"The environment variable {name}={raw!r} is not a whole number.",
                         "Start distributed training with torchrun, which sets it.") from None


def choose_device(device: str) -> torch.device:
    if device not in DEVICES:
        raise RobinError(f"Unknown device {device!r}.", f"Use one of: {', '.join(DEVICES)}.")
    if device == "cpu":
        return torch.device("cpu")
    has_cuda = torch.cuda.is_available()
    if device == "cuda" and not has_cuda:
        raise RobinError("--device cuda was asked for, but torch sees no CUDA GPU here.",
                         "Install a CUDA build of torch on a machine with an NVIDIA GPU, "
                         "or use --device cpu (or auto).")
    return torch.device("cuda") if has_cuda else torch.device("cpu")


def choose_precision(precision: str, device: torch.device) -> torch.dtype | None:
    if precision not in PRECISIONS:
        raise RobinError(f"Unknown precision {precision!r}.", f"Use one of: {', '.join(PRECISIONS)}.")
    if precision == "fp32" or (precision == "auto" and device.type != "cuda"):
        return None     # the CPU path stays in float32: reproducible and as fast on 2 cores
    if precision == "fp16":
        if device.type != "cuda":
            raise RobinError("fp16 mixed precision needs a CUDA GPU.", "Use --precision fp32 or bf16 on a CPU.")
        return torch.float16
    if precision == "bf16":
        return torch.bfloat16
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def setup(device: str = "auto", precision: str = "auto") -> Runtime:
    """The runtime of this process; joins the process group when torchrun started several."""
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", 0)
    dev = choose_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    rt = Runtime(device=dev, rank=rank, world_size=world, local_rank=local,
                 amp_dtype=choose_precision(precision, dev))
    if rt.distributed and not dist.is_initialized():
        dist.init_process_group(backend=rt.backend, timeout=COLLECTIVE_TIMEOUT)
    return rt
