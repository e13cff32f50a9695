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


GEN_KEY_RANGE = 43
GEN_VEL_RANGE = 44
FULL_RANGE = (0, 127)


def _ranges_meet(amount: int, lo: int, hi: int) -> bool:
    """Does a keyRange generator's amount (lo byte, hi byte) meet [lo, hi]?"""
    return (amount & 0xFF) <= hi and (amount >> 8) >= lo


def _select(t: dict[str, np.ndarray], wanted: dict[tuple[int, int], tuple[int, int]]):
    """The pdta tables of the presets `wanted` ({(bank, program): (lowest key, highest key)})
    keeping only the zones that can sound for a key in each preset's range (global zones
    always), and the samples they play: (tables as record lists, [old sample index...] in
    their new order). Presets missing from `t` are left out."""
    phdr, pbag, pmod, pgen = t["phdr"], t["pbag"], t["pmod"], t["pgen"]
    inst, ibag, imod, igen, shdr = t["inst"], t["ibag"], t["imod"], t["igen"], t["shdr"]
    chosen = [(i, wanted[(int(phdr[i]["bank"]), int(phdr[i]["preset"]))]) for i in range(len(phdr) - 1)
              if (int(phdr[i]["bank"]), int(phdr[i]["preset"])) in wanted]
    out = {k: [] for k in _REC}
    inst_map: dict[int, int] = {}
    sample_map: dict[int, int] = {}

    def gens_of(bag_tab, gen_tab, b):
        return gen_tab[bag_tab[b]["gen"]:bag_tab[b + 1]["gen"]]

    def key_range(gens) -> int | None:
        k = [int(g["amount"]) for g in gens if int(g["oper"]) == GEN_KEY_RANGE]
        return k[0] if k else None

    # The keys each instrument is played at, through the preset zones kept.
    inst_keys: dict[int, list[tuple[int, int]]] = {}
    for i, (lo, hi) in chosen:
        for b in range(int(phdr[i]["bag"]), int(phdr[i + 1]["bag"])):
            g = gens_of(pbag, pgen, b)
            target = [int(x["amount"]) for x in g if int(x["oper"]) == GEN_INSTRUMENT]
            kr = key_range(g)
            if target and (kr is None or _ranges_meet(kr, lo, hi)):
                klo, khi = (lo, hi) if kr is None else (max(lo, kr & 0xFF), min(hi, kr >> 8))
                inst_keys.setdefault(target[0], []).append((klo, khi))

    def copy_zone(bag_tab, gen_tab, mod_tab, b, gen_link, link_map, new_bags, new_gens, new_mods):
        new_bags.append((len(new_gens), len(new_mods)))
        for g in gens_of(bag_tab, gen_tab, b):
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
            keys = inst_keys.get(i, [FULL_RANGE])
            for b in range(int(inst[i]["bag"]), int(inst[i + 1]["bag"])):
                g = gens_of(ibag, igen, b)
                kr = key_range(g)
                has_sample = any(int(x["oper"]) == GEN_SAMPLE for x in g)
                if has_sample and kr is not None and not any(_ranges_meet(kr, lo, hi) for lo, hi in keys):
                    continue          # a zone no kept key reaches
                copy_zone(ibag, igen, imod, b, GEN_SAMPLE, map_sample, out["ibag"], out["igen"], out["imod"])
        return inst_map[i]

    for i, (lo, hi) in chosen:
        out["phdr"].append((phdr[i]["name"], phdr[i]["preset"], phdr[i]["bank"], len(out["pbag"]), 0, 0, 0))
        for b in range(int(phdr[i]["bag"]), int(phdr[i + 1]["bag"])):
            g = gens_of(pbag, pgen, b)
            kr = key_range(g)
            if any(int(x["oper"]) == GEN_INSTRUMENT for x in g) and kr is not None and not _ranges_meet(kr, lo, hi):
                continue
            copy_zone(pbag, pgen, pmod, b, GEN_INSTRUMENT, map_inst, out["pbag"], out["pgen"], out["pmod"])
    # stereo partners come along, so a linked sample never points outside the file
    for i in list(sample_map):
        if int(shdr[i]["type"]) & 0x6 and int(shdr[i]["link"]) < len(shdr) - 1:
            map_sample(int(shdr[i]["link"]))
    return out, sample_map


