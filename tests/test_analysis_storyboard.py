"""Storyboard rules on hand-made shots (no video needed): minimum section length, title cards
between strong cuts, montages, fades as boundaries, descriptions."""

from __future__ import annotations

from robin_studio.analysis.storyboard import MIN_SECTION_S, build_sections
from robin_studio.analysis.types import Shot, Transition


def _shots(bounds, looks=None):
    shots = []
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        bright, temp, motion = (looks[i] if looks else (0.5, 0.0, 0.2))
        shots.append(Shot(index=i, start_s=a, end_s=b, brightness=bright, saturation=0.4,
                          colour_temperature=temp, motion=motion, labels=[(f"thing{i}", 0.6)]))
    return shots


def _cuts(times, kind="cut", strength=0.9):
    return [Transition(kind=kind, start_s=t, end_s=t, frame=int(t * 25), strength=strength)
            for t in times]


def test_title_card_between_strong_cuts_keeps_its_section():
    shots = _shots([0, 6, 7.2, 14], looks=[(0.5, 0.3, 0.3), (0.05, 0.0, 0.0), (0.5, 0.3, 0.3)])
    sections = build_sections(shots, _cuts([6, 7.2], strength=0.95))
    assert [s.shot_indices for s in sections] == [[0], [1], [2]]


def test_weak_cuts_do_not_protect_a_short_shot():
    shots = _shots([0, 6, 7.2, 14])
    sections = build_sections(shots, _cuts([6, 7.2], strength=0.3))
    assert all(s.duration_s >= MIN_SECTION_S for s in sections)
    assert len(sections) <= 2


def test_montage_becomes_sections_of_at_least_two_seconds():
    bounds = [0.8 * i for i in range(16)]  # fifteen 0.8 s shots
    looks = [((i % 3) / 3, (-1) ** i * 0.5, 0.6) for i in range(15)]
    shots = _shots(bounds, looks)
    sections = build_sections(shots, _cuts(bounds[1:-1]))
    assert [i for s in sections for i in s.shot_indices] == list(range(15))
    assert all(s.duration_s >= MIN_SECTION_S - 1e-9 for s in sections)
    assert sections[-1].end_s == bounds[-1]


def test_short_shot_after_a_fade_joins_the_next_shot():
    shots = _shots([0, 4, 5, 10])
    transitions = [Transition("fade", 3.5, 4.5, 100, 1.0)] + _cuts([5], strength=0.8)
    sections = build_sections(shots, transitions)
    assert [s.shot_indices for s in sections] == [[0], [1, 2]]


def test_look_alike_neighbours_join_but_not_across_a_fade():
    same = (0.6, 0.2, 0.3)
    shots = _shots([0, 3, 6, 9], looks=[same, same, same])
    assert [s.shot_indices for s in build_sections(shots, _cuts([3, 6], strength=0.2))] == [[0, 1, 2]]
    transitions = [Transition("fade", 2.5, 3.5, 75, 0.9)] + _cuts([6], strength=0.2)
    assert [s.shot_indices for s in build_sections(shots, transitions)] == [[0], [1, 2]]


def test_description_names_look_and_content():
    shots = _shots([0, 5], looks=[(0.1, 0.6, 0.05)])
    section = build_sections(shots, [])[0]
    assert section.description == "dark, warm, still: thing0"


def _long_clip(n_shots: int, seed: int = 0):
    """An hour-long clip's worth of shots: random lengths, looks and image features, mostly
    hard cuts with some fades and dissolves."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shots, transitions, t = [], [], 0.0
    for i in range(n_shots):
        d = float(rng.uniform(0.5, 6.0))
        shots.append(Shot(index=i, start_s=t, end_s=t + d, brightness=float(rng.random()),
                          saturation=float(rng.random()), colour_temperature=float(rng.uniform(-1, 1)),
                          motion=float(rng.random()), labels=[(f"thing{i % 7}", 0.5)],
                          features=[round(float(v), 4) for v in rng.random(64)]))
        t += d
        if i < n_shots - 1:
            kind = str(rng.choice(["cut", "cut", "cut", "fade", "dissolve"]))
            span = 0.0 if kind == "cut" else 0.4
            transitions.append(Transition(kind=kind, start_s=t - span / 2, end_s=t + span / 2,
                                          frame=int(t * 25), strength=float(rng.random())))
    return shots, transitions


def test_an_hour_of_shots_is_grouped_without_asking_the_same_question_twice(monkeypatch):
    """About a thousand shots (an hour of video): the merging used to work out the look and
    image distance of the same two groups again at every step, and to scan every transition
    for every boundary, which took 10 s of CPU after the video was read. Each pair of groups
    is now compared once."""
    from robin_studio.analysis import storyboard

    calls = []
    real = storyboard._distance
    monkeypatch.setattr(storyboard, "_distance", lambda a, b: calls.append(1) or real(a, b))
    shots, transitions = _long_clip(1000)
    sections = build_sections(shots, transitions)
    assert sum(len(s.shot_indices) for s in sections) == 1000
    # Each merge makes one new group and so at most two new neighbour pairs (a few more in the
    # first pass, which compares a short group with both neighbours).
    assert len(calls) <= 4 * len(shots)


def test_boundaries_are_the_transition_listed_last_within_a_millisecond():
    from robin_studio.analysis.storyboard import _Boundaries

    shots, transitions = _long_clip(200, seed=3)
    # two transitions at the same moment: the later-listed one counts
    transitions.insert(10, Transition(kind="fade", start_s=transitions[10].time_s,
                                      end_s=transitions[10].time_s, frame=0, strength=0.123))
    boundary_at = _Boundaries(transitions)

    def scanned(time_s):
        best = ("", 0.0)
        for t in transitions:
            if abs(t.time_s - time_s) < 1e-3:
                best = (t.kind, t.strength)
        return best

    for time_s in [s.start_s for s in shots] + [s.end_s + 5e-4 for s in shots] + [1e9]:
        assert boundary_at(time_s) == scanned(time_s)
