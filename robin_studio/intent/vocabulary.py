"""The prompt vocabulary of every language, loaded from the readable tables in `vocab/`, and the
matcher that finds its words in a prompt.

The tables (`vocab/<language>.toml`, described in `vocab/README.md`) say what a word means; this
module only finds the words. Finding them is linear in the prompt's length, however long it is:

- Text in scripts with spaces is cut into tokens (runs of letters and digits, or one sign each;
  a hyphen is its own token, so "lo-fi" is three tokens and "Cello-Ostinato" finds "cello").
  At each token the longest phrase of the tables that starts there wins. A table word ending in
  "*" matches any ending of a token ("klavier*" matches "Klavierakkorde"), which covers
  German compounds and Russian declension without listing every form.
- Japanese, Chinese and Korean runs (spaces between them ignored) are matched character by
  character with a trie, because those scripts do not separate words. Korean particles after
  a noun ("피아노로") are then simply left over.

Every match keeps where it was (character offsets into the normalised prompt) and all its
meanings: the same word may be a tempo and a mood ("driving").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

VOCAB_DIR = Path(__file__).with_name("vocab")
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "ja", "zh", "ko", "ru")

# Sections found by the matcher; the others (note, accidental, bpm, around, connector, filler)
# are read in context by the parser (a note only counts before a mode word, and so on).
MATCHED_SECTIONS: tuple[str, ...] = ("instrument", "substitute", "role", "style", "weak_style",
                                     "mood", "tempo", "dynamics", "structure", "negation", "only",
                                     "mode")

_CJK = ("\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff")
CJK_CLASS = _CJK                    # for a regex character class
CJK_CHAR = re.compile(f"[{_CJK}]")
_TOKEN_RE = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W{_CJK}]+'?)|(?P<sign>[^\w\s])")


@dataclass(frozen=True)
class Meaning:
    section: str      # "instrument", "mood", ...
    value: object     # what the table says ("piano", "sad", "before", 2 ...)
    lang: str         # the table it came from


@dataclass
class Hit:
    start: int                      # character offsets in the normalised prompt
    end: int
    text: str                       # the words as typed (normalised)
    meanings: list[Meaning]
    tokens: tuple[int, int] = (0, 0)  # token index range [first, last+1)

    def values(self, section: str) -> list:
        return [m.value for m in self.meanings if m.section == section]

    def has(self, section: str) -> bool:
        return any(m.section == section for m in self.meanings)


@dataclass
class Token:
    start: int
    end: int
    text: str
    kind: str          # "word", "sign" or "cjk"


def normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case, NFKC-normalised text (full-width digits become ASCII, curly quotes
    straight) and, for each of its characters, the index of the character of `text` it
    came from, so that matches can be shown in the prompt as typed."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        n = unicodedata.normalize("NFKC", ch)
        n = n.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
        n = n.replace("\u3000", " ").replace("\x00", " ")
        n = n.lower()
        for c in n:
            if c.isspace():
                if not out or out[-1] == " ":
                    continue          # one space between words, none at the start
                c = " "
            out.append(c)
            where.append(i)
    return "".join(out), where


def tokens(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group(0), m.lastgroup or "sign")
            for m in _TOKEN_RE.finditer(text)]


def _phrase_tokens(phrase: str) -> list[str]:
    return [t.text for t in tokens(phrase)]


# Sections whose words are adjectives that inflect in Romance languages.
_INFLECTED_SECTIONS = ("mood", "dynamics", "tempo", "weak_style")


def inflections(word: str, lang: str) -> list[str]:
    """The other forms of a Romance adjective a table lists once ("misterioso" -> "misteriosa",
    "misteriosos", "misteriosas"; "mystérieux" -> "mystérieuse"...), so that a translator need
    not list every gender and number. Single words only; other languages decline too
    irregularly for rules and use "*" stems instead."""
    if " " in word or word.endswith("*") or not word.isalpha():
        return []
    w = word
    if lang in ("es", "pt"):
        if w.endswith("o"):
            return [w[:-1] + "a", w + "s", w[:-1] + "as"]
        if w.endswith("a"):
            return [w[:-1] + "o", w + "s", w[:-1] + "os"]
        if w.endswith("e"):
            return [w + "s"]
        if w.endswith(("l", "r", "z", "n")) and lang == "es":
            return [w + "es", w + "a", w + "as"] if w.endswith("r") else [w + "es"]
    if lang == "it":
        if w.endswith("o"):
            return [w[:-1] + "a", w[:-1] + "i", w[:-1] + "e"]
        if w.endswith("a"):
            return [w[:-1] + "o", w[:-1] + "e", w[:-1] + "i"]
        if w.endswith("e"):
            return [w[:-1] + "i"]
    if lang == "fr":
        if w.endswith("eux"):
            return [w[:-1] + "se", w[:-1] + "ses"]
        if w.endswith("euse"):
            return [w[:-2] + "x", w + "s"]
        if w.endswith("if"):
            return [w[:-1] + "ve", w[:-1] + "ves", w + "s"]
        if w.endswith(("é", "u")):
            return [w + "e", w + "s", w + "es"]
        if w.endswith("e"):
            return [w + "s"]
        if w.endswith(("ant", "ent", "d", "t", "in", "al")):
            return [w + "e", w + "s", w + "es"]
    return []


@dataclass
class _Entry:
    parts: tuple[str, ...]             # tokens; a token ending in "*" is a prefix
    meanings: list[Meaning] = field(default_factory=list)


@dataclass
class _TrieNode:
    children: dict = field(default_factory=dict)
    meanings: list[Meaning] | None = None
    terminal: bool = False          # a word ends here (meanings empty: a particle)


class Vocabulary:
    """Every table of every language, and the matcher over them."""

    def __init__(self, tables: dict[str, dict]) -> None:
        self.tables = tables
        self._sections: dict[tuple[str, str | None], dict] = {}
        self._exact_first: dict[str, list[_Entry]] = {}
        self._prefix_first: dict[str, list[_Entry]] = {}
        self._trie = _TrieNode()
        self.max_prefix = 1
        entries: dict[tuple[str, ...], _Entry] = {}
        cjk_entries: dict[str, list[Meaning]] = {}
        for lang, table in tables.items():
            # a generated form never takes a word another section already means something
            # by ("bassa" is not "basso" the instrument)
            known = {w for sec in MATCHED_SECTIONS if sec not in _INFLECTED_SECTIONS
                     for w in table.get(sec, {})}
            for section in MATCHED_SECTIONS:
                words = dict(table.get(section, {}))
                if section in _INFLECTED_SECTIONS:
                    for word, value in list(words.items()):
                        for form in inflections(word, lang):
                            if form not in known and form not in table.get(section, {}):
                                words[form] = value
                for phrase, value in words.items():
                    meaning = Meaning(section, value, lang)
                    phrase = unicodedata.normalize("NFKC", phrase).lower().strip()
                    if CJK_CHAR.search(phrase):
                        known = cjk_entries.setdefault(phrase.replace(" ", ""), [])
                        if not any((m.section, m.value) == (section, value) for m in known):
                            known.append(meaning)
                        continue
                    # "*" ends a word that may take any ending; per word, so that
                    # "акустическ* гитар*" declines both words
                    parts: list[str] = []
                    for word in phrase.split():
                        word_parts = _phrase_tokens(word.rstrip("*"))
                        if word_parts and word.endswith("*"):
                            word_parts[-1] += "*"
                        parts += word_parts
                    if not parts:
                        continue
                    key = tuple(parts)
                    entry = entries.setdefault(key, _Entry(key))
                    if not any((m.section, m.value) == (section, value) for m in entry.meanings):
                        entry.meanings.append(meaning)
        for entry in entries.values():
            if len(entry.parts) == 1 and entry.parts[0].isdigit():
                cjk_entries.setdefault(entry.parts[0], []).extend(entry.meanings)  # "808とハイハット"
            first = entry.parts[0]
            if first.endswith("*") and len(first) > 1:
                self._prefix_first.setdefault(first[:-1], []).append(entry)
                self.max_prefix = max(self.max_prefix, len(first) - 1)
            else:
                self._exact_first.setdefault(first, []).append(entry)
        for lang, table in tables.items():
            # particles and connectors take part in segmenting CJK text ("钢琴和弦乐" is
            # piano + and + strings, not piano + chord + 乐) but produce no hit
            words = list(table.get("filler", {}).get("_", [])) + list(table.get("connector", {}))
            for word in words:
                word = unicodedata.normalize("NFKC", word).lower().replace(" ", "")
                if CJK_CHAR.search(word):
                    cjk_entries.setdefault(word, [])
        for phrase, meanings in cjk_entries.items():
            node = self._trie
            for ch in phrase:
                node = node.children.setdefault(ch, _TrieNode())
            node.meanings = (node.meanings or []) + [m for m in meanings
                                                     if m not in (node.meanings or [])]
            node.terminal = True

    # -- table access ------------------------------------------------------------------
    def section(self, section: str, lang: str | None = None) -> dict:
        """word -> value of one section, for one language or all of them merged (the
        first language listed wins a word two languages use)."""
        key = (section, lang)
        if key not in self._sections:
            self._sections[key] = self._section(section, lang)
        return self._sections[key]

    def _section(self, section: str, lang: str | None) -> dict:
        out: dict = {}
        for name, table in self.tables.items():
            if lang is None or name == lang:
                for k, v in table.get(section, {}).items():
                    out.setdefault(unicodedata.normalize("NFKC", k).lower(), v)
        return out

    def words(self, section: str) -> dict:
        return self.section(section)

    def fillers(self) -> set[str]:
        if ("_fillers", None) in self._sections:
            return self._sections[("_fillers", None)]
        out: set[str] = set()
        for table in self.tables.values():
            out.update(unicodedata.normalize("NFKC", w).lower()
                       for w in table.get("filler", {}).get("_", []))
        self._sections[("_fillers", None)] = out
        return out

    def count(self, section: str) -> int:
        """How many (word, language) entries a section has, over all languages."""
        return sum(len(t.get(section, {})) for t in self.tables.values())

    # -- matching ----------------------------------------------------------------------
    @staticmethod
    def _token_matches(part: str, token: str) -> bool:
        if part.endswith("*"):
            return token.startswith(part[:-1])
        return token == part

    def _match_words(self, toks: list[Token], i: int) -> tuple[int, _Entry] | None:
        """The longest phrase starting at token i: (tokens used, entry)."""
        text = toks[i].text
        candidates = list(self._exact_first.get(text, ()))
        if toks[i].kind == "word":
            for k in range(1, min(len(text), self.max_prefix) + 1):
                candidates.extend(self._prefix_first.get(text[:k], ()))
        best: tuple[int, int, _Entry] | None = None
        for entry in candidates:
            n = len(entry.parts)
            if i + n > len(toks):
                continue
            if all(self._token_matches(entry.parts[j], toks[i + j].text) for j in range(1, n)):
                length = sum(len(p) for p in entry.parts)
                if best is None or (n, length) > (best[0], best[1]):
                    best = (n, length, entry)
        return (best[0], best[2]) if best else None

    def _match_cjk(self, text: str, start: int, end: int, tok_index: int) -> list[Hit]:
        """The best segmentation of one CJK stretch text[start:end] (spaces skipped): the one
        that covers most characters with words and particles, then most with words, then with
        the fewest pieces (dynamic programming over the trie's matches: linear in the text)."""
        chars = [(k, text[k]) for k in range(start, end) if not text[k].isspace()]
        n = len(chars)
        # matches[i]: (length, meanings) of every word starting at i
        matches: list[list[tuple[int, list[Meaning]]]] = [[] for _ in range(n)]
        for i in range(n):
            node = self._trie
            j = i
            while j < n:
                node = node.children.get(chars[j][1])
                if node is None:
                    break
                j += 1
                if node.terminal:
                    matches[i].append((j - i, node.meanings or []))
        best: list[tuple[int, int, int]] = [(0, 0, 0)] * (n + 1)   # (covered, meaningful, -pieces)
        choice: list[tuple[int, list[Meaning]] | None] = [None] * (n + 1)
        for i in range(n - 1, -1, -1):
            best[i], choice[i] = best[i + 1], None
            for length, meanings in matches[i]:
                c, w, p = best[i + length]
                cand = (c + length, w + (length if meanings else 0), p - 1)
                if cand > best[i]:
                    best[i], choice[i] = cand, (length, meanings)
        hits: list[Hit] = []
        i = 0
        while i < n:
            pick = choice[i]
            if pick is None:
                i += 1
                continue
            length, meanings = pick
            if meanings:
                s, e = chars[i][0], chars[i + length - 1][0] + 1
                hits.append(Hit(s, e, text[s:e], list(meanings), (tok_index, tok_index + 1)))
            i += length
        return hits

    def find(self, text: str, toks: list[Token] | None = None) -> list[Hit]:
        """Every vocabulary phrase in the normalised `text`, left to right, longest first."""
        toks = tokens(text) if toks is None else toks
        hits: list[Hit] = []
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok.kind == "cjk" or (tok.text.isdigit() and i + 1 < len(toks)
                                     and toks[i + 1].kind == "cjk" and toks[i + 1].start == tok.end):
                # a CJK stretch: consecutive CJK tokens separated only by spaces (and the
                # digits glued to them: "8ビット")
                j = i
                while j + 1 < len(toks) and (
                        (toks[j + 1].kind == "cjk" and not text[toks[j].end:toks[j + 1].start].strip())
                        or (toks[j + 1].text.isdigit() and toks[j + 1].start == toks[j].end)):
                    j += 1
                for h in self._match_cjk(text, tok.start, toks[j].end, i):
                    # token range: the CJK tokens the hit overlaps
                    first = next(k for k in range(i, j + 1) if toks[k].end > h.start)
                    last = next(k for k in range(j, i - 1, -1) if toks[k].start < h.end)
                    h.tokens = (first, last + 1)
                    hits.append(h)
                i = j + 1
                continue
            m = self._match_words(toks, i)
            if m is None:
                i += 1
                continue
            n, entry = m
            s, e = tok.start, toks[i + n - 1].end
            hits.append(Hit(s, e, text[s:e], list(entry.meanings), (i, i + n)))
            i += n
        return hits


def _load_tables() -> dict[str, dict]:
    tables: dict[str, dict] = {}
    for lang in LANGUAGES:
        path = VOCAB_DIR / f"{lang}.toml"
        with open(path, "rb") as fh:
            tables[lang] = tomllib.load(fh)
    return tables


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The vocabulary of all languages (loaded once per process, ~50 ms)."""
    return Vocabulary(_load_tables())


@lru_cache(maxsize=1)
def meanings() -> dict:
    """What moods, tempo words and dynamics do (vocab/meanings.toml)."""
    with open(VOCAB_DIR / "meanings.toml", "rb") as fh:
        return tomllib.load(fh)
