"""Leave-families-out evaluation: every score is on a generator family the model never saw.

Fakes belong to a family (the manifest's `method`); clips that share a `group` (a person or a
source video) must stay together. So families linked through a shared group form one unit,
and each unit goes whole to one fold with every clip of its groups, reals included. Real clips
whose groups hold no fake are dealt out afterwards, largest group first, to the fold whose share
of reals lags its share of fakes most, so every fold keeps a similar real:fake ratio and its
reals are people and sources the model never saw either.

Clips of one group are not independent, so confidence intervals resample whole groups, and a
comparison of two detectors is a paired bootstrap of their AUC difference on the same clips.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.training.datasets import Clip, UnionFind

BOOTSTRAP_ROUNDS = 2000


def family_folds(clips: Sequence[Clip], folds: int = 5, seed: int = 0) -> np.ndarray:
    """The fold (0..folds-1) of every clip; see the module docstring for the rule."""
    if folds < 2:
        raise ValueError("leave-families-out needs at least two folds")
    rng = np.random.default_rng(seed)
    units = UnionFind()  # over family and group names
    for clip in clips:
        if clip.label == 1:
            units.union("group:" + clip.group, "family:" + clip.method)
    # Every order below is fixed (manifest order, then names), so a seed gives the same folds anywhere.
    group_order = list(dict.fromkeys(c.group for c in clips))
    unit_groups: dict[str, list[str]] = {}
    for group in group_order:
        if "group:" + group in units.parent:
            unit_groups.setdefault(units.find("group:" + group), []).append(group)
    counts = {group: [0, 0] for group in group_order}  # [reals, fakes]
    for clip in clips:
        counts[clip.group][clip.label] += 1
    fakes, reals = np.zeros(folds), np.zeros(folds)
    fold_of: dict[str, int] = {}
    ordered = sorted(unit_groups.values(), key=lambda groups: (-sum(counts[g][1] for g in groups), rng.random()))
    for groups in ordered:
        fold = int(np.argmin(fakes + 1e-3 * rng.random(folds)))
        for group in groups:
            fold_of[group] = fold
            reals[fold] += counts[group][0]
            fakes[fold] += counts[group][1]
    real_only = sorted(sorted(g for g in counts if g not in fold_of), key=lambda g: (-counts[g][0], rng.random()))
    total_reals = reals.sum() + sum(counts[g][0] for g in real_only)
    target = fakes / fakes.sum() * total_reals if fakes.sum() else np.full(folds, total_reals / folds)
    for group in real_only:
        fold = int(np.argmin(reals - target + 1e-3 * rng.random(folds)))
        fold_of[group] = fold
        reals[fold] += counts[group][0]
    return np.array([fold_of[c.group] for c in clips])


@dataclass(frozen=True)
class AucWithCi:
    auc: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.auc:.3f} ({self.low:.3f}-{self.high:.3f})"


def _group_rows(groups: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(groups == g) for g in np.unique(groups)]


def group_bootstrap_auc(
    labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
) -> AucWithCi:
    """AUC with a 95% interval from resampling whole groups."""
    labels, scores, groups = np.asarray(labels), np.asarray(scores, dtype=float), np.asarray(groups)
    rows = _group_rows(groups)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        pick = np.concatenate([rows[i] for i in rng.integers(0, len(rows), len(rows))])
        if len(np.unique(labels[pick])) == 2:
            values.append(roc_auc_score(labels[pick], scores[pick]))
    low, high = np.percentile(values, [2.5, 97.5])
    return AucWithCi(float(roc_auc_score(labels, scores)), float(low), float(high))


def paired_auc_difference(
    labels: np.ndarray,
    scores_a: np.ndarray,
    scores_b: np.ndarray,
    groups: np.ndarray,
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> AucWithCi:
    """AUC(a) - AUC(b) on the same clips with a 95% group-bootstrap interval: a beats b beyond
    the noise only when the interval's low end is above zero."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    rows = _group_rows(groups)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        pick = np.concatenate([rows[i] for i in rng.integers(0, len(rows), len(rows))])
        if len(np.unique(labels[pick])) == 2:
            values.append(roc_auc_score(labels[pick], a[pick]) - roc_auc_score(labels[pick], b[pick]))
    low, high = np.percentile(values, [2.5, 97.5])
    return AucWithCi(float(roc_auc_score(labels, a) - roc_auc_score(labels, b)), float(low), float(high))


def out_of_fold_scores(folds: np.ndarray, fit_and_score: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> np.ndarray:
    """Every clip's score from a model trained on the other folds: `fit_and_score(train rows,
    test rows) -> scores of the test rows`."""
    scores = np.full(len(folds), np.nan)
    for fold in np.unique(folds):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        scores[test] = fit_and_score(train, test)
    return scores


# Container facts a detector must never see (issue 13): each baseline reads one of them alone.
FORMAT_BASELINES: dict[str, tuple[str, ...]] = {
    "duration only": ("duration_s",),
    "resolution and fps only": ("width", "height", "fps"),
    "bitrate only": ("log_bitrate",),
    "audio presence only": ("has_audio",),
    "all of them": ("duration_s", "width", "height", "fps", "log_bitrate", "has_audio"),
}
FORMAT_COLUMNS = ("duration_s", "width", "height", "fps", "log_bitrate", "has_audio")


def container_facts(path: str) -> dict[str, float]:
    """Duration, size, frame rate, bitrate (log) and whether an audio stream exists, from the header."""
    import av

    with av.open(path) as container:
        video = container.streams.video[0]
        if container.duration:
            duration = container.duration / 1e6
        elif video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        else:
            duration = 0.0
        size = os.path.getsize(path)
        return {
            "duration_s": float(duration),
            "width": float(video.codec_context.width),
            "height": float(video.codec_context.height),
            "fps": float(video.average_rate or video.guessed_rate or 0.0),
            "log_bitrate": float(np.log(max(size * 8 / max(duration, 1e-3), 1.0))),
            "has_audio": float(len(container.streams.audio) > 0),
        }


def format_baseline_scores(facts: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Out-of-fold scores of a small gradient-boosted classifier on each set of container facts
    (`facts` columns in FORMAT_COLUMNS order): what reading the format alone would earn."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    scores = {}
    for name, columns in FORMAT_BASELINES.items():
        x = facts[:, [FORMAT_COLUMNS.index(c) for c in columns]]

        def fit_and_score(train: np.ndarray, test: np.ndarray, x: np.ndarray = x) -> np.ndarray:
            model = HistGradientBoostingClassifier(max_depth=3, max_iter=100, random_state=0)
            model.fit(x[train], labels[train])
            return np.asarray(model.predict_proba(x[test])[:, 1], dtype=float)

        scores[name] = out_of_fold_scores(folds, fit_and_score)
    return scores
