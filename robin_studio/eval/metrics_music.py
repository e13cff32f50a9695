"""Musical quality proxies, the same for our pieces, the baselines and the held-out corpus.

Score-level (from the notes the synthesizer plays), following MusPy's definitions (Dong et al.,
"MusPy: A Toolkit for Symbolic Music Generation", ISMIR 2020):
- pitch-class entropy: Shannon entropy (bits) of the pitch-class histogram of pitched notes;
- scale consistency: the largest share of pitched notes inside one major or minor scale;
- groove consistency: 1 - mean Hamming distance between the onset patterns (16 steps) of
  adjacent bars, divided by 16;
and our own:
- empty-bar rate: share of bars in which no note sounds at all;
- repetition: share of bars (from the third on) that nearly repeat an earlier bar (cosine
  similarity of pitch-class + onset features >= 0.9), and the mean similarity of 4-bar
  sections to each other (structure: 1 = every section the same, 0 = nothing shared).

Audio-level:
- FD-mel: a Frechet distance between Gaussian fits of window embeddings of two sets of audio.
  The built-in embedding is a cheap, honest one (log-mel band means/stds, chroma means/stds,
  onset-strength statistics over 3 s windows); it is **not** FAD (which means VGGish) and its
  values are only comparable within one report. `MusicnnEmbedding` gives a music-trained
  embedding through the independent listener (installers/listener.sh; see `eval/listener.py`).
- diversity across seeds: 1 - mean pairwise per-bar similarity of pieces made for the same clip
  and prompt with different seeds (0 = identical pieces).
- seam quality: spectral flux and chroma change at regenerated boundaries divided by the same
  quantities at ordinary bar lines (about 1 = a seam is no more abrupt than a bar line).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import librosa
import numpy as np
from scipy import linalg

from robin_studio.eval.audio_events import ANALYSIS_SR, HOP, to_mono_24k
from robin_studio.score.types import Score

STEPS_PER_BAR = 16
MAJOR_STEPS = (0, 2, 4, 5, 7, 9, 11)
MINOR_STEPS = (0, 2, 3, 5, 7, 8, 10)


# -- score-level ---------------------------------------------------------------------------
def _pitched_notes(score: Score):
    return [n for t in score.tracks if not t.is_drums for n in t.notes]


def _bar_length_beats(score: Score) -> float:
    return float(score.beats_per_bar or 4)


def n_bars(score: Score) -> int:
    bar = _bar_length_beats(score)
    end = max((n.end_beat for t in score.tracks for n in t.notes), default=0.0)
    return max(score.total_bars, int(math.ceil(end / bar - 1e-9)))


def pitch_class_histogram(score: Score) -> np.ndarray:
    h = np.zeros(12)
    for n in _pitched_notes(score):
        h[n.pitch % 12] += 1
    return h


def pitch_class_entropy(score: Score) -> float:
    h = pitch_class_histogram(score)
    if h.sum() == 0:
        return float("nan")
    p = h[h > 0] / h.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(score: Score) -> float:
    h = pitch_class_histogram(score)
    if h.sum() == 0:
        return float("nan")
    best = 0.0
    for tonic in range(12):
        for steps in (MAJOR_STEPS, MINOR_STEPS):
            best = max(best, h[[(tonic + s) % 12 for s in steps]].sum() / h.sum())
    return float(best)


def onset_grid(score: Score) -> np.ndarray:
    """(bars, 16) booleans: some note (any track) starts on that 16th."""
    bars = n_bars(score)
    bar = _bar_length_beats(score)
    grid = np.zeros((bars, STEPS_PER_BAR), dtype=bool)
    for t in score.tracks:
        for n in t.notes:
            b = int(n.start_beat // bar)
            if 0 <= b < bars:
                step = int(round((n.start_beat - b * bar) / bar * STEPS_PER_BAR)) % STEPS_PER_BAR
                grid[b, step] = True
    return grid


def groove_consistency(score: Score) -> float:
    g = onset_grid(score)
    if len(g) < 2:
        return float("nan")
    return float(1.0 - np.mean(np.sum(g[1:] != g[:-1], axis=1) / STEPS_PER_BAR))


def sounding_bars(score: Score) -> np.ndarray:
    """(bars,) booleans: some note sounds in the bar (a note held over from before counts)."""
    bars = n_bars(score)
    bar = _bar_length_beats(score)
    sounding = np.zeros(bars, dtype=bool)
    for t in score.tracks:
        for n in t.notes:
            first = int(n.start_beat // bar)
            last = int(math.ceil(n.end_beat / bar - 1e-9)) - 1
            sounding[max(0, first): min(bars, last + 1)] = True
    return sounding


def empty_bar_rate(score: Score) -> float:
    s = sounding_bars(score)
    return float(1.0 - s.mean()) if len(s) else float("nan")


def bar_features(score: Score) -> np.ndarray:
    """(bars, 28): duration-weighted pitch-class profile (12) + onset pattern (16), per bar."""
    bars = n_bars(score)
    bar = _bar_length_beats(score)
    pcs = np.zeros((bars, 12))
    for n in _pitched_notes(score):
        b = int(n.start_beat // bar)
        if 0 <= b < bars:
            pcs[b, n.pitch % 12] += n.duration_beats
    pcs /= np.maximum(pcs.sum(axis=1, keepdims=True), 1e-9)
    return np.hstack([pcs, onset_grid(score).astype(float) / 4.0])


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na < 1e-12 and nb < 1e-12:
        return 1.0
    if na < 1e-12 or nb < 1e-12:
        return 0.0
    return float(a @ b / (na * nb))


def repetition_rate(score: Score, threshold: float = 0.9) -> float:
    f = bar_features(score)
    if len(f) < 3:
        return float("nan")
    hits = [any(_cos(f[i], f[j]) >= threshold for j in range(i - 1)) for i in range(2, len(f))]
    return float(np.mean(hits))


def section_similarity(score: Score, bars_per_section: int = 4) -> float:
    f = bar_features(score)
    k = len(f) // bars_per_section
    if k < 2:
        return float("nan")
    secs = [f[i * bars_per_section:(i + 1) * bars_per_section].ravel() for i in range(k)]
    return float(np.mean([_cos(a, b) for a, b in itertools.combinations(secs, 2)]))


SCORE_METRICS = {
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "groove_consistency": groove_consistency,
    "empty_bar_rate": empty_bar_rate,
    "repetition_rate": repetition_rate,
    "section_similarity": section_similarity,
}


def score_metrics(score: Score) -> dict[str, float]:
    return {name: fn(score) for name, fn in SCORE_METRICS.items()}


def diversity(scores: Sequence[Score]) -> float:
    """1 - mean pairwise per-bar cosine similarity of pieces (same clip/prompt, other seeds)."""
    if len(scores) < 2:
        return float("nan")
    feats = [bar_features(s) for s in scores]
    sims = []
    for a, b in itertools.combinations(feats, 2):
        n = min(len(a), len(b))
        if n:
            sims.append(np.mean([_cos(a[i], b[i]) for i in range(n)]))
    return float(1.0 - np.mean(sims)) if sims else float("nan")


# -- audio embeddings and the Frechet distance ----------------------------------------------
class Embedding(Protocol):
    name: str

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """(windows, dims) embedding vectors of one piece of audio."""


@dataclass
class MelChromaOnsetEmbedding:
    """Cheap built-in embedding: per 3 s window, 32 log-mel band means and stds, 12 chroma means
    and stds, and onset-strength mean/std/max (91 dims). Needs only librosa."""

    window_s: float = 3.0
    name: str = "FD-mel"

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        y = to_mono_24k(audio, sample_rate)
        if len(y) < HOP * 8:
            return np.zeros((0, 91))
        mel = librosa.power_to_db(librosa.feature.melspectrogram(
            y=y, sr=ANALYSIS_SR, hop_length=HOP, n_mels=32), ref=1.0)
        chroma = librosa.feature.chroma_stft(y=y, sr=ANALYSIS_SR, hop_length=HOP)
        onset = librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)
        n = min(mel.shape[1], chroma.shape[1], len(onset))
        w = max(1, int(self.window_s * ANALYSIS_SR / HOP))
        rows = []
        for a in range(0, max(1, n - w + 1), w):
            m, c, o = mel[:, a:a + w], chroma[:, a:a + w], onset[a:a + w]
            rows.append(np.concatenate([m.mean(1), m.std(1), c.mean(1), c.std(1),
                                        [o.mean(), o.std(), o.max()]]))
        return np.asarray(rows)


class MusicnnEmbedding:
    """MusiCNN's penultimate layer (MTT_musicnn, 200-d) per 3 s patch, heard by the independent
    listener in its own venv (`eval/listener.py`; installed by installers/listener.sh). It is
    never imported into our process; `available()` says whether the listener is installed."""

    name = "FD-musicnn"

    @staticmethod
    def available() -> bool:
        from robin_studio.eval.listener import Listener
        return Listener.find() is not None

    def embed(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        from robin_studio.eval.listener import NOT_INSTALLED, Listener

        listener = Listener.find()
        if listener is None:
            raise RuntimeError(NOT_INSTALLED)
        return listener.listen_audio([(audio, sample_rate)], windows=True)[0].windows


def frechet_distance(x: np.ndarray, y: np.ndarray) -> float:
    """||mu_x - mu_y||^2 + Tr(S_x + S_y - 2 (S_x S_y)^(1/2)) between Gaussian fits of rows."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    eps = 1e-6 * np.eye(len(mu1))
    covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean))


