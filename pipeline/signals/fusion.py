"""One verdict from the available signals: a weighted sum of their logits, then calibration.

The weights come from the model's metadata (a stacker fitted on out-of-fold scores); a signal
that abstains is left out of the sum, never counted as 0.5, and a clip where every signal
abstains gets no probability at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.signals.contract import SignalResult

EPSILON = 1e-6


def _logit(p: float) -> float:
    p = min(max(p, EPSILON), 1.0 - EPSILON)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class FusionWeights:
    """logit(p) = bias + sum of weight[name] * logit(p_name) over the available signals."""

    weights: Mapping[str, float]
    bias: float = 0.0

    @classmethod
    def single(cls, name: str) -> FusionWeights:
        """The fusion of a detector with one signal: its probability passes through unchanged."""
        return cls(weights={name: 1.0}, bias=0.0)


def fuse(results: Sequence[SignalResult], fusion: FusionWeights) -> float | None:
    """The fused probability of fake, or None when no weighted signal is available."""
    used = [
        (r.name, r.probability_fake)
        for r in results
        if r.available and r.probability_fake is not None and r.name in fusion.weights
    ]
    if not used:
        return None
    if len(used) == 1 and fusion.bias == 0.0 and fusion.weights[used[0][0]] == 1.0:
        return used[0][1]  # a lone signal at weight one passes through exactly
    z = fusion.bias + sum(fusion.weights[name] * _logit(p) for name, p in used)
    return 1.0 / (1.0 + math.exp(-z))