def _write(src_name: str, shdr: np.ndarray, out: dict, sample_map: dict[int, int], frames, fill) -> bytes:
    """The SoundFont 2 file (bytes) of `_select`'s tables, laid out once in one buffer:
    `frames(index, record) -> (frames, loop start, loop end relative to its first frame)` sizes
    each sample, then `fill(index, record, view)` writes its int16 PCM into its place (a 50 MB part is
    read from the bank straight into the file it becomes, no copy in between)."""
    out = {k: list(v) for k, v in out.items()}
    order = [old for old, _ in sorted(sample_map.items(), key=lambda kv: kv[1])]
    pos = 0
    places = []
    for old in order:
        rec = shdr[old]
        n, ls, le = frames(old, rec)
        start, end = pos, pos + n
        link = sample_map.get(int(rec["link"]), 0)
        stype = int(rec["type"]) & ~COMPRESSED
        out["shdr"].append((rec["name"], start, end, start + ls, start + le, rec["rate"], rec["pitch"],
                            rec["correction"], link, stype))
        places.append((old, rec, start, n))
        pos = end + PAD_SAMPLES             # PAD_SAMPLES zeros after every sample
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

    info = chunk(b"LIST", b"INFO" + chunk(b"ifil", struct.pack("<HH", 2, 1)) + chunk(b"isng", b"EMU8000\0")
                 + chunk(b"INAM", b"Robin Studio subset of " + src_name.encode()[:200] + b"\0\0"))
    pdta = chunk(b"LIST", b"pdta" + b"".join(chunk(k.encode(), np.array(out[k], dtype=_REC[k]).tobytes())
                                             for k in ("phdr", "pbag", "pmod", "pgen", "inst", "ibag", "imod",
                                                       "igen", "shdr")))
    smpl_bytes = 2 * pos                     # even: no pad byte
    sdta_head = b"LIST" + struct.pack("<I", 4 + 8 + smpl_bytes) + b"sdta" + b"smpl" + struct.pack("<I", smpl_bytes)
    body_len = 4 + len(info) + len(sdta_head) + smpl_bytes + len(pdta)
    buf = bytearray(8 + body_len)            # zeros: the pads are already there
    head = b"RIFF" + struct.pack("<I", body_len) + b"sfbk" + info + sdta_head
    buf[:len(head)] = head
    view = memoryview(buf)
    base = len(head)
    for old, rec, start, n in places:
        fill(old, rec, view[base + 2 * start: base + 2 * (start + n)])
    buf[base + smpl_bytes:] = pdta
    return bytes(buf)


def subset_bank(src: Path, presets: list[tuple[int, int]], dst: Path) -> Path:
    """Write the presets `[(bank, program), ...]` of `src` (sf2 or sf3) into `dst` (sf2).
    Presets missing from `src` are left out."""
    smpl, t = read_bank(src)
    out, sample_map = _select(t, {(int(b), int(p)): FULL_RANGE for b, p in presets})
    decoded = {i: _decode(smpl, t["shdr"][i]) for i in sample_map}

    def frames(i, rec):
        pcm, ls, le = decoded[i]
        return len(pcm), ls, le

    def fill(i, rec, view):
        view[:] = decoded[i][0].astype("<i2", copy=False).tobytes()

    data = _write(Path(src).name, t["shdr"], out, sample_map, frames, fill)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dst)            # atomic: a half-written cache is never loaded
    return dst


