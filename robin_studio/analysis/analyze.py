"""`analyze_video`: the one entry point that turns a clip into a `VideoAnalysis`.

The clip is decoded once, front to back, on a background thread, each frame converted once
at half the analysis size (and at analysis size only for the few frames the image network
may see); the frames reach the transition, motion and colour trackers a batch at a time (`BATCH` frames:
each resize and colour conversion runs once per batch, see `copies.py`), and a few frames per
second are kept for image semantics. Whenever a hard cut closes a shot, the image network
starts on that shot on its own thread (`ShotLabeller`), so decoding, the trackers and the
network overlap. Then the trackers are finished: transitions -> shots -> affect and labels
per shot -> sections. The result is cached by file content (see `cache.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from robin_studio.analysis import cache
from robin_studio.analysis.affect import ColourTracker, fill_affect
from robin_studio.analysis.copies import make_batch_copies
from robin_studio.analysis.motion import MotionTracker, resample, visual_beats
from robin_studio.analysis.semantics import SemanticSampler, ShotLabeller
from robin_studio.analysis.shots import TransitionTracker, shots_from_transitions
from robin_studio.analysis.storyboard import build_sections
from robin_studio.analysis.types import VideoAnalysis
from robin_studio.media.decode import DamagedMediaError, iter_analysis_batches, prefetch
from robin_studio.media.probe import MediaInfo, probe

# Bump when anything that changes the result changes: old cache entries are then ignored.
ANALYSIS_VERSION = 3
MOTION_HZ = 10.0

Progress = Callable[[float, str], None]

# Share of the progress bar taken by decoding (the rest: semantics and storyboard).
_DECODE_SHARE = 0.9
BATCH = 32          # frames the trackers take at a time (about a second of video)


def analyze_video(path: str | os.PathLike, progress: Progress | None = None,
                  use_cache: bool = True, allow_damaged: bool = False,
                  info: MediaInfo | None = None) -> VideoAnalysis:
    """Analyse the video at `path` (or return the cached analysis of the same content).

    `progress(fraction, message)` is called now and then with fraction in 0..1.
    Raises `robin_studio.errors.MediaError` when the file cannot be used. A file whose
    picture breaks off part-way raises `DamagedMediaError` (saying where) unless
    `allow_damaged`, in which case the part before the break is analysed and
    `damaged_at_s` says where it ends (such analyses are not cached). `info` is the file's
    `probe` when the caller has it already (probing decodes the first picture: at 1080p it
    costs as much as a tenth of a second of reading the video).
    """
    report = progress or (lambda fraction, message: None)
    info = info or probe(path)
    key = cache.content_key(path, ANALYSIS_VERSION)
    if use_cache:
        cached = cache.load(key)
        if cached is not None:
            cached.path = str(path)
            report(1.0, "Loaded the saved analysis")
            return cached

    fps = info.fps if info.fps > 0 else 25.0
    labeller = ShotLabeller()            # loads the network while the first frames decode
    try:
        return _analyze(path, info, key, fps, labeller, report, use_cache, allow_damaged)
    finally:
        labeller.close()


def _analyze(path, info, key, fps, labeller, report, use_cache, allow_damaged) -> VideoAnalysis:
    transitions_tracker = TransitionTracker(fps, info.frame_count)
    motion_tracker = MotionTracker(fps)
    colour_tracker = ColourTracker()
    sampler = SemanticSampler(info.duration_s)
    times: list[float] = []
    expected = max(1, info.frame_count)
    report(0.0, "Reading the video")
    damaged: DamagedMediaError | None = None
    shot_start = [0.0]

    def run_batch(half_rgb: np.ndarray) -> None:
        copies = make_batch_copies(half_rgb)
        for cut in transitions_tracker.add_batch(copies):
            # The shot before this cut is closed: the network can start on it.
            labeller.shot_closed(sampler.samples(), shot_start[0], times[cut])
            shot_start[0] = times[cut]
        motion_tracker.add_batch(copies.small_grey)
        colour_tracker.add_batch(copies.tiny_rgb, copies.tiny_hsv)

    try:
        # Two batches ahead: the decoder thread converts the next frames meanwhile.
        for batch in prefetch(iter_analysis_batches(path, sampler.interval_s, BATCH, info=info),
                              depth=2):
            for time_s, rgb in batch.samples:
                sampler.add(time_s, rgb)
            times.extend(batch.times_s)
            run_batch(batch.half_rgb)
            done = batch.first_index + len(batch.times_s)
            report(_DECODE_SHARE * min(1.0, done / expected),
                   f"Reading the video ({done / fps:.0f} of {info.duration_s:.0f} s)")
    except DamagedMediaError as err:
        if not allow_damaged or not times:
            raise
        damaged = err

    times_s = np.asarray(times, dtype=np.float64)
    frame_s = 1.0 / fps
    if damaged is not None:
        duration_s = damaged.broken_at_s
    else:
        duration_s = max(info.duration_s, float(times_s[-1]) + frame_s)
    report(_DECODE_SHARE, "Finding cuts and transitions")
    transitions = transitions_tracker.finish(times_s)
    cut_frames = [t.frame for t in transitions if t.kind == "cut"]
    motion = motion_tracker.per_frame(cut_frames)
    shots = shots_from_transitions(transitions, duration_s)
    fill_affect(shots, colour_tracker.array(), motion, times_s)
    report(_DECODE_SHARE + 0.02, "Recognising what is in each shot")
    labeller.label(shots, sampler.samples())
    report(0.98, "Building the storyboard")
    sections = build_sections(shots, transitions)
    spans = [(t.start_s - 0.5 * frame_s, t.end_s + 0.5 * frame_s) for t in transitions]
    analysis = VideoAnalysis(
        path=str(path), content_key=key, duration_s=round(duration_s, 6), fps=fps,
        width=info.display_width, height=info.display_height, transitions=transitions,
        shots=shots, sections=sections, motion_hz=MOTION_HZ,
        motion_energy=resample(motion, times_s, duration_s, MOTION_HZ),
        visual_beats_s=visual_beats(motion, times_s, fps, spans), has_audio=info.has_audio,
        rotation_deg=info.rotation_deg, analysis_version=ANALYSIS_VERSION,
        damaged_at_s=None if damaged is None else round(damaged.broken_at_s, 6))
    if use_cache and damaged is None:
        cache.save(analysis)
    report(1.0, "Done")
    return analysis

