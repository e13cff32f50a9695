"""Analysis on clips with known answers: cuts to the frame, fades and dissolves to half a
second, motion and visual beats, affect, labels, the storyboard, and the cache."""

from __future__ import annotations

import json
import time
from functools import lru_cache

import numpy as np
import pytest

from fixtures.build import bad_cached, bursts_cached, spliced_cached, spliced_vp9_cached
from robin_studio.analysis.analyze import analyze_video
from robin_studio.analysis.storyboard import MIN_SECTION_S
from robin_studio.analysis.types import VideoAnalysis
from robin_studio.errors import MediaError

from conftest import FIXTURES, RESOURCES


SPLICES = {"mp4-h264-320x180-30fps": spliced_cached, "webm-vp9-640x360-25fps": spliced_vp9_cached}


@lru_cache(maxsize=None)
def spliced_analysis(which: str = "mp4-h264-320x180-30fps") -> VideoAnalysis:
    return analyze_video(SPLICES[which]().path, use_cache=False)


def _f1(found: list[int], true: list[int], tolerance: int = 1) -> float:
    unmatched = list(true)
    hits = 0
    for f in found:
        match = next((t for t in unmatched if abs(t - f) <= tolerance), None)
        if match is not None:
            unmatched.remove(match)
            hits += 1
    if not found or not true:
        return float(found == true)
    precision, recall = hits / len(found), hits / len(true)
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)


@pytest.mark.parametrize("which", sorted(SPLICES))
def test_hard_cuts_to_the_frame(which):
    truth = SPLICES[which]()
    a = spliced_analysis(which)
    cuts = [t for t in a.transitions if t.kind == "cut"]
    assert _f1([t.frame for t in cuts], truth.hard_cuts) >= 0.95
    for t in cuts:
        assert t.start_s == t.end_s == pytest.approx(t.frame / truth.fps, abs=1e-3)
        assert 0.0 <= t.strength <= 1.0
    # Cuts between different scenes are strong.
    assert np.median([t.strength for t in cuts]) > 0.7


@pytest.mark.parametrize("which", sorted(SPLICES))
def test_fade_and_dissolve_within_half_a_second(which):
    truth = SPLICES[which]()
    a = spliced_analysis(which)
    gradual = [t for t in a.transitions if t.kind != "cut"]
    assert len(gradual) == len(truth.gradual)
    for (kind, first, last), found in zip(truth.gradual, gradual):
        assert found.kind == kind
        assert found.start_s == pytest.approx(first / truth.fps, abs=0.5)
        assert found.end_s == pytest.approx((last + 1) / truth.fps, abs=0.5)
        assert found.start_s < found.time_s < found.end_s
        assert found.strength > 0.5


def test_shots_tile_the_clip_and_carry_affect():
    truth = spliced_cached()
    a = spliced_analysis()
    assert a.duration_s == pytest.approx(truth.duration_s, abs=1 / truth.fps)
    assert len(a.shots) == len(a.transitions) + 1
    assert a.shots[0].start_s == 0 and a.shots[-1].end_s == pytest.approx(a.duration_s)
    assert all(s.end_s == pytest.approx(n.start_s) for s, n in zip(a.shots, a.shots[1:]))
    by_time = lambda t: next(s for s in a.shots if s.start_s <= t < s.end_s)  # noqa: E731
    circles, warm, screen = by_time(6.0), by_time(9.0), by_time(3.5)
    assert warm.colour_temperature > 0.5 > -0.3 > circles.colour_temperature
    assert screen.motion < 0.2 < circles.motion   # a still screen recording vs drifting discs
    assert circles.brightness < warm.brightness


def test_every_shot_has_image_labels_and_features():
    a = spliced_analysis()
    for shot in a.shots:
        assert shot.labels, shot
        assert all(isinstance(name, str) and 0 < p <= 1 for name, p in shot.labels)
        assert len(shot.features) == 1280
    # Two shots of the same screen recording look more alike than the screen and the discs.
    feats = {round(s.start_s, 1): np.asarray(s.features) for s in a.shots}
    cos = lambda u, v: float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))  # noqa: E731
    screen1, screen2, discs = feats[2.8], feats[11.8], feats[5.4]
    assert cos(screen1, screen2) > cos(screen1, discs)


def test_storyboard_sections():
    a = spliced_analysis()
    assert a.sections[0].start_s == 0
    assert a.sections[-1].end_s == pytest.approx(a.duration_s)
    covered = [i for s in a.sections for i in s.shot_indices]
    assert covered == list(range(len(a.shots)))
    for section in a.sections:
        assert section.duration_s >= MIN_SECTION_S - 1e-6
        assert section.description
    assert 2 <= len(a.sections) < len(a.shots)


def test_motion_energy_and_visual_beats():
    path, onsets = bursts_cached()
    a = analyze_video(path, use_cache=False)
    assert a.motion_hz >= 10
    assert len(a.motion_energy) == pytest.approx(a.duration_s * a.motion_hz, abs=1)
    energy = np.asarray(a.motion_energy)
    assert energy.min() >= 0 and energy.max() <= 1
    moving = [energy[int(o * a.motion_hz) + 1] for o in onsets]
    still = energy[int(0.5 * a.motion_hz)]
    assert min(moving) > 0.3 > 0.05 > still
    assert len(a.visual_beats_s) == len(onsets)
    for beat, onset in zip(a.visual_beats_s, onsets):
        assert beat == pytest.approx(onset, abs=0.1)
    assert a.transitions == []


