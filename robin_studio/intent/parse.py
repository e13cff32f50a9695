"""Prompt parsing: from what a creator typed to an `Intent`.

Explicit controls are read with plain rules and obeyed exactly downstream: a tempo ("92 bpm",
"slow"), a key and mode ("in D minor", "major key"), instruments to use or avoid ("strings and
piano", "no drums", "without piano"), dynamics ("soft", "loud", "builds") and timed wishes
("quiet for the first 10 seconds", "drop at 0:45", "drop at the title card"). Wishes tied to a
picture moment keep the words (`TimedWish.anchor_text`); the engine ties them to a section
through the shots' labels. Everything else (style, mood, nuance) reaches the model through the
sentence embedding of the whole prompt, which works in any language. English is parsed fully;
French, German and Spanish words for tempo, key, instruments and negation are understood too.
A prompt in any other language never fails: it just yields the embedding and no explicit controls.
"""

from __future__ import annotations

import re
import unicodedata

from robin_studio.intent.instruments import (INSTRUMENT_WORDS, INSTRUMENTS, ROLE_INSTRUMENTS,
                                             ROLE_WORDS)
from robin_studio.intent.styles import MOODS, STYLE_SYNONYMS, WEAK_STYLE_WORDS
from robin_studio.intent.types import Intent, TimedWish
from robin_studio.limits import bounded_prompt
from robin_studio.score.types import Role

# -- vocabularies ------------------------------------------------------------------------
PITCH_CLASS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
# Solfege names (French/Spanish) and German H.
SOLFEGE = {"do": 0, "ré": 2, "re": 2, "mi": 4, "fa": 5, "sol": 7, "la": 9, "si": 11, "h": 11}
MAJOR_WORDS = {"major", "maj", "dur", "majeur", "mayor"}
MINOR_WORDS = {"minor", "min", "moll", "mineur", "menor"}

TEMPO_WORDS: dict[str, tuple[float, float]] = {
    "very slow": (50, 68), "slow": (60, 84), "slowly": (60, 84), "laid back": (70, 92),
    "laid-back": (70, 92), "relaxed tempo": (70, 92), "mid tempo": (92, 116),
    "mid-tempo": (92, 116), "midtempo": (92, 116), "medium tempo": (92, 116),
    "moderate": (92, 116), "moderately": (92, 116), "fast": (124, 160), "quick": (124, 160),
    "uptempo": (118, 140), "up-tempo": (118, 140), "very fast": (140, 180),
    "lent": (60, 84), "lente": (60, 84), "rapide": (124, 160), "langsam": (60, 84),
    "schnell": (124, 160), "lento": (60, 84), "lenta": (60, 84), "rápido": (124, 160), "rapido": (124, 160),
    "rápida": (124, 160), "andante": (76, 108), "allegro": (120, 156), "adagio": (60, 76),
    "largo": (50, 64), "presto": (160, 190), "moderato": (100, 120),
}

SOFT_WORDS = {"soft", "quiet", "gentle", "delicate", "subtle", "understated", "minimal",
              "hushed", "tender", "doux", "douce", "leise", "sanft", "suave", "tranquila", "tranquilo",
              "tranquille", "calme", "ruhig", "ruhige", "ruhiger"}
LOUD_WORDS = {"loud", "powerful", "big", "massive", "huge", "intense", "aggressive", "bombastic",
              "energetic", "fort", "forte", "laut", "kräftig", "fuerte"}
BUILD_WORDS = {"builds", "build", "building", "crescendo", "grows", "growing", "rises",
               "rising", "swells", "swelling", "escalates", "escalating"}

NEGATIONS = ("no", "without", "not", "avoid", "minus", "nor", "don't use", "dont use",
             "no more", "sans", "pas de", "ohne", "kein", "keine", "keinen", "sin", "ni")
ONLY_WORDS = ("only", "just", "solo", "purely", "nothing but", "seulement", "nur", "solo",
              "sólo", "solamente", "uniquement")
# Instrument words that count only after a negation ("no beat"); on their own they usually
# mean something else ("cuts on the beat").
NEGATION_ONLY = {"beat": "drums", "beats": "drums", "kit": "drums", "hats": "drums",
                 "hi-hats": "drums", "rhythm section": "drums"}

