"""The export dialog: MP4 (music and original-audio gains, ducking), WAV, stems or MIDI, with a
progress bar, Cancel, and "Show in folder" once done. The export itself runs on a worker
thread through the engine's `export`; cancelling sets an event the engine checks."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from robin_studio.errors import CancelledError, RobinError

KINDS = [
    ("mp4", "MP4 video with the music", ".mp4"),
    ("wav", "WAV audio (music only)", ".wav"),
    ("stems", "Stems: one WAV per part, in a folder", ""),
    ("midi", "MIDI file for a DAW", ".mid"),
]


def default_output(clip_path: str, kind: str, folder: str = "") -> Path:
    clip = Path(clip_path) if clip_path else Path("untitled")
    base = Path(folder) if folder else clip.parent
    suffix = dict((k, s) for k, _, s in KINDS)[kind]
    stem = f"{clip.stem}-scored" if kind != "stems" else f"{clip.stem}-stems"
    return base / f"{stem}{suffix}"


class ExportDialog(QtWidgets.QDialog):
    """`export_fn(out_path, kind, music_gain_db, original_gain_db, duck, progress, cancel) -> Path`."""

    exported = QtCore.Signal(str)

    def __init__(self, parent, clip_path: str, export_fn, has_original_audio: bool = True,
                 last: dict | None = None, folder: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setMinimumWidth(520)
        self._clip = clip_path
        self._export_fn = export_fn
        self._cancel = threading.Event()
        self._worker = None
        self.result_path: Path | None = None
        self.error_text = ""
        last = last or {}

        lay = QtWidgets.QVBoxLayout(self)
        kind_box = QtWidgets.QGroupBox("Format")
        kl = QtWidgets.QVBoxLayout(kind_box)
        self.kind_buttons: dict[str, QtWidgets.QRadioButton] = {}
        for kind, label, _ in KINDS:
            rb = QtWidgets.QRadioButton(label)
            rb.setToolTip({"mp4": "The clip's picture (copied, not re-encoded) with the music mixed in",
                           "wav": "48 kHz stereo WAV of the music",
                           "stems": "Separate WAVs for drums, bass, harmony, melody and texture",
                           "midi": "The notes, with the tempo map, for a DAW"}[kind])
            rb.toggled.connect(self._kind_changed)
            kl.addWidget(rb)
            self.kind_buttons[kind] = rb
        lay.addWidget(kind_box)

        self.mix_box = QtWidgets.QGroupBox("Mix")
        ml = QtWidgets.QGridLayout(self.mix_box)
        self.music_gain = self._slider(-30, 6, int(last.get("music_gain_db", 0)),
                                       "Music level in dB")
        self.original_gain = self._slider(-60, 6, int(last.get("original_gain_db", -12)),
                                          "Level of the clip's own sound in dB (-60 = muted)")
        self.music_label = QtWidgets.QLabel()
        self.original_label = QtWidgets.QLabel()
        self.music_name = QtWidgets.QLabel("Music")
        self.original_name = QtWidgets.QLabel("Original audio")
        ml.addWidget(self.music_name, 0, 0)
        ml.addWidget(self.music_gain, 0, 1)
        ml.addWidget(self.music_label, 0, 2)
        ml.addWidget(self.original_name, 1, 0)
        ml.addWidget(self.original_gain, 1, 1)
        ml.addWidget(self.original_label, 1, 2)
        self.duck = QtWidgets.QCheckBox("Duck the music under speech and loud original sound")
        self.duck.setToolTip("Lower the music automatically where the clip's own sound is loud")
        self._duck_wanted = bool(last.get("duck", True))
        self.duck.setChecked(self._duck_wanted and has_original_audio)
        self.duck.toggled.connect(lambda on: setattr(self, "_duck_wanted", on) if self.duck.isEnabled() else None)
        ml.addWidget(self.duck, 2, 0, 1, 3)
        # Why the original-sound controls are off, when they are.
        self.mix_reason = QtWidgets.QLabel("")
        self.mix_reason.setObjectName("dim")
        self.mix_reason.setWordWrap(True)
        ml.addWidget(self.mix_reason, 3, 0, 1, 3)
        self._has_original = bool(has_original_audio)
        self.music_gain.valueChanged.connect(self._update_labels)
        self.original_gain.valueChanged.connect(self._update_labels)
        self._update_labels()
        lay.addWidget(self.mix_box)

        row = QtWidgets.QHBoxLayout()
        self.path_edit = QtWidgets.QLineEdit()
        self.path_edit.setToolTip("Where to write the export")
        self.browse = QtWidgets.QPushButton("Browse\u2026")
        self.browse.setToolTip("Choose the output file")
        self.browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse)
        lay.addLayout(row)

        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setToolTip("Export progress")
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        buttons = QtWidgets.QHBoxLayout()
        self.show_folder = QtWidgets.QPushButton("Show in folder")
        self.show_folder.setToolTip("Open the folder holding the export")
        self.show_folder.setEnabled(False)
        self.show_folder.clicked.connect(self._show_in_folder)
        self.export_button = QtWidgets.QPushButton("Export")
        self.export_button.setObjectName("primary")
        self.export_button.setToolTip("Start the export")
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QtWidgets.QPushButton("Close")
        self.cancel_button.setToolTip("Cancel a running export, or close this dialog")
        self.cancel_button.clicked.connect(self._cancel_or_close)
        buttons.addWidget(self.show_folder)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        lay.addLayout(buttons)

        self._folder = folder
        kind = last.get("kind", "mp4")
        self.kind_buttons.get(kind, self.kind_buttons["mp4"]).setChecked(True)

    def _slider(self, lo: int, hi: int, value: int, tip: str) -> QtWidgets.QSlider:
        s = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setValue(max(lo, min(hi, value)))
        s.setToolTip(tip)
        return s

    def _update_labels(self) -> None:
        self.music_label.setText(f"{self.music_gain.value():+d} dB")
        og = self.original_gain.value()
        self.original_label.setText("muted" if og <= self.original_gain.minimum() else f"{og:+d} dB")

    def kind(self) -> str:
        return next(k for k, b in self.kind_buttons.items() if b.isChecked())

    def _kind_changed(self) -> None:
        if not any(b.isChecked() for b in self.kind_buttons.values()):
            return
        kind = self.kind()
        self._update_mix(kind)
        self.path_edit.setText(str(default_output(self._clip, kind, self._folder)))

    def _update_mix(self, kind: str) -> None:
        """The music level applies to MP4 and WAV; the clip's own sound and ducking only to an
        MP4 of a clip that has sound. Every control that does nothing is disabled, with why."""
        music = kind in ("mp4", "wav")
        original = kind == "mp4" and self._has_original
        self.mix_box.setEnabled(music)
        for w in (self.music_name, self.music_gain, self.music_label):
            w.setEnabled(music)
        for w in (self.original_name, self.original_gain, self.original_label, self.duck):
            w.setEnabled(original)
        self.duck.blockSignals(True)
        self.duck.setChecked(original and self._duck_wanted)
        self.duck.blockSignals(False)
        if not self._has_original:
            reason = "The clip has no sound of its own: nothing to mix under the music."
        elif kind == "wav":
            reason = "A WAV export holds the music only; the clip's sound is not in it."
        elif kind != "mp4":
            reason = "Stems and MIDI hold the music's parts as they are, without a mix."
        else:
            reason = ""
        self.mix_reason.setText(reason)
        self.mix_reason.setVisible(bool(reason))
        self.original_gain.setToolTip(reason or "Level of the clip's own sound in dB (-60 = muted)")

    def _browse(self) -> None:
        kind = self.kind()
        if kind == "stems":
            path = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for the stems",
                                                              str(Path(self.path_edit.text()).parent))
        else:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text())
        if path:
            self.path_edit.setText(path)

    def settings(self) -> dict:
        return {"kind": self.kind(), "music_gain_db": float(self.music_gain.value()),
                "original_gain_db": float(self.original_gain.value()) if self.original_gain.isEnabled() else -60.0,
                "duck": self.duck.isChecked() if self.duck.isEnabled() else self._duck_wanted}

    # -- running ---------------------------------------------------------------------------
    def start(self) -> None:
        out = Path(self.path_edit.text()).expanduser()
        s = self.settings()
        self._cancel.clear()
        self.result_path = None
        self.error_text = ""
        self.progress.setValue(0)
        self.status.setText("Exporting\u2026")
        self.export_button.setEnabled(False)
        self.show_folder.setEnabled(False)
        self.cancel_button.setText("Cancel")
        export_fn, cancel = self._export_fn, self._cancel
        duck = self.duck.isEnabled() and self.duck.isChecked()
        relay = _ProgressRelay(self)
        relay.value.connect(lambda f: self.progress.setValue(int(1000 * max(0.0, min(1.0, f)))))

        def progress(frac, *_):
            relay.value.emit(float(frac))  # from the export thread: queued to the dialog

        from superqt.utils import thread_worker   # here, not at import: it costs the first paint

        @thread_worker(start_thread=False, ignore_errors=True)   # errors: shown in the dialog
        def job():
            return export_fn(out, s["kind"], s["music_gain_db"], s["original_gain_db"], duck,
                             progress, cancel)

        worker = job()
        worker.returned.connect(self._done)
        worker.errored.connect(self._failed)
        worker.finished.connect(self._finished)
        self._worker = worker
        worker.start()

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _done(self, path) -> None:
        self.result_path = Path(path)
        self.progress.setValue(1000)
        self.status.setText(f"Written: {self.result_path}")
        self.show_folder.setEnabled(True)
        self.exported.emit(str(self.result_path))

    def _failed(self, err: Exception) -> None:
        if isinstance(err, CancelledError):
            self.error_text = "Export cancelled; nothing was left behind."
        elif isinstance(err, RobinError):
            self.error_text = str(err)
        else:
            self.error_text = f"The export failed: {err}"
        self.status.setText(self.error_text)
        self.progress.setValue(0)

    def _finished(self) -> None:
        self._worker = None
        self.export_button.setEnabled(True)
        self.cancel_button.setText("Close")

    def _cancel_or_close(self) -> None:
        if self._worker is not None:
            self._cancel.set()
            self.status.setText("Cancelling\u2026")
        else:
            self.reject()

    def reject(self) -> None:  # Esc / window close while exporting cancels first
        if self._worker is not None:
            self._cancel.set()
            return
        super().reject()

    def _show_in_folder(self) -> None:
        if self.result_path is not None:
            folder = self.result_path if self.result_path.is_dir() else self.result_path.parent
            QtGui.QDesktopServices.openUrl(QtCore.QUrl.fromLocalFile(str(folder)))


class _ProgressRelay(QtCore.QObject):
    """Carries progress from the export thread to the dialog (a queued signal)."""

    value = QtCore.Signal(float)
