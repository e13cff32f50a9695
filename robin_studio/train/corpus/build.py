"""Build the corpus: parse sources, plan arrangements, make examples, write shards and manifest.

The plan is a pure function of the seed and the parsed pieces: pieces are ordered by a hash of
(seed, piece id); in round r every piece is arranged in one style, the r-th of its own
seed-shuffled style order, until the requested hours are reached. So the corpus grows by
whole rounds of the same tunes in more styles, the styles stay balanced, and a piece's
arrangements all land in the split its id hashes to.

Pieces taken as they are (General MIDI files: openmsx, the user's folders; multi-part classical
works) join as style "original" / "user" examples with roles inferred.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from robin_studio.intent.styles import MOODS
from robin_studio.score.tempo_map import TempoMap
from robin_studio.score.types import Note, Role, Score, Track
from robin_studio.train.corpus.licence_terms import licence_terms
from robin_studio.train.corpus import sources as src_mod
from robin_studio.train.corpus.arrangement import MIN_TUNE_BARS, arrange
from robin_studio.train.corpus.captions import canonical_instrument, make_captions
from robin_studio.train.corpus.controls import compute_controls
from robin_studio.train.corpus.dataset import (CORPUS_FORMAT_VERSION, SPLITS, CorpusInfo, Example,
                                               example_to_line, write_shard)
from robin_studio.train.corpus.parse_all import parse_sources, parsed_cache_dir
from robin_studio.train.corpus.roles import assign_roles
from robin_studio.train.corpus.styles import STYLE_NAMES, STYLES

# Groups parsed by default: enough for >100 h in all styles, parsed cold in well under 30 min
# on 2 cores. The rest of the music21 corpus (Palestrina, Monteverdi, trecento...) can be
# added with groups=... .
DEFAULT_GROUPS = ("oneills1850", "ryansMammoth", "airdsAirs", "miscFolk", "bach", "joplin",
                  "essenFolksong", "mozart", "haydn", "beethoven", "schumann_robert",
                  "schumann_clara")
# Multi-part works also kept as they are, as "original" examples.
ORIGINAL_GROUPS = {"bach", "mozart", "haydn", "beethoven", "schumann_robert", "schumann_clara",
                   "joplin", "openmsx", "user"}
SHARD_EXAMPLES = 400
MAX_ORIGINAL_BARS = 96


def _h(*parts) -> int:
    return int(hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def split_of(piece_id: str) -> str:
    """90/5/5 by a hash of the piece id (not the seed: splits stay put across builds)."""
    r = _h("split", piece_id) % 100
    return "train" if r < 90 else ("valid" if r < 95 else "test")


def user_midi_dir() -> Path:
    from robin_studio.paths import data_dir
    return data_dir() / "corpus_midi"


def _allowed(srcs: list[src_mod.SourceFile], allow_noncommercial: bool,
             without: tuple[str, ...] | list[str]) -> list[src_mod.SourceFile]:
    """The sources a build may use: non-commercial ones only if allowed, no group in `without`."""
    return [s for s in srcs if (allow_noncommercial or not s.noncommercial) and s.group not in without]


def collect_sources(groups: tuple[str, ...] | list[str] | None, allow_noncommercial: bool,
                    include_user: bool = True, max_files: int | None = None,
                    without: tuple[str, ...] | list[str] = ()) -> list[src_mod.SourceFile]:
    srcs = src_mod.openmsx_sources()
    srcs += src_mod.music21_sources(list(groups) if groups is not None else list(DEFAULT_GROUPS))
    if include_user and user_midi_dir().is_dir():
        srcs += user_sources()
    srcs = _allowed(srcs, allow_noncommercial, without)
    if max_files is not None:
        # Keep a spread over groups rather than the first group only.
        by_group: dict[str, list] = defaultdict(list)
        for s in srcs:
            by_group[s.group].append(s)
        picked: list[src_mod.SourceFile] = []
        while len(picked) < max_files and any(by_group.values()):
            for g in list(by_group):
                if by_group[g] and len(picked) < max_files:
                    picked.append(by_group[g].pop(0))
        srcs = picked
    return srcs


def _estimated_pieces(src: src_mod.SourceFile) -> float:
    """Rough number of tune-sized pieces in a file, from its size, without parsing it: an ABC
    tune is about 400 bytes (books hold hundreds); a compressed MusicXML chorale about 4 KB
    (a quartet movement counts as several tunes: it costs as much to parse)."""
    try:
        size = os.path.getsize(src.path)
    except OSError:
        return 1.0
    return max(1.0, size / (400.0 if src.path.endswith(".abc") else 4000.0))


def interleave_groups(srcs: list[src_mod.SourceFile]) -> list[src_mod.SourceFile]:
    """Reorder music21 sources so that any prefix is a spread over the groups (the next file
    comes from the group with the fewest estimated tunes so far); MIDI files stay in front.
    A build that stops parsing early (enough material) then still hears every group."""
    midi = [s for s in srcs if s.kind == "midi"]
    by_group: dict[str, list[src_mod.SourceFile]] = {}
    for s in srcs:
        if s.kind != "midi":
            by_group.setdefault(s.group, []).append(s)
    order = {g: i for i, g in enumerate(by_group)}
    est = {g: 0.0 for g in by_group}
    out: list[src_mod.SourceFile] = []
    while True:
        live = [g for g in by_group if by_group[g]]
        if not live:
            break
        g = min(live, key=lambda g: (est[g], order[g]))
        src = by_group[g].pop(0)
        est[g] += _estimated_pieces(src)
        out.append(src)
    return midi + out


def _estimated_arranged_s(piece: dict) -> float:
    """About how long one arrangement of a tune lasts (two passes, intro and outro, ~100 bpm)."""
    return (2 * min(int(piece["n_bars"]), 32) + 6) * 4 * 60.0 / 100.0


def user_sources() -> list[src_mod.SourceFile]:
    """The user's own MIDI files (added with `robin-studio corpus add`), with the licence
    recorded in each folder's LICENCE.txt (or "user's own" when none was given)."""
    out = []
    root = user_midi_dir()
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        lic_file = folder / "LICENCE.txt"
        lic = lic_file.read_text().strip() if lic_file.exists() else "user's own"
        nc = licence_terms(lic).noncommercial    # SPDX ids (CC-BY-NC-4.0) and common spellings
        out += [src_mod.SourceFile(f"user/{folder.name}/{s.key.split('/', 1)[1]}", s.path, "midi",
                                   "user", lic, nc)
                for s in src_mod.midi_sources(folder, "user", lic, nc)]
    return out


