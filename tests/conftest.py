"""Shared test set-up: headless Qt, fixture paths, a per-test cache directory; for the app
tests, the user folders in the test's own folder and the engine process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
RESOURCES = ROOT / "resources"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep each test session's analysis/feature caches out of the user's real cache."""
    cache = tmp_path_factory.getbasetemp() / "robin-cache"
    monkeypatch.setenv("ROBIN_STUDIO_CACHE_DIR", str(cache))
    yield


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """The app's settings and data (recent files, recovery copies) in the test's own folder;
    a test module uses it with `pytestmark = pytest.mark.usefixtures("user_dirs")`."""
    monkeypatch.setenv("ROBIN_STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ROBIN_STUDIO_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def scorer():
    """The engine as the app runs it: in its own process, warmed up, shared by a module's
    windows (test_app_support.make_window). Engine tests that want it in their own process
    define their own `scorer`, which takes the place of this one in their module."""
    from robin_studio.app.engine_process import RemoteScorer

    s = RemoteScorer()
    s.warm_up()
    yield s
    s.close()
