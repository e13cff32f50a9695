"""Stage 1: train the bar VAE on every bar of the corpus, within a time budget.

AdamW with a short warm-up and a cosine decay over the planned steps; the KL weight ramps up
over the first third so that the latent first learns to reconstruct, then to be smooth.
Reports the held-out note-onset F1 (role, pitch and 16th step must all match).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch

from robin_studio.model.bar_grid import onset_f1
from robin_studio.model.bar_vae import BarVAE
from robin_studio.model.config import VAEConfig
from robin_studio.train.distributed import Runtime
from robin_studio.train.resume import StageState

# Seconds between two saves of the resumable training state (model, optimiser, step, random
# streams): an interrupted run loses at most this much work.
STATE_EVERY_S = 300.0


def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def _tensors(rolls: np.ndarray, vel: np.ndarray, idx: np.ndarray, device: torch.device | None = None):
    r = torch.from_numpy(rolls[idx].astype(np.float32))
    v = torch.from_numpy(vel[idx].astype(np.float32))
    if device is not None and device.type != "cpu":
        r, v = r.to(device, non_blocking=True), v.to(device, non_blocking=True)
    return r, v


def _device(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def reconstruct(vae: BarVAE, rolls: np.ndarray, vel: np.ndarray, batch: int = 512) -> np.ndarray:
    """Decoded probabilities (float16, like `rolls`) of every bar through the encoder mean."""
    vae.eval()
    out = []
    device = _device(vae)
    for i in range(0, len(rolls), batch):
        r, v = _tensors(rolls, vel, np.arange(i, min(len(rolls), i + batch)), device)
        logits, _, _, _ = vae(r, v)
        out.append(torch.sigmoid(logits.float()).cpu().numpy().astype(np.float16))
    return np.concatenate(out) if out else np.zeros(rolls.shape, np.float16)


def evaluate_vae(vae: BarVAE, rolls: np.ndarray, vel: np.ndarray, batch: int = 512,
                 threshold: float = 0.5, probs: np.ndarray | None = None) -> dict[str, float]:
    """Held-out reconstruction: note-onset precision/recall/F1 and whole-roll F1."""
    if probs is None:
        probs = reconstruct(vae, rolls, vel, batch)
    pred = probs >= threshold
    p, r, f1 = onset_f1(pred.astype(np.float32), rolls.astype(np.float32))
    # every feature (sustain included): how exactly the whole roll comes back
    t = rolls > 0
    tp = float(np.logical_and(pred, t).sum())
    roll_f1 = 2 * tp / max(1.0, float(pred.sum() + t.sum()))
    return {"onset_precision": p, "onset_recall": r, "onset_f1": f1, "roll_f1": roll_f1,
            "bars": int(len(rolls))}


def train_vae(rolls: np.ndarray, vel: np.ndarray, cfg: VAEConfig, *, budget_s: float,
              max_steps: int, batch_size: int = 256, lr: float = 1e-3, beta: float = 0.02,
              seed: int = 0, log: Callable[[str], None] = print,
              valid: tuple[np.ndarray, np.ndarray] | None = None,
              rt: Runtime | None = None, state: StageState | None = None) -> tuple[BarVAE, dict]:
    """Train until `max_steps` or `budget_s` seconds, whichever first. Returns (vae, history).

    `rolls`/`vel` are this rank's shard of the bars when several processes train (`rt`); the
    batch size is per process. `state` saves the run every few minutes and resumes it."""
    rt = rt or Runtime()
    torch.manual_seed(seed)
    # Each rank draws its own batches; rank 0 draws exactly what a single process would.
    rng = np.random.default_rng(seed + 7919 * rt.rank)
    vae = BarVAE(cfg)
    net = rt.wrap(vae)
    opt = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.01, fused=True)
    scaler = rt.grad_scaler()
    t0 = time.monotonic()
    history = {"loss": [], "steps": 0}
    step = 0
    # Plan the cosine for the steps the budget allows, once the first steps are timed.
    planned = max_steps
    resumed = state.load() if state is not None else None
    if resumed is not None:
        vae.load_state_dict(resumed["model"])
        opt.load_state_dict(resumed["optimizer"])
        step, planned, history = resumed["step"], resumed["planned"], resumed["history"]
        rng.bit_generator.state = resumed["rng"][rt.rank % len(resumed["rng"])]
        torch.set_rng_state(resumed["torch_rng"])
        log(f"vae: resumed at step {step}/{planned}")
    last_save = time.monotonic()
    while step < planned:
        vae.train()
        idx = rng.integers(0, len(rolls), size=min(batch_size, len(rolls)))
        r, v = _tensors(rolls, vel, idx, rt.device)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, planned, lr, warmup=min(100, planned // 10 + 1))
        with rt.autocast():
            logits, vp, mean, logvar = net(r, v)
        b = beta * min(1.0, step / max(1.0, planned / 3))
        loss, parts = BarVAE.loss(r, v, logits.float(), vp.float(), mean.float(), logvar.float(), b)
        rt.step(loss, opt, vae.parameters(), scaler)
        step += 1
        elapsed = time.monotonic() - t0
        if step == 20 and resumed is None:
            planned = rt.agree_min(min(max_steps, max(step + 1, int(budget_s / (elapsed / step)))))
            log(f"vae: {elapsed / step * 1000:.0f} ms/step, planning {planned} steps")
        if step % 100 == 0 or step == planned or step == 1:
            history["loss"].append((step, float(loss.item())))
            log(f"vae step {step}/{planned} loss {loss.item():.3f} recon {parts['recon']:.3f} "
                f"vel {parts['vel']:.4f} kl {parts['kl']:.2f} ({elapsed:.0f}s)")
        if state is not None and rt.agree_any(time.monotonic() - last_save > STATE_EVERY_S):
            state.save(rt, step=step, planned=planned, history=history, model=vae.state_dict(),
                       optimizer=opt.state_dict(), rng=rng.bit_generator.state)
            last_save = time.monotonic()
        if rt.agree_any(elapsed > budget_s * 1.05):
            log("vae: time budget reached")
            break
    history["steps"] = step
    history["seconds"] = time.monotonic() - t0
    if state is not None:        # the finished stage: a resumed run goes straight past it
        state.save(rt, step=step, planned=step, history=history, model=vae.state_dict(),
                   optimizer=opt.state_dict(), rng=rng.bit_generator.state)
    if valid is not None:
        history["valid"] = evaluate_vae(vae, *valid)
        log(f"vae held-out: {history['valid']}")
    vae.eval()
    return vae, history


@torch.no_grad()
def encode_latents(vae: BarVAE, rolls: np.ndarray, vel: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Encoder means for every bar -> float32 (n, latent_dim) (sub-patches flattened)."""
    vae.eval()
    out = []
    device = _device(vae)
    for i in range(0, len(rolls), batch):
        r, v = _tensors(rolls, vel, np.arange(i, min(len(rolls), i + batch)), device)
        mean, _ = vae.encoder(r, v)
        out.append(mean.reshape(mean.shape[0], -1).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, vae.cfg.latent_dim), np.float32)
