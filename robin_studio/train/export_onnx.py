"""Export the trained networks to ONNX (and their weights to safetensors) for the runtime.

Files written into the models folder:
- `bar_vae_encoder.onnx`: roll (b, 16, F), velocity (b, 16, 5) -> latent (b, P, pd), normalised
- `bar_vae_decoder.onnx`: latent (b, P, pd), normalised -> probs (b, 16, F), velocity (b, 16, 5)
- `planner_step.onnx`: prev (b, Z+1), bar (b, BAR), intent (b, INTENT), past_k, past_v
  (layers, b, heads, t, hd) -> h (b, d), new_k, new_v (t + 1)
- `loc_dit_step.onnx`: one guided Euler step. x (b, P, pd), t (b,), dt (b,), h (2b, d) with
  the conditional states first and the unconditional ones after, left (b, P, pd), left_on
  (b, 1), right (b, P, pd), right_on (b, 1), guidance (1,) -> x + dt * guided velocity.
  The cond/uncond pair goes through the DiT as one batch.
- `bar_vae.safetensors`, `generator.safetensors`: the torch weights; `config.json`.
The latent normalisation (corpus mean and std per dim) is folded into the VAE graphs, so
the planner, the DiT and `GeneratedBar.latent` all live in the normalised space.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from robin_studio.model.bar_grid import N_FEATURES, N_ROLES, STEPS_PER_BAR
from robin_studio.model.bar_vae import BarVAE
from robin_studio.model.conditioning import BAR_FEATURES, intent_features
from robin_studio.model.config import ModelConfig
from robin_studio.model.planner import PlannerStep
from robin_studio.train.train_generator import Generator

OPSET = 17
FILES = ("bar_vae_encoder.onnx", "bar_vae_decoder.onnx", "planner_step.onnx", "loc_dit_step.onnx",
         "bar_vae.safetensors", "generator.safetensors", "config.json")


def _stats(cfg: ModelConfig) -> tuple[torch.Tensor, torch.Tensor]:
    v = cfg.vae
    mean = torch.tensor(cfg.latent_mean or [0.0] * v.latent_dim, dtype=torch.float32)
    std = torch.tensor(cfg.latent_std or [1.0] * v.latent_dim, dtype=torch.float32)
    return mean.reshape(v.n_patches, v.patch_dim), std.reshape(v.n_patches, v.patch_dim)


class EncoderExport(nn.Module):
    def __init__(self, vae: BarVAE, cfg: ModelConfig) -> None:
        super().__init__()
        self.encoder = vae.encoder
        mean, std = _stats(cfg)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, roll, velocity):
        mu, _ = self.encoder(roll, velocity)
        return (mu - self.mean) / self.std


class DecoderExport(nn.Module):
    def __init__(self, vae: BarVAE, cfg: ModelConfig) -> None:
        super().__init__()
        self.decoder = vae.decoder
        mean, std = _stats(cfg)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, latent):
        logits, vel = self.decoder(latent * self.std + self.mean)
        return torch.sigmoid(logits), vel


class GuidedEulerStep(nn.Module):
    """One Euler step of the flow with classifier-free guidance, cond and uncond batched."""

    def __init__(self, gen: Generator) -> None:
        super().__init__()
        self.dit = gen.dit

    def forward(self, x, t, dt, h, left, left_on, right, right_on, guidance):
        v = self.dit(torch.cat([x, x]), torch.cat([t, t]), h, torch.cat([left, left]),
                     torch.cat([left_on, left_on]), torch.cat([right, right]),
                     torch.cat([right_on, right_on]))
        b = x.shape[0]
        v_cond, v_uncond = v[:b], v[b:]
        return x + dt[:, None, None] * (v_uncond + guidance * (v_cond - v_uncond))


def _export(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
            dynamic: dict[str, dict[int, str]]) -> None:
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=OPSET, dynamo=False,
                          do_constant_folding=True)


def export_all(vae: BarVAE, gen: Generator, cfg: ModelConfig, out_dir: Path | str) -> list[Path]:
    """Write every runtime file into `out_dir`; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    v, p = cfg.vae, cfg.planner
    b = 2
    roll = torch.zeros(b, STEPS_PER_BAR, N_FEATURES)
    vel = torch.zeros(b, STEPS_PER_BAR, N_ROLES)
    _export(EncoderExport(vae, cfg), (roll, vel), out / "bar_vae_encoder.onnx",
            ["roll", "velocity"], ["latent"], {"roll": {0: "b"}, "velocity": {0: "b"}, "latent": {0: "b"}})
    z = torch.zeros(b, v.n_patches, v.patch_dim)
    _export(DecoderExport(vae, cfg), (z,), out / "bar_vae_decoder.onnx", ["latent"], ["probs", "velocity"],
            {"latent": {0: "b"}, "probs": {0: "b"}, "velocity": {0: "b"}})
    past = torch.zeros(p.n_layers, b, p.n_heads, 3, p.head_dim)
    _export(PlannerStep(gen.planner),
            (torch.zeros(b, v.latent_dim + 1), torch.zeros(b, BAR_FEATURES), torch.zeros(b, intent_features(cfg.style_slots)),
             past, past.clone()),
            out / "planner_step.onnx", ["prev", "bar", "intent", "past_k", "past_v"], ["h", "new_k", "new_v"],
            {"prev": {0: "b"}, "bar": {0: "b"}, "intent": {0: "b"}, "past_k": {1: "b", 3: "t"},
             "past_v": {1: "b", 3: "t"}, "h": {0: "b"}, "new_k": {1: "b", 3: "t1"}, "new_v": {1: "b", 3: "t1"}})
    x = torch.zeros(1, v.n_patches, v.patch_dim)
    _export(GuidedEulerStep(gen),
            (x, torch.zeros(1), torch.zeros(1), torch.zeros(2, p.d_model), x.clone(), torch.zeros(1, 1),
             x.clone(), torch.zeros(1, 1), torch.ones(1)),
            out / "loc_dit_step.onnx",
            ["x", "t", "dt", "h", "left", "left_on", "right", "right_on", "guidance"], ["x_next"],
            {"x": {0: "b"}, "t": {0: "b"}, "dt": {0: "b"}, "h": {0: "b2"}, "left": {0: "b"},
             "left_on": {0: "b"}, "right": {0: "b"}, "right_on": {0: "b"}, "x_next": {0: "b"}})
    save_file({k: t.contiguous() for k, t in vae.state_dict().items()}, str(out / "bar_vae.safetensors"),
              metadata={"version": cfg.version})
    save_file({k: t.contiguous() for k, t in gen.state_dict().items()}, str(out / "generator.safetensors"),
              metadata={"version": cfg.version})
    cfg.save(out / "config.json")
    return [out / f for f in FILES]


def load_torch(models_dir: Path | str) -> tuple[BarVAE, Generator, ModelConfig]:
    """The torch modules back from safetensors (for fine-tuning, evaluation and tests)."""
    from safetensors.torch import load_file

    d = Path(models_dir)
    cfg = ModelConfig.load(d / "config.json")
    vae = BarVAE(cfg.vae)
    vae.load_state_dict(load_file(str(d / "bar_vae.safetensors")))
    gen = Generator(cfg)
    gen.load_state_dict(load_file(str(d / "generator.safetensors")))
    return vae.eval(), gen.eval(), cfg