WISH_KINDS: dict[str, str] = {
    "quiet": "quiet", "quietly": "quiet", "soft": "quiet", "softly": "quiet", "calm": "quiet",
    "gentle": "quiet", "sparse": "quiet", "low": "quiet", "minimal": "quiet", "mellow": "quiet",
    "calmer": "quiet", "quieter": "quiet", "softer": "quiet",
    "silent": "silence", "silence": "silence", "no music": "silence", "nothing": "silence",
    "loud": "loud", "intense": "loud", "big": "loud", "full": "loud", "powerful": "loud",
    "energetic": "loud", "louder": "loud", "bigger": "loud", "epic": "loud",
    "drop": "drop", "hit": "drop", "climax": "drop", "peak": "drop", "impact": "drop",
    "boom": "drop", "explode": "drop", "explodes": "drop", "kicks in": "drop", "kick in": "drop",
    "build": "build", "builds": "build", "build up": "build", "builds up": "build",
    "swell": "build", "swells": "build", "crescendo": "build", "rise": "build", "rises": "build",
    "grow": "build", "grows": "build",
    "resolve": "resolve", "resolves": "resolve", "resolution": "resolve",
    "stop": "silence", "stops": "silence", "pause": "silence", "breakdown": "quiet",
}

# Number and unit of a time: "0:45", "1:02:03", "45s", "45 seconds", "1.5 min", "1m30".
_UNIT_S = r"(?:s|sec|secs|second|seconds|seconde|secondes|segundo|segundos|sekunde|sekunden)"
_UNIT_M = r"(?:m|min|mins|minute|minutes|minuto|minutos|minuten)"
TIME_RE = (r"(?:(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}))?"
           r"|(?P<mm>\d+)\s*m\s*(?P<ss>\d{1,2})\s*s?"
           rf"|(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>{_UNIT_S}|{_UNIT_M})\b)")
ANCHOR_STOP = r"(?=$|[.,;!?]| and | but | then | with | while | until | after | before )"


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    text = text.replace("’", "'").replace("–", "-").replace("—", "-")
    return " ".join(text.split())


def _time_s(m: re.Match) -> float:
    g = m.groupdict()
    if g.get("h") is not None:
        if g.get("s") is not None:  # h:mm:ss
            return float(int(g["h"]) * 3600 + int(g["m"]) * 60 + int(g["s"]))
        return float(int(g["h"]) * 60 + int(g["m"]))  # m:ss
    if g.get("mm") is not None:
        return float(int(g["mm"]) * 60 + int(g["ss"]))
    value = float(str(g["num"]).replace(",", "."))
    return value * 60 if re.fullmatch(_UNIT_M, g["unit"]) else value


