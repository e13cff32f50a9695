"""Baselines run through the same engine as the model (`Scorer(generator=...)`).

Each is a `BarGenerator` (robin_studio.model.interface), so the engine does everything else
exactly as for the model: tempo map from the cuts, arrangement, instrument bans, ending,
synthesis, mastering. What differs is only what writes the notes of each bar:

- `naive-loop`: generate/baseline.py (the engine engineer's): one 8-bar pattern at the
  engine's tempo, ignoring the picture.
- `no-video`: the model with every video-derived condition neutralised: one section, no cut or
  visual-beat accents, no shot semantics, and the energy the prompt alone asks for (a middle
  0.5 moved by its dynamics and its timed wishes: quiet spans, builds, drops, breakdowns,
  `generate.conditions` "prompt_energy"), with its density and usual accents; an asked drop
  still starts a section with an accent. `bars_to_end` is kept (the piece must still end when
  the clip does; that is its length, not its content) and so are the prompt's mutes, quiet
  and drop marks: the baseline gets the same arc as the model, only not the picture.
- `no-text`: the model with the prompt's sentence embedding, style and moods removed (the
  explicit controls the engine resolved, key, mode, tempo and banned roles, are kept: the
  engine obeys them whatever the model does).
- `random-latent`: latents drawn from N(0, I) (the VAE's prior in its normalised space), one per
  bar from (seed, bar), through the same VAE decoder; no planner, no Loc-DiT.

Note what they share: the tempo map that puts cuts on beats is the engine's, not the model's,
so rhythm numbers of all rows include it; differences between rows are what the generator adds.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robin_studio.generate.conditions import (DROP_KEY, MUTE_KEY, NEUTRAL_ENERGY, PROMPT_ENERGY_KEY,
                                              PROMPT_SECTION_KEY, QUIET_KEY, VELOCITY_KEY, typical_accents)
from robin_studio.intent.types import Intent
from robin_studio.model.interface import BarGenerator, BarStream, GeneratedBar
from robin_studio.score.controls import BarControls
from robin_studio.score.types import ROLES

# Keys of BarControls.extra that carry prompt decisions (kept when the video is removed).
PROMPT_EXTRA_KEYS = (MUTE_KEY, VELOCITY_KEY, DROP_KEY, QUIET_KEY, PROMPT_ENERGY_KEY, PROMPT_SECTION_KEY)


def neutral_controls(c: BarControls) -> BarControls:
    """The bar's controls with everything the video said removed, and what the prompt asked
    for (its arc, mutes and marks) kept."""
    extra = {k: v for k, v in (c.extra or {}).items() if k in PROMPT_EXTRA_KEYS}
    energy = float(extra.get(PROMPT_ENERGY_KEY, NEUTRAL_ENERGY))
    starts, ends = extra.get(PROMPT_SECTION_KEY, (False, False))
    # The accents a band plays at the prompt's energy, as the engine gives bars without
    # events; an asked drop lands on its downbeat, as in the engine's controls.
    accents = [float(a) for a in typical_accents(energy, len(c.accents))]
    if starts and accents:
        accents[0] = 1.0
    # The engine's density without the picture's events (`generate.conditions`).
    density = float(np.clip(0.2 + 0.6 * energy, 0.0, 1.0))
    return BarControls(bar_index=c.bar_index, energy=energy, density=density, section_start=bool(starts),
                       section_end=bool(ends), accents=tuple(accents), bars_to_end=c.bars_to_end,
                       section_id=0, extra=extra)


def textless_intent(intent: Intent) -> Intent:
    out = copy.copy(intent)
    out.text_embedding = None
    out.style = None
    out.moods = []
    out.prompt = ""
    return out


class _MappedStream:
    def __init__(self, inner: BarStream) -> None:
        self.inner = inner

    def next_bar(self, controls: BarControls, right_context: GeneratedBar | None = None) -> GeneratedBar:
        return self.inner.next_bar(neutral_controls(controls), right_context)


@dataclass
class NoVideoGenerator:
    """The wrapped generator, blind to the picture."""

    inner: BarGenerator
    name: str = "no-video"

    def start(self, intent: Intent, seed: int, prefix: Sequence[GeneratedBar] = (),
              prefix_controls: Sequence[BarControls] = ()) -> BarStream:
        stream = self.inner.start(intent, seed, prefix, [neutral_controls(c) for c in prefix_controls])
        return _MappedStream(stream)


@dataclass
class NoTextGenerator:
    """The wrapped generator, deaf to the prompt's words (explicit controls still hold)."""

    inner: BarGenerator
    name: str = "no-text"

    def start(self, intent: Intent, seed: int, prefix: Sequence[GeneratedBar] = (),
              prefix_controls: Sequence[BarControls] = ()) -> BarStream:
        return self.inner.start(textless_intent(intent), seed, prefix, prefix_controls)


