"""Re-conform on a constructed re-edit of fixture clips (tests/fixtures/reedit.py: shots kept,
swapped, trimmed, removed and one inserted, spliced with PyAV at known frames): shots are
matched to the right place of the old cut, bars under matched material keep their notes
note for note, every cut of the new video is heard, the music is the new video's length to
the sample, seams are no rougher than region regeneration's, and undo returns the old take.
Real analysis, real synthesizer and mastering; the naive-loop generator keeps it quick."""

from __future__ import annotations

import numpy as np
import pytest

from robin_studio.generate.baseline import NaiveLoopGenerator
from robin_studio.generate.engine import SAMPLE_RATE, GenerationSettings, Scorer
from robin_studio.timing.hits import HitPoint
from tests.fixtures.conform_measure import kept_under_picture
from tests.fixtures.reedit import reedit_cached

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def setting():
    truth = reedit_cached()
    scorer = Scorer(generator=NaiveLoopGenerator())
    old = scorer.analyze(truth.old_path)
    new = scorer.analyze(truth.new_path)
    return truth, scorer, old, new


def _truth_old_time(truth, t_new: float) -> float | None:
    """Where the old cut shows what the new cut shows at t_new (None: the inserted shot)."""
    frame = int(round(t_new * truth.fps))
    start = 0
    for j, off, n in truth.new_shots:
        if start <= frame < start + n:
            if j is None:
                return None
            return (truth.old_cuts[j] + off + frame - start) / truth.fps
        start += n
    return None


def test_shots_are_matched_to_where_they_were(setting):
    from robin_studio.generate.conform import match_shots

    truth, _, old, new = setting
    matches = match_shots(old, new)
    right = wrong = 0
    for m in matches:
        mid = 0.5 * (m.new_start_s + m.new_end_s)
        want = _truth_old_time(truth, m.new_start_s + 0.5 / truth.fps)
        if _truth_old_time(truth, mid) is None:
            assert not m.matched, m             # the inserted shot is new
            continue
        ok = m.matched and abs(m.old_start_s - (want - 0.5 / truth.fps)) <= 1.01 / truth.fps
        right += ok
        wrong += not ok
    assert right / (right + wrong) >= 0.95, (right, wrong, matches)
    kinds = {m.kind for m in matches}
    assert {"unchanged", "moved", "trimmed", "new"} <= kinds


@pytest.fixture(scope="module")
def conformed(setting):
    from robin_studio.generate.conform import conform

    truth, scorer, old, new = setting
    piece = scorer.generate(old, "upbeat pop", seed=1, settings=GenerationSettings(
        hit_points=(HitPoint(2.5, True), HitPoint(24.5, False)))).result()
    before = {"tm": piece.tempo_map, "tracks": [list(t.notes) for t in piece.score.tracks],
              "audio": piece.audio, "analysis": piece.analysis}
    result = conform(scorer, piece, new)
    return truth, scorer, piece, before, result


def test_bars_under_matched_shots_keep_their_notes(conformed):
    from robin_studio.generate.retime import kept_notes

    truth, _, piece, before, result = conformed
    plan = result.retime.plan
    old_tm = before["tm"]
    # The old bars that lie wholly inside material the new cut shows unchanged in a row.
    keepable, under = kept_under_picture(result, old_tm, piece.tempo_map)
    kept = [plan.sources[i] for i in result.report.kept_bars]
    assert keepable and len(under) >= 0.6 * len(keepable), (kept, keepable)
    from robin_studio.score.types import Score
    old_score = Score(tempo_map=old_tm, tracks=[
        type(t)(**{**t.__dict__, "notes": ns}) for t, ns in zip(piece.score.tracks, before["tracks"])])
    tm = piece.tempo_map
    for i in result.report.kept_bars:
        j = plan.sources[i]
        # note for note (moved in beats), and at the time of its picture
        want = kept_notes(old_score, j, i)
        bpb = tm.beats_per_bar
        for t in piece.score.tracks:
            have = [n for n in t.notes if i * bpb - 1e-6 <= n.start_beat < (i + 1) * bpb - 1e-6]
            assert have == want[t.role]
    print("kept", len(kept), "of", tm.total_bars, "bars; keepable", len(keepable))


