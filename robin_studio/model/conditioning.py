"""Condition vectors the planner reads: one per bar (video/music controls) and one per piece
(the intent). Training and the ONNX runtime build them with these same functions, so what
the model learned is what it is asked at run time. numpy only.

Bar vector (`BAR_FEATURES` floats): energy, density, 4 accents, section start/end, bars to
the end (scaled, plus flags for the last four bars), the bar's place in its section (phase
flags), then the shot/scene semantics: a presence flag and a 384-d text-space embedding.

Intent vector (`intent_features(slots)` floats): the prompt embedding (384) and its presence
flag, the style (one-hot over the model's style slots, slot 0 = unknown), the mode (unknown,
major, minor), the tempo (log-scaled, plus a presence flag) and per role one of on / off /
unknown. The style slots are part of a model's input layout and are saved with it
(`ModelConfig.style_slots`): weights up to 0.1.0 have the twelve families
(`LEGACY_STYLE_SLOTS`), newer ones a slot for every style id of `score.idioms`
(`STYLE_SLOTS`). A style without a slot of its own uses its family's.
"Unknown" slots let the model choose; training drops each explicit control at random so
the model learns both to obey and to choose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from robin_studio.score.controls import BarControls
from robin_studio.model.config import LEGACY_STYLE_SLOTS, default_style_slots  # noqa: F401 (re-exported)
from robin_studio.score.idioms import family_of
from robin_studio.score.types import ROLES, Role

EMBED_DIM = 384
SEMANTIC_KEY = "semantic_embedding"       # BarControls.extra key the engine fills per shot

N_CONTROL_FEATURES = 16
BAR_FEATURES = N_CONTROL_FEATURES + 1 + EMBED_DIM

# The twelve style families the first weights (up to 0.1.0) were made for, in their order
# (`model.config.LEGACY_STYLE_SLOTS`), and a new model's slots: those, then every other style
# id, so that an old model's slots keep their places when it is widened (`widen_style_columns`).
STYLE_SLOTS: tuple[str, ...] = tuple(default_style_slots())
MODES = ("unknown", "major", "minor")
_TEXT = slice(0, EMBED_DIM + 1)
_STYLE0 = EMBED_DIM + 1


def intent_features(style_slots: Sequence[str] = STYLE_SLOTS) -> int:
    """Length of the intent vector of a model with these style slots."""
    return EMBED_DIM + 1 + len(style_slots) + 1 + len(MODES) + 2 + 3 * len(ROLES)


INTENT_FEATURES = intent_features(STYLE_SLOTS)     # a new model's (the default config)
REFERENCE_BPM = 110.0


def section_positions(controls: Sequence[BarControls], start: int = 0) -> list[int]:
    """Bars since the current section began, for each bar (`start` carries over a prefix)."""
    out = []
    k = start
    for i, c in enumerate(controls):
        k = 0 if (c.section_start or (i == 0 and start == 0)) else k + 1
        out.append(k)
    return out


def bar_vector(c: BarControls, bars_in_section: int, semantic: np.ndarray | None = None
               ) -> np.ndarray:
    """The planner's per-bar condition vector (float32, BAR_FEATURES)."""
    v = np.zeros(BAR_FEATURES, dtype=np.float32)
    acc = list(c.accents)[:4] + [0.0] * max(0, 4 - len(c.accents))
    b = max(0, int(c.bars_to_end))
    k = max(0, int(bars_in_section))
    v[:N_CONTROL_FEATURES] = [
        float(np.clip(c.energy, 0, 1)), float(np.clip(c.density, 0, 1)), *np.clip(acc, 0, 1),
        float(c.section_start), float(c.section_end),
        min(b, 32) / 32.0, float(b == 0), float(b == 1), float(b == 2), float(b == 3),
        min(k, 16) / 16.0, float(k % 4 == 0), float(k % 2 == 0),
    ]
    if semantic is None:
        semantic = c.extra.get(SEMANTIC_KEY) if c.extra else None
    if semantic is not None:
        s = np.asarray(semantic, dtype=np.float32).reshape(-1)
        n = float(np.linalg.norm(s))
        if s.shape[0] == EMBED_DIM and n > 1e-6:
            v[N_CONTROL_FEATURES] = 1.0
            v[N_CONTROL_FEATURES + 1:] = s / n
    return v


def style_slot(style: str | None, style_slots: Sequence[str] = STYLE_SLOTS) -> int:
    """The one-hot index of `style` among a model's slots: its own slot, else its family's,
    else 0 (unknown)."""
    if style in style_slots:
        return list(style_slots).index(style) + 1
    family = family_of(style)
    return list(style_slots).index(family) + 1 if family in style_slots else 0


def intent_vector(text_embedding: np.ndarray | None = None, style: str | None = None,
                  mode: str | None = None, tempo_bpm: float | None = None,
                  roles_on: Iterable[Role] = (), roles_off: Iterable[Role] = (),
                  style_slots: Sequence[str] = STYLE_SLOTS) -> np.ndarray:
    """The planner's per-piece condition vector (float32, `intent_features(style_slots)`)."""
    v = np.zeros(intent_features(style_slots), dtype=np.float32)
    if text_embedding is not None:
        t = np.asarray(text_embedding, dtype=np.float32).reshape(-1)
        n = float(np.linalg.norm(t))
        if t.shape[0] == EMBED_DIM and n > 1e-6:
            v[:EMBED_DIM] = t / n
            v[EMBED_DIM] = 1.0
    mode0 = _STYLE0 + len(style_slots) + 1
    tempo0 = mode0 + len(MODES)
    roles0 = tempo0 + 2
    v[_STYLE0 + style_slot(style, style_slots)] = 1.0
    v[mode0 + (MODES.index(mode) if mode in MODES else 0)] = 1.0
    if tempo_bpm:
        v[tempo0] = math.log2(float(tempo_bpm) / REFERENCE_BPM)
        v[tempo0 + 1] = 1.0
    on = {Role(r) for r in roles_on}
    off = {Role(r) for r in roles_off} - on
    for i, role in enumerate(ROLES):
        state = 0 if role in on else 1 if role in off else 2
        v[roles0 + 3 * i + state] = 1.0
    return v


def widen_style_columns(old_slots: Sequence[str], new_slots: Sequence[str]) -> list[int]:
    """For a model that reads intents with `new_slots`, the column of the old layout each new
    input column takes its weights from: the same column for text, mode, tempo and roles, the
    same style's slot where the old model had one, else its family's (else "unknown"). A layer
    widened this way answers a new style exactly as the old model answered its family, so a
    warm start loses nothing and each style can then learn on its own."""
    old_slots, new_slots = list(old_slots), list(new_slots)
    cols = list(range(_STYLE0))
    cols += [_STYLE0 + 0] + [_STYLE0 + style_slot(s, old_slots) for s in new_slots]
    tail_old = _STYLE0 + len(old_slots) + 1
    cols += list(range(tail_old, intent_features(old_slots)))
    return cols


def drop_text(v: np.ndarray) -> np.ndarray:
    """The same intent without its text (the unconditional branch of guidance)."""
    out = np.array(v, dtype=np.float32, copy=True)
    out[..., _TEXT] = 0.0
    return out


def intent_from(intent, style_slots: Sequence[str] = STYLE_SLOTS) -> np.ndarray:
    """`intent.types.Intent` -> intent vector for a model with `style_slots`. Roles: asked
    ones on, banned ones off."""
    return intent_vector(intent.text_embedding, intent.style, intent.key_mode, intent.tempo_bpm,
                         intent.include_roles, intent.exclude_roles, style_slots)
