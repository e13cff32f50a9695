"""The `.robin` project file and crash recovery.

A project is plain JSON: which clip, what was asked (prompt, history, controls), and the takes
(each regeneration's region, seed and prompt), so that the same music can be generated again.
Writes are atomic (a temporary file beside the target, then `os.replace`), so a crash while
saving never leaves a half-written project. `RecoveryStore` keeps an autosave copy and a
"session running" marker; a marker left behind by a session that did not exit cleanly means
the app crashed, and the next start offers the autosave back. No Qt here.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from robin_studio.app.schemas import MARKER_SCHEMA, PROJECT_SCHEMA, set_aside
from robin_studio.errors import RobinError
from robin_studio.schema import SchemaError
from robin_studio.schema import check as check_schema

PROJECT_SUFFIX = ".robin"
FORMAT_VERSION = 3   # 3: a take records the hit points it was made with (see TakeRecord)
MAX_PROJECT_BYTES = 64 * 2**20
ROLE_NAMES = ("drums", "bass", "harmony", "melody", "texture")


class ProjectError(RobinError):
    """A project file cannot be read or written."""


@dataclass
class GenerationSettings:
    """The controls beside the prompt. `None` means "let the engine choose"."""

    seed: int = 0
    tempo_bpm: float | None = None            # None = automatic (the engine fits cuts to beats)
    key: str | None = None                    # e.g. "A minor"; None = automatic
    instruments: dict[str, bool] = field(default_factory=lambda: {r: True for r in ROLE_NAMES})
    styles: list[str] = field(default_factory=list)   # quick style chips switched on

    def excluded_roles(self) -> list[str]:
        return [r for r, on in self.instruments.items() if not on]


@dataclass
class TakeRecord:
    """One take: enough to make it again and to label it in the take list. Version 1 files
    hold only regenerations (applied in order after the `generated` piece); version 2 files
    hold every take, whole-clip generations included, each naming the take it was made from;
    version 3 adds the hit points a take was made with (re-timed takes come back too)."""

    start_s: float
    end_s: float
    seed: int
    prompt: str                      # as the engine got it
    created: float = field(default_factory=time.time)
    kind: str = "regenerate"         # or "generate"
    number: int = 0                  # the take's label number (0: not numbered, version 1)
    name: str = ""
    parent: int = 0                  # the take a regeneration was made from
    text: str = ""                   # the prompt as typed
    settings: dict | None = None     # the panel's controls (a generation's inputs)
    partial_until_s: float | None = None   # a stopped take: music only up to here
    deleted: bool = False            # kept only because a take in the list was made from it
    # Version 3: the hit points ({"time_s", "strong"}) and demoted cuts the take was made
    # with, so that a generation, or a re-timing (moved hit points, made again from its
    # parent with `seed`), comes back exactly; None (a version 2 file): the project's own.
    hit_points: list[dict] | None = None
    ignored_cuts_s: list[float] | None = None
    # The clip the take's music was made for ("": the project's clip). After File > Replace
    # Video the earlier takes belong to the old cut and the conformed one to the new cut; a
    # reopened project makes each against its own clip, then conforms again from `parent`.
    clip_path: str = ""


@dataclass
class Project:
    clip_path: str = ""
    prompt: str = ""
    prompt_history: list[str] = field(default_factory=list)
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    generated: bool = False                   # a whole piece was generated from prompt+settings
    takes: list[TakeRecord] = field(default_factory=list)  # applied regenerations, in order
    selection_s: tuple[float, float] | None = None
    export: dict = field(default_factory=dict)  # last export choices (kind, gains, duck)
    # Hit points ({"time_s", "strong"}) and demoted cuts (times in s): see timing/hits.py.
    hit_points: list[dict] = field(default_factory=list)
    ignored_cuts_s: list[float] = field(default_factory=list)
    current_take: int = 0                     # the take in use (its number; 0 = the last)

    def approved_takes(self) -> tuple["TakeRecord | None", list["TakeRecord"]]:
        """The music in use as (the whole-clip take it grew from, the regenerations applied to
        it in order). A version 1 project gives (None, its takes): its own prompt and
        settings generate the piece."""
        if not any(r.kind == "generate" or r.number for r in self.takes):
            return None, list(self.takes)
        by_number = {r.number: r for r in self.takes}
        cur = by_number.get(self.current_take) or (self.takes[-1] if self.takes else None)
        chain: list[TakeRecord] = []
        while cur is not None and cur.kind != "generate":
            chain.append(cur)
            cur = by_number.get(cur.parent)
        return cur, chain[::-1]

    # -- editing helpers ----------------------------------------------------------------
    def remember_prompt(self, prompt: str, limit: int = 30) -> None:
        prompt = prompt.strip()
        if not prompt:
            return
        if prompt in self.prompt_history:
            self.prompt_history.remove(prompt)
        self.prompt_history.insert(0, prompt)
        del self.prompt_history[limit:]

    # -- plain data ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        d = asdict(self)
        d["format"] = "robin-studio-project"
        d["version"] = FORMAT_VERSION
        d["selection_s"] = list(self.selection_s) if self.selection_s else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Project":
        if not isinstance(d, dict) or d.get("format") != "robin-studio-project":
            raise ProjectError("This file is not a Robin Studio project.",
                               "Open a .robin file saved by Robin Studio.")
        try:   # every field's type and range (app/schemas.py) before any is used
            check_schema(PROJECT_SCHEMA, d)
        except SchemaError as err:
            raise ProjectError(f"This project file is damaged ({err}).",
                               "Open another copy of it, or an autosave copy.") from None
        if int(d.get("version", 1)) > FORMAT_VERSION:
            raise ProjectError("This project was saved by a newer Robin Studio.",
                               "Update Robin Studio to open it.")
        settings = settings_from_dict(d.get("settings") or {})
        sel = d.get("selection_s")
        return cls(
            clip_path=str(d.get("clip_path", "")),
            prompt=str(d.get("prompt", "")),
            prompt_history=[str(p) for p in d.get("prompt_history", [])],
            settings=settings,
            generated=bool(d.get("generated", False)),
            takes=[TakeRecord(float(t["start_s"]), float(t["end_s"]), int(t["seed"]),
                              str(t.get("prompt", "")), float(t.get("created", 0.0)),
                              kind=str(t.get("kind", "regenerate")), number=int(t.get("number", 0)),
                              name=str(t.get("name", "")), parent=int(t.get("parent", 0)),
                              text=str(t.get("text", "")),
                              settings=dict(t["settings"]) if t.get("settings") else None,
                              partial_until_s=(None if t.get("partial_until_s") is None
                                               else float(t["partial_until_s"])),
                              deleted=bool(t.get("deleted", False)),
                              hit_points=(None if t.get("hit_points") is None
                                          else _hit_points(t["hit_points"])),
                              ignored_cuts_s=(None if t.get("ignored_cuts_s") is None
                                              else [float(c) for c in t["ignored_cuts_s"]]),
                              clip_path=str(t.get("clip_path") or ""))
                   for t in d.get("takes", [])],
            selection_s=(float(sel[0]), float(sel[1])) if sel else None,
            export=dict(d.get("export") or {}),
            hit_points=_hit_points(d.get("hit_points")),
            ignored_cuts_s=[float(t) for t in d.get("ignored_cuts_s") or []
                            if isinstance(t, (int, float)) and t >= 0],
            current_take=int(d.get("current_take", 0)),
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        write_json_atomic(path, self.to_dict())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Project":
        path = Path(path)
        try:
            if not path.is_file() and path.exists():   # a FIFO would block, a device never end
                raise OSError(f"{path.name} is not a regular file")
            if path.exists() and path.stat().st_size > MAX_PROJECT_BYTES:
                raise OSError(f"{path.stat().st_size / 2**20:.0f} MB, more than a project can be")
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProjectError(f"The project {path} does not exist.",
                               "Check the path, or open the clip instead.") from None
        except (OSError, ValueError, RecursionError) as err:   # bad UTF-8/JSON, nested too deep
            raise ProjectError(f"The project {path} cannot be read ({err}).",
                               "It may be damaged; an autosave copy may exist.") from None
        return cls.from_dict(data)


def _hit_points(raw) -> list[dict]:
    """Hit points as saved, checked (a damaged entry is left out, not fatal)."""
    from robin_studio.timing.hits import HitPoint

    out = []
    for item in raw or []:
        try:
            out.append(HitPoint.from_dict(item).to_dict())
        except (KeyError, TypeError, ValueError):
            continue
    return out
def settings_from_dict(s: dict) -> GenerationSettings:
    return GenerationSettings(
        seed=int(s.get("seed", 0)),
        tempo_bpm=None if s.get("tempo_bpm") is None else float(s["tempo_bpm"]),
        key=s.get("key"),
        instruments={**{r: True for r in ROLE_NAMES}, **dict(s.get("instruments") or {})},
        styles=list(s.get("styles") or []),
    )


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON so that readers see either the old file or the whole new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise ProjectError(f"Could not save {path} ({err.strerror or err}).",
                           "Choose another folder or free some disk space.") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ProjectError(f"Could not save {path} ({err.strerror or err}).",
                           "Choose another folder or free some disk space.") from None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class RecoveryStore:
    """Autosave copy plus a marker that says a session is running.

    `start()` at launch, `autosave(project)` every so often, `clean_exit()` when the window
    closes normally. If a marker from a dead process is found with an autosave, `pending()`
    returns the project that can be recovered.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.autosave_path = self.folder / f"autosave{PROJECT_SUFFIX}"
        self.marker_path = self.folder / "session-running.json"
        self.set_aside: list[str] = []    # messages about damaged files moved out of the way

    def pending(self) -> Project | None:
        """The autosaved project of a session that crashed, or None."""
        try:
            marker = json.loads(self.marker_path.read_text(encoding="utf-8"))
            check_schema(MARKER_SCHEMA, marker)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as err:   # SchemaError is a ValueError
            # Whose session it was is unknown: set the marker aside and still offer the
            # autosave (a lost piece of work is worse than an extra question).
            self._set_aside(self.marker_path, err)
            marker = {"pid": 0}
        pid = marker["pid"]
        if pid != os.getpid() and _pid_alive(pid):
            return None  # another window is running right now; its autosave is not ours to take
        if not self.autosave_path.exists():
            return None
        try:
            return Project.load(self.autosave_path)
        except ProjectError as err:
            self._set_aside(self.autosave_path, err)
            return None

    def _set_aside(self, path: Path, err: Exception) -> None:
        """A damaged recovery file: moved aside (kept), noted in `self.set_aside` for the
        app to show, so it cannot stop the next start."""
        moved = set_aside(path)
        self.set_aside.append(f"{path.name} could not be read ({err}); "
                              + (f"it was kept as {moved.name}." if moved else "it was removed."))

    def start(self, project_path: str | None = None) -> None:
        write_json_atomic(self.marker_path, {"pid": os.getpid(), "started": time.time(),
                                             "project_path": project_path})

    def autosave(self, project: Project) -> None:
        project.save(self.autosave_path)

    def discard(self) -> None:
        for p in (self.autosave_path,):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def clean_exit(self) -> None:
        self.discard()
        try:
            self.marker_path.unlink()
        except FileNotFoundError:
            pass
