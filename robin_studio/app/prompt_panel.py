"""The prompt panel: what the creator asks for, and the Generate / Stop / Regenerate buttons.

A multi-line prompt with a history, style chips from the shared style vocabulary, tempo
(automatic, or fixed bpm), key, instrument parts on/off and the seed. `engine_prompt()` folds
the controls into words the intent parser obeys exactly ("at 92 bpm", "in A minor",
"no drums"), so the engine sees one prompt whatever path it takes.
"""

from __future__ import annotations

import random

from PySide6 import QtCore, QtWidgets

from robin_studio.app.project import ROLE_NAMES, GenerationSettings
from robin_studio.app.prompt_model import CONTROLS, PromptControls, read_prompt
from robin_studio.app.prompt_model import engine_prompt as panel_engine_prompt

try:
    from robin_studio.intent.styles import STYLES
except ImportError:  # the vocabulary is another package's; keep the panel usable without it
    STYLES = ("cinematic", "ambient", "lofi", "pop", "rock", "electronic",
              "folk", "orchestral", "jazz", "hiphop", "corporate", "thriller")

STYLE_LABELS = {"lofi": "lo-fi", "hiphop": "hip-hop"}
KEYS = [f"{tonic} {mode}" for mode in ("major", "minor")
        for tonic in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")]
ROLE_TIPS = {
    "drums": "Drum kit part on/off",
    "bass": "Bass line on/off",
    "harmony": "Chords (piano, pads, guitar...) on/off",
    "melody": "Lead melody on/off",
    "texture": "Texture part (arpeggios, ambience) on/off",
}


class FlowLayout(QtWidgets.QLayout):
    """Lays chips left to right, wrapping to new rows (Qt has no built-in flow layout)."""

    def __init__(self, parent=None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QtWidgets.QLayoutItem] = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item):  # noqa: N802
        self._items.append(item)

    def count(self):
        return len(self._items)

    def itemAt(self, i):  # noqa: N802
        return self._items[i] if 0 <= i < len(self._items) else None

    def takeAt(self, i):  # noqa: N802
        return self._items.pop(i) if 0 <= i < len(self._items) else None

    def expandingDirections(self):  # noqa: N802
        return QtCore.Qt.Orientation(0)

    def hasHeightForWidth(self):  # noqa: N802
        return True

    def heightForWidth(self, width):  # noqa: N802
        return self._do_layout(QtCore.QRect(0, 0, width, 0), test=True)

    def setGeometry(self, rect):  # noqa: N802
        super().setGeometry(rect)
        self._do_layout(rect, test=False)

    def sizeHint(self):  # noqa: N802
        return self.minimumSize()

    def minimumSize(self):  # noqa: N802
        size = QtCore.QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _do_layout(self, rect, test: bool) -> int:
        x, y, line_h = rect.x(), rect.y(), 0
        sp = self.spacing()
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() and line_h > 0:
                x, y, line_h = rect.x(), y + line_h + sp, 0
            if not test:
                item.setGeometry(QtCore.QRect(QtCore.QPoint(x, y), hint))
            x += hint.width() + sp
            line_h = max(line_h, hint.height())
        return y + line_h - rect.y()


