"""Hyper-parameters of the three networks, saved beside the weights as `models/config.json`.

Torch-free: the ONNX runtime reads the same file to know latent sizes, the planner's cache
shape and the sampler settings.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

MODEL_VERSION = "0.2.0"
# The style slots of the intent vector (model.conditioning). Kept here as plain names so this
# module stays light; `model.conditioning` checks them against the style ids.
LEGACY_STYLE_SLOTS: tuple[str, ...] = ("cinematic", "ambient", "lofi", "pop", "rock", "electronic",
                                       "folk", "orchestral", "jazz", "hiphop", "corporate", "thriller")


def default_style_slots() -> list[str]:
    """A new model's style slots: the twelve families, then every other style id of
    `score.idioms` in its order (a slot each)."""
    from robin_studio.score.idioms import STYLE_IDS
    return list(LEGACY_STYLE_SLOTS) + [s for s in STYLE_IDS if s not in LEGACY_STYLE_SLOTS]


@dataclass
class VAEConfig:
    d_model: int = 128
    n_layers: int = 2
    n_heads: int = 4
    n_patches: int = 4          # sub-patches per bar: one per beat
    patch_dim: int = 16         # latent dims per sub-patch
    dropout: float = 0.0

    @property
    def latent_dim(self) -> int:
        return self.n_patches * self.patch_dim


@dataclass
class PlannerConfig:
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    context_bars: int = 32      # trained on windows this long; the runtime keeps this many in cache
    dropout: float = 0.0

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads


@dataclass
class DiTConfig:
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    sampling_steps: int = 8
    guidance: float = 2.0
    dropout: float = 0.0


@dataclass
class ModelConfig:
    vae: VAEConfig = field(default_factory=VAEConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    dit: DiTConfig = field(default_factory=DiTConfig)
    version: str = MODEL_VERSION
    # Per-dim statistics of the VAE latents over the corpus: the planner and the DiT work on
    # (z - mean) / std so that noise and data have the same scale.
    latent_mean: list[float] = field(default_factory=list)
    latent_std: list[float] = field(default_factory=list)
    decode_threshold: float = 0.5
    # The style slots of the intent input, in order (slot 0, "unknown", is not listed). Part
    # of the network's input layout: a saved config without them is a 0.1.0 model, which
    # has the twelve families.
    style_slots: list[str] = field(default_factory=default_style_slots)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return cls(vae=VAEConfig(**d.get("vae", {})), planner=PlannerConfig(**d.get("planner", {})),
                   dit=DiTConfig(**d.get("dit", {})), version=d.get("version", MODEL_VERSION),
                   latent_mean=list(d.get("latent_mean", [])), latent_std=list(d.get("latent_std", [])),
                   decode_threshold=float(d.get("decode_threshold", 0.5)),
                   style_slots=list(d.get("style_slots", LEGACY_STYLE_SLOTS)))

    @classmethod
    def load(cls, path: Path | str) -> "ModelConfig":
        return cls.from_dict(json.loads(Path(path).read_text()))

    def save(self, path: Path | str) -> None:
        Path(path).write_text(self.to_json() + "\n")


def tiny_config() -> ModelConfig:
    """A very small model for tests and the CI pipeline run."""
    return preset("tiny")


# Model sizes by name: the network shapes only (the latent layout of the VAE is the same in
# every size, so the engine, the bar grid and the corpus are unchanged). "small" is the shipped
# model, trained in 90 CPU minutes; the larger ones are for GPUs (see docs/SCALING.md). The
# runtime reads the chosen shape back from models/config.json, so a bigger model needs no code
# change anywhere. Per-bar inference cost grows roughly with d_model^2 x layers.
PRESETS: dict[str, dict] = {
    "tiny":   {"vae": dict(d_model=32, n_layers=1, n_heads=2, patch_dim=8),
               "planner": dict(d_model=32, n_layers=2, n_heads=2, context_bars=16),
               "dit": dict(d_model=32, n_layers=2, n_heads=2, sampling_steps=4)},
    "small":  {},                                          # the dataclass defaults: shipped
    "medium": {"vae": dict(d_model=192, n_layers=3, n_heads=6),
               "planner": dict(d_model=256, n_layers=6, n_heads=8, context_bars=64),
               "dit": dict(d_model=256, n_layers=6, n_heads=8)},
    "large":  {"vae": dict(d_model=256, n_layers=4, n_heads=8),
               "planner": dict(d_model=512, n_layers=12, n_heads=8, context_bars=128),
               "dit": dict(d_model=384, n_layers=8, n_heads=8)},
}


def preset(name: str) -> ModelConfig:
    """A fresh ModelConfig of the named size (see PRESETS)."""
    if name not in PRESETS:
        from robin_studio.errors import RobinError
        raise RobinError(f"Unknown model size {name!r}.", f"Use one of: {', '.join(PRESETS)}.")
    p = PRESETS[name]
    return ModelConfig(vae=VAEConfig(**p.get("vae", {})), planner=PlannerConfig(**p.get("planner", {})),
                       dit=DiTConfig(**p.get("dit", {})))
