"""Tone words in no table, read by their nearest meaning with the multilingual encoder
(intent/fallback.py): only clear cases, never against a table word, deterministic."""

from __future__ import annotations

import json

from robin_studio.intent.fallback import CENTROIDS, CENTROIDS_INFO, nearest_moods
from robin_studio.intent.parse import parse_prompt
from robin_studio.intent.report import report_lines
from robin_studio.intent.vocabulary import meanings


def test_centroids_cover_every_mood():
    info = json.loads(CENTROIDS_INFO.read_text(encoding="utf-8"))
    assert set(info["moods"]) == set(meanings()["mood"])
    assert CENTROIDS.stat().st_size > 0


def test_a_word_in_no_table_is_read_by_its_nearest_mood():
    i = parse_prompt("a cheery tune")
    assert i.moods == ["happy"] and i.key_mode == "major" and "cheery" not in i.unknown_words
    assert any("cheery" in line and "nearest meaning" in line for line in report_lines(i))
    i = parse_prompt("a frightening drone")
    assert i.moods == ["eerie"] and i.key_mode == "minor"


def test_the_tables_win_and_unclear_words_stay_unknown():
    i = parse_prompt("sad but cheery piano")
    assert i.key_mode == "minor"            # the table's "sad" sets the mode
    i = parse_prompt("vlog xyzzy")
    assert i.unknown_words == ["vlog", "xyzzy"] and not i.moods
    # only with the embedding (parse_prompt(embed=False) reads the tables alone)
    assert parse_prompt("a cheery tune", embed=False).unknown_words == ["cheery"]


def test_it_is_deterministic():
    assert nearest_moods(["blissful", "frightening"]) == nearest_moods(["blissful", "frightening"])
