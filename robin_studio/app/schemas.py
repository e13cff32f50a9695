"""What the app's own files may hold: the `.robin` project (and its autosave copy), the
"session running" marker and the preferences. Checked on every load with
`robin_studio.schema`, so a hand-edited or damaged file (a tempo of NaN, `/etc/shadow` as
the clip, `"version": "two"`, a list where an object belongs) is refused with a message
naming the field, and never crashes the app at start: `set_aside` moves it out of the way
(renamed, not deleted) so the next start is clean and nothing is lost.

To add a field to the project, add one line to its schema here, e.g.
`PROJECT_FIELDS["hit_points"] = List(HIT, 10_000)`; fields not listed are accepted as
they are (an older app reading a newer file), so only what a loader uses needs a rule.
No Qt here.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from robin_studio.schema import (Bool, Enum, FilePath, Int, List, Map, Nullable, Num, Obj,
                                 Scalar, Str, Tuple)

MAX_SECONDS = 24 * 3600.0                 # a time in a clip: up to a day
MAX_TEXT = 1_000_000                      # a prompt as typed or pasted (read up to 1000 chars)
SEED = Int(0, 2**32 - 1)
TIME = Num(0.0, MAX_SECONDS)

SETTINGS_FIELDS = {
    "seed": SEED,
    "tempo_bpm": Nullable(Num(20.0, 400.0)),
    "key": Nullable(Str(40)),
    "instruments": Map(Bool(), 64),
    "styles": List(Str(64), 64),
}

TAKE_FIELDS = {
    "start_s": TIME, "end_s": TIME, "seed": SEED, "prompt": Str(MAX_TEXT),
    "created": Num(0.0, 1e11), "kind": Enum(("regenerate", "generate", "retime", "conform")),
    "number": Int(0, 10**6), "name": Str(1000), "parent": Int(0, 10**6), "text": Str(MAX_TEXT),
    "settings": Nullable(Obj(SETTINGS_FIELDS)), "partial_until_s": Nullable(TIME),
    "deleted": Bool(),
    # Version 3: the markers the take was made with (checked whole: a take that cannot be
    # made again exactly is a damaged file, not a take to guess).
    "hit_points": Nullable(List(Obj({"time_s": TIME, "strong": Bool()},
                                    required=("time_s", "strong")), 10_000)),
    "ignored_cuts_s": Nullable(List(TIME, 10_000)),
    "clip_path": FilePath(),              # the clip the take was made for ("": the project's)
}

PROJECT_FIELDS = {
    "format": Enum(("robin-studio-project",)),
    "version": Int(1, 1_000_000),
    "clip_path": FilePath(),
    "prompt": Str(MAX_TEXT),
    "prompt_history": List(Str(MAX_TEXT), 1000),
    "settings": Nullable(Obj(SETTINGS_FIELDS)),
    "generated": Bool(),
    "takes": List(Obj(TAKE_FIELDS, required=("start_s", "end_s", "seed")), 100_000),
    "selection_s": Nullable(Tuple((TIME, TIME))),
    "export": Map(Scalar(4096), 100),
    # Hit points and demoted cuts: each entry is checked again by its loader, which leaves a
    # damaged one out; here only the shape (a list of objects, a list of plain values).
    "hit_points": Nullable(List(Obj({"time_s": Scalar(), "strong": Scalar()}), 10_000)),
    "ignored_cuts_s": Nullable(List(Scalar(), 10_000)),
    "current_take": Int(0, 10**6),
}
PROJECT_SCHEMA = Obj(PROJECT_FIELDS, required=("format",))

MARKER_SCHEMA = Obj({"pid": Int(0, 2**31 - 1), "started": Num(0.0, 1e11),
                     "project_path": Nullable(Str(4096))}, required=("pid",))

SETTINGS_FILE_SCHEMA = Obj({
    "recent_files": List(Str(4096), 100), "last_open_dir": Str(4096),
    "last_export_dir": Str(4096), "window_geometry": Str(100_000), "seen_first_run": Bool(),
})


def set_aside(path: Path) -> Path | None:
    """Rename a file that cannot be used to "NAME.damaged-YYYYmmdd-HHMMSS" beside it (kept
    for the user, out of the app's way); the new path, or None if it could not be moved."""
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        os.replace(path, target)
    except OSError:
        try:
            path.unlink()      # cannot keep it: at least do not trip over it at every start
        except OSError:
            pass
        return None
    return target
