"""Prompt parsing: explicit controls are read exactly; odd prompts never fail."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robin_studio.intent.parse import parse_prompt
from robin_studio.intent.styles import STYLES, STYLE_SYNONYMS, normalise_style
from robin_studio.score.types import Role


def p(text):
    return parse_prompt(text, embed=False)


@pytest.mark.parametrize("text,bpm", [
    ("92 bpm", 92.0), ("upbeat pop at 128bpm", 128.0), ("tempo 100, piano", 100.0),
    ("lofi, 84.5 BPM", 84.5), ("ruhige Musik, 100 bpm", 100.0),
])
def test_explicit_tempo(text, bpm):
    assert p(text).tempo_bpm == bpm


def test_tempo_words_give_ranges_not_tempi():
    slow, fast = p("slow sad piano"), p("fast rock")
    assert slow.tempo_bpm is None and slow.tempo_range_bpm[1] <= 90
    assert fast.tempo_range_bpm[0] >= 115
    assert p("musique lente").tempo_range_bpm == slow.tempo_range_bpm
    assert p("música rápida").tempo_range_bpm == fast.tempo_range_bpm
    # "slow build" is about the arc, not the tempo
    assert p("a slow build of strings").tempo_range_bpm is None


@pytest.mark.parametrize("text,tonic,mode", [
    ("in D minor", 2, "minor"), ("in F# minor", 6, "minor"), ("in Bb major", 10, "major"),
    ("C major, bright", 0, "major"), ("en ré mineur", 2, "minor"), ("in E flat major", 3, "major"),
    ("in A minor, strings", 9, "minor"),
])
def test_key_and_mode(text, tonic, mode):
    i = p(text)
    assert (i.key_tonic, i.key_mode) == (tonic, mode)


def test_mode_without_key():
    i = p("a minor key ballad")
    assert i.key_mode == "minor" and i.key_tonic is None
    assert p("something in a major key").key_mode == "major"


def test_bans_and_requests():
    i = p("strings and piano, no drums")
    assert i.exclude_roles == {Role.DRUMS}
    assert i.instruments == ["strings", "piano"]
    i = p("without piano or synths")
    assert set(i.excluded_instruments) == {"piano", "synth"} and not i.instruments
    i = p("no drums, bass or piano")
    assert i.exclude_roles == {Role.DRUMS, Role.BASS} and i.excluded_instruments == ["piano"]
    # after "no", a comma list not ending in "or" negates only its first item...
    i = p("no drums, piano and strings")
    assert i.exclude_roles == {Role.DRUMS} and i.instruments == ["piano", "strings"]
    # ...but "ohne" ("without") governs its whole list (issue #16)
    i = p("ohne Schlagzeug, Klavier und Streicher")
    assert i.exclude_roles == {Role.DRUMS} and i.excluded_instruments == ["piano", "strings"]
    assert not i.instruments
    assert p("drum-free ambient").exclude_roles == {Role.DRUMS}
    assert p("sans batterie").exclude_roles == {Role.DRUMS}
    assert p("sin batería").exclude_roles == {Role.DRUMS}
    assert p("no melody").exclude_roles == {Role.MELODY}


def test_solo_instrument_is_exclusive():
    i = p("solo piano, gentle")
    assert i.exclusive_instruments and i.instruments == ["piano"] and Role.DRUMS in i.exclude_roles


def test_cuts_on_the_beat_is_not_a_drum_request():
    i = p("cuts on the beat, dark jazz")
    assert i.instruments == [] and i.style == "jazz" and "dark" in i.moods


def test_styles_use_the_shared_ids():
    assert p("warm lo-fi piano").style == "lofi"
    assert p("epic hip hop").style == "hiphop"       # a genre word beats a weak one
    assert p("tense suspense").style == "thriller"
    assert set(STYLE_SYNONYMS.values()) == set(STYLES)
    assert normalise_style("Lo-Fi") == "lofi" and normalise_style("nonsense") is None


def test_dynamics():
    assert p("soft and gentle").dynamics < 0.5
    assert p("loud and powerful").dynamics > 0.5
    build = p("piano that builds")
    assert [w.kind for w in build.timed_wishes] == ["build"]


def test_timed_wishes_with_times():
    i = p("quiet for the first 10 seconds, drop at 0:45, loud after 1:10")
    got = [(w.kind, w.start_s, w.end_s) for w in i.timed_wishes]
    assert ("quiet", 0.0, 10.0) in got
    assert ("drop", 45.0, None) in got
    assert ("loud", 70.0, None) in got
    # words inside a wish do not set the global dynamics
    assert i.dynamics is None
    last = p("silent during the last 5 s").timed_wishes[0]
    assert last.kind == "silence" and last.relative_to_end and last.start_s == 5.0
    rng = p("quiet from 0:10 to 0:25").timed_wishes[0]
    assert (rng.kind, rng.start_s, rng.end_s) == ("quiet", 10.0, 25.0)


def test_timed_wishes_with_picture_anchors():
    i = p("warm lo-fi piano, builds to the end, no drums until the title card")
    mute = next(w for w in i.timed_wishes if w.kind == "mute")
    assert mute.roles == (Role.DRUMS,) and mute.anchor_text == "title card"
    assert Role.DRUMS not in i.exclude_roles          # drums come in later: not a ban
    assert any(w.kind == "build" and w.anchor_text == "ending" for w in i.timed_wishes)
    drop = p("drop at the title card").timed_wishes[0]
    assert (drop.kind, drop.anchor_text) == ("drop", "title card")
    calm = p("calm when the sun comes up").timed_wishes[0]
    assert calm.kind == "quiet" and "sun comes up" in calm.anchor_text
    mute = p("no drums for the first 20 seconds").timed_wishes[0]
    assert (mute.kind, mute.start_s, mute.end_s, mute.roles) == ("mute", 0.0, 20.0, (Role.DRUMS,))


@pytest.mark.parametrize("text", [
    "", "   ", "静かなピアノ音楽", "موسيقى هادئة للغروب", "🎹🎻 !!!", "in H# moll 999 bpm",
    "no", "drop at", "quiet for the first", "a" * 5000, "\x00\x01 weird \u202e text",
])
def test_never_fails(text):
    i = p(text)
    assert i.prompt == text


WORDS = ["no", "drums", "until", "the", "at", "0:45", "quiet", "for", "first", "10", "seconds",
         "bpm", "in", "d", "minor", "drop", "from", "to", "and", "or", "without", "piano", "last",
         "build", "when", "solo", "-free", ",", ".", "1:", "99", "s", "min", "sans", "ohne", "a",
         "major", "key", "é", "中", "🎹"]


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=60),
                 st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join)))
def test_any_text_parses(text):
    i = p(text)
    assert i.tempo_bpm is None or 30 <= i.tempo_bpm <= 300
    assert i.key_tonic is None or 0 <= i.key_tonic < 12
    assert not (i.exclude_roles & i.include_roles)
    for w in i.timed_wishes:
        assert w.start_s is None or w.start_s >= 0


def test_what_was_understood_reads_back():
    from robin_studio.intent.parse import describe_intent

    text = describe_intent(p("upbeat corporate at 92 bpm in D minor, no drums, quiet for the first "
                             "10 seconds, drop at 0:45, builds to the end"))
    for part in ("corporate", "92 bpm", "D minor", "no drums", "quiet 0-10 s", "drop at 45 s",
                 "build to the end"):
        assert part in text
    assert describe_intent(p("🎹🎻 !!! xyzzy")) == ""
    assert "soft" in describe_intent(p("静かな"))      # Japanese is understood since issue 16


def test_a_ban_for_one_part_is_a_timed_wish():
    for text, part in (("no drums at first, then a big beat", "intro"),
                       ("piano, no drums in the intro", "intro"), ("no bass at the end", "ending")):
        i = p(text)
        assert not i.exclude_roles
        (w,) = [w for w in i.timed_wishes if w.kind == "mute"]
        assert w.anchor_text == part and w.roles
