"""Prompt parsing: from what a creator typed, in any of ten languages, to an `Intent`.

Explicit controls are read with plain rules and obeyed exactly downstream: a tempo ("92 bpm",
"around 90", "テンポ120", "slow"), a key and mode ("in D minor", "d-Moll", "ハ短調", "ре минор"),
instruments to use or avoid ("strings and piano", "no drums", "ドラムなし", "без барабанов",
"only piano"), a style ("lo-fi", "ブームバップ"), moods and what they imply (mode and energy:
"triste" is minor and low), dynamics ("soft", "loud", "builds") and timed wishes ("quiet for
the first 10 seconds", "drop at 0:45", "drop at the title card"). Wishes tied to a picture
moment keep the words (`TimedWish.anchor_text`); the engine ties them to a section through
the shots' labels. Everything else reaches the model through the sentence embedding of the
whole prompt.

The words of every language are data (`vocab/<language>.toml`, found by
`intent.vocabulary`); this module only says how they combine ("no" before a list, "なし" after
an instrument, a note name before a mode word). Nothing is dropped silently: every word that
set a control is recorded (`Intent.provenance`, `Intent.spans`), every word that set none is
listed (`Intent.unknown_words`), and every request that cannot be honoured exactly says so
(`Intent.substitutions`, `Intent.notes`); `intent.report` turns that into lines for the CLI
and the app. The work is linear in the prompt's length.
"""

from __future__ import annotations

import re

from robin_studio.intent.instruments import DRUM_KITS, INSTRUMENTS, ROLE_INSTRUMENTS
from robin_studio.intent.styles import STYLE_IDS, available_style
from robin_studio.intent.types import Intent, TimedWish
from robin_studio.intent.vocabulary import (CJK_CHAR, CJK_CLASS, Hit, Token, meanings,
                                            normalise, tokens, vocabulary)
from robin_studio.limits import bounded_prompt, prompt_note
from robin_studio.score.types import Role

ROLE_NAMES: dict[str, Role] = {r.value: r for r in Role}
# The style ids that name one idiom: when two styles are named, the more specific one wins
# ("epic orchestral trailer music" is trailer, "lo-fi hip hop" lofi); else the first named.
SPECIFIC_STYLES = frozenset({"edm", "house", "trap", "boombap", "swing", "bossa", "latin",
                             "trailer", "funk", "solopiano", "acoustic", "chiptune", "synthwave",
                             "lofi"})
# Instruments that, named alone, say the style when no style word does.
STYLE_FROM_INSTRUMENTS: dict[frozenset[str], str] = {
    frozenset({"piano"}): "solopiano",
    frozenset({"acoustic guitar"}): "acoustic", frozenset({"nylon guitar"}): "acoustic",
    frozenset({"steel guitar"}): "acoustic",
}
MAX_TIMED_WISHES = 64        # a prompt is a wish list, not a score: more is noise
# Mood words kept for the model and the UI; ids as in vocab/meanings.toml.
STRUCTURE_KINDS = {"build": "build", "drop": "drop", "climax": "drop", "breakdown": "quiet",
                   "fade out": "quiet", "silence": "silence"}
WISH_KINDS: dict[str, str] = {
    "quiet": "quiet", "quietly": "quiet", "soft": "quiet", "softly": "quiet", "calm": "quiet",
    "gentle": "quiet", "sparse": "quiet", "low": "quiet", "minimal": "quiet", "mellow": "quiet",
    "calmer": "quiet", "quieter": "quiet", "softer": "quiet",
    "silent": "silence", "silence": "silence", "no music": "silence", "nothing": "silence",
    "loud": "loud", "intense": "loud", "big": "loud", "full": "loud", "powerful": "loud",
    "energetic": "loud", "louder": "loud", "bigger": "loud", "epic": "loud",
    "drop": "drop", "drops": "drop", "hit": "drop", "climax": "drop", "peak": "drop", "impact": "drop",
    "boom": "drop", "explode": "drop", "explodes": "drop", "kicks in": "drop", "kick in": "drop",
    "build": "build", "builds": "build", "build up": "build", "builds up": "build",
    "swell": "build", "swells": "build", "crescendo": "build", "rise": "build", "rises": "build",
    "grow": "build", "grows": "build",
    "resolve": "resolve", "resolves": "resolve", "resolution": "resolve",
    "stop": "silence", "stops": "silence", "pause": "silence", "breakdown": "quiet",
}


# Number and unit of a time: "0:45", "1:02:03", "45s", "45 seconds", "1.5 min", "1m30".
_UNIT_S = (r"(?:s|sec|secs|second|seconds|seconde|secondes|segundo|segundos|secondo|secondi|sekunde"
           r"|sekunden|sek|секунд[уаы]?|сек|秒|초)")
_UNIT_M = r"(?:m|min|mins|minute|minutes|minuto|minutos|minuti|minuten|минут[уаы]?|мин|分|분)"
TIME_RE = (r"(?:(?P<h>\d+):(?P<m>\d{1,2})(?::(?P<s>\d{1,2}))?"
           r"|(?P<mm>\d+)\s*m\s*(?P<ss>\d{1,2})\s*s?"
           rf"|(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>{_UNIT_S}|{_UNIT_M})(?![a-zа-я]))")
ANCHOR_STOP = r"(?=$|[.,;!?]| and | but | then | with | while | until | after | before )"



_WORD_B = r"(?<![\w-])"
_WORD_E = r"(?![\w-])"


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


def _until_wish(text: str, end: int, words=()) -> tuple[float | None, str, int, int] | None:
    """If a ban is followed by "until 0:20" / "until the title card" / "bis die Sonne aufgeht"
    (`words`: the tables' "until" words), its end time or anchor, and where the anchor's words
    lie in `text` (start, end) so that they count as read."""
    until = _alt(["until", "till", "til", "before", "jusqu'à", "jusqu'au", "bis", "hasta", *words])
    m = re.match(rf"\s*(?:{until})\s+(?:the\s+)?"
                 rf"(?:{TIME_RE}|(?P<anchor>.{{1,60}}?){ANCHOR_STOP})", text[end:end + 200])
    if not m:
        return None
    if m.group("anchor"):
        return None, m.group("anchor").strip(), end + m.start("anchor"), end + m.end("anchor")
    return _time_s(m), "", end, end + m.end()


def _part_wish(text: str, end: int) -> str | None:
    """A ban followed by "at first" / "in the intro" / "at the end": which part it is about."""
    m = re.match(r"\s*(?:(?P<intro>at first|at the (?:start|beginning)|in the (?:beginning|intro|opening)"
                 r"|(?:for|during) the (?:intro|opening|beginning))|(?P<end>at the end|in the (?:outro|ending)"
                 r"|(?:for|during) the (?:outro|ending|end)))\b", text[end:end + 60])
    if not m:
        return None
    return "intro" if m.group("intro") else "ending"


def _first_wish(text: str, end: int) -> tuple[float, bool] | None:
    """A ban followed by "for the first 20 seconds" / "in the last 10 s": (seconds, from_end)."""
    m = re.match(rf"\s*(?:for|during|in|over)\s+the\s+(?P<which>first|last|opening|final)\s+"
                 rf"(?:{TIME_RE})", text[end:end + 80])
    if not m:
        return None
    return _time_s(m), m.group("which") in ("last", "final")



