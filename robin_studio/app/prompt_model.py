"""One truth between the prompt and the side panel (issue 16, item 4). No Qt here.

The prompt is read with the intent parser's rules (no text embedding: it is instant) each time
it changes. Every control of the panel (tempo, key, each part, style) then has a value and a
source: "prompt" (the prompt set it: the panel shows it, marked as coming from the prompt),
"panel" (the creator changed it in the panel: it overrides the prompt) or "auto".
`engine_prompt` builds what is sent so the panel's overrides win: they come first (the parser
obeys the first tempo and key it reads) and a part the panel switches back on has the prompt's
"no <part>" removed. The report lines are the parser's own (`intent.report.report_lines`: what
was understood, substituted, not understood), shown next to the prompt; the words that set each
control (`Intent.provenance`) are in the marked control's tooltip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from robin_studio.app.project import ROLE_NAMES, GenerationSettings

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
CONTROLS = ("tempo", "key", "styles", *ROLE_NAMES)


@dataclass
class PromptReading:
    """What the prompt's words set, by control (absent = the prompt says nothing)."""

    tempo_bpm: float | None = None
    key: str | None = None                     # "D minor"
    roles_off: set[str] = field(default_factory=set)
    style: str | None = None
    understood: str = ""                       # "120 bpm, D minor, no drums"
    report: list[str] = field(default_factory=list)
    words: dict[str, str] = field(default_factory=dict)   # control -> the words that set it


def read_prompt(text: str) -> PromptReading:
    """The prompt's explicit controls, by the intent parser's rules."""
    from robin_studio.intent.parse import describe_intent, parse_prompt

    text = (text or "").strip()
    if not text:
        return PromptReading()
    intent = parse_prompt(text, embed=False)
    key = None
    if intent.key_tonic is not None and intent.key_mode in ("major", "minor"):
        key = f"{NOTE_NAMES[int(intent.key_tonic) % 12]} {intent.key_mode}"
    try:   # the parser's own report: understood, substituted, not understood
        from robin_studio.intent.report import report_lines
        lines = report_lines(intent)
        understood = ""            # the report's first line says it
    except ImportError:
        lines = []
        understood = describe_intent(intent)
    prov = getattr(intent, "provenance", {}) or {}

    def said(*names: str) -> str:
        words = [w for n in names for w in prov.get(n, [])]
        return ", ".join(dict.fromkeys(words))

    words = {"tempo": said("tempo_bpm"), "key": said("key_tonic", "key_mode"), "styles": said("style"),
             **{r.value: said(f"exclude_roles:{r.value}", "exclude_roles") for r in intent.exclude_roles}}
    return PromptReading(tempo_bpm=intent.tempo_bpm, key=key,
                         roles_off={r.value for r in intent.exclude_roles}, style=intent.style,
                         understood=understood, report=[ln for ln in lines if ln],
                         words={k: v for k, v in words.items() if v})


class PromptControls:
    """Which control came from where, given the prompt's reading and the panel's values."""

    def __init__(self) -> None:
        self.reading = PromptReading()
        self.source: dict[str, str] = {c: "auto" for c in CONTROLS}

    def from_prompt(self, control: str) -> bool:
        return self.source.get(control) == "prompt"

    def overridden(self, control: str) -> bool:
        return self.source.get(control) == "panel"


_NEG = r"(?:no|without|sans|ohne|sin|senza|sem)"


def engine_prompt(text: str, settings: GenerationSettings, controls: PromptControls) -> str:
    """The prompt as sent: the panel's overrides first, then the prompt's words (with the
    "no <part>" the panel switched back on taken out), then the panel's own choices that the
    prompt does not mention."""
    from robin_studio.app.prompt_panel import STYLE_LABELS

    body = text.strip().rstrip(".")
    first: list[str] = []
    last: list[str] = []
    src = controls.source
    if settings.tempo_bpm is not None and src.get("tempo") != "prompt":
        (first if controls.reading.tempo_bpm is not None else last).append(
            f"at {int(round(settings.tempo_bpm))} bpm")
    if settings.key and src.get("key") != "prompt":
        (first if controls.reading.key is not None else last).append(f"in {settings.key}")
    if settings.styles and src.get("styles") != "prompt":
        last.append(" and ".join(STYLE_LABELS.get(s, s) for s in settings.styles))
    for role in ROLE_NAMES:
        on = settings.instruments.get(role, True)
        if on and role in controls.reading.roles_off:
            body = re.sub(rf",?\s*\b{_NEG}\s+(?:the\s+|any\s+)?{role}\b", "", body, flags=re.IGNORECASE).strip(" ,")
        elif not on and role not in controls.reading.roles_off:
            last.append(f"no {role}")
    parts = first + ([body] if body else []) + last
    return ", ".join(p for p in parts if p)