# -- examples ----------------------------------------------------------------------------------

# Mood words of styles.py that the prompt parser does not know, mapped onto its vocabulary
# (intent.styles.MOODS) so Example.moods and Intent.moods mean the same things.
MOOD_CANON = {
    "anxious": "tense", "bold": "powerful", "catchy": "happy", "confident": "powerful",
    "cool": "calm", "earthy": "warm", "elegant": "romantic", "euphoric": "uplifting",
    "feel-good": "happy", "floating": "dreamy", "grand": "epic", "gritty": "intense",
    "heartfelt": "emotional", "homely": "warm", "hypnotic": "dreamy", "inspiring": "uplifting",
    "laid-back": "calm", "majestic": "epic", "meditative": "calm", "mellow": "calm",
    "motivational": "uplifting", "noble": "triumphant", "ominous": "dark", "optimistic": "hopeful",
    "positive": "happy", "pulsing": "energetic", "rustic": "warm", "smooth": "calm",
    "suspenseful": "tense", "upbeat": "energetic", "urban": "groovy",
    "festival": "energetic", "festive": "happy", "sunny": "happy", "retro": "nostalgic",
    "moody": "dark", "menacing": "dark",
}


def canonical_mood(word: str) -> str:
    return MOODS.get(word, MOOD_CANON.get(word, word))


def _moods(style_name: str, mode: str, tempo_bpm: float, rng: random.Random) -> list[str]:
    if style_name not in STYLES:  # a piece as it is: moods from its mode and pace only
        fast = tempo_bpm >= 110
        if mode == "major":
            return ["bright", "energetic"] if fast else ["warm", "calm"]
        return ["dark", "driving"] if fast else ["melancholic", "wistful"]
    pool = list(STYLES[style_name].moods)
    if mode == "minor" and style_name not in ("thriller", "corporate"):
        pool += ["melancholic", "wistful"]
    return rng.sample(pool, 2)


