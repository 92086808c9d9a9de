"""The Attention lab's arithmetic: each aggregation rule as (video probability, weight per frame).

The pipeline's `aggregate` gives the probability; the weights shown to a class are derived here
so every rule can be drawn the same way: how much each frame counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.aggregation import CONFIDENT_FAKE, CONFIDENT_REAL, aggregate, certainty_attention_weights
from pipeline.model.detector import ModelOutput
from pipeline.results import VideoResult
from pipeline.scoring import calibrate

FULL_MODEL = "full_model"
STRATEGIES: dict[str, str] = {
    "mean": "Mean of all face frames",
    "max": "Maximum (the most suspicious frame)",
    "confident": "Confident strategy (DFDC winner)",
    "certainty_attention": "Certainty attention (weighted mean)",
    FULL_MODEL: "Full model (attention + LSTM)",
}
USES_TEMPERATURE = frozenset({"certainty_attention", FULL_MODEL})


@dataclass(frozen=True)
class LabOutcome:
    """One rule applied to one clip."""

    strategy: str
    probability: float | None
    weights: np.ndarray  # one per sampled frame, 0 without a face, summing to 1 over face frames
    frame_probability: np.ndarray  # NaN without a face
    calibrated: bool  # only the full model's output is calibrated
    verdict: str


def frame_arrays(result: VideoResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times in s, frame probabilities with 0 where no face, face mask) of a result."""
    times = np.array([f.time_s for f in result.frames], dtype=np.float64)
    p = np.array([f.p_fake if f.p_fake is not None else 0.0 for f in result.frames], dtype=np.float64)
    mask = np.array([f.p_fake is not None for f in result.frames], dtype=np.float64)
    return times, p, mask


def strategy_weights(
    strategy: str, p: np.ndarray, mask: np.ndarray, temperature: float, measure: str = "margin"
) -> np.ndarray:
    """How much each frame counts under a rule that only sees frame probabilities."""
    faces = mask > 0
    weights = np.zeros(len(p), dtype=np.float64)
    if not faces.any():
        return weights
    if strategy == "mean":
        weights[faces] = 1.0 / faces.sum()
    elif strategy == "max":
        weights[int(np.argmax(np.where(faces, p, -np.inf)))] = 1.0
    elif strategy == "confident":
        values = p[faces]
        fakes = faces & (p > CONFIDENT_FAKE)
        reals = faces & (p < CONFIDENT_REAL)
        if fakes.sum() > len(values) / 2.5:
            chosen = fakes
        elif reals.sum() > 0.9 * len(values):
            chosen = reals
        else:
            chosen = faces
        weights[chosen] = 1.0 / chosen.sum()
    elif strategy == "certainty_attention":
        weights = certainty_attention_weights(p, mask, temperature, measure)
    else:
        raise ValueError(f"unknown strategy {strategy!r}")
    return weights


def apply_strategy(
    strategy: str,
    result: VideoResult,
    temperature: float,
    model_output: ModelOutput | None = None,
    measure: str = "margin",
) -> LabOutcome:
    """Apply one rule. The full model needs `model_output` from `Engine.full_model`."""
    _, p, mask = frame_arrays(result)
    frame_p = np.where(mask > 0, p, np.nan)
    if not mask.any():
        return LabOutcome(strategy, None, np.zeros(len(p)), frame_p, False, "no_face")
    if strategy == FULL_MODEL:
        if model_output is None:
            raise ValueError("the full model needs the model's output")
        probability = calibrate(
            model_output.video_probability, result.model.calibration_temperature, result.model.calibration_bias
        )
        weights = np.where(mask > 0, np.asarray(model_output.attention, dtype=np.float64), 0.0)
        calibrated = True
    else:
        probability = aggregate(strategy, p, mask, temperature=temperature, measure=measure)
        weights = strategy_weights(strategy, p, mask, temperature, measure)
        calibrated = False
    verdict = "fake" if probability >= result.threshold else "real"
    return LabOutcome(strategy, float(probability), weights, frame_p, calibrated, verdict)


def effective_frames(weights: np.ndarray) -> float:
    """1 / sum(w^2): how many frames the rule really listens to (all of them for a plain mean)."""
    total = float(np.square(weights).sum())
    return 1.0 / total if total > 0 else 0.0


CERTAINTY_ATTENTION_EXPLAINED = """
**How certainty-based attention works, in plain words**

1. The model looks at the face in every sampled frame and gives each one a score: how likely
   that single frame is to be fake.
2. It then asks how *sure* it is about each frame. A score near 0 (clearly real) or near 1
   (clearly fake) is a sure frame; a score near 0.5 is a shrug. That sureness is the **certainty**.
3. Sure frames get more say. The **temperature** decides how much more: a low temperature lets
   the few surest frames dominate; a high one treats all frames almost equally, like a plain average.
4. The full model feeds the weighted frames, in order, to a small memory network (an LSTM) that
   reads the clip like a sentence and gives the final probability.

Why bother? A blurry, turned-away or half-hidden face gives an unsure score. Averaging would let
those frames water down the clear evidence; certainty attention listens to the frames that show
something. The catch: a model can be sure *and wrong*, so certainty is not correctness.
"""