def _parse_timed_wishes(text: str, intent: Intent) -> list[tuple[int, int]]:
    """Append the timed wishes said in English; returns where their phrases are."""
    kinds = _alt(WISH_KINDS)
    spans: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in spans)

    def add(wish: TimedWish, m: re.Match) -> None:
        if len(spans) < MAX_TIMED_WISHES and free(m.start(), m.end()):
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
                         rf"toward|when|as|once|for|during|until|till|after)\s+(?P<anchor>.{{1,60}}?){ANCHOR_STOP}",
                         text):
        anchor = m.group("anchor").strip()
        if re.match(rf"(?:the\s+)?(?:first|last|opening|final)\b|{TIME_RE}|the beat|beats?\b", anchor):
            continue
        if m.group("prep") == "for" and not re.match(r"the\s", anchor):
            continue
        kind = WISH_KINDS[m.group("kind")]
        anchor = _anchor_part(re.sub(r"^(?:the|a|an)\s+", "", anchor))
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
    return spans



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




def _anchor_part(anchor: str) -> str:
    """"the end" / "the very end" -> "ending", "the start" -> "intro"; other anchors as typed."""
    if re.search(r"\b(?:end|ending|finish|finale|outro|close|climax|peak)\b", anchor) and len(anchor) < 30:
        return "ending"
    if re.fullmatch(r"(?:very\s+)?(?:start|beginning|intro|opening)", anchor):
        return "intro"
    cut = re.fullmatch(r"(first|1st|second|2nd|third|3rd|last|final)\s+(?:cut|edit)", anchor)
    if cut:     # a cut by its number, found in the video by the engine
        return "cut " + {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3",
                         "3rd": "3"}.get(cut.group(1), "-1")
    return anchor


