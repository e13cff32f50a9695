"""The style vocabulary: the style ids the whole project speaks, and the words that point at
them.

The ids here are the contract shared by the corpus (`robin_studio.train.corpus.styles`), the
sound palettes (`robin_studio.render.palettes`) and the prompt parser. Ids are lower-case
ASCII without spaces or hyphens ("lofi", "hiphop"). Synonyms map a creator's words onto an id;
the parser matches whole words and phrases, longest first.
"""

from __future__ import annotations

from functools import lru_cache

STYLES: tuple[str, ...] = (
    "cinematic", "ambient", "lofi", "pop", "rock", "electronic",
    "folk", "orchestral", "jazz", "hiphop", "corporate", "thriller",
    # played with their own idioms (robin_studio.score.idioms) since issue 14
    "edm", "house", "trap", "boombap", "swing", "bossa", "latin", "trailer", "funk",
    "solopiano", "acoustic", "chiptune", "synthwave",
)

# The style ids the prompt vocabulary names (OWNERS.md, 2026-12-06): the twelve above and
# thirteen finer ones. Until the music has a finer id in STYLES (with its corpus, palette and
# mix), the parser uses its family here, and says so.
STYLE_FAMILY: dict[str, str] = {
    "edm": "electronic", "house": "electronic", "trap": "hiphop", "boombap": "hiphop",
    "swing": "jazz", "bossa": "jazz", "latin": "pop", "trailer": "cinematic", "funk": "pop",
    "solopiano": "cinematic", "acoustic": "folk", "chiptune": "electronic",
    "synthwave": "electronic",
}
STYLE_IDS: tuple[str, ...] = tuple(dict.fromkeys((*STYLES, *STYLE_FAMILY)))


def available_style(style: str | None) -> str | None:
    """The id the music can play for a named style: itself once it is in STYLES, else its
    family ("edm" -> "electronic" until the music knows "edm")."""
    if style is None or style in STYLES:
        return style
    family = STYLE_FAMILY.get(style)
    return family if family in STYLES else None

# Phrase -> style id, in every language: built from the [style] sections of the vocabulary
# tables (robin_studio/intent/vocab/*.toml), where a musician or translator adds words. Loaded
# on first use (module __getattr__ below), so importing the style ids costs nothing.
@lru_cache(maxsize=1)
def _style_synonyms() -> dict[str, str]:
    from robin_studio.intent.vocabulary import vocabulary

    out = {s: s for s in STYLES}
    for word, style in vocabulary().section("style").items():
        if not word.endswith("*") and available_style(style):
            out.setdefault(word, available_style(style))
    return out


def __getattr__(name: str):
    if name == "STYLE_SYNONYMS":
        value = _style_synonyms()
        globals()["STYLE_SYNONYMS"] = value
        return value
    raise AttributeError(name)


# Synonyms that describe a mood as much as a genre ("dark", "upbeat"): a real genre word in the
# same prompt wins over them ("dark jazz" is jazz, "upbeat rock" is rock).
WEAK_STYLE_WORDS: frozenset[str] = frozenset({
    "epic", "heroic", "dark", "tense", "tension", "creepy", "mysterious", "mystery", "ominous",
    "upbeat", "inspiring", "motivational", "acoustic", "dusty", "vinyl", "synth", "synths",
    "pad", "pads", "atmospheric", "meditative", "catchy", "radio", "movie", "tech", "swing",
    "épico", "épique", "episch", "acoustique", "akustisch", "acústico",
})

# Words that name a mood rather than a style; kept in the Intent for the model and the UI.
MOODS: dict[str, str] = {
    "happy": "happy", "joyful": "happy", "cheerful": "happy", "fun": "happy", "playful": "playful",
    "sad": "sad", "melancholic": "melancholic", "melancholy": "melancholic", "wistful": "melancholic",
    "nostalgic": "nostalgic", "warm": "warm", "cosy": "warm", "cozy": "warm", "tender": "tender",
    "calm": "calm", "peaceful": "calm", "relaxed": "calm", "relaxing": "calm", "serene": "calm",
    "chill": "calm", "dreamy": "dreamy", "hopeful": "hopeful", "uplifting": "uplifting",
    "triumphant": "triumphant", "energetic": "energetic", "driving": "energetic",
    "powerful": "powerful", "intense": "intense", "dramatic": "dramatic", "romantic": "romantic",
    "tense": "tense", "dark": "dark", "mysterious": "mysterious", "eerie": "eerie",
    "bright": "bright", "epic": "epic", "emotional": "emotional", "gentle": "gentle",
    "aggressive": "aggressive", "groovy": "groovy", "funky": "groovy", "quirky": "playful",
    "triste": "sad", "traurig": "sad", "heureux": "happy", "feliz": "happy", "fröhlich": "happy",
    "calme": "calm", "ruhig": "calm", "tranquilo": "calm", "sombre": "dark", "oscuro": "dark",
    "düster": "dark",
}

# A typical tempo range per style, used when the prompt names no tempo. The corpus and the
# solver may keep their own finer tables; this one only seeds the solver's search range.
STYLE_TEMPO_RANGE_BPM: dict[str, tuple[float, float]] = {
    "cinematic": (70, 120), "ambient": (60, 90), "lofi": (70, 92), "pop": (95, 128),
    "rock": (100, 150), "electronic": (110, 135), "folk": (80, 125), "orchestral": (70, 130),
    "jazz": (80, 160), "hiphop": (80, 100), "corporate": (100, 125), "thriller": (70, 115),
    "edm": (122, 130), "house": (118, 126), "trap": (130, 150), "boombap": (84, 96),
    "swing": (120, 180), "bossa": (120, 140), "latin": (96, 126), "trailer": (70, 100),
    "funk": (96, 116), "solopiano": (64, 104), "acoustic": (84, 120), "chiptune": (120, 150),
    "synthwave": (84, 118),
}


def normalise_style(word: str | None) -> str | None:
    """A style id for a word or id ("Lo-Fi" -> "lofi"), or None if it names no style."""
    if not word:
        return None
    w = word.strip().lower()
    if w in STYLES:
        return w
    return _style_synonyms().get(w)
