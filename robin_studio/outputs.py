"""Where results may be written: checked before any long work starts, never over an input.

`check_output(path, inputs=..., overwrite=...)` is called by every command before it analyses
or generates anything, and again by the writers in `media.export` just before they write. It
refuses, with an `ExportError` that says what to do:

- a name the disk cannot hold (more than 255 bytes) or no name at all;
- a folder that does not exist or that we may not write into;
- a destination that is one of the inputs: same resolved path, or the same file under another
  name (hard link, symlink: same device and inode), so `score clip.mp4 -o clip.mp4
  --overwrite` cannot replace the clip;
- anything that is not a regular file (a device such as /dev/null, a FIFO, a socket, a
  folder): `os.replace` would swap a device node for a plain file;
- an existing file without `overwrite`.

`check_inside(folder, path)` refuses a path that resolves outside `folder` (`..`, absolute
names, symlinks). `remove_stale_partials(folder)` deletes our own temporary export files
(".NAME.PID-XXXXXXXX.partial.EXT") left by a process that no longer runs (killed, power cut).
Nothing here imports anything beyond the standard library and `errors`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path

from robin_studio.errors import ExportError

NAME_MAX_BYTES = 255           # ext4, APFS, NTFS (in UTF-16 units, close enough) all stop here
# A temporary export file: ".clip.12345-1a2b3c4d.partial.mp4" (pid, then a random tag). Older
# versions wrote ".clip.1a2b3c4d.partial.mp4" without the pid.
PARTIAL_RE = re.compile(r"^\..+\.(?:(?P<pid>\d+)-)?[0-9a-f]{8}\.partial(?:\.[A-Za-z0-9]{1,8})?$")
# A partial file without a pid is stale once nothing has written to it for this long.
LEGACY_PARTIAL_AGE_S = 600.0


def partial_name(target: Path, tag: str) -> Path:
    """The hidden temporary file beside `target` that an export writes first."""
    return target.with_name(f".{target.stem}.{os.getpid()}-{tag}.partial{target.suffix}")


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        sa, sb = a.stat(), b.stat()
    except (OSError, RuntimeError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_name(path: Path) -> None:
    """Refuse names the file system cannot hold (before `exists()` raises on them)."""
    name = path.name
    if not name or name in (".", ".."):
        raise ExportError(f"{str(path)!r} is not a file name.", "Give the output a file name.")
    if "\x00" in str(path):
        raise ExportError("The output name holds a NUL character.", "Choose a plain file name.")
    if len(os.fsencode(name)) > NAME_MAX_BYTES:
        raise ExportError(f"The file name '{name[:40]}...' is too long ({len(os.fsencode(name))} "
                          f"bytes; disks allow {NAME_MAX_BYTES}).", "Choose a shorter name.")
    for part in path.parts[:-1]:
        if len(os.fsencode(part)) > NAME_MAX_BYTES:
            raise ExportError(f"A folder name in {str(path)[:80]}... is too long.",
                              "Choose a shorter path.")


def check_output(path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                 overwrite: bool = False, folder_ok: bool = False) -> Path:
    """The absolute destination, if writing there is safe (see the module docstring).

    `folder_ok`: the destination is a folder we write files into (stems); it may exist."""
    target = Path(path).expanduser()
    check_name(target)
    target = target.absolute()
    for source in inputs:
        if source is not None and _same_file(target, Path(source)):
            raise ExportError(f"The output {target} is the input file {source}.",
                              "Robin Studio never writes over its input: choose another name with -o.")
    folder = target.parent
    try:
        folder_stat = folder.stat()
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            raise ExportError(f"The folder {folder} does not exist.",
                              "Choose an existing folder, or create it first.") from None
        raise ExportError(f"The folder {folder} cannot be used ({err.strerror}).",
                          "Choose another folder.") from None
    if not stat.S_ISDIR(folder_stat.st_mode):
        raise ExportError(f"{folder} is not a folder.", "Choose an existing folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"Robin Studio may not write into {folder}.",
                          "Choose a folder you can write to, or change the folder's permissions.")
    try:
        st = os.stat(target)     # follows a symlink: what would really be replaced
    except FileNotFoundError:     # free (or a dangling symlink, which replacing cannot harm)
        return target
    except OSError as err:
        raise ExportError(f"{target} cannot be used as an output ({err.strerror}).",
                          "Choose another name.") from None
    if folder_ok and stat.S_ISDIR(st.st_mode):
        return target
    if stat.S_ISDIR(st.st_mode):
        raise ExportError(f"{target} is a folder.", "Give the output a file name inside it.")
    if not stat.S_ISREG(st.st_mode):
        what = ("a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a pipe (FIFO)" if stat.S_ISFIFO(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise ExportError(f"{target} is {what}, not a file Robin Studio can replace.",
                          "Choose a file name in an ordinary folder with -o.")
    if not overwrite:
        raise ExportError(f"{target} already exists.",
                          "Choose another name with -o, or add --overwrite to replace it.")
    return target


def check_inside(folder: str | os.PathLike, path: str | os.PathLike) -> Path:
    """`path` resolved, if it lies inside `folder` (resolved); else an ExportError."""
    root = Path(folder).resolve()
    resolved = Path(path).resolve()
    if resolved != root and root not in resolved.parents:
        raise ExportError(f"{path} lies outside {root}.",
                          "Robin Studio writes only inside the folder it was given.")
    return resolved


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:        # EPERM: someone else's live process
        return True
    return True


def remove_stale_partials(folder: str | os.PathLike, now: float | None = None) -> list[Path]:
    """Delete our temporary export files in `folder` whose writer is gone; the list removed.

    Never touches another program's files: only names of our own pattern, only regular files,
    and only when the process named in it is dead (or, for old pid-less names, nothing wrote
    to it for `LEGACY_PARTIAL_AGE_S`)."""
    removed: list[Path] = []
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = PARTIAL_RE.match(entry.name)
        if not match:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        pid = match.group("pid")
        stale = (not _pid_alive(int(pid)) if pid is not None
                 else now - st.st_mtime > LEGACY_PARTIAL_AGE_S)
        if pid is not None and int(pid) == os.getpid():
            stale = False
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed
