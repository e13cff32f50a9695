"""`robin-studio train --init-from OLD` on weights of the 0.1.0 layout (twelve family style
slots, no `style_slots` in config.json): the new weights have a slot for every style id, say
which slots were added, where they started on the held-out windows, and the runtime plays
both the old and the new folder."""

import json

import torch

from robin_studio.cli import main
from robin_studio.intent.types import Intent
from robin_studio.model import conditioning as C
from robin_studio.model.bar_vae import BarVAE
from robin_studio.model.config import LEGACY_STYLE_SLOTS, ModelConfig, tiny_config
from robin_studio.model.manifest import verify_all, write_manifest
from robin_studio.model.runtime import OnnxBarGenerator
from robin_studio.score.controls import BarControls
from robin_studio.score.idioms import STYLE_IDS
from robin_studio.train.export_onnx import export_all
from robin_studio.train.train_generator import Generator


def _legacy_weights(folder):
    torch.manual_seed(0)
    cfg = tiny_config()
    cfg.style_slots = list(LEGACY_STYLE_SLOTS)
    cfg.version = "0.1.0"
    cfg.latent_mean = [0.0] * cfg.vae.latent_dim
    cfg.latent_std = [1.0] * cfg.vae.latent_dim
    export_all(BarVAE(cfg.vae).eval(), Generator(cfg).eval(), cfg, folder)
    d = json.loads((folder / "config.json").read_text())
    del d["style_slots"]                                  # as 0.1.0 wrote it
    (folder / "config.json").write_text(json.dumps(d))
    write_manifest(folder, "0.1.0")


def _plays(folder, style):
    stream = OnnxBarGenerator.load(folder).start(Intent(style=style, key_mode="major"), seed=1)
    return [stream.next_bar(BarControls(bar_index=i, energy=0.7, bars_to_end=3 - i)) for i in range(4)]


def test_warm_start_from_legacy_weights_gives_every_style_its_own_slot(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBIN_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    old, new = tmp_path / "models-0.1.0", tmp_path / "models-new"
    _legacy_weights(old)
    assert ModelConfig.load(old / "config.json").style_slots == list(LEGACY_STYLE_SLOTS)
    assert len(_plays(old, "house")) == 4                # old weights still load and play

    assert main(["train", "--tiny", "--init-from", str(old), "--out", str(new), "--threads", "1"]) == 0
    verify_all(new)
    cfg = ModelConfig.load(new / "config.json")
    assert set(cfg.style_slots) == set(STYLE_IDS) and cfg.version == "0.2.0"
    assert json.loads((new / "manifest.json").read_text())["version"] == "0.2.0"
    report = json.loads((new / "training_report.json").read_text())
    gen = report["generator"]
    assert sorted(gen["widened_styles"]) == sorted(set(STYLE_IDS) - set(LEGACY_STYLE_SLOTS))
    assert gen["valid_at_start"]["flow_loss"] > 0 and gen["average"] == 0.999
    assert report["vae"]["steps"] == 0                   # the bar VAE was kept
    card = (new / "MODEL_CARD.md").read_text()
    assert "warm start" in card and "copies of their family's slot" in card
    # the planner the runtime loads reads the new, wider intent
    import onnxruntime as ort
    sess = ort.InferenceSession(str(new / "planner_step.onnx"))
    width = {i.name: i.shape for i in sess.get_inputs()}["intent"][1]
    assert width == C.intent_features(cfg.style_slots) > C.intent_features(LEGACY_STYLE_SLOTS)
    assert len(_plays(new, "house")) == 4 and len(_plays(new, "trap")) == 4
