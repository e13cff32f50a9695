"""The training corpus: a tiny corpus built from a handful of real sources must load, hold
4/4 scores on a 16th grid with sane controls and truthful captions, round-trip through MIDI,
render, rebuild identically from the same seed, and leave out non-commercial sources when asked."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from robin_studio.intent.styles import MOODS
from robin_studio.score.midi_io import read_midi, write_midi
from robin_studio.score.types import Role
from robin_studio.train.corpus import sources as S
from robin_studio.train.corpus.build import build, collect_sources
from robin_studio.intent.instruments import INSTRUMENTS
from robin_studio.train.corpus.captions import PROGRAM_WORDS, STYLE_WORDS, tempo_word
from robin_studio.train.corpus.dataset import (SPLITS, bars_as_arrays, iter_corpus, load_corpus,
                                               load_manifest)
from robin_studio.train.corpus.styles import STYLE_NAMES

RYANS = ["ChorusJig.abc", "Petronella.abc", "KittySharpsChampionJig.abc", "McDonaldsReel.abc",
         "TidalWaveJig.abc", "KittyONeilsChampionJig.abc", "DickieRogersPedestalClog.abc"]


def tiny_sources() -> list[S.SourceFile]:
    m21 = S.music21_sources(["ryansMammoth", "bach", "essenFolksong"])
    picked = [s for s in m21 if s.group == "ryansMammoth" and Path(s.path).name in RYANS]
    picked += [s for s in m21 if s.key.endswith(("bach/bwv66.6.mxl", "bach/bwv269.mxl"))]
    picked += [s for s in m21 if s.key.endswith("essenFolksong/teste.abc")]
    midi = S.openmsx_sources()
    picked += [s for s in midi if s.key.endswith("city_blues_redfarn.mid")]
    return picked


# Enough for every style (the plan rotates styles), small enough to stay fast (~35 examples).
TINY_HOURS = 1.6   # 25 styles


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("parsed")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, parsed) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "c"
    info = build(out, hours=TINY_HOURS, seed=3, workers=1, sources=tiny_sources(), cache_root=parsed)
    assert info.hours >= TINY_HOURS and info.out_dir == out
    assert not out.with_name("c.building").exists()
    return out


def all_examples(corpus_dir: Path):
    return [ex for split in SPLITS for ex in iter_corpus(corpus_dir, split)]


def test_tiny_corpus_has_every_style_and_a_truthful_manifest(corpus):
    m = load_manifest(corpus)
    exs = all_examples(corpus)
    assert m["examples"] == len(exs) >= 30
    assert set(STYLE_NAMES) <= set(m["hours_per_style"])          # all 25 styles present
    assert abs(m["hours"] - sum(e.duration_s for e in exs) / 3600) < 0.01
    assert m["noncommercial_examples"] == sum(e.noncommercial for e in exs) > 0
    assert any("Essen" in lic for lic in m["licences"])
    # Splits by piece: no source piece lands in two splits.
    split_of_piece = {}
    for e in exs:
        assert split_of_piece.setdefault(e.piece_id, e.split) == e.split
    assert load_corpus(corpus, "train")


def test_examples_are_4_4_on_a_16th_grid_with_controls_per_bar(corpus):
    for ex in all_examples(corpus):
        score = ex.score
        assert score.beats_per_bar == 4 and score.tempo_map.total_bars == ex.n_bars
        assert abs(score.tempo_map.mean_bpm() - ex.tempo_bpm) < 1e-6
        for t in score.tracks:
            for n in t.notes:
                assert (n.start_beat * 4) % 1 == 0 and (n.duration_beats * 4) % 1 == 0
                assert n.duration_beats >= 0.25 and 0 <= n.pitch <= 127 and 1 <= n.velocity <= 127
                assert n.start_beat < ex.n_bars * 4
        assert [c.bars_to_end for c in ex.controls] == list(range(ex.n_bars - 1, -1, -1))
        assert ex.controls[0].section_start and ex.controls[-1].section_end
        for c in ex.controls:
            assert 0 <= c.energy <= 1 and 0 <= c.density <= 1 and len(c.accents) == 4
        arrays = bars_as_arrays(ex)
        assert arrays["controls"].shape == (ex.n_bars, 9)
        assert arrays["notes"].shape[0] == sum(len(t.notes) for t in score.tracks)
        assert (arrays["notes"][:, 2] < 16).all()


def test_arrangements_end_on_the_tonic_and_follow_their_sections(corpus):
    for ex in all_examples(corpus):
        if ex.style not in STYLE_NAMES:
            continue
        last_bar = ex.n_bars - 1
        bass = ex.score.track(Role.BASS)
        sounding = [n.pitch % 12 for t in ex.score.tracks if not t.is_drums for n in t.notes
                    if n.start_beat >= last_bar * 4]
        assert ex.key_tonic in sounding, ex.id          # the final chord holds the tonic
        if bass is not None and any(n.start_beat >= last_bar * 4 for n in bass.notes):
            assert [n.pitch % 12 for n in bass.notes if n.start_beat >= last_bar * 4][-1] == ex.key_tonic
        # The loudest section is louder than the intro (energy follows the section shape).
        by_section: dict[int, list[float]] = {}
        for c in ex.controls:
            by_section.setdefault(c.section_id, []).append(c.energy)
        means = [np.mean(v) for _, v in sorted(by_section.items())]
        assert max(means) > means[0] + 0.1, ex.id


def test_captions_agree_with_the_attributes(corpus):
    for ex in all_examples(corpus):
        caps = ex.captions
        assert "" in caps and len([c for c in caps if c]) >= 4
        has_drums = any(t.is_drums and t.notes for t in ex.score.tracks)
        for c in caps:
            low = c.lower()
            if "no drums" in low or "without drums" in low:
                assert not has_drums, (ex.id, c)
            for name in re.findall(r"\bno (piano|guitar|strings|saxophone|synth|brass)\b", low):
                progs = [t.program for t in ex.score.tracks if not t.is_drums and t.notes]
                assert not any(p in INSTRUMENTS[name].ban for p in progs), (ex.id, c)
                assert not any(name in PROGRAM_WORDS.get(p, "") for p in progs), (ex.id, c)
            for num in re.findall(r"(\d+) bpm", low):
                assert int(num) == round(ex.tempo_bpm), (ex.id, c)
            for word, lo_hi in (("slow", (0, 76)), ("fast", (125, 999))):
                if re.search(rf"\b{word}\b", low) and "slowly" not in low:
                    assert lo_hi[0] <= ex.tempo_bpm < lo_hi[1], (ex.id, c)
        # Moods speak the prompt parser's vocabulary (a few style words have no match there).
        assert all(m in MOODS.values() or m in ("classy", "futuristic", "modern", "sophisticated")
                   for m in ex.moods), ex.moods
        full = caps[0].lower()
        assert any(w.lower() in full for w in STYLE_WORDS[ex.style])
        assert f"{round(ex.tempo_bpm)} bpm" in full
        assert tempo_word(ex.tempo_bpm) in ("slow", "mid-tempo", "upbeat", "fast")
        if not has_drums:
            assert any("no drums" in c.lower() or "without drums" in c.lower() for c in caps)


def test_every_example_round_trips_through_midi(corpus, tmp_path):
    for i, ex in enumerate(all_examples(corpus)):
        path = write_midi(ex.score, tmp_path / f"{i}.mid")
        back = read_midi(path)
        assert [(t.role, t.program, sorted(t.notes)) for t in back.tracks] == \
               [(t.role, t.program, sorted(t.notes)) for t in ex.score.tracks]
        assert abs(back.tempo_map.mean_bpm() - ex.tempo_bpm) < 1e-3


def test_examples_render_to_audible_audio(corpus):
    from dataclasses import replace

    from robin_studio.render.synth import SAMPLE_RATE, render_score
    from robin_studio.score.tempo_map import TempoMap

    # One bar from the middle of every example (all of them would take minutes): each must
    # sound, with every program the arranger picked.
    for ex in all_examples(corpus):
        start = ex.n_bars // 2 * 4
        tracks = [replace(t, notes=[replace(n, start_beat=n.start_beat - start) for n in t.notes
                                    if start <= n.start_beat < start + 4]) for t in ex.score.tracks]
        clip = replace(ex.score, tracks=tracks, tempo_map=TempoMap.constant(ex.tempo_bpm, 4))
        audio = render_score(clip, tail_s=0.1)
        assert np.isfinite(audio).all()
        rms = float(np.sqrt(np.mean(audio ** 2)))
        assert rms > 1e-3, ex.id
        assert audio.shape[0] >= int(4 * 60 / ex.tempo_bpm * SAMPLE_RATE)


def test_same_seed_builds_the_same_corpus_and_another_seed_does_not(corpus, tmp_path):
    again = tmp_path / "again"
    build(again, hours=TINY_HOURS, seed=3, workers=2, sources=tiny_sources(),
          cache_root=tmp_path / "parsed")  # a cold cache and 2 workers must give the same result
    for a in sorted(corpus.glob("*.jsonl.gz")):
        assert (again / a.name).read_bytes() == a.read_bytes(), a.name
    other = tmp_path / "other"
    build(other, hours=TINY_HOURS, seed=4, workers=1, sources=tiny_sources(),
          cache_root=tmp_path / "parsed")
    assert [e.id for e in all_examples(other)] != [e.id for e in all_examples(corpus)] or \
        [e.tempo_bpm for e in all_examples(other)] != [e.tempo_bpm for e in all_examples(corpus)]


def test_commercial_only_leaves_out_essen(tmp_path, parsed):
    srcs = collect_sources(None, allow_noncommercial=False, include_user=False)
    assert srcs and not any(s.group == "essenFolksong" or s.noncommercial for s in srcs)
    assert any(s.group == "essenFolksong" for s in collect_sources(None, True, include_user=False))
    info = build(tmp_path / "c", hours=TINY_HOURS, seed=0, workers=1, allow_noncommercial=False,
                 sources=tiny_sources(), cache_root=parsed)
    exs = all_examples(info.out_dir)
    assert exs and not any(e.noncommercial or "essen" in e.source.lower() for e in exs)
    assert load_manifest(info.out_dir)["noncommercial_examples"] == 0


def test_without_leaves_out_a_source_group(tmp_path, parsed):
    # The shipped weights are GPL-3.0-or-later; `--without openmsx` keeps the GPL-2.0-only
    # MIDI files out of the corpus they are trained on.
    assert any(s.group == "openmsx" for s in tiny_sources())
    srcs = collect_sources(None, allow_noncommercial=False, include_user=False, without=["openmsx"])
    assert srcs and not any(s.group == "openmsx" for s in srcs)
    info = build(tmp_path / "c", hours=TINY_HOURS, seed=0, workers=1, without=["openmsx"],
                 sources=tiny_sources(), cache_root=parsed)
    exs = all_examples(info.out_dir)
    assert exs and not any(e.source.startswith("openmsx/") for e in exs)
    assert not any("GPL" in e.licence for e in exs)
    assert load_manifest(info.out_dir)["options"]["without"] == ["openmsx"]
