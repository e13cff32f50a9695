"""A mutation fuzzer for the paths that read what users bring: video files (probe and decode),
MIDI files (import), project files (load) and prompts (parsing).

Each target starts from seed inputs (small real files made here with PyAV, mido and the
project's own writers, and hand-written prompts), mutates them (bit flips, interesting
bytes, cut, duplicated and spliced chunks, truncation; for JSON and prompts also hostile
values and words), and runs every input in its own process: the harness forks a child per
input (the parent imported everything once, so a fork costs milliseconds) with a time limit
and a memory limit, and sorts the outcome into

- ok            the target returned (the input was read);
- refused       it raised one of the project's own errors (RobinError), with its message;
- crash         the child died of a signal (segfault, abort: "terminate called ...");
- hang          it did not finish within the time limit (killed);
- exception     any other exception (a bug: a traceback a user would see), MemoryError
                included (an input that asks for more than the limit).

Failing inputs are kept under OUT/<target>/ with a line in OUT/findings.tsv. Runs are
reproducible from `--seed`. `--short` is what CI runs (well under a minute); the default is
the long mode, run by hand (niced): the counts go to docs/RELIABILITY.md.

    python -m robin_studio.fuzz --short
    nice -n 10 python -m robin_studio.fuzz --inputs 2000 --out /tmp/robin-fuzz
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = ("media", "midi", "project", "prompt")
TIME_LIMIT_S = {"media": 20.0, "midi": 20.0, "project": 10.0, "prompt": 10.0}
MEMORY_LIMIT_BYTES = 3 * 2**30        # the child's address space; ONNX/FFmpeg need ~1 GB
EXIT_OK, EXIT_REFUSED, EXIT_EXCEPTION = 0, 10, 70   # child exit codes (anything else: a crash)


# ---------------------------------------------------------------------------------- seeds
def _media_seeds(folder: Path) -> list[Path]:
    """Small real clips in the containers users bring, made with PyAV (as the tests do)."""
    import av
    import numpy as np

    seeds = []
    specs = [("h264_faststart.mp4", "libx264", "yuv420p", {"movflags": "faststart"}, {"preset": "ultrafast"}),
             ("h264_tail.mp4", "libx264", "yuv420p", {}, {"preset": "ultrafast"}),
             ("mpeg4.mkv", "mpeg4", "yuv420p", {}, {}),
             ("vp9.webm", "libvpx-vp9", "yuv420p", {}, {"deadline": "realtime", "cpu-used": "8"}),
             ("mjpeg.avi", "mjpeg", "yuvj420p", {}, {})]
    for name, codec, pix, copts, opts in specs:
        path = folder / name
        try:
            with av.open(str(path), "w", options=copts) as out:
                out.metadata["title"] = "seed clip"
                stream = out.add_stream(codec, rate=10)
                stream.width, stream.height, stream.pix_fmt = 64, 48, pix
                stream.options = opts
                audio = out.add_stream("aac", rate=48000) if name.endswith((".mp4", ".mkv")) else None
                for i in range(15):
                    rgb = np.zeros((48, 64, 3), np.uint8)
                    rgb[:, (i * 4) % 64:(i * 4) % 64 + 8] = (255, 128, 0)
                    for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                        out.mux(packet)
                    if audio is not None:
                        frame = av.AudioFrame.from_ndarray(
                            np.zeros((1, 4800), np.float32), format="fltp", layout="mono")
                        frame.sample_rate, frame.pts = 48000, i * 4800
                        for packet in audio.encode(frame):
                            out.mux(packet)
                for packet in stream.encode():
                    out.mux(packet)
                if audio is not None:
                    for packet in audio.encode():
                        out.mux(packet)
            seeds.append(path)
        except Exception:  # noqa: BLE001 - an encoder missing from this FFmpeg: fewer seeds
            path.unlink(missing_ok=True)
    sample = Path(__file__).resolve().parents[2] / "resources" / "sample" / "bigbuckbunny.mp4"
    if sample.is_file():        # real footage: its first 96 KB (header and the first frames)
        head = folder / "bunny_head.mp4"
        head.write_bytes(sample.read_bytes()[:96 * 1024])
        seeds.append(head)
    return seeds


def _midi_seeds(folder: Path) -> list[Path]:
    import mido

    from robin_studio.score.midi_io import write_midi
    from robin_studio.score.tempo_map import TempoMap, TempoSegment
    from robin_studio.score.types import Note, Role, Score, Track

    ours = Score(TempoMap([TempoSegment(0, 8, 96, 96), TempoSegment(8, 8, 96, 120)], beats_per_bar=4),
                 [Track(Role.DRUMS, 0, [Note(b * 0.5, 0.25, 36, 100) for b in range(32)]),
                  Track(Role.BASS, 33, [Note(b, 1.0, 40 + b % 5, 80) for b in range(16)], gain_db=-3, pan=-0.2),
                  Track(Role.MELODY, 73, [Note(b + 0.5, 0.5, 72 + b % 7, 90) for b in range(16)], "flute")],
                 key_tonic=2, key_mode="minor")
    seeds = [write_midi(ours, folder / "ours.mid")]
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000),
                                mido.MetaMessage("time_signature", numerator=3, denominator=4),
                                mido.MetaMessage("key_signature", key="Eb")])
    mid.tracks.append(conductor)
    for ch, prog, base in ((0, 0, 60), (9, 0, 36), (1, 48, 55)):
        t = mido.MidiTrack([mido.Message("program_change", channel=ch, program=prog)])
        for k in range(12):
            t.append(mido.Message("note_on", channel=ch, note=base + k % 5, velocity=90, time=0))
            t.append(mido.Message("note_off", channel=ch, note=base + k % 5, velocity=0, time=240))
        mid.tracks.append(t)
    mid.save(str(folder / "gm.mid"))
    seeds.append(folder / "gm.mid")
    return seeds


def _project_seeds(folder: Path) -> list[Path]:
    from robin_studio.app.project import Project, TakeRecord

    p = Project(clip_path="clip.mp4", prompt="warm piano, 92 bpm", prompt_history=["a", "b"])
    p.settings.tempo_bpm = 92.0
    p.takes.append(TakeRecord(1.0, 5.0, 3, "quiet here"))
    p.selection_s = (1.0, 5.0)
    p.export = {"kind": "mp4", "music_gain_db": -3.0, "duck": True}
    return [p.save(folder / "full.robin"), Project().save(folder / "empty.robin")]


PROMPTS = [
    "warm piano and strings, builds to the end",
    "tense strings, then a warm piano resolve when the sun comes up, 92 bpm in D minor",
    "no drums for the first 20 seconds, drop at the title card, quiet for the last 10 s",
    "lofi hip hop, 85 bpm, no bass, hit at 0:12.4",
    "musique calme au piano, 70 bpm, en ré mineur, sans batterie",
    "ruhige Klaviermusik ohne Schlagzeug, 100 bpm",
    "静かなピアノ音楽、テンポ90",
    "epic orchestral trailer at 140 bpm with a big hit at 1:02 and silence until 0:05",
]


def _prompt_seeds(folder: Path) -> list[Path]:
    out = []
    for i, text in enumerate(PROMPTS):
        path = folder / f"prompt{i}.txt"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


SEEDS = {"media": _media_seeds, "midi": _midi_seeds, "project": _project_seeds,
         "prompt": _prompt_seeds}


# ------------------------------------------------------------------------------ mutations
INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0xFE, 0x40, 0x20]
HOSTILE_JSON = [math.nan, math.inf, -math.inf, -1, 0, 1e308, -1e308, 2**64, 1.5, "", "two",
                "/etc/shadow", "/dev/zero", "../../x", [], {}, [[[]]], None, True, "x" * 5000]
HOSTILE_WORDS = ["0 bpm", "1e9 bpm", "999 bpm", "-5 bpm", "nan bpm", "hit at 99999:99",
                 "hit at 0:00", "quiet for the first 1e9 seconds", "in H# minor", "\x00", "\u202e",
                 "🎹" * 50, "at 0:12.4", "until 5:00", "drop at", "no no no no", "%s%n", "{}[]"]


def _mutate_bytes(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        n = len(b)
        op = rng.randrange(8)
        if n == 0:
            b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
            continue
        i = rng.randrange(n)
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i] = rng.choice(INTERESTING)
        elif op == 2:                                  # a 32-bit field set to an extreme
            b[i:i + 4] = rng.choice((b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff",
                                     b"\x80\x00\x00\x00"))
        elif op == 3:
            del b[i:i + rng.randrange(1, min(4096, n - i) + 1)]
        elif op == 4:
            j = rng.randrange(n)
            b[i:i] = b[j:j + rng.randrange(1, 512)]
        elif op == 5:
            del b[rng.randrange(n // 4, n) if n > 4 else n:]
        elif op == 6 and others:
            other = rng.choice(others)
            j = rng.randrange(len(other)) if other else 0
            b[i:i + rng.randrange(1, 1024)] = other[j:j + rng.randrange(1, 1024)]
        else:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32)))
    return bytes(b)


def _mutate_json(data: bytes, rng: random.Random) -> bytes:
    try:
        doc = json.loads(data)
    except ValueError:
        return _mutate_bytes(data, rng, [])

    def paths(node, prefix=()):
        yield prefix
        if isinstance(node, dict):
            for k, v in node.items():
                yield from paths(v, prefix + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from paths(v, prefix + (i,))

    for _ in range(rng.choice((1, 1, 2, 3))):
        spots = list(paths(doc))
        where = rng.choice(spots)
        value = rng.choice(HOSTILE_JSON)
        if not where:
            doc = value if rng.random() < 0.2 else doc
            continue
        parent = doc
        for key in where[:-1]:
            parent = parent[key]
        if rng.random() < 0.15 and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = value
    text = json.dumps(doc, allow_nan=True)
    return text.encode() if rng.random() < 0.9 else _mutate_bytes(text.encode(), rng, [])


def _mutate_prompt(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "replace")
    for _ in range(rng.choice((1, 2, 3))):
        op = rng.randrange(5)
        words = text.split(" ")
        if op == 0:
            words.insert(rng.randrange(len(words) + 1), rng.choice(HOSTILE_WORDS))
        elif op == 1 and words:
            del words[rng.randrange(len(words))]
        elif op == 2:
            words *= rng.choice((2, 10, 200))
        elif op == 3:
            words.insert(rng.randrange(len(words) + 1),
                         "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 40))))
        else:
            return _mutate_bytes(text.encode("utf-8", "surrogatepass"), rng, [])
        text = " ".join(words)
    return text.encode("utf-8", "surrogatepass")


def mutate(target: str, data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    if target == "project" and rng.random() < 0.7:
        return _mutate_json(data, rng)
    if target == "prompt" and rng.random() < 0.8:
        return _mutate_prompt(data, rng)
    return _mutate_bytes(data, rng, others)


# -------------------------------------------------------------------------------- targets
def _run_media(path: Path) -> None:
    from robin_studio.media.decode import iter_frames
    from robin_studio.media.probe import probe

    info = probe(path)
    for i, _frame in enumerate(iter_frames(path, info=info)):
        if i >= 60:
            break


def _run_midi(path: Path) -> None:
    from robin_studio.render.synth import SAMPLE_RATE, render_stems
    from robin_studio.score.midi_io import playing_seconds, read_midi

    score = read_midi(path)
    if playing_seconds(score) <= 30.0:   # the render path too, on pieces that render quickly
        render_stems(score, SAMPLE_RATE)


def _run_project(path: Path) -> None:
    from robin_studio.app.project import Project

    project = Project.load(path)
    Project.from_dict(project.to_dict())      # what the app's autosave does with it


def _run_prompt(path: Path) -> None:
    from robin_studio.intent.parse import describe_intent, parse_prompt

    text = path.read_bytes().decode("utf-8", "surrogateescape")
    # Without the sentence encoder: its ONNX thread pool does not survive a fork (the rules are
    # what reads numbers, times and words; the encoder only ever sees the first 1000 characters).
    describe_intent(parse_prompt(text, embed=False))


RUNNERS = {"media": _run_media, "midi": _run_midi, "project": _run_project, "prompt": _run_prompt}


def _warm_imports(targets) -> None:
    """Import what the targets use once in the parent, so each forked child starts fast."""
    import robin_studio.app.project  # noqa: F401
    import robin_studio.intent.parse  # noqa: F401
    import robin_studio.media.decode  # noqa: F401
    import robin_studio.media.probe  # noqa: F401
    import robin_studio.render.synth  # noqa: F401
    import robin_studio.score.midi_io  # noqa: F401
    if "midi" in targets:       # the SoundFont once, not per child (no threads of its own)
        from robin_studio.render.synth import load_synth
        load_synth()


# ---------------------------------------------------------------------------------- runner
@dataclass
class Outcome:
    kind: str                 # ok | refused | crash | hang | exception
    detail: str = ""


def run_one(target: str, path: Path, time_limit_s: float) -> Outcome:
    """Run one input in a forked child; classify how it ended."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:                                         # the child
        os.close(read_fd)
        code = EXIT_OK
        try:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            from robin_studio.errors import RobinError
            try:
                RUNNERS[target](path)
            except RobinError:
                code = EXIT_REFUSED        # refused with the project's own message: fine
        except BaseException as err:  # noqa: BLE001 - everything else is a finding
            frames = traceback.extract_tb(err.__traceback__)
            here = next((f for f in reversed(frames) if "robin_studio" in f.filename), frames[-1] if frames else None)
            where = f"{Path(here.filename).name}:{here.lineno} {here.name}" if here else "?"
            os.write(write_fd, f"{type(err).__name__} at {where}: {str(err)[:200]}".encode(errors="replace"))
            code = EXIT_EXCEPTION
        finally:
            try:
                from robin_studio import lifecycle
                lifecycle.shutdown(5.0)
            except BaseException:  # noqa: BLE001
                pass
            os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + time_limit_s
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.002)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_fd)
        return Outcome("hang", f"over {time_limit_s:g} s")
    with os.fdopen(read_fd, "rb") as f:
        detail = f.read().decode(errors="replace")
    if os.WIFSIGNALED(status):
        return Outcome("crash", f"signal {signal.Signals(os.WTERMSIG(status)).name}")
    code = os.WEXITSTATUS(status)
    if code == EXIT_OK:
        return Outcome("ok")
    if code == EXIT_REFUSED:
        return Outcome("refused")
    if code == EXIT_EXCEPTION:
        return Outcome("exception", detail)
    return Outcome("crash", f"exit {code}")


