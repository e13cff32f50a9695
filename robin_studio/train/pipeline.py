"""`robin-studio train` end to end: corpus -> bar VAE -> planner + Loc-DiT -> held-out
evaluation -> ONNX export -> model card facts -> manifest. Reproducible from a seed.

The wall-clock budget is split between the stages (about 30% VAE, 60% generator, the rest
for data preparation, evaluation and export); each stage times its first steps and plans
its learning-rate schedule for the steps that fit.

The same function runs on one CPU (the shipped path), on a GPU with mixed precision, and in
every process of a `torchrun` job (`train.distributed`): each rank prepares and samples only
its shard of the training pieces, DDP averages the gradients, and rank 0 alone embeds the
captions, writes checkpoints, exports ONNX and writes the manifest and the model card.
With `resume`, each stage continues from its last saved state (`train.resume`).
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from robin_studio.model.config import ModelConfig, default_style_slots, preset
from robin_studio.train.data import GeneratorBatches, all_bars, attach_captions, prepare
from robin_studio.train.distributed import Runtime
from robin_studio.train.resume import StageState, clear


@dataclass
class TrainSettings:
    budget_minutes: float = 75.0
    seed: int = 0
    threads: int = 2
    vae_share: float = 0.35
    generator_share: float = 0.55
    vae_batch: int = 128
    vae_lr: float = 2e-3
    vae_beta: float = 0.02
    vae_max_steps: int | None = None   # None: 30 for a tiny run, else no cap but the budget
    gen_batch: int = 24
    gen_lr: float = 5e-4
    dit_bars: int = 384          # bars per step the Loc-DiT trains on (of gen_batch x window)
    gen_max_steps: int | None = None   # None: 20 for a tiny run, else no cap but the budget
    max_train_examples: int | None = None
    max_new_captions: int = 2000   # captions to embed beyond the cache (~0.2 s each on a busy CPU)
    tiny: bool = False
    model_size: str = "small"      # a preset of model.config.PRESETS ("tiny" with tiny=True)
    resume: bool = False           # continue from OUT/train-state/ when an earlier run left one
    # Warm start: a models/ folder whose bar VAE is kept as it is (same bar representation,
    # so the latent space and its statistics stay) and whose planner + Loc-DiT continue
    # training on this corpus with `finetune_lr`. The whole budget then goes to the generator.
    init_from: str | None = None
    # A fine-tune's peak learning rate: a fifth of the first training's. A session-5 warm start
    # at 2.5e-4 for 3,882 steps ended with a worse tune on held-out prompts (motif recurrence
    # 0.42 -> 0.26) than the weights it started from: a high rate moves a converged network
    # far and a short run does not bring it back.
    finetune_lr: float = 1e-4
    # Exponential moving average of the generator's weights (0 or None: off); the average is
    # what is exported.
    gen_average: float | None = 0.999
    end_reserve_s: float = 300.0   # a warm start keeps this for evaluation and export


def _log_to(path: Path | None, enabled: bool = True):
    def log(msg: str) -> None:
        if not enabled:        # only rank 0 speaks in a multi-process run
            return
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        if path is not None:
            with open(path, "a") as f:
                f.write(line + "\n")
    return log


def _corpus_summary(corpus_dir: Path) -> dict:
    try:
        m = json.loads((corpus_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    keep = ("format_version", "version", "hours", "hours_per_split", "hours_per_style",
            "examples_per_split", "n_examples", "seed", "sources", "licences", "noncommercial_examples",
            "options", "synthetic")
    return {k: m[k] for k in keep if k in m}


def run_training(corpus_dir: Path | str | None, out_dir: Path | str, settings: TrainSettings,
                 log_file: Path | str | None = None, cfg: ModelConfig | None = None,
                 rt: Runtime | None = None) -> dict:
    """Train everything and write the runtime files into `out_dir`. Returns the report (on
    every rank; only rank 0 writes files)."""
    from robin_studio.model.manifest import write_manifest
    from robin_studio.train.corpus.dataset import load_corpus
    from robin_studio.train.export_onnx import export_all
    from robin_studio.train.train_generator import train_generator
    from robin_studio.train.train_vae import encode_latents, train_vae

    rt = rt or Runtime()
    t_start = time.monotonic()
    load = LoadSampler()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = _log_to(Path(log_file) if log_file else None, enabled=rt.is_main)
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    budget_s = settings.budget_minutes * 60.0
    cfg = cfg or preset("tiny" if settings.tiny else settings.model_size)
    if not settings.resume:
        clear(out)                   # a fresh run never picks up an older run's state
    vae_state, gen_state = StageState(out, "bar_vae"), StageState(out, "generator")

    tmp = tmp_caps = None
    if corpus_dir is None and settings.tiny:
        from robin_studio.train.tiny_corpus import write_tiny_corpus
        tmp = tempfile.TemporaryDirectory(prefix="robin-tiny-corpus-")
        corpus_dir = write_tiny_corpus(tmp.name, seed=settings.seed)
    if corpus_dir is None:
        from robin_studio.train.corpus.dataset import default_corpus_dir
        corpus_dir = default_corpus_dir()
    corpus_dir = Path(corpus_dir)
    log(f"corpus {corpus_dir}; budget {settings.budget_minutes:.1f} min; seed {settings.seed}; "
        f"model {'tiny' if settings.tiny else settings.model_size}; {rt.describe()}")

    train_ex = [e for e in load_corpus(corpus_dir, "train") if e.n_bars > 0]
    valid_ex = [e for e in (load_corpus(corpus_dir, "valid") or load_corpus(corpus_dir, "test"))
                if e.n_bars > 0]
    if settings.max_train_examples and len(train_ex) > settings.max_train_examples:
        keep = np.random.default_rng(settings.seed).permutation(len(train_ex))[: settings.max_train_examples]
        train_ex = [train_ex[i] for i in sorted(keep.tolist())]
    if not train_ex or not valid_ex:
        from robin_studio.errors import RobinError
        raise RobinError(f"The corpus in {corpus_dir} has no training or no held-out examples.",
                         "Rebuild it: robin-studio corpus build")
    # Caption embeddings are slow on a busy CPU: a child process computes them while the
    # bar VAE trains (the VAE does not need them).
    from robin_studio.train import captions as caps
    if settings.tiny and rt.is_main:
        tmp_caps = tempfile.TemporaryDirectory(prefix="robin-captions-")
        cap_cache = Path(tmp_caps.name) / "captions.npz"
    else:
        from robin_studio.paths import cache_dir
        cap_cache = cache_dir() / "train" / "caption-embeddings.npz"
    cap_cache = rt.broadcast(cap_cache)       # every rank reads the cache rank 0 fills
    # Every rank chooses captions from the whole corpus as rank 0 does (same seed, same cache),
    # then keeps its shard of the pieces.
    known = rt.broadcast(sorted(caps.load_cache(cap_cache)))
    train_caps = caps.select(train_ex, settings.max_new_captions, set(known), settings.seed)
    valid_caps = caps.select(valid_ex, settings.max_new_captions // 10, set(known), settings.seed)
    texts = sorted({t for c in train_caps + valid_caps for t in c})
    todo = [t for t in texts if t not in set(known)]
    cap_proc = caps.start_background(todo, cap_cache) if todo and rt.is_main else None
    log(f"captions: {len(texts)} kept, {len(todo)} to embed (in the background)")
    all_train, every_train_ex = len(train_ex), train_ex
    hours = sum(e.duration_s for e in train_ex) / 3600.0
    train_ex, train_caps = rt.shard(train_ex), rt.shard(train_caps)
    if rt.distributed:
        log(f"data: {all_train} training examples sharded over {rt.world_size} processes "
            f"({len(train_ex)} on rank 0)")
    train_p = prepare(train_ex)
    valid_p = prepare(valid_ex)
    train_bars, valid_bars = all_bars(train_p), all_bars(valid_p)
    log(f"data: {len(train_p)} train pieces ({len(train_bars[0])} bars, {hours:.1f} h), "
        f"{len(valid_p)} held-out pieces ({len(valid_bars[0])} bars); "
        f"prepared in {time.monotonic() - t_start:.0f}s")

    from robin_studio.train.train_vae import evaluate_vae, reconstruct
    init_state = None
    widened_styles: list[str] = []
    if settings.init_from:
        # Warm start: keep the bar VAE (and its latent statistics) of `init_from`.
        from safetensors.torch import load_file

        from robin_studio.model.bar_vae import BarVAE
        init_dir = Path(settings.init_from)
        cfg = ModelConfig.load(init_dir / "config.json")
        major, minor, *_ = (cfg.version.split(".") + ["0", "0"])[:3]
        cfg.version = f"{major}.{int(minor) + 1}.0"        # a new version of the same network
        vae = BarVAE(cfg.vae)
        vae.load_state_dict(load_file(str(init_dir / "bar_vae.safetensors")))
        vae.eval()
        init_state = load_file(str(init_dir / "generator.safetensors"))
        init_state, widened = widen_styles(init_state, cfg.style_slots, default_style_slots())
        widened_styles = widened
        cfg.style_slots = default_style_slots()
        if widened:
            log(f"warm start: {len(widened)} new style slots, each starting from its family's "
                f"({', '.join(widened)})")
        vae_hist = {"loss": [], "steps": 0, "seconds": 0.0, "kept_from": str(init_dir),
                    "valid": evaluate_vae(vae, *valid_bars, threshold=cfg.decode_threshold)}
        log(f"warm start from {init_dir}: bar VAE kept (held-out on this corpus: {vae_hist['valid']})")
        mean = np.asarray(cfg.latent_mean, np.float32)
        std = np.asarray(cfg.latent_std, np.float32)
    else:
        # Stage 1: bar VAE.
        remaining = budget_s - (time.monotonic() - t_start)
        vae_budget = max(5.0, remaining * settings.vae_share / (settings.vae_share + settings.generator_share + 0.1))
        vae, vae_hist = train_vae(*train_bars, cfg.vae, budget_s=vae_budget,
                                  max_steps=settings.vae_max_steps or (30 if settings.tiny else 100_000),
                                  batch_size=settings.vae_batch, lr=settings.vae_lr, beta=settings.vae_beta,
                                  seed=settings.seed, log=log, valid=valid_bars, rt=rt, state=vae_state)

        # The decoding threshold that reconstructs held-out bars best (sampled latents are a little
        # less sharp than encoded ones, so a lower threshold can keep faint notes).
        probs = reconstruct(vae, *valid_bars)
        by_threshold = {th: evaluate_vae(vae, *valid_bars, threshold=th, probs=probs)["onset_f1"]
                        for th in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)}
        cfg.decode_threshold = rt.broadcast(max(by_threshold, key=lambda th: (round(by_threshold[th], 3), th)))
        vae_hist["valid"] = evaluate_vae(vae, *valid_bars, threshold=cfg.decode_threshold, probs=probs)
        del probs
        vae_hist["f1_by_threshold"] = by_threshold
        log(f"vae: decoding threshold {cfg.decode_threshold} (held-out onset F1 by threshold {by_threshold})")

        # Latents of every bar, normalised per dim with the training statistics (summed over the
        # shards when several processes train, so every rank normalises alike).
        z_train = encode_latents(vae, *train_bars)
        if rt.distributed:
            z64 = z_train.astype(np.float64)
            n, s1, s2 = rt.sum_arrays(np.array([len(z64)], np.float64), z64.sum(0), (z64 ** 2).sum(0))
            mean = (s1 / n[0]).astype(np.float32)
            std = np.maximum(np.sqrt(np.maximum(s2 / n[0] - (s1 / n[0]) ** 2, 0.0)), 1e-3).astype(np.float32)
        else:
            mean = z_train.mean(0)
            std = np.maximum(z_train.std(0), 1e-3)
        cfg.latent_mean = [float(x) for x in mean]
        cfg.latent_std = [float(x) for x in std]

    def per_piece(pieces):
        out_l, i = [], 0
        z = encode_latents(vae, *all_bars(pieces))
        for p in pieces:
            n = p.rolls.shape[0]
            out_l.append(((z[i:i + n] - mean) / std).astype(np.float32))
            i += n
        return out_l

    # The latents of every bar first: the caption process is still running (with a warm start
    # nothing else overlaps it), and the encoder does not need captions.
    train_latents, valid_latents = per_piece(train_p), per_piece(valid_p)
    t_wait = time.monotonic()
    if rt.is_main:
        vectors = caps.wait(cap_proc, texts, cap_cache)
        rt.barrier()                 # the cache is complete: the other ranks may read it
    else:
        rt.barrier()
        vectors = caps.load_cache(cap_cache)
    for piece, chosen in zip(train_p, train_caps):
        attach_captions(piece, chosen, vectors)
    for piece, chosen in zip(valid_p, valid_caps):
        attach_captions(piece, chosen, vectors)
    log(f"captions ready ({len(vectors)} in cache; waited {time.monotonic() - t_wait:.0f}s)")

    window = cfg.planner.context_bars
    train_b = GeneratorBatches(train_p, train_latents, window, seed=settings.seed,
                               style_slots=cfg.style_slots)
    valid_b = GeneratorBatches(valid_p, valid_latents, window, seed=settings.seed + 1,
                               style_slots=cfg.style_slots)
    del train_latents, valid_latents

    # Stage 2: planner + Loc-DiT.
    remaining = budget_s - (time.monotonic() - t_start)
    gen_budget = max(5.0, remaining * settings.generator_share / (settings.generator_share + 0.1))
    if init_state is not None:
        # A warm start has no VAE stage: all but the time evaluation and export take (a few
        # minutes, at most 15 % of what is left) goes to the generator.
        gen_budget = max(5.0, remaining - min(0.15 * remaining, settings.end_reserve_s))
    def checkpoint(model, step):
        # An early, complete set of runtime files, so the product has weights long before
        # the run ends (out/checkpoint/, with its own manifest).
        if not rt.is_main:
            return
        t = time.monotonic()
        ck = out / "checkpoint"
        export_all(_on_cpu(vae), _on_cpu(model), cfg, ck)
        write_manifest(ck, cfg.version)
        log(f"checkpoint at generator step {step} exported to {ck} ({time.monotonic() - t:.0f}s)")

    gen, gen_hist = train_generator(train_b, cfg, budget_s=gen_budget, checkpoint=checkpoint,
                                    max_steps=settings.gen_max_steps or (20 if settings.tiny else 100_000),
                                    batch_size=settings.gen_batch,
                                    lr=settings.finetune_lr if init_state is not None else settings.gen_lr,
                                    seed=settings.seed, dit_bars=settings.dit_bars, log=log,
                                    valid=valid_b, rt=rt, state=gen_state,
                                    init_state=init_state,
                                    average=settings.gen_average)
    gen_hist["widened_styles"] = widened_styles

    if not rt.is_main:
        # Rank 0 exports, checks and writes the files; the others are done.
        for t in (tmp, tmp_caps):
            if t is not None:
                t.cleanup()
        return {"rank": rt.rank, "vae": vae_hist, "generator": gen_hist}

    # Export and check the exported model the way the engine runs it (on the CPU, in float32).
    vae, gen = vae.to("cpu"), gen.to("cpu")
    files = export_all(vae, gen, cfg, out)
    write_manifest(out, cfg.version)
    from robin_studio.train.sample_eval import sample_checks
    checks_pieces = []
    for e, chosen in zip(valid_ex, valid_caps):
        cap = chosen[0] if chosen else ""
        checks_pieces.append(SimpleNamespace(controls_list=e.controls, caption_text=cap,
                                             caption_vector=vectors.get(cap), style=e.style,
                                             tempo_bpm=e.tempo_bpm))
    checks = sample_checks(out, checks_pieces, n_pieces=4 if settings.tiny else 24,
                           n_bars=8 if settings.tiny else 16, seed=settings.seed)
    log(f"sample checks (ONNX runtime, held-out controls): {checks}")

    report = {
        "version": cfg.version,
        "seed": settings.seed,
        "settings": asdict(settings),
        "config": json.loads(cfg.to_json()),
        "parameters": {"bar_vae": sum(p.numel() for p in vae.parameters()),
                       "planner": sum(p.numel() for p in gen.planner.parameters()),
                       "loc_dit": sum(p.numel() for p in gen.dit.parameters())},
        "data": {"corpus_dir": str(corpus_dir), "train_pieces": len(train_p),
                 "train_bars": int(len(train_bars[0])), "train_hours": round(hours, 2),
                 "valid_pieces": len(valid_p), "valid_bars": int(len(valid_bars[0])),
                 "corpus_manifest": _corpus_summary(corpus_dir),
                 "licences": sorted({e.licence for e in every_train_ex}),
                 "noncommercial_examples": int(sum(e.noncommercial for e in every_train_ex))},
        "vae": {k: v for k, v in vae_hist.items() if k != "loss"},
        "generator": {k: v for k, v in gen_hist.items() if k != "loss"},
        "loss_curves": {"vae": vae_hist["loss"], "generator": gen_hist["loss"]},
        "sample_checks": checks,
        "files": [f.name for f in files],
        "machine": {"cpu_threads": settings.threads, "platform": platform.platform(),
                    "torch": torch.__version__, "device": rt.device.type,
                    "processes": rt.world_size, "precision": rt.describe(), "load": load.summary()},
        "wall_clock_s": round(time.monotonic() - t_start, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "training_report.json").write_text(json.dumps(report, indent=1, default=float) + "\n")
    from robin_studio.train.model_card import write_card
    write_card(out)
    import shutil
    shutil.rmtree(out / "checkpoint", ignore_errors=True)   # superseded by the final files
    clear(out)                                               # the resumable state too
    write_manifest(out, cfg.version)
    log(f"done in {report['wall_clock_s']:.0f}s; files in {out}")
    for t in (tmp, tmp_caps):
        if t is not None:
            t.cleanup()
    return report


class LoadSampler:
    """The machine's 1-minute load average, sampled every `every_s` seconds on a daemon thread
    while the run lasts, for the report (step times on a shared machine depend on it)."""

    def __init__(self, every_s: float = 60.0) -> None:
        import os
        import threading
        self.every_s = every_s
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._read = getattr(os, "getloadavg", None)
        if self._read is not None:
            threading.Thread(target=self._run, daemon=True, name="load-sampler").start()

    def _run(self) -> None:
        while True:
            self.samples.append(round(self._read()[0], 2))
            if self._stop.wait(self.every_s):
                return

    def summary(self) -> dict:
        import os
        self._stop.set()
        if not self.samples:
            return {}
        xs = sorted(self.samples)
        return {"min": xs[0], "median": xs[len(xs) // 2], "max": xs[-1], "samples": len(xs),
                "every_s": self.every_s, "cores": os.cpu_count()}


def widen_styles(state: dict[str, torch.Tensor], old_slots, new_slots
                 ) -> tuple[dict[str, torch.Tensor], list[str]]:
    """A saved generator's weights for a model with `new_slots` style slots: the planner's
    intent input layer gets a column for every new slot, copied from the family's column
    (`conditioning.widen_style_columns`), so the widened model answers every prompt exactly
    as the saved one did. Returns the weights and the names of the new slots."""
    from robin_studio.model.conditioning import widen_style_columns

    added = [s for s in new_slots if s not in old_slots]
    if list(old_slots) == list(new_slots):
        return state, added
    key = "planner.intent_in.0.weight"
    cols = torch.tensor(widen_style_columns(old_slots, new_slots))
    return {**state, key: state[key][:, cols].contiguous()}, added


def _on_cpu(module: torch.nn.Module) -> torch.nn.Module:
    """The module itself on a CPU run; a CPU copy of it when it trains on a GPU (ONNX export
    traces on the CPU, and training goes on with the original)."""
    if next(module.parameters()).device.type == "cpu":
        return module
    import copy
    return copy.deepcopy(module).to("cpu")
