"""Which bank plays which instrument best: a survey by an independent listener.

`python -m robin_studio.render.bank_survey [--listener VENV] [--out FILE]` plays the same
short phrase per instrument (a piano progression, sustained strings, guitar arpeggios, a
synth lead, a drum groove...) through every candidate SoundFont installed here, masters each
to -14 LUFS, and asks MusiCNN (trained on MagnaTagATune's real recordings, run by
`robin_studio.eval.listener` in its own venv) what it hears. A bank scores for an instrument
by the probability the tagger gives that instrument's tags, and whether one of them is among
its top five. Beside it: the load time of each bank, and its spectral centroid and
crest factor per phrase (so that a choice can be read without the listener too).

The measured table is written to `resources/SOUNDS.md`; `render.palettes.BANK_FOR` records
the choice. Nothing here runs on the scoring path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track

SR = 48000
CANDIDATE_BANKS = {
    "fluidr3": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    "musescore": Path("/usr/share/sounds/sf3/MuseScore_General_Full.sf3"),
}
CHORDS = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)] * 2      # I vi IV V, twice


def _phrase(kind: str, program: int, role: Role) -> Score:
    """A 16-bar-ish phrase (16 s at 120 bpm, 32 beats) idiomatic for `kind`."""
    notes: list[Note] = []
    beats = 32
    if kind == "chords":            # held chords, a bar each, with a melody over them
        for i, ch in enumerate(CHORDS):
            for p in ch:
                notes.append(Note(4 * i, 3.9, p, 80))
            for j, step in enumerate((0, 2, 4, 2)):
                notes.append(Note(4 * i + j, 0.95, ch[0] + 12 + step, 92))
    elif kind == "sustain":         # slow held chords
        for i, ch in enumerate(CHORDS):
            for p in ch:
                notes.append(Note(4 * i, 4.0, p, 85))
            notes.append(Note(4 * i, 4.0, ch[0] - 12, 85))
    elif kind == "arpeggio":        # fingerpicked
        for i, ch in enumerate(CHORDS):
            pattern = (ch[0] - 12, ch[1], ch[2], ch[0] + 12, ch[2], ch[1], ch[2], ch[0] + 12)
            for j, p in enumerate(pattern):
                notes.append(Note(4 * i + 0.5 * j, 1.0, p - 12 if program == 25 else p, 88))
    elif kind == "lead":            # a tune
        tune = (72, 74, 76, 79, 76, 74, 72, 71, 69, 71, 72, 74, 72, 67, 69, 71)
        for j, p in enumerate(tune * 2):
            notes.append(Note(j, 0.9, p, 95))
    elif kind == "groove":          # rock groove, 8th hats
        for b in range(beats):
            notes.append(Note(b, 0.2, 42, 80 if b % 1 == 0 else 60))
            notes.append(Note(b + 0.5, 0.2, 42, 60))
            if b % 2 == 0:
                notes.append(Note(b, 0.2, 36, 110))
            else:
                notes.append(Note(b, 0.2, 38, 105))
    return Score(TempoMap.constant(120.0, beats + 4), [Track(role, program, notes)])


# instrument -> (phrase kind, GM program or kit, role, tags that name it in MagnaTagATune)
INSTRUMENTS = {
    "piano": ("chords", 0, Role.HARMONY, ["piano"]),
    "electric piano": ("chords", 4, Role.HARMONY, ["piano"]),
    "strings": ("sustain", 48, Role.HARMONY, ["strings", "violin", "cello"]),
    "violin": ("lead", 40, Role.MELODY, ["violin", "strings"]),
    "cello": ("sustain", 42, Role.BASS, ["cello", "strings"]),
    "acoustic guitar": ("arpeggio", 25, Role.HARMONY, ["guitar"]),
    "nylon guitar": ("arpeggio", 24, Role.HARMONY, ["guitar"]),
    "flute": ("lead", 73, Role.MELODY, ["flute"]),
    "synth lead": ("lead", 81, Role.MELODY, ["synth", "electronic", "techno"]),
    "synth pad": ("sustain", 89, Role.TEXTURE, ["synth", "ambient", "new age"]),
    "harp": ("arpeggio", 46, Role.HARMONY, ["harp"]),
    "drum kit": ("groove", 0, Role.DRUMS, ["drums", "beat", "beats", "rock"]),
    "overdriven guitar": ("chords", 29, Role.HARMONY, ["guitar", "rock", "metal"]),
    "distortion guitar": ("lead", 30, Role.MELODY, ["guitar", "rock", "metal"]),
    "clean electric guitar": ("arpeggio", 27, Role.HARMONY, ["guitar"]),
    "brass section": ("chords", 61, Role.HARMONY, ["brass", "trumpet", "horn"]),
    "choir": ("sustain", 52, Role.TEXTURE, ["choir", "choral", "voice"]),
    "electric bass": ("lead", 33, Role.BASS, ["bass"]),
}


def _features(audio: np.ndarray) -> tuple[float, float]:
    """(spectral centroid Hz, crest factor dB) of a mono fold-down."""
    y = audio.mean(axis=1).astype(np.float64)
    spec = np.abs(np.fft.rfft(y[: 1 << 19]))
    freqs = np.fft.rfftfreq(min(len(y), 1 << 19), 1 / SR)
    centroid = float((spec * freqs).sum() / max(spec.sum(), 1e-12))
    crest = float(20 * np.log10(np.abs(y).max() / max(np.sqrt(np.mean(y ** 2)), 1e-12)))
    return centroid, crest


def survey(listener_venv: Path | None = None, only: list[str] | None = None) -> tuple[list[dict], dict[str, float]]:
    from robin_studio.render.master import master
    from robin_studio.render.synth import Synth, render_score

    rows: list[dict] = []
    loads: dict[str, float] = {}
    audios: list[tuple[np.ndarray, int]] = []
    for bank, path in CANDIDATE_BANKS.items():
        if not path.is_file():
            continue
        t0 = time.perf_counter()
        synth = Synth(path, measure_palettes=False)
        loads[bank] = time.perf_counter() - t0
        for name, (kind, program, role, tags) in INSTRUMENTS.items():
            if only and name not in only:
                continue
            score = _phrase(kind, program, role)
            dry = render_score(score, SR, synth=synth, level_trims=False)
            out = master(dry, SR)
            centroid, crest = _features(out)
            rows.append({"bank": bank, "instrument": name, "tags": tags, "centroid": centroid, "crest": crest})
            audios.append((out, SR))
    listener = None
    if listener_venv is not None:
        from robin_studio.eval.listener import Listener
        listener = Listener.find(listener_venv)
    if listener is not None:
        for row, heard in zip(rows, listener.listen_audio(audios)):
            row["p"] = max(heard.probs.get(t, 0.0) for t in row["tags"])
            row["top5"] = [t for t, _ in heard.top(5)]
            row["hit"] = any(t in row["top5"] for t in row["tags"])
    return rows, loads


def as_markdown(rows: list[dict], loads: dict[str, float]) -> str:
    banks = list(dict.fromkeys(r["bank"] for r in rows))
    lines = ["| instrument | " + " | ".join(f"{b}: p(tag), top 5" for b in banks) + " | centroid Hz (" + ", ".join(banks) + ") |",
             "|---|" + "---|" * len(banks) + "---|"]
    for name in INSTRUMENTS:
        if not any(r["instrument"] == name for r in rows):
            continue
        cells, cents = [], []
        for b in banks:
            r = next((r for r in rows if r["bank"] == b and r["instrument"] == name), None)
            if r is None:
                cells.append("-")
                continue
            cents.append(f"{r['centroid']:.0f}")
            if "p" in r:
                cells.append(f"{r['p']:.2f}{' (in top 5)' if r['hit'] else ''}; {', '.join(r['top5'])}")
            else:
                cells.append("listener not installed")
        lines.append(f"| {name} ({'/'.join(INSTRUMENTS[name][3])}) | " + " | ".join(cells) + f" | {', '.join(cents)} |")
    lines.append("")
    lines.append("Load time of each bank in this run: " + ", ".join(f"{b} {s:.1f} s" for b, s in loads.items()) + ".")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listener", type=Path, default=None, help="the listener venv (installers/listener.sh)")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--only", nargs="*", default=None, help="instrument names (default: all)")
    args = ap.parse_args(argv)
    rows, loads = survey(args.listener, args.only)
    text = as_markdown(rows, loads)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
