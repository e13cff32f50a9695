"""docs/EVAL.md from an `EvalResults`: tables with every system side by side, PNG plots, and
the definitions and caveats a reader needs to trust (or distrust) the numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from robin_studio.eval.suite import PROMPTS, EvalResults
from robin_studio.score.theory import key_name

RHYTHM = [
    ("hit_beat_35ms", "cut-to-beat hit rate, 35 ms", "higher"),
    ("hit_beat_70ms", "cut-to-beat hit rate, 70 ms", "higher"),
    ("hit_beat_35ms_calibrated", "cut-to-beat hit rate, 35 ms, librosa's lateness removed", "higher"),
    ("hit_onset_35ms", "cut-to-onset hit rate, 35 ms", "higher"),
    ("hit_onset_70ms", "cut-to-onset hit rate, 70 ms", "higher"),
    ("beat_iou", "Beat-IoU @0.5 s (VeM formula, vs cuts+visual beats)", "higher"),
    ("tb_iou", "TB-IoU @0.5 s (VeM, cuts vs heard beats)", "higher"),
    ("av_align", "AV-Align (TempoTokens)", "higher"),
]
INTENT = [
    ("tempo_error", "tempo error (relative)", "lower"),
    ("tempo_error_octave", "tempo error, octave-tolerant", "lower"),
    ("mode_correct", "mode accuracy", "higher"),
    ("key_correct", "key accuracy (tonic and mode)", "higher"),
    ("instrument_presence", "asked instruments present", "higher"),
    ("negation_kept", "negations kept (\"no X\")", "higher"),
    ("timed_wish_kept", "timed wishes kept (>= 3 dB)", "higher"),
]
MUSIC = [
    ("pitch_class_entropy", "pitch-class entropy (bits)", "near corpus"),
    ("scale_consistency", "scale consistency", "near corpus"),
    ("groove_consistency", "groove consistency", "near corpus"),
    ("empty_bar_rate", "empty-bar rate", "near corpus"),
    ("repetition_rate", "repetition rate (bar repeats)", "near corpus"),
    ("section_similarity", "4-bar section similarity", "near corpus"),
]


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:.{digits}f}"


def _table(res: EvalResults, metrics, with_corpus: bool = False) -> list[str]:
    names = [s.name for s in res.systems]
    head = "| metric | better | " + " | ".join(names) + (" | held-out corpus |" if with_corpus else " |")
    sep = "|---|---|" + "---:|" * len(names) + ("---:|" if with_corpus else "")
    lines = [head, sep]
    for key, label, better in metrics:
        means = res.system_means(key)
        n = sum(1 for r in res.rows if r.system == names[0] and not math.isnan(r.metrics.get(key, float("nan"))))
        cells = [_fmt(means[s]) for s in names]
        row = f"| {label} (n={n}) | {better} | " + " | ".join(cells)
        if with_corpus:
            row += f" | {_fmt(res.corpus.get(key))}"
        lines.append(row + " |")
    return lines


def _latency_lines(res: EvalResults) -> list[str]:
    """The detector calibration under the rhythm table, and the hit rates split by whether the
    prompt fixed the tempo (a fixed tempo cannot bend to put irregular cuts on beats)."""
    if not res.latency:
        return []
    lines = ["", f"librosa's lateness, measured in this run on a groove written exactly on the beat "
                 f"and rendered like the pieces (`eval/detector_latency.py`): beats "
                 f"{res.latency['beat_s'] * 1000:.0f} ms, onsets {res.latency['onset_s'] * 1000:.0f} ms "
                 f"after the written time. The calibrated row moves heard beats back by the beat figure."]
    split = []
    for s in res.systems:
        parts = []
        for label, fixed in (("free tempo", False), ("asked tempo", True)):
            v = [r.metrics.get("hit_beat_35ms_calibrated", float("nan")) for r in res.rows
                 if r.system == s.name and bool(PROMPTS[r.prompt].tempo_bpm) == fixed]
            v = [x for x in v if not math.isnan(x)]
            if v:
                parts.append(f"{label} {np.mean(v):.3f} (n={len(v)})")
        if parts:
            split.append(f"{s.name}: " + ", ".join(parts))
    if split:
        lines += ["", "Calibrated 35 ms hit rate by prompt kind: " + "; ".join(split) + "."]
    return lines


def _pooled(res: EvalResults, system: str, metric: str, fixed: bool | None = None) -> tuple[float, int]:
    """(share of all cuts, number of cuts) for a per-piece hit rate, pooled over the cuts of
    `system`'s pieces (all prompts, or only those that fix the tempo or leave it free)."""
    n_cuts = {c.name: len(c.cuts_s) for c in res.clips}
    hits = total = 0.0
    for r in res.rows:
        v = r.metrics.get(metric, float("nan"))
        if r.system != system or math.isnan(v) or not n_cuts.get(r.clip):
            continue
        if fixed is not None and bool(PROMPTS[r.prompt].tempo_bpm) != fixed:
            continue
        hits += v * n_cuts[r.clip]
        total += n_cuts[r.clip]
    return (hits / total if total else float("nan")), int(total)


