"""Issue 19, item 2: tags in Latin-1 ("Café été") are read, not a UnicodeDecodeError."""

from __future__ import annotations

from hardening_util import cli, latin1_tagged_clip

from robin_studio.media.probe import open_container, probe


def test_latin1_title_is_read(tmp_path):
    clip = latin1_tagged_clip(tmp_path / "café.mp4")
    info = probe(clip)
    assert info.width == 64 and info.frame_count == 20
    with open_container(clip) as container:
        assert container.metadata["title"] == "Café été"


def test_latin1_title_analyze_cli(tmp_path):
    clip = latin1_tagged_clip(tmp_path / "clip.mp4")
    proc = cli("analyze", clip, "-q", env={"ROBIN_STUDIO_CACHE_DIR": str(tmp_path / "cache")})
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0
    assert "clip.mp4" in proc.stdout
