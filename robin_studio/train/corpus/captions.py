"""Natural-language captions for a corpus example, built from its attributes.

Each example gets several captions with varied wording: a full description (mood, genre,
instruments, tempo word and number, key), partial ones (just a genre, just a mood and a tempo),
negations that are true of the music ("no drums" only when nothing drums), a structural one
("starts quiet and builds"), and one empty caption for classifier-free guidance. Captions never
claim what the example does not hold: the tests check them against the attributes.
"""

from __future__ import annotations

import random

from robin_studio.intent.instruments import INSTRUMENTS
from robin_studio.score.theory import key_name

# Plain words for programs, more varied than the prompt parser's canonical names.
PROGRAM_WORDS: dict[int, str] = {
    0: "piano", 1: "piano", 2: "piano", 4: "electric piano", 5: "electric piano",
    8: "celesta", 9: "glockenspiel", 11: "vibraphone", 12: "marimba", 14: "bells",
    16: "organ", 18: "rock organ", 19: "church organ", 21: "accordion", 22: "harmonica",
    24: "nylon guitar", 25: "acoustic guitar", 26: "jazz guitar", 27: "clean electric guitar",
    29: "overdriven guitar", 30: "distorted guitar", 32: "upright bass", 33: "bass guitar",
    34: "picked bass", 38: "synth bass", 39: "synth bass", 40: "violin", 41: "viola", 42: "cello",
    43: "double bass", 45: "pizzicato strings", 46: "harp", 47: "timpani", 48: "strings",
    49: "strings", 50: "synth strings", 52: "choir", 54: "voices", 56: "trumpet", 57: "trombone",
    58: "tuba", 60: "french horn", 61: "brass", 62: "synth brass", 65: "alto sax",
    66: "tenor sax", 68: "oboe", 70: "bassoon", 71: "clarinet", 73: "flute", 80: "square lead",
    81: "saw lead", 84: "synth lead", 87: "synth lead", 88: "warm pad", 89: "warm pad",
    90: "polysynth", 91: "choir pad", 92: "bowed pad", 94: "halo pad", 95: "sweep pad",
    98: "crystal synth", 99: "atmosphere pad", 105: "banjo", 110: "fiddle",
}
# The prompt parser's canonical instrument names, most specific first.
_CANONICAL_ORDER = ("violin", "cello", "harp", "trumpet", "horn", "flute", "clarinet", "oboe",
                    "saxophone", "electric piano", "piano", "acoustic guitar", "electric guitar",
                    "organ", "choir", "marimba", "bells", "synth pad", "strings", "brass", "bass",
                    "woodwinds", "synth")

STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "cinematic": ("cinematic", "cinematic score", "film score", "epic trailer music"),
    "ambient": ("ambient", "ambient soundscape", "atmospheric ambient"),
    "lofi": ("lo-fi", "lofi hip hop", "chill lo-fi beat", "lofi"),
    "pop": ("pop", "pop track", "upbeat pop song"),
    "rock": ("rock", "rock track", "guitar rock"),
    "electronic": ("electronic", "electronic dance track", "EDM", "synth-driven electronic"),
    "folk": ("folk", "acoustic folk", "folk tune"),
    "orchestral": ("orchestral", "orchestral piece", "classical orchestral"),
    "jazz": ("jazz", "jazzy tune", "small-band jazz"),
    "hiphop": ("hip-hop", "hip hop beat", "boom bap hip-hop"),
    "corporate": ("corporate", "upbeat corporate track", "corporate background music"),
    "thriller": ("thriller", "suspenseful thriller score", "dark tense underscore"),
    "edm": ("EDM", "EDM festival track", "electronic dance music", "big room EDM"),
    "house": ("house", "house track", "deep house groove"),
    "trap": ("trap", "trap beat", "dark trap instrumental"),
    "boombap": ("boom bap", "boom bap beat", "90s boom bap hip hop"),
    "swing": ("swing", "big band swing", "swinging jazz"),
    "bossa": ("bossa nova", "bossa", "laid-back bossa nova"),
    "latin": ("latin", "latin party track", "salsa-flavoured latin"),
    "trailer": ("trailer music", "epic trailer", "movie trailer score"),
    "funk": ("funk", "funky groove", "funk track"),
    "solopiano": ("solo piano", "solo piano piece", "piano solo"),
    "acoustic": ("acoustic", "acoustic guitar track", "unplugged acoustic"),
    "chiptune": ("chiptune", "8-bit chiptune", "retro video game music"),
    "synthwave": ("synthwave", "retro synthwave", "80s synthwave"),
    "original": ("instrumental", "instrumental piece"),
    "user": ("instrumental", "instrumental piece"),
}


