"""The engine's one doorway into `render/`: streaming synthesis, mastering, spectrograms.

Keeping every call into the sound package here means the engine reads as music logic and
the contract with `render/` is visible in one place:
- `render.synth.StreamingRenderer(score, 48000, load_synth(soundfont))`: `.render_until(end_s)`
  returns the next stretch of the dry mix (float32 (n, 2)) with voices ringing across chunk
  edges; `.update_score(score)` hands it the notes of the next chunk;
- `render.master.StreamingMaster(sample_rate, style, plan=...).process(chunk)`: the live
  chain the engine masters every chunk (and so the whole piece) with: room, bus compression,
  the planned loudness curve, limiter, state carried across chunks;
- `loudness_plan(controls, tempo_map, intent, analysis)`: that curve, from the per-bar
  energy and the prompt's timed wishes, known before the first chunk (render.loudness_plan);
- `render.master.master(audio, sample_rate, style=...)`: a one-shot master of a whole dry
  render (after `wet_mix` adds the style's room and bus tone), for benchmarks and tools;
- `render.spectrogram.mel_spectrogram_image(audio, sample_rate)`: the preview image.
"""

from __future__ import annotations

import numpy as np

from robin_studio.score.types import Score

from robin_studio.render.synth import MAX_ATTACK_LEAD_S

SAMPLE_RATE = 48_000
# The synthesizer starts slow-attack notes up to this early (render.synth's attack
# compensation), so a bar's notes may sound this long before its bar line: streamed audio
# stops this far short of the next bar line until that bar's notes are known.
ATTACK_LOOKAHEAD_S = MAX_ATTACK_LEAD_S


# The sound chains an evaluation can put side by side (render.synth.CHAINS): "studio" is
# what the engine plays; "gm-legacy" is the sound before issue 15 (FluidR3 alone, notes as
# written, the old palettes' mix). Anywhere: ROBIN_STUDIO_SOUND_CHAIN=gm-legacy.
CHAINS = ("studio", "gm-legacy")
DEFAULT_CHAIN = "studio"


def render_chain(score: Score, end_s: float, chain: str = DEFAULT_CHAIN, style: str | None = None,
                 soundfont=None) -> np.ndarray:
    """`score` played and mastered by `chain` up to `end_s`, delivered at -14 LUFS / -1 dBTP:
    the same notes through another sound, for A/B listening and the evaluation. For
    "gm-legacy" the tracks keep their instruments and take the old mix's gains and pans."""
    import os
    from dataclasses import replace

    from robin_studio.render.master import deliver
    from robin_studio.render.palettes import mix_for
    from robin_studio.render.synth import StreamingRenderer, load_synth, sound_chain

    chain = sound_chain(chain)
    before = os.environ.get("ROBIN_STUDIO_SOUND_CHAIN")
    os.environ["ROBIN_STUDIO_SOUND_CHAIN"] = chain      # the palettes and mix read it too
    try:
        if chain == "gm-legacy":
            mix = mix_for(style)
            score = replace(score, tracks=[replace(t, gain_db=mix.role(t.role).gain_db, pan=mix.role(t.role).pan)
                                           for t in score.tracks])
        with StreamingRenderer(score, SAMPLE_RATE, load_synth(soundfont), chain=chain) as r:
            raw = np.asarray(r.render_until(end_s), np.float32)
        return deliver(master(raw, SAMPLE_RATE, style), SAMPLE_RATE)
    finally:
        if before is None:
            os.environ.pop("ROBIN_STUDIO_SOUND_CHAIN", None)
        else:
            os.environ["ROBIN_STUDIO_SOUND_CHAIN"] = before


def chain() -> str:
    """The sound chain in force ("studio", or "gm-legacy" with ROBIN_STUDIO_SOUND_CHAIN)."""
    from robin_studio.render.synth import sound_chain

    return sound_chain()


def warm_second_banks(soundfont=None) -> None:
    """Load the second banks (render.synth.SECOND_BANK_PRESETS) beside the default one, so
    the first chunk of a piece with strings does not wait for them (about 0.7 s)."""
    from robin_studio.render.synth import second_banks, second_synth

    if soundfont is None and chain() == "studio":
        for name in second_banks():
            second_synth(name)


def make_renderer(score: Score, soundfont=None):
    """A `StreamingRenderer` at 48 kHz (close it when done; it borrows a synth state)."""
    from robin_studio.render.synth import StreamingRenderer, load_synth

    return StreamingRenderer(score, SAMPLE_RATE, load_synth(soundfont))


def render_full(score: Score, end_s: float, soundfont=None) -> np.ndarray:
    """The raw mix of a whole score up to `end_s` seconds, exactly as the streaming path
    makes it (the synth is deterministic block by block)."""
    with make_renderer(score, soundfont) as r:
        return np.asarray(r.render_until(end_s), dtype=np.float32)


def streaming_master(style: str | None, plan=None):
    from robin_studio.render.master import StreamingMaster

    return StreamingMaster(SAMPLE_RATE, style=style, plan=plan)


def loudness_plan(controls, tempo_map, intent=None, analysis=None, energies=None):
    """The piece's loudness curve (`render.loudness_plan.LoudnessPlan`), planned from the
    bars' energy (`energies`, as the arrangement plays them: `Arrangement.form_energies`;
    else the controls') and the intent's timed wishes before anything is rendered."""
    from robin_studio.render.loudness_plan import Wish, plan_loudness

    wishes = []
    if intent is not None and analysis is not None and getattr(intent, "timed_wishes", None):
        from robin_studio.generate.conditions import resolve_wishes

        wishes = [Wish(w.kind, float(w.start_s), float(w.end_s)) for w in resolve_wishes(intent, analysis)]
    n = len(controls)
    starts = [tempo_map.bar_start_s(i) for i in range(n + 1)]
    return plan_loudness(starts, list(energies) if energies is not None else [c.energy for c in controls], wishes)


def wet_mix(raw: np.ndarray, style: str | None, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The dry synth mix (track gains and pans already applied) with the style's shared
    reverb at the palette's mean send and its bus tone: the same room as the live preview."""
    import pedalboard as pb

    from robin_studio.render.palettes import mix_for
    from robin_studio.score.types import Role

    settings = mix_for(style)
    send = float(np.mean([settings.role(r).reverb_send for r in Role]))
    fx = [pb.HighpassFilter(settings.highpass_hz),
          pb.Reverb(room_size=settings.reverb_room, damping=settings.reverb_damping,
                    wet_level=send * 10 ** (settings.reverb_return_db / 20), dry_level=1.0)]
    if settings.lowpass_hz:
        fx.append(pb.LowpassFilter(settings.lowpass_hz))
    x = np.ascontiguousarray(np.asarray(raw, np.float32).T)
    out = pb.Pedalboard(fx).process(x, float(sample_rate), reset=True)
    return np.ascontiguousarray(out.T, dtype=np.float32)


def master(raw: np.ndarray, sample_rate: int = SAMPLE_RATE, style: str | None = None) -> np.ndarray:
    """The finished mix of a dry synth render: room, bus tone, compression, -14 LUFS."""
    from robin_studio.render.master import master as _master

    return np.ascontiguousarray(_master(wet_mix(raw, style, sample_rate), sample_rate, style=style),
                                dtype=np.float32)


def spectrogram(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    from robin_studio.render.spectrogram import mel_spectrogram_image

    return np.asarray(mel_spectrogram_image(audio, sample_rate))