class _Parse:
    """One prompt being read: the normalised text, its tokens, the vocabulary hits, and what
    has been used so far (so that leftovers can be reported)."""

    def __init__(self, prompt: str, intent: Intent) -> None:
        self.prompt = prompt
        self.intent = intent
        self.vocab = vocabulary()
        self.norm, self.where = normalise(prompt)
        self.norm = _parse_hit_points(self.norm, intent)     # blanks its phrases (same length)
        self.toks: list[Token] = tokens(self.norm)
        self.hits: list[Hit] = self.vocab.find(self.norm, self.toks)
        self.covered = bytearray(len(self.norm) + 1)    # 1 where a character set something
        self.consumed: set[int] = set()                 # hits read as part of another rule
        self.fillers = self.vocab.fillers()
        # which language the prompt is in, by its words: settles words that mean different
        # things in two languages ("carillon": bells in French, a music box in Italian)
        self.lang_votes: dict[str, float] = {}
        for hit in self.hits:
            langs = {m.lang for m in hit.meanings}
            for lang in langs:
                self.lang_votes[lang] = self.lang_votes.get(lang, 0.0) + 1.0 / len(langs)
        self.connectors = self.vocab.section("connector")
        self.wish_spans: list[tuple[int, int]] = []
        self.mood_energies: list[float] = []
        self.tone_energies: list[float] = []
        self.mode_votes: dict[str, list] = {}
        self.periods: list[list] = []
        self._cjk_fillers = sorted((w for w in self.fillers if CJK_CHAR.search(w)), key=len,
                                   reverse=True)
        self._cjk_connectors = sorted((w for w in self.connectors if CJK_CHAR.search(w)), key=len,
                                      reverse=True)

    # -- bookkeeping ---------------------------------------------------------------------
    def mark(self, start: int, end: int, control: str, words: str | None = None) -> None:
        """Record that norm[start:end] set `control`."""
        self.use(start, end)
        text = words if words is not None else self.norm[start:end].strip()
        prov = self.intent.provenance.setdefault(control, [])
        if text and text not in prov:
            prov.append(text)
        if self.where and end > start:
            s = self.where[min(start, len(self.where) - 1)]
            e = self.where[min(end, len(self.where)) - 1] + 1
            self.intent.spans.append((s, e, control))

    def use(self, start: int, end: int) -> None:
        """Record that norm[start:end] was read (it is not reported as not understood)."""
        self.covered[start:end] = b"\x01" * max(0, end - start)

    def is_covered(self, start: int, end: int) -> bool:
        return end > start and self.covered.find(0, start, end) < 0

    def values(self, hit: Hit, section: str) -> list:
        """A hit's values in one section; when languages disagree on a word, the meaning of
        the language the prompt is mostly written in."""
        ms = [m for m in hit.meanings if m.section == section]
        if len({m.value for m in ms}) <= 1:
            return [m.value for m in ms[:1]]
        best = max(ms, key=lambda m: self.lang_votes.get(m.lang, 0.0))
        return [best.value]

    def mark_hit(self, hit: Hit, control: str) -> None:
        self.mark(hit.start, hit.end, control, hit.text)

    def in_wish(self, start: int, end: int) -> bool:
        return any(a <= start and end <= b for a, b in self.wish_spans)

    def gap_ok(self, a: int, b: int, *, connectors: bool) -> str | None:
        """If norm[a:b] holds only fillers (and connectors, if allowed): the strongest
        connector in it ("" if none, "comma", "and", "or"), else None."""
        gap = self.norm[a:b]
        kind = ""
        if not gap.strip():
            return kind
        for tok in tokens(gap):
            t = tok.text
            if tok.kind == "cjk":
                rest = self._strip_cjk_fillers(t, connectors)
                if rest is None:
                    return None
                kind = rest or kind
                continue
            if connectors and t in self.connectors:
                c = self.connectors[t]
                if c == "then":
                    return None
                if c == "with" or kind == "with":   # "senza batteria, con piano": ends a ban's list
                    kind = "with"
                    continue
                kind = "or" if c == "or" else ("comma" if c == "comma" and kind != "or" else
                                               (kind or c))
                continue
            if t in self.fillers or t in ("'", "\"", "(", ")", "«", "»", "「", "」", ":"):
                continue
            if connectors and t in ("，", "、"):
                kind = kind or "comma"
                continue
            return None
        return kind

    def _strip_cjk_fillers(self, text: str, connectors: bool) -> str | None:
        """A CJK gap made only of particles and connectors: the connector kind ("" if none)."""
        i, kind = 0, ""
        words = self._cjk_fillers
        conn = self._cjk_connectors if connectors else []
        while i < len(text):
            for w in conn:
                if text.startswith(w, i):
                    c = self.connectors[w]
                    kind = "or" if c == "or" else (kind or c)
                    i += len(w)
                    break
            else:
                for w in words:
                    if len(w) <= 2 and text.startswith(w, i):
                        i += len(w)
                        break
                else:
                    return None
        return kind

    # -- tempo -----------------------------------------------------------------------------
    def tempo(self) -> None:
        intent, text = self.intent, self.norm
        units = [w for w, v in self.vocab.section("bpm").items() if v == "unit"] + ["bpm"]
        words = [w for w, v in self.vocab.section("bpm").items() if v == "word"]
        around = self.vocab.section("around")
        before = [w for w, v in around.items() if v == "before"]
        after = [w for w, v in around.items() if v == "after"]
        unit_re = _alt(units)
        not_time = rf"(?!\s*(?:[:%\d]|[.,]\d|{_UNIT_S}(?![a-zа-я])|{_UNIT_M}(?![a-zа-я])))"
        candidates: list[tuple[int, int, float, bool]] = []    # (start, end, bpm, explicit unit)
        for m in re.finditer(rf"(?<!\d[.,:])(?<!\d)(\d{{2,3}}(?:[.,]\d+)?)\s*(?:{unit_re})(?![a-zа-я])", text):
            candidates.append((m.start(), m.end(), float(m.group(1).replace(",", ".")), True))
        for m in re.finditer(rf"(?<![\w])(?:{_alt(words)})\s*(?:[:=]|of|de|di|von|à|a|é|は|が|是|为)?\s*"
                             rf"(?:{_alt(before)})?\s*(?<!\d[.,:])(?<!\d)(\d{{2,3}})(?![\d.,:]\d){not_time}", text):
            candidates.append((m.start(), m.end(), float(m.group(1)), False))
        if before:
            for m in re.finditer(rf"(?<![\w])(?:{_alt(before)})\s*(?<!\d[.,:])(?<!\d)(\d{{2,3}})(?![\d.,:]\d)"
                                 rf"{not_time}", text):
                candidates.append((m.start(), m.end(), float(m.group(1)), False))
        if after:
            for m in re.finditer(rf"(?<!\d[.,:])(?<!\d)(\d{{2,3}})\s*(?:{_alt(after)})", text):
                if not re.match(rf"\s*(?:{_UNIT_S}|{_UNIT_M})", text[m.end(1):m.end(1) + 8]):
                    candidates.append((m.start(), m.end(), float(m.group(1)), False))
        candidates.sort()
        for start, end, bpm, explicit in candidates:
            low, high = (30, 300) if explicit else (40, 220)
            if low <= bpm <= high:
                intent.tempo_bpm = bpm
                self.mark(start, end, "tempo_bpm")
                return
            self.use(start, end)
            intent.notes.append(f"'{text[start:end].strip()}': a tempo must be between {low} and "
                                f"{high} bpm; not used")
        # tempo words ("slow", "langsam", "ゆっくり")
        ranges = meanings()["tempo"]
        for k, hit in enumerate(self.hits):
            for word in hit.values("tempo"):
                # "slow build", "slowly builds" are about the arc, not the tempo
                nxt = self.hits[k + 1] if k + 1 < len(self.hits) else None
                if nxt is not None and nxt.has("structure") and "build" in nxt.values("structure") \
                        and self.gap_ok(hit.end, nxt.start, connectors=False) is not None:
                    continue
                if word in ranges:
                    intent.tempo_range_bpm = (float(ranges[word][0]), float(ranges[word][1]))
                    self.mark_hit(hit, "tempo_range_bpm")
                    return

    # -- key and mode ------------------------------------------------------------------------
    def key(self) -> None:
        intent = self.intent
        found: list[tuple[int, int, int | None, str]] = []   # (start, end, tonic, mode)
        accidentals = self.vocab.section("accidental")
        for hit in self.hits:
            modes = hit.values("mode")
            if not modes or hit.text in ("min", "maj") and not self._note_before(hit, accidentals):
                if modes and hit.text in ("min", "maj"):
                    continue
                if not modes:
                    continue
            mode = modes[0]
            lang = next(m.lang for m in hit.meanings if m.section == "mode")
            note = self._note_before(hit, accidentals, lang)
            if note is not None:
                start, pc = note
                found.append((start, hit.end, pc, mode))
            else:
                found.append((hit.start, hit.end, None, mode))
        # Japanese, Chinese, Korean: accidental and note name glued to the mode word
        cjk_notes = {**self.vocab.section("note", "ja"), **self.vocab.section("note", "ko")}
        cjk_acc = {w: v for w, v in accidentals.items() if CJK_CHAR.search(w)}
        cjk_modes = {}
        for lang in ("ja", "zh", "ko"):
            cjk_modes.update(self.vocab.section("mode", lang))
        letters = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
        for m in re.finditer(rf"(?P<acc>{_alt(cjk_acc)})?\s*(?:(?P<note>{_alt(cjk_notes)})|(?<![a-z])"
                             rf"(?P<letter>[a-g]))\s*(?P<acc2>#|♯|b|♭)?\s*(?P<mode>{_alt(cjk_modes)})",
                             self.norm):
            pc = cjk_notes[m.group("note")] if m.group("note") else letters[m.group("letter")]
            acc = cjk_acc.get(m.group("acc") or "") or {"#": "sharp", "♯": "sharp", "b": "flat",
                                                         "♭": "flat"}.get(m.group("acc2") or "")
            pc += 1 if acc == "sharp" else -1 if acc == "flat" else 0
            found.append((m.start(), m.end(), pc % 12, cjk_modes[m.group("mode")]))
        if not found:
            return
        with_tonic = sorted(f for f in found if f[2] is not None)
        start, end, pc, mode = with_tonic[0] if with_tonic else sorted(found)[0]
        intent.key_mode = mode
        if pc is not None:
            intent.key_tonic = pc % 12
            self.mark(start, end, "key_tonic")
        self.mark(start, end, "key_mode")
        for s, e, _, _ in found:
            self.use(s, e)
        others = {f[3] for f in found} - {mode}
        if others:
            intent.notes.append(f"both major and minor are named; using {mode} "
                                f"('{self.norm[start:end].strip()}')")

    def _note_before(self, hit: Hit, accidentals: dict, lang: str | None = None
                     ) -> tuple[int, int] | None:
        """The note name (and accidental) right before a mode word: (start, pitch class)."""
        j = hit.tokens[0] - 1
        toks = self.toks
        while j >= 0 and toks[j].text == "-":
            j -= 1
        if j < 0 or toks[j].kind == "cjk":
            return None
        acc = None
        if toks[j].text in accidentals and not CJK_CHAR.search(toks[j].text):
            # "b" is a flat only after a note ("e b major" is rare; "bb" is glued)
            if not (toks[j].text == "b" and (j == 0 or toks[j - 1].text in (" ", "in", "en"))):
                acc = accidentals[toks[j].text]
                j -= 1
                while j >= 0 and toks[j].text in ("-", " "):
                    j -= 1
        if j < 0:
            return None
        word = toks[j].text
        notes_lang = self.vocab.section("note", lang) if lang else {}
        notes_all = self.vocab.section("note", "en") | self.vocab.section("note", "fr") | \
            self.vocab.section("note", "it") | self.vocab.section("note", "pt") | \
            self.vocab.section("note", "ru")
        pc = notes_lang.get(word, notes_all.get(word))
        if pc is None and len(word) == 2 and word[1] in "b#" and word[0] in "abcdefg" and acc is None:
            pc, acc = notes_all[word[0]], ("flat" if word[1] == "b" else "sharp")
        if pc is None:
            return None
        # "a minor key ballad": the article, not the note A
        if word == "a" and hit.text.endswith("key"):
            return None
        if j > 0 and toks[j - 1].kind == "word" and toks[j].start == toks[j - 1].end:
            return None
        pc += 1 if acc == "sharp" else -1 if acc == "flat" else 0
        return toks[j].start, pc % 12

    # -- instruments -------------------------------------------------------------------------
    @staticmethod
    def _item(hit: Hit) -> bool:
        return hit.has("instrument") or hit.has("substitute") or hit.has("role")

    def _list_after(self, k: int, whole: bool = False) -> list[int]:
        """Indices of the instrument hits listed from hit k on ("drums, bass or piano")."""
        items: list[int] = []
        kinds: list[str] = []
        prev_end = self.hits[k].end
        for i in range(k + 1, len(self.hits)):
            hit = self.hits[i]
            if not self._item(hit):
                break
            kind = self.gap_ok(prev_end, hit.start, connectors=bool(items))
            if kind is None or kind == "with":   # "without drums, with piano": piano is wanted
                break
            if items:
                kinds.append(kind or "and")
            items.append(i)
            prev_end = hit.end
        after = items[-1] + 1 if items else len(self.hits)
        if after < len(self.hits) and self.hits[after].has("negation") and \
                self.gap_ok(self.hits[items[-1]].end, self.hits[after].start, connectors=True) \
                is not None:
            kinds.append("or")      # "sin batería, bajo ni piano": "ni" ends an or-list
        if "comma" in kinds and kinds[-1] != "or" and not whole:
            # "no drums, bass or piano" bans all three; "ohne Schlagzeug, Klavier und Streicher"
            # only the first: a comma list is one list only when it ends with "or"
            items = items[:kinds.index("comma") + 1]
        return items

    def _item_before(self, k: int) -> list[int]:
        if k == 0:
            return []
        hit = self.hits[k - 1]
        if self._item(hit) and self.gap_ok(hit.end, self.hits[k].start, connectors=False) is not None:
            return [k - 1]
        return []

    def instruments(self) -> None:
        intent = self.intent
        banned: list[tuple[int, Hit]] = []
        only: set[int] = set()
        for k, hit in enumerate(self.hits):
            where = set(hit.values("negation") or hit.values("only"))
            if not where or k in self.consumed:
                continue
            items = []
            if where & {"before", "both", "list"}:
                items = self._list_after(k, whole="list" in where)
            if not items and where & {"after", "both"}:
                items = self._item_before(k)
            if not items:
                continue
            self.consumed.add(k)
            if hit.has("negation"):
                self._ban(hit, [self.hits[i] for i in items])
                self.consumed.update(items)
            else:
                only.update(items)
                intent.exclusive_instruments = True
                self.mark_hit(hit, "exclusive_instruments")
        for k, hit in enumerate(self.hits):
            if k in self.consumed:
                continue
            for word_sub in self.values(hit, "substitute"):
                self._want(hit, str(word_sub), substitute=True)
            for name in self.values(hit, "instrument"):
                self._want(hit, str(name))

    def _want(self, hit: Hit, name: str, substitute: bool = False) -> None:
        intent = self.intent
        if name in DRUM_KITS:
            if intent.drum_kit is None:
                intent.drum_kit = name
                self.mark_hit(hit, "drum_kit")
            name = "drums"
        if name not in INSTRUMENTS:
            return
        if substitute:
            pair = (hit.text, name)
            if pair not in intent.substitutions:
                intent.substitutions.append(pair)
        if name in intent.excluded_instruments or ROLE_INSTRUMENTS.get(name) in intent.exclude_roles:
            intent.notes.append(f"'{hit.text}': asked for and ruled out; left out")
            return
        if name not in intent.instruments:
            intent.instruments.append(name)
        self.mark_hit(hit, f"instruments:{name}")
        self.mark_hit(hit, "instruments")

    def _ban(self, neg: Hit, items: list[Hit]) -> None:
        intent = self.intent
        roles: list[Role] = []
        names: list[str] = []
        for item in items:
            for r in item.values("role"):
                roles.append(ROLE_NAMES[str(r)])
            for n in item.values("instrument") + item.values("substitute"):
                n = "drums" if n in DRUM_KITS else str(n)
                if n in ROLE_INSTRUMENTS:
                    roles.append(ROLE_INSTRUMENTS[n])
                elif n in INSTRUMENTS:
                    names.append(n)
        end = max(neg.end, items[-1].end)
        start = min(neg.start, items[0].start)
        until_words = [w for w, v in self.vocab.section("anchor").items() if v == "until"]
        until = _until_wish(self.norm, end, until_words)
        if until is not None and until[1]:
            # "bis die Sonne aufgeht", "hasta que sale el sol": the moment without its article
            moment = self._moment(until[2], until[3])
            until = (None, self.norm[moment[0]:moment[1]], until[2], until[3]) if moment else None
        if until is not None:
            end = until[3]              # the "until" phrase was read with the ban
        first = None
        if until is None:
            per = self.period_near(start, end)
            if per is not None:
                per[4] = True
                first = (per[2], per[3])
                start, end = min(start, per[0]), max(end, per[1])
        part = _part_wish(self.norm, end) if until is None and first is None else None
        text = self.norm[start:end]
        if until is not None or first is not None or part is not None:
            # a ban with an end ("no drums until the title card") is a timed wish, not a ban
            if part is not None:
                wish = TimedWish("mute", None, None, text=text, anchor_text=part, roles=tuple(roles))
            elif until is not None:
                wish = TimedWish("mute", 0.0, until[0], text=text, anchor_text=until[1],
                                 roles=tuple(roles))
            else:
                secs, from_end = first
                wish = (TimedWish("mute", secs, 0.0, text=text, relative_to_end=True,
                                  roles=tuple(roles)) if from_end else
                        TimedWish("mute", 0.0, secs, text=text, roles=tuple(roles)))
            if roles and len(intent.timed_wishes) < MAX_TIMED_WISHES:
                intent.timed_wishes.append(wish)
                self.mark(start, end, "timed_wishes")
            elif names:
                intent.notes.append(f"'{text.strip()}': only drums, bass or a part (melody, "
                                    f"chords) can be left out for a while; ignored")
            return
        for r in roles:
            intent.exclude_roles.add(r)
            self.mark(start, end, f"exclude_roles:{r.value}")
            self.mark(start, end, "exclude_roles")
        for n in names:
            if n not in intent.excluded_instruments:
                intent.excluded_instruments.append(n)
            if n in intent.instruments:
                intent.instruments.remove(n)
            self.mark(start, end, f"excluded_instruments:{n}")
            self.mark(start, end, "excluded_instruments")

    def roles(self) -> None:
        """The roles the instruments imply, once the style is known ("solo piano": no drums)."""
        intent = self.intent
        if intent.drum_kit:
            # the kit plays the drums: the arrangement gives the drum track its preset
            names = [intent.drum_kit if n == "drums" else n for n in intent.instruments]
            intent.instruments = list(dict.fromkeys(names))
            for w in intent.provenance.pop("instruments:drums", []):
                intent.provenance.setdefault(f"instruments:{intent.drum_kit}", []).append(w)
        for name in intent.instruments:
            if name in ROLE_INSTRUMENTS:
                intent.include_roles.add(ROLE_INSTRUMENTS[name])
        if intent.exclusive_instruments:
            allowed = {r for n in intent.instruments for r in INSTRUMENTS[n].roles}
            for role in (Role.DRUMS, Role.BASS):
                if role not in allowed:
                    intent.exclude_roles.add(role)
        for role in list(intent.include_roles & intent.exclude_roles):
            intent.notes.append(f"{role.value}: both asked for and ruled out; left out")
        intent.include_roles -= intent.exclude_roles

    # -- style, mood, dynamics ---------------------------------------------------------------
    def style_and_mood(self) -> None:
        intent = self.intent
        strong: list[tuple[int, int, str, Hit]] = []
        weak: list[tuple[int, str, Hit]] = []
        for k, hit in enumerate(self.hits):
            if k in self.consumed:
                continue
            for s in self.values(hit, "style"):
                if s in STYLE_IDS:
                    strong.append((0 if s in SPECIFIC_STYLES else 1, hit.start, str(s), hit))
            for s in self.values(hit, "weak_style"):
                if s in STYLE_IDS:
                    weak.append((hit.start, str(s), hit))
        if strong:
            strong.sort(key=lambda h: (h[0], h[1]))
            intent.style = strong[0][2]
            for _, _, s, hit in strong:
                if s == intent.style:
                    self.mark_hit(hit, "style")
            others = sorted({s for _, _, s, _ in strong} - {intent.style})
            if others:
                intent.notes.append(f"several styles named; using {intent.style}, not "
                                    f"{', '.join(others)}")
        elif weak:
            weak.sort(key=lambda h: h[0])
            intent.style = weak[0][1]
            self.mark_hit(weak[0][2], "style")
        elif intent.instruments:
            # "a warm acoustic guitar solo": the instrument says the style
            style = STYLE_FROM_INSTRUMENTS.get(frozenset(n for n in intent.instruments
                                                         if n != "drums"))
            if style in STYLE_IDS:
                intent.style = style
                for n in intent.instruments:
                    for w in intent.provenance.get(f"instruments:{n}", []):
                        intent.provenance.setdefault("style", []).append(w)
        if strong and intent.style == "solopiano" and "piano" not in intent.excluded_instruments:
            # "solo piano", "ピアノ曲": the piano alone (a lone "piano" only suggests the style)
            intent.exclusive_instruments = True
        if intent.style == "solopiano" and "piano" not in intent.instruments \
                and "piano" not in intent.excluded_instruments:
            intent.instruments.insert(0, "piano")
            intent.exclusive_instruments = True
            for w in intent.provenance.get("style", []):
                intent.provenance.setdefault("instruments:piano", []).append(w)
            intent.provenance.setdefault("instruments", []).extend(intent.provenance.get("style", []))
        if intent.style is not None and available_style(intent.style) != intent.style:
            named, intent.style = intent.style, available_style(intent.style)
            used = intent.style or "the model's choice"
            intent.notes.append(f"the style '{named}' is not in the music yet; using {used}")
        moods = meanings()["mood"]
        energies: list[float] = []
        votes: dict[str, list[Hit]] = {}
        mood_hits: list[Hit] = []
        for k, hit in enumerate(self.hits):
            if k in self.consumed or self.in_wish(hit.start, hit.end):
                continue
            for mood in hit.values("mood"):
                if mood not in moods:
                    continue
                if mood not in intent.moods:
                    intent.moods.append(str(mood))
                self.mark_hit(hit, "moods")
                mood_hits.append(hit)
                energies.append(float(moods[mood]["energy"]))
                if moods[mood]["mode"]:
                    votes.setdefault(moods[mood]["mode"], []).append(hit)
        self.mood_energies = energies
        if energies:
            intent.energy = round(sum(energies) / len(energies), 2)
            for hit in mood_hits:
                self.mark_hit(hit, "energy")
        self.mode_votes = votes
        if intent.key_mode is None and len(votes) == 1:
            intent.key_mode, hits = next(iter(votes.items()))
            for hit in hits:
                self.mark_hit(hit, "key_mode")
        elif intent.key_mode is None and len(votes) > 1:
            words = ", ".join(h.text for hs in votes.values() for h in hs)
            intent.notes.append(f"the tone words ({words}) point to both major and minor; "
                                f"the mode is left to the music")

    def dynamics(self) -> None:
        intent = self.intent
        values = meanings()["dynamics"]
        soft: list[Hit] = []
        loud: list[Hit] = []
        for k, hit in enumerate(self.hits):
            if k in self.consumed or self.in_wish(hit.start, hit.end):
                continue
            for d in hit.values("dynamics"):
                (soft if d == "soft" else loud).append(hit)
        if soft or loud:
            # loudness words are tone words too: they move the energy like moods do
            tone = [float(values["soft"])] * len(soft) + [float(values["loud"])] * len(loud)
            self.tone_energies = tone
            energies = self.mood_energies + tone
            intent.energy = round(sum(energies) / len(energies), 2)
            for hit in soft + loud:
                self.mark_hit(hit, "energy")
        if len(soft) != len(loud):
            winner = soft if len(soft) > len(loud) else loud
            intent.dynamics = float(values["soft" if winner is soft else "loud"])
            for hit in winner:
                self.mark_hit(hit, "dynamics")
        elif soft:
            intent.notes.append(f"soft and loud words in equal number "
                                f"({', '.join(h.text for h in soft + loud)}); the dynamics "
                                f"follow the picture")

    # -- structure ----------------------------------------------------------------------------
    def find_periods(self) -> None:
        """ "the first 10 seconds", "in den ersten 10 Sekunden", "les 10 premières secondes",
        "最初の10秒", "前10秒", "последние 5 секунд": (start, end, seconds, from the end)."""
        words = self.vocab.section("period")
        first = [w for w, v in words.items() if v == "first"]
        last = [w for w, v in words.items() if v == "last"]
        which = rf"(?P<which>{_alt(first + last)})"
        t2 = TIME_RE.replace("?P<", "?P<b_")
        pattern = re.compile(
            rf"(?<![\w]){which}\s*(?:(?:the|de|les|los|las|i|le|os|as|の)\s*)?(?:{TIME_RE})"
            rf"|(?<!\d[.,:])(?<!\d)(?P<n2>\d+(?:[.,]\d+)?)\s+(?P<which2>{_alt(first + last)})\s+"
            rf"(?P<u2>{_UNIT_S}|{_UNIT_M})(?![a-zа-я])"
            rf"|(?:(?<=[{CJK_CLASS}\s])|^){which.replace('which', 'which3')}\s*(?:{t2})")
        self.periods = []
        for m in pattern.finditer(self.norm):
            if len(self.periods) >= MAX_TIMED_WISHES:
                break
            if m.group("n2"):
                value = float(m.group("n2").replace(",", "."))
                secs = value * 60 if re.fullmatch(_UNIT_M, m.group("u2")) else value
                w = m.group("which2")
            elif m.group("which3"):
                g = {k[2:]: v for k, v in m.groupdict().items() if k.startswith("b_")}
                secs, w = _time_s(_Fake(g)), m.group("which3")
            else:
                secs, w = _time_s(m), m.group("which")
            self.periods.append([m.start(), m.end(), secs, w in last, False])

    def period_near(self, start: int, end: int, window: int = 24) -> list | None:
        """An unused period right before `start` or right after `end`, in the same clause."""
        for per in self.periods:
            a, b = per[0], per[1]
            if per[4]:
                continue
            gap = self.norm[b:start] if b <= start else self.norm[end:a] if a >= end else None
            if gap is not None and len(gap) <= window and not re.search(r"[.;!?。！？\n]", gap) \
                    and gap.count(",") + gap.count("、") + gap.count("，") == 0:
                return per
        return None

    def structure(self) -> None:
        """Timed wishes: the English phrasings first (rules below), then, in any language, a
        structure word followed by a time ("drop bei 0:45", "クライマックスは1:10") and a tone
        word next to a period ("leise in den ersten 10 Sekunden", "最初の10秒は静かに")."""
        intent = self.intent
        self.find_periods()
        self.wish_spans = _parse_timed_wishes(self.norm, intent)
        for a, b in self.wish_spans:
            self.mark(a, b, "timed_wishes")
        for per in self.periods:
            if self.in_wish(per[0], per[1]):
                per[4] = True
        for k, hit in enumerate(self.hits):
            tone = [v for v in hit.values("dynamics")] + \
                ["silence" for v in hit.values("structure") if v == "silence"] + \
                ["soft" for v in hit.values("mood") if v == "calm"]
            if not tone or self.in_wish(hit.start, hit.end):
                continue
            nxt = self.hits[k + 1] if k + 1 < len(self.hits) else None
            if nxt is not None and nxt.has("negation") and nxt.start - hit.end < 6:
                continue           # "silence" in "no silence": not a wish
            per = self.period_near(hit.start, hit.end)
            if per is None or len(intent.timed_wishes) >= MAX_TIMED_WISHES:
                continue
            kind = {"soft": "quiet", "loud": "loud", "silence": "silence"}[tone[0]]
            a, b, secs, from_end, _ = per
            per[4] = True
            wish = (TimedWish(kind, secs, 0.0, self.norm[a:b], relative_to_end=True) if from_end
                    else TimedWish(kind, 0.0, secs, self.norm[a:b]))
            intent.timed_wishes.append(wish)
            span = (min(a, hit.start), max(b, hit.end))
            self.wish_spans.append(span)
            self.mark(span[0], span[1], "timed_wishes")
        self.cuts()
        time_re = re.compile(rf"\s*(?:[^\d\s]{{1,12}}\s*){{0,3}}?(?:{TIME_RE})")
        for k, hit in enumerate(self.hits):
            kinds = hit.values("structure")
            if not kinds or k in self.consumed or self.in_wish(hit.start, hit.end):
                continue
            word = str(kinds[0])
            kind = STRUCTURE_KINDS.get(word)
            m = time_re.match(self.norm, hit.end)
            if not m:
                # "0:45でドロップ", "1:30达到高潮": a time, a particle or two, the word
                before = re.search(rf"(?:{TIME_RE})\s*[{CJK_CLASS}]{{0,2}}\s*$",
                                   self.norm[max(0, hit.start - 20):hit.start])
                if before:
                    m = before
            if m and m.start() < hit.start:
                t = _time_s(m)
                if kind and len(intent.timed_wishes) < MAX_TIMED_WISHES:
                    a = hit.start - (len(self.norm[max(0, hit.start - 20):hit.start]) - m.start())
                    wish_kind = "quiet" if word == "fade out" else kind
                    intent.timed_wishes.append(
                        TimedWish(wish_kind, None if kind == "build" else t,
                                  t if kind == "build" else None, self.norm[a:hit.end]))
                    self.wish_spans.append((a, hit.end))
                    self.mark(a, hit.end, "timed_wishes")
                    continue
                m = None
            if m and any(h.start < m.end() and h.has("structure") for h in self.hits[k + 1:k + 4]):
                m = None        # "builds and drops at 0:20": the time is the drop's
            if m and kind and "-" not in self.norm[hit.end:m.start("num") if m.group("num") else
                                                   m.end()]:
                t = _time_s(m)
                if len(intent.timed_wishes) >= MAX_TIMED_WISHES:
                    break
                if kind == "build":
                    wish = TimedWish("build", None, t, self.norm[hit.start:m.end()])
                elif word == "fade out":
                    wish = TimedWish("quiet", t, None, self.norm[hit.start:m.end()])
                else:
                    wish = TimedWish(kind, t, None, self.norm[hit.start:m.end()])
                intent.timed_wishes.append(wish)
                self.wish_spans.append((hit.start, m.end()))
                self.mark(hit.start, m.end(), "timed_wishes")
                continue
            if word in ("build", "climax"):
                if not any(w.kind == "build" for w in intent.timed_wishes):
                    # "builds", "нарастает к кульминации": one arc over the piece, to its end
                    anchor = "ending" if word == "climax" or self._ending_near(k) else ""
                    intent.timed_wishes.append(TimedWish("build", None, None, hit.text,
                                                         anchor_text=anchor))
                self.mark_hit(hit, "timed_wishes")
            elif word == "fade out":
                intent.timed_wishes.append(TimedWish("quiet", None, None, hit.text,
                                                     anchor_text="ending"))
                self.mark_hit(hit, "timed_wishes")
            elif word in ("drop", "breakdown", "silence"):
                intent.notes.append(f"'{hit.text}': no time given, so it is not placed (say when, "
                                    f"e.g. '{hit.text} at 0:45')")
                self.use(hit.start, hit.end)
            else:
                self.use(hit.start, hit.end)     # intro / ending: context words

    def cuts(self) -> None:
        """"drums after the first cut", "Schlagzeug erst nach dem ersten Schnitt", "最初のカットの後
        でドロップ": a wish tied to a cut of the picture, by its number (anchor "cut N", N = -1
        for the last; the engine finds the cut's time in the video)."""
        intent, v = self.intent, self.vocab

        def alt(words) -> str:
            return "|".join(re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "")
                            for w in sorted(set(words), key=len, reverse=True)) or "(?!)"
        cut_words = alt(v.section("cut"))
        ordinals = v.section("ordinal")
        relations = v.section("relation")
        latin_rel = [w for w in relations if not CJK_CHAR.search(w)]
        cjk_rel = [w for w in relations if CJK_CHAR.search(w)]
        article = r"(?:\s+(?:the|dem|den|der|la|le|l'|el|il|lo|o|a|do|da))?"
        pattern = re.compile(
            rf"(?<!\w)(?P<rel>{alt(latin_rel)}){article}\s+(?P<ord>{alt(ordinals)})\s*"
            rf"(?P<cut>{cut_words})(?!\w)"
            rf"|(?P<ord2>{alt(o for o in ordinals if CJK_CHAR.search(o))})\s*(?P<cut2>{cut_words})"
            rf"\s*(?P<rel2>{alt(cjk_rel)})")
        for m in pattern.finditer(self.norm):
            if len(intent.timed_wishes) >= MAX_TIMED_WISHES:
                break
            if self.in_wish(m.start(), m.end()):
                continue            # said in English and read by the rules above
            rel = relations.get(m.group("rel") or m.group("rel2") or "", "at")
            word = (m.group("ord") or m.group("ord2") or "").strip()
            n = next((int(val) for key, val in ordinals.items()
                      if key == word or (key.endswith("*") and word.startswith(key[:-1]))), 1)
            subject = self._cut_subject(m.start(), m.end())
            self.use(m.start(), m.end())
            if subject is None:
                intent.notes.append(f"'{m.group(0).strip()}': nothing to tie to this cut; ignored")
                continue
            anchor = f"cut {n}"
            roles = tuple(ROLE_NAMES[str(r)] for r in self.values(subject, "role")) + tuple(
                ROLE_INSTRUMENTS[str(i)] for i in self.values(subject, "instrument")
                if i in ROLE_INSTRUMENTS)
            tone = (self.values(subject, "structure") + self.values(subject, "dynamics"))
            text = self.norm[min(subject.start, m.start()):max(subject.end, m.end())]
            if roles:
                # "drums after the first cut": no drums until then; "until": none from then on
                wish = TimedWish("mute", 0.0 if rel == "after" else None, None, text,
                                 anchor_text=anchor, roles=roles)
            elif tone:
                kind = STRUCTURE_KINDS.get(str(tone[0]), {"soft": "quiet", "loud": "loud"}.get(
                    str(tone[0])))
                if kind is None:
                    continue
                wish = TimedWish(kind, 0.0 if rel == "until" and kind != "build" else None, None,
                                 text, anchor_text=anchor)
            else:
                intent.notes.append(f"'{text.strip()}': only drums, bass, a part (melody, chords) "
                                    f"or a change (drop, quiet, loud) can be tied to a cut; ignored")
                continue
            intent.timed_wishes.append(wish)
            self.wish_spans.append((min(subject.start, m.start()), max(subject.end, m.end())))
            self.mark(min(subject.start, m.start()), max(subject.end, m.end()), "timed_wishes")


    # Words that say "when" only on their own: "时" is not "when" in "时间" (time) or "同时"
    # (at once), "때" not in "때문에" (because), "quand" not in "quand même" (anyway).
    _NOT_ANCHOR_NEXT = {"时": "间代长刻尚髦钟候", "時": "間代計刻々", "때": "문", "quand": " même"}
    _NOT_ANCHOR_PREV = {"时": "同按准及随小临暂过当", "時": "同当臨一何"}
    _CLAUSE_END = re.compile(r"[.,;:!?\u3001\u3002\uff0c\uff01\uff1f\uff1b\uff1a]")

    def anchors(self) -> None:
        """"tranquillo quando sorge il sole", "leise, wenn die Sonne aufgeht", "日が昇るときは
        静かに", "太阳升起时安静": a change tied to a moment of the picture that is named in
        words. The words that introduce the moment are the tables' `anchor` section, written
        before the moment ("quando", "wenn", "直到") or after it ("とき", "时", "때"); the
        moment's words become the wish's anchor, and the engine finds the section they
        describe (`generate.conditions.find_anchor_section`, through the multilingual text
        encoder). What changes is the nearest tone word, part or instrument of the clause.
        English is read by the rules in `_timed_wishes` first; what they read is skipped."""
        table = self.vocab.section("anchor")
        if not table:
            return
        found: list[tuple[int, int, int, int, str]] = []     # word span, moment span, relation
        for placed_after in (False, True):
            words = [w for w, v in table.items()
                     if str(v) in (("when after", "until after") if placed_after else ("when", "until"))]
            latin = [w for w in words if not CJK_CHAR.search(w)]
            cjk = [w for w in words if CJK_CHAR.search(w)]
            parts = ([rf"(?<![\w'])(?:{_alt(latin)})(?![\w])"] if latin else []) + \
                ([f"(?:{_alt(cjk)})"] if cjk else [])
            if not parts:
                continue
            for m in re.finditer("|".join(parts), self.norm):
                a, b, word = m.start(), m.end(), m.group(0)
                if self.in_wish(a, b) or self.is_covered(a, b) or self._not_anchor(word, a, b):
                    continue
                span = self._moment_before(a) if placed_after else self._moment_after(b)
                if span is not None:
                    found.append((a, b, span[0], span[1], str(table[word]).split()[0]))
        for a, b, ms, me, rel in sorted(found):
            if len(self.intent.timed_wishes) >= MAX_TIMED_WISHES:
                break
            if self.in_wish(a, b):
                continue
            moment = self.norm[ms:me].strip()
            lo, hi = min(a, ms), max(b, me)
            subject = self._moment_subject(lo, hi)
            if subject is None:
                continue          # a "when" about nothing the music does: left as words
            if self.hits.index(subject) in self.consumed:
                continue          # "no drums until the title card": the ban read its "until"
            roles = tuple(ROLE_NAMES[str(r)] for r in self.values(subject, "role")) + tuple(
                ROLE_INSTRUMENTS[str(i)] for i in self.values(subject, "instrument")
                if i in ROLE_INSTRUMENTS)
            kind = self._tone_kind(subject)
            lo, hi = min(lo, subject.start), max(hi, subject.end)
            text = self.norm[lo:hi]
            if roles and kind is None:
                # "Schlagzeug, wenn der Held springt": no drums until then; "until": none after
                wish = TimedWish("mute", 0.0 if rel == "when" else None, None, text,
                                 anchor_text=moment, roles=roles)
            elif kind is not None:
                wish = TimedWish(kind, 0.0 if rel == "until" and kind != "build" else None, None, text,
                                 anchor_text=moment)
            else:
                continue
            self.intent.timed_wishes.append(wish)
            self.wish_spans.append((lo, hi))
            self.mark(lo, hi, "timed_wishes")

    def _moment_subject(self, lo: int, hi: int) -> Hit | None:
        """What changes at a moment: the nearest tone word (else part or instrument) of its
        clause, before or after it; else the nearest one of the clause before ("leise, wenn
        die Sonne aufgeht": German puts a comma before "wenn")."""
        def usable(h: Hit) -> bool:
            return bool(h.has("role") or h.has("instrument") or self._tone_kind(h) is not None)

        def nearest(cands: list[Hit]) -> Hit | None:
            tones = [h for h in cands if self._tone_kind(h) is not None]
            pool = tones or cands
            return min(pool, key=lambda h: lo - h.end if h.end <= lo else h.start - hi) if pool else None
        ends = [m.end() for m in self._CLAUSE_END.finditer(self.norm, 0, lo)]
        start = ends[-1] if ends else 0
        stop = self._CLAUSE_END.search(self.norm, hi)
        end = stop.start() if stop else len(self.norm)
        subject = nearest([h for h in self.hits if usable(h) and not self.in_wish(h.start, h.end)
                           and ((start <= h.start and h.end <= lo) or (hi <= h.start and h.end <= end))])
        if subject is None and len(ends) >= 1:
            before = ends[-2] if len(ends) >= 2 else 0
            subject = nearest([h for h in self.hits if usable(h) and before <= h.start and h.end <= start
                               and not self.in_wish(h.start, h.end)])
        return subject

    def _not_anchor(self, word: str, a: int, b: int) -> bool:
        nxt = self._NOT_ANCHOR_NEXT.get(word, "")
        if nxt.startswith(" "):             # a whole word after it ("quand même": anyway)
            return self.norm.startswith(nxt, b)
        after = self.norm[b:b + 1]
        prev = self.norm[a - 1:a] if a > 0 else ""
        return bool((after and after in nxt) or (prev and prev in self._NOT_ANCHOR_PREV.get(word, "")))

    def _moment_after(self, b: int) -> tuple[int, int] | None:
        """The words of a moment after its "when" word: up to the clause's end, a connector
        or a word that sets a control; at most 60 characters."""
        end = min(len(self.norm), b + 60)
        stop = self._CLAUSE_END.search(self.norm, b, end)
        end = stop.start() if stop else end
        words = 0
        for tok in tokens(self.norm[b:end]):
            if words and tok.kind != "cjk" and self.connectors.get(tok.text) in ("and", "or", "then", "with"):
                end = b + tok.start       # "quando sorge il sole e ...": the moment ends there
                break
            words += tok.kind != "sign" and tok.text not in self.fillers
        for hit in self.hits:
            if b <= hit.start < end and (self._tone_kind(hit) or hit.has("instrument") or hit.has("role")
                                         or hit.has("negation")):
                end = hit.start
                break
        return self._moment(b, end)

    def _moment_before(self, a: int) -> tuple[int, int] | None:
        """The words of a moment before its "when" word (Japanese, Chinese, Korean): back to
        the clause's start, a connector or the last word that sets a control; at most 30."""
        start = max(0, a - 30)
        for stop in self._CLAUSE_END.finditer(self.norm, start, a):
            start = stop.end()
        for hit in self.hits:
            if start <= hit.end <= a and hit.start >= start and (
                    self._tone_kind(hit) or hit.has("instrument") or hit.has("role") or hit.has("negation")):
                start = hit.end
        return self._moment(start, a)

    def _moment(self, a: int, b: int) -> tuple[int, int] | None:
        """The span of a moment's words without articles and particles around them, or None
        when no word is left, when it is a time ("bis 0:20") or when another rule read it."""
        toks = [t for t in tokens(self.norm[a:b]) if t.kind != "sign"]

        def article(tok: Token) -> bool:    # "der", "il", "o": not "titel", also a filler
            return tok.kind != "cjk" and len(tok.text) <= 4 and tok.text in self.fillers
        while toks and article(toks[0]):
            toks.pop(0)
        while toks and article(toks[-1]):
            toks.pop()
        if not toks:
            return None
        s, e = a + toks[0].start, a + toks[-1].end
        openers = [w for w, v in self.vocab.section("anchor").items() if v == "open"]
        for w in sorted(openers, key=len, reverse=True):    # "当城市出现的时候": "当" opens it
            if self.norm.startswith(w, s) and e - s > len(w):
                s += len(w)
                break
        moment = self.norm[s:e]
        if len(moment.strip()) < 2 or re.match(rf"\s*(?:{TIME_RE})", moment) or re.match(r"\d", moment) \
                or self.is_covered(s, e):
            return None
        return s, e

    def _tone_kind(self, hit: Hit) -> str | None:
        """The change a tone word asks: a structure word's kind, soft -> quiet, loud -> loud,
        and a mood by its energy (calm, gentle, sad -> quiet; epic, intense -> loud)."""
        for word in self.values(hit, "structure"):
            if str(word) in STRUCTURE_KINDS:
                return STRUCTURE_KINDS[str(word)]
        for level in self.values(hit, "dynamics"):
            return {"soft": "quiet", "loud": "loud"}.get(str(level))
        for mood in self.values(hit, "mood"):
            energy = float(meanings()["mood"].get(str(mood), {}).get("energy", 0.5))
            return "quiet" if energy <= 0.3 else "loud" if energy >= 0.85 else None
        return None

    def _cut_subject(self, start: int, end: int) -> Hit | None:
        """The instrument, part or change a cut phrase is about: the nearest one before it in
        the same clause, else the first one after it."""
        def usable(h: Hit) -> bool:
            return bool(h.has("role") or h.has("instrument") or
                        set(h.values("structure")) & set(STRUCTURE_KINDS) or h.has("dynamics"))
        before = [h for h in self.hits if h.end <= start and start - h.end <= 40 and usable(h)
                  and not re.search(r"[.;!?。]", self.norm[h.end:start])]
        if before:
            return before[-1]
        after = [h for h in self.hits if h.start >= end and h.start - end <= 40 and usable(h)
                 and not re.search(r"[.;!?。]", self.norm[end:h.start])]
        return after[0] if after else None

    def _ending_near(self, k: int) -> bool:
        for hit in self.hits[k + 1:k + 4]:
            if "ending" in hit.values("structure") or "climax" in hit.values("structure"):
                return True
        return False

    # -- leftovers ----------------------------------------------------------------------------
    def leftovers(self) -> None:
        """The words that set nothing: reported, never dropped silently."""
        intent = self.intent
        for h in self.hits:
            # every vocabulary word was read; those overruled by another say so in the notes
            self.use(h.start, h.end)
        for a, b in self.wish_spans:
            self.use(a, b)
        is_covered = self.is_covered
        unknown: list[str] = []

        for tok in self.toks:
            if len(unknown) >= 40:
                break
            if tok.kind == "sign" or tok.text.strip("'").isdigit():
                continue
            if tok.kind == "word":
                t = tok.text.rstrip("'")
                if t in self.fillers or tok.text in self.fillers or t in self.connectors \
                        or len(t) < 2 or is_covered(tok.start, tok.end):
                    continue
                if t[:40] not in unknown:
                    unknown.append(t[:40])
                continue
            # CJK: the characters no hit covers, minus particles
            run = "".join(" " if self.covered[i] else self.norm[i]
                          for i in range(tok.start, min(tok.end, tok.start + 2000)))
            for piece in run.split():
                rest = self._cjk_residue(piece[:200])
                if rest and rest[:40] not in unknown:
                    unknown.append(rest[:40])
        intent.unknown_words = unknown
        intent.notes = list(dict.fromkeys(intent.notes))[:20]

    def nearest_tone_words(self) -> None:
        """Words in no table read by their nearest mood (intent.fallback): only clear cases,
        never against a table word (an explicit key or the tables' mood words keep the mode)."""
        from robin_studio.intent.fallback import nearest_moods

        intent = self.intent
        found = nearest_moods(intent.unknown_words)
        if not found:
            return
        moods = meanings()["mood"]
        for word, mood, score, margin in found:
            intent.unknown_words.remove(word)
            if mood not in intent.moods:
                intent.moods.append(mood)
            at = self.norm.find(word)
            if at >= 0:
                self.mark(at, at + len(word), "moods")
                self.mark(at, at + len(word), "energy")
            self.mood_energies.append(float(moods[mood]["energy"]))
            intent.notes.append(f"'{word}' is in no word list; read as {mood} (its nearest "
                                f"meaning)")
            mode = moods[mood]["mode"]
            if mode and intent.key_mode is None and set(self.mode_votes) <= {mode}:
                self.mode_votes.setdefault(mode, [])
                intent.key_mode = mode
                if at >= 0:
                    self.mark(at, at + len(word), "key_mode")
        energies = self.mood_energies + self.tone_energies
        intent.energy = round(sum(energies) / len(energies), 2)

    def _cjk_residue(self, piece: str) -> str:
        words = self._cjk_fillers + self._cjk_connectors
        out, i = "", 0
        while i < len(piece):
            for w in words:
                if piece.startswith(w, i):
                    i += len(w)
                    out += " "
                    break
            else:
                out += piece[i]
                i += 1
        parts = [p for p in out.split() if len(p) >= 2 or not re.fullmatch(r"[\u3040-\u309f]", p)]
        return " ".join(p for p in parts if len(p) >= 2)


