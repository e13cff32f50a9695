"""A few presets of a big SoundFont, written out as a small SoundFont 2 file: the cache that
makes a second bank cheap to load.

Why: MuseScore_General_Full.sf3 plays strings and synth leads that an independent tagger
hears far better than FluidR3's (render.bank_survey), but it is 86 MB of Ogg Vorbis that
TinySoundFont decodes whole on every load: 18.6 s here, against 1.4 s for FluidR3_GM.sf2.
The presets we use from it are a small part of it. `subset_bank` copies those presets, their
instruments and samples (decoded to 16-bit PCM with libsndfile) into a plain sf2 of a few MB,
once; `cached_subset` keeps it under the user cache folder keyed by the source file's size,
date and the preset list, so every later load takes a fraction of a second.

The format is SoundFont 2.01 (RIFF 'sfbk': INFO, sdta/smpl, pdta with phdr pbag pmod pgen
inst ibag imod igen shdr); in an sf3 a compressed sample (type bit 0x10) holds byte offsets
of its Ogg stream and loop points relative to its own start. Everything else (generators,
modulators, zones) is copied unchanged, so the subset plays as the original does
(tests/test_render_banks.py renders notes from both and compares them).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
from pathlib import Path

import numpy as np

_REC = {
    "phdr": np.dtype([("name", "S20"), ("preset", "<u2"), ("bank", "<u2"), ("bag", "<u2"),
                      ("library", "<u4"), ("genre", "<u4"), ("morphology", "<u4")]),
    "pbag": np.dtype([("gen", "<u2"), ("mod", "<u2")]),
    "pmod": np.dtype([("src", "<u2"), ("dest", "<u2"), ("amount", "<i2"), ("amt_src", "<u2"), ("trans", "<u2")]),
    "pgen": np.dtype([("oper", "<u2"), ("amount", "<u2")]),
    "inst": np.dtype([("name", "S20"), ("bag", "<u2")]),
    "ibag": np.dtype([("gen", "<u2"), ("mod", "<u2")]),
    "imod": np.dtype([("src", "<u2"), ("dest", "<u2"), ("amount", "<i2"), ("amt_src", "<u2"), ("trans", "<u2")]),
    "igen": np.dtype([("oper", "<u2"), ("amount", "<u2")]),
    "shdr": np.dtype([("name", "S20"), ("start", "<u4"), ("end", "<u4"), ("loop_start", "<u4"),
                      ("loop_end", "<u4"), ("rate", "<u4"), ("pitch", "u1"), ("correction", "i1"),
                      ("link", "<u2"), ("type", "<u2")]),
}
GEN_INSTRUMENT = 41
GEN_SAMPLE = 53
COMPRESSED = 0x10
PAD_SAMPLES = 46          # zero samples the format asks for after every sample


def _chunks(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        cid, size = struct.unpack_from("<4sI", data, pos)
        yield cid.decode("latin-1"), pos + 8, size
        pos += 8 + size + (size & 1)


def read_bank(path: Path) -> tuple[bytes, dict[str, np.ndarray]]:
    """(smpl bytes, pdta tables) of a SoundFont 2 or 3 file."""
    data = Path(path).read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise ValueError(f"{path} is not a SoundFont")
    smpl = b""
    tables: dict[str, np.ndarray] = {}
    for cid, off, size in _chunks(data, 12, len(data)):
        if cid != "LIST":
            continue
        kind = data[off:off + 4]
        for sub, soff, ssize in _chunks(data, off + 4, off + size):
            if kind == b"sdta" and sub == "smpl":
                smpl = data[soff:soff + ssize]
            elif kind == b"pdta" and sub in _REC:
                tables[sub] = np.frombuffer(data[soff:soff + ssize], dtype=_REC[sub]).copy()
    return smpl, tables


def _decode(smpl: bytes, rec) -> tuple[np.ndarray, int, int]:
    """(int16 PCM, loop start, loop end relative to the sample's first frame)."""
    if int(rec["type"]) & COMPRESSED:
        import soundfile

        pcm, _ = soundfile.read(io.BytesIO(smpl[int(rec["start"]):int(rec["end"])]), dtype="int16", always_2d=False)
        if pcm.ndim > 1:
            pcm = pcm[:, 0]
        return pcm, int(rec["loop_start"]), int(rec["loop_end"])
    pcm16 = np.frombuffer(smpl, dtype="<i2")
    s, e = int(rec["start"]), int(rec["end"])
    return pcm16[s:e].copy(), int(rec["loop_start"]) - s, int(rec["loop_end"]) - s


def subset_bank(src: Path, presets: list[tuple[int, int]], dst: Path) -> Path:
    """Write the presets `[(bank, program), ...]` of `src` (sf2 or sf3) into `dst` (sf2).
    Presets missing from `src` are left out."""
    smpl, t = read_bank(src)
    phdr, pbag, pmod, pgen = t["phdr"], t["pbag"], t["pmod"], t["pgen"]
    inst, ibag, imod, igen, shdr = t["inst"], t["ibag"], t["imod"], t["igen"], t["shdr"]
    wanted = {(int(b), int(p)) for b, p in presets}
    chosen = [i for i in range(len(phdr) - 1) if (int(phdr[i]["bank"]), int(phdr[i]["preset"])) in wanted]

    out = {k: [] for k in _REC}
    inst_map: dict[int, int] = {}
    sample_map: dict[int, int] = {}

    def copy_zones(bag_tab, gen_tab, mod_tab, lo, hi, gen_link, link_map, new_bags, new_gens, new_mods):
        for b in range(lo, hi):
            new_bags.append((len(new_gens), len(new_mods)))
            for g in gen_tab[bag_tab[b]["gen"]:bag_tab[b + 1]["gen"]]:
                oper, amount = int(g["oper"]), int(g["amount"])
                if oper == gen_link:
                    amount = link_map(amount)
                new_gens.append((oper, amount))
            for m in mod_tab[bag_tab[b]["mod"]:bag_tab[b + 1]["mod"]]:
                new_mods.append(tuple(int(x) for x in m))

    def map_sample(i: int) -> int:
        if i not in sample_map:
            sample_map[i] = len(sample_map)
        return sample_map[i]

    def map_inst(i: int) -> int:
        if i not in inst_map:
            inst_map[i] = len(inst_map)
            out["inst"].append((inst[i]["name"], len(out["ibag"])))
            copy_zones(ibag, igen, imod, int(inst[i]["bag"]), int(inst[i + 1]["bag"]), GEN_SAMPLE, map_sample,
                       out["ibag"], out["igen"], out["imod"])
        return inst_map[i]

    for i in chosen:
        out["phdr"].append((phdr[i]["name"], phdr[i]["preset"], phdr[i]["bank"], len(out["pbag"]), 0, 0, 0))
        copy_zones(pbag, pgen, pmod, int(phdr[i]["bag"]), int(phdr[i + 1]["bag"]), GEN_INSTRUMENT, map_inst,
                   out["pbag"], out["pgen"], out["pmod"])
    # stereo partners come along, so a linked sample never points outside the file
    for i in list(sample_map):
        if int(shdr[i]["type"]) & 0x6 and int(shdr[i]["link"]) < len(shdr) - 1:
            map_sample(int(shdr[i]["link"]))

    pcm_parts = []
    pos = 0
    samples = sorted(sample_map.items(), key=lambda kv: kv[1])
    for old, new in samples:
        rec = shdr[old]
        pcm, ls, le = _decode(smpl, rec)
        start, end = pos, pos + len(pcm)
        link = sample_map.get(int(rec["link"]), 0)
        stype = int(rec["type"]) & ~COMPRESSED
        out["shdr"].append((rec["name"], start, end, start + ls, start + le, rec["rate"], rec["pitch"],
                            rec["correction"], link, stype))
        pcm_parts += [pcm.astype("<i2"), np.zeros(PAD_SAMPLES, "<i2")]
        pos = end + PAD_SAMPLES
    # terminal records
    out["phdr"].append((b"EOP", 0, 0, len(out["pbag"]), 0, 0, 0))
    out["pbag"].append((len(out["pgen"]), len(out["pmod"])))
    out["pmod"].append((0, 0, 0, 0, 0))
    out["pgen"].append((0, 0))
    out["inst"].append((b"EOI", len(out["ibag"])))
    out["ibag"].append((len(out["igen"]), len(out["imod"])))
    out["imod"].append((0, 0, 0, 0, 0))
    out["igen"].append((0, 0))
    out["shdr"].append((b"EOS", 0, 0, 0, 0, 0, 0, 0, 0, 0))

    def chunk(cid: bytes, payload: bytes) -> bytes:
        return cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")

    info = chunk(b"ifil", struct.pack("<HH", 2, 1)) + chunk(b"isng", b"EMU8000\0") + \
        chunk(b"INAM", b"Robin Studio subset of " + Path(src).name.encode()[:200] + b"\0\0")
    sdta = chunk(b"smpl", np.concatenate(pcm_parts).tobytes() if pcm_parts else b"")
    pdta = b"".join(chunk(k.encode(), np.array(out[k], dtype=_REC[k]).tobytes())
                    for k in ("phdr", "pbag", "pmod", "pgen", "inst", "ibag", "imod", "igen", "shdr"))
    body = b"sfbk" + chunk(b"LIST", b"INFO" + info) + chunk(b"LIST", b"sdta" + sdta) + chunk(b"LIST", b"pdta" + pdta)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    os.replace(tmp, dst)            # atomic: a half-written cache is never loaded
    return dst


def cache_dir() -> Path:
    """Where subsets are kept: under the user's data folder (not the cache folder, which
    tests isolate per session), in a folder of its own (`<data>/soundfonts/` holds banks
    the user chose, which `render.synth` would take as the main bank)."""
    from robin_studio import paths

    return paths.data_dir() / "bank-subsets"


def cached_subset(src: Path, presets: list[tuple[int, int]]) -> Path:
    """The subset of `src` holding `presets`, built once and then reused."""
    st = Path(src).stat()
    key = hashlib.sha1(f"{Path(src).resolve()}|{st.st_size}|{int(st.st_mtime)}|{sorted(set(presets))}".encode()).hexdigest()[:16]
    dst = cache_dir() / f"{Path(src).stem}-{key}.sf2"
    if not dst.is_file():
        subset_bank(src, presets, dst)
    return dst


def main(argv: list[str] | None = None) -> int:
    """Build the subsets the palettes use (installers/setup.sh runs this once)."""
    from robin_studio.render.synth import second_banks

    for name, (path, presets) in second_banks().items():
        if path.is_file():
            print(f"{name}: {cached_subset(path, presets)}")
        else:
            print(f"{name}: {path} not installed; its presets play from the main bank")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
