"""`robin-studio conform PROJECT.robin NEW_VIDEO -o OUT.mp4`: after a re-edit, make the music
the project approved follow the new cut, and write the new video with it.

The project's music is made again exactly as the app made it (same clip, prompt, settings,
seed, hit points, then its regenerated regions in order), the new cut is analysed and matched
shot by shot to the old one, and `generate.conform` keeps the bars under matched shots, fills
new shots and seams with new bars and rebuilds the ending on the new last frame. The conform
report is printed: which shots matched, what moved, which bars are new, which cuts no longer
land on a beat. Never imports torch or Qt.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from robin_studio.errors import RobinError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", help="the .robin project whose music was approved")
    parser.add_argument("video", help="the re-edited video")
    parser.add_argument("-o", "--output", required=True, help="where to write the new video (.mp4)")
    parser.add_argument("--wav", action="store_true", help="also write the music as OUT.wav")
    parser.add_argument("--midi", action="store_true", help="also write the score as OUT.mid")
    parser.add_argument("--baseline", action="store_true",
                        help="use the naive-loop baseline instead of the trained model")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from robin_studio.app.engine_process import to_engine_settings
    from robin_studio.app.project import Project, settings_from_dict
    from robin_studio.commands.score import _Bar
    from robin_studio.generate.conform import conform
    from robin_studio.generate.engine import Scorer
    from robin_studio.timing.hits import HitPoint

    out = Path(args.output)
    video = Path(args.video)
    if out.suffix.lower() != ".mp4":
        raise RobinError(f"The output {out} must end in .mp4.", "Name it like: -o conformed.mp4")
    if not video.exists():
        raise RobinError(f"There is no file {video}.", "Check the path of the re-edited video.")
    if not out.absolute().parent.is_dir():
        raise RobinError(f"The folder {out.absolute().parent} does not exist.",
                         "Choose an existing folder for -o, or create it first.")
    wanted = {"mp4": out}
    if args.wav:
        wanted["wav"] = out.with_suffix(".wav")
    if args.midi:
        wanted["midi"] = out.with_suffix(".mid")
    project = Project.load(args.project)
    # The take in use and the whole-clip take it grew from (app projects keep every take); its
    # music was made for the clip it records (a version 3 project conformed in the app before:
    # the cut before that, not the project's clip).
    first, regenerations = project.approved_takes()
    old_clip = Path(first.clip_path if first is not None and first.clip_path else project.clip_path)
    # Every destination now (never an input: the new or old cut, the project), not after the music.
    from robin_studio.outputs import check_output
    for path in wanted.values():
        check_output(path, inputs=(video, old_clip, args.project), overwrite=args.overwrite)
    if not project.generated:
        raise RobinError("The project has no music yet, so there is nothing to conform.",
                         "Open it in the app and generate the music first.")
    if not old_clip.exists():
        raise RobinError(f"The project's clip {old_clip} is missing.",
                         "Conforming needs the old cut too: put it back where it was.")
    if video.resolve() == old_clip.resolve():
        raise RobinError("The new video is the project's own clip.", "Give the re-edited video.")

    generator = None
    if args.baseline:
        from robin_studio.generate.baseline import NaiveLoopGenerator
        generator = NaiveLoopGenerator()
    scorer = Scorer(generator=generator)
    bar = _Bar(args.quiet)
    t0 = time.perf_counter()
    try:
        old = scorer.analyze(old_clip, progress=bar.stage("analysing the old cut", 15))
        panel = settings_from_dict(first.settings) if first and first.settings else project.settings
        seed = first.seed if first else project.settings.seed
        settings = to_engine_settings(panel, seed)
        # Each take with the markers it was made with (version 3); else the project's.
        marks = first if first is not None and first.hit_points is not None else project
        settings.hit_points = tuple(HitPoint.from_dict(h) for h in marks.hit_points)
        settings.ignored_cuts_s = tuple(marks.ignored_cuts_s or ())
        job = scorer.generate(old, first.prompt if first else project.prompt, seed=seed, settings=settings,
                              progress=bar.stage("the approved music", 25))
        piece = job.result()
        for take in regenerations:
            if take.kind == "retime" and take.hit_points is not None:
                # hit points moved in the app (version 3): the same markers and seed, exactly
                from robin_studio.generate.hitpoints import retime_hits
                retime_hits(scorer, piece, [HitPoint.from_dict(h) for h in take.hit_points],
                            list(take.ignored_cuts_s or ()), seed=take.seed)
            elif take.kind == "retime":
                # A version 2 project recorded neither the markers nor the seed of a
                # re-timing: the project's markers and the take's seed, as the app does.
                from robin_studio.generate.hitpoints import retime_hits
                print(f"note: take {take.number} (hit points re-timed) is made again with the "
                      "project's hit points: a version 2 project does not record a re-timing's "
                      "hit points and seed, so the bars it generated may differ.", file=sys.stderr)
                retime_hits(scorer, piece, settings.hit_points, settings.ignored_cuts_s,
                            seed=take.seed)
            elif take.kind == "conform" and take.clip_path and Path(take.clip_path).exists():
                # conformed in the app (version 3): to the same cut with the same seed
                earlier = scorer.analyze(take.clip_path)
                conform(scorer, piece, earlier, seed=take.seed)
            elif take.kind == "conform":
                raise RobinError("The music in use was already conformed to a re-edit in the app, "
                                 "and that cannot be made again here.",
                                 "Conform in the app (File > Replace Video), or use a take made "
                                 "before the conform.")
            else:
                scorer.regenerate(piece, take.start_s, take.end_s, seed=take.seed,
                                  prompt=take.prompt).result()
        new = scorer.analyze(video, progress=bar.stage("analysing the new cut", 15))
        result = conform(scorer, piece, new, progress=bar.stage("conforming", 30))
        written = []
        span = 15.0 / len(wanted)
        for kind, path in wanted.items():
            written.append(scorer.export(piece, path, video_path=video, kind=kind,
                                         progress=bar.stage(f"writing {kind}", span),
                                         overwrite=args.overwrite))
    finally:
        bar.close()
    for line in result.report.lines():
        print(line)
    print(f"{video.name}: {new.duration_s:.2f} s, {piece.tempo_map.total_bars} bars "
          f"({time.perf_counter() - t0:.1f} s)")
    for path in written:
        print(f"wrote {path}")
    return 0