def test_cache_hit_is_fast_and_equal(tmp_path):
    clip = tmp_path / "copy of screen.webm"
    clip.write_bytes((FIXTURES / "display-dual-monitors.webm").read_bytes())
    start = time.perf_counter()
    first = analyze_video(clip)
    first_s = time.perf_counter() - start
    start = time.perf_counter()
    second = analyze_video(clip)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0 and elapsed < first_s / 3   # instant next to a real analysis
    assert second.to_dict() == first.to_dict()
    # The key follows the content, not the name.
    renamed = tmp_path / "renamed.webm"
    clip.rename(renamed)
    third = analyze_video(renamed)
    assert third.content_key == first.content_key and third.path == str(renamed)


def test_json_round_trip():
    a = spliced_analysis()
    again = VideoAnalysis.from_dict(json.loads(json.dumps(a.to_dict())))
    assert again == a
    small = a.to_dict(include_features=False)
    assert all(s["features"] == [] for s in small["shots"])
    assert len(json.dumps(small)) < 20_000


def test_sample_clip_is_one_shot():
    a = analyze_video(RESOURCES / "sample" / "bigbuckbunny.mp4", use_cache=False)
    assert a.transitions == [] and len(a.shots) == 1 and len(a.sections) == 1
    assert (a.width, a.height, a.fps) == (1280, 720, 25.0) and a.has_audio


def test_progress_is_reported_in_order():
    seen: list[tuple[float, str]] = []
    analyze_video(spliced_cached().path, progress=lambda f, m: seen.append((f, m)), use_cache=False)
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert all(isinstance(m, str) and m for _, m in seen)


def test_bad_input_raises_media_error():
    with pytest.raises(MediaError, match="holds only sound"):
        analyze_video(bad_cached()["audio_only"])
    with pytest.raises(MediaError, match="breaks off at"):
        analyze_video(bad_cached()["truncated"])


def test_damaged_clip_can_be_analysed_up_to_the_break():
    a = analyze_video(bad_cached()["truncated"], allow_damaged=True)
    assert a.damaged_at_s is not None and 0.3 < a.damaged_at_s < 3.0
    assert a.duration_s == pytest.approx(a.damaged_at_s)
    assert a.shots[-1].end_s == pytest.approx(a.damaged_at_s)
    assert len(a.motion_energy) == pytest.approx(a.duration_s * a.motion_hz, abs=1)


def test_cancelling_from_progress_stops_decoding():
    import threading

    from robin_studio.errors import CancelledError

    def progress(fraction, message):
        if fraction > 0.1:
            raise CancelledError()

    with pytest.raises(CancelledError):
        analyze_video(spliced_cached().path, progress=progress, use_cache=False)
    time.sleep(0.3)
    assert not [t for t in threading.enumerate() if t.name == "robin-decode"]


def test_batched_cut_rule_finds_exactly_pyscenedetects_cuts():
    """The cut rule runs on whole batches with numpy; PySceneDetect's AdaptiveDetector, fed
    the same frames one by one, must find the very same frames, and the batch size must not
    matter."""
    import cv2
    from scenedetect import AdaptiveDetector, FrameTimecode

    from robin_studio.analysis.copies import make_batch_copies
    from robin_studio.analysis.shots import MIN_SHOT_S, TransitionTracker
    from robin_studio.media.decode import iter_analysis_frames

    truth = spliced_cached()
    frames = np.stack([f.half_rgb for f in iter_analysis_frames(truth.path, 0.5)])
    fps = truth.fps
    direct = AdaptiveDetector(min_scene_len=max(1, int(round(MIN_SHOT_S * fps))))
    theirs_direct = []
    for i, h in enumerate(frames):
        theirs_direct += [tc.frame_num for tc in direct.process_frame(
            FrameTimecode(i, fps=fps), cv2.cvtColor(h, cv2.COLOR_RGB2BGR))]
    for size in (32, 7, 1):
        tracker = TransitionTracker(fps)
        for k in range(0, len(frames), size):
            tracker.add_batch(make_batch_copies(frames[k:k + size]))
        assert tracker.cut_frames == theirs_direct, size
    assert len(theirs_direct) >= len(truth.hard_cuts) - 1


def test_finding_transitions_works_on_the_kept_frames_without_copying_them():
    """The fade search reads the tiny copies kept of every frame (1.7 kB each: 185 MB for an
    hour). Finishing must read them where they are: joining the batches into a copy at the
    end added as much again to the peak memory of an hour's analysis."""
    import tracemalloc

    from robin_studio.analysis.copies import make_batch_copies
    from robin_studio.analysis.shots import TransitionTracker

    rng = np.random.default_rng(0)
    looks = [rng.integers(0, 256, size=(96, 170, 3), dtype=np.uint8) for _ in range(4)]
    fps, batches, size = 30.0, 800, 32
    tracker = TransitionTracker(fps, expected_frames=batches * size)
    for k in range(batches):           # a new picture every 3 batches
        tracker.add_batch(make_batch_copies(np.stack([looks[(k // 3) % 4]] * size)))
    kept_bytes = batches * size * 18 * 32 * 3
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        transitions = tracker.finish(np.arange(batches * size) / fps)
        grew = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert [t.frame for t in transitions] == [3 * size * j for j in range(1, batches // 3 + 1)]
    assert all(t.kind == "cut" for t in transitions)
    assert grew < kept_bytes / 2, f"finishing took {grew / 2**20:.0f} MiB beside {kept_bytes / 2**20:.0f} MiB kept"