class BankIndex:
    """A SoundFont 2 file's preset tables, read without its sample data (a few hundred kB of a
    150 MB bank), from which `part` makes a small bank of a few presets over a few keys,
    reading only the samples those zones play. This is what makes loading cheap (issue 15):
    a 60 s, 5-part score plays about 15 MB of FluidR3_GM's 148 MB, and a string section over
    its role's range a third of MuseScore_General's ensemble. Compressed (sf3) banks are not
    split: `splittable` is False and the caller loads the whole file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.tables: dict[str, np.ndarray] = {}
        self.smpl_offset = -1
        with open(self.path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
                raise ValueError(f"{path} is not a SoundFont")
            size = os.fstat(f.fileno()).st_size
            pos = 12
            while pos + 12 <= size:
                f.seek(pos)
                cid, length = struct.unpack("<4sI", f.read(8))
                if cid == b"LIST":
                    kind = f.read(4)
                    if kind == b"sdta":
                        sub = pos + 12
                        while sub + 8 <= pos + 8 + length:
                            f.seek(sub)
                            scid, slen = struct.unpack("<4sI", f.read(8))
                            if scid == b"smpl":
                                self.smpl_offset = sub + 8
                            sub += 8 + slen + (slen & 1)
                    elif kind == b"pdta":
                        data = f.read(length - 4)
                        for sub, soff, ssize in _chunks(data, 0, len(data)):
                            if sub in _REC:
                                self.tables[sub] = np.frombuffer(data[soff:soff + ssize], dtype=_REC[sub]).copy()
                pos += 8 + length + (length & 1)
        if set(self.tables) != set(_REC) or self.smpl_offset < 0:
            raise ValueError(f"{path} is not a complete SoundFont 2 bank")
        phdr = self.tables["phdr"][:-1]
        self.presets = {(int(r["bank"]), int(r["preset"])) for r in phdr}
        self.splittable = not bool(np.any(self.tables["shdr"]["type"] & COMPRESSED))

    def velocity_splits(self, bank: int, program: int) -> tuple[int, ...]:
        """The velocities where a preset's zones change (each the lowest velocity of a zone
        above 0): its velocity layers. FluidR3_GM's pianos, flutes, basses and kits have
        nine (or seven) bands 8 apart, each the same sample with its own brightness
        (filter cut-off) and level; MuseScore_General's strings change sample at 87. No bank
        here holds alternate samples for one key and velocity (SoundFont 2 has no round
        robin: every zone that matches plays)."""
        t = self.tables
        phdr, pbag, pgen, inst, ibag, igen = t["phdr"], t["pbag"], t["pgen"], t["inst"], t["ibag"], t["igen"]
        splits: set[int] = set()
        for i in range(len(phdr) - 1):
            if (int(phdr[i]["bank"]), int(phdr[i]["preset"])) != (bank, program):
                continue
            for b in range(int(phdr[i]["bag"]), int(phdr[i + 1]["bag"])):
                g = {int(x["oper"]): int(x["amount"]) for x in pgen[pbag[b]["gen"]:pbag[b + 1]["gen"]]}
                if GEN_VEL_RANGE in g:
                    splits.add(g[GEN_VEL_RANGE] & 0xFF)
                if GEN_INSTRUMENT not in g:
                    continue
                ii = g[GEN_INSTRUMENT]
                for z in range(int(inst[ii]["bag"]), int(inst[ii + 1]["bag"])):
                    zg = igen[ibag[z]["gen"]:ibag[z + 1]["gen"]]
                    splits.update(int(x["amount"]) & 0xFF for x in zg if int(x["oper"]) == GEN_VEL_RANGE)
        return tuple(sorted(v for v in splits if v > 0))

    def part(self, wanted: dict[tuple[int, int], tuple[int, int]]) -> bytes:
        """A SoundFont 2 file (bytes, for TinySoundFont to load from memory) with the presets
        `wanted` ({(bank, program): (lowest key, highest key)}) over those keys."""
        shdr = self.tables["shdr"]
        out, sample_map = _select(self.tables, wanted)

        def frames(i, rec):
            s = int(rec["start"])
            return int(rec["end"]) - s, int(rec["loop_start"]) - s, int(rec["loop_end"]) - s

        with open(self.path, "rb", buffering=0) as f:
            def fill(i, rec, view):
                f.seek(self.smpl_offset + 2 * int(rec["start"]))
                got = f.readinto(view)
                if got != len(view):
                    raise ValueError(f"{self.path} ends inside its sample data")
            return _write(self.path.name, shdr, out, sample_map, frames, fill)


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