def _example(ex_id: str, piece: dict, score: Score, section_ids: list[int] | None, style: str,
             tempo_bpm: float, programs: dict[str, int], shape: list[str], extra: dict,
             rng: random.Random) -> Example:
    controls = compute_controls(score, section_ids)
    moods = _moods(style, score.key_mode, tempo_bpm, rng)
    roles = [t.role.value for t in score.tracks if t.notes]
    instruments = list(dict.fromkeys(canonical_instrument(t.program, t.role.value)
                                     for t in score.tracks if t.notes))
    captions = make_captions(style=style, moods=moods, tempo_bpm=tempo_bpm,
                             key_tonic=score.key_tonic, key_mode=score.key_mode,
                             programs=programs, roles=roles, shape=shape, rng=rng,
                             all_programs=[t.program for t in score.tracks if not t.is_drums and t.notes])
    return Example(
        # Example.moods speak the prompt parser's mood vocabulary ("cozy" -> "warm"); the
        # captions keep the varied words.
        id=ex_id, score=score, controls=controls, style=style,
        moods=list(dict.fromkeys(canonical_mood(m) for m in moods)),
        tempo_bpm=float(tempo_bpm), key_tonic=score.key_tonic, key_mode=score.key_mode,
        instruments=instruments, source=f"{piece['source']}", licence=piece["licence"],
        noncommercial=bool(piece["noncommercial"]), captions=captions,
        piece_id=piece["piece_id"], split=split_of(piece["piece_id"]),
        extra={"title": piece.get("title", ""), "group": piece.get("group", ""), "shape": shape,
               "programs": programs, **extra})


def arranged_example(piece: dict, style_name: str, seed: int, round_index: int) -> Example | None:
    rng = random.Random(f"{seed}|{piece['piece_id']}|{style_name}|{round_index}")
    arr = arrange(piece, STYLES[style_name], rng)
    if arr is None:
        return None
    section_ids = [p.section_index for p in arr.bars]
    ex_id = f"{piece['piece_id']}@{style_name}.{round_index}"
    return _example(ex_id, piece, arr.score, section_ids, style_name, arr.tempo_bpm, arr.programs,
                    arr.shape, arr.extra, rng)


