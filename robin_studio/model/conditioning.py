"""Condition vectors the planner reads: one per bar (video/music controls) and one per piece
(the intent). Training and the ONNX runtime build them with these same functions, so what
the model learned is what it is asked at run time. numpy only.

Bar vector (`BAR_FEATURES` floats): energy, density, 4 accents, section start/end, bars to
the end (scaled, plus flags for the last four bars), the bar's place in its section (phase
flags), then the shot/scene semantics: a presence flag and a 384-d text-space embedding.

Intent vector (`INTENT_FEATURES` floats): the prompt embedding (384) and its presence flag,
the style family (one-hot over `STYLE_SLOTS`, slot 0 = unknown), the mode (unknown, major,
minor), the tempo (log-scaled, plus a presence flag) and per role one of on / off / unknown.
"Unknown" slots let the model choose; training drops each explicit control at random so
the model learns both to obey and to choose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from robin_studio.score.controls import BarControls
from robin_studio.score.idioms import family_of
from robin_studio.score.types import ROLES, Role

EMBED_DIM = 384
SEMANTIC_KEY = "semantic_embedding"       # BarControls.extra key the engine fills per shot

N_CONTROL_FEATURES = 16
BAR_FEATURES = N_CONTROL_FEATURES + 1 + EMBED_DIM

# The model's style slots: the twelve style families the weights' input layout was made for.
# Styles added later (house, trap, swing...) use their family's slot (`score.idioms.family_of`)
# and are told apart by the prompt embedding; their idioms are enforced by the arrangement.
STYLE_SLOTS: tuple[str, ...] = ("cinematic", "ambient", "lofi", "pop", "rock", "electronic",
                                "folk", "orchestral", "jazz", "hiphop", "corporate", "thriller")
N_STYLES = len(STYLE_SLOTS) + 1           # slot 0 = unknown
MODES = ("unknown", "major", "minor")
INTENT_FEATURES = EMBED_DIM + 1 + N_STYLES + len(MODES) + 2 + 3 * len(ROLES)
_TEXT = slice(0, EMBED_DIM + 1)
_STYLE0 = EMBED_DIM + 1
_MODE0 = _STYLE0 + N_STYLES
_TEMPO0 = _MODE0 + len(MODES)
_ROLES0 = _TEMPO0 + 2
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


def intent_vector(text_embedding: np.ndarray | None = None, style: str | None = None,
                  mode: str | None = None, tempo_bpm: float | None = None,
                  roles_on: Iterable[Role] = (), roles_off: Iterable[Role] = ()) -> np.ndarray:
    """The planner's per-piece condition vector (float32, INTENT_FEATURES)."""
    v = np.zeros(INTENT_FEATURES, dtype=np.float32)
    if text_embedding is not None:
        t = np.asarray(text_embedding, dtype=np.float32).reshape(-1)
        n = float(np.linalg.norm(t))
        if t.shape[0] == EMBED_DIM and n > 1e-6:
            v[:EMBED_DIM] = t / n
            v[EMBED_DIM] = 1.0
    slot = style if style in STYLE_SLOTS else family_of(style)
    v[_STYLE0 + (STYLE_SLOTS.index(slot) + 1 if slot in STYLE_SLOTS else 0)] = 1.0
    v[_MODE0 + (MODES.index(mode) if mode in MODES else 0)] = 1.0
    if tempo_bpm:
        v[_TEMPO0] = math.log2(float(tempo_bpm) / REFERENCE_BPM)
        v[_TEMPO0 + 1] = 1.0
    on = {Role(r) for r in roles_on}
    off = {Role(r) for r in roles_off} - on
    for i, role in enumerate(ROLES):
        state = 0 if role in on else 1 if role in off else 2
        v[_ROLES0 + 3 * i + state] = 1.0
    return v


def drop_text(v: np.ndarray) -> np.ndarray:
    """The same intent without its text (the unconditional branch of guidance)."""
    out = np.array(v, dtype=np.float32, copy=True)
    out[..., _TEXT] = 0.0
    return out


def intent_from(intent) -> np.ndarray:
    """`intent.types.Intent` -> intent vector. Roles: asked ones on, banned ones off."""
    return intent_vector(intent.text_embedding, intent.style, intent.key_mode, intent.tempo_bpm,
                         intent.include_roles, intent.exclude_roles)
