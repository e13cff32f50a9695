"""What the prompt was understood to ask for, said back to the creator: the controls, the words
that set each, and every part that could not be honoured exactly (issue 16, "nothing silent").

The CLI prints `report_lines` before the music starts; the app shows the same lines next to the
prompt and fills its side panel from `controls` and `Intent.provenance` (which words set each
control, keys as in `controls`, plus "instruments:NAME", "excluded_instruments:NAME" and
"exclude_roles:ROLE" per item) and `Intent.spans` (where those words are in the prompt).

`controls` is also what "the same parsed controls" means when a translated prompt is compared
with its English original (`tests/test_intent_multilingual.py`), and `parse_adherence` scores
prompts against expected controls per language, for `robin-studio eval`.
"""

from __future__ import annotations

from robin_studio.intent.instruments import INSTRUMENTS, instrument_spec
from robin_studio.intent.styles import available_style
from robin_studio.intent.types import Intent
from robin_studio.intent.vocabulary import meanings

# Control names, in the order the app's panel and the report show them.
CONTROL_NAMES: tuple[str, ...] = (
    "style", "tempo_bpm", "tempo_range_bpm", "key_tonic", "key_mode", "instruments",
    "exclusive_instruments", "excluded_instruments", "exclude_roles", "drum_kit", "dynamics",
    "energy", "moods", "timed_wishes")


def energy_level(energy: float | None) -> str | None:
    """"low" / "medium" / "high": the energy as a listener would name it."""
    if energy is None:
        return None
    return "low" if energy < 0.45 else ("medium" if energy < 0.67 else "high")


def controls(intent: Intent) -> dict[str, object]:
    """The explicit controls of an Intent as plain, comparable values (one per CONTROL_NAMES).

    Lists are sorted (the order words were typed in is not a control), the energy is given as
    a level, timed wishes as (kind, start, end, from the end, roles, anchor) with a picture
    anchor's words replaced by "picture" (the words differ between languages; "intro" and
    "ending" are kept)."""
    wishes = []
    for w in intent.timed_wishes:
        anchor = w.anchor_text if w.anchor_text in ("", "intro", "ending") else "picture"
        wishes.append((w.kind, w.start_s, w.end_s, w.relative_to_end,
                       tuple(sorted(r.value for r in w.roles)), anchor))
    return {
        "style": intent.style,
        "tempo_bpm": intent.tempo_bpm,
        "tempo_range_bpm": intent.tempo_range_bpm,
        "key_tonic": intent.key_tonic,
        "key_mode": intent.key_mode,
        "instruments": tuple(sorted(intent.instruments)),
        "exclusive_instruments": intent.exclusive_instruments,
        "excluded_instruments": tuple(sorted(intent.excluded_instruments)),
        "exclude_roles": tuple(sorted(r.value for r in intent.exclude_roles)),
        "drum_kit": intent.drum_kit,
        "dynamics": None if intent.dynamics is None else ("soft" if intent.dynamics < 0.5
                                                          else "loud"),
        "energy": energy_level(intent.energy),
        "moods": tuple(sorted(intent.moods)),
        "timed_wishes": tuple(sorted(wishes, key=repr)),
    }


def instrument_label(name: str) -> str:
    """How an instrument is named to the creator ("a nylon-string guitar")."""
    label = meanings().get("label", {}).get(name)
    if label:
        return str(label)
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def used_words(intent: Intent) -> list[str]:
    """The words of the prompt that set a control, in the order they were typed."""
    seen: dict[tuple[int, int], str] = {}
    for start, end, _ in sorted(intent.spans):
        if (start, end) not in seen and not any(a <= start and end <= b for a, b in seen):
            seen[(start, end)] = intent.prompt[start:end].strip()
    return [w for w in seen.values() if w]


def report_lines(intent: Intent) -> list[str]:
    """What was understood, which words were used, what was substituted or could not be
    honoured, and which words set nothing. Empty for an empty prompt."""
    from robin_studio.intent.parse import describe_intent

    if not intent.prompt.strip():
        return []
    lines: list[str] = []
    understood = describe_intent(intent)
    if understood:
        lines.append(f"understood: {understood}")
        if intent.unknown_words or intent.notes or intent.substitutions:
            lines.append(f"  from the words: {', '.join(used_words(intent))}")
    else:
        lines.append("understood: no explicit control (tempo, key, instruments, style, mood) "
                     "in the prompt")
    for word, name in intent.substitutions:
        lines.append(f"{word}: not in our instruments, using {instrument_label(name)}")
    for note in intent.notes:
        lines.append(f"note: {note}")
    if intent.unknown_words:
        lines.append(f"not understood: {', '.join(intent.unknown_words)} (these words still "
                     f"colour the music through the prompt's overall meaning)")
    return lines