def canonical_instrument(program: int, role: str) -> str:
    """The prompt parser's name for a program (see intent.instruments), e.g. 48 -> "strings"."""
    if role == "drums":
        return "drums"
    for name in _CANONICAL_ORDER:
        if program in INSTRUMENTS[name].ban:
            return name
    return "synth" if program >= 80 else "piano"


def tempo_word(bpm: float) -> str:
    if bpm < 76:
        return "slow"
    if bpm < 100:
        return "mid-tempo"
    if bpm < 125:
        return "upbeat"
    return "fast"


_TEMPO_SYNONYMS = {"slow": ("slow", "laid-back", "unhurried"), "mid-tempo": ("mid-tempo", "moderate"),
                   "upbeat": ("upbeat", "lively", "brisk"), "fast": ("fast", "quick", "high-tempo")}


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def make_captions(*, style: str, moods: list[str], tempo_bpm: float, key_tonic: int, key_mode: str,
                  programs: dict[str, int], roles: list[str], shape: list[str],
                  rng: random.Random, all_programs: list[int] | None = None) -> list[str]:
    """Captions for one example. `programs` maps each sounding role to its (main) GM program;
    `all_programs` lists every pitched track's program when a role has several tracks."""
    pitched = list(all_programs) if all_programs is not None else \
        [p for r, p in programs.items() if r != "drums"]
    bpm = int(round(tempo_bpm))
    tw = tempo_word(tempo_bpm)
    tword = rng.choice(_TEMPO_SYNONYMS[tw])
    sword = rng.choice(STYLE_WORDS.get(style, (style,)))
    key = key_name(key_tonic, key_mode)
    inst_words = list(dict.fromkeys(PROGRAM_WORDS.get(p, canonical_instrument(p, r))
                                    for r, p in programs.items() if r != "drums"))
    rng.shuffle(inst_words)
    has_drums = "drums" in roles
    mood = rng.choice(moods) if moods else ""
    mood2 = rng.choice([m for m in moods if m != mood] or [mood]) if moods else ""

    caps: list[str] = []
    # 1. Full description.
    inst = _join(inst_words[:3] + (["drums"] if has_drums and rng.random() < 0.5 else []))
    caps.append(f"{mood} {sword} with {inst}, {tword} at {bpm} BPM in {key}".strip())
    # 2. Moods, genre and tempo number in another order.
    caps.append(rng.choice([
        f"{mood} and {mood2} {sword}, {bpm} bpm",
        f"{sword}, {mood2}, around {bpm} bpm",
        f"{'an' if tword[0] in 'aeiou' else 'a'} {tword} {sword} piece in {key}",
    ]).strip())
    # 3. Partial: one attribute.
    caps.append(rng.choice([sword, f"{mood} music", f"{tword} {sword}", f"{bpm} bpm {sword}",
                            f"music in {key}"]))
    # 4. A negation that is true of the music.
    if not has_drums:
        caps.append(rng.choice([f"{mood} {sword} with no drums", f"{sword}, no drums",
                                f"{_join(inst_words[:2])} without drums, {tword}"]).strip())
    else:
        # Absent by program (what "no NAME" bans in a prompt) and by word ("synth strings"
        # would make "no synth" read wrong).
        all_words = " ".join(PROGRAM_WORDS.get(p, "") for p in pitched)
        absent = [n for n in ("piano", "guitar", "strings", "saxophone", "synth", "brass")
                  if not any(p in INSTRUMENTS[n].ban for p in pitched) and n not in all_words]
        if absent:
            caps.append(f"{sword} with drums and {inst_words[0] if inst_words else 'bass'}, "
                        f"no {rng.choice(absent)}")
    # 5. Structure, from the section shape.
    if "build" in shape or ("peak" in shape and shape[0] == "intro"):
        caps.append(rng.choice([f"{sword} that starts quiet and builds to a big finish",
                                f"slowly building {sword}, {mood}",
                                f"{mood} {sword}, gentle intro then a full climax"]).strip())
    elif "breakdown" in shape:
        caps.append(f"{sword} with a quiet breakdown before the last chorus")
    else:
        caps.append(f"steady {mood} {sword} for background".replace("  ", " "))
    # 6. Instruments only.
    if inst_words:
        lead = PROGRAM_WORDS.get(programs.get("melody", -1), "")
        others = [w for w in inst_words if w != lead][:2]
        caps.append(f"{lead} melody over {_join(others)}" if lead and others else _join(inst_words[:3]))
    # 7. The empty caption, for classifier-free guidance.
    caps.append("")
    return [_cap(" ".join(c.split())) for c in caps]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
