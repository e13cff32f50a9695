"""Stage 2: train the planner and the Loc-DiT together on windows of bar latents.

The planner reads each window teacher-forced (previous bar latents, controls, intent) and
gives h_i; the Loc-DiT learns the flow-matching velocity of each bar's latent given h_i,
the previous bar (left context) and, half of the time, the next bar (right context). The
loss flows back into the planner through h_i. Previous-bar latents get a little noise, since
at run time they are the model's own samples rather than encoder outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from robin_studio.model.conditioning import intent_features
from robin_studio.model.config import ModelConfig
from robin_studio.model.loc_dit import LocDiT
from robin_studio.model.planner import Planner
from robin_studio.train.data import GeneratorBatches
from robin_studio.train.distributed import Runtime
from robin_studio.train.resume import StageState
from robin_studio.train.train_vae import STATE_EVERY_S, lr_at

CONTEXT_NOISE = 0.1
# Steps at which the generator's step count is planned again from the time taken so far
# (the first plan, at step 10, is a rough one).
REPLAN_AT = (200, 1000, 2000, 3000, 4000, 6000, 8000, 12000, 16000)
RIGHT_CONTEXT_P = 0.5


class Generator(torch.nn.Module):
    """The planner and the Loc-DiT as one module (for the optimiser and for saving)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        v = cfg.vae
        self.planner = Planner(cfg.planner, v.latent_dim, intent_features(cfg.style_slots))
        self.dit = LocDiT(cfg.dit, v.n_patches, v.patch_dim, cfg.planner.d_model)

    def forward(self, batch: dict[str, torch.Tensor], gen: torch.Generator | None = None,
                dit_bars: int | None = None) -> torch.Tensor:
        # The loss is the forward pass, so DistributedDataParallel (which hooks `forward`)
        # averages its gradients across processes.
        return self.loss(batch, gen, dit_bars)

    def loss(self, batch: dict[str, torch.Tensor], gen: torch.Generator | None = None,
             dit_bars: int | None = None) -> torch.Tensor:
        """Flow-matching loss; `dit_bars` caps how many of the batch's bars the DiT sees (a
        random subset: the planner is cheap per bar, the DiT is not)."""
        v = self.cfg.vae
        prev, bars, intent = batch["prev"], batch["bars"], batch["intent"]
        target, nxt, valid = batch["target"], batch["next"], batch["valid"]
        b, w, dz = target.shape
        dev = target.device       # noise is drawn where the batch lives (CPU, or the GPU)
        noisy_prev = prev.clone()
        noisy_prev[..., :dz] += CONTEXT_NOISE * torch.randn(prev[..., :dz].shape, generator=gen, device=dev) \
            * (1 - prev[..., dz:])
        h = self.planner(noisy_prev, bars, intent)                       # (b, w, d)
        keep = torch.nonzero(valid.reshape(-1) > 0).squeeze(1)
        if dit_bars is not None and keep.numel() > dit_bars:
            keep = keep[torch.randperm(keep.numel(), generator=gen, device=dev)[:dit_bars]]
        h = h.reshape(b * w, -1)[keep]
        x1 = target.reshape(b * w, v.n_patches, v.patch_dim)[keep]
        left = noisy_prev.reshape(b * w, dz + 1)[keep]
        right = nxt.reshape(b * w, dz + 1)[keep]
        n = x1.shape[0]
        right_on = right[:, dz:] * (torch.rand(n, 1, generator=gen, device=dev) < RIGHT_CONTEXT_P).float()
        left_on = 1.0 - left[:, dz:]
        t = torch.rand(n, generator=gen, device=dev)
        x0 = torch.randn(x1.shape, generator=gen, device=dev)
        xt = (1 - t)[:, None, None] * x0 + t[:, None, None] * x1
        pred = self.dit(xt, t, h, left[:, :dz].reshape_as(x1), left_on,
                        right[:, :dz].reshape_as(x1), right_on)
        return ((pred - (x1 - x0)) ** 2).mean()


def _torch_batch(batch: dict[str, np.ndarray], device: torch.device | None = None) -> dict[str, torch.Tensor]:
    out = {k: torch.from_numpy(v) for k, v in batch.items()}
    if device is not None and device.type != "cpu":
        out = {k: v.to(device, non_blocking=True) for k, v in out.items()}
    return out


@torch.no_grad()
def evaluate_generator(model: Generator, batches: GeneratorBatches, n_batches: int = 8,
                       batch_size: int = 16, seed: int = 1234) -> dict[str, float]:
    """Held-out flow-matching loss (fixed noise and windows, so runs compare)."""
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    batches.rng = np.random.default_rng(seed)
    losses = [float(model.loss(_torch_batch(batches.batch(batch_size), device), gen)) for _ in range(n_batches)]
    return {"flow_loss": float(np.mean(losses))}