def original_example(piece: dict, seed: int) -> Example | None:
    """A piece as it is: its own parts with inferred roles, on its own tempo (or 96 bpm)."""
    parts = [p for p in piece["parts"] if p["notes"]]
    if not parts or piece["n_bars"] < MIN_TUNE_BARS:
        return None
    roles = assign_roles(parts)
    # A long piece keeps its last MAX_ORIGINAL_BARS bars: bars_to_end must count down to a
    # real ending (a cadence), and a crop at the front only loses an opening.
    n_bars = min(int(piece["n_bars"]), MAX_ORIGINAL_BARS)
    first = (int(piece["n_bars"]) - n_bars) * 16
    end = n_bars * 16
    tracks = []
    for part, role in zip(parts, roles):
        f = part["notes"]
        notes = [Note((f[i] - first) / 4, min(f[i + 1], end - (f[i] - first)) / 4, f[i + 2],
                      max(1, min(127, f[i + 3])))
                 for i in range(0, len(f), 4) if first <= f[i] < first + end]
        if notes:
            program = 0 if role == "drums" else int(part["program"])
            if not part["is_drum"] and piece["group"] not in ("openmsx", "user") and program == 0:
                # music21 scores rarely name a program: voices become strings or choir.
                program = 52 if piece["group"] == "bach" else 48
            tracks.append(Track(Role(role), program, sorted(notes), name=part.get("name", "")))
    tempo = float(piece.get("tempo_bpm") or 96.0)
    tempo = min(200.0, max(50.0, tempo))
    score = Score(TempoMap.constant(tempo, total_beats=n_bars * 4), tracks,
                  key_tonic=int(piece["key_tonic"]), key_mode=piece["key_mode"])
    programs: dict[str, int] = {}
    for t in tracks:
        programs.setdefault(t.role.value, t.program)
    rng = random.Random(f"{seed}|{piece['piece_id']}|original")
    style = "user" if piece["group"] == "user" else "original"
    return _example(f"{piece['piece_id']}@{style}", piece, score, None, style, tempo, programs,
                    [], {"as_is": True, "n_parts": len(tracks), "first_bar": first // 16}, rng)


# -- the build -------------------------------------------------------------------------------------

def plan_arrangements(pieces: list[dict], seed: int, rounds: int) -> list[tuple[dict, str, int]]:
    """(piece, style, round) in build order. Pieces go in a seed-hashed order; the i-th piece
    of round r gets style (i + r) of a seed-shuffled style list, so any 25 consecutive
    entries cover all 25 styles (even a tiny build is balanced) and no piece meets a style
    twice."""
    order = sorted(pieces, key=lambda p: _h(seed, "order", p["piece_id"]))
    styles = list(STYLE_NAMES)
    random.Random(f"{seed}|styles").shuffle(styles)
    # With fewer pieces than styles, each round moves on by the number of pieces (made
    # coprime with the style count, so a piece still never meets a style twice): a small
    # build then covers every style in a few rounds instead of creeping one style a round.
    step = 1
    if len(order) < len(styles):
        step = next(k for k in range(max(1, len(order)), 10 * len(styles))
                    if math.gcd(k, len(styles)) == 1)
    return [(p, styles[(i + r * step) % len(styles)], r)
            for r in range(min(rounds, len(styles))) for i, p in enumerate(order)]


def _tune_usable(piece: dict) -> bool:
    return "error" not in piece and piece.get("n_bars", 0) >= MIN_TUNE_BARS and any(
        len(p["notes"]) >= 48 for p in piece["parts"] if not p.get("is_drum"))


@dataclass
class Record:
    """What the builder keeps of an example once it is made: its shard line and a summary."""

    id: str
    split: str
    style: str
    duration_s: float
    tempo_bpm: float
    key: str
    licence: str
    noncommercial: bool
    source: str
    piece_id: str
    line: str

    @classmethod
    def of(cls, ex: Example) -> "Record":
        return cls(ex.id, ex.split, ex.style, ex.duration_s, ex.tempo_bpm,
                   f"{ex.key_tonic}:{ex.key_mode}", ex.licence, ex.noncommercial, ex.source,
                   ex.piece_id, example_to_line(ex))


def _make(job: tuple) -> Record | None:
    """Worker: one planned example -> its record (None if the piece cannot be arranged)."""
    kind, piece, style_name, seed, r = job
    try:
        ex = (original_example(piece, seed) if kind == "original"
              else arranged_example(piece, style_name, seed, r))
    except Exception as err:  # noqa: BLE001 - one odd tune must not stop the build
        import sys
        print(f"corpus: skipped {piece.get('piece_id')} in {style_name}: {err!r}", file=sys.stderr)
        return None
    return Record.of(ex) if ex is not None else None


def _run_jobs(jobs: list[tuple], target_s: float, workers: int,
              progress: Callable[[str, float], None] | None, must: int = 0) -> list[Record]:
    """Make examples in plan order until `target_s` seconds of music exist (the first `must`
    jobs are always made). Results are taken in order, so the stopping point (and the
    corpus) does not depend on `workers`."""
    records: list[Record] = []
    total = 0.0
    batch = 64 * max(1, workers)
    pool = None
    if workers > 1:
        import multiprocessing as mp
        import sys
        ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        pool = ctx.Pool(workers)
    finished = False
    try:
        for k in range(0, len(jobs), batch):
            chunk = jobs[k:k + batch]
            results = pool.imap(_make, chunk, chunksize=4) if pool else map(_make, chunk)
            for j, rec in enumerate(results, start=k):
                if total >= target_s and j >= must:
                    break
                if rec is not None:
                    records.append(rec)
                    total += rec.duration_s
            if progress:
                progress("arrange", min(1.0, total / target_s) if target_s > 0 else 1.0)
            if total >= target_s and k + batch >= must:
                break
        finished = True
    finally:
        if pool is not None:
            if finished:
                # Pool.terminate() can wait forever on the task queue's lock while an idle
                # worker holds it (seen here: a build hung after "arrange 100%"). close()
                # lets the workers finish the one chunk in flight and exit on their own.
                pool.close()
            else:
                pool.terminate()
            pool.join()
    return records


def build(out_dir: Path, *, hours: float = 100.0, seed: int = 0, allow_noncommercial: bool = True,
          workers: int = 2, progress: Callable[[str, float], None] | None = None,
          groups: tuple[str, ...] | list[str] | None = None, max_files: int | None = None,
          include_originals: bool = True, include_user: bool = True,
          cache_root: Path | None = None,
          sources: list[src_mod.SourceFile] | None = None,
          material_factor: float | None = 1.2,
          without: tuple[str, ...] | list[str] = ()) -> CorpusInfo:
    """See `dataset.build_corpus`. `sources` replaces the default source list (tests)."""
    t0 = time.time()
    enough_s = None
    if sources is not None:
        srcs = _allowed(sources, allow_noncommercial, without)
    else:
        srcs = interleave_groups(collect_sources(groups, allow_noncommercial, include_user,
                                                 max_files, without))
        if material_factor:
            # Parse (in the interleaved order) only until there are about `material_factor`
            # times the requested hours in single arrangements: a cold build stays short,
            # and the result depends on counts, never on timing.
            enough_s = material_factor * hours * 3600.0
    tunes: list[dict] = []
    originals: list[dict] = []
    parsed_srcs: list[src_mod.SourceFile] = []
    material_s = 0.0
    parsing = parse_sources(srcs, cache_root or parsed_cache_dir(), workers, progress)
    for src, pieces in parsing:
        parsed_srcs.append(src)
        for p in pieces:
            if "error" in p:
                continue
            # The licence comes from the source list as it is now, not from the parse cache.
            p = {**p, "licence": src.licence, "noncommercial": src.noncommercial}
            if src.kind == "midi" or (src.group in ORIGINAL_GROUPS and len(p["parts"]) > 1):
                originals.append(p)
            if src.kind != "midi" and _tune_usable(p):
                tunes.append(p)
                material_s += _estimated_arranged_s(p)
        if enough_s is not None and material_s >= enough_s:
            break
    parsing.close()
    srcs = parsed_srcs
    if not tunes and not originals:
        from robin_studio.errors import RobinError
        raise RobinError("No usable music found to build a corpus from.",
                         "Check that music21 is installed (pip install music21) or add MIDI files "
                         "with: robin-studio corpus add DIR")
    # The user's own music always goes in, first; other pieces taken as they are join the
    # first round of arrangements in seed order, so a small build is a mix, not all originals.
    jobs: list[tuple] = []
    user = [p for p in originals if p["group"] == "user"]
    others = [p for p in originals if p["group"] != "user"] if include_originals else []
    jobs += [("original", p, "user", seed, 0) for p in sorted(user, key=lambda p: p["piece_id"])]
    planned = [("arranged", p, st, seed, r) for p, st, r in plan_arrangements(tunes, seed, len(STYLE_NAMES))]
    first_round = planned[:len(tunes)]
    others.sort(key=lambda p: _h(seed, "order", p["piece_id"]))
    # Spread them evenly through the first round (inserting from the back keeps positions).
    step = len(first_round) / max(1, len(others))
    for k in range(len(others) - 1, -1, -1):
        first_round.insert(int(k * step), ("original", others[k], "original", seed, 0))
    jobs += first_round + planned[len(tunes):]
    records = _run_jobs(jobs, hours * 3600.0, workers, progress, must=len(user))
    return write_corpus(out_dir, records, seed=seed, srcs=srcs,
                        options={"hours": hours, "allow_noncommercial": allow_noncommercial,
                                 "groups": list(groups) if groups else list(DEFAULT_GROUPS),
                                 "max_files": max_files, "include_originals": include_originals,
                                 "material_factor": material_factor,
                                 "without": sorted(without)},
                        build_s=time.time() - t0)


def write_corpus(out_dir: Path, records: list[Record], *, seed: int, srcs: list, options: dict,
                 build_s: float = 0.0) -> CorpusInfo:
    """Write shards, index and manifest into a fresh folder beside `out_dir`, then swap it in
    by renaming, so a training run reading the old corpus never sees a half-written one."""
    import shutil

    final_dir = out_dir
    out_dir = final_dir.with_name(final_dir.name + ".building")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    by_split: dict[str, list[Record]] = {s: [] for s in SPLITS}
    for rec in records:
        by_split[rec.split].append(rec)
    for split, recs in by_split.items():
        # Shuffle within a split so any shard holds a mix of styles (deterministically).
        recs.sort(key=lambda r: _h(seed, "shard", r.id))
        for k in range(0, max(1, len(recs)), SHARD_EXAMPLES):
            write_shard(out_dir / f"{split}-{k // SHARD_EXAMPLES:05d}.jsonl.gz",
                        [r.line for r in recs[k:k + SHARD_EXAMPLES]])
    # One line per example: what a model trained on this corpus saw, and under which licence.
    with open(out_dir / "index.tsv", "w", encoding="utf-8") as f:
        f.write("id\tsplit\tstyle\tseconds\tsource\tlicence\n")
        for rec in sorted(records, key=lambda r: r.id):
            f.write(f"{rec.id}\t{rec.split}\t{rec.style}\t{rec.duration_s:.1f}\t{rec.source}\t{rec.licence}\n")
    manifest = corpus_manifest(records, seed=seed, srcs=srcs, options=options)
    manifest["build_seconds"] = round(build_s, 1)
    path = out_dir / "manifest.json"
    # Written last: a corpus folder with a manifest is complete.
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    if final_dir.exists():
        retired = final_dir.with_name(final_dir.name + ".old")
        if retired.exists():
            shutil.rmtree(retired)
        final_dir.rename(retired)
        out_dir.rename(final_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        out_dir.rename(final_dir)
    out_dir = final_dir
    path = final_dir / "manifest.json"
    return CorpusInfo(out_dir=out_dir, n_examples=manifest["examples_per_split"],
                      hours=manifest["hours"], hours_per_style=manifest["hours_per_style"],
                      n_sources=len(manifest["sources"]), seed=seed, manifest_path=path)


def corpus_manifest(examples: list[Record], *, seed: int, srcs: list, options: dict) -> dict:
    hours_style: Counter = Counter()
    count_style: Counter = Counter()
    per_source: dict[str, dict] = {}
    tempo_hist: Counter = Counter()
    key_hist: Counter = Counter()
    split_counts: Counter = Counter()
    split_hours: Counter = Counter()
    licences: Counter = Counter()
    for ex in examples:
        h = ex.duration_s / 3600.0
        hours_style[ex.style] += h
        count_style[ex.style] += 1
        split_counts[ex.split] += 1
        split_hours[ex.split] += h
        tempo_hist[f"{int(ex.tempo_bpm // 10 * 10)}"] += 1
        key_hist[ex.key] += 1
        licences[ex.licence] += 1
        rec = per_source.setdefault(ex.source, {"licence": ex.licence, "noncommercial": ex.noncommercial,
                                                "examples": 0, "pieces": set()})
        rec["examples"] += 1
        rec["pieces"].add(ex.piece_id)
    for rec in per_source.values():
        rec["pieces"] = len(rec["pieces"])
    return {
        "format_version": CORPUS_FORMAT_VERSION, "parse_version": src_mod.PARSE_VERSION,
        "seed": seed, "options": options,
        "examples": len(examples), "examples_per_split": {s: split_counts.get(s, 0) for s in SPLITS},
        "hours": round(sum(hours_style.values()), 3),
        "hours_per_split": {s: round(split_hours.get(s, 0.0), 3) for s in SPLITS},
        "hours_per_style": {k: round(v, 3) for k, v in sorted(hours_style.items())},
        "examples_per_style": dict(sorted(count_style.items())),
        "tempo_histogram_bpm": dict(sorted(tempo_hist.items(), key=lambda kv: int(kv[0]))),
        "key_histogram": dict(sorted(key_hist.items())),
        "licences": dict(sorted(licences.items())),
        "noncommercial_examples": sum(1 for e in examples if e.noncommercial),
        "sources_considered": len(srcs),
        "sources": dict(sorted(per_source.items())),
    }