def understanding(intent: Intent) -> dict:
    """Everything the app needs to show beside the prompt, as plain data (JSON-ready):
    {"controls": controls(intent), "provenance": {control: [words]}, "spans": [(start, end,
    control)] in the prompt as typed, "substitutions": [(word, instrument)], "unknown_words",
    "notes", "lines": report_lines(intent)}."""
    ctl = controls(intent)
    return {
        "controls": {k: (list(v) if isinstance(v, tuple) else v) for k, v in ctl.items()},
        "provenance": {k: list(v) for k, v in intent.provenance.items()},
        "spans": [list(s) for s in intent.spans],
        "substitutions": [list(s) for s in intent.substitutions],
        "unknown_words": list(intent.unknown_words),
        "notes": list(intent.notes),
        "lines": report_lines(intent),
    }


def same_controls(a: Intent, b: Intent, *, fields: tuple[str, ...] | None = None) -> bool:
    """Do two Intents ask for the same thing? (`fields`: compare only these controls.)"""
    ca, cb = controls(a), controls(b)
    return all(ca[f] == cb[f] for f in (fields or CONTROL_NAMES))


# -- adherence of the parse, per language (for robin-studio eval) ---------------------------
def _has_instrument(intent: Intent, name: str) -> bool:
    """Does the Intent ask for `name` (a canonical name, "synth_bass" also accepted), or for an
    instrument that plays the same sounds ("brush kit" for "drums", "slap bass" for
    "electric bass")?"""
    spec = instrument_spec(name)
    if name == "drums" or (spec is not None and spec.kit):
        return any(n == "drums" or (INSTRUMENTS[n].kit if n in INSTRUMENTS else False)
                   for n in intent.instruments)
    if spec is None:
        return False
    wanted = set(spec.ban)
    return any(set(INSTRUMENTS[n].programs) & wanted for n in intent.instruments if n in INSTRUMENTS)


def prompt_adherence(intent: Intent, expected: dict) -> dict[str, bool]:
    """Which expected controls the parse got, per field, for one prompt described as in
    robin_studio/eval/heldout_prompts.toml (style, tempo_bpm, mode, key, wanted, unwanted)."""
    from robin_studio.score.theory import NOTE_NAMES

    got: dict[str, bool] = {}
    if expected.get("style"):
        # a finer style the music does not know yet counts as its family (intent.styles)
        got["style"] = intent.style == available_style(expected["style"])
    if expected.get("tempo_bpm") is not None:
        got["tempo_bpm"] = intent.tempo_bpm == float(expected["tempo_bpm"])
    if expected.get("mode"):
        got["mode"] = intent.key_mode == expected["mode"]
    if expected.get("key"):
        got["key"] = intent.key_tonic is not None and \
            NOTE_NAMES[intent.key_tonic].lower() == str(expected["key"]).lower()
    for name in expected.get("wanted", []):
        got[f"wanted:{name}"] = _has_instrument(intent, name)
    for name in expected.get("unwanted", []):
        spec = instrument_spec(name)
        if name == "drums":
            ok = "drums" in {r.value for r in intent.exclude_roles}
        else:
            ok = spec is not None and (name.replace("_", " ") in intent.excluded_instruments
                                       or bool(intent.exclusive_instruments
                                               and not _has_instrument(intent, name)))
        got[f"unwanted:{name}"] = ok
    return got


def parse_adherence(prompts: list[dict]) -> dict[str, dict[str, float]]:
    """Per language: the share of expected controls the parser reads from the prompts
    (entries as in heldout_prompts.toml: "lang", "text" and the expected fields), overall
    ("all") and per field kind ("style", "tempo_bpm", "mode", "key", "wanted", "unwanted").
    Measures the parse only; the music's adherence is measured on the audio by the eval."""
    from robin_studio.intent.parse import parse_prompt

    tallies: dict[str, dict[str, list[int]]] = {}
    for entry in prompts:
        lang = str(entry.get("lang", "?"))
        got = prompt_adherence(parse_prompt(str(entry.get("text", "")), embed=False), entry)
        for field_name, ok in got.items():
            for key in ("all", field_name.split(":")[0]):
                t = tallies.setdefault(lang, {}).setdefault(key, [0, 0])
                t[0] += int(ok)
                t[1] += 1
    return {lang: {k: round(ok / n, 3) for k, (ok, n) in fields.items()}
            for lang, fields in tallies.items()}