def _targets_lines(res: EvalResults, system: str = "model") -> list[str]:
    """The model issue's measurable targets, for the shipped model, each with its reading."""
    rows = [r for r in res.rows if r.system == system]
    if not rows:
        return []

    def values(metric: str) -> list[float]:
        return [r.metrics[metric] for r in rows if not math.isnan(r.metrics.get(metric, float("nan")))]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    L = ["## Targets (the model issue's, measured on the shipped model)", "",
         "| target | measured | |", "|---|---|---|"]
    errs = values("tempo_error")
    if errs:
        within = sum(e <= 0.02 for e in errs)
        L.append(f"| an asked tempo is obeyed within 2 % (librosa's estimate) | {within} of {len(errs)} "
                 f"pieces; largest error {max(errs):.1%} | {verdict(within == len(errs))} |")
    modes = values("mode_correct")
    if modes:
        L.append(f"| the asked mode in at least 90 % of cases | {np.mean(modes):.0%} of {len(modes)} "
                 f"| {verdict(np.mean(modes) >= 0.9)} |")
    for metric, label in (("instrument_presence", "asked instruments present"),
                          ("negation_kept", "banned instruments absent")):
        v = values(metric)
        if v:
            L.append(f"| {label} in 100 % | {np.mean(v):.0%} of {len(v)} pieces | {verdict(min(v) >= 1.0)} |")
    empty = values("empty_bar_rate")
    if empty:
        L.append(f"| no silent bars unless asked | {sum(e > 0 for e in empty)} of {len(empty)} pieces "
                 f"with one | {verdict(max(empty) == 0)} |")
    onset, n = _pooled(res, system, "hit_onset_35ms")
    if n:
        L.append(f"| at least 90 % of hard cuts within 35 ms of an onset librosa detects | "
                 f"{onset:.1%} of {n} cuts | {verdict(onset >= 0.9)} |")
    beat = {kind: _pooled(res, system, "hit_beat_35ms", fixed) for kind, fixed in (("free", False), ("asked", True))}
    cal = {kind: _pooled(res, system, "hit_beat_35ms_calibrated", fixed) for kind, fixed in (("free", False), ("asked", True))}
    L += ["", "How the cut target is read. A hard cut counts when librosa's onset detector "
          "(`onset_detect`) finds an onset within 35 ms of it: the issue's \"beat onset that "
          "librosa detects\", and what a viewer hears as the music hitting the cut. The engine "
          "marks every hard cut: on a beat where the tempo map lands it, else exactly where it "
          "falls, with the band playing the hit together."]
    if cal["free"][1] or cal["asked"][1]:
        L += ["", "Cuts on a beat tracked by librosa's `beat_track` (35 ms; in brackets with the "
              "tracker's own lateness removed, see under the rhythm table): "
              f"tempo left free {beat['free'][0]:.1%} ({cal['free'][0]:.1%}) of {beat['free'][1]} cuts; "
              f"tempo asked {beat['asked'][0]:.1%} ({cal['asked'][0]:.1%}) of {beat['asked'][1]} cuts. "
              "With the tempo free the tempo map bends to the cuts; it cannot bend far enough for "
              "quick irregular cuts (1.1 s then 1.3 s apart) without jumping tempo every two beats. "
              "An asked tempo is obeyed exactly (the issue: explicit controls are obeyed exactly), so "
              "irregular cuts fall between its beats; the creator is told so, with what a free tempo "
              "would land (`tempo_advice`)."]
    L += ["", "The issue's other targets are measured elsewhere: speed in docs/BENCHMARKS.md, "
          "recurring themes over 10 minutes in the long-form section below, and the ending "
          "(on the video's last frame, on a cadence, never cut off mid-note) by the engine's tests."]
    return L + [""]


