"""`robin-studio train --tiny` runs every stage on a tiny synthetic corpus (VAE, planner +
Loc-DiT, held-out evaluation, ONNX export, manifest) and leaves weights the runtime loads."""

import json

from robin_studio.cli import main
from robin_studio.model.manifest import verify_all


def test_tiny_training_run_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBIN_STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "models"
    assert main(["train", "--tiny", "--out", str(out), "--threads", "1", "--seed", "3"]) == 0
    names = verify_all(out)
    for f in ("bar_vae_encoder.onnx", "bar_vae_decoder.onnx", "planner_step.onnx", "loc_dit_step.onnx",
              "bar_vae.safetensors", "generator.safetensors", "config.json", "training_report.json"):
        assert f in names
    assert not list(out.glob("*.pt")) and not list(out.glob("*.pkl"))      # never pickles
    report = json.loads((out / "training_report.json").read_text())
    assert report["vae"]["steps"] > 0 and report["generator"]["steps"] > 0
    assert 0.0 <= report["vae"]["valid"]["onset_f1"] <= 1.0
    assert report["generator"]["valid"]["flow_loss"] > 0
    assert report["sample_checks"]["bars"] > 0
    assert report["sample_checks"]["banned_role_absent_rate"] == 1.0
    assert report["data"]["licences"] == ["GPL-3.0-or-later"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "note-onset F1" in card and "GPL-3.0-or-later" in card and "Hyper-parameters" in card
    assert not (out / "checkpoint").exists()             # the early export is superseded
    cfg = json.loads((out / "config.json").read_text())
    assert len(cfg["latent_mean"]) == cfg["vae"]["n_patches"] * cfg["vae"]["patch_dim"]

    from robin_studio.intent.types import Intent
    from robin_studio.model.runtime import OnnxBarGenerator
    from robin_studio.score.controls import BarControls
    stream = OnnxBarGenerator.load(out).start(Intent(), seed=0)
    bar = stream.next_bar(BarControls(bar_index=0))
    assert bar.bar_index == 0 and bar.latent.shape == (len(cfg["latent_mean"]),)


def test_caption_budget_prefers_shared_captions_and_full_descriptions():
    from types import SimpleNamespace

    from robin_studio.train.captions import select
    exs = [SimpleNamespace(captions=[f"full {i}", f"short {i}", "Jazz", f"with drums no piano {i}",
                                     f"extra {i}", ""]) for i in range(10)]
    everything = select(exs)
    assert everything[0] == ["full 0", "short 0", "Jazz", "with drums no piano 0"]
    capped = select(exs, max_texts=6, seed=1)
    kept = {t for c in capped for t in c}
    assert len(kept) == 6 and "Jazz" in kept                 # shared by all: cheapest per example
    assert sum(t.startswith("full") for t in kept) == 5       # then full descriptions
    known = select(exs, max_texts=0, known={"short 3"})
    assert known[3] == ["short 3"] and not any(known[i] for i in range(10) if i != 3)


def test_model_card_says_how_to_rebuild_the_corpus_and_retrain():
    from robin_studio.train.corpus.build import DEFAULT_GROUPS
    from robin_studio.train.model_card import _reproduce_commands

    report = {"settings": {"seed": 0, "threads": 1, "max_train_examples": None, "tiny": False},
              "vae": {"steps": 1200}, "generator": {"steps": 3400},
              "data": {"corpus_manifest": {"seed": 0, "options": {
                  "hours": 100, "allow_noncommercial": False, "without": ["openmsx"],
                  "groups": list(DEFAULT_GROUPS)}}}}
    build, train = _reproduce_commands(report)
    assert build == "robin-studio corpus build --hours 100 --seed 0 --commercial-only --without openmsx"
    assert train == ("robin-studio train --seed 0 --threads 1 --vae-steps 1200 --gen-steps 3400 "
                     "--budget-minutes 600")
    report["settings"]["tiny"] = True
    assert _reproduce_commands(report) == []


def test_a_warm_start_card_names_its_starting_weights():
    from robin_studio.train.model_card import _reproduce_commands

    report = {"settings": {"seed": 0, "threads": 1, "tiny": False, "init_from": "models-0.1.0",
                           "max_new_captions": 1000},
              "vae": {"steps": 0}, "generator": {"steps": 3882},
              "data": {"corpus_manifest": {"seed": 0, "options": {
                  "hours": 50, "allow_noncommercial": False, "without": ["openmsx"], "groups": ["oneills1850"]}}}}
    build, train = _reproduce_commands(report)
    assert build.endswith("--groups oneills1850")
    assert train == ("robin-studio train --seed 0 --threads 1 --init-from models-0.1.0 --gen-steps 3882 "
                     "--max-captions 1000 --budget-minutes 600")