def test_a_trim_keeps_the_bars_under_the_picture_it_still_shows(setting):
    """Trimmed shots (the trim re-edit: shot 2 loses its last 30 frames, shot 5 its first
    25) keep the bars under the picture they still show, note for note: where a shot lost
    part of a bar, a short bar (2/4, else 5/8) plays the approved music of that picture, cut
    on a beat, as a film composer would write it, and the kept music after it stays under
    its picture. Before short bars 10 of these 17 bars were kept (5 before session 7, when
    every bar given up was written anew); now 15."""
    from robin_studio.generate.conform import conform
    from robin_studio.generate.retime import kept_notes
    from robin_studio.score.types import Score

    _, scorer, old, _ = setting
    new = scorer.analyze(reedit_cached("trim").new_path)
    kept = keepable = shorts = 0
    for prompt in ("upbeat pop", "warm piano ballad"):
        piece = scorer.generate(old, prompt, seed=1).result()
        tm = piece.tempo_map
        old_score = Score(tempo_map=tm, tracks=[type(t)(**{**t.__dict__, "notes": list(t.notes)})
                                                for t in piece.score.tracks])
        result = conform(scorer, piece, new, seed=1)
        ntm = piece.tempo_map
        under, at_picture = kept_under_picture(result, tm, ntm)
        sources = result.retime.plan.sources
        kept += len(at_picture)
        keepable += len(under)
        bpb = tm.beats_per_bar

        def bar_notes(i):
            return [n for t in piece.score.tracks
                    for n in t.notes if i * bpb - 1e-6 <= n.start_beat < (i + 1) * bpb - 1e-6]
        for i in result.report.kept_bars:           # note for note (moved in beats)
            want = kept_notes(old_score, sources[i], i)
            for t in piece.score.tracks:
                assert [n for n in t.notes if i * bpb - 1e-6 <= n.start_beat < (i + 1) * bpb - 1e-6] \
                    == want[t.role]
        # A short bar plays the approved notes of its beats, in the same rhythm (in seconds,
        # within the few per cent the tempo was re-timed by), and nothing else.
        for i, (first, p) in result.retime.short_bars.items():
            shorts += 1
            assert ntm.short_bars[i] == p and 2 <= p < bpb
            was = sorted((tm.seconds_at(n.start_beat) - tm.seconds_at(first), n.pitch)
                         for t in old_score.tracks for n in t.notes
                         if first - 1e-6 <= n.start_beat < first + p - 1e-6)
            now = sorted((ntm.seconds_at(n.start_beat) - ntm.bar_start_s(i), n.pitch) for n in bar_notes(i))
            assert [q for _, q in sorted(was, key=lambda x: (round(x[0], 3), x[1]))] \
                == [q for _, q in sorted(now, key=lambda x: (round(x[0], 3), x[1]))]
            for (a, _), (b, _) in zip(sorted(was), sorted(now)):
                assert abs(b - a) <= 0.08 * a + 1e-3
        assert f"{len(result.report.kept_bars)}/{ntm.total_bars} bars kept" in result.report.lines()[0]
        assert sum("is a bar of" in line for line in result.report.lines()) == len(result.retime.short_bars)
    print(f"trim: {kept}/{keepable} bars under matched picture kept note for note there, "
          f"{shorts} short bars")
    assert shorts >= 2 and kept >= 0.8 * keepable, (kept, keepable)


def test_a_region_regenerated_over_a_short_bar_plays_at_the_music_s_tempo(setting):
    """Regenerating a region over a short bar writes new music into its beats at the
    music's tempo: as many drum strokes a second as in the bars around it, not twice as
    many (its grid runs faster; `score.metre`)."""
    from robin_studio.generate.conform import conform
    from robin_studio.score.types import Role

    _, scorer, old, _ = setting
    new = scorer.analyze(reedit_cached("trim").new_path)
    piece = scorer.generate(old, "upbeat pop", seed=1).result()
    result = conform(scorer, piece, new, seed=1)
    tm = piece.tempo_map
    i = next(iter(result.retime.short_bars))
    job = scorer.regenerate(piece, tm.bar_start_s(i) - 0.01, tm.bar_start_s(i + 1) + 0.01, seed=5)
    job.result()
    assert job.bar_start <= i < job.bar_end and piece.tempo_map.short_bars == tm.short_bars

    def strokes_per_s(b):
        onsets = {round(tm.seconds_at(n.start_beat), 3) for t in piece.score.tracks
                  if t.role == Role.DRUMS for n in t.notes if b * 4 <= n.start_beat < (b + 1) * 4}
        return len(onsets) / (tm.bar_start_s(b + 1) - tm.bar_start_s(b))
    around = max(strokes_per_s(i - 1), strokes_per_s(i + 1))
    assert 0 < strokes_per_s(i) <= 1.25 * around, (strokes_per_s(i), around)


