"""Nothing silent (issue 16, item 3): what the prompt was understood to ask for, which words set
it, what was substituted and what was not understood -- as lines for the CLI and as data for
the app -- and the arrangement obeying what the report says."""

from __future__ import annotations

from robin_studio.generate.arrange import build_arrangement
from robin_studio.intent.parse import parse_prompt
from robin_studio.intent.report import controls, parse_adherence, report_lines, understanding
from robin_studio.score.types import Role


def p(text):
    return parse_prompt(text, embed=False)


def test_the_issue_prompts_are_understood_and_reported():
    lines = report_lines(p("静かで悲しいピアノ曲"))
    assert lines[0].startswith("understood:") and "piano" in lines[0] and "minor" in lines[0]
    i = p("música alegre de fiesta con trompetas, 120 bpm")
    assert i.tempo_bpm == 120 and i.instruments == ["trumpet"] and i.key_mode == "major"
    assert "happy" in i.moods and "festive" in i.moods


def test_a_substitution_and_unknown_words_are_said():
    i = p("happy ukulele and whistling for a travel vlog")
    assert i.instruments == ["nylon guitar", "whistle"] and i.key_mode == "major"
    lines = report_lines(i)
    assert "ukulele: not in our instruments, using a nylon-string guitar" in lines
    unknown = next(line for line in lines if line.startswith("not understood:"))
    assert "travel" in unknown and "vlog" in unknown
    used = next(line for line in lines if "from the words" in line)
    assert "ukulele" in used and "whistling" in used and "happy" in used


def test_provenance_points_at_the_words_as_typed():
    prompt = "Warm piano, 120 BPM, In D Minor, no drums"
    i = p(prompt)
    spans = {control: prompt[s:e] for s, e, control in i.spans}
    assert spans["tempo_bpm"] == "120 BPM"
    assert spans["key_tonic"] == "D Minor"
    assert spans["exclude_roles:drums"] == "no drums"
    assert i.provenance["instruments:piano"] == ["piano"]
    assert i.provenance["moods"] == ["warm"]


def test_what_cannot_be_placed_is_said():
    i = p("a drop and a breakdown")
    assert any("drop" in n and "not placed" in n for n in i.notes)
    assert any(line.startswith("note:") for line in report_lines(i))
    assert report_lines(p("")) == []
    assert report_lines(p("xyzzy plugh"))[0].startswith("understood: no explicit control")


def _program(intent, role):
    return build_arrangement(intent, seed=3).tracks[role].program


def test_the_arrangement_plays_what_the_report_says():
    assert _program(p("upright bass and piano"), Role.BASS) == 32
    assert _program(p("upbeat electronic dance track with a driving synth bass"), Role.BASS) in (38, 39)
    assert _program(p("whistling melody over piano chords"), Role.MELODY) == 78
    assert _program(p("trap with 808s"), Role.DRUMS) == 25
    assert _program(p("jazz with brushed drums"), Role.DRUMS) == 40
    arr = build_arrangement(p("dark suspenseful ambient drone, no melody"), seed=1)
    assert Role.MELODY not in arr.tracks and arr.mode == "minor"
    arr = build_arrangement(p("120 bpm, in D minor, no drums"), seed=5)
    assert Role.DRUMS not in arr.tracks and (arr.tonic, arr.mode) == (2, "minor")


def test_every_language_gives_the_same_controls_for_the_side_panel():
    a = controls(p("120 bpm, in D minor, no drums"))
    for text in ("120 BPM, in d-Moll, ohne Schlagzeug", "120 bpm, en ré mineur, sans batterie",
                 "120 bpm, ニ短調, ドラムなし", "120 bpm, ре минор, без барабанов",
                 "120 bpm，D小调，不要鼓", "120 bpm, 라단조, 드럼 없이"):
        assert controls(p(text)) == a, text


def test_parse_adherence_per_language():
    prompts = [{"lang": "en", "text": "jazz with upright bass, 90 bpm", "style": "jazz",
                "tempo_bpm": 90, "wanted": ["acoustic_bass"]},
               {"lang": "ja", "text": "静かで悲しいピアノ曲", "mode": "minor", "wanted": ["piano"],
                "unwanted": ["drums"]},
               {"lang": "ja", "text": "ジャズ", "style": "rock"}]
    got = parse_adherence(prompts)
    assert got["en"]["all"] == 1.0
    assert got["ja"]["style"] == 0.0 and got["ja"]["wanted"] == 1.0 and got["ja"]["all"] == 0.75


def test_a_wish_tied_to_a_cut_lands_on_that_cut_in_any_language():
    from robin_studio.generate.conditions import resolve_wishes

    from test_generate_engine import make_analysis

    analysis = make_analysis(16.0, (4.0, 9.5))           # cuts at 4.0 s and 9.5 s
    for text in ("drums come in after the first cut", "Schlagzeug erst nach dem ersten Schnitt",
                 "batterie après la première coupe", "最初のカットの後からドラム",
                 "барабаны после первой склейки", "첫 번째 컷 이후 드럼"):
        (w,) = resolve_wishes(p(text), analysis)
        assert (w.kind, w.start_s, w.end_s, w.roles) == ("mute", 0.0, 4.0, (Role.DRUMS,)), text
    (w,) = resolve_wishes(p("a drop at the last cut"), analysis)
    assert (w.kind, w.start_s) == ("drop", 9.5)
    (w,) = resolve_wishes(p("quiet until the second cut"), analysis)
    assert (w.kind, w.start_s, w.end_s) == ("quiet", 0.0, 9.5)


def test_the_app_gets_it_all_as_plain_data():
    import json

    u = understanding(p("120 bpm, in D minor, no drums, with a ukulele"))
    assert json.loads(json.dumps(u, ensure_ascii=False)) == u
    assert u["controls"]["tempo_bpm"] == 120.0 and u["controls"]["exclude_roles"] == ["drums"]
    assert u["provenance"]["tempo_bpm"] == ["120 bpm"]
    assert u["substitutions"] == [["ukulele", "nylon guitar"]]
    assert u["lines"][0].startswith("understood:")