def _phrase_pattern(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_WORD_B = r"(?<![\w-])"
_WORD_E = r"(?![\w-])"
_INSTR_ALL = {**INSTRUMENT_WORDS, **NEGATION_ONLY}
_INSTR_RE = _phrase_pattern(_INSTR_ALL)
_ROLE_RE = _phrase_pattern(ROLE_WORDS)
_ITEM_RE = rf"(?:{_INSTR_RE}|{_ROLE_RE})"
_LIST_RE = (rf"(?P<list>(?:the |any |a |de |la |le |les |das |die |den |el |los |las )?"
            rf"(?:{_ITEM_RE})(?:\s*(?:,|/|\+|&|and|or|nor|et|ou|und|oder|y|o|ni)\s*"
            rf"(?:the |any |a )?(?:{_ITEM_RE}))*)")
_NEG_RE = re.compile(rf"{_WORD_B}(?P<neg>{_phrase_pattern(NEGATIONS)})\s+{_LIST_RE}{_WORD_E}"
                     rf"|{_WORD_B}(?P<list2>{_ITEM_RE})-free{_WORD_E}")
_ONLY_RE = re.compile(rf"{_WORD_B}(?:{_phrase_pattern(ONLY_WORDS)})\s+{_LIST_RE}{_WORD_E}")
_ITEM_FIND = re.compile(rf"{_WORD_B}({_ITEM_RE}){_WORD_E}")


def _items(list_text: str) -> list[str]:
    return [m.group(1) for m in _ITEM_FIND.finditer(list_text)]


# -- the parts of a prompt ---------------------------------------------------------------
def _parse_tempo(text: str, intent: Intent) -> None:
    m = re.search(r"(\d{2,3}(?:[.,]\d+)?)\s*(?:bpm|b\.p\.m\.?|beats per minute|beats a minute"
                  r"|schläge pro minute|pulsations par minute|ppm|pulsaciones)", text)
    if m:
        bpm = float(m.group(1).replace(",", "."))
        if 30 <= bpm <= 300:
            intent.tempo_bpm = bpm
            return
    m = re.search(r"(?:tempo|at)\s+(?:of\s+)?(\d{2,3})(?!\s*[:%\d])(?!\s*(?:s|sec|seconds?|min))\b",
                  text)
    if m and 40 <= float(m.group(1)) <= 220 and "tempo" in m.group(0):
        intent.tempo_bpm = float(m.group(1))
        return
    for word in sorted(TEMPO_WORDS, key=len, reverse=True):
        if re.search(rf"{_WORD_B}{re.escape(word)}{_WORD_E}", text):
            # "slow build" / "slowly builds" is about the arc, not the tempo.
            if re.search(rf"{re.escape(word)}\s+(?:build|builds|burn|fade|crescendo|rise)", text):
                continue
            intent.tempo_range_bpm = TEMPO_WORDS[word]
            return


def _parse_key(text: str, intent: Intent) -> None:
    mode_re = _phrase_pattern(MAJOR_WORDS | MINOR_WORDS)
    letter = r"(?P<letter>[a-g]|do|ré|re|mi|fa|sol|la|si|h)"
    accidental = r"(?P<acc>#|♯|b|♭|-sharp|-flat| sharp| flat|is|es|s| dièse| bémol| sostenido| bemol)?"
    for m in re.finditer(rf"{_WORD_B}{letter}{accidental}[\s-]*(?P<mode>{mode_re}){_WORD_E}", text):
        raw_letter = m.group("letter")
        # "a minor key" / "a major chord": the article, not the note A.
        before = text[max(0, m.start() - 4):m.start()]
        after = text[m.end():m.end() + 6]
        if raw_letter == "a" and not before.endswith("in ") and after.startswith(" key"):
            break
        if raw_letter == "b" and m.group("acc") in (None, ""):
            pass
        pc = PITCH_CLASS.get(raw_letter, SOLFEGE.get(raw_letter))
        if pc is None:
            continue
        acc = (m.group("acc") or "").strip()
        if acc in ("#", "♯", "-sharp", "sharp", "is", "dièse", "sostenido"):
            pc += 1
        elif acc in ("b", "♭", "-flat", "flat", "es", "s", "bémol", "bemol"):
            pc -= 1
        intent.key_tonic = pc % 12
        intent.key_mode = "major" if m.group("mode") in MAJOR_WORDS else "minor"
        return
    if re.search(rf"{_WORD_B}(?:{_phrase_pattern(MINOR_WORDS - {'min'})}){_WORD_E}", text):
        intent.key_mode = "minor"
    elif re.search(rf"{_WORD_B}(?:{_phrase_pattern(MAJOR_WORDS - {'maj'})}){_WORD_E}", text):
        intent.key_mode = "major"


def _until_wish(text: str, end: int) -> tuple[float | None, str] | None:
    """If a ban is followed by "until 0:20" / "until the title card", its end time or anchor."""
    m = re.match(rf"\s*(?:until|till|til|before|jusqu'à|jusqu'au|bis|hasta)\s+(?:the\s+)?"
                 rf"(?:{TIME_RE}|(?P<anchor>.+?){ANCHOR_STOP})", text[end:])
    if not m:
        return None
    if m.group("anchor"):
        return None, m.group("anchor").strip()
    return _time_s(m), ""


def _part_wish(text: str, end: int) -> str | None:
    """A ban followed by "at first" / "in the intro" / "at the end": which part it is about."""
    m = re.match(r"\s*(?:(?P<intro>at first|at the (?:start|beginning)|in the (?:beginning|intro|opening)"
                 r"|(?:for|during) the (?:intro|opening|beginning))|(?P<end>at the end|in the (?:outro|ending)"
                 r"|(?:for|during) the (?:outro|ending|end)))\b", text[end:])
    if not m:
        return None
    return "intro" if m.group("intro") else "ending"


def _first_wish(text: str, end: int) -> tuple[float, bool] | None:
    """A ban followed by "for the first 20 seconds" / "in the last 10 s": (seconds, from_end)."""
    m = re.match(rf"\s*(?:for|during|in|over)\s+the\s+(?P<which>first|last|opening|final)\s+"
                 rf"(?:{TIME_RE})", text[end:])
    if not m:
        return None
    return _time_s(m), m.group("which") in ("last", "final")


def _parse_instruments(text: str, intent: Intent) -> str:
    """Fill the instrument and role fields; returns the text with negated phrases removed."""
    consumed = []
    for m in _NEG_RE.finditer(text):
        list_text = m.group("list") or m.group("list2") or ""
        end = m.end()
        if "," in list_text:
            # "no drums, bass or piano" negates all three; "ohne Schlagzeug, Klavier und
            # Streicher" negates only the first: a comma list is negated only if it ends with "or".
            segments = list_text.split(",")
            if not re.search(r"\b(?:or|nor|oder|ou|o|ni)\b", segments[-1]):
                list_text = segments[0]
                end = m.start("list") + len(list_text)
        items = _items(list_text)
        roles: list[Role] = []
        names: list[str] = []
        for item in items:
            if item in ROLE_WORDS:
                roles.append(ROLE_WORDS[item])
                continue
            name = _INSTR_ALL[item]
            if name in ROLE_INSTRUMENTS:
                roles.append(ROLE_INSTRUMENTS[name])
            else:
                names.append(name)
        until = _until_wish(text, end)
        first = _first_wish(text, end) if until is None else None
        part = _part_wish(text, end) if until is None and first is None else None
        if until is not None or first is not None or part is not None:
            # A ban with an end ("no drums until the title card") is a timed wish, not a ban.
            if part is not None:
                wish = TimedWish("mute", None, None, text=m.group(0), anchor_text=part,
                                 roles=tuple(roles))
            elif until is not None:
                wish = TimedWish("mute", 0.0, until[0], text=m.group(0), anchor_text=until[1],
                                 roles=tuple(roles))
            else:
                secs, from_end = first
                wish = (TimedWish("mute", secs, 0.0, text=m.group(0), relative_to_end=True,
                                  roles=tuple(roles)) if from_end else
                        TimedWish("mute", 0.0, secs, text=m.group(0), roles=tuple(roles)))
            if roles:
                intent.timed_wishes.append(wish)
        else:
            for r in roles:
                intent.exclude_roles.add(r)
            for n in names:
                if n not in intent.excluded_instruments:
                    intent.excluded_instruments.append(n)
        consumed.append((m.start(), end))
    rest = text
    for s, e in reversed(consumed):
        rest = rest[:s] + " " * (e - s) + rest[e:]

    only = _ONLY_RE.search(rest)
    if only:
        intent.exclusive_instruments = True
    for m in _ITEM_FIND.finditer(rest):
        item = m.group(1)
        if item in ROLE_WORDS or item in NEGATION_ONLY:
            continue
        name = INSTRUMENT_WORDS[item]
        # "bass" in "bass-heavy", "808 bass" still asks for a bass; keep it simple.
        if name not in intent.instruments and name not in intent.excluded_instruments:
            intent.instruments.append(name)
    for name in intent.instruments:
        if name in ROLE_INSTRUMENTS:
            intent.include_roles.add(ROLE_INSTRUMENTS[name])
    if intent.exclusive_instruments:
        allowed = {r for n in intent.instruments for r in INSTRUMENTS[n].roles}
        for role in (Role.DRUMS, Role.BASS):
            if role not in allowed:
                intent.exclude_roles.add(role)
    intent.include_roles -= intent.exclude_roles
    return rest


def _parse_style_and_mood(text: str, intent: Intent) -> None:
    hits: list[tuple[int, bool, str]] = []
    for phrase, style in STYLE_SYNONYMS.items():
        for m in re.finditer(rf"{_WORD_B}{re.escape(phrase)}{_WORD_E}", text):
            hits.append((m.start(), phrase in WEAK_STYLE_WORDS, style))
    if hits:
        # The first strong genre word wins; weak words ("dark", "upbeat") only if none.
        hits.sort(key=lambda h: (h[1], h[0]))
        intent.style = hits[0][2]
    for word, mood in MOODS.items():
        if re.search(rf"{_WORD_B}{re.escape(word)}{_WORD_E}", text) and mood not in intent.moods:
            intent.moods.append(mood)


def _parse_dynamics(text: str, intent: Intent) -> None:
    words = set(re.findall(r"[\w'-]+", text))
    soft = len(words & SOFT_WORDS)
    loud = len(words & LOUD_WORDS)
    if soft > loud:
        intent.dynamics = 0.25
    elif loud > soft:
        intent.dynamics = 0.85
    if words & BUILD_WORDS and not any(w.kind == "build" for w in intent.timed_wishes):
        # "builds (to the end)" without a moment: one arc over the whole piece.
        m = re.search(rf"{_WORD_B}(?:{_phrase_pattern(BUILD_WORDS)}){_WORD_E}", text)
        intent.timed_wishes.append(TimedWish("build", None, None, text=m.group(0) if m else "build"))


def _parse_timed_wishes(text: str, intent: Intent) -> str:
    """Append the timed wishes; returns the text with their phrases blanked out."""
    kinds = _phrase_pattern(WISH_KINDS)
    spans: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in spans)

    def add(wish: TimedWish, m: re.Match) -> None:
        if free(m.start(), m.end()):
            spans.append((m.start(), m.end()))
            intent.timed_wishes.append(wish)

    # "quiet for the first 10 seconds", "silent during the last 5 s"
    for m in re.finditer(rf"{_WORD_B}(?P<kind>{kinds}){_WORD_E}[\w\s]{{0,20}}?\s*(?:for|during|in|over)"
                         rf"\s+the\s+(?P<which>first|opening|last|final)\s+(?:{TIME_RE})", text):
        secs = _time_s(m)
        kind = WISH_KINDS[m.group("kind")]
        if m.group("which") in ("last", "final"):
            add(TimedWish(kind, secs, 0.0, m.group(0), relative_to_end=True), m)
        else:
            add(TimedWish(kind, 0.0, secs, m.group(0)), m)
    # "the first 10 seconds quiet" / "first 10 s should be soft"
    for m in re.finditer(rf"(?:the\s+)?(?P<which>first|opening|last|final)\s+(?:{TIME_RE})"
                         rf"[\w\s]{{0,20}}?\s(?P<kind>{kinds}){_WORD_E}", text):
        secs = _time_s(m)
        kind = WISH_KINDS[m.group("kind")]
        if m.group("which") in ("last", "final"):
            add(TimedWish(kind, secs, 0.0, m.group(0), relative_to_end=True), m)
        else:
            add(TimedWish(kind, 0.0, secs, m.group(0)), m)
    # "quiet from 0:10 to 0:25", "between 10 s and 20 s loud"
    t2 = TIME_RE.replace("?P<", "?P<b_")
    for m in re.finditer(rf"(?:(?P<kind>{kinds})\s+)?(?:from|between)\s+(?:{TIME_RE})\s*"
                         rf"(?:to|and|-|until|till)\s*(?:{t2})(?:\s+(?P<kind2>{kinds}){_WORD_E})?", text):
        kind_word = m.group("kind") or m.group("kind2")
        if not kind_word:
            continue
        start = _time_s(m)
        g = {k[2:]: v for k, v in m.groupdict().items() if k.startswith("b_")}
        end = _time_s(_Fake(g))
        add(TimedWish(WISH_KINDS[kind_word], start, end, m.group(0)), m)
    # "drop at 0:45", "build to 1:10", "quiet until 0:20", "loud after 30 seconds"
    for m in re.finditer(rf"{_WORD_B}(?P<kind>{kinds})(?:\s+\w+)?\s+(?P<prep>at|on|to|by|around|until|"
                         rf"till|after|from|à|bei|um|a las|en)\s+(?:{TIME_RE})", text):
        kind = WISH_KINDS[m.group("kind")]
        t = _time_s(m)
        prep = m.group("prep")
        if prep in ("until", "till"):
            add(TimedWish(kind, 0.0, t, m.group(0)), m)
        elif prep in ("after", "from"):
            add(TimedWish(kind, t, None, m.group(0)), m)
        elif kind == "build":
            add(TimedWish(kind, None, t, m.group(0)), m)   # a build arrives AT the time
        else:
            add(TimedWish(kind, t, None, m.group(0)), m)
    # "drop at the title card", "calm when the sun comes up", "builds to the sunrise"
    for m in re.finditer(rf"{_WORD_B}(?P<kind>{kinds})(?:\s+(?:up|in|out))?\s+(?P<prep>at|on|to|towards|"
                         rf"toward|when|as|once|for|during|until|till|after)\s+(?P<anchor>.+?){ANCHOR_STOP}",
                         text):
        anchor = m.group("anchor").strip()
        if re.match(rf"(?:the\s+)?(?:first|last|opening|final)\b|{TIME_RE}|the beat|beats?\b", anchor):
            continue
        if m.group("prep") == "for" and not re.match(r"the\s", anchor):
            continue
        kind = WISH_KINDS[m.group("kind")]
        anchor = re.sub(r"^(?:the|a|an)\s+", "", anchor)
        if anchor in ("end", "the end", "finish", "ending") and kind == "build":
            add(TimedWish("build", None, None, m.group(0), anchor_text="ending"), m)
            continue
        prep = m.group("prep")
        if prep in ("until", "till"):
            add(TimedWish(kind, 0.0, None, m.group(0), anchor_text=anchor), m)
        else:
            add(TimedWish(kind, None, None, m.group(0), anchor_text=anchor), m)
    # "quiet intro", "soft ending", "ends quietly", "starts calm"
    for m in re.finditer(rf"{_WORD_B}(?P<kind>{kinds})\s+(?P<part>intro|opening|beginning|start|ending|"
                         rf"end|outro|finale){_WORD_E}", text):
        part = "intro" if m.group("part") in ("intro", "opening", "beginning", "start") else "ending"
        add(TimedWish(WISH_KINDS[m.group("kind")], None, None, m.group(0), anchor_text=part), m)
    for m in re.finditer(rf"{_WORD_B}(?P<part>starts|begins|opens|ends|finishes|closes)\s+(?:\w+\s+)?"
                         rf"(?P<kind>{kinds}){_WORD_E}", text):
        part = "intro" if m.group("part") in ("starts", "begins", "opens") else "ending"
        add(TimedWish(WISH_KINDS[m.group("kind")], None, None, m.group(0), anchor_text=part), m)
    for w in intent.timed_wishes:
        if w.text and w.text in text:
            i = text.index(w.text)
            text = text[:i] + " " * len(w.text) + text[i + len(w.text):]
    return text


