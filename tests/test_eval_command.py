"""`robin-studio eval --quick` end to end (through the real engine, analysis and synthesizer),
and the pieces of the suite that can be checked without running it: baselines, clips, report."""

from __future__ import annotations

import math

import av
import numpy as np
import pytest

from robin_studio.eval import baselines
from robin_studio.eval.clips import PATTERNS, cut_times, write_clip
from robin_studio.intent.types import Intent
from robin_studio.model.interface import GeneratedBar
from robin_studio.score.controls import BarControls
from robin_studio.score.types import Note, Role


def test_generated_clip_has_its_cuts_where_the_suite_says(tmp_path):
    pattern = PATTERNS["even-10s-landscape"]
    clip = write_clip(pattern, tmp_path)
    assert clip.cuts_s == cut_times(pattern) == [2.5, 5.0, 7.5]
    with av.open(str(clip.path)) as c:
        frames = [f.to_ndarray(format="rgb24").astype(float) for f in c.decode(video=0)]
    assert len(frames) == 240
    diffs = np.array([np.abs(b - a).mean() for a, b in zip(frames, frames[1:])])
    # the three largest frame differences are exactly the cuts (frame i+1 starts the new shot)
    assert sorted((np.argsort(diffs)[-3:] + 1) / 24.0) == pytest.approx([2.5, 5.0, 7.5])


class _Recorder:
    """A BarGenerator that records what it was given (to check the wrappers' contract)."""

    name = "recorder"

    def __init__(self):
        self.intents, self.controls, self.prefix_controls = [], [], []

    def start(self, intent, seed, prefix=(), prefix_controls=()):
        self.intents.append(intent)
        self.prefix_controls.append(list(prefix_controls))
        rec = self

        class S:
            def next_bar(self, controls, right_context=None):
                rec.controls.append(controls)
                return GeneratedBar(controls.bar_index, np.zeros(4, np.float32), {})
        return S()


def test_no_video_baseline_neutralises_every_picture_condition():
    inner = _Recorder()
    c = BarControls(bar_index=5, energy=0.9, density=0.1, section_start=True, accents=(1, 0, 0.5, 0),
                    bars_to_end=3, section_id=2, extra={"mute_roles": ["drums"], "semantic": [1.0] * 384})
    stream = baselines.NoVideoGenerator(inner).start(Intent(), 0, prefix_controls=[c])
    stream.next_bar(c)
    got = inner.controls[0]
    assert (got.energy, got.density, got.section_start, got.section_id) == (0.5, 0.5, False, 0)
    # the cut's accents are gone; what stays is the band's usual pulse at middle energy
    from robin_studio.generate.conditions import typical_accents
    assert got.accents == pytest.approx(tuple(typical_accents(0.5)))
    assert got.bars_to_end == 3 and got.bar_index == 5
    assert got.extra == {"mute_roles": ["drums"]}
    assert inner.prefix_controls[0][0].energy == 0.5


def test_no_text_baseline_drops_words_but_keeps_explicit_controls():
    inner = _Recorder()
    intent = Intent(prompt="warm piano", text_embedding=np.ones(384, np.float32), style="lofi",
                    moods=["warm"], key_tonic=2, key_mode="minor", tempo_bpm=92.0,
                    exclude_roles={Role.DRUMS})
    baselines.NoTextGenerator(inner).start(intent, 0)
    got = inner.intents[0]
    assert got.text_embedding is None and got.style is None and got.moods == []
    assert (got.key_tonic, got.key_mode, got.tempo_bpm, got.exclude_roles) == (2, "minor", 92.0, {Role.DRUMS})
    assert intent.text_embedding is not None   # the caller's intent is untouched


