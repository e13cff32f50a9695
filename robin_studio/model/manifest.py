"""The weights manifest: `models/manifest.json` lists every shipped model file with its size
and sha256, so a missing or damaged file is caught at load time with a clear message.

    python -m robin_studio.model.manifest --write [--models-dir DIR]   # after training/export
    python -m robin_studio.model.manifest [--models-dir DIR]           # check everything

Every file under the models folder is listed (sub-folders such as `image/` included),
except the manifest itself and documentation (`*.md`). Loaders call `verify(names)` for the
files they are about to open. numpy-free and torch-free.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from robin_studio.errors import ModelFileError
from robin_studio.model.config import MODEL_VERSION
from robin_studio.paths import models_dir as default_models_dir

MANIFEST = "manifest.json"
_HINT = "Reinstall Robin Studio, or rebuild the weights with: robin-studio train"
_verified: dict[tuple, str] = {}      # (path, size, mtime, ctime, inode, device) -> sha256 seen


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _listed(models: Path) -> list[Path]:
    root = models.resolve()
    return sorted(p for p in models.rglob("*")
                  if p.is_file() and p.name != MANIFEST and p.suffix != ".md"
                  and not any(part.startswith(".") for part in p.relative_to(models).parts)
                  and root in p.resolve().parents)      # never a symlink leading out


def write_manifest(models: Path | str | None = None, version: str = MODEL_VERSION) -> Path:
    """Hash every model file under `models` into manifest.json; returns its path."""
    models = Path(models) if models else default_models_dir()
    files = [{"file": p.relative_to(models).as_posix(), "sha256": sha256_of(p), "size": p.stat().st_size}
             for p in _listed(models)]
    path = models / MANIFEST
    path.write_text(json.dumps({"version": version,
                                "written": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "files": files}, indent=1) + "\n")
    return path


def load_manifest(models: Path | str | None = None) -> dict:
    models = Path(models) if models else default_models_dir()
    path = models / MANIFEST
    try:
        data = json.loads(path.read_text())
        return {"version": data.get("version", ""), "files": {f["file"]: f for f in data["files"]}}
    except FileNotFoundError:
        raise ModelFileError(f"The model manifest {path} is missing.", _HINT) from None
    except (ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"The model manifest {path} is damaged ({err}).", _HINT) from None


def _inside(models: Path, name: str) -> Path:
    """The file `name` names, if it is a plain relative name that stays inside `models`
    (no absolute path, no "..", no symlink leading out); else ModelFileError."""
    pure = PurePosixPath(name)
    if (not name or "\x00" in name or "\\" in name or pure.is_absolute()
            or any(part in ("..", ".", "") for part in name.split("/"))):
        raise ModelFileError(f"The model file name {name!r} is not a plain name inside the "
                             "models folder.", _HINT)
    path = models / name
    try:
        resolved = path.resolve(strict=False)
        root = models.resolve()
    except (OSError, RuntimeError):       # a symlink loop
        raise ModelFileError(f"The model file {path} cannot be resolved.", _HINT) from None
    if root not in resolved.parents:
        raise ModelFileError(f"The model file {path} leads outside {root} (a symlink?).", _HINT)
    return path


def _stat_key(path: Path) -> tuple:
    """What changes when a file's content may have: size, mtime, ctime (which no program can
    set back), inode and device."""
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def _hash_cache_path() -> Path | None:
    try:
        from robin_studio.paths import cache_dir
        return cache_dir() / "model-hashes.json"
    except OSError:
        return None


def _load_hash_cache() -> dict:
    path = _hash_cache_path()
    try:
        data = json.loads(path.read_text()) if path is not None else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_hash_cache(cache: dict) -> None:
    path = _hash_cache_path()
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)      # a cache: never fail a run over it


def verify(names: list[str] | tuple[str, ...], models: Path | str | None = None) -> Path:
    """Check that each named file (relative to the models folder) exists and matches the
    manifest; raise ModelFileError naming the first that does not. Returns the folder.

    A file is hashed once per change: its sha256 is remembered (in memory and in the cache
    folder) under its size, mtime, ctime, inode and device, so a run checks 18 MB of image
    model for the price of a stat()."""
    models = Path(models) if models else default_models_dir()
    listed = load_manifest(models)["files"]
    disk_cache = None
    for name in names:
        path = _inside(models, name)
        entry = listed.get(name)
        if entry is None:
            raise ModelFileError(f"The model file {name} is not in {models / MANIFEST}; "
                                 "the weights are from another version.", _HINT)
        if not path.is_file():
            raise ModelFileError(f"The model file {path} is missing.", _HINT)
        stat_key = _stat_key(path)
        key = (str(path.resolve()), *stat_key)
        if _verified.get(key) == entry["sha256"]:
            continue
        if disk_cache is None:
            disk_cache = _load_hash_cache()
        cached = disk_cache.get(key[0])
        if cached == [*stat_key, entry["sha256"]]:
            _verified[key] = entry["sha256"]
            continue
        if stat_key[0] != entry["size"] or sha256_of(path) != entry["sha256"]:
            raise ModelFileError(f"The model file {path} is damaged (its size or checksum does not "
                                 "match the manifest).", _HINT)
        _verified[key] = entry["sha256"]
        disk_cache[key[0]] = [*stat_key, entry["sha256"]]
        _save_hash_cache(disk_cache)
    return models


def verify_all(models: Path | str | None = None) -> list[str]:
    """Check every file the manifest lists; returns their names."""
    models = Path(models) if models else default_models_dir()
    names = sorted(load_manifest(models)["files"])
    verify(names, models)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robin_studio.model.manifest", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="hash the files and write manifest.json")
    parser.add_argument("--models-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        if args.write:
            path = write_manifest(args.models_dir)
            print(f"wrote {path} ({len(load_manifest(path.parent)['files'])} files)")
        else:
            names = verify_all(args.models_dir)
            print(f"all {len(names)} model files are present and intact")
    except ModelFileError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