# -- hit points ("hit at 0:12.4", "soft hit at 31.5 s", "hits at 0:10 and 0:20") --------------
# (added by the hitpoints owner; runs before the timed wishes, which read "hit" as a drop)
_HIT_TIME = r"\d+(?::\d{1,2}){0,2}(?:[.,]\d+)?(?:\s*(?:s|sec|secs|seconds?)\b)?"
_HIT_RE = re.compile(rf"(?:\b(?P<kind>strong|big|hard|loud|soft|light|small|gentle)\s+)?\bhits?"
                     rf"(?:\s+points?)?\s+(?:at|on|@)\s+(?P<times>{_HIT_TIME}(?:\s*(?:,\s|,|and|&)\s*"
                     rf"{_HIT_TIME})*)(?:\s*\(?(?P<after>strong|soft)\)?)?")


def _parse_hit_points(text: str, intent: Intent) -> str:
    """Append the hit points; returns the text with their phrases blanked out."""
    from robin_studio.timing.hits import parse_time

    for m in _HIT_RE.finditer(text):
        kind = m.group("after") or m.group("kind") or "strong"
        strong = kind not in ("soft", "light", "small", "gentle")
        for t in re.findall(_HIT_TIME, m.group("times")):
            t = re.sub(r"\s*(?:s|sec|secs|seconds?)$", "", t)
            try:
                intent.hit_points.append((parse_time(t), strong))
            except Exception:       # "hit at 1:75": not a time; left to the other rules
                continue
        text = text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]
    return text


