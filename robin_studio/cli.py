"""`robin-studio`: the command line. With no subcommand it opens the app.

Subcommands live one per module in `robin_studio.commands`; each is imported only when it
is used, so `robin-studio --help` and `score` stay fast and never import Qt or torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from robin_studio import __version__, lifecycle
from robin_studio.errors import RobinError

# Exit codes: 0 done, 1 a bug (a traceback: please report it), 2 a problem with the input,
# files or machine (a RobinError, its message says what to do; also argparse's usage errors),
# 130 interrupted (Ctrl+C), 143 stopped by SIGTERM. Partial outputs are removed either way.
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

# name -> (module under robin_studio.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "gui": ("gui", "open the desktop app (the default)"),
    "score": ("score", "score a video and write an MP4 (and WAV, stems, MIDI)"),
    "batch": ("batch", "score many videos (a CSV or a folder), locally or on a Ray cluster"),
    "analyze": ("analyze", "analyse a video: shots, cuts, sections, tempo map"),
    "conform": ("conform", "make a project's approved music follow a re-edited video"),
    "render": ("render", "render a MIDI file with the app's sound and mastering"),
    "corpus": ("corpus", "build, extend and inspect the training corpus"),
    "train": ("train", "train the models from the corpus and export ONNX"),
    "eval": ("evaluate", "evaluate the model against baselines; writes docs/EVAL.md"),
    "bench": ("bench", "measure speed and memory; writes docs/BENCHMARKS.md"),
}


def _load(name: str):
    return importlib.import_module(f"robin_studio.commands.{COMMANDS[name][0]}")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robin-studio", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"robin-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if a in COMMANDS), None)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == wanted:  # only the command in use pays for its imports
            _load(name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    command = args.command or "gui"
    if command != "gui":   # the app keeps the default: Qt's loop would swallow the exception,
        lifecycle.install_signal_handlers()   # and its crash recovery covers a kill anyway
    try:
        module = _load(command)
        if args.command is None:
            args = parser.parse_args([command, *argv])
        return int(module.run(args) or 0)
    except RobinError as err:
        print(f"robin-studio: {err}", file=sys.stderr)
        return EXIT_ERROR
    except lifecycle.Terminated:
        print("robin-studio: stopped (SIGTERM); nothing half-written was left behind", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("robin-studio: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        # Background threads (the image model's ONNX session) end before the interpreter does.
        lifecycle.shutdown()


if __name__ == "__main__":
    sys.exit(main())
