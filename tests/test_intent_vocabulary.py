"""The vocabulary tables (robin_studio/intent/vocab/*.toml): complete, consistent, and
matched the way a musician would expect in every script."""

from __future__ import annotations

import pytest

from robin_studio.intent.instruments import DRUM_KITS, INSTRUMENTS
from robin_studio.intent.parse import parse_prompt
from robin_studio.intent.report import controls
from robin_studio.intent.styles import STYLE_IDS, available_style
from robin_studio.intent.vocabulary import LANGUAGES, meanings, vocabulary

CORE = ("drums", "bass", "piano", "guitar", "strings", "violin", "cello", "trumpet", "choir",
        "flute", "synth", "organ", "harp", "saxophone", "brass", "acoustic guitar",
        "electric guitar", "synth bass", "acoustic bass")


def test_every_general_midi_program_and_kit_has_a_name():
    named = set(vocabulary().section("instrument", "en").values())
    programs = {p for n in named if n in INSTRUMENTS and not INSTRUMENTS[n].kit
                for p in INSTRUMENTS[n].programs}
    assert programs == set(range(128))
    assert DRUM_KITS <= named


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_general_midi_program_has_a_name_in_every_language(lang):
    """Japanese, Chinese, Korean and Russian name all 128 programs in their own script; in
    the Latin-script languages the rarest General MIDI names (the synth leads and pads, the
    sound effects) are the English ones, which the merged tables match in any prompt."""
    v = vocabulary()
    named = set(v.section("instrument", lang).values())
    programs = {p for n in named if n in INSTRUMENTS and not INSTRUMENTS[n].kit
                for p in INSTRUMENTS[n].programs}
    if lang in ("ja", "zh", "ko", "ru", "en"):
        assert programs == set(range(128)), sorted(set(range(128)) - programs)
    else:
        assert len(programs) >= 100, sorted(set(range(128)) - programs)
        assert parse_prompt("calliope, bowed pad", embed=False).instruments == [
            "calliope lead", "bowed pad"]


def test_tables_name_only_what_the_music_knows():
    v = vocabulary()
    for lang in LANGUAGES:
        for section in ("instrument", "substitute"):
            assert set(v.section(section, lang).values()) <= set(INSTRUMENTS), (lang, section)
        assert set(v.section("style", lang).values()) <= set(STYLE_IDS), lang
        assert set(v.section("weak_style", lang).values()) <= set(STYLE_IDS), lang
        assert set(v.section("mood", lang).values()) <= set(meanings()["mood"]), lang
        assert set(v.section("tempo", lang).values()) <= set(meanings()["tempo"]), lang
        assert set(v.section("dynamics", lang).values()) <= {"soft", "loud"}, lang
        assert set(v.section("mode", lang).values()) <= {"major", "minor"}, lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_names_the_core_instruments_and_all_kinds_of_words(lang):
    v = vocabulary()
    assert set(CORE) <= set(v.section("instrument", lang).values()), \
        set(CORE) - set(v.section("instrument", lang).values())
    for section in ("style", "mood", "tempo", "dynamics", "structure", "negation", "only", "mode",
                    "connector", "period"):
        assert v.section(section, lang), (lang, section)


@pytest.mark.parametrize("text,name,program", [
    ("trumpets", "trumpet", 56), ("a trumpeter", "trumpet", 56), ("strings section", "strings", 48),
    ("upright bass", "acoustic bass", 32), ("double bass", "acoustic bass", 32),
    ("synth bass", "synth bass", 38), ("Rhodes", "electric piano", 4), ("taiko", "taiko", 116),
    ("choir", "choir", 52), ("whistling", "whistle", 78), ("a shakuhachi", "shakuhachi", 77),
    ("steel drums", "steel drums", 114), ("gunshots", "gunshot", 127),
])
def test_instruments_by_common_names_plurals_and_players(text, name, program):
    i = parse_prompt(text, embed=False)
    assert i.instruments == [name]
    assert INSTRUMENTS[name].programs[0] == program


def test_808_and_brushes_choose_the_drum_kit():
    i = parse_prompt("trap with 808s", embed=False)
    assert i.drum_kit == "808 kit" and i.instruments == ["808 kit"]
    assert INSTRUMENTS["808 kit"].programs == (25,) and INSTRUMENTS["808 kit"].ban == frozenset()
    assert parse_prompt("jazz, brushed drums", embed=False).drum_kit == "brush kit"


@pytest.mark.parametrize("text,style", [
    ("EDM banger", "edm"), ("deep house groove", "house"), ("trap", "trap"), ("lo-fi", "lofi"),
    ("boom-bap", "boombap"), ("trailer music", "trailer"), ("swing", "swing"),
    ("bossa nova", "bossa"), ("salsa", "latin"), ("funk", "funk"), ("8-bit", "chiptune"),
    ("retrowave", "synthwave"), ("ブームバップ", "boombap"), ("синтвейв", "synthwave"),
])
def test_style_names_map_to_the_canonical_ids(text, style):
    assert parse_prompt(text, embed=False).style == available_style(style)