class _RandomLatentStream:
    def __init__(self, decoder, intent: Intent, seed: int) -> None:
        self.decoder = decoder
        self.key_tonic = intent.key_tonic
        self.roles = {r for r in ROLES if r not in set(intent.exclude_roles)}
        self.seed = int(seed)
        self.next_index = 0

    def next_bar(self, controls: BarControls, right_context: GeneratedBar | None = None) -> GeneratedBar:
        i = controls.bar_index if controls.bar_index is not None else self.next_index
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, 0x5EED, int(i) & 0xFFFFFFFF])
        z = rng.standard_normal(self.decoder.latent_dim).astype(np.float32)
        notes = self.decoder.decode(z, self.key_tonic, self.roles)
        for role in ROLES:
            notes.setdefault(role, [])
        self.next_index = i + 1
        return GeneratedBar(int(i), z, notes)


@dataclass
class RandomLatentGenerator:
    """N(0, I) latents through the model's VAE decoder (`decoder` has `.latent_dim` and
    `.decode(latent, key_tonic, roles)`, as `model.runtime.OnnxBarGenerator` does)."""

    decoder: object
    name: str = "random-latent"

    def start(self, intent: Intent, seed: int, prefix: Sequence[GeneratedBar] = (),
              prefix_controls: Sequence[BarControls] = ()) -> BarStream:
        return _RandomLatentStream(self.decoder, intent, seed)


@dataclass
class System:
    """One row of every table: a name and the generator the engine runs (None = the engine's
    own choice, i.e. the shipped model)."""

    name: str
    generator: BarGenerator | None
    description: str


def load_model(models_dir=None):
    """The trained model's generator, or None (with the reason) when no weights are here."""
    from robin_studio.paths import models_dir as default_models_dir

    d = default_models_dir() if models_dir is None else models_dir
    if not (d / "manifest.json").exists():
        return None, f"no trained weights in {d} (models/manifest.json missing)"
    try:
        from robin_studio.model.runtime import OnnxBarGenerator

        return OnnxBarGenerator.load(d), ""
    except Exception as err:   # a missing or damaged file: report it in EVAL.md, run baselines
        return None, f"the model in {d} could not be loaded: {err}"


def systems(models_dir=None) -> tuple[list[System], str]:
    """The model (when its weights load) and every baseline that can run here.

    Returns the systems and a note saying which could not run and why.
    """
    from robin_studio.generate.baseline import NaiveLoopGenerator

    model, why = load_model(models_dir)
    rows: list[System] = []
    if model is not None:
        rows += [
            System("model", model, "planner + Loc-DiT + VAE decoder (the shipped weights)"),
            System("no-video", NoVideoGenerator(model), "model, video conditions neutralised"),
            System("no-text", NoTextGenerator(model), "model, prompt embedding/style removed"),
            System("random-latent", RandomLatentGenerator(model), "N(0,I) latents through the VAE decoder"),
        ]
    rows.append(System("naive-loop", NaiveLoopGenerator(), "one 8-bar pattern looped at the engine's tempo"))
    return rows, why