class PromptPanel(QtWidgets.QWidget):
    generateRequested = QtCore.Signal()
    stopRequested = QtCore.Signal()
    regenerateRequested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setMinimumWidth(300)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)

        head = QtWidgets.QHBoxLayout()
        title = QtWidgets.QLabel("Intent")
        title.setObjectName("heading")
        head.addWidget(title)
        head.addStretch(1)
        self.history = QtWidgets.QComboBox()
        self.history.setToolTip("Earlier prompts: pick one to put it back in the box")
        self.history.setPlaceholderText("History")
        self.history.setMinimumContentsLength(10)
        self.history.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.history.activated.connect(self._history_picked)
        head.addWidget(self.history)
        lay.addLayout(head)

        self.prompt = QtWidgets.QPlainTextEdit()
        self.prompt.setPlaceholderText('Describe the music, e.g. "warm lo-fi piano, builds to the end, '
                                       'no drums until the title card"')
        self.prompt.setToolTip("What the music should be: style, mood, instruments, tempo, key, and\n"
                               "wishes tied to the picture (\"quiet for the first 10 seconds\").")
        self.prompt.setMinimumHeight(64)
        self.prompt.setMaximumHeight(110)
        lay.addWidget(self.prompt)
        # What the engine made of the prompt, and anything it could not honour exactly
        # (an asked tempo that leaves cuts off the beat...): next to the prompt, in full.
        self.note = QtWidgets.QLabel("")
        self.note.setObjectName("note")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setToolTip("What Robin Studio could not do exactly as asked")
        self.note.hide()
        lay.addWidget(self.note)

        chips_box = QtWidgets.QWidget()
        self.chip_layout = FlowLayout(chips_box)
        self.chips: dict[str, QtWidgets.QPushButton] = {}
        for sid in STYLES:
            chip = QtWidgets.QPushButton(STYLE_LABELS.get(sid, sid))
            chip.setObjectName("chip")
            chip.setCheckable(True)
            chip.setToolTip(f"Add the {STYLE_LABELS.get(sid, sid)} style to the prompt")
            chip.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
            self.chip_layout.addWidget(chip)
            self.chips[sid] = chip
        lay.addWidget(chips_box)

        form = QtWidgets.QGridLayout()
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(4)
        form.addWidget(QtWidgets.QLabel("Tempo"), 0, 0)
        self.tempo_auto = QtWidgets.QCheckBox("Auto")
        self.tempo_auto.setChecked(True)
        self.tempo_auto.setToolTip("Automatic tempo: chosen so that cuts land on beats")
        self.tempo_bpm = QtWidgets.QSpinBox()
        self.tempo_bpm.setRange(40, 220)
        self.tempo_bpm.setValue(100)
        self.tempo_bpm.setSuffix(" bpm")
        self.tempo_bpm.setEnabled(False)
        self.tempo_bpm.setToolTip("Fixed tempo in beats per minute (untick Auto to use it)")
        self.tempo_auto.toggled.connect(lambda on: self.tempo_bpm.setEnabled(not on))
        form.addWidget(self.tempo_auto, 0, 1)
        form.addWidget(self.tempo_bpm, 0, 2)
        form.addWidget(QtWidgets.QLabel("Key"), 1, 0)
        self.key = QtWidgets.QComboBox()
        self.key.addItem("Auto")
        self.key.addItems(KEYS)
        self.key.setToolTip("Key of the piece; Auto lets the prompt and the picture decide")
        form.addWidget(self.key, 1, 1, 1, 2)
        form.addWidget(QtWidgets.QLabel("Seed"), 2, 0)
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("Random seed: the same clip, prompt and seed give the same music")
        self.dice = QtWidgets.QToolButton()
        self.dice.setText("Random")
        self.dice.setToolTip("Pick a new random seed")
        self.dice.clicked.connect(lambda: self.seed.setValue(random.randrange(0, 2**31 - 1)))
        form.addWidget(self.seed, 2, 1)
        form.addWidget(self.dice, 2, 2)
        form.setColumnStretch(1, 1)
        lay.addLayout(form)

        parts_box = QtWidgets.QWidget()
        parts = FlowLayout(parts_box, spacing=2)   # wraps on a narrow panel instead of eliding
        self.instruments: dict[str, QtWidgets.QToolButton] = {}
        for role in ROLE_NAMES:
            b = QtWidgets.QToolButton()
            b.setText(role.capitalize())
            b.setCheckable(True)
            b.setChecked(True)
            b.setObjectName("part")
            b.setToolTip(ROLE_TIPS[role])
            parts.addWidget(b)
            self.instruments[role] = b
        lay.addWidget(parts_box)

        # Which controls the prompt set (one truth: the panel shows what will be sent).
        self.sources_label = QtWidgets.QLabel("")
        self.sources_label.setObjectName("sources")
        self.sources_label.setWordWrap(True)
        self.sources_label.setToolTip("Controls set by the prompt's words are marked; changing one here\n"
                                      "overrides the prompt, and that is what is sent")
        lay.addWidget(self.sources_label)

        lay.addStretch(1)
        buttons = QtWidgets.QHBoxLayout()
        self.generate_button = QtWidgets.QPushButton("Generate")
        self.generate_button.setObjectName("primary")
        self.generate_button.setToolTip("Generate music for the whole clip (Ctrl+Return)")
        self.generate_button.clicked.connect(self.generateRequested)
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.stop_button.setObjectName("danger")
        self.stop_button.setToolTip("Stop generating now (Esc); what arrived so far stays")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stopRequested)
        buttons.addWidget(self.generate_button, 2)
        buttons.addWidget(self.stop_button, 1)
        lay.addLayout(buttons)
        self.regenerate_button = QtWidgets.QPushButton("Regenerate selection")
        self.regenerate_button.setToolTip("Generate the selected region again with this prompt and a new\n"
                                          "seed; the music around it stays (Ctrl+R)")
        self.regenerate_button.setEnabled(False)
        self.regenerate_button.clicked.connect(self.regenerateRequested)
        lay.addWidget(self.regenerate_button)

        self.controls = PromptControls()
        self._setting = False          # True while the panel sets its own widgets
        self._reread_timer = QtCore.QTimer(self)
        self._reread_timer.setSingleShot(True)
        self._reread_timer.setInterval(150)
        self._reread_timer.timeout.connect(self.reread)
        self.prompt.textChanged.connect(self._reread_timer.start)
        self.tempo_auto.toggled.connect(lambda _on: self._user_changed("tempo"))
        self.tempo_bpm.valueChanged.connect(lambda _v: self._user_changed("tempo"))
        self.key.currentIndexChanged.connect(lambda _i: self._user_changed("key"))
        for role, b in self.instruments.items():
            b.toggled.connect(lambda _on, role=role: self._user_changed(role))
        for chip in self.chips.values():
            chip.toggled.connect(lambda _on: self._user_changed("styles"))
        self._show_sources()

    # -- history -----------------------------------------------------------------------
    def set_history(self, prompts: list[str]) -> None:
        self.history.clear()
        for p in prompts:
            self.history.addItem(p if len(p) <= 60 else p[:57] + "...", p)
        self.history.setCurrentIndex(-1)

    def _history_picked(self, index: int) -> None:
        text = self.history.itemData(index)
        if text:
            self.prompt.setPlainText(text)

    # -- values ------------------------------------------------------------------------
    def text(self) -> str:
        return self.prompt.toPlainText().strip()

    def settings(self) -> GenerationSettings:
        return GenerationSettings(
            seed=self.seed.value(),
            tempo_bpm=None if self.tempo_auto.isChecked() else float(self.tempo_bpm.value()),
            key=None if self.key.currentIndex() <= 0 else self.key.currentText(),
            instruments={r: b.isChecked() for r, b in self.instruments.items()},
            styles=[s for s, chip in self.chips.items() if chip.isChecked()],
        )

    def apply(self, prompt: str, settings: GenerationSettings) -> None:
        """Show a prompt and its controls (a take's, a project's). Each control is marked as
        coming from the prompt when the prompt's words set it to that value."""
        self._setting = True
        try:
            self.prompt.setPlainText(prompt)
            self._reread_timer.stop()
            self.seed.setValue(int(settings.seed))
            self._set_widgets(settings)
        finally:
            self._setting = False
        reading = read_prompt(self.text())
        self.controls.reading = reading
        src = self.controls.source
        src["tempo"] = ("prompt" if reading.tempo_bpm is not None and settings.tempo_bpm is not None
                        and round(settings.tempo_bpm) == round(reading.tempo_bpm)
                        else "panel" if settings.tempo_bpm is not None else "auto")
        src["key"] = ("prompt" if reading.key is not None and settings.key == reading.key
                      else "panel" if settings.key else "auto")
        for r in ROLE_NAMES:
            on = settings.instruments.get(r, True)
            src[r] = ("prompt" if (r in reading.roles_off and not on)
                      else "panel" if (not on or r in reading.roles_off) else "auto")
        src["styles"] = ("prompt" if reading.style and settings.styles == [reading.style]
                         else "panel" if settings.styles else "auto")
        self._show_sources()

    def _set_widgets(self, settings: GenerationSettings) -> None:
        self.tempo_auto.setChecked(settings.tempo_bpm is None)
        if settings.tempo_bpm is not None:
            self.tempo_bpm.setValue(int(round(settings.tempo_bpm)))
        self.key.setCurrentIndex(0 if not settings.key else max(0, self.key.findText(settings.key)))
        for r, b in self.instruments.items():
            b.setChecked(settings.instruments.get(r, True))
        for s, chip in self.chips.items():
            chip.setChecked(s in settings.styles)

    # -- one truth with the prompt ----------------------------------------------------------
    def reread(self) -> None:
        """The prompt changed: controls its words set follow it (unless the creator has
        changed them here); controls it no longer sets go back to Auto."""
        self._reread_timer.stop()
        reading = read_prompt(self.text())
        self.controls.reading = reading
        src = self.controls.source
        self._setting = True
        try:
            if src["tempo"] != "panel":
                if reading.tempo_bpm is not None:
                    self.tempo_auto.setChecked(False)
                    self.tempo_bpm.setValue(int(round(reading.tempo_bpm)))
                    src["tempo"] = "prompt"
                elif src["tempo"] == "prompt":
                    self.tempo_auto.setChecked(True)
                    src["tempo"] = "auto"
            if src["key"] != "panel":
                if reading.key is not None:
                    self.key.setCurrentIndex(max(0, self.key.findText(reading.key)))
                    src["key"] = "prompt"
                elif src["key"] == "prompt":
                    self.key.setCurrentIndex(0)
                    src["key"] = "auto"
            for r, b in self.instruments.items():
                if src[r] == "panel":
                    continue
                if r in reading.roles_off:
                    b.setChecked(False)
                    src[r] = "prompt"
                elif src[r] == "prompt":
                    b.setChecked(True)
                    src[r] = "auto"
            if src["styles"] != "panel":
                for sid, chip in self.chips.items():
                    chip.setChecked(sid == reading.style)
                src["styles"] = "prompt" if reading.style in self.chips else "auto"
        finally:
            self._setting = False
        self._show_sources()

    def _user_changed(self, control: str) -> None:
        if self._setting:
            return
        reading = self.controls.reading
        if control == "tempo" and self.tempo_auto.isChecked() and reading.tempo_bpm is not None:
            # Auto cannot un-say the prompt's tempo: the prompt's value is what is sent.
            self._setting = True
            self.tempo_auto.setChecked(False)
            self.tempo_bpm.setValue(int(round(reading.tempo_bpm)))
            self._setting = False
            self.controls.source["tempo"] = "prompt"
        elif control == "key" and self.key.currentIndex() == 0 and reading.key is not None:
            self._setting = True
            self.key.setCurrentIndex(max(0, self.key.findText(reading.key)))
            self._setting = False
            self.controls.source["key"] = "prompt"
        else:
            self.controls.source[control] = "panel"
        self._show_sources()

    def _show_sources(self) -> None:
        src, reading = self.controls.source, self.controls.reading
        names = {"tempo": "tempo", "key": "key", "styles": "style"}
        said = reading.words
        from_prompt = [names.get(c, c) + (f" (\u201c{said[c]}\u201d)" if said.get(c) else "")
                       for c in CONTROLS if src.get(c) == "prompt"]
        over = [names.get(c, c) for c in CONTROLS if src.get(c) == "panel"
                and (c in ("tempo", "key") and getattr(reading, "tempo_bpm" if c == "tempo" else "key") is not None
                     or c in reading.roles_off or (c == "styles" and reading.style))]
        lines = []
        if reading.understood:
            lines.append(f"Understood: {reading.understood}")
        if from_prompt:
            lines.append("\u25c6 From the prompt: " + ", ".join(from_prompt))
        if over:
            lines.append("\u25c7 Changed here (overrides the prompt): " + ", ".join(over))
        self.sources_label.setText("\n".join(lines))
        self.sources_label.setVisible(bool(lines))
        widgets = {"tempo": [self.tempo_auto, self.tempo_bpm], "key": [self.key],
                   **{r: [b] for r, b in self.instruments.items()},
                   "styles": [c for c in self.chips.values() if c.isChecked()]}
        for c, ws in widgets.items():
            for w in ws:
                mark = src.get(c, "auto")
                base = w.property("base_tip")
                if base is None:
                    base = w.toolTip()
                    w.setProperty("base_tip", base)
                extra = {"prompt": f"Set by the prompt{(': ' + chr(8220) + said[c] + chr(8221)) if said.get(c) else ''}",
                         "panel": "Changed here: overrides the prompt, and is what is sent"}.get(mark)
                w.setToolTip(base + (f"\n{extra}" if extra else ""))
                if w.property("source") != mark:
                    w.setProperty("source", mark)
                    w.style().unpolish(w)
                    w.style().polish(w)
        if reading.report:
            self.set_report(reading.report)
        else:
            self.set_report([])

    def set_report(self, lines: list[str]) -> None:
        self._report = list(lines)
        self._show_note()

    def flush(self) -> None:
        """Read the prompt now if it changed since it was last read (before a generation)."""
        if self._reread_timer.isActive():
            self.reread()

    def engine_prompt(self) -> str:
        self.flush()
        return panel_engine_prompt(self.text(), self.settings(), self.controls)

    def set_note(self, text: str) -> None:
        """An engine's note about the last take (an asked tempo leaving cuts off the beat)."""
        self._engine_note = text or ""
        self._show_note()

    def _show_note(self) -> None:
        lines = list(getattr(self, "_report", [])) + ([self._engine_note] if getattr(self, "_engine_note", "") else [])
        self.note.setText("\n".join(lines))
        self.note.setVisible(bool(lines))

    def set_busy(self, busy: bool, can_regenerate: bool) -> None:
        self.generate_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.regenerate_button.setEnabled(not busy and can_regenerate)


def compose_prompt(text: str, settings: GenerationSettings) -> str:
    """The prompt text plus the panel's controls, in words the intent parser obeys."""
    parts = [text.strip().rstrip(".")] if text.strip() else []
    if settings.styles:
        parts.append(" and ".join(STYLE_LABELS.get(s, s) for s in settings.styles))
    if settings.tempo_bpm is not None:
        parts.append(f"at {int(round(settings.tempo_bpm))} bpm")
    if settings.key:
        parts.append(f"in {settings.key}")
    off = settings.excluded_roles()
    if off:
        parts.append("no " + ", no ".join(off))
    return ", ".join(parts)