def test_random_latent_baseline_decodes_prior_samples_deterministically():
    class Decoder:
        latent_dim = 16
        seen = []

        def decode(self, z, key_tonic, roles):
            self.seen.append((z.copy(), key_tonic, set(roles)))
            return {Role.MELODY: [Note(0, 1, 60 + int(z[0] > 0))]}

    dec = Decoder()
    gen = baselines.RandomLatentGenerator(dec)
    intent = Intent(key_tonic=7, exclude_roles={Role.DRUMS})
    a = gen.start(intent, seed=3).next_bar(BarControls(bar_index=4))
    b = gen.start(intent, seed=3).next_bar(BarControls(bar_index=4))
    c = gen.start(intent, seed=4).next_bar(BarControls(bar_index=4))
    np.testing.assert_array_equal(a.latent, b.latent)
    assert not np.array_equal(a.latent, c.latent)
    z, tonic, roles = dec.seen[0]
    assert z.shape == (16,) and abs(float(z.std()) - 1.0) < 0.6
    assert tonic == 7 and Role.DRUMS not in roles and Role.MELODY in roles
    assert set(a.notes) >= {Role.DRUMS, Role.MELODY}   # every role present, as the engine expects


def test_systems_without_weights_is_the_naive_loop_with_a_reason(tmp_path):
    rows, why = baselines.systems(tmp_path)
    assert [s.name for s in rows] == ["naive-loop"]
    assert "manifest.json" in why


@pytest.mark.slow
def test_quick_eval_writes_a_report_with_numbers_and_plots(tmp_path):
    from robin_studio.cli import main

    out = tmp_path / "docs" / "EVAL.md"
    code = main(["eval", "--quick", "--no-heldout", "--out", str(out), "--workdir", str(tmp_path / "work"),
                 "--models-dir", str(tmp_path / "no-models")])
    assert code == 0
    text = out.read_text()
    assert "The trained model did not run" in text and "naive-loop" in text
    row = next(line for line in text.splitlines() if line.startswith("| cut-to-beat hit rate, 70 ms"))
    value = float(row.rstrip(" |").split("|")[-1])
    assert 0.0 <= value <= 1.0 and not math.isnan(value)
    assert "librosa's lateness, measured in this run" in text
    row = next(line for line in text.splitlines() if "librosa's lateness removed" in line)
    assert 0.0 <= float(row.rstrip(" |").split("|")[-1]) <= 1.0
    for png in ("rhythm.png", "hits_per_clip.png", "music.png"):
        assert (out.parent / "eval" / png).stat().st_size > 5000


def test_model_baselines_run_on_the_shipped_weights():
    """With trained weights present, each ablation streams bars through the real runtime."""
    from robin_studio.paths import models_dir

    if not (models_dir() / "manifest.json").exists():
        pytest.skip("no trained weights in models/ yet")
    rows, why = baselines.systems()
    assert why == "" and [s.name for s in rows] == ["model", "no-video", "no-text", "random-latent",
                                                     "naive-loop"]
    intent = Intent(key_tonic=2, key_mode="minor", tempo_bpm=96.0, exclude_roles={Role.DRUMS})
    for system in rows:
        stream = system.generator.start(intent, seed=1)
        bars = [stream.next_bar(BarControls(bar_index=i, energy=0.7, bars_to_end=3 - i)) for i in range(4)]
        assert [b.bar_index for b in bars] == [0, 1, 2, 3]
        if system.name != "naive-loop":   # the loop leaves bans to the engine's arrangement
            assert not any(bar.notes.get(Role.DRUMS) for bar in bars), system.name
        assert sum(len(ns) for bar in bars for ns in bar.notes.values()) > 0, system.name


