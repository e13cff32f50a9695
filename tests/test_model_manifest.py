"""The weights manifest catches a missing or a damaged model file with a message that says
which file and what to do; intact files pass; sub-folders (models/image/) are hashed too."""

import json
import os

import pytest

from robin_studio.errors import ModelFileError
from robin_studio.model import manifest


@pytest.fixture()
def models(tmp_path):
    (tmp_path / "a.onnx").write_bytes(b"\x08\x01graph" * 100)
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "labels.txt").write_text("tench\ngoldfish\n")
    (tmp_path / "MODEL_CARD.md").write_text("# card")
    manifest.write_manifest(tmp_path)
    return tmp_path


def test_manifest_lists_every_file_with_hash_and_size(models):
    data = json.loads((models / "manifest.json").read_text())
    files = {f["file"]: f for f in data["files"]}
    assert set(files) == {"a.onnx", "config.json", "image/labels.txt"}
    assert files["a.onnx"]["size"] == 700 and len(files["a.onnx"]["sha256"]) == 64
    assert data["version"]
    assert manifest.verify(["a.onnx", "image/labels.txt"], models) == models
    assert manifest.main(["--models-dir", str(models)]) == 0


def test_missing_file_is_reported_by_name(models):
    (models / "a.onnx").unlink()
    with pytest.raises(ModelFileError) as err:
        manifest.verify(["a.onnx"], models)
    assert "a.onnx" in str(err.value) and "missing" in str(err.value)
    assert "robin-studio train" in str(err.value)        # says what to do


def test_damaged_file_is_caught_even_with_the_same_size(models):
    data = bytearray((models / "a.onnx").read_bytes())
    data[10] ^= 0xFF
    (models / "a.onnx").write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as err:
        manifest.verify(["a.onnx"], models)
    assert "damaged" in str(err.value) and "a.onnx" in str(err.value)
    assert manifest.main(["--models-dir", str(models)]) == 2


def test_missing_manifest_and_unknown_file(models, tmp_path):
    with pytest.raises(ModelFileError, match="not in"):
        manifest.verify(["other.onnx"], models)
    (models / "manifest.json").unlink()
    with pytest.raises(ModelFileError, match="manifest"):
        manifest.verify(["a.onnx"], models)


def test_runtime_load_raises_model_file_error(models):
    from robin_studio.model.runtime import OnnxBarGenerator
    with pytest.raises(ModelFileError):
        OnnxBarGenerator.load(models)      # no planner/DiT files listed here


# -- issue 19, item 8 --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../outside.onnx", "/etc/passwd", "image/../../outside.onnx",
                                  "", "a.onnx/..", "./a.onnx"])
def test_names_outside_the_models_folder_are_refused(models, name):
    (models.parent / "outside.onnx").write_bytes(b"x")
    data = json.loads((models / "manifest.json").read_text())
    data["files"].append({"file": name, "sha256": manifest.sha256_of(models.parent / "outside.onnx"),
                          "size": 1})
    (models / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(ModelFileError):
        manifest.verify([name], models)
    assert manifest.main(["--models-dir", str(models)]) == 2


def test_a_symlink_out_of_the_models_folder_is_refused(models, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "evil.onnx"
    elsewhere.write_bytes((models / "a.onnx").read_bytes())   # same bytes: only the link is wrong
    (models / "a.onnx").unlink()
    (models / "a.onnx").symlink_to(elsewhere)
    with pytest.raises(ModelFileError, match="outside"):
        manifest.verify(["a.onnx"], models)
    assert "a.onnx" not in {f["file"] for f in json.loads(manifest.write_manifest(models).read_text())["files"]}


def test_a_replaced_file_is_caught_after_a_cached_check(models):
    manifest.verify(["a.onnx"], models)                  # hashed and remembered
    data = bytearray((models / "a.onnx").read_bytes())
    data[3] ^= 0x01
    st = (models / "a.onnx").stat()
    (models / "a.onnx").write_bytes(bytes(data))
    os.utime(models / "a.onnx", ns=(st.st_atime_ns, st.st_mtime_ns))   # same size, same mtime
    with pytest.raises(ModelFileError, match="damaged"):
        manifest.verify(["a.onnx"], models)


def test_the_image_model_is_checked_at_run_time(tmp_path, monkeypatch):
    import shutil

    from robin_studio.analysis import semantics
    from robin_studio.paths import models_dir

    copy = tmp_path / "models"
    shutil.copytree(models_dir(), copy)
    onnx = copy / "image" / semantics.MODEL_FILE
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 0x01                       # one weight changed; the graph still loads
    onnx.write_bytes(bytes(data))
    monkeypatch.setenv("ROBIN_STUDIO_MODELS_DIR", str(copy))
    with pytest.raises(ModelFileError, match="damaged"):
        semantics.ImageEncoder()
