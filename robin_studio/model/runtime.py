"""The trained model on ONNX Runtime: `OnnxBarGenerator`, the engine's `BarGenerator`.

Torch-free (numpy + onnxruntime only; a test checks that torch stays out of sys.modules).

    gen = OnnxBarGenerator.load()                   # verifies models/ against its manifest
    stream = gen.start(intent, seed=7)              # or with prefix bars for region infill
    bar = stream.next_bar(controls)                 # -> GeneratedBar(bar_index, latent, notes)

Per bar: the planner steps once (the prompt and the no-prompt branch batched, each with its
own key/value cache), then the Loc-DiT integrates the flow from noise to a latent in a few
guided Euler steps, and the VAE decoder turns the latent into notes. Noise comes from
(seed, bar_index) alone, so a bar does not depend on how the stream was chunked.
Notes are in beats from the bar start, in the key of `intent.key_tonic` (C if not given);
banned roles (`intent.exclude_roles`) never sound.
`GeneratedBar.latent` is the normalised latent, float32 (n_patches * patch_dim,).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from robin_studio.errors import ModelFileError
from robin_studio.intent.types import Intent
from robin_studio.model import conditioning as C
from robin_studio.model.bar_grid import decode_bar, encode_bar, shift_to_c
from robin_studio.model.config import ModelConfig
from robin_studio.model.interface import GeneratedBar
from robin_studio.model.manifest import verify
from robin_studio.model.providers import choose_providers
from robin_studio.paths import models_dir as default_models_dir
from robin_studio.score.controls import BarControls
from robin_studio.score.types import ROLES, Note, Role

RUNTIME_FILES = ("config.json", "bar_vae_encoder.onnx", "bar_vae_decoder.onnx",
                 "planner_step.onnx", "loc_dit_step.onnx")
# A bar decoded with no note at all is decoded again at this lower threshold (unless the
# bar is meant to be silent), so the model's faint bars still play something.
QUIET_THRESHOLD = 0.3


def _session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    # These graphs are tiny: one thread avoids pool overhead, and keeps results bit-stable.
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    providers = choose_providers()       # a GPU only when it really works (model.providers)
    try:
        return ort.InferenceSession(str(path), opts, providers=providers)
    except Exception as err:  # ORT raises its own error types for unreadable graphs
        raise ModelFileError(f"The model file {path} could not be loaded ({err}).",
                             "Reinstall Robin Studio, or rebuild the weights with: robin-studio train") from err


class OnnxBarGenerator:
    """Loads the exported graphs once; `start` opens independent streams."""

    def __init__(self, models_dir: Path, cfg: ModelConfig, threads: int = 1) -> None:
        self.models_dir = models_dir
        self.cfg = cfg
        self.decoder = _session(models_dir / "bar_vae_decoder.onnx", threads)
        self.planner = _session(models_dir / "planner_step.onnx", threads)
        self.dit = _session(models_dir / "loc_dit_step.onnx", threads)
        self._encoder: ort.InferenceSession | None = None
        self._threads = threads
        self.sampling_steps = cfg.dit.sampling_steps
        self.guidance = cfg.dit.guidance

    @classmethod
    def load(cls, models_dir: Path | str | None = None, threads: int = 1) -> "OnnxBarGenerator":
        d = Path(models_dir) if models_dir else default_models_dir()
        verify(RUNTIME_FILES, d)
        return cls(d, ModelConfig.load(d / "config.json"), threads)

    @property
    def latent_dim(self) -> int:
        return self.cfg.vae.latent_dim

    def start(self, intent: Intent, seed: int, prefix: Sequence[GeneratedBar] = (),
              prefix_controls: Sequence[BarControls] = ()) -> "OnnxBarStream":
        return OnnxBarStream(self, intent, seed, prefix, prefix_controls)

    # -- helpers the engine may use ------------------------------------------------------

    def decode(self, latent: np.ndarray, key_tonic: int | None = None,
               roles: set[Role] | None = None, threshold: float | None = None) -> dict[Role, list[Note]]:
        """Normalised latent (latent_dim,) -> notes per role, in `key_tonic` (C if None)."""
        v = self.cfg.vae
        z = np.asarray(latent, np.float32).reshape(1, v.n_patches, v.patch_dim)
        probs, vel = self.decoder.run(None, {"latent": z})
        back = -shift_to_c(key_tonic) if key_tonic is not None else 0
        return decode_bar(probs[0], vel[0], transpose=back,
                          threshold=self.cfg.decode_threshold if threshold is None else threshold,
                          roles=roles)

    def encode(self, notes: dict[Role, list[Note]], key_tonic: int | None = None) -> np.ndarray:
        """Notes of one bar (beats from the bar start, in `key_tonic`) -> normalised latent."""
        if self._encoder is None:
            verify(("bar_vae_encoder.onnx",), self.models_dir)
            self._encoder = _session(self.models_dir / "bar_vae_encoder.onnx", self._threads)
        roll, vel = encode_bar(notes, transpose=shift_to_c(key_tonic or 0))
        (z,) = self._encoder.run(None, {"roll": roll[None], "velocity": vel[None]})
        return z.reshape(-1).astype(np.float32)


class OnnxBarStream:
    """One piece being generated bar by bar (the engine's `BarStream`)."""

    def __init__(self, gen: OnnxBarGenerator, intent: Intent, seed: int,
                 prefix: Sequence[GeneratedBar], prefix_controls: Sequence[BarControls]) -> None:
        self.gen = gen
        cfg = gen.cfg
        self.seed = int(seed)
        self.key_tonic = intent.key_tonic
        self.back = -shift_to_c(intent.key_tonic) if intent.key_tonic is not None else 0
        self.roles = {r for r in ROLES if r not in set(intent.exclude_roles)}
        cond = C.intent_from(intent, cfg.style_slots)     # the layout these weights read
        self.intent = np.stack([cond, C.drop_text(cond)])              # (2, INTENT)
        p = cfg.planner
        self.window = max(1, p.context_bars - 1)                       # past bars kept in cache
        self.past_k = np.zeros((p.n_layers, 2, p.n_heads, 0, p.head_dim), np.float32)
        self.past_v = self.past_k.copy()
        self.prev: np.ndarray | None = None
        self.section_pos = -1
        self.next_index = 0
        if prefix:
            controls = list(prefix_controls)
            if len(controls) != len(prefix):
                controls = [BarControls(bar_index=b.bar_index) for b in prefix]
            positions = C.section_positions(controls)
            start = max(0, len(prefix) - self.window)
            self.prev = None if start == 0 else np.asarray(prefix[start - 1].latent, np.float32)
            for bar, c, k in zip(prefix[start:], controls[start:], positions[start:]):
                self._plan(c, k)
                self.prev = np.asarray(bar.latent, np.float32).reshape(-1)
            self.section_pos = positions[-1]
            self.next_index = prefix[-1].bar_index + 1

    def _plan(self, controls: BarControls, section_pos: int) -> np.ndarray:
        """Step the planner over one bar; returns h for (cond, uncond), shape (2, d)."""
        dz = self.gen.latent_dim
        prev = np.zeros((2, dz + 1), np.float32)
        if self.prev is None:
            prev[:, dz] = 1.0
        else:
            prev[:, :dz] = self.prev
        bar = np.repeat(C.bar_vector(controls, section_pos)[None], 2, axis=0)
        if self.past_k.shape[3] > self.window:
            self.past_k = self.past_k[:, :, :, -self.window:]
            self.past_v = self.past_v[:, :, :, -self.window:]
        h, self.past_k, self.past_v = self.gen.planner.run(None, {
            "prev": prev, "bar": bar, "intent": self.intent, "past_k": self.past_k, "past_v": self.past_v})
        return h

    def next_bar(self, controls: BarControls, right_context: GeneratedBar | None = None) -> GeneratedBar:
        gen = self.gen
        v = gen.cfg.vae
        shape = (1, v.n_patches, v.patch_dim)
        bar_index = controls.bar_index if controls.bar_index is not None else self.next_index
        first = self.section_pos < 0
        self.section_pos = 0 if (controls.section_start or first) else self.section_pos + 1
        h = self._plan(controls, self.section_pos)
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, int(bar_index) & 0xFFFFFFFF])
        x = rng.standard_normal(shape).astype(np.float32)
        left = np.zeros(shape, np.float32) if self.prev is None else self.prev.reshape(shape)
        left_on = np.array([[0.0 if self.prev is None else 1.0]], np.float32)
        right = np.zeros(shape, np.float32) if right_context is None else \
            np.asarray(right_context.latent, np.float32).reshape(shape)
        right_on = np.array([[0.0 if right_context is None else 1.0]], np.float32)
        n = gen.sampling_steps
        dt = np.array([1.0 / n], np.float32)
        guidance = np.array([gen.guidance], np.float32)
        for k in range(n):
            (x,) = gen.dit.run(None, {"x": x, "t": np.array([k / n], np.float32), "dt": dt,
                                      "h": h.astype(np.float32), "left": left, "left_on": left_on,
                                      "right": right, "right_on": right_on, "guidance": guidance})
        latent = x.reshape(-1).astype(np.float32)
        notes = gen.decode(latent, self.key_tonic, self.roles)
        if not any(notes.values()) and controls.energy > 0.05:
            notes = gen.decode(latent, self.key_tonic, self.roles, threshold=QUIET_THRESHOLD)
        for role in ROLES:
            notes.setdefault(role, [])
        self.prev = latent
        self.next_index = bar_index + 1
        return GeneratedBar(bar_index=int(bar_index), latent=latent, notes=notes)
