"""`robin-studio analyze VIDEO [--json FILE]`: what Robin Studio sees in a clip.

Prints the duration, the shots and storyboard sections, every cut and gradual transition,
the tempo map the music would follow and how far each cut lands from its beat. A progress
bar shows on a terminal for clips longer than a few seconds. `--json` writes the whole
analysis (plus the tempo map) for other tools. Never imports torch or Qt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from robin_studio.errors import ExportError

_PROGRESS_FROM_S = 8.0     # shorter clips finish before a bar is worth drawing


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="the video to analyse")
    parser.add_argument("--json", metavar="FILE", default=None,
                        help="also write the analysis and tempo map as JSON to FILE ('-': stdout, "
                             "the report then goes to stderr)")
    parser.add_argument("--features", action="store_true",
                        help="include the 1280-number image features of each shot in the JSON")
    parser.add_argument("--tempo", type=float, default=None, metavar="BPM",
                        help="fit the cuts at this tempo instead of choosing one")
    parser.add_argument("--bpm-range", type=float, nargs=2, default=(70.0, 140.0),
                        metavar=("LOW", "HIGH"), help="tempo range to choose from (default 70 140)")
    parser.add_argument("--no-cache", action="store_true", help="analyse again even if saved")
    parser.add_argument("--allow-damaged", action="store_true",
                        help="if the picture breaks off part-way, analyse the part before the break")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def _time(seconds: float) -> str:
    # Negative for a first bar that is cut in (it starts before the video).
    sign, seconds = ("-", -seconds) if seconds < -0.005 else ("", max(0.0, seconds))
    minutes = int(seconds // 60)
    return f"{sign}{minutes}:{seconds - 60 * minutes:05.2f}"


class _ProgressBar:
    def __init__(self, enabled: bool) -> None:
        self._bar = None
        self._enabled = enabled

    def __call__(self, fraction: float, message: str) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm import tqdm
            self._bar = tqdm(total=100, unit="%", file=sys.stderr, dynamic_ncols=True,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}")
        self._bar.set_description_str(message.split(" (")[0])
        self._bar.n = round(100 * fraction)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def solve_for(analysis, tempo: float | None, bpm_range: tuple[float, float]):
    """The tempo solution for an analysis (cuts and gradual transitions, sections)."""
    from robin_studio.timing.solver import cut_marks_from_transitions, solve_tempo_map

    return solve_tempo_map(cut_marks_from_transitions(analysis.transitions), analysis.duration_s,
                           bpm_range=tuple(bpm_range), fixed_bpm=tempo,
                           section_starts_s=[s.start_s for s in analysis.sections[1:]],
                           frame_s=1.0 / analysis.fps if analysis.fps else None)


def report_lines(analysis, solution) -> list[str]:
    """The human-readable report."""
    a = analysis
    lines = [f"{Path(a.path).name}: {_time(a.duration_s)} ({a.duration_s:.2f} s), "
             f"{a.width}x{a.height}, {a.fps:.3g} fps, {'with' if a.has_audio else 'no'} sound"]
    if a.damaged_at_s is not None:
        lines.append(f"Warning: the file is damaged; its picture breaks off at {_time(a.damaged_at_s)}, "
                     "so only the part before that was analysed.")
    lines.append(f"\nShots ({len(a.shots)}):")
    for s in a.shots:
        labels = ", ".join(name for name, _ in s.labels[:2])
        lines.append(f"  {s.index + 1:3d}  {_time(s.start_s)}-{_time(s.end_s)}  {s.duration_s:6.2f} s  "
                     f"bright {s.brightness:.2f}  sat {s.saturation:.2f}  temp {s.colour_temperature:+.2f}"
                     f"  motion {s.motion:.2f}  {labels}")
    lines.append(f"\nSections ({len(a.sections)}):")
    for sec in a.sections:
        shots = ", ".join(str(i + 1) for i in sec.shot_indices)
        lines.append(f"  {sec.index + 1:3d}  {_time(sec.start_s)}-{_time(sec.end_s)}  "
                     f"{sec.duration_s:6.2f} s  shots {shots}  {sec.description}")
    lines.append(f"\nCuts and transitions ({len(a.transitions)}):")
    if not a.transitions:
        lines.append("  none: one continuous shot")
    for i, t in enumerate(a.transitions):
        span = (f"{_time(t.start_s)}" if t.kind == "cut"
                else f"{_time(t.start_s)}-{_time(t.end_s)}")
        where = ""
        if solution is not None and i < len(solution.residuals_s):
            beat = solution.cut_beats[i]
            bpb = solution.tempo_map.beats_per_bar
            where = (f"  -> bar {beat // bpb + 1} beat {beat % bpb + 1}, "
                     f"residual {1000 * solution.residuals_s[i]:+.1f} ms")
        lines.append(f"  {i + 1:3d}  {t.kind:8s} {span:17s} frame {t.frame:5d}  "
                     f"strength {t.strength:.2f}{where}")
    lines.append(f"\nVisual beats: {len(a.visual_beats_s)}"
                 + (": " + ", ".join(f"{b:.2f}" for b in a.visual_beats_s[:16])
                    + (" ..." if len(a.visual_beats_s) > 16 else "") if a.visual_beats_s else ""))
    if solution is not None:
        tm = solution.tempo_map
        lines.append(f"\nTempo map: {solution.summary}")
        for seg in tm.segments:
            start_s = tm.seconds_at(seg.start_beat)
            tempo = (f"{seg.start_bpm:.2f} bpm" if abs(seg.end_bpm - seg.start_bpm) < 1e-6
                     else f"{seg.start_bpm:.2f} -> {seg.end_bpm:.2f} bpm")
            lines.append(f"  from {_time(start_s)} (beat {seg.start_beat:g}): {tempo} "
                         f"for {seg.length_beats:g} beats")
        if solution.residuals_s:
            lines.append(f"  largest cut residual: {1000 * solution.max_abs_residual_s:.1f} ms")
    return lines


def run(args: argparse.Namespace) -> int:
    from robin_studio.analysis.analyze import analyze_video
    from robin_studio.errors import InputError
    from robin_studio.limits import check_input_file, check_number
    from robin_studio.media.probe import probe
    from robin_studio.outputs import check_output

    check_input_file(args.video, "video")       # a FIFO would block the decoder
    check_number("tempo", args.tempo)
    low, high = args.bpm_range
    check_number("tempo", low, "--bpm-range")
    check_number("tempo", high, "--bpm-range")
    if not low < high:
        raise InputError(f"--bpm-range {low:g} {high:g}: the first number must be the lower one.",
                         "Give the range as LOW HIGH, e.g. --bpm-range 70 140.")
    if args.json and args.json != "-":           # say so now, not after the analysis
        check_output(args.json, inputs=(args.video,), overwrite=True)
    info = probe(args.video)
    bar = _ProgressBar(not args.quiet and sys.stderr.isatty() and info.duration_s >= _PROGRESS_FROM_S)
    try:
        analysis = analyze_video(args.video, progress=bar, use_cache=not args.no_cache,
                                 allow_damaged=args.allow_damaged, info=info)
    finally:
        bar.close()
    solution = solve_for(analysis, args.tempo, args.bpm_range)
    # With `--json -` stdout carries only the JSON, so tools can read it; the report goes to stderr.
    print("\n".join(report_lines(analysis, solution)),
          file=sys.stderr if args.json == "-" else sys.stdout)
    if args.json:
        data = analysis.to_dict(include_features=args.features)
        if solution is not None:
            data["tempo_map"] = solution.tempo_map.to_dict()
            data["cut_residuals_s"] = solution.residuals_s
            data["cut_beats"] = solution.cut_beats
            data["tempo_summary"] = solution.summary
        text = json.dumps(data, indent=1)
        if args.json == "-":
            print(text)
        else:
            target = Path(args.json)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:   # whole or not at all: a full disk must not leave half a JSON file
                tmp.write_text(text + "\n", encoding="utf-8")
                os.replace(tmp, target)
            except OSError as err:
                tmp.unlink(missing_ok=True)
                raise ExportError(f"Could not write {args.json} ({err.strerror}).",
                                  "Choose a folder you can write to.") from None
            print(f"\nWrote {args.json}")
    return 0