def _alt(words) -> str:
    """A regex alternation of literal words, longest first (the lists here are short)."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) or "(?!)"


def parse_prompt(text: str, *, embed: bool = True) -> Intent:
    """Parse a prompt into an `Intent` (with its sentence embedding unless `embed=False`).

    Never raises on odd input: an empty prompt gives an empty Intent (no embedding), any
    language gives at least the embedding. Besides the controls, the Intent says which words
    set each control (`provenance`, `spans`), which words set nothing (`unknown_words`) and
    what could not be honoured exactly (`substitutions`, `notes`); see `intent.report`.
    """
    prompt = text if isinstance(text, str) else str(text or "")
    intent = Intent(prompt=prompt)
    read = bounded_prompt(prompt)   # only the first 1000 characters: the encoder is slow on more
    if read.strip():
        p = _Parse(read, intent)
        if p.norm.strip():
            p.tempo()
            p.key()
            p.structure()
            p.instruments()
            p.anchors()           # after the bans: a ban reads its own "until" first
            p.style_and_mood()
            p.roles()
            p.dynamics()
            p.leftovers()
            if embed and intent.unknown_words:
                p.nearest_tone_words()
    if prompt_note(prompt):
        intent.notes.append(prompt_note(prompt))
    if embed and read.strip():
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
