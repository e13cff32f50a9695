"""First-run checks: is there a SoundFont, are the models in place, is there a sound card?

Each check returns a `Check` with a message a creator can act on. The app shows the failed
ones once, at start, and keeps working without the missing part where it can (no sound card:
playback is off, everything else works). No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from robin_studio import paths


@dataclass
class Check:
    name: str
    ok: bool
    message: str


def check_soundfont(explicit: str | Path | None = None) -> Check:
    """The renderer's own search (its message says where it looked and what to install)."""
    from robin_studio.errors import SoundFontError
    from robin_studio.render.synth import find_soundfont

    try:
        sf = find_soundfont(explicit)
    except SoundFontError as err:
        return Check("SoundFont", False, str(err))
    return Check("SoundFont", True, f"Using {sf.name}.")


def check_models(models_dir: str | Path | None = None) -> Check:
    """The trained music model (models/manifest.json and its ONNX files). Without it the
    engine still works, with its simple loop generator, and says so here."""
    folder = Path(models_dir) if models_dir else paths.models_dir()
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return Check("Models", False,
                     f"The trained music model is not installed ({manifest} is missing), so "
                     "Robin Studio uses its simple loop generator instead. Reinstall Robin Studio, "
                     "or set ROBIN_STUDIO_MODELS_DIR to the folder holding the model files.")
    onnx = sorted(folder.glob("**/*.onnx"))
    return Check("Models", True, f"Music model found ({len(onnx)} ONNX file(s) in {folder}).")


def check_audio_device() -> Check:
    """A default output device through PortAudio; without one, the picture plays silently."""
    try:
        import sounddevice as sd
    except OSError:
        return Check("Audio output", False,
                     "The PortAudio library is missing, so sound is off: the picture plays "
                     "without sound. Install it (sudo apt-get install libportaudio2); export "
                     "still works.")
    try:
        dev = sd.query_devices(kind="output")
    except Exception:  # noqa: BLE001 - PortAudioError or ValueError when there is none
        dev = None
    if not dev or int(dev.get("max_output_channels", 0)) < 1:
        return Check("Audio output", False,
                     "No audio output device was found, so sound is off: the picture plays "
                     "without sound. Connect headphones or speakers and restart; generating "
                     "and exporting still work.")
    return Check("Audio output", True, f"Playing through {dev.get('name', 'the default device')}.")


def run_checks(models_dir: str | Path | None = None,
               soundfont: str | Path | None = None) -> list[Check]:
    return [check_soundfont(soundfont), check_models(models_dir), check_audio_device()]
