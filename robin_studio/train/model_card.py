"""Write `MODEL_CARD.md` beside the weights from the training run's `training_report.json`:
what the weights saw (corpus, sources and licences), hyper-parameters, training time and
the held-out metrics. The pipeline calls it after export; it can be re-run by hand:

    python -m robin_studio.train.model_card models/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _fmt(x, nd=3):
    return f"{x:.{nd}f}" if isinstance(x, float) else str(x)


def render(report: dict) -> str:
    cfg = report["config"]
    data = report["data"]
    corpus = data.get("corpus_manifest", {})
    vae_v = report["vae"].get("valid", {})
    gen_v = report["generator"].get("valid", {})
    checks = report.get("sample_checks", {})
    params = report["parameters"]
    st = report["settings"]
    lines = [
        "# Robin Studio model card",
        "",
        f"Model version {report['version']}, trained {report['finished']} with `robin-studio train` "
        f"(seed {report['seed']}) in {report['wall_clock_s'] / 60:.1f} minutes of wall-clock time on "
        f"{_where(report['machine'])} ({report['machine']['cpu_threads']} torch thread(s), torch "
        f"{report['machine']['torch']}).",
        "",
        "## What it is",
        "",
        "A symbolic music generator after Video-Robin: a bar VAE compresses one 4/4 bar of a "
        "five-role score (drums, bass, harmony, melody, texture; 16th grid; pitches normalised "
        "to the key of C) into "
        f"{cfg['vae']['n_patches']} per-beat sub-patches of {cfg['vae']['patch_dim']} dimensions; a "
        "causal planner transformer over bars (KV cache) reads the previous bar's latent, the "
        "bar's controls (energy, density, accents, sections, bars to the end, shot semantics) "
        "and the intent (multilingual-e5-small prompt embedding, style, mode, tempo, roles); a "
        "Loc-DiT denoises each bar's latent by flow matching from the planner state with the "
        "neighbouring bars as context; the VAE decoder returns notes. Inference runs on ONNX "
        "Runtime (`robin_studio.model.runtime`).",
        "",
        "| part | parameters | d_model | layers | heads |",
        "|---|---|---|---|---|",
        f"| bar VAE (encoder + decoder) | {params['bar_vae']:,} | {cfg['vae']['d_model']} | "
        f"{cfg['vae']['n_layers']} + {cfg['vae']['n_layers']} | {cfg['vae']['n_heads']} |",
        f"| planner | {params['planner']:,} | {cfg['planner']['d_model']} | {cfg['planner']['n_layers']} | "
        f"{cfg['planner']['n_heads']} |",
        f"| Loc-DiT | {params['loc_dit']:,} | {cfg['dit']['d_model']} | {cfg['dit']['n_layers']} | "
        f"{cfg['dit']['n_heads']} |",
        "",
        f"Sampling: {cfg['dit']['sampling_steps']} Euler steps, classifier-free guidance "
        f"{cfg['dit']['guidance']} on the text; planner context {cfg['planner']['context_bars']} bars.",
        "",
        "## Training data and licences",
        "",
        f"Corpus: {data['train_pieces']} training pieces ({data['train_bars']:,} bars, "
        f"{data['train_hours']} hours), {data['valid_pieces']} held-out pieces "
        f"({data['valid_bars']:,} bars); splits are by source piece."
        + ((f" The training pieces are a seeded random subset of the {corpus['hours']:.0f}-hour corpus "
            f"({corpus.get('examples_per_split', {}).get('train', '?')} training examples), built by"
            if data["train_pieces"] < corpus.get("examples_per_split", {}).get("train", 0) else
            f" They are the whole training split of the {corpus['hours']:.0f}-hour corpus built by")
           + " `robin-studio corpus build`; the licence tables below describe the whole corpus."
           if corpus.get("hours") else ""),
        "",
        "Licences of the training examples: " + ", ".join(f"`{x}`" for x in data["licences"]) + ".",
        f"Examples from non-commercial sources: {data['noncommercial_examples']}. "
        + ("**The weights saw material licensed for non-commercial use only (e.g. the Essen "
           "folk song collection); rebuild the corpus with `--commercial-only` and retrain "
           "for commercial use.**" if data["noncommercial_examples"] else
           "No non-commercial material was used."),
        "",
    ]
    command = _reproduce_commands(report)
    if command:
        lines += ["To reproduce these weights (same corpus, seed and step counts; the time depends "
                  "on the machine):", "", "```", *command, "```", ""]
    if any("GPL-2.0" in x for x in data["licences"]):
        lines += ["Some examples come from GPL-2.0-only MIDI files (Debian `openttd-openmsx`). The weights "
                  "ship as part of Robin Studio under GPL-3.0-or-later; if they count as derived from "
                  "those files, the two licences conflict. Rebuild the corpus without the `openmsx` "
                  "group and retrain to avoid the question.", ""]
    if corpus.get("hours_per_style"):
        lines += ["Hours per style: " + ", ".join(f"{k} {v:.1f}" for k, v in
                                                 sorted(corpus["hours_per_style"].items())) + ".", ""]
    licences = corpus.get("licences")
    if isinstance(licences, dict) and licences:
        lines += ["| licence (corpus manifest) | examples |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in sorted(licences.items())]
        lines.append("")
    sources = corpus.get("sources") or {}
    if isinstance(sources, dict) and sources:
        groups: dict[str, list] = {}
        for name, info in sources.items():
            parts = name.split("/")
            key = "/".join(parts[:2]) if parts[0] == "music21" and len(parts) > 2 else parts[0]
            g = groups.setdefault(key, [0, set()])
            g[0] += int(info.get("examples", 0)) if isinstance(info, dict) else 0
            if isinstance(info, dict) and info.get("licence"):
                g[1].add(info["licence"])
        lines += ["| source collection | examples | licence |", "|---|---|---|"]
        lines += [f"| {k} | {n} | {', '.join(sorted(lic))} |" for k, (n, lic) in sorted(groups.items())]
        lines.append("")
    warm = st.get("init_from")
    if warm:
        lines += [
            "## How these weights were made (warm start)",
            "",
            f"These weights continue the previous ones in `{warm}`"
            + (f" ({st['init_from_note']})" if st.get("init_from_note") else "")
            + " (the bar VAE, its latent statistics and "
            "its decoding threshold are kept unchanged; the planner and Loc-DiT start from their weights "
            f"and train on the corpus above at learning rate {st.get('finetune_lr')}). "
            + (_slots_sentence(cfg, report) if cfg.get("style_slots") else
               "The model's style input has twelve family slots; the styles added later use their "
               "family's slot (`robin_studio.score.idioms`) and are told apart by the prompt embedding. ")
            + "The engine plays every style's grooves, bass idioms, comping and progressions from the "
            "same tables the corpus was arranged with.",
            "",
        ]
    lines += [
        "## Hyper-parameters",
        "",
        (f"- bar VAE: kept from `{warm}` (not retrained this run)" if warm else
         f"- bar VAE: batch {st['vae_batch']} bars, AdamW lr {st['vae_lr']}, KL weight {st['vae_beta']} "
         f"(ramped), {report['vae']['steps']} steps in {report['vae']['seconds'] / 60:.1f} min"),
        f"- planner + Loc-DiT: batch {st['gen_batch']} windows of {cfg['planner']['context_bars']} bars, "
        f"{st['dit_bars']} bars a step through the DiT, AdamW lr {st.get('finetune_lr') if warm else st['gen_lr']}, "
        f"{report['generator']['steps']} steps in {report['generator']['seconds'] / 60:.1f} min",
        *([f"- the exported planner + Loc-DiT are an exponential moving average of the weights "
           f"(decay {report['generator']['average']}); held-out flow loss of the last step's weights "
           f"without it: {_fmt(report['generator'].get('valid_last_weights', {}).get('flow_loss', float('nan')), 4)}"]
          if report["generator"].get("average") else []),
        *([_load_line(report)] if report.get("machine", {}).get("load") else []),
        "- condition dropout: text 0.15 (the unconditional branch for guidance), style/mode/tempo "
        "0.3, each role's on/off 0.5, shot semantics 0.5",
        "",
        "## Metrics (held-out split)",
        "",
        f"- bar VAE reconstruction, note-onset F1 (role, pitch and 16th step must match): "
        f"**{_fmt(vae_v.get('onset_f1', float('nan')))}** (precision {_fmt(vae_v.get('onset_precision', 0.0))}, "
        f"recall {_fmt(vae_v.get('onset_recall', 0.0))}, {vae_v.get('bars', 0)} bars); whole-roll F1 "
        f"(sustains included) {_fmt(vae_v.get('roll_f1', 0.0))}",
        f"- flow-matching loss: {_fmt(gen_v.get('flow_loss', float('nan')), 4)} held-out vs "
        f"{_fmt(report['generator'].get('train_eval', {}).get('flow_loss', float('nan')), 4)} on training windows"
        + (f"; the starting weights scored {_fmt(report['generator']['valid_at_start'].get('flow_loss', float('nan')), 4)} "
           "on the same held-out windows" if report["generator"].get("valid_at_start") else ""),
        f"- generated through ONNX Runtime with held-out controls ({checks.get('pieces', 0)} pieces, "
        f"{checks.get('bars', 0)} bars): silent bars {_fmt(checks.get('silent_bar_rate', 0.0))}, "
        f"notes a bar {_fmt(checks.get('notes_per_bar', 0.0), 1)}, asked mode followed "
        f"{_fmt(checks.get('mode_accuracy', 0.0))}, asked melody present {_fmt(checks.get('asked_role_present_rate', 0.0))}, "
        f"banned drums absent {_fmt(checks.get('banned_role_absent_rate', 0.0))}, two seeds differ "
        f"{_fmt(checks.get('seeds_differ_rate', 0.0))}",
        "",
        "The product-level figures (tempo, cuts on beats, mode, instruments on rendered audio) "
        "are in `docs/EVAL.md`.",
        "",
        *_comparison(report),
        *(["## Notes on this run", "", *[f"- {n}" for n in report["notes"]], ""] if report.get("notes") else []),
        "## Files",
        "",
        "ONNX graphs for the runtime and safetensors of the torch weights (no pickles); "
        "`manifest.json` holds their sizes and sha256 (`python -m robin_studio.model.manifest`).",
        "",
    ]
    return "\n".join(lines)


def _reproduce_commands(report: dict) -> list[str]:
    """The `corpus build` and `train` command lines that made these weights."""
    corpus = report.get("data", {}).get("corpus_manifest", {}) or {}
    opts = corpus.get("options") or {}
    settings = report.get("settings", {})
    if not opts or settings.get("tiny"):
        return []
    build = ["robin-studio corpus build", f"--hours {opts.get('hours', 100):g}",
             f"--seed {corpus.get('seed', 0)}"]
    if not opts.get("allow_noncommercial", True):
        build.append("--commercial-only")
    if opts.get("without"):
        build.append("--without " + ",".join(opts["without"]))
    from robin_studio.train.corpus.build import DEFAULT_GROUPS
    if opts.get("groups") and list(opts["groups"]) != list(DEFAULT_GROUPS):
        build.append("--groups " + ",".join(opts["groups"]))
    train = ["robin-studio train", f"--seed {settings.get('seed', 0)}",
             f"--threads {settings.get('threads', 1)}"]
    if settings.get("max_train_examples"):
        train.append(f"--max-examples {settings['max_train_examples']}")
    vae_steps = report.get("vae", {}).get("steps")
    gen_steps = report.get("generator", {}).get("steps")
    if settings.get("init_from") and gen_steps:
        train += [f"--init-from {settings['init_from']}", f"--gen-steps {gen_steps}",
                  f"--max-captions {settings.get('max_new_captions', 2000)}", "--budget-minutes 600"]
    elif vae_steps and gen_steps:
        train += [f"--vae-steps {vae_steps}", f"--gen-steps {gen_steps}",
                  "--budget-minutes 600"]
    return [" ".join(build), " ".join(train)]


def write_card(models_dir: Path | str) -> Path:
    d = Path(models_dir)
    report = json.loads((d / "training_report.json").read_text())
    path = d / "MODEL_CARD.md"
    path.write_text(render(report))
    return path


if __name__ == "__main__":
    print(write_card(sys.argv[1] if len(sys.argv) > 1 else "models"))


def _comparison(report: dict) -> list[str]:
    """The side-by-side run against the weights these replace (`train.compare`), when one
    was recorded in the report."""
    cmp = report.get("comparison")
    if not cmp:
        return []
    from robin_studio.train.compare import TOLERANCE, markdown
    verdict = cmp["summary"]["not_worse_on_tune"]
    return [
        "## Compared with the weights these replace",
        "",
        f"Both sets of weights through the whole engine in one run ({cmp['when']}, "
        f"`python -m robin_studio.train.compare`), alternating which went first; 1-minute load "
        f"average {cmp['load_before']:.1f} before and {cmp['load_after']:.1f} after. Cases: the held-out "
        f"prompts (`robin_studio/eval/heldout_prompts.toml`) on {', '.join(cmp['clips'][:-1])}, seed 0, "
        f"and the development prompts of `train.compare` on {cmp['clips'][-1]}. Means over cases; "
        "speeds are medians, wall and CPU time, on the same loaded machine.",
        "",
        markdown(cmp),
        "",
        "The rule set before the comparison: not worse on the tune (means over all cases, with "
        "tolerances " + ", ".join(f"{k} {v}" for k, v in TOLERANCE.items()) + "): "
        + ", ".join(f"{k} {'not worse' if ok else 'WORSE'}" for k, ok in verdict.items()) + ".",
        "",
        # Where the weights shipped although a figure of that rule moved the wrong way, the
        # report says on what further evidence: the card must not read as if the rule held.
        *([f"Decision: {report['decision']}", ""] if report.get("decision") else []),
    ]


def _slots_sentence(cfg: dict, report: dict) -> str:
    slots = cfg["style_slots"]
    added = report.get("generator", {}).get("widened_styles") or []
    return (f"The style input has a slot for each of the {len(slots)} style ids ({', '.join(slots)})"
            + (f"; the {len(added)} slots the earlier weights lacked ({', '.join(added)}) started as "
               "copies of their family's slot, so the network began exactly where the earlier one "
               "was and each style then learnt on its own. " if added else ". "))


def _load_line(report: dict) -> str:
    load = report["machine"]["load"]
    gen = report["generator"]
    per_step = gen["seconds"] / max(1, gen["steps"])
    return (f"- machine load while training (1-minute load average on {load.get('cores', 2)} cores, "
            f"sampled every {load.get('every_s', 60)} s): min {load['min']:.1f}, median "
            f"{load['median']:.1f}, max {load['max']:.1f}; {per_step:.2f} s per generator step")


def _where(machine: dict) -> str:
    """Where the run trained: the shipped path is one process on a shared 2-core CPU."""
    procs, device = machine.get("processes", 1), machine.get("device", "cpu")
    if procs == 1 and device == "cpu":
        return "a shared 2-core CPU"
    return f"{procs} data-parallel process{'es' if procs > 1 else ''} ({machine.get('precision', device)})"