class _Fake:
    """Lets `_time_s` read the second time of a range from a plain dict of groups."""

    def __init__(self, groups: dict) -> None:
        self._g = groups

    def groupdict(self) -> dict:
        return self._g


def parse_prompt(text: str, *, embed: bool = True) -> Intent:
    """Parse a prompt into an `Intent` (with its sentence embedding unless `embed=False`).

    Never raises on odd input: an empty prompt gives an empty Intent (no embedding), any
    language gives at least the embedding.
    """
    prompt = text if isinstance(text, str) else str(text or "")
    intent = Intent(prompt=prompt)
    read = bounded_prompt(prompt)   # only the first 1000 characters: the encoder is slow on more
    norm = _norm(read)
    if norm:
        norm = _parse_hit_points(norm, intent)
        _parse_tempo(norm, intent)
        _parse_key(norm, intent)
        rest = _parse_instruments(norm, intent)
        _parse_style_and_mood(rest, intent)
        rest = _parse_timed_wishes(norm, intent)
        _parse_dynamics(rest, intent)
    if embed and norm:
        from robin_studio.intent.text_encoder import embed_text
        intent.text_embedding = embed_text(read)
    return intent


def describe_intent(intent: Intent) -> str:
    """What was understood, in a few words ("92 bpm, D minor, no drums, quiet 0-10 s"), for
    the CLI and the app to show back to the creator. Empty when nothing explicit was found."""
    from robin_studio.score.theory import NOTE_NAMES

    parts: list[str] = []
    if intent.style:
        parts.append(intent.style)
    if intent.tempo_bpm:
        parts.append(f"{intent.tempo_bpm:g} bpm")
    elif intent.tempo_range_bpm:
        parts.append(f"{intent.tempo_range_bpm[0]:g}-{intent.tempo_range_bpm[1]:g} bpm")
    if intent.key_mode:
        tonic = f"{NOTE_NAMES[intent.key_tonic]} " if intent.key_tonic is not None else ""
        parts.append(f"{tonic}{intent.key_mode}")
    if intent.instruments:
        parts.append(("only " if intent.exclusive_instruments else "") + ", ".join(intent.instruments))
    parts += [f"no {r.value}" for r in sorted(intent.exclude_roles, key=lambda r: r.value)]
    parts += [f"no {n}" for n in intent.excluded_instruments]
    if intent.dynamics is not None:
        parts.append("soft" if intent.dynamics < 0.5 else "loud")
    for w in intent.timed_wishes:
        what = f"no {'/'.join(r.value for r in w.roles)}" if w.kind == "mute" else w.kind
        if w.anchor_text:
            if w.kind == "build":
                when = f"to the {'end' if w.anchor_text == 'ending' else w.anchor_text}"
            elif w.anchor_text in ("intro", "ending"):
                when = "in the intro" if w.anchor_text == "intro" else "at the end"
            elif w.start_s == 0.0 and w.end_s is None:
                when = f"until {w.anchor_text}"
            else:
                when = f"at {w.anchor_text}"
        elif w.start_s is None and w.end_s is None:
            when = "over the piece"
        elif w.relative_to_end:
            when = f"last {w.start_s:g} s"
        elif w.end_s is None:
            when = f"{'at' if w.kind in ('drop', 'resolve') else 'from'} {w.start_s:g} s"
        elif w.start_s is None:
            when = f"by {w.end_s:g} s"
        else:
            when = f"{w.start_s:g}-{w.end_s:g} s"
        parts.append(f"{what} {when}")
    if intent.moods:
        parts.append(", ".join(intent.moods))
    parts += [f"{'strong' if strong else 'soft'} hit at {t:g} s" for t, strong in intent.hit_points]
    return "; ".join(parts)