def test_the_new_length_to_the_sample_and_every_cut_heard(conformed):
    from robin_studio.generate.hitpoints import heard_onsets_s

    truth, _, piece, _, result = conformed
    assert piece.audio.shape[0] == int(round(piece.analysis.duration_s * SAMPLE_RATE))
    assert piece.analysis.path == str(truth.new_path)
    tm = piece.tempo_map
    assert abs(tm.end_s - piece.analysis.duration_s) < 1e-6    # the ending lands on the last frame
    cuts = [t.time_s for t in piece.analysis.transitions if t.kind == "cut"]
    heard = heard_onsets_s(piece.audio, SAMPLE_RATE, cuts, window_s=0.035)
    assert all(h is not None for h in heard), list(zip(cuts, heard))
    # hit points go with their shots: 2.5 s is in the first shot (kept), 24.5 s in the
    # removed one
    assert [h.time_s for h in piece.hit_points] == [2.5]
    assert [h.time_s for h in result.report.dropped_hits] == [24.5]
    lines = result.report.lines()
    assert "shots matched" in lines[0] and any("new picture" in line for line in lines)


SEAM_PROMPTS = ("upbeat pop", "rock")
SEAM_REEDITS = ("mixed", "swap", "remove", "insert")


@pytest.fixture(scope="module")
def seam_flux(setting):
    """Spectral flux at seams over ordinary bar lines (the eval's seam flux ratio), for the
    conform and for region regeneration on the same pieces (two prompts, two seeds), under
    the same rules (`tests.fixtures.conform_measure.seam_rules`): region regeneration of
    three stretches of each piece (the eval's middle third among them, each with its own
    seed), the conform to four of the constructed re-edits. Beside it, the same ratio at the
    bar lines where the music after each seam began in the approved piece (the same time for
    a region; for the conform the old bar whose planned music the bar after the seam plays),
    so that the comparison is of seams, not of the bar lines they fall on
    (`eval.metrics_music.seam_flux_over_approved`)."""
    from tests.fixtures.conform_measure import seam_samples

    truth, scorer, old, _ = setting
    news = {k: scorer.analyze(reedit_cached(k).new_path) for k in SEAM_REEDITS}
    samples = seam_samples(scorer, old, news, SEAM_PROMPTS, (1, 2))
    out = {"region": samples["region"],
           "conform": tuple(sum((samples[k][i] for k in SEAM_REEDITS), []) for i in (0, 1))}
    assert len(out["conform"][0]) >= 10 and len(out["region"][0]) >= 10
    for side, (at_seams, before) in out.items():
        print(f"seam flux, {side}: {np.nanmean(at_seams):.3f} over {len(at_seams)} seams; the "
              f"same music in the approved piece {np.nanmean(before):.3f}")
    return {side: (np.asarray(a), np.asarray(b)) for side, (a, b) in out.items()}


def test_seams_are_no_rougher_than_an_ordinary_bar_line(seam_flux):
    ours, _ = seam_flux["conform"]
    # Measured 0.97-1.10 over five samples of 24-46 seams (docs/CONFORM.md). (The bound was
    # 1.10 on the old sample of one plain seam per piece, measured 1.03-1.06 there.)
    # 1.16 (sound helper, session 7): main at 738f6fd measured 1.140 here; with repeated
    # strikes varied in the performance 1.150-1.152 (1.145 with another performance seed),
    # while the same music in the approved piece, which has no seams, rose from 1.008 to
    # 1.042-1.070: more dynamics at ordinary bar lines lift this plain ratio. Against the
    # approved piece the conform's seams measured 1.10-1.11, smoother than main's 1.13.
    # Since new bars carry the old phrase across seams (conform helper, session 7): 0.94-0.99.
    assert np.nanmean(ours) <= 1.16


def test_seams_are_no_rougher_than_region_regeneration(seam_flux):
    """Measured alike, the conform's seams are as smooth as region regeneration's, against
    the same music in the approved piece. Before the new bars carried the old phrase across
    each seam (its energy, tune, and its notes where no cut asks otherwise) this read 1.04-1.10
    against 0.92-0.96 here (docs/CONFORM.md); since, 0.94-1.00 against 0.98, which the test
    allowed (at most 1.05 times region regeneration's). Since new bars between kept bars
    first go on from the approved phrase (session 8) 0.875 against 0.983: as issue 18 asks,
    at least as smooth."""
    from robin_studio.eval.metrics_music import seam_flux_over_approved

    ours, region = seam_flux_over_approved(*seam_flux["conform"]), seam_flux_over_approved(*seam_flux["region"])
    print(f"seam flux over the approved piece's: conform {ours:.3f}, region {region:.3f}")
    assert ours <= region


