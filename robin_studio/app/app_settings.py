"""The app's own preferences (recent files, last folders, window layout), kept as JSON in
the platform's config folder (`robin_studio.paths.config_dir`). No Qt here."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from robin_studio import paths
from robin_studio.app.project import ProjectError, write_json_atomic
from robin_studio.app.schemas import SETTINGS_FILE_SCHEMA, set_aside
from robin_studio.schema import check as check_schema

MAX_RECENT = 10


@dataclass
class AppSettings:
    recent_files: list[str] = field(default_factory=list)
    last_open_dir: str = ""
    last_export_dir: str = ""
    window_geometry: str = ""      # hex of QWidget.saveGeometry()
    seen_first_run: bool = False

    @staticmethod
    def path() -> Path:
        return paths.config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "AppSettings":
        try:
            data = json.loads(cls.path().read_text(encoding="utf-8"))
            check_schema(SETTINGS_FILE_SCHEMA, data)   # a list, or a number for a list: not ours
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, RecursionError):
            set_aside(cls.path())
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def save(self) -> None:
        try:
            write_json_atomic(self.path(), asdict(self))
        except ProjectError:
            pass  # preferences are a convenience; never fail the app over them

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        if p in self.recent_files:
            self.recent_files.remove(p)
        self.recent_files.insert(0, p)
        del self.recent_files[MAX_RECENT:]
