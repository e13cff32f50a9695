"""Benchmark of rendering and export (the sound/export owner's).

- Synthesis of a 60 s, 5-track score (drums, bass, strings, lead, pad) with TinySoundFont:
  one-shot, streamed in 0.5 s chunks (as the engine does), per-role stems, and the whole
  chain (stems + mix + master), as multiples of real time. Target: >= 20x on 2 cores.
- The same events through FluidSynth (pyfluidsynth + libfluidsynth3), when installed: the
  measurement behind the choice of synthesizer.
- Mastering alone, and a mel spectrogram of an 8 s chunk (target: under 20 ms).
- Export of a 60 s 1080p H.264 clip with stream copy (target: under 2 s).

Times are best of N of wall time and of this process's CPU time (other load on a shared
machine inflates wall time; CPU time counts only our work).

    .venv/bin/python -m robin_studio.bench.bench_render [--quick] [--write]

`--write` replaces the "## Rendering and export" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import random
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from robin_studio.bench import bench_doc
from robin_studio.score.tempo_map import TempoMap, TempoSegment
from robin_studio.score.types import Note, Role, Score, Track

SECTION = "## Rendering and export"
SR = 48000


def bench_score(seconds: float = 60.0, bpm: float = 110.0, seed: int = 0) -> Score:
    """A busy 5-track arrangement: 8ths on drums, quarter bass, 3-note string chords, a
    lead in 8ths, a pad; a tempo ramp in the second half (as video-fitted maps have)."""
    rnd = random.Random(seed)
    beats = int(seconds * bpm / 60) // 4 * 4
    tm = TempoMap([TempoSegment(0, beats / 2, bpm, bpm), TempoSegment(beats / 2, beats / 2, bpm, bpm * 1.08)])
    prog = [0, -3, 5, -5]
    dr, ba, ha, me, tx = [], [], [], [], []
    for b in range(beats):
        root = prog[(b // 4) % 4]
        dr += [Note(b, 0.25, 36 if b % 2 == 0 else 38, 100), Note(b + 0.5, 0.25, 42, 70)]
        ba.append(Note(b, 0.9, 36 + root % 12, 90))
        if b % 4 == 0:
            ha += [Note(b, 4.0, p + root, 70) for p in (60, 64, 67)]
            tx.append(Note(b, 4.0, 48 + root, 60))
        for k in range(2):
            if rnd.random() < 0.75:
                me.append(Note(b + 0.5 * k, 0.5, rnd.choice([72, 74, 76, 79, 81]), rnd.randint(70, 110)))
    return Score(tm, [Track(Role.DRUMS, 0, dr), Track(Role.BASS, 33, ba), Track(Role.HARMONY, 48, ha),
                      Track(Role.MELODY, 73, me), Track(Role.TEXTURE, 89, tx)])


def _best(fn, repeats: int) -> tuple[float, float, object]:
    """(best wall s, best CPU s, last result)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), out


def _fluidsynth_render(score: Score, soundfont: Path) -> tuple[float, float] | None:
    """(wall s, CPU s) for FluidSynth to render the same notes (None if not installed)."""
    try:
        import fluidsynth  # pyfluidsynth; needs libfluidsynth3
    except Exception:
        return None
    from robin_studio.render.synth import score_end_s
    fs = fluidsynth.Synth(samplerate=float(SR), gain=0.3)
    sfid = fs.sfload(str(soundfont))
    ev = []
    for ch, t in enumerate(score.tracks):
        chan = 9 if t.is_drums else ch
        fs.program_select(chan, sfid, 128 if t.is_drums else 0, t.program)
        for n in t.notes:
            ev.append((int(score.tempo_map.seconds_at(n.start_beat) * SR), 1, chan, n.pitch, n.velocity))
            ev.append((int(score.tempo_map.seconds_at(n.end_beat) * SR), 0, chan, n.pitch, 0))
    ev.sort()
    end = int((score_end_s(score) + 2.0) * SR)
    t0, c0 = time.perf_counter(), time.process_time()
    pos = 0
    for s, kind, ch, key, vel in ev + [(end, -1, 0, 0, 0)]:
        if s > pos:
            fs.get_samples(s - pos)
            pos = s
        if kind == 1:
            fs.noteon(ch, key, vel)
        elif kind == 0:
            fs.noteoff(ch, key)
    took = (time.perf_counter() - t0, time.process_time() - c0)
    fs.delete()
    return took