def embed_many(embedding: Embedding, pieces: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    rows = [embedding.embed(a, sr) for a, sr in pieces]
    rows = [r for r in rows if len(r)]
    return np.vstack(rows) if rows else np.zeros((0, 1))


# -- seams ------------------------------------------------------------------------------------
@dataclass
class SeamQuality:
    flux_ratio: float     # spectral flux at seams / at ordinary bar lines
    chroma_ratio: float   # chroma change across seams / across ordinary bar lines


def _boundary_measures(y: np.ndarray, times_s: Sequence[float], span_s: float = 0.5):
    flux = librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)
    chroma = librosa.feature.chroma_stft(y=y, sr=ANALYSIS_SR, hop_length=HOP)
    fr = ANALYSIS_SR / HOP
    w, span = max(1, int(0.05 * fr)), max(1, int(span_s * fr))
    fl, ch = [], []
    for t in times_s:
        i = int(round(t * fr))
        if i - span < 0 or i + span >= chroma.shape[1]:
            continue
        fl.append(float(flux[max(0, i - w): i + w + 1].max()))
        before, after = chroma[:, i - span:i].mean(1), chroma[:, i:i + span].mean(1)
        ch.append(1.0 - _cos(before, after))
    return np.asarray(fl), np.asarray(ch)