def test_undo_returns_the_old_cut(conformed):
    _, _, piece, before, result = conformed
    piece.select_take(0)
    assert piece.tempo_map is before["tm"] and piece.analysis is before["analysis"]
    assert np.array_equal(piece.audio, before["audio"])
    piece.select_take(result.retime.take.take_id)
    assert piece.analysis.duration_s == pytest.approx(31.4, abs=0.05)


def test_conform_command_writes_the_new_video_with_the_report(setting, tmp_path, capsys):
    import av

    from robin_studio.app.project import Project
    from robin_studio.cli import main

    truth, *_ = setting
    project = Project(clip_path=str(truth.old_path), prompt="upbeat pop", generated=True,
                      hit_points=[{"time_s": 2.5, "strong": True}])
    project.save(tmp_path / "p.robin")
    out = tmp_path / "conformed.mp4"
    assert main(["conform", str(tmp_path / "p.robin"), str(truth.new_path), "-o", str(out),
                 "--baseline", "-q", "--wav"]) == 0
    text = capsys.readouterr().out
    assert "shots matched" in text and "new picture, new music" in text
    with av.open(str(out)) as c:
        video = c.streams.video[0]
        assert float(video.duration * video.time_base) == pytest.approx(31.4, abs=0.05)
    import soundfile as sf
    info = sf.info(str(out.with_suffix(".wav")))
    assert info.frames == int(round(31.4 * info.samplerate))          # to the sample
    # a second run does not replace the output without --overwrite
    assert main(["conform", str(tmp_path / "p.robin"), str(truth.new_path), "-o", str(out),
                 "--baseline", "-q"]) == 2


def test_conform_command_refuses_music_already_conformed_in_the_app(setting, tmp_path, capsys):
    from robin_studio.app.project import Project, TakeRecord
    from robin_studio.cli import main

    truth, *_ = setting
    project = Project(clip_path=str(truth.old_path), prompt="upbeat pop", generated=True,
                      takes=[TakeRecord(0.0, 31.8, 0, "upbeat pop", kind="generate", number=1),
                             TakeRecord(0.0, 31.8, 0, "upbeat pop", kind="conform", number=2, parent=1)],
                      current_take=2)
    project.save(tmp_path / "p.robin")
    code = main(["conform", str(tmp_path / "p.robin"), str(truth.new_path), "-o",
                 str(tmp_path / "o.mp4"), "--baseline", "-q"])
    assert code == 2 and "already conformed" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_conform_command_re_times_a_saved_re_timed_take_exactly(setting, tmp_path):
    """A project whose music in use was re-timed in the app (a hit point moved from 2.5 s to
    4 s) is made again note for note before conforming: the first take with the hit point it
    was generated with, the re-timing with its saved markers and seed (version 3). Before,
    both used the project's latest hit points and a seed of the engine's choosing."""
    from robin_studio.app.project import Project, TakeRecord
    from robin_studio.cli import main
    from robin_studio.generate.conform import conform
    from robin_studio.generate.hitpoints import retime_hits

    truth, scorer, *_ = setting
    moved = [{"time_s": 4.0, "strong": True}]
    project = Project(clip_path=str(truth.old_path), prompt="upbeat pop", generated=True,
                      hit_points=moved, current_take=2,
                      takes=[TakeRecord(0.0, 31.8, 0, "upbeat pop", kind="generate", number=1,
                                        hit_points=[{"time_s": 2.5, "strong": True}],
                                        ignored_cuts_s=[]),
                             TakeRecord(0.0, 31.8, 77, "upbeat pop", kind="retime", number=2,
                                        parent=1, hit_points=moved, ignored_cuts_s=[])])
    project.save(tmp_path / "p.robin")
    out = tmp_path / "c.mp4"
    assert main(["conform", str(tmp_path / "p.robin"), str(truth.new_path), "-o", str(out),
                 "--baseline", "-q", "--midi"]) == 0

    # the same steps by hand, on the analyses the command made (this test's cache; the
    # module's were made before it, possibly read from an older cache)
    old, new = scorer.analyze(truth.old_path), scorer.analyze(truth.new_path)
    from robin_studio.app.engine_process import to_engine_settings

    settings = to_engine_settings(project.settings, 0)        # as the command builds them
    settings.hit_points = (HitPoint(2.5, True),)
    piece = scorer.generate(old, "upbeat pop", seed=0, settings=settings).result()
    retime_hits(scorer, piece, [HitPoint(4.0, True)], [], seed=77)
    conform(scorer, piece, new)
    scorer.export(piece, tmp_path / "want.mid", kind="midi")
    assert out.with_suffix(".mid").read_bytes() == (tmp_path / "want.mid").read_bytes()
