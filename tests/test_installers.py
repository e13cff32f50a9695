"""Cheap checks of the installers that run in CI without building anything: the desktop entry
validates, every icon size is a real PNG of that size, the PyInstaller spec keeps torch out and
points at files that exist, the shell scripts parse, and the constraints pin the CPU torch."""

from __future__ import annotations

import ast
import configparser
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALLERS = ROOT / "installers"
DESKTOP = INSTALLERS / "linux" / "robin-studio.desktop"
SPEC = INSTALLERS / "robin-studio.spec"
ICON_SIZES_PX = (16, 32, 48, 64, 128, 256, 512)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (the first chunk, right after the signature)."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path}: first chunk is not IHDR"
    return struct.unpack(">II", head[16:24])


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str            # keys are case-sensitive in desktop entries
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def spec_call(name: str) -> ast.Call:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == name]
    assert len(calls) == 1, f"expected one {name}(...) in the spec"
    return calls[0]


def spec_keyword(call: ast.Call, key: str) -> ast.expr:
    return next(k.value for k in call.keywords if k.arg == key)


# ------------------------------------------------------------------ desktop entry
def test_desktop_entry_validates():
    tool = shutil.which("desktop-file-validate")
    if tool is not None:
        out = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True, timeout=30)
        # The validator prints errors and warnings and exits non-zero on errors; hints are fine.
        problems = [ln for ln in (out.stdout + out.stderr).splitlines() if "hint:" not in ln]
        assert out.returncode == 0 and not problems, out.stdout + out.stderr
    entry = desktop_entry()
    for key in ("Type", "Name", "Exec", "Icon", "Categories"):
        assert entry.get(key), f"{key} is missing from {DESKTOP.name}"
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "robin-studio"
    assert entry["Categories"].endswith(";") and "AudioVideo" in entry["Categories"]
    assert "video/mp4" in entry["MimeType"].split(";")


def test_desktop_icon_name_matches_the_icon_files():
    name = desktop_entry()["Icon"]
    for size in ICON_SIZES_PX:
        assert (ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / f"{name}.png").is_file()


# ------------------------------------------------------------------ icons
@pytest.mark.parametrize("size", ICON_SIZES_PX)
def test_icon_is_a_png_of_its_size(size):
    path = ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "robin-studio.png"
    assert path.is_file(), f"{path} is missing: run installers/make_icons.py"
    assert png_size(path) == (size, size)


def test_icon_shows_the_drawing_not_an_empty_square():
    from PySide6 import QtGui

    img = QtGui.QImage(str(ROOT / "resources" / "icons" / "hicolor" / "64x64" / "robin-studio.png"))
    assert not img.isNull()
    colours = {img.pixel(x, y) for x in range(0, 64, 2) for y in range(0, 64, 2)}
    opaque = sum(QtGui.QColor.fromRgba(img.pixel(x, y)).alpha() > 200
                 for x in range(64) for y in range(64))
    assert len(colours) > 20            # a drawing, not a flat fill
    assert 0.5 * 64 * 64 < opaque < 64 * 64   # the rounded square, with transparent corners
    corner = QtGui.QColor.fromRgba(img.pixel(0, 0))
    assert corner.alpha() == 0


# ------------------------------------------------------------------ PyInstaller spec
def test_spec_keeps_torch_and_training_out():
    excludes = ast.literal_eval(spec_keyword(spec_call("Analysis"), "excludes"))
    for heavy in ("torch", "torchvision", "torchaudio", "music21", "onnxscript", "matplotlib"):
        assert heavy in excludes, f"{heavy} would be bundled"
    text = SPEC.read_text(encoding="utf-8")
    assert '"robin_studio.train"' in text   # the training package is filtered out of hidden imports


def spec_assignment(name: str) -> ast.expr:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    return next(n.value for n in tree.body if isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == name for t in n.targets))


def test_spec_icon_and_data_sources_exist():
    icon = spec_assignment("ICON")
    path = Path(eval(compile(ast.Expression(icon), str(SPEC), "eval"), {"ROOT": ROOT, "str": str}))
    assert path.is_file() and png_size(path)[0] >= 256
    assert "ICON" in ast.unparse(spec_keyword(spec_call("EXE"), "icon"))
    for folder in ("models", "resources"):
        assert (ROOT / folder).is_dir()
    for must in ("resources/LICENSES.md", "resources/licenses/GPL-3.0.txt",
                 "resources/sample/bigbuckbunny.mp4", "installers/entry.py"):
        assert (ROOT / must).is_file(), must


def test_entry_point_supports_the_spawned_engine_process():
    tree = ast.parse((INSTALLERS / "entry.py").read_text(encoding="utf-8"))
    called = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call)
              and isinstance(n.func, ast.Attribute)]
    assert "freeze_support" in called


# ------------------------------------------------------------------ scripts and pins
@pytest.mark.parametrize("script", ["setup.sh", "build_bundle.sh", "test.sh", "listener.sh"])
def test_shell_script_parses(script):
    out = subprocess.run(["bash", "-n", str(INSTALLERS / script)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr


def test_constraints_pin_the_cpu_torch():
    pins = [ln.split("#")[0].strip() for ln in (INSTALLERS / "constraints.txt").read_text().splitlines()]
    assert "torch==2.13.0" in pins
    setup = (INSTALLERS / "setup.sh").read_text()
    assert "-c installers/constraints.txt" in setup