def bar_line_flux(audio: np.ndarray, sample_rate: int, times_s: Sequence[float],
                  bar_times_s: Sequence[float]) -> np.ndarray:
    """Spectral flux at each of `times_s` (the peak within 50 ms, as `seam_quality` takes it)
    over the median at the piece's bar lines `bar_times_s` that are not among `times_s`
    (more than 0.25 s away); NaN where a time is too near either end to measure."""
    y = to_mono_24k(audio, sample_rate)
    flux = librosa.onset.onset_strength(y=y, sr=ANALYSIS_SR, hop_length=HOP)
    fr = ANALYSIS_SR / HOP
    w, span = max(1, int(0.05 * fr)), max(1, int(0.5 * fr))

    def at(t: float) -> float:
        i = int(round(t * fr))
        if i - span < 0 or i + span >= flux.shape[0]:
            return float("nan")
        return float(flux[max(0, i - w): i + w + 1].max())

    times = list(times_s)
    ordinary = [at(t) for t in bar_times_s if all(abs(t - s) > 0.25 for s in times)]
    ordinary = [v for v in ordinary if v == v]
    if not ordinary:
        return np.full(len(times), np.nan)
    return np.array([at(t) for t in times]) / max(float(np.median(ordinary)), 1e-9)


def seam_flux_over_approved(seams: np.ndarray, same_music_in_approved: np.ndarray) -> float:
    """The seam flux ratio with the place of the seams taken out: the mean of `seams`
    (`bar_line_flux` at the seams of an edited piece) over the mean of
    `same_music_in_approved` (`bar_line_flux`, in the piece before the edit, at the bar line
    where the music that follows each seam began then; pairs with a NaN are left out).

    A bar line's flux is mostly what the music strikes there (a quiet bar line with held
    chords measures 0.05-0.4 of the median, a crash on a section start 1.5-2), so the plain
    ratio at a few seams says more about which bar lines they fall on than about the seams:
    regenerating 3 bars at every place of a piece, the seams measured 1.00 of an ordinary
    bar line and the same bar lines before regenerating 1.00, while the middle third alone
    gave 0.81-0.86 and its bar lines before regenerating 0.94. About 1: a seam sounds as the
    same music did across an ordinary bar line of the approved piece."""
    a, b = np.asarray(seams, float), np.asarray(same_music_in_approved, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any() or b[ok].mean() <= 1e-9:
        return float("nan")
    return float(a[ok].mean() / b[ok].mean())


def seam_quality(audio: np.ndarray, sample_rate: int, seam_times_s: Sequence[float],
                 bar_times_s: Sequence[float]) -> SeamQuality:
    y = to_mono_24k(audio, sample_rate)
    seams = list(seam_times_s)
    ordinary = [t for t in bar_times_s if all(abs(t - s) > 0.25 for s in seams)]
    sf, sc = _boundary_measures(y, seams)
    of, oc = _boundary_measures(y, ordinary)
    if not len(sf) or not len(of):
        return SeamQuality(float("nan"), float("nan"))
    return SeamQuality(float(sf.mean() / max(np.median(of), 1e-9)),
                       float(sc.mean() / max(np.median(oc), 1e-9)))
