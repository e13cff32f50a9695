"""Picture moments and ban lists in every language (issue #16's leftovers).

A change tied to a moment of the picture ("quiet when the sun comes up") is understood in all
ten languages: the prompt gets a timed wish whose anchor is the moment's words (the engine
finds the section they describe through the multilingual text encoder), and none of those
words is reported as not understood. "Without X, Y and Z" bans all three in the languages
that say it that way. The prompts here were written by hand for this test, not taken from
robin_studio/eval/heldout_prompts.toml.
"""

from __future__ import annotations

import pytest

from robin_studio.intent.parse import parse_prompt
from robin_studio.intent.report import report_lines
from robin_studio.score.types import Role

# (prompt, the wish's kind, words the anchor must hold)
MOMENTS = [
    ("en", "warm piano, quiet when the sun comes up", "quiet", "sun comes up"),
    ("it", "pianoforte caldo, tranquillo quando sorge il sole", "quiet", "sorge il sole"),
    ("it", "musica epica, forte non appena appare il castello", "loud", "appare il castello"),
    ("de", "warmes Klavier, leise wenn die Sonne aufgeht", "quiet", "sonne aufgeht"),
    ("de", "Streicher, laut sobald die Stadt erscheint", "loud", "stadt erscheint"),
    ("es", "piano cálido, suave cuando sale el sol", "quiet", "sale el sol"),
    ("es", "guitarra y batería, fuerte en cuanto aparece el barco", "loud", "aparece el barco"),
    ("fr", "piano chaleureux, doux quand le soleil se lève", "quiet", "soleil se lève"),
    ("fr", "cordes, fort lorsque la ville apparaît", "loud", "ville apparaît"),
    ("pt", "piano suave, calmo quando o sol nasce", "quiet", "sol nasce"),
    ("pt", "bateria e baixo, forte assim que o carro aparece", "loud", "carro aparece"),
    ("ru", "тёплое фортепиано, тихо когда восходит солнце", "quiet", "восходит солнце"),
    ("ru", "струнные, громко как только появляется город", "loud", "появляется город"),
    ("ja", "温かいピアノ、日が昇るときは静かに", "quiet", "日が昇る"),
    ("ja", "ストリングス、街が見えた瞬間に盛り上がる", "build", "街が見えた"),
    ("zh", "温暖的钢琴，太阳升起时安静", "quiet", "太阳升起"),
    ("zh", "弦乐，当城市出现的时候变得响亮", "loud", "城市出现"),
    ("ko", "따뜻한 피아노, 해가 뜰 때 조용하게", "quiet", "해가 뜰"),
    ("ko", "현악기, 도시가 보일 때 강하게", "loud", "도시가 보일"),
]


@pytest.mark.parametrize("lang,prompt,kind,anchor", MOMENTS, ids=[f"{m[0]}-{i}" for i, m in enumerate(MOMENTS)])
def test_a_change_at_a_picture_moment_is_understood_in_every_language(lang, prompt, kind, anchor):
    intent = parse_prompt(prompt, embed=False)
    wishes = [w for w in intent.timed_wishes if w.anchor_text]
    assert len(wishes) == 1, (prompt, intent.timed_wishes)
    wish = wishes[0]
    assert wish.kind == kind
    assert anchor in wish.anchor_text and len(wish.anchor_text) <= len(anchor) + 6, wish.anchor_text
    assert wish.start_s is None and wish.end_s is None     # placed by the picture, not a time
    for word in anchor.split():
        assert not any(word in u or u in word for u in intent.unknown_words), intent.unknown_words
    understood = report_lines(intent)[0]        # what the CLI prints and the app shows
    assert wish.anchor_text in understood, understood


# "Until" a moment: the change lasts from the start up to it.
UNTIL = [
    ("de", "leise bis der Titel erscheint", "titel erscheint"),
    ("it", "tranquillo finché non arriva il treno", "arriva il treno"),
    ("es", "suave hasta que llega el tren", "llega el tren"),
    ("fr", "doux jusqu'à ce que le train arrive", "train arrive"),
    ("ja", "列車が着くまで静かに", "列車が着く"),
]


