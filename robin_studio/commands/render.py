"""`robin-studio render SCORE.mid -o OUT.wav`: any MIDI file through the app's sound.

Reads the file (roles guessed per part), renders it with the SoundFont synth in one pass
(the tracks' gains and pans, the players' performance), adds the style's room and bus (and,
with --style, its instruments; a file the app exported brings its piece's style), masters to -14 LUFS with true peak under -1 dBTP, and writes
a 48 kHz WAV (24-bit unless --float): the same chain as the app's preview and export.
--stems also writes one dry WAV per role (they sum to the mix before room and master).
--chain gm-legacy plays it the way it sounded before issue 15.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("midi", type=Path, help="a Standard MIDI File (.mid)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="WAV to write (default: the MIDI file's name with .wav)")
    parser.add_argument("--style", default=None,
                        help="play it with this style's instruments (cinematic, lofi, jazz...); "
                             "default: keep the file's own instruments, mix like 'cinematic'")
    parser.add_argument("--lufs", type=float, default=-14.0, help="loudness target (default -14)")
    parser.add_argument("--soundfont", type=Path, default=None, help="a .sf2/.sf3 General MIDI bank")
    parser.add_argument("--stems", type=Path, default=None, metavar="FOLDER",
                        help="also write one WAV per role into FOLDER")
    parser.add_argument("--chain", choices=("studio", "gm-legacy"), default=None,
                        help="sound chain: studio (default) or gm-legacy, the sound before issue 15 "
                             "(also ROBIN_STUDIO_SOUND_CHAIN)")
    parser.add_argument("--float", action="store_true", help="write 32-bit float WAV")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")


def run(args: argparse.Namespace) -> int:
    from robin_studio.limits import check_input_file, check_number
    from robin_studio.outputs import check_output, remove_stale_partials
    from robin_studio.score.types import ROLES

    if args.chain:
        import os
        os.environ["ROBIN_STUDIO_SOUND_CHAIN"] = args.chain   # palettes, mix and synth read it
    out = args.output or args.midi.with_suffix(".wav")
    # Everything a user can get wrong is refused before any rendering (and the MIDI file, the
    # SoundFont, a device or a FIFO are never written over).
    check_number("lufs", args.lufs)
    check_input_file(args.midi, "MIDI file")
    if args.soundfont is not None:
        check_input_file(args.soundfont, "SoundFont")
    inputs = (args.midi, args.soundfont)
    remove_stale_partials(out.absolute().parent)
    out = check_output(out, inputs=inputs, overwrite=args.overwrite)
    if args.stems:
        check_output(args.stems, inputs=inputs, overwrite=True, folder_ok=True)
        if args.stems.is_dir():
            for role in ROLES:
                check_output(args.stems / f"{role.value}.wav", inputs=inputs, overwrite=args.overwrite)

    from robin_studio.media.export import write_stems, write_wav
    from robin_studio.render.master import loudness_lufs, master, room_and_tone, true_peak_db
    from robin_studio.render.palettes import apply_palette, check_style
    from robin_studio.render.synth import SAMPLE_RATE, load_synth, render_score, render_stems
    from robin_studio.score.midi_io import read_midi

    if args.style is not None:
        try:
            check_style(args.style)
        except ValueError as err:
            print(f"robin-studio render: {err}", file=sys.stderr)
            return 2
    score = read_midi(args.midi)
    for w in score.meta.get("warnings", []):
        print(f"note: {w}", file=sys.stderr)
    if args.style:
        score = apply_palette(score, args.style)
    # A file the app exported names its piece's style: its room and master, as in the app.
    style = args.style or score.meta.get("style")
    synth = load_synth(args.soundfont)
    # One synth pass with the tracks' gains and pans and the style's room and bus: the chain
    # the app's preview and export use (stems, five passes, only when asked for).
    dry = render_score(score, SAMPLE_RATE, synth=synth)
    measured: dict = {}      # the master's own last measurements: no second pass over the piece
    audio = master(room_and_tone(dry, style, SAMPLE_RATE), SAMPLE_RATE, target_lufs=args.lufs, style=style,
                   report=measured)
    written = write_wav(audio, SAMPLE_RATE, out, subtype="FLOAT" if args.float else "PCM_24",
                        overwrite=args.overwrite)
    roles = ", ".join(f"{t.role.value}:{t.program}" for t in score.tracks)
    lufs = measured["lufs"] if "lufs" in measured else loudness_lufs(audio, SAMPLE_RATE)
    peak = measured["true_peak_db"] if "true_peak_db" in measured else true_peak_db(audio)
    print(f"{written}: {len(audio) / SAMPLE_RATE:.1f} s, {lufs:.1f} LUFS, "
          f"true peak {peak:.1f} dBTP ({roles}; {synth.path.name})")
    if args.stems:
        # With the tracks' gains and pans, as the app's stems: they sum to the dry mix.
        stems = render_stems(score, SAMPLE_RATE, synth=synth, mixed=True)
        for p in write_stems(stems, SAMPLE_RATE, args.stems, overwrite=args.overwrite,
                             subtype="FLOAT" if args.float else "PCM_24"):
            print(p)
    return 0
