"""Every style id has a style slot of its own in a new model, old (0.1.0) weights with their
twelve family slots still load and play, and widening old weights for a warm start keeps
what they do: a new style starts out exactly where its family was."""

import json

import numpy as np
import pytest
import torch

from robin_studio.model import conditioning as C
from robin_studio.model.config import LEGACY_STYLE_SLOTS, ModelConfig, preset, tiny_config
from robin_studio.paths import models_dir
from robin_studio.score.idioms import STYLE_IDS, family_of
from robin_studio.train.pipeline import widen_styles
from robin_studio.train.train_generator import Generator


def test_a_new_model_has_a_slot_for_every_style_id():
    cfg = preset("small")
    assert set(cfg.style_slots) == set(STYLE_IDS)
    assert cfg.style_slots[:len(LEGACY_STYLE_SLOTS)] == list(LEGACY_STYLE_SLOTS)
    # house and edm (both of the electronic family) are told apart by the style input itself
    house = C.intent_vector(style="house", style_slots=cfg.style_slots)
    edm = C.intent_vector(style="edm", style_slots=cfg.style_slots)
    electronic = C.intent_vector(style="electronic", style_slots=cfg.style_slots)
    assert not np.array_equal(house, edm) and not np.array_equal(house, electronic)
    assert house.shape == (C.intent_features(cfg.style_slots),)


def test_a_saved_config_without_slots_is_the_legacy_layout():
    d = json.loads(tiny_config().to_json())
    del d["style_slots"]                      # as config.json of 0.1.0 was written
    old = ModelConfig.from_dict(d)
    assert old.style_slots == list(LEGACY_STYLE_SLOTS)
    # in the legacy layout a new style id is its family
    assert np.array_equal(C.intent_vector(style="trap", style_slots=old.style_slots),
                          C.intent_vector(style="hiphop", style_slots=old.style_slots))
    assert C.intent_features(old.style_slots) == C.intent_features() - (len(STYLE_IDS) - len(LEGACY_STYLE_SLOTS))


def _intents(slots, styles):
    g = np.random.default_rng(3)
    rows = []
    for style in styles:
        rows.append(C.intent_vector(g.normal(size=C.EMBED_DIM), style, "minor", 96.0,
                                    style_slots=slots))
    return torch.from_numpy(np.stack(rows))


def test_widened_weights_answer_every_style_as_the_old_model_did():
    torch.manual_seed(0)
    old_cfg = tiny_config()
    old_cfg.style_slots = list(LEGACY_STYLE_SLOTS)
    old = Generator(old_cfg).eval()
    new_cfg = tiny_config()
    state, added = widen_styles(old.state_dict(), old_cfg.style_slots, new_cfg.style_slots)
    assert sorted(added) == sorted(set(STYLE_IDS) - set(LEGACY_STYLE_SLOTS))
    new = Generator(new_cfg).eval()
    new.load_state_dict(state)
    styles = list(STYLE_IDS) + [None, "not-a-style"]
    with torch.no_grad():
        before = old.planner.intent_in(_intents(old_cfg.style_slots, styles))
        after = new.planner.intent_in(_intents(new_cfg.style_slots, styles))
    assert torch.allclose(before, after, atol=1e-6)
    # and the new slots are their own inputs: training one does not move its family
    w = state["planner.intent_in.0.weight"]
    col = C._STYLE0 + C.style_slot("trap", new_cfg.style_slots)
    fam = C._STYLE0 + C.style_slot(family_of("trap"), new_cfg.style_slots)
    assert col != fam and torch.equal(w[:, col], w[:, fam])


@pytest.mark.skipif(not (models_dir() / "config.json").exists(), reason="no shipped weights")
def test_shipped_weights_read_intents_in_their_own_layout():
    """Whatever version is in models/, the runtime builds the intent its planner expects
    (0.1.0: twelve family slots; later: a slot per style id)."""
    import onnxruntime as ort

    cfg = ModelConfig.load(models_dir() / "config.json")
    sess = ort.InferenceSession(str(models_dir() / "planner_step.onnx"))
    width = {i.name: i.shape for i in sess.get_inputs()}["intent"][1]
    assert width == C.intent_features(cfg.style_slots)
