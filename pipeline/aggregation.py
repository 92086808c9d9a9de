"""Rules that turn per-frame fake probabilities into one video probability.

They sit behind a name-to-function registry so the CLI, the ablation and the
Attention lab can pick one by name. All take frame probabilities and a face mask
(1 where the frame has a face) and ignore frames without a face.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Aggregator = Callable[..., float]
AGGREGATORS: dict[str, Aggregator] = {}

# selimsef's DFDC-winning "confident strategy": what counts as a confident frame.
CONFIDENT_FAKE = 0.8
CONFIDENT_REAL = 0.2


def register_aggregator(name: str) -> Callable[[Aggregator], Aggregator]:
    def decorator(function: Aggregator) -> Aggregator:
        AGGREGATORS[name] = function
        return function

    return decorator


def _face_probabilities(p: np.ndarray, mask: np.ndarray) -> np.ndarray:
    values = np.asarray(p, dtype=np.float64)[np.asarray(mask) > 0]
    if values.size == 0:
        raise ValueError("no frame with a face to aggregate")
    return values


def certainty(p: np.ndarray, measure: str = "margin") -> np.ndarray:
    """The numpy twin of the model's certainty: |2p-1| or 1 - binary entropy in bits."""
    p = np.asarray(p, dtype=np.float64)
    if measure == "margin":
        return np.abs(2.0 * p - 1.0)
    if measure == "entropy":
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return 1.0 + (q * np.log2(q) + (1 - q) * np.log2(1 - q))
    raise ValueError(f"unknown certainty measure {measure!r}")


def certainty_attention_weights(
    p: np.ndarray, mask: np.ndarray, temperature: float = 0.2, measure: str = "margin"
) -> np.ndarray:
    """Softmax of certainty / temperature over face frames; 0 on frames without a face."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    mask = np.asarray(mask) > 0
    weights = np.zeros(len(mask), dtype=np.float64)
    if not mask.any():
        return weights
    logits = certainty(np.asarray(p)[mask], measure) / temperature
    exp = np.exp(logits - logits.max())
    weights[mask] = exp / exp.sum()
    return weights


@register_aggregator("mean")
def mean_probability(p: np.ndarray, mask: np.ndarray, **_: object) -> float:
    return float(_face_probabilities(p, mask).mean())


@register_aggregator("max")
def max_probability(p: np.ndarray, mask: np.ndarray, **_: object) -> float:
    return float(_face_probabilities(p, mask).max())


@register_aggregator("confident")
def confident_strategy(p: np.ndarray, mask: np.ndarray, **_: object) -> float:
    """Average only the confident frames when enough of them agree (DFDC winner's rule)."""
    values = _face_probabilities(p, mask)
    fakes = values[values > CONFIDENT_FAKE]
    if len(fakes) > len(values) / 2.5:
        return float(fakes.mean())
    reals = values[values < CONFIDENT_REAL]
    if len(reals) > 0.9 * len(values):
        return float(reals.mean())
    return float(values.mean())


@register_aggregator("certainty_attention")
def certainty_attention(
    p: np.ndarray, mask: np.ndarray, temperature: float = 0.2, measure: str = "margin", **_: object
) -> float:
    """Attention-weighted mean of frame probabilities (the paper's weighting, without the LSTM)."""
    weights = certainty_attention_weights(p, mask, temperature, measure)
    _face_probabilities(p, mask)
    return float(np.dot(weights, np.asarray(p, dtype=np.float64)))


def aggregate(name: str, p: np.ndarray, mask: np.ndarray, **options: object) -> float:
    if name not in AGGREGATORS:
        raise ValueError(f"unknown aggregation {name!r}; known: {', '.join(sorted(AGGREGATORS))}")
    return AGGREGATORS[name](p, mask, **options)
