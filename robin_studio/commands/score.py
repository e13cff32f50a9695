"""`robin-studio score VIDEO --prompt TEXT [--seed N] -o OUT.mp4 [--wav] [--stems] [--midi]`:
score a video from the terminal, with a progress bar, and write the scored MP4 (plus the
music as WAV, one WAV per track, and MIDI when asked). Goes through `generate.Scorer` like
the app does; never imports torch or Qt.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from robin_studio.errors import RobinError
from robin_studio.limits import check_input_file, check_number, prompt_note
from robin_studio.outputs import check_output, remove_stale_partials
from robin_studio.score.types import ROLES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="the video to score")
    parser.add_argument("--prompt", "-p", default="",
                        help='what the music should be, e.g. "warm lo-fi piano, no drums, 90 bpm"')
    parser.add_argument("--seed", type=int, default=0, help="another seed gives other music (default 0)")
    parser.add_argument("-o", "--output", required=True,
                        help="where to write the scored video (.mp4)")
    parser.add_argument("--wav", action="store_true", help="also write the music as OUT.wav")
    parser.add_argument("--stems", action="store_true",
                        help="also write one WAV per track into OUT_stems/")
    parser.add_argument("--midi", action="store_true", help="also write the score as OUT.mid")
    parser.add_argument("--music-gain-db", type=float, default=0.0, help="music level in the MP4")
    parser.add_argument("--keep-original-audio", type=float, default=None, metavar="GAIN_DB",
                        help="mix the clip's own sound in at this gain (default: music only)")
    parser.add_argument("--duck", action="store_true",
                        help="lower the music under loud original sound (with --keep-original-audio)")
    parser.add_argument("--tempo", type=float, default=None, help="force a tempo in bpm")
    parser.add_argument("--hit", action="append", default=[], metavar="TIME[:soft]",
                        help="a hit point the music must mark: 12.4 or 0:31.20 (seconds or "
                             "m:ss.ff); strong by default (a downbeat, an accent with a cymbal), "
                             "TIME:soft for an accent only; repeat for more")
    parser.add_argument("--hit-soft", action="append", default=[], metavar="TIME",
                        help="a soft hit point (the same as --hit TIME:soft)")
    parser.add_argument("--ignore-cut", action="append", default=[], metavar="TIME",
                        help="demote the cut at this time: the music does not mark it")
    parser.add_argument("--baseline", action="store_true",
                        help="use the naive-loop baseline instead of the trained model")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


class _Bar:
    """One tqdm bar over the stages (analysis, generation, export), each a share of 100."""

    def __init__(self, quiet: bool) -> None:
        self._bar = None
        if not quiet:
            from tqdm import tqdm
            self._bar = tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {elapsed}",
                             file=sys.stderr, dynamic_ncols=True)
        self._base = 0.0
        self._span = 0.0

    def stage(self, name: str, span: float):
        self._base += self._span
        self._span = span
        if self._bar is not None:
            self._bar.set_description(name)
        return self.update

    def update(self, fraction: float, message: str = "") -> None:
        if self._bar is None:
            return
        target = self._base + self._span * max(0.0, min(1.0, float(fraction)))
        if target > self._bar.n:
            self._bar.update(target - self._bar.n)
        if message:
            self._bar.set_postfix_str(message[:40], refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self.update(1.0)
            self._bar.close()


def run(args: argparse.Namespace) -> int:
    from robin_studio.generate.engine import GenerationSettings, Scorer

    video = Path(args.video)
    out = Path(args.output)
    if out.suffix.lower() != ".mp4":
        raise RobinError(f"The output {out} must end in .mp4.",
                         "Name the scored video like: -o scored.mp4 (add --wav/--stems/--midi for the rest).")
    if not video.exists():
        raise RobinError(f"There is no file {video}.", "Check the path of the video to score.")
    check_input_file(video, "video")           # a FIFO or device would block the decoder
    check_number("tempo", args.tempo)
    check_number("music_gain_db", args.music_gain_db)
    check_number("original_gain_db", args.keep_original_audio, "--keep-original-audio")
    check_number("seed", args.seed)
    # Every destination now, not after minutes of analysis and music (and never the input).
    remove_stale_partials(out.absolute().parent)
    for kind, path in _outputs(out, args).items():
        if kind == "stems":
            check_output(path, inputs=(video,), overwrite=True, folder_ok=True)
            if path.is_dir():
                for role in ROLES:
                    check_output(path / f"{role.value}.wav", inputs=(video,), overwrite=args.overwrite)
        else:
            check_output(path, inputs=(video,), overwrite=args.overwrite)
    generator = None
    if args.baseline:
        from robin_studio.generate.baseline import NaiveLoopGenerator
        generator = NaiveLoopGenerator()
    # The piece's audio waits for the export in a temporary file beside the output, not in
    # memory (an hour of video is 1.4 GB of mix; media.spool).
    scorer = Scorer(generator=generator, spool_dir=out.absolute().parent)
    _load_generator_meanwhile(scorer)
    note = prompt_note(args.prompt)
    if note:
        print(f"note: {note}", file=sys.stderr)
    from robin_studio.timing.hits import parse_hit, parse_time

    hits = tuple([parse_hit(h) for h in args.hit] + [parse_hit(h, strong=False) for h in args.hit_soft])
    ignored = tuple(parse_time(t) for t in args.ignore_cut)
    from robin_studio.intent.parse import parse_prompt
    from robin_studio.intent.report import report_lines

    for line in report_lines(parse_prompt(args.prompt)):   # before the music starts
        if line != f"note: {note}":                                      # already said above
            print(line, flush=True)
    bar = _Bar(args.quiet)
    t0 = time.perf_counter()
    try:
        analysis = scorer.analyze(video, progress=bar.stage("analysing", 40))
        job = scorer.generate(analysis, args.prompt, seed=args.seed,
                              settings=GenerationSettings(tempo_bpm=args.tempo, hit_points=hits,
                                                          ignored_cuts_s=ignored),
                              progress=bar.stage("composing", 35))
        for _ in job:
            pass
        piece = job.result()
        wanted = _outputs(out, args)
        written = []
        span = 25.0 / len(wanted)
        for kind, path in wanted.items():
            written.append(scorer.export(
                piece, path, video_path=video, kind=kind, music_gain_db=args.music_gain_db,
                original_gain_db=args.keep_original_audio, duck=args.duck,
                progress=bar.stage(f"writing {kind}", span), overwrite=args.overwrite))
    finally:
        bar.close()
    if piece.tempo_advice:
        print(f"note: {piece.tempo_advice}")
    tm = piece.tempo_map
    print(f"{video.name}: {analysis.duration_s:.1f} s, {len(analysis.shots)} shots, "
          f"{tm.total_bars} bars at about {tm.mean_bpm():.0f} bpm in {_key(piece)}, "
          f"music by the {piece.generator_name} ({time.perf_counter() - t0:.1f} s)")
    from robin_studio.generate.hitpoints import hit_report, report_lines

    for line in report_lines(hit_report(piece)):
        print(line)
    for path in written:
        print(f"wrote {path}")
    return 0


def _load_generator_meanwhile(scorer) -> None:
    """Build the generator's ONNX Runtime sessions on a thread while the prompt is read and
    the analysis loaded: ONNX Runtime builds them without holding the GIL, so on two cores
    they overlap instead of following (about a third of a second before the first chunk).
    A failure is left for the generation itself to raise, with its message."""
    from robin_studio import lifecycle

    def load() -> None:
        try:
            scorer.generator  # noqa: B018 - the property loads it
        except Exception:  # noqa: BLE001 - raised again, readably, when generation asks
            pass

    lifecycle.start_tracked(load, "load the generator")


def _outputs(out: Path, args: argparse.Namespace) -> dict[str, Path]:
    wanted = {"mp4": out}
    if args.wav:
        wanted["wav"] = out.with_suffix(".wav")
    if args.stems:
        wanted["stems"] = out.with_name(out.stem + "_stems")
    if args.midi:
        wanted["midi"] = out.with_suffix(".mid")
    return wanted


def _key(piece) -> str:
    from robin_studio.score.theory import key_name
    return key_name(piece.score.key_tonic, piece.score.key_mode)
