"""Turning the model's raw video probability into one that means what it says.

Fitted once on validation clips (by `train`, or `evaluate --fit-calibration`), stored with
the model, applied by `score` to every verdict.
"""

from __future__ import annotations

import math

import numpy as np

CROSS_FIT_SPLITS = 20


def calibrate(probability: float, temperature: float, bias: float = 0.0) -> float:
    """Platt scaling of a probability: sigmoid(logit(p) / temperature + bias).

    Temperature 1 and bias 0 leave it unchanged; bias 0 is plain temperature scaling.
    """
    p = min(max(probability, 1e-7), 1 - 1e-7)
    logit = math.log(p / (1 - p)) / temperature + bias
    return 1.0 / (1.0 + math.exp(-logit))


def fit_temperature(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Temperature scaling: the T minimising the log loss of sigmoid(logit(p) / T)."""
    p = np.clip(probabilities, 1e-6, 1 - 1e-6)
    logits = np.log(p / (1 - p))
    best, best_loss = 1.0, np.inf
    for temperature in np.exp(np.linspace(np.log(0.05), np.log(20.0), 400)):
        q = np.clip(1 / (1 + np.exp(-logits / temperature)), 1e-7, 1 - 1e-7)
        loss = -np.mean(labels * np.log(q) + (1 - labels) * np.log(1 - q))
        if loss < best_loss:
            best, best_loss = float(temperature), loss
    return best


def fit_platt(labels: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """Platt scaling: the (temperature, bias) minimising the log loss of sigmoid(logit(p) / T + b).

    Temperature alone cannot fix a model that leans to one side (it only stretches logits
    around 0.5); the bias can. A temperature search with the best bias for each T (Newton steps).
    """
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-6, 1 - 1e-6)
    logits = np.log(p / (1 - p))
    labels = np.asarray(labels, dtype=np.float64)
    best, best_loss = (1.0, 0.0), np.inf
    for temperature in np.exp(np.linspace(np.log(0.05), np.log(20.0), 200)):
        scaled, bias = logits / temperature, 0.0
        for _ in range(25):
            q = 1 / (1 + np.exp(-(scaled + bias)))
            step = np.sum(q - labels) / max(np.sum(q * (1 - q)), 1e-9)
            bias -= float(np.clip(step, -2.0, 2.0))
        q = np.clip(1 / (1 + np.exp(-(scaled + bias))), 1e-7, 1 - 1e-7)
        loss = -np.mean(labels * np.log(q) + (1 - labels) * np.log(1 - q))
        if loss < best_loss:
            best, best_loss = (float(temperature), float(bias)), loss
    return best


def cross_fitted_calibration(
    labels: np.ndarray, probabilities: np.ndarray, groups: np.ndarray, splits: int = CROSS_FIT_SPLITS, seed: int = 0
) -> np.ndarray:
    """Calibrated probabilities judged honestly: Platt fitted on half of the groups, applied to the other.

    A calibration fitted on the same clips it is judged on looks better than it is. Here the groups
    are halved at random `splits` times; each half is calibrated with the parameters fitted on the
    other half, and each clip's out-of-half probabilities are averaged over the splits (which mixes
    rankings across halves, so an AUC of the result is not the model's AUC).
    """
    labels = np.asarray(labels, dtype=float)
    raw = np.asarray(probabilities, dtype=float)
    groups = np.asarray(groups)
    unique_groups = np.unique(groups)
    rng = np.random.default_rng(seed)
    totals = np.zeros(len(raw))
    for _ in range(splits):
        half = np.isin(groups, rng.permutation(unique_groups)[: len(unique_groups) // 2])
        for fit, judge in ((half, ~half), (~half, half)):
            if len(np.unique(labels[fit])) < 2:
                totals[judge] += raw[judge]  # cannot fit on one class: leave raw
                continue
            temperature, bias = fit_platt(labels[fit], raw[fit])
            totals[judge] += np.array([calibrate(p, temperature, bias) for p in raw[judge]])
    return totals / splits
