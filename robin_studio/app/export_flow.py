"""File > Export from the editor: the export dialog over the take in use, with the engine's
export (`Scorer.export`, on the dialog's worker) as what its Export button runs. The mix
settings chosen are kept in the project; the folder exported to is remembered for next time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6 import QtCore, QtWidgets

from robin_studio.app.app_settings import AppSettings
from robin_studio.app.export_dialog import ExportDialog
from robin_studio.app.session import ClipSession, Feedback
from robin_studio.app.takes_flow import TakesFlow
from robin_studio.app.workers import EngineHost


def export_function(host: EngineHost, piece, clip_path: str):
    """What the dialog's Export runs: the engine writes `piece` (with the clip's picture)."""
    def run(out_path, kind, music_gain_db, original_gain_db, duck, progress, cancel):
        return host.scorer().export(piece, out_path, video_path=clip_path, kind=kind,
                                    music_gain_db=music_gain_db, original_gain_db=original_gain_db,
                                    duck=duck, progress=progress, cancel=cancel.is_set)
    return run


def open_export(parent: QtWidgets.QWidget, session: ClipSession, takes: TakesFlow, pause: Callable[[], None],
                host: EngineHost, app_settings: AppSettings, feedback: Feedback) -> ExportDialog | None:
    """Open the export dialog for the take in use (a whole one), or say why not."""
    cur = takes.model.current_take()
    if session.piece is None or cur is None or not cur.complete:
        feedback.set_status("Generate music (a whole take) before exporting.")
        return None
    takes.leave_ab()   # export what the take in use sounds like
    pause()
    project = session.project
    has_audio = bool(session.media_info and session.media_info.has_audio)
    dlg = ExportDialog(parent, project.clip_path, export_function(host, session.piece, project.clip_path),
                       has_audio, project.export, app_settings.last_export_dir)

    def exported(path: str) -> None:
        feedback.set_status(f"Exported {path}")
        app_settings.last_export_dir = str(Path(path).parent)
        app_settings.save()

    dlg.exported.connect(exported)
    dlg.finished.connect(lambda *_: setattr(project, "export", dlg.settings()))
    dlg.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    dlg.open()
    return dlg