# Issue 16, item 5: tone words steer mood, mode and energy in every language as in English.
@pytest.mark.parametrize("english,others", [
    ("happy", ["alegre", "fröhlich", "joyeux", "allegra", "楽しい", "欢快", "신나는", "весёлая"]),
    ("sad", ["triste", "traurig", "tristes", "悲しい", "悲伤", "슬픈", "грустная"]),
    ("intense", ["激しい", "intensa", "intensiv", "激烈", "강렬한", "интенсивная"]),
    ("calm", ["спокойная", "ruhig", "calme", "tranquila", "calma", "穏やか", "平静", "차분한"]),
    ("dark", ["düster", "sombre", "oscura", "cupo", "暗い", "黑暗", "어두운", "мрачная"]),
    ("triumphant", ["triumphal", "triomphant", "triunfal", "trionfale", "勇ましい", "凯旋",
                    "승리감", "торжествующая"]),
])
def test_tone_words_steer_mode_and_energy_like_english(english, others):
    fields = ("key_mode", "energy")
    want = {f: controls(parse_prompt(english, embed=False))[f] for f in fields}
    assert want["energy"] is not None
    for word in others:
        got = {f: controls(parse_prompt(word, embed=False))[f] for f in fields}
        assert got == want, (word, got, want)


def test_mood_sets_the_mode_the_issue_lists():
    for word in ("happy", "joyful", "uplifting", "playful", "triumphant"):
        assert parse_prompt(f"{word} strings", embed=False).key_mode == "major", word
    for word in ("sad", "dark", "tense", "melancholic", "menacing"):
        assert parse_prompt(f"{word} strings", embed=False).key_mode == "minor", word
    # an explicit key wins over the mood; mixed moods leave the mode to the music
    assert parse_prompt("sad waltz in C major", embed=False).key_mode == "major"
    mixed = parse_prompt("happy and sad", embed=False)
    assert mixed.key_mode is None and any("major and minor" in n for n in mixed.notes)


@pytest.mark.parametrize("text,tonic,mode", [
    ("「ハ短調」", 0, "minor"), ("嬰ヘ短調のワルツ", 6, "minor"), ("ре минор", 2, "minor"),
    ("Do mineur", 0, "minor"), ("d-Moll", 2, "minor"), ("la menor", 9, "minor"),
    ("fis-Moll", 6, "minor"), ("B-Dur", 10, "major"), ("in B major", 11, "major"),
    ("降E大调", 3, "major"), ("내림나장조", 10, "major"), ("si bemolle maggiore", 10, "major"),
    ("Ｄマイナー", 2, "minor"), ("em Fá maior", 5, "major"),
])
def test_keys_per_script(text, tonic, mode):
    i = parse_prompt(text, embed=False)
    assert (i.key_tonic, i.key_mode) == (tonic, mode)


@pytest.mark.parametrize("text,bpm", [
    ("１２０ＢＰＭのハウス", 120.0), ("テンポ９０", 90.0), ("around 90", 90.0), ("около 100", 100.0),
    ("速度大约110", 110.0), ("템포 약 95", 95.0), ("90くらい", 90.0), ("tempo 84", 84.0),
    ("um die 100 BPM", 100.0),
])
def test_tempo_numbers_per_script(text, bpm):
    assert parse_prompt(text, embed=False).tempo_bpm == bpm


def test_numbers_that_are_not_tempi_are_not_read_as_tempi():
    assert parse_prompt("quiet for around 90 seconds", embed=False).tempo_bpm is None
    assert parse_prompt("a 999 bpm drill", embed=False).tempo_bpm is None


def test_negations_before_and_after_the_instrument():
    assert parse_prompt("ドラムなし", embed=False).exclude_roles == {parse_prompt(
        "no drums", embed=False).exclude_roles.pop()}
    assert parse_prompt("드럼 없이 피아노", embed=False).instruments == ["piano"]
    i = parse_prompt("strings, except cello", embed=False)
    assert i.instruments == ["strings"] and i.excluded_instruments == ["cello"]
    i = parse_prompt("ピアノだけ", embed=False)
    assert i.exclusive_instruments and i.instruments == ["piano"]


def test_chinese_words_are_segmented_without_spaces():
    # 和弦 (chord) must not swallow 和 (and) + 弦乐 (strings)
    i = parse_prompt("钢琴和弦乐", embed=False)
    assert i.instruments == ["piano", "strings"]


def test_a_very_long_prompt_is_read_in_one_pass():
    from robin_studio.intent.parse import _Parse
    from robin_studio.intent.types import Intent

    text = ("no drums, warm piano and strings at 92 bpm in D minor, builds to the end. " * 1400)
    assert len(text) > 100_000
    i = parse_prompt(text, embed=False)        # the prompt is cut (limits.MAX_PROMPT_CHARS)
    assert i.tempo_bpm == 92.0 and i.key_tonic == 2 and "piano" in i.instruments
    assert any("characters long" in n for n in i.notes)
    # the parser itself reads all of it, in one pass (a few seconds, not minutes)
    whole = Intent(prompt=text)
    p = _Parse(text, whole)
    p.tempo(), p.key(), p.structure(), p.instruments(), p.style_and_mood(), p.roles()
    p.leftovers()
    assert whole.tempo_bpm == 92.0 and len(whole.timed_wishes) <= 64
