"""Rules that turn per-frame fake probabilities into one video probability, and say how much
each frame counted.

Every rule returns an `Aggregation`: the video probability and one weight per sampled frame
(0 without a face, summing to 1 over the face frames). So the CLI, the ablation and the Attention
lab pick a rule by name and draw any of them the same way. The full network (attention + LSTM)
joins the same contract through `full_model`, which reads its output instead of re-deriving it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.model.output import ModelOutput
from pipeline.settings import ATTENTION_TEMPERATURE, CERTAINTY_MEASURE

# selimsef's DFDC-winning "confident strategy": what counts as a confident frame.
CONFIDENT_FAKE = 0.8
CONFIDENT_REAL = 0.2
FULL_MODEL = "full_model"


@dataclass(frozen=True)
class Aggregation:
    """One rule applied to one clip."""

    probability: float
    weights: np.ndarray  # one per sampled frame: 0 without a face, summing to 1 over face frames


Rule = Callable[..., Aggregation]
AGGREGATORS: dict[str, Rule] = {}


def register_aggregator(name: str) -> Callable[[Rule], Rule]:
    def decorator(function: Rule) -> Rule:
        AGGREGATORS[name] = function
        return function

    return decorator


def _face_mask(p: np.ndarray, mask: np.ndarray) -> np.ndarray:
    faces = np.asarray(mask) > 0
    if len(faces) != len(p):
        raise ValueError("one mask value is needed per frame probability")
    if not faces.any():
        raise ValueError("no frame with a face to aggregate")
    return faces


def _weighted(p: np.ndarray, weights: np.ndarray) -> Aggregation:
    return Aggregation(float(np.dot(weights, np.asarray(p, dtype=np.float64))), weights)


def _uniform_over(chosen: np.ndarray) -> np.ndarray:
    weights: np.ndarray = chosen.astype(np.float64) / chosen.sum()
    return weights


def certainty(p: np.ndarray, measure: str = CERTAINTY_MEASURE) -> np.ndarray:
    """The numpy twin of the model's certainty: |2p-1| or 1 - binary entropy in bits."""
    p = np.asarray(p, dtype=np.float64)
    if measure == "margin":
        margin: np.ndarray = np.abs(2.0 * p - 1.0)
        return margin
    if measure == "entropy":
        q = np.clip(p, 1e-7, 1 - 1e-7)
        information: np.ndarray = 1.0 + (q * np.log2(q) + (1 - q) * np.log2(1 - q))
        return information
    raise ValueError(f"unknown certainty measure {measure!r}")


def certainty_attention_weights(
    p: np.ndarray, mask: np.ndarray, temperature: float = ATTENTION_TEMPERATURE, measure: str = CERTAINTY_MEASURE
) -> np.ndarray:
    """Softmax of certainty / temperature over face frames; 0 on frames without a face."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    faces = np.asarray(mask) > 0
    weights = np.zeros(len(faces), dtype=np.float64)
    if not faces.any():
        return weights
    logits = certainty(np.asarray(p)[faces], measure) / temperature
    exp = np.exp(logits - logits.max())
    weights[faces] = exp / exp.sum()
    return weights


@register_aggregator("mean")
def mean_probability(p: np.ndarray, mask: np.ndarray, **_: object) -> Aggregation:
    return _weighted(p, _uniform_over(_face_mask(p, mask)))


@register_aggregator("max")
def max_probability(p: np.ndarray, mask: np.ndarray, **_: object) -> Aggregation:
    faces = _face_mask(p, mask)
    weights = np.zeros(len(faces), dtype=np.float64)
    weights[int(np.argmax(np.where(faces, p, -np.inf)))] = 1.0
    return _weighted(p, weights)


@register_aggregator("confident")
def confident_strategy(p: np.ndarray, mask: np.ndarray, **_: object) -> Aggregation:
    """Average only the confident frames when enough of them agree (DFDC winner's rule)."""
    faces = _face_mask(p, mask)
    p = np.asarray(p, dtype=np.float64)
    fakes = faces & (p > CONFIDENT_FAKE)
    reals = faces & (p < CONFIDENT_REAL)
    if fakes.sum() > faces.sum() / 2.5:
        chosen = fakes
    elif reals.sum() > 0.9 * faces.sum():
        chosen = reals
    else:
        chosen = faces
    return _weighted(p, _uniform_over(chosen))


@register_aggregator("certainty_attention")
def certainty_attention(
    p: np.ndarray,
    mask: np.ndarray,
    temperature: float = ATTENTION_TEMPERATURE,
    measure: str = CERTAINTY_MEASURE,
    **_: object,
) -> Aggregation:
    """Attention-weighted mean of frame probabilities (the paper's weighting, without the LSTM)."""
    _face_mask(p, mask)
    return _weighted(p, certainty_attention_weights(p, mask, temperature, measure))


def full_model(output: ModelOutput, mask: np.ndarray) -> Aggregation:
    """The network's own answer in the same contract: its raw video probability and its attention."""
    faces = _face_mask(output.frame_probability, mask)
    weights = np.where(faces, np.asarray(output.attention, dtype=np.float64), 0.0)
    return Aggregation(float(output.video_probability), weights)


def aggregate(name: str, p: np.ndarray, mask: np.ndarray, **options: object) -> Aggregation:
    if name not in AGGREGATORS:
        raise ValueError(f"unknown aggregation {name!r}; known: {', '.join(sorted(AGGREGATORS))}")
    return AGGREGATORS[name](p, mask, **options)
