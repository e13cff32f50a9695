"""`robin-studio corpus`: build, extend and inspect the training corpus.

    robin-studio corpus build [--hours N] [--seed S] [--commercial-only] [--without GROUPS] [--out DIR]
    robin-studio corpus add DIR [--licence TEXT]    copy a folder of General MIDI files in
    robin-studio corpus stats [--corpus DIR] [--listen N] [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from robin_studio.errors import RobinError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="corpus_command", metavar="ACTION")
    b = sub.add_parser("build", help="parse the installed music and arrange it into the corpus")
    b.add_argument("--hours", type=float, default=100.0, help="how much music to make (default 100)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--commercial-only", action="store_true",
                   help="leave out sources licensed for non-commercial use only (Essen...)")
    b.add_argument("--out", type=Path, default=None, help="corpus folder (default: the cache)")
    b.add_argument("--without", default="",
                   help="comma-separated source groups to leave out, e.g. openmsx (GPL-2.0-only "
                        "MIDI files: leave them out of a corpus for weights you ship under "
                        "GPL-3.0-or-later)")
    b.add_argument("--workers", type=int, default=2, help="parallel parsers (default 2)")
    b.add_argument("--groups", default=None,
                   help="comma-separated music21 corpus groups (default: tune books, Essen, "
                        "chorales, quartets)")
    a = sub.add_parser("add", help="add a folder of General MIDI files to your corpus")
    a.add_argument("folder", type=Path)
    a.add_argument("--licence", default="user's own",
                   help="the licence of these files, recorded with every example made from them")
    s = sub.add_parser("stats", help="counts, hours, histograms; renders a few examples to WAV")
    s.add_argument("--corpus", type=Path, default=None)
    s.add_argument("--listen", type=int, default=4, help="how many random examples to render (0: none)")
    s.add_argument("--out", type=Path, default=None, help="where to write the WAVs")
    s.add_argument("--seed", type=int, default=0)


_last_progress: list = [None]


def _progress(stage: str, fraction: float) -> None:
    shown = (stage, int(fraction * 100))
    if shown != _last_progress[0]:  # one update per percent
        _last_progress[0] = shown
        print(f"\r{stage}: {shown[1]:3d}%", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    cmd = getattr(args, "corpus_command", None)
    if cmd == "build":
        from robin_studio.train.corpus.dataset import build_corpus
        groups = [g for g in args.groups.split(",") if g] if args.groups else None
        info = build_corpus(args.out, hours=args.hours, seed=args.seed,
                            allow_noncommercial=not args.commercial_only, workers=args.workers,
                            progress=_progress, groups=groups,
                            without=[g for g in args.without.split(",") if g])
        print(file=sys.stderr)
        print(f"corpus: {sum(info.n_examples.values())} examples, {info.hours:.1f} h in "
              f"{len(info.hours_per_style)} styles -> {info.out_dir}")
        return 0
    if cmd == "add":
        return _add(args.folder, args.licence)
    if cmd == "stats":
        from robin_studio.train.corpus.stats import print_stats
        return print_stats(args.corpus, listen=args.listen, out_dir=args.out, seed=args.seed)
    raise RobinError("Say what to do with the corpus.",
                     "Use one of: robin-studio corpus build | add DIR | stats")


def _add(folder: Path, licence: str) -> int:
    from robin_studio.score.midi_io import read_midi
    from robin_studio.train.corpus.build import user_midi_dir
    from robin_studio.train.corpus.stats import describe_score

    folder = folder.expanduser()
    if not folder.is_dir():
        raise RobinError(f"Not a folder: {folder}", "Give a folder that holds .mid or .midi files.")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    if not files:
        raise RobinError(f"No MIDI files in {folder}.", "Add .mid/.midi files (General MIDI) and try again.")
    dest = user_midi_dir() / folder.name
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "LICENCE.txt").write_text(licence + "\n")
    added = 0
    for f in files:
        try:
            score = read_midi(f)
        except RobinError as err:
            print(f"skipped {f.name}: {err.message}", file=sys.stderr)
            continue
        target = dest / f.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
        added += 1
        print(f"{f.relative_to(folder)}: {describe_score(score)}")
    print(f"added {added} of {len(files)} files to {dest}; run `robin-studio corpus build` to use them")
    return 0 if added else 2