def test_report_puts_systems_side_by_side_and_cached_rows_round_trip(tmp_path):
    from robin_studio.eval.baselines import System
    from robin_studio.eval.clips import EvalClip
    from robin_studio.eval.report import write_report
    from robin_studio.eval.suite import EvalResults, PieceRow, _load_cached, _save_cached

    clip = EvalClip("c", tmp_path / "c.mp4", 10.0, [2.5], 320, 180, 24.0)
    res = EvalResults(True, "2026-01-01 00:00 UTC", "test box", [System("model", None, "m"),
                      System("naive-loop", None, "n")], "", [clip])
    res.rows = [PieceRow("model", "c", "en-explicit", 0, 10.0, 1.0,
                         {"hit_beat_70ms": 0.75, "tempo_error": float("nan")}),
                PieceRow("naive-loop", "c", "en-explicit", 0, 10.0, 0.5, {"hit_beat_70ms": 0.25})]
    res.diversity = {"model": 0.4, "naive-loop": 0.03}
    res.longform = {"model": {"bars": 193.0, "recurrence": 0.67, "melody_recurrence": 0.25,
                              "scene_coherence": 0.16},
                    "naive-loop": {"bars": 193.0, "recurrence": 0.99, "melody_recurrence": 0.99,
                                   "scene_coherence": 0.0}}
    out = write_report(res, tmp_path / "EVAL.md")
    text = out.read_text()
    assert "| metric | better | model | naive-loop |" in text
    assert "## Long form: a 10-minute video" in text
    assert "| long-range recurrence, all pitched parts | structured, not 1 | 0.670 | 0.990 |" in text
    assert "| bars |  | 193 | 193 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| cut-to-beat hit rate, 70 ms"))
    assert "0.750 | 0.250" in row
    assert "The trained model did not run" not in text
    _save_cached(tmp_path / "r.json", res.rows[:1], 0.4, {"flux_ratio": 1.0, "chroma_ratio": float("nan")},
                 [np.ones((2, 3))], res.longform["model"])
    rows, div, seams, emb, lf = _load_cached(tmp_path / "r.json")
    assert lf == res.longform["model"]
    assert rows[0].metrics["hit_beat_70ms"] == 0.75 and math.isnan(rows[0].metrics["tempo_error"])
    assert div == 0.4 and math.isnan(seams["chroma_ratio"]) and emb[0].shape == (2, 3)


def test_report_checks_the_model_targets_pooled_over_cuts(tmp_path):
    from robin_studio.eval.baselines import System
    from robin_studio.eval.clips import EvalClip
    from robin_studio.eval.report import write_report
    from robin_studio.eval.suite import EvalResults, PieceRow

    short = EvalClip("short", tmp_path / "s.mp4", 10.0, [2.5], 320, 180, 24.0)
    long = EvalClip("long", tmp_path / "l.mp4", 60.0, [float(t) for t in range(5, 50, 5)], 320, 180, 24.0)
    res = EvalResults(False, "2026-01-01 00:00 UTC", "test box", [System("model", None, "m")], "", [short, long])
    free = {"hit_onset_35ms": 1.0, "hit_beat_35ms": 1.0, "hit_beat_35ms_calibrated": 1.0,
            "tempo_error": float("nan"), "mode_correct": float("nan")}
    res.rows = [
        # one cut missed on the short clip, all nine heard on the long one: 9 of 10 cuts (90 %),
        # though the mean of the two pieces' rates is only 50 %
        PieceRow("model", "short", "en-explicit", 0, 10.0, 1.0,
                 {"hit_onset_35ms": 0.0, "hit_beat_35ms": 0.0, "hit_beat_35ms_calibrated": 0.0,
                  "tempo_error": 0.004, "mode_correct": 1.0, "instrument_presence": 1.0,
                  "negation_kept": 1.0}),
        PieceRow("model", "long", "es-explicit", 0, 60.0, 1.0,
                 {"hit_onset_35ms": 1.0, "hit_beat_35ms": 1 / 3, "hit_beat_35ms_calibrated": 4 / 9,
                  "tempo_error": 0.031, "mode_correct": 0.0, "instrument_presence": 1.0}),
        PieceRow("model", "long", "de-free", 0, 60.0, 1.0, free | {"empty_bar_rate": 0.05}),
    ]
    for r in res.rows:
        r.metrics.setdefault("hit_beat_70ms", r.metrics["hit_beat_35ms"])
        r.metrics.setdefault("empty_bar_rate", 0.0)
    text = write_report(res, tmp_path / "EVAL.md").read_text()
    lines = text.splitlines()

    def row(start: str) -> str:
        return next(line for line in lines if line.startswith(start))

    assert row("| an asked tempo is obeyed within 2 %").endswith("| 1 of 2 pieces; largest error 3.1% | **not met** |")
    assert row("| the asked mode in at least 90 %").endswith("| 50% of 2 | **not met** |")
    assert row("| asked instruments present in 100 %").endswith("| 100% of 2 pieces | met |")
    assert row("| at least 90 % of hard cuts within 35 ms of an onset").endswith("| 94.7% of 19 cuts | met |")
    assert row("| no silent bars unless asked").endswith("| 1 of 3 pieces with one | **not met** |")
    assert "tempo left free 100.0% (100.0%) of 9 cuts; tempo asked 30.0% (40.0%) of 10 cuts" in text
