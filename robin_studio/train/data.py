"""Corpus examples -> the arrays the three training stages read.

`prepare(examples)` turns each example into per-bar rolls in the key of C (`bar_grid`),
per-bar control vectors (`conditioning`) and the facts of its intent (style, mode, tempo, roles
that play); `attach_captions` adds the embeddings of its captions (`train.captions`). `GeneratorBatches` cuts windows of
bars from them and applies the condition dropout that teaches the model to both obey and
choose (and gives the unconditional branch for guidance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robin_studio.model import conditioning as C
from robin_studio.model.bar_grid import N_FEATURES, N_ROLES, STEPS_PER_BAR, encode_bar, shift_to_c, split_notes_into_bars
from robin_studio.score.types import ROLES, Role


@dataclass
class Piece:
    rolls: np.ndarray          # uint8 (bars, 16, F)
    velocity: np.ndarray       # float16 (bars, 16, 5)
    controls: np.ndarray       # float32 (bars, BAR_FEATURES) without semantics
    captions: np.ndarray       # float32 (n, 384): embeddings of the non-empty captions
    style: str
    mode: str
    tempo_bpm: float
    roles: tuple[Role, ...]    # roles with at least one note
    example_id: str


def piece_from_example(ex, caption_vectors: dict[str, np.ndarray] | None = None,
                       captions: list[str] | None = None) -> Piece:
    n_bars = ex.n_bars
    transpose = shift_to_c(ex.key_tonic)
    rolls = np.zeros((n_bars, STEPS_PER_BAR, N_FEATURES), dtype=np.uint8)
    vel = np.zeros((n_bars, STEPS_PER_BAR, N_ROLES), dtype=np.float16)
    per_role = {}
    for track in ex.score.tracks:
        per_role.setdefault(track.role, []).extend(
            (n.start_beat, n.duration_beats, n.pitch, n.velocity) for n in track.notes)
    per_bar = {role: split_notes_into_bars(notes, n_bars) for role, notes in per_role.items()}
    for b in range(n_bars):
        # encode_bar shifts pitched roles only: drum keys are instrument classes
        r, v = encode_bar({role: bars[b] for role, bars in per_bar.items()}, transpose=transpose)
        rolls[b] = r.astype(np.uint8)
        vel[b] = v.astype(np.float16)
    pos = C.section_positions(ex.controls)
    controls = np.stack([C.bar_vector(c, k, semantic=np.zeros(0)) for c, k in zip(ex.controls, pos)])
    piece_roles = tuple(r for r in ROLES if any(t.role == r and t.notes for t in ex.score.tracks))
    piece = Piece(rolls, vel, controls.astype(np.float32), np.zeros((0, C.EMBED_DIM), np.float32),
                  ex.style, ex.key_mode, float(ex.tempo_bpm), piece_roles, ex.id)
    attach_captions(piece, ex.captions if captions is None else captions, caption_vectors or {})
    return piece


def attach_captions(piece: Piece, texts: list[str], vectors: dict[str, np.ndarray]) -> None:
    """Give a piece the embeddings of those of its captions that were embedded."""
    caps = [vectors[t] for t in texts if t.strip() and t in vectors]
    piece.captions = np.stack(caps).astype(np.float32) if caps else np.zeros((0, C.EMBED_DIM), np.float32)


def prepare(examples) -> list[Piece]:
    """Pieces without caption embeddings yet (`attach_captions` adds them)."""
    return [piece_from_example(ex) for ex in examples if ex.n_bars > 0]


def all_bars(pieces: list[Piece]) -> tuple[np.ndarray, np.ndarray]:
    """Every bar of every piece: rolls uint8 (n, 16, F), velocities float16 (n, 16, 5)."""
    return (np.concatenate([p.rolls for p in pieces]), np.concatenate([p.velocity for p in pieces]))


@dataclass
class Dropout:
    """Probabilities of hiding each condition in training."""
    text: float = 0.15          # also the unconditional branch of classifier-free guidance
    style: float = 0.3
    mode: float = 0.3
    tempo: float = 0.3
    roles: float = 0.5          # per role, "unknown" instead of on/off
    semantic: float = 0.5       # per window: no shot semantics at all


class GeneratorBatches:
    """Random windows of `window` bars with their latents and condition vectors."""

    def __init__(self, pieces: list[Piece], latents: list[np.ndarray], window: int,
                 seed: int = 0, dropout: Dropout | None = None,
                 style_slots: Sequence[str] = C.STYLE_SLOTS) -> None:
        self.pieces = pieces
        self.style_slots = tuple(style_slots)   # the intent layout of the model being trained
        self.latents = latents          # per piece: float32 (bars, latent_dim), normalised
        self.window = window
        self.rng = np.random.default_rng(seed)
        self.drop = dropout or Dropout()
        lengths = np.array([p.rolls.shape[0] for p in pieces], dtype=np.float64)
        self.weights = lengths / lengths.sum()   # long pieces are sampled more often

    def intent_for(self, piece: Piece, rng: np.random.Generator) -> np.ndarray:
        d = self.drop
        text = None
        if len(piece.captions) and rng.random() >= d.text:
            text = piece.captions[rng.integers(len(piece.captions))]
        roles_on, roles_off = [], []
        for role in ROLES:
            if rng.random() < d.roles:
                continue
            (roles_on if role in piece.roles else roles_off).append(role)
        return C.intent_vector(text, None if rng.random() < d.style else piece.style,
                               None if rng.random() < d.mode else piece.mode,
                               None if rng.random() < d.tempo else piece.tempo_bpm,
                               roles_on, roles_off, self.style_slots)

    def batch(self, size: int) -> dict[str, np.ndarray]:
        rng = self.rng
        w = self.window
        latent_dim = self.latents[0].shape[1]
        prev = np.zeros((size, w, latent_dim + 1), np.float32)
        target = np.zeros((size, w, latent_dim), np.float32)
        nxt = np.zeros((size, w, latent_dim + 1), np.float32)
        bars = np.zeros((size, w, C.BAR_FEATURES), np.float32)
        intent = np.zeros((size, C.intent_features(self.style_slots)), np.float32)
        valid = np.zeros((size, w), np.float32)
        for i in range(size):
            k = int(rng.choice(len(self.pieces), p=self.weights))
            piece, lat = self.pieces[k], self.latents[k]
            n = lat.shape[0]
            s = int(rng.integers(0, max(1, n - w + 1)))
            m = min(w, n - s)
            target[i, :m] = lat[s:s + m]
            valid[i, :m] = 1.0
            if s > 0:
                prev[i, 0, :latent_dim] = lat[s - 1]
            else:
                prev[i, 0, latent_dim] = 1.0
            prev[i, 1:m, :latent_dim] = lat[s:s + m - 1]
            nxt[i, :m - 1, :latent_dim] = lat[s + 1:s + m]
            nxt[i, :m - 1, latent_dim] = 1.0
            if s + m < n:
                nxt[i, m - 1, :latent_dim] = lat[s + m]
                nxt[i, m - 1, latent_dim] = 1.0
            bars[i, :m] = piece.controls[s:s + m]
            if len(piece.captions) and rng.random() >= self.drop.semantic:
                # shot semantics are text-space vectors; in music they are the piece's captions
                sem = piece.captions[rng.integers(len(piece.captions))]
                bars[i, :m, C.N_CONTROL_FEATURES] = 1.0
                bars[i, :m, C.N_CONTROL_FEATURES + 1:] = sem / max(1e-6, float(np.linalg.norm(sem)))
            intent[i] = self.intent_for(piece, rng)
        return {"prev": prev, "target": target, "next": nxt, "bars": bars, "intent": intent,
                "valid": valid}
