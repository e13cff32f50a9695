"""`robin-studio corpus`: build, extend and inspect the training corpus.

    robin-studio corpus build [--hours N] [--seed S] [--commercial-only] [--without GROUPS] [--out DIR]
    robin-studio corpus add DIR [--licence TEXT]    copy a folder of General MIDI files in
    robin-studio corpus stats [--corpus DIR] [--listen N] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
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
    a.add_argument("--name", default=None,
                   help="the source's name in the corpus (default: the folder's name)")
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
        return _add(args.folder, args.licence, args.name)
    if cmd == "stats":
        from robin_studio.train.corpus.stats import print_stats
        return print_stats(args.corpus, listen=args.listen, out_dir=args.out, seed=args.seed)
    raise RobinError("Say what to do with the corpus.",
                     "Use one of: robin-studio corpus build | add DIR | stats")


# One added source may not be bigger than this in all (the MIDI files are copied).
MAX_ADD_BYTES = 512 * 2**20
MAX_ADD_FILES = 20_000
_NAME_RE = re.compile(r"^[^/\\\x00]{1,100}$")


def _add(folder: Path, licence: str, name: str | None = None) -> int:
    """Copy a folder of MIDI files into the corpus as one source, all or nothing.

    Every file is checked (read as MIDI, within the limits) in a staging folder inside the
    corpus folder; only when all pass is the staging folder renamed to its final name, so a
    bad file, a full disk or Ctrl+C leaves the corpus as it was. An existing source of the
    same name is never touched (its files, its LICENCE.txt and so its non-commercial flag):
    choose another --name. The destination must resolve inside the corpus folder."""
    from robin_studio.errors import InputError
    from robin_studio.outputs import check_inside
    from robin_studio.score.midi_io import read_midi
    from robin_studio.train.corpus.build import user_midi_dir
    from robin_studio.train.corpus.licence_terms import licence_terms
    from robin_studio.train.corpus.stats import describe_score

    folder = folder.expanduser()
    if not folder.is_dir():
        raise InputError(f"Not a folder: {folder}", "Give a folder that holds .mid or .midi files.")
    source_name = name if name is not None else folder.resolve().name
    if not _NAME_RE.match(source_name) or source_name.startswith("."):
        raise InputError(f"{source_name!r} cannot name a corpus source.",
                         "Give a plain name with --name (no slashes, not starting with a dot).")
    licence = " ".join(str(licence).split())
    if not licence or len(licence) > 2000:
        raise InputError("The licence must be a line of text (at most 2000 characters).",
                         'Say it plainly, e.g. --licence "CC-BY-4.0 Jane Doe".')
    files = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() not in (".mid", ".midi"):
            continue
        if p.is_symlink() or not p.is_file():    # a FIFO would block, a link may lead anywhere
            print(f"not added: {p.relative_to(folder)} is not a regular file", file=sys.stderr)
            continue
        files.append(p)
    if not files:
        raise RobinError(f"No MIDI files in {folder}.", "Add .mid/.midi files (General MIDI) and try again.")
    if len(files) > MAX_ADD_FILES or sum(f.stat().st_size for f in files) > MAX_ADD_BYTES:
        raise InputError(f"{folder} holds {len(files)} MIDI files; at most {MAX_ADD_FILES} "
                         f"({MAX_ADD_BYTES // 2**20} MB) are added at once.", "Add it in parts.")
    root = user_midi_dir()
    root.mkdir(parents=True, exist_ok=True)
    dest = check_inside(root, root / source_name)
    if dest.parent != root.resolve():
        raise InputError(f"{source_name!r} would not be a folder of its own in the corpus.",
                         "Give a plain name with --name.")
    if dest.exists() or dest.is_symlink():
        old = dest / "LICENCE.txt"
        said = old.read_text(errors="replace").strip()[:200] if old.is_file() else "unknown"
        raise InputError(f"The corpus already has a source named {source_name!r} (licence: {said}).",
                         "Its files and licence are kept as they are: choose another name with "
                         "--name, or remove that folder first.")
    terms = licence_terms(licence)
    staging = Path(tempfile.mkdtemp(prefix=".adding-", dir=root))
    try:
        described, bad = [], []
        for f in files:
            rel = f.relative_to(folder)
            try:
                score = read_midi(f)
            except RobinError as err:
                bad.append(f"{rel}: {err.message}")
                continue
            target = check_inside(staging, staging / rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
            described.append(f"{rel}: {describe_score(score)}")
        if bad:
            raise InputError(f"{len(bad)} of {len(files)} MIDI files in {folder} cannot be used, "
                             "so nothing was added:\n  " + "\n  ".join(bad[:20])
                             + ("\n  ..." if len(bad) > 20 else ""),
                             "Fix or remove those files and add the folder again.")
        (staging / "LICENCE.txt").write_text(licence + "\n", encoding="utf-8")
        os.rename(staging, dest)          # the one step that makes the source visible
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for line in described:
        print(line)
    print(f"licence: {licence} ({terms.describe()})")
    if terms.noncommercial:
        print("note: non-commercial: `corpus build --commercial-only` leaves this source out")
    if terms.sharealike or terms.noderivatives:
        print(f"note: {terms.describe()}: check that the licence allows training models on it "
              "and what it asks of what is made from it")
    print(f"added {len(described)} of {len(files)} files to {dest}; "
          "run `robin-studio corpus build` to use them")
    return 0
