"""Help > About: the version, GPL-3.0-or-later with its full text, every bundled asset with its
licence, and every runtime library the app depends on with its licence."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from robin_studio import __version__
from robin_studio.app.about import LIBRARIES, AboutDialog, library_version
from test_app_support import make_window

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("user_dirs")


def _plain(markdown: str) -> str:
    """Text without Markdown marks and with single spaces, as the rendered view shows it."""
    return " ".join(re.sub(r"[`*_]", "", markdown).split())


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_help_menu_opens_the_about_dialog(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    about = next(a for a in help_menu.actions() if a.text() == "&About Robin Studio")
    about.trigger()
    [dlg] = [d for d in w.dialogs if isinstance(d, AboutDialog)]
    assert dlg.isVisible()
    text = dlg.summary.text()
    assert f"Robin Studio {__version__}" in text and "GPL-3.0-or-later" in text
    dlg.reject()
    assert not [d for d in w.dialogs if isinstance(d, AboutDialog)]


def test_licence_tab_holds_the_full_gpl3(qtbot):
    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    gpl = dlg.license_view.toPlainText()
    assert "GNU GENERAL PUBLIC LICENSE" in gpl and "Version 3, 29 June 2007" in gpl
    assert "END OF TERMS AND CONDITIONS" in gpl     # the whole text, not a summary


def test_assets_tab_lists_every_bundled_asset_with_its_licence(qtbot):
    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    shown = dlg.assets_view.toPlainText()
    rows = [ln for ln in (ROOT / "resources" / "LICENSES.md").read_text().splitlines()
            if ln.startswith("| `")]
    assert rows
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        name, licence = re.search(r"`([^`]+)`", cells[0]).group(1), cells[-1]
        assert _plain(name) in _plain(shown) and _plain(licence) in _plain(shown), row
    assert "CC-BY 3.0" in shown          # Big Buck Bunny must be credited


def test_libraries_tab_covers_every_runtime_dependency(qtbot):
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    listed = {_norm(lib.distribution) for lib in LIBRARIES if lib.distribution}
    missing = [d for d in deps if _norm(re.split(r"[<>=\[ ;]", d)[0]) not in listed]
    assert not missing, f"add these to robin_studio/app/about.py LIBRARIES: {missing}"
    dlg = AboutDialog()
    qtbot.addWidget(dlg)
    shown = dlg.libraries_view.toPlainText()
    for lib in LIBRARIES:
        assert lib.name in shown and lib.license in shown
    # Versions are the installed ones (the torch-free scoring stack is installed here).
    assert library_version(next(lib for lib in LIBRARIES if lib.distribution == "onnxruntime"))
    assert "torch" not in {_norm(lib.distribution) for lib in LIBRARIES}