def _make_1080p_clip(path: Path, seconds: float, fps: int = 30) -> Path:
    """A 1080p H.264 clip with a moving bar (ultrafast: building it is not what we time)."""
    import av
    w, h = 1920, 1080
    base = np.zeros((h, w, 3), np.uint8)
    base[:, :, 2] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(fps))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "28"}
        for i in range(int(seconds * fps)):
            img = base.copy()
            x = (i * 16) % (w - 40)
            img[:, x:x + 40] = 255
            for p in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    return path


def run_bench(quick: bool = False) -> dict:
    from robin_studio.media.export import export_mp4
    from robin_studio.render.master import StreamingMaster, master, mix_stems
    from robin_studio.render.spectrogram import mel_spectrogram_image
    from robin_studio.render.synth import (
        DEBIAN_SOUNDFONTS,
        StreamingRenderer,
        load_synth,
        render_score,
        render_stems,
        score_end_s,
    )

    repeats = 2 if quick else 3
    seconds = 20.0 if quick else 60.0
    score = bench_score(seconds)
    audio_s = score_end_s(score) + 2.0
    res: dict = {"score_s": seconds, "audio_s": audio_s, "notes": sum(len(t.notes) for t in score.tracks),
                 "banks": []}
    for bank in [p for p in DEBIAN_SOUNDFONTS if p.is_file()]:
        w0 = time.perf_counter()
        synth = load_synth(bank)
        load_s = time.perf_counter() - w0
        render_score(score, synth=synth)   # warm: level trims, pooled state
        one_w, one_c, dry = _best(lambda: render_score(score, synth=synth), repeats)

        def streamed():
            with StreamingRenderer(score, SR, synth) as r:
                return [r.render_until(t) for t in np.arange(0.5, audio_s + 0.5, 0.5)]
        st_w, st_c, _ = _best(streamed, repeats)
        stems_w, stems_c, stems = _best(lambda: render_stems(score, synth=synth), repeats)
        mix = mix_stems(stems, score.tracks, style="pop")
        mas_w, mas_c, _ = _best(lambda: master(mix, SR, style="pop"), repeats)

        def live():
            sm = StreamingMaster(SR, style="pop")
            return [sm.process(dry[i:i + SR // 2]) for i in range(0, len(dry), SR // 2)]
        live_w, live_c, _ = _best(live, repeats)
        fluid = _fluidsynth_render(score, bank)
        res["banks"].append({
            "bank": bank.name, "load_s": load_s, "one_shot": (one_w, one_c), "streamed": (st_w, st_c),
            "stems": (stems_w, stems_c), "master": (mas_w, mas_c), "live_master": (live_w, live_c),
            "chain": (stems_w + mas_w, stems_c + mas_c), "fluidsynth": fluid})

    res["chains"] = bench_chains(score, repeats)
    res["process"] = bench_render_process(seconds)

    chunk = dry[: 8 * SR] if len(dry) >= 8 * SR else np.resize(dry, (8 * SR, 2))
    mel_spectrogram_image(chunk, SR)
    spec = []
    for _ in range(30 if quick else 100):
        t0 = time.perf_counter()
        mel_spectrogram_image(chunk, SR)
        spec.append(time.perf_counter() - t0)
    res["spectrogram_ms"] = (min(spec) * 1000, statistics.median(spec) * 1000)

    clip_s = 10.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as d:
        clip = _make_1080p_clip(Path(d) / "clip.mp4", clip_s)
        music = np.resize(dry, (int(clip_s * SR), 2))
        outs = iter(range(100))
        ex_w, ex_c, _ = _best(lambda: export_mp4(clip, music, SR, Path(d) / f"out{next(outs)}.mp4"), repeats)
        res["export"] = {"clip_s": clip_s, "size_mb": clip.stat().st_size / 1e6, "wall": ex_w, "cpu": ex_c}
    return res


def bench_chains(score: Score, repeats: int) -> dict:
    """The "studio" sound chain (second bank, players' expression, sidechain) beside
    "gm-legacy" (FluidR3 alone, notes as written) on the same score, the latter being the raw
    synth reference; each also through room, bus and master (render + master), and the time
    to a first live chunk (two bars, mastered). Cold start: a new process loading the banks;
    warm: this process rendering again (banks pooled)."""
    import subprocess

    from robin_studio.render.master import StreamingMaster, master, room_and_tone
    from robin_studio.render.palettes import apply_palette
    from robin_studio.render.synth import StreamingRenderer, load_synth, render_score

    out: dict = {}
    styled = apply_palette(score, "edm")   # a second-bank lead and the sidechain pump
    synth = load_synth()
    for chain in ("gm-legacy", "studio"):
        render_score(styled, synth=synth, chain=chain)      # warm
        syn_w, syn_c, dry = _best(lambda: render_score(styled, synth=synth, chain=chain), repeats)
        full_w, full_c, _ = _best(lambda: master(room_and_tone(render_score(styled, synth=synth, chain=chain), "edm"),
                                                 SR, style="edm"), repeats)

        def first_chunk():
            with StreamingRenderer(styled, SR, synth, chain=chain) as r:
                return StreamingMaster(SR, style="edm").process(r.render_until(styled.tempo_map.bar_start_s(2)))
        fc_w, fc_c, _ = _best(first_chunk, repeats)
        out[chain] = {"synth": (syn_w, syn_c), "render_master": (full_w, full_c), "first_chunk": (fc_w, fc_c)}
    # Cold: a new process finds the banks and reads their preset tables, then builds the
    # parts (the presets each role plays, over its keys) that the piece's renderer needs.
    code = ("import time; t=time.perf_counter(); from robin_studio.render import synth as s; "
            "from robin_studio.bench.bench_render import bench_score; "
            "from robin_studio.render.palettes import apply_palette; "
            "sc = apply_palette(bench_score(60.0), 'edm'); a=time.perf_counter(); syn = s.load_synth(); "
            "b=time.perf_counter(); r = s.StreamingRenderer(sc, synth=syn); c=time.perf_counter(); "
            "r.close(); print(b-a, c-b, sum(len(L.wanted) for L in r._layers))")
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    try:
        index_s, parts_s, presets = (float(x) for x in cold.stdout.split())
    except ValueError:
        index_s = parts_s = presets = float("nan")
    out["cold"] = {"index_s": index_s, "parts_s": parts_s, "presets": presets}
    return out


def bench_render_process(seconds: float, rounds: int = 3) -> dict:
    """`robin-studio render` of a MIDI file as a whole process, beside a raw TinySoundFont
    process rendering the same notes (load the bank, play the events, write nothing), run
    in turns `rounds` times: the best wall and CPU time (user + system of the child) of each,
    and the load average before and after."""
    import resource
    import subprocess

    from robin_studio.score.midi_io import write_midi

    def timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), run

    score = bench_score(seconds)
    load_before = os.getloadavg()[0]
    ours, raw, ok, err = [], [], True, ""
    with tempfile.TemporaryDirectory() as d:
        mid = write_midi(score, Path(d) / "bench.mid")
        raw_code = (
            "import sys, numpy as np, mido\n"
            "from tinysoundfont import _tinysoundfont as tsf\n"
            "sf = tsf.SoundFont('/usr/share/sounds/sf2/FluidR3_GM.sf2'); sf.set_output(tsf.OutputMode.StereoInterleaved, 48000, -6.0)\n"
            "t = 0.0; ev = []\n"
            "for m in mido.MidiFile(sys.argv[1]):\n"
            "    t += m.time\n"
            "    if m.type in ('note_on', 'note_off', 'program_change'): ev.append((t, m))\n"
            "pos = 0\n"
            "for t, m in ev:\n"
            "    n = int(t * 48000) - pos\n"
            "    if n > 0: sf.render(np.zeros((n, 2), np.float32), False); pos += n\n"
            "    if m.type == 'program_change': sf.channel_set_preset_number(m.channel, m.program, m.channel == 9)\n"
            "    elif m.type == 'note_on' and m.velocity: sf.channel_note_on(m.channel, m.note, m.velocity / 127)\n"
            "    else: sf.channel_note_off(m.channel, m.note)\n"
            "sf.render(np.zeros((96000, 2), np.float32), False)\n")
        render = [sys.executable, "-m", "robin_studio", "render", str(mid), "-o", str(Path(d) / "o.wav"), "--overwrite"]
        subprocess.run(render, capture_output=True, timeout=600)      # warm: the banks' measures cached
        for _ in range(rounds):
            w, c, _ = timed([sys.executable, "-c", raw_code, str(mid)])
            raw.append((w, c))
            w, c, run = timed(render)
            ours.append((w, c))
            ok, err = ok and run.returncode == 0, err or run.stderr[-300:]
    return {"seconds": seconds, "ours_s": min(w for w, _ in ours), "ours_cpu_s": min(c for _, c in ours),
            "raw_s": min(w for w, _ in raw), "raw_cpu_s": min(c for _, c in raw), "rounds": rounds,
            "load_before": load_before, "load_after": os.getloadavg()[0], "ok": ok, "stderr": err}


def _machine() -> str:
    cpu = bench_doc.cpu_model()
    try:
        load = ", load average %.1f during the run" % os.getloadavg()[0]
    except OSError:
        load = ""
    return f"{cpu}, {os.cpu_count()} cores{load}"


def to_markdown(r: dict) -> str:
    a = r["audio_s"]
    x = lambda pair: f"{a / pair[0]:.0f}x wall, {a / pair[1]:.0f}x CPU"  # noqa: E731
    L = [SECTION, "",
         f"Machine: {_machine()}. Date: {_dt.date.today().isoformat()}. "
         f"`python -m robin_studio.bench.bench_render`; best of several runs, wall time and this "
         f"process's CPU time (the machine is shared, so wall time carries other people's load).", "",
         f"Score: {r['score_s']:.0f} s, 5 tracks (drums, bass, strings, lead, pad), {r['notes']} notes, "
         f"a tempo ramp; {a:.1f} s of audio with the release tail. Target: render at least 20x real time.", "",
         "| bank | load | one-shot synth | streamed (0.5 s chunks) | stems (one pass, per role) | master | live master (0.5 s chunks) | stems + mix + master | FluidSynth, same notes |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for b in r["banks"]:
        fl = x(b["fluidsynth"]) if b["fluidsynth"] else "not installed"
        L.append(f"| {b['bank']} | {b['load_s']:.1f} s | {x(b['one_shot'])} | {x(b['streamed'])} | "
                 f"{x(b['stems'])} | {x(b['master'])} | {x(b['live_master'])} | {x(b['chain'])} | {fl} |")
    speedups = ", ".join(f"{b['fluidsynth'][1] / b['one_shot'][1]:.1f}x less CPU with {b['bank']}"
                         for b in r["banks"] if b["fluidsynth"]) or "FluidSynth not installed for this run"
    if "chains" in r:
        c = r["chains"]
        ref = c["gm-legacy"]["synth"]
        L += ["", "Sound chains on the same score in one run, styled as edm (a MuseScore_General lead, the "
              "sidechain pump, the players' expression in \"studio\"); the raw synth reference is \"gm-legacy\" "
              "(FluidR3 alone, notes as written):", "",
              "| chain | synth | vs raw synth (CPU) | render + room + master | first chunk (2 bars, mastered) |",
              "|---|---:|---:|---:|---:|"]
        for name in ("gm-legacy", "studio"):
            v = c[name]
            L.append(f"| {name} | {x(v['synth'])} | {v['synth'][1] / ref[1]:.2f} | {x(v['render_master'])} | "
                     f"{v['first_chunk'][0] * 1000:.0f} ms wall, {v['first_chunk'][1] * 1000:.0f} ms CPU |")
        L += ["", f"Cold start (a new process): reading the banks' preset tables takes {c['cold']['index_s']:.2f} s, "
              f"loading the parts the edm-styled score plays ({c['cold']['presets']:.0f} presets, each over its "
              f"role's keys, from FluidR3_GM and the MuseScore_General subset: render.bank_subset.BankIndex) "
              f"{c['cold']['parts_s']:.2f} s; warm (same process) the parts are pooled and cost nothing more."]
    if "process" in r:
        pr = r["process"]
        L += ["", f"`robin-studio render` of a {pr['seconds']:.0f} s 5-track MIDI file as a whole process "
              f"(best of {pr['rounds']}, in turns with the reference): {pr['ours_s']:.2f} s wall, "
              f"{pr['ours_cpu_s']:.2f} s CPU (target: under 3 s wall); a raw TinySoundFont process playing "
              f"the same notes: {pr['raw_s']:.2f} s wall, {pr['raw_cpu_s']:.2f} s CPU (ratio "
              f"{pr['ours_s'] / max(pr['raw_s'], 1e-9):.2f} wall, {pr['ours_cpu_s'] / max(pr['raw_cpu_s'], 1e-9):.2f} "
              f"CPU). Load average {pr['load_before']:.1f} before, {pr['load_after']:.1f} after."
              + ("" if pr["ok"] else f" The render failed: {pr['stderr']}")]
    mn, md = r["spectrogram_ms"]
    e = r["export"]
    L += ["",
          f"Mel spectrogram of an 8 s chunk (64 bands, 375 columns): best {mn:.1f} ms, median {md:.1f} ms "
          f"(target: under 20 ms).", "",
          f"Export of a {e['clip_s']:.0f} s 1080p H.264 clip ({e['size_mb']:.1f} MB) to MP4 with the picture "
          f"stream copied and the music encoded as AAC: {e['wall']:.2f} s wall, {e['cpu']:.2f} s CPU "
          f"(target: under 2 s).", "",
          "Why TinySoundFont: on the same notes it renders faster than FluidSynth "
          f"({speedups}), ships as a self-contained wheel on Linux, Windows and macOS (FluidSynth needs "
          "the system library libfluidsynth3), and renders deterministically in 64-sample blocks, "
          "which is what makes streamed chunks equal the one-shot render sample for sample. "
          "FluidSynth's built-in reverb and chorus are not needed: the mix adds its own with pedalboard. "
          "Default bank: FluidR3_GM.sf2 (stereo, fuller); FluidR3Mono_GM.sf3 renders faster and is "
          "the fallback.", ""]
    return "\n".join(L)


def write_section(markdown: str, path: Path | None = None) -> Path:
    """Replace (or append) this benchmark's section of docs/BENCHMARKS.md."""
    return bench_doc.write_section(SECTION, markdown, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a 20 s score and a 10 s clip")
    ap.add_argument("--write", action="store_true", help="update docs/BENCHMARKS.md")
    args = ap.parse_args(argv)
    md = to_markdown(run_bench(quick=args.quick))
    print(md)
    if args.write:
        print(f"wrote {write_section(md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
