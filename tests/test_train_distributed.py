"""Training beyond one CPU (issue 20): a real two-process `torchrun` run with gloo on the
tiny corpus, resumable stage state, device and precision choice, model-size presets.

No GPU exists here: the CUDA paths are exercised only as far as choosing them (asking for
CUDA without one is a clear error, `auto` falls back to the CPU); docs/SCALING.md says what
was not tested.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from robin_studio.errors import RobinError
from robin_studio.model.bar_grid import N_FEATURES, N_ROLES, STEPS_PER_BAR
from robin_studio.model.config import PRESETS, ModelConfig, preset, tiny_config
from robin_studio.model.manifest import verify_all
from robin_studio.train import distributed as D

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_process_torchrun_trains_and_exports_onnx_that_matches_torch(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    assert torchrun, "torchrun comes with torch"
    out = tmp_path / "models"
    env = dict(os.environ, ROBIN_STUDIO_CACHE_DIR=str(tmp_path / "cache"), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [torchrun, "--nproc-per-node", "2", "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
         "-m", "robin_studio", "train", "--tiny", "--device", "cpu", "--out", str(out), "--threads", "1",
         "--seed", "5", "--budget-minutes", "5", "--vae-steps", "120", "--gen-steps", "60"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "2 processes (gloo)" in proc.stdout
    assert "sharded over 2 processes" in proc.stdout
    report = json.loads((out / "training_report.json").read_text())
    assert report["machine"]["processes"] == 2
    # the loss went down in both stages (first logged step against the last)
    for stage in ("vae", "generator"):
        curve = report["loss_curves"][stage]
        assert curve[0][0] == 1 and curve[-1][0] > curve[0][0], curve
        assert curve[-1][1] < curve[0][1], (stage, curve)
    names = verify_all(out)                        # manifest written, every file verified
    assert {"bar_vae_encoder.onnx", "bar_vae_decoder.onnx", "planner_step.onnx",
            "loc_dit_step.onnx"} <= set(names)
    assert "2 data-parallel processes (cpu, float32 precision, 2 processes (gloo))" in \
        (out / "MODEL_CARD.md").read_text()
    assert not (out / "train-state").exists()      # resumable state removed after the export

    # ONNX parity: the exported graphs give the trained torch modules' outputs.
    from robin_studio.train.export_onnx import DecoderExport, EncoderExport, load_torch
    vae, gen, cfg = load_torch(out)
    g = torch.Generator().manual_seed(3)
    roll = (torch.rand(3, STEPS_PER_BAR, N_FEATURES, generator=g) < 0.05).float()
    vel = torch.rand(3, STEPS_PER_BAR, N_ROLES, generator=g)
    with torch.no_grad():
        ref = EncoderExport(vae, cfg)(roll, vel).numpy()
        z = torch.randn(4, cfg.vae.n_patches, cfg.vae.patch_dim, generator=g)
        ref_p, _ = (t.numpy() for t in DecoderExport(vae, cfg)(z))
    sess = lambda name: ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])  # noqa: E731
    (got,) = sess("bar_vae_encoder.onnx").run(None, {"roll": roll.numpy(), "velocity": vel.numpy()})
    np.testing.assert_allclose(got, ref, atol=1e-4, rtol=1e-4)
    got_p, _ = sess("bar_vae_decoder.onnx").run(None, {"latent": z.numpy()})
    np.testing.assert_allclose(got_p, ref_p, atol=1e-4, rtol=1e-4)


def test_an_interrupted_stage_resumes_to_the_same_weights(tmp_path, monkeypatch):
    from robin_studio.train import train_vae as TV
    from robin_studio.train.resume import StageState

    monkeypatch.setattr(TV, "STATE_EVERY_S", -1.0)    # save after every step
    rng = np.random.default_rng(0)
    rolls = (rng.random((64, STEPS_PER_BAR, N_FEATURES)) < 0.04).astype(np.uint8)
    vel = (rng.random((64, STEPS_PER_BAR, N_ROLES)) * (rolls[..., :N_ROLES] > 0)).astype(np.float16)
    cfg = tiny_config().vae
    kw = dict(budget_s=600.0, max_steps=30, batch_size=16, seed=4)
    torch.set_num_threads(1)
    whole, _ = TV.train_vae(rolls, vel, cfg, log=lambda m: None, **kw)

    class Interrupted(Exception):
        pass

    def die_at_planning(msg):
        if "planning" in msg:                      # at step 20
            raise Interrupted

    state = StageState(tmp_path, "bar_vae")
    with pytest.raises(Interrupted):
        TV.train_vae(rolls, vel, cfg, log=die_at_planning, state=state, **kw)
    assert state.load()["step"] == 19
    logs = []
    resumed, hist = TV.train_vae(rolls, vel, cfg, log=logs.append, state=state, **kw)
    assert any("resumed at step 19" in m for m in logs)
    assert hist["steps"] == 30
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)


def test_device_and_precision_choices_here():
    assert D.choose_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        assert D.choose_device("auto").type == "cpu"
        with pytest.raises(RobinError, match="no CUDA GPU"):
            D.choose_device("cuda")
        with pytest.raises(RobinError, match="needs a CUDA GPU"):
            D.choose_precision("fp16", torch.device("cpu"))
    assert D.choose_precision("auto", torch.device("cpu")) is None        # float32 on a CPU
    assert D.choose_precision("bf16", torch.device("cpu")) is torch.bfloat16
    rt = D.setup("cpu")
    assert not rt.distributed and rt.is_main and rt.agree_min(7) == 7 and rt.agree_any(False) is False
    assert rt.shard([1, 2, 3]) == [1, 2, 3]


def test_model_sizes_are_configuration():
    small = preset("small")
    assert json.loads(small.to_json()) == json.loads(ModelConfig().to_json())   # the shipped size
    assert json.loads(preset("tiny").to_json()) == json.loads(tiny_config().to_json())
    sizes = [preset(n) for n in ("small", "medium", "large")]
    assert [c.planner.d_model for c in sizes] == sorted(c.planner.d_model for c in sizes)
    for name in PRESETS:
        c = preset(name)
        assert c.planner.d_model % c.planner.n_heads == 0 and c.dit.d_model % c.dit.n_heads == 0
    with pytest.raises(RobinError, match="Unknown model size"):
        preset("huge")


def test_onnx_runtime_uses_the_cpu_unless_a_gpu_really_works(monkeypatch):
    from robin_studio.model import providers as P

    monkeypatch.delenv(P.ENV, raising=False)
    usable, why = P.cuda_usable()
    if not usable:                                      # this machine: no GPU
        assert P.choose_providers() == [P.CPU] and why
        monkeypatch.setenv(P.ENV, "cuda")
        with pytest.raises(RobinError, match="cannot be used"):
            P.choose_providers()
    monkeypatch.setenv(P.ENV, "cpu")
    assert P.choose_providers() == [P.CPU]
    monkeypatch.setenv(P.ENV, "tpu")
    with pytest.raises(RobinError, match="not a device"):
        P.choose_providers()
    # With a GPU build whose libraries load (which cannot exist here), CUDA goes first and
    # the CPU stays as the fallback.
    monkeypatch.setenv(P.ENV, "auto")
    monkeypatch.setattr(P, "cuda_usable", lambda: (True, ""))
    assert P.choose_providers() == [P.CUDA, P.CPU]
