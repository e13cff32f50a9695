"""Arcs survive mastering (issue 14, item 6): a whole generated piece, delivered at -14 LUFS
integrated and -1 dBTP, keeps the shape the prompt asked for, in short-term loudness
(BS.1770 3 s windows) as a listener hears it:
- a build to a climax: the last 15 % at least 6 dB louder than the first 25 %;
- quiet for the first 10 seconds: at least 6 dB under the rest;
- a drop: the seconds after it clearly louder than the breath before it.
The real engine, synthesizer and mastering chain run (the naive loop writes the notes, so
the shape here comes from the planned loudness curve, not from the model).
On the old chain (each chunk steered towards -14 LUFS) the build came out flat."""

from __future__ import annotations

import numpy as np
import pytest

from robin_studio.generate.baseline import NaiveLoopGenerator
from robin_studio.generate.engine import SAMPLE_RATE, Scorer
from robin_studio.generate.exporting import delivery_audio
from robin_studio.render.loudness import integrated_lufs, short_term_lufs
from robin_studio.render.master import true_peak_db
from tests.test_generate_engine import make_analysis

DUR = 40.0


@pytest.fixture(scope="module")
def scorer():
    s = Scorer(generator=NaiveLoopGenerator())
    s.warm_up()
    return s


@pytest.fixture(scope="module")
def analysis():
    # Even motion and evenly spaced cuts: nothing in the picture makes an arc by itself.
    a = make_analysis(DUR, cuts=(10.0, 20.0, 30.0))
    a.motion_energy = [0.5] * len(a.motion_energy)
    a.content_key = "arcs-even-40"
    return a


def _delivered(scorer, analysis, prompt, seed=2):
    piece = scorer.generate(analysis, prompt, seed=seed).result()
    audio = delivery_audio(piece)
    assert integrated_lufs(audio, SAMPLE_RATE) == pytest.approx(-14.0, abs=0.5)
    assert true_peak_db(audio) <= -1.0
    return piece, audio


def _span_db(times, st, a, b):
    sel = (times >= a) & (times <= b) & np.isfinite(st)
    return float(10 * np.log10(np.mean(10 ** (st[sel] / 10))))


def test_build_to_a_climax_is_kept(scorer, analysis):
    _, audio = _delivered(scorer, analysis, "cinematic strings, slowly building until the end")
    t, st = short_term_lufs(audio, SAMPLE_RATE, hop_s=0.25)
    first = _span_db(t, st, 0.0, 0.25 * DUR)
    last = _span_db(t, st, 0.85 * DUR, DUR)
    assert last - first >= 6.0, (first, last)


def test_quiet_opening_is_kept(scorer, analysis):
    _, audio = _delivered(scorer, analysis, "soft piano, quiet for the first 10 seconds, then the full band")
    t, st = short_term_lufs(audio, SAMPLE_RATE, hop_s=0.25)
    # short-term windows centred in the span and wholly inside it
    quiet = _span_db(t, st, 1.5, 8.5)
    rest = _span_db(t, st, 11.5, DUR)
    assert rest - quiet >= 6.0, (quiet, rest)


def test_a_drop_lands(scorer, analysis):
    piece, audio = _delivered(scorer, analysis, "electronic track with a drop at 0:20")
    t, st = short_term_lufs(audio, SAMPLE_RATE, hop_s=0.1, window_s=1.0)
    tm = piece.tempo_map
    drop = min((tm.bar_start_s(i) for i in range(tm.total_bars)), key=lambda s: abs(s - 20.0))
    before = _span_db(t, st, drop - 2.0, drop - 0.6)
    after = _span_db(t, st, drop + 0.6, drop + 3.0)
    assert after - before >= 6.0, (drop, before, after)


def test_no_wish_no_arc(scorer, analysis):
    """Without a wish, even motion gives an even level: the plan adds no shape of its own."""
    _, audio = _delivered(scorer, analysis, "warm piano and strings")
    t, st = short_term_lufs(audio, SAMPLE_RATE, hop_s=0.25)
    assert abs(_span_db(t, st, 0.85 * DUR, DUR) - _span_db(t, st, 0.0, 0.25 * DUR)) < 4.0