@pytest.mark.parametrize("lang,prompt,anchor", UNTIL, ids=[u[0] for u in UNTIL])
def test_until_a_picture_moment_runs_from_the_start(lang, prompt, anchor):
    intent = parse_prompt(prompt, embed=False)
    wishes = [w for w in intent.timed_wishes if w.anchor_text]
    assert len(wishes) == 1, intent.timed_wishes
    assert wishes[0].kind == "quiet" and wishes[0].start_s == 0.0
    assert anchor in wishes[0].anchor_text
    assert not intent.unknown_words, intent.unknown_words


def test_an_instrument_that_comes_in_at_a_moment_is_left_out_before_it():
    intent = parse_prompt("Klavier und Streicher, Schlagzeug wenn der Held springt", embed=False)
    (wish,) = [w for w in intent.timed_wishes if w.anchor_text]
    assert wish.kind == "mute" and Role.DRUMS in wish.roles and wish.start_s == 0.0
    assert "held springt" in wish.anchor_text


def test_words_that_only_look_like_a_moment_make_no_wish():
    # "时间" is "time", not "when"; "때문에" is "because"; a tempo, not a picture moment.
    for prompt in ("安静的钢琴，慢慢的时间感", "조용한 피아노 때문에 좋아요", "leise bis 0:20",
                   "calme quand même"):
        intent = parse_prompt(prompt, embed=False)
        assert not [w for w in intent.timed_wishes if w.anchor_text and w.kind != "mute"
                    and w.anchor_text not in ("intro", "ending")], (prompt, intent.timed_wishes)


BANS = [
    ("de", "ohne Schlagzeug, Klavier und Streicher", {Role.DRUMS}, {"piano", "strings"}),
    ("de", "ruhige Musik ohne Bass, Gitarre und Orgel", {Role.BASS}, {"guitar", "organ"}),
    ("es", "sin batería, piano ni cuerdas", {Role.DRUMS}, {"piano", "strings"}),
    ("fr", "sans batterie, piano ni cordes", {Role.DRUMS}, {"piano", "strings"}),
    ("it", "senza batteria, pianoforte e archi", {Role.DRUMS}, {"piano", "strings"}),
    ("pt", "sem bateria, piano e cordas", {Role.DRUMS}, {"piano", "strings"}),
    ("ru", "без барабанов, фортепиано и струнных", {Role.DRUMS}, {"piano", "strings"}),
    ("en", "without drums, piano and strings", {Role.DRUMS}, {"piano", "strings"}),
]


@pytest.mark.parametrize("lang,prompt,roles,names", BANS, ids=[b[0] + str(i) for i, b in enumerate(BANS)])
def test_without_x_y_and_z_bans_all_of_them(lang, prompt, roles, names):
    intent = parse_prompt(prompt, embed=False)
    assert roles <= intent.exclude_roles, intent.exclude_roles
    assert names <= set(intent.excluded_instruments), intent.excluded_instruments
    assert not names & set(intent.instruments)


def test_a_with_after_a_ban_list_ends_it():
    # "without drums, with piano and strings": the piano and strings are wanted
    for prompt in ("senza batteria, con pianoforte e archi", "ohne Schlagzeug, mit Klavier und Streichern",
                   "sin batería, con piano y cuerdas"):
        intent = parse_prompt(prompt, embed=False)
        assert Role.DRUMS in intent.exclude_roles
        assert {"piano", "strings"} <= set(intent.instruments), (prompt, intent.instruments)


@pytest.mark.parametrize("prompt,anchor", [
    ("ohne Schlagzeug bis die Sonne aufgeht", "sonne aufgeht"),
    ("sin batería hasta que sale el sol", "sale el sol"),
    ("senza batteria finché non arriva il treno", "arriva il treno"),
])
def test_a_ban_until_a_picture_moment_leaves_the_part_out_until_then(prompt, anchor):
    intent = parse_prompt(prompt, embed=False)
    (wish,) = intent.timed_wishes
    assert wish.kind == "mute" and wish.start_s == 0.0 and Role.DRUMS in wish.roles
    assert wish.anchor_text == anchor and not intent.unknown_words, intent.unknown_words
    assert Role.DRUMS not in intent.exclude_roles           # drums come in at the moment