def _plots(res: EvalResults, out_dir: Path) -> list[str]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [s.name for s in res.systems]
    made = []

    fig, ax = plt.subplots(figsize=(8, 3.6))
    keys = ["hit_beat_35ms", "hit_beat_70ms", "hit_onset_70ms", "tb_iou", "av_align"]
    w = 0.8 / len(names)
    for i, s in enumerate(names):
        vals = [res.system_means(k)[s] for k in keys]
        ax.bar(np.arange(len(keys)) + i * w, np.nan_to_num(vals), w, label=s)
    ax.set_xticks(np.arange(len(keys)) + w * (len(names) - 1) / 2, keys, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("Rhythm, measured on the rendered audio")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "rhythm.png", dpi=110)
    plt.close(fig)
    made.append("rhythm.png")

    fig, ax = plt.subplots(figsize=(8, 3.6))
    clips = [c.name for c in res.clips]
    for i, s in enumerate(names):
        vals = []
        for c in clips:
            v = [r.metrics["hit_beat_70ms"] for r in res.rows if r.system == s and r.clip == c]
            v = [x for x in v if not math.isnan(x)]
            vals.append(np.mean(v) if v else 0.0)
        ax.bar(np.arange(len(clips)) + i * w, vals, w, label=s)
    ax.set_xticks(np.arange(len(clips)) + w * (len(names) - 1) / 2, clips, fontsize=6, rotation=20)
    ax.set_ylim(0, 1)
    ax.set_title("Cut-to-beat hit rate at 70 ms, per clip")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "hits_per_clip.png", dpi=110)
    plt.close(fig)
    made.append("hits_per_clip.png")

    fig, ax = plt.subplots(figsize=(8, 3.6))
    keys = [k for k, _, _ in MUSIC]
    for i, s in enumerate(names):
        vals = [res.system_means(k)[s] for k in keys]
        ax.bar(np.arange(len(keys)) + i * w, np.nan_to_num(vals), w, label=s)
    if res.corpus:
        ax.scatter(np.arange(len(keys)) + 0.4 - w / 2, [res.corpus.get(k, np.nan) for k in keys],
                   marker="_", s=400, color="black", label="held-out corpus", zorder=3)
    ax.set_xticks(np.arange(len(keys)) + w * (len(names) - 1) / 2, keys, fontsize=7, rotation=15)
    ax.set_title("Musical quality proxies (pitch-class entropy in bits, others 0..1)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "music.png", dpi=110)
    plt.close(fig)
    made.append("music.png")
    return made


def write_report(res: EvalResults, out_path: Path) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    plot_dir = out_path.parent / "eval"
    plots = _plots(res, plot_dir)
    names = [s.name for s in res.systems]
    L: list[str] = []
    L += ["# Evaluation", "",
          f"Generated by `robin-studio eval{' --quick' if res.quick else ''}` on {res.started}, "
          f"{res.machine}; wall time {res.wall_s / 60:.1f} min"
          + (f"; code at commit {res.revision}" if res.revision else "")
          + ". Every number below comes from that run (or from results of the same code, "
            "cases and weights read back, as noted at the end).", ""]
    L += ["## Systems (every table shows them side by side)", "",
          "| system | what writes the notes |", "|---|---|"]
    L += [f"| {s.name} | {s.description} |" for s in res.systems]
    L += [""]
    if "model" not in names:
        L += [f"**The trained model did not run in this evaluation**: {res.system_note}. "
              "Only the baselines that need no weights appear; the model, no-video, no-text and "
              "random-latent rows appear once weights are committed under `models/` and "
              "`robin-studio eval` is run again.", ""]
    L += ["All systems go through the same engine (`Scorer(generator=...)`): the tempo map that "
          "puts cuts on beats, the arrangement, instrument bans, ending, synthesis and mastering "
          "are the engine's, so rhythm numbers of every row include the engine's tempo map. "
          "Differences between rows are what the generator adds.", ""]

    L += ["## Suite", "", "| clip | orientation | length | cuts | source |", "|---|---|---:|---:|---|"]
    L += [f"| {c.name} | {c.orientation} {c.width}x{c.height} | {c.duration_s:.0f} s | {len(c.cuts_s)} | {c.source} |"
          for c in res.clips]
    used = sorted({r.prompt for r in res.rows})
    L += ["", "| prompt | language | text | explicit controls checked |", "|---|---|---|---|"]
    for p in used:
        pc = PROMPTS[p]
        checks = ", ".join(filter(None, [
            f"{pc.tempo_bpm:g} bpm" if pc.tempo_bpm else "",
            key_name(pc.key_tonic or 0, pc.key_mode) if pc.key_mode else "",
            ("with " + "+".join(pc.wanted)) if pc.wanted else "",
            ("no " + "+".join(pc.unwanted)) if pc.unwanted else "",
            "; ".join(f"{k} {a:g}-{b:g} s" for k, a, b in pc.wishes)])) or "none (free prompt)"
        L.append(f"| {p} | {pc.language} | {pc.text} | {checks} |")
    n_pieces = len(res.rows) // max(1, len(names))
    L += ["", f"{n_pieces} pieces per system (n in each row counts the pieces a metric applies to).", ""]

    L += _targets_lines(res)
    L += ["## Rhythm (measured on the rendered audio, never on the engine's beat grid)", ""]
    L += _table(res, RHYTHM)
    L += _latency_lines(res)
    if "rhythm.png" in plots:
        L += ["", "![rhythm](eval/rhythm.png)", "", "![hits per clip](eval/hits_per_clip.png)"]
    L += ["", "## Intent adherence", ""]
    L += _table(res, INTENT)
    if res.corpus.get("key_finder_n"):
        L += ["", f"Key and mode are heard by a Krumhansl-Kessler key finder on constant-Q chroma "
              f"of the audio. Calibration on this run's {res.corpus['key_finder_n']:.0f} held-out "
              f"corpus renders with known keys: it names the key in "
              f"{res.corpus['key_finder_key_accuracy']:.0%} and the mode in "
              f"{res.corpus['key_finder_mode_accuracy']:.0%} of them, so a system's mode accuracy "
              f"near that figure is as good as this measurement can show."]
    L += ["", "## Musical quality proxies", "", f"Reference: {res.corpus_note or 'none'}.", ""]
    L += _table(res, MUSIC, with_corpus=True)
    if "music.png" in plots:
        L += ["", "![music](eval/music.png)"]
    if res.longform:
        names_lf = [s.name for s in res.systems if s.name in res.longform]
        L += ["", "## Long form: a 10-minute video", "",
              "A constructed 10-minute storyboard (cuts every 4-9 s, a section per scene, scenes "
              "coming back in the order beach, car chase, beach, church, car chase, beach, valley, "
              "...), scored with the prompt \"cinematic orchestral score\" (`eval/longform.py`). "
              "Recurrence: share of bars from bar 32 on that restate (note-set Jaccard >= 0.5) a "
              "bar at least 32 bars earlier, beyond the planner's 31-bar memory. Scene coherence: "
              "similarity of non-adjacent sections showing the same scene minus that of sections "
              "showing different ones (above 0: the music comes back when the picture does).", "",
              "| measure | better | " + " | ".join(names_lf) + " |",
              "|---|---|" + "---:|" * len(names_lf)]
        for key, label, better in (("recurrence", "long-range recurrence, all pitched parts", "structured, not 1"),
                                   ("melody_recurrence", "long-range recurrence, melody", "structured, not 1"),
                                   ("scene_coherence", "scene coherence", "higher"),
                                   ("bars", "bars", "")):
            L.append(f"| {label} | {better} | " + " | ".join(
                _fmt(res.longform[n].get(key), 0 if key == "bars" else 3) for n in names_lf) + " |")
    L += ["", "## Distribution, diversity, seams", "",
          "| measure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    L.append(f"| {res.fd_name} to held-out corpus renders (lower = closer) | "
             + " | ".join(_fmt(res.fd.get(s), 1) for s in names) + " |")
    L.append("| windows embedded | " + " | ".join(str(res.fd_windows.get(s, 0)) for s in names) + " |")
    L.append("| diversity across seeds (0 = identical) | "
             + " | ".join(_fmt(res.diversity.get(s)) for s in names) + " |")
    n_seams = max((int(v.get("n", 1)) for v in res.seams.values()), default=1)
    L.append(f"| seam / bar-line spectral flux (mean of {n_seams} piece{'s' if n_seams > 1 else ''}) | "
             + " | ".join(_fmt(res.seams.get(s, {}).get("flux_ratio"), 2) for s in names) + " |")
    L.append(f"| seam / bar-line chroma change (mean of {n_seams} piece{'s' if n_seams > 1 else ''}) | "
             + " | ".join(_fmt(res.seams.get(s, {}).get("chroma_ratio"), 2) for s in names) + " |")
    gen = {s: np.mean([r.generate_s / max(r.duration_s, 1e-9) for r in res.rows if r.system == s]) for s in names}
    L.append("| generation + rendering time / clip length | "
             + " | ".join(_fmt(gen[s], 3) for s in names) + " |")
    L += [""]
    L += _DEFINITIONS
    if res.quick:
        L.append("- This is the quick suite: a handful of pieces per system; differences of a few "
                 "hundredths are noise.")
    for n in res.notes:
        L += [f"- {n}"]
    if res.heldout is not None:
        from robin_studio.eval.report_heldout import heldout_lines

        L += [""] + heldout_lines(res.heldout)
    tmp = out_path.with_suffix(".part")
    tmp.write_text("\n".join(L) + "\n", encoding="utf-8")
    tmp.replace(out_path)
    return out_path


_DEFINITIONS = """## How each number is computed

Code: `robin_studio/eval/` (`metrics_rhythm.py`, `metrics_intent.py`, `metrics_music.py`);
each metric is checked on constructed signals with known answers in `tests/test_eval_metrics.py`.

- **Cut-to-beat hit rate**: share of the clip's true cut times (known exactly: the suite writes
  the clips) with a beat tracked by librosa (`beat_track`, 24 kHz, hop 256) in the rendered audio
  within 35 / 70 ms; the onset variant uses librosa onsets instead of beats. The calibrated
  variant first moves librosa's beats back by the lateness it shows on a groove whose beat
  times are known (measured in the same run, `detector_latency.py`).
- **Beat-IoU / TB-IoU** (VeM, Tong et al., AAAI-26, arXiv:2511.09585, "Rhythmic Consistency",
  Eqs. 11-12): an intersection over union of two sets of event times, the intersection counted
  within 0.5 s. TB-IoU compares the clip's cuts with *every* beat tracked in the rendered audio,
  as the paper does; Beat-IoU compares the tracked beats with the clip's cuts and visual beats,
  because there is no ground-truth soundtrack (the paper compares with the ground truth's
  beats), so that column is not comparable with VeM's BIoU. The paper leaves the counting of
  the tolerant intersection open: here it is a maximum one-to-one matching within 0.5 s and the
  union is |A| + |B| - |M|. Beats for these two come from the paper's tracker, madmom's RNN
  (`RNNBeatProcessor` + `DBNBeatTrackingProcessor`, 100 fps), when the optional extra `vem` is
  installed, else from librosa; a note at the end says which one this run used. Details and
  every remaining assumption: `metrics_rhythm.py`.
- **AV-Align** (Yariv et al., AAAI 2024; TempoTokens `av_align.py`): librosa onsets vs strict
  local maxima of mean Farneback optical-flow magnitude, matched within ±1 frame, IoU as in that
  code. Frames are scaled to at most 160 px wide before the flow.
- **Tempo error**: librosa's tempo of the rendered audio vs the tempo the prompt asked for; the
  octave-tolerant variant forgives half/double (and 2/3, 3/2) time.
- **Mode / key accuracy**: Krumhansl-Kessler key finding on the mean constant-Q chroma of the
  audio (librosa `chroma_cqt`), chosen because it recovered the labelled keys of held-out corpus
  renders best (see the calibration line under the intent table).
- **Instruments**: asked instruments must appear in the score (a track with notes whose General
  MIDI program belongs to the instrument); "no X" must leave none. For drums the audio is checked
  too: share of energy in librosa's percussive component (margin 2) below / above 1 %.
- **Timed wishes**: RMS level inside the wish's window minus the rest; "quiet" is kept at <= -3 dB.
- **Score metrics** (MusPy definitions where MusPy has them): pitch-class entropy, scale
  consistency, groove consistency (16 steps a bar), empty-bar rate (no note sounding), repetition
  rate (a bar with cosine >= 0.9 to an earlier, non-adjacent bar), 4-bar section similarity.
- **FD-mel**: Frechet distance between Gaussian fits of 91-d window embeddings (32 log-mel band
  means/stds, 12 chroma means/stds, onset-strength mean/std/max over 3 s windows) of our audio and
  of held-out corpus renders through the same synthesizer and mastering. It is *not* FAD (no VGGish
  here) and is comparable only within one report. The held-out judgement at the end adds
  Frechet distances to real recordings on MusiCNN's embedding (FD-musicnn), heard by the
  independent listener in its own venv (`bash installers/listener.sh`, about 2.6 GB).
- **Diversity**: 1 - mean per-bar cosine similarity (pitch-class profile + onset pattern) between
  pieces for the same clip and prompt with different seeds.
- **Seam quality**: three pieces per system (one in the quick suite) have their middle third
  regenerated; spectral flux (onset strength) and chroma change across the two seams divided by
  the median of the same at ordinary bar lines, averaged over the pieces. About 1 means a seam
  is no more abrupt than a bar line.

## Caveats
"""
_DEFINITIONS = _DEFINITIONS.splitlines() + [
    "- librosa's detectors are late by a fairly constant amount: onsets 1-11 ms and beats 5-15 ms "
    "on noise clicks (the 10.7 ms hop grid), and on the engine's own mixes, whose notes the "
    "synthesizer already starts early by their attack time, onsets a median 19 ms and beats 29 ms "
    "after the cut they were written on (2 clips x 6 prompts, 2026-12-05), the same as on a "
    "groove written exactly on the beat (see the line under the rhythm table). The uncalibrated "
    "35 ms hit rate is therefore pessimistic for every row alike; the calibrated row removes the "
    "lateness measured on that groove, nothing else.",
    "- Beat-IoU and TB-IoU at 0.5 s are lenient: at 120 bpm every point lies within 0.25 s of "
    "some beat. TB-IoU is also capped by the ratio of cuts to beats (at most 1/8 for a cut every "
    "4 s under 120 bpm music), so for one clip it rises with slower music (fewer beats) as well "
    "as with cuts on beats.",
    "- The held-out corpus is arranged by rule from public-domain tunes (see the corpus docs), "
    "so 'near corpus' means near that arranger's habits, not near human production music.",
]
