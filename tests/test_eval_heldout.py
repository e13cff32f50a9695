"""The held-out judgement (robin_studio/eval/heldout.py, report_heldout.py): the prompt file is
read as written, judged by General MIDI programs (not our parser), tags are counted only when
the tagger's vocabulary has them, the report writes thresholds as met / not met, and a real
run on one prompt goes end to end (without the listener it says how to install it)."""

from __future__ import annotations

import numpy as np
import pytest

from robin_studio.eval import heldout as ho
from robin_studio.eval import report_heldout as rh
from robin_studio.eval.clips import EvalClip
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track


def test_prompt_file_is_read_as_written():
    prompts = ho.load_prompts()
    assert len(prompts) == 30
    assert {p.lang for p in prompts} == {"en", "de", "fr", "es", "it", "pt", "ja", "zh", "ko", "ru"}
    edm = next(p for p in prompts if p.name == "edm-en")
    assert edm.tempo_bpm == 128 and edm.groove and edm.style == "edm" and "dance" in edm.tags
    piano = next(p for p in prompts if p.name == "piano-en")
    assert (piano.key, piano.mode, piano.unwanted) == ("C", "minor", ("strings",))
    assert piano.lead == "piano" and not piano.mood_mode
    assert next(p for p in prompts if p.name == "piano-ja").mood_mode
    # every instrument the file names is judged by a General MIDI program set
    named = {w for p in prompts for w in p.wanted + p.unwanted} - {"drums"}
    assert named <= set(ho.GM_PROGRAMS), named - set(ho.GM_PROGRAMS)


def test_instruments_by_general_midi_program():
    s = Score(TempoMap.constant(120, 8), [Track(Role.BASS, 32, [Note(0, 1, 40)]), Track(Role.HARMONY, 4, [Note(0, 1, 60)]),
                                          Track(Role.MELODY, 24, [])])
    assert ho.has_instrument(s, "acoustic_bass") and ho.has_instrument(s, "electric_piano")
    assert not ho.has_instrument(s, "piano")            # a Rhodes is not a piano
    assert not ho.has_instrument(s, "nylon_guitar")     # a track without notes plays nothing
    assert not ho.has_instrument(s, "drums")


def test_expected_tags_are_counted_only_when_the_tagger_can_say_them():
    probs = {"techno": 0.5, "beats": 0.4, "slow": 0.3, "piano": 0.1, "guitar": 0.05, "dance": 0.01}
    assert ho.tags_heard(probs, ("beat",), top_n=2)          # MTT's "beats" is "beat"
    assert ho.tags_heard(probs, ("dance",), top_n=5) is False
    assert ho.tags_heard(probs, ("hip hop", "funk")) is None  # not in the vocabulary: not judged


def _piece(system, prompt, seed=0, source="generated", clip="c", **m):
    return ho.HeldoutPiece(system, clip, source, prompt, seed, 30.0, dict(m))


def test_report_writes_thresholds_as_met_or_not_met(tmp_path):
    prompts = [p for p in ho.load_prompts() if p.name in ("edm-en", "piano-ja", "trailer-en")]
    clip = EvalClip("c", tmp_path / "c.mp4", 30.0, [5.0], 320, 180, 24.0)
    res = ho.HeldoutResults(True, prompts, ["model", "naive-loop"], [clip])
    common = dict(chords_per_16_bars=5.0, clashes_over_250ms=0.0, short_note_share=0.0,
                  median_phrase_notes=5.0, leaps_per_8_bars=0.5, motif_recurrence=0.5)
    res.pieces = [
        _piece("model", "edm-en", groove_presence=0.95, mode_written_major=1.0, mode_heard_major=1.0,
               mode_written_ok=1.0, tempo_ok=1.0, **common),
        _piece("model", "trailer-en", groove_presence=0.5, arc_build_db=2.5, **common),
        _piece("model", "piano-ja", groove_presence=0.0, mode_written_major=0.0, mode_heard_major=0.0, **common),
        _piece("model", "piano-ja", seed=1, mode_written_major=1.0, mode_heard_major=0.0),
        _piece("naive-loop", "edm-en", groove_presence=0.2, **common),
    ]
    res.listener_note = "listener not installed: run installers/listener.sh"
    res.hits = {"hits alone": {"sets": 3, "hits": 10, "on_beat": 9, "rate": 0.9, "strong": 5,
                               "strong_on_bar": 4, "strong_bar_rate": 0.8, "median_miss_ms": 20.0}}
    text = "\n".join(rh.heldout_lines(res))
    groove = next(line for line in text.splitlines() if line.startswith("| groove after the intro"))
    assert "1 of 2 pieces" in groove and groove.rstrip().endswith("**not met** |")
    chords = next(line for line in text.splitlines() if line.startswith("| distinct chords"))
    assert chords.rstrip().endswith("| met |")
    build = next(line for line in text.splitlines() if line.startswith("| 'builds to a climax'"))
    assert "+2.5 dB" in build and "**not met**" in build
    mood = next(line for line in text.splitlines() if line.startswith("| mood sets mode"))
    assert "1 of 2 prompts" in mood and "**not met**" in mood     # piano-ja seed 1 came out major
    assert "listener not installed: run installers/listener.sh" in text
    assert "90 %, met" in text


@pytest.mark.slow
def test_one_prompt_runs_end_to_end_without_the_listener(tmp_path, monkeypatch):
    from robin_studio.eval import references

    monkeypatch.setenv("ROBIN_LISTENER_VENV", str(tmp_path / "no-listener"))
    monkeypatch.setattr(references, "reference_sets", lambda: [])   # as in CI: none installed
    res = ho.run_heldout(quick=True, workdir=tmp_path / "work", models_dir=tmp_path / "no-models",
                         prompt_names=("edm-en",), real=False, hit_sets=2, log=lambda m: None)
    assert res.systems == ["naive-loop"] and res.listener_note
    (piece,) = res.pieces
    assert piece.prompt == "edm-en" and 0.0 <= piece.metrics["groove_presence"] <= 1.0
    assert np.isfinite(piece.metrics["chords_per_16_bars"]) and "tempo_ok" in piece.metrics
    out = rh.write_heldout_report(res, tmp_path / "EVAL.md")
    text = out.read_text()
    assert "## Idioms and form (issue 14)" in text and "listener not installed" in text
    assert "## Hit points on random sets (issue 18)" in text
    assert "No reference recordings installed here" in text


def test_cut_landing_uses_the_same_random_sets_as_the_hit_points():
    from robin_studio.timing.hits import hit_landing_rates

    hits, cuts = hit_landing_rates(8, seed=3), ho.cut_landing_rates(8, seed=3)
    assert cuts["hits"] == hits["hits"] and cuts["sets"] == 8
    assert 0.0 <= cuts["rate"] <= cuts["rate_solver_tolerance"] <= 1.0