def train_generator(train: GeneratorBatches, cfg: ModelConfig, *, budget_s: float, max_steps: int,
                    batch_size: int = 16, lr: float = 5e-4, seed: int = 0, dit_bars: int | None = None,
                    log: Callable[[str], None] = print,
                    valid: GeneratorBatches | None = None,
                    checkpoint: Callable[[Generator, int], None] | None = None,
                    checkpoint_at: float = 0.3,
                    rt: Runtime | None = None, state: StageState | None = None,
                    init_state: dict[str, torch.Tensor] | None = None,
                    average: float | None = None) -> tuple[Generator, dict]:
    """Train until `max_steps` or `budget_s`. `checkpoint(model, step)` is called once, at
    `checkpoint_at` of the planned steps (the pipeline exports an early model there).
    With several processes (`rt`), `train` holds this rank's shard of the pieces and
    `batch_size` is per process; `state` saves the run every few minutes and resumes it.
    `init_state` (a saved generator's state dict) continues training from those weights.
    `average` (e.g. 0.999): keep an exponential moving average of the weights, which is what
    is checkpointed and returned (see `WeightAverage`)."""
    rt = rt or Runtime()
    torch.manual_seed(seed)
    model = Generator(cfg)
    history: dict = {"loss": []}
    if init_state is not None:
        model.load_state_dict(init_state)
        if valid is not None and (state is None or state.load() is None):
            # Where the weights started, on this corpus's held-out windows (what the fine-tune
            # is to improve on).
            history["valid_at_start"] = evaluate_generator(model, valid)
            log(f"generator held-out before training: {history['valid_at_start']}")
    net = rt.wrap(model)
    avg = WeightAverage(model, average) if average else None
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98), fused=True)
    scaler = rt.grad_scaler()
    t0 = time.monotonic()
    planned = max_steps
    step = 0
    ema = None
    resumed = state.load() if state is not None else None
    if resumed is not None:
        model.load_state_dict(resumed["model"])
        opt.load_state_dict(resumed["optimizer"])
        step, planned, history, ema = resumed["step"], resumed["planned"], resumed["history"], resumed["ema"]
        if avg is not None and "average" in resumed:
            avg.model.load_state_dict(resumed["average"])
        train.rng.bit_generator.state = resumed["rng"][rt.rank % len(resumed["rng"])]
        torch.set_rng_state(resumed["torch_rng"])
        log(f"generator: resumed at step {step}/{planned}")
    last_save = time.monotonic()
    t_ten = 0.0
    while step < planned:
        model.train()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, planned, lr, warmup=min(200, planned // 10 + 1))
        with rt.autocast():
            loss = net(_torch_batch(train.batch(batch_size), rt.device), dit_bars=dit_bars)
        rt.step(loss, opt, model.parameters(), scaler)
        step += 1
        if avg is not None:
            avg.update(model, step)
        value = float(loss.detach())
        ema = value if ema is None else 0.98 * ema + 0.02 * value
        elapsed = time.monotonic() - t0
        if step == 10 and resumed is None:
            planned = rt.agree_min(min(max_steps, max(step + 1, int(budget_s / (elapsed / step)))))
            log(f"generator: {elapsed / step * 1000:.0f} ms/step, planning {planned} steps")
            t_ten = elapsed
        elif resumed is None and step in REPLAN_AT and step < planned:
            # Ten steps on a shared machine say little (a neighbour's burst can double them):
            # plan again from the mean time per step since step 10, so that the schedule ends
            # with the budget instead of long before or after it.
            per_step = (elapsed - t_ten) / (step - 10)
            again = rt.agree_min(min(max_steps, max(step + 1, step + int((budget_s - elapsed) / per_step))))
            if again != planned:
                log(f"generator: {per_step * 1000:.0f} ms/step since step 10, planning {again} steps "
                    f"(was {planned})")
                planned = again
        if step % 50 == 0 or step == planned or step == 1:
            history["loss"].append((step, ema))
            log(f"generator step {step}/{planned} loss {value:.4f} (avg {ema:.4f}) ({elapsed:.0f}s)")
        if checkpoint is not None and step == max(11, int(planned * checkpoint_at)):
            model.eval()
            checkpoint(model if avg is None else avg.model, step)
        if state is not None and rt.agree_any(time.monotonic() - last_save > STATE_EVERY_S):
            state.save(rt, step=step, planned=planned, history=history, ema=ema,
                       model=model.state_dict(), optimizer=opt.state_dict(), rng=train.rng.bit_generator.state,
                       **({} if avg is None else {"average": avg.model.state_dict()}))
            last_save = time.monotonic()
        if rt.agree_any(elapsed > budget_s * 1.05):
            log("generator: time budget reached")
            break
    history["steps"] = step
    history["seconds"] = time.monotonic() - t0
    if state is not None:        # the finished stage: a resumed run goes straight past it
        state.save(rt, step=step, planned=step, history=history, ema=ema,
                   model=model.state_dict(), optimizer=opt.state_dict(), rng=train.rng.bit_generator.state,
                   **({} if avg is None else {"average": avg.model.state_dict()}))
    if avg is not None:
        history["average"] = avg.decay
        if valid is not None:
            history["valid_last_weights"] = evaluate_generator(model, valid)
        model = avg.model
    if valid is not None:
        history["valid"] = evaluate_generator(model, valid)
        history["train_eval"] = evaluate_generator(model, train)
        log(f"generator held-out: {history['valid']}  (train windows: {history['train_eval']})"
            + (f"; last weights without averaging: {history['valid_last_weights']}" if avg else ""))
    model.eval()
    return model, history


class WeightAverage:
    """An exponential moving average of a model's weights (Polyak averaging): the averaged
    weights sample better than the last step's and drift less on a short fine-tune. The
    decay ramps up from 0.1 ((1 + step) / (10 + step)), so early on the average follows the
    weights closely; it never exceeds `decay`."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        import copy
        self.decay = float(decay)
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1.0 + step) / (10.0 + step))
        for mine, theirs in zip(self.model.parameters(), model.parameters()):
            mine.lerp_(theirs.detach(), 1.0 - d)
