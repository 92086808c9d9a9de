"""Video-level metrics in one place: AUC (with a bootstrap CI), accuracy, log loss, Brier, ECE."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from pipeline.model.report import Metrics

__all__ = ["BOOTSTRAP_ROUNDS", "ECE_BINS", "Metrics", "auc_or_none", "bootstrap_auc_ci", "compute_metrics"]

ECE_BINS = 10
BOOTSTRAP_ROUNDS = 1000


def auc_or_none(labels: np.ndarray, probabilities: np.ndarray) -> float | None:
    """AUC, or None when only one class is present (it is undefined then)."""
    labels = np.asarray(labels)
    if len(np.unique(labels)) < 2:
        return None
    return float(roc_auc_score(labels, probabilities))


def bootstrap_auc_ci(
    labels: np.ndarray, probabilities: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
) -> tuple[float, float] | None:
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    if len(np.unique(labels)) < 2:
        return None
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(rounds):
        pick = rng.integers(0, len(labels), len(labels))
        if len(np.unique(labels[pick])) == 2:
            scores.append(roc_auc_score(labels[pick], probabilities[pick]))
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = ECE_BINS) -> float:
    """Mean |observed fake rate - mean predicted probability| over equal-width bins, by count."""
    labels, probabilities = np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        chosen = which == b
        if chosen.any():
            error += chosen.mean() * abs(labels[chosen].mean() - probabilities[chosen].mean())
    return float(error)


def compute_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> Metrics:
    labels = np.asarray(labels, dtype=int)
    probabilities = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    log_loss = -np.mean(labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities))
    return Metrics(
        clips=len(labels),
        fakes=int(labels.sum()),
        reals=int((1 - labels).sum()),
        auc=auc_or_none(labels, probabilities),
        auc_ci95=bootstrap_auc_ci(labels, probabilities),
        accuracy=float(np.mean((probabilities >= threshold) == labels)),
        log_loss=float(log_loss),
        brier=float(np.mean((probabilities - labels) ** 2)),
        ece=expected_calibration_error(labels, probabilities),
    )