@dataclass
class Report:
    counts: dict[str, Counter] = field(default_factory=dict)
    findings: dict[str, list[str]] = field(default_factory=dict)   # target -> distinct details
    seconds: float = 0.0

    def table(self) -> str:
        lines = ["| target | inputs | read | refused with our error | crashes | hangs | "
                 "non-project exceptions | distinct findings |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for target, c in self.counts.items():
            lines.append(f"| {target} | {sum(c.values())} | {c['ok']} | {c['refused']} | {c['crash']} | "
                         f"{c['hang']} | {c['exception']} | {len(self.findings.get(target, []))} |")
        return "\n".join(lines)


def fuzz(targets=TARGETS, inputs: int = 200, seed: int = 0, out: Path | None = None,
         log=print, time_limits: dict | None = None) -> Report:
    """Run `inputs` mutated inputs per target; returns the counts (and keeps the failures in
    `out`, if given)."""
    limits = {**TIME_LIMIT_S, **(time_limits or {})}
    rng = random.Random(seed)
    report = Report()
    t0 = time.monotonic()
    _warm_imports(targets)
    with tempfile.TemporaryDirectory(prefix="robin-fuzz-") as work:
        work = Path(work)
        for target in targets:
            seed_dir = work / f"seeds-{target}"
            seed_dir.mkdir()
            seeds = [p.read_bytes() for p in SEEDS[target](seed_dir)]
            counts = report.counts.setdefault(target, Counter())
            seen = report.findings.setdefault(target, [])
            suffix = {"media": ".mp4", "midi": ".mid", "project": ".robin", "prompt": ".txt"}[target]
            case = work / f"input{suffix}"
            for i in range(inputs):
                data = seeds[i % len(seeds)] if i < len(seeds) else mutate(target, rng.choice(seeds), rng, seeds)
                case.write_bytes(data)
                outcome = run_one(target, case, limits[target])
                counts[outcome.kind] += 1
                if outcome.kind not in ("ok", "refused"):
                    key = outcome.kind + ": " + outcome.detail.split(": ")[0]
                    if key not in seen:
                        seen.append(key)
                        log(f"{target} #{i}: {outcome.kind}: {outcome.detail[:300]}")
                    if out is not None:
                        keep = out / target
                        keep.mkdir(parents=True, exist_ok=True)
                        name = f"{outcome.kind}-{hashlib.sha1(data).hexdigest()[:12]}{suffix}"
                        (keep / name).write_bytes(data)
                        with open(out / "findings.tsv", "a", encoding="utf-8") as f:
                            f.write(f"{target}\t{i}\t{outcome.kind}\t{name}\t{outcome.detail[:300]}\n")
            log(f"{target}: {dict(counts)}")
    report.seconds = time.monotonic() - t0
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robin_studio.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the CI mode: 12 inputs per target")
    parser.add_argument("--inputs", type=int, default=1000, help="inputs per target (long mode)")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated: " + ", ".join(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep failing inputs here")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    report = fuzz(targets, 12 if args.short else args.inputs, args.seed, args.out,
                  log=lambda line: print(line, file=sys.stderr, flush=True))
    print(report.table())
    print(f"\n{sum(sum(c.values()) for c in report.counts.values())} inputs in {report.seconds:.0f} s")
    bad = sum(c["crash"] + c["hang"] + c["exception"] for c in report.counts.values())
    return 1 if bad else 0
