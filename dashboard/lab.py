"""The Attention lab's arithmetic: each aggregation rule applied to a stored result.

Every rule, the full model included, answers through `pipeline.scoring.aggregation`'s one
contract (video probability and weight per frame), so the lab draws them all the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.model.output import ModelOutput
from pipeline.results import VideoResult
from pipeline.scoring.aggregation import FULL_MODEL, aggregate, full_model
from pipeline.scoring.calibration import calibrate

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
        aggregation = full_model(model_output, mask)
        probability = calibrate(
            aggregation.probability, result.model.calibration_temperature, result.model.calibration_bias
        )
        calibrated = True
    else:
        aggregation = aggregate(strategy, p, mask, temperature=temperature, measure=measure)
        probability = aggregation.probability
        calibrated = False
    weights = aggregation.weights
    verdict = "fake" if probability >= result.threshold else "real"
    return LabOutcome(strategy, float(probability), weights, frame_p, calibrated, verdict)


# Below this change in any frame's share (in percentage points) across the whole temperature range,
# the temperature cannot visibly change the verdict.
TEMPERATURE_MATTERS_POINTS = 2.0
LOWEST_TEMPERATURE = 0.05
HIGHEST_TEMPERATURE = 2.0


def weight_shares(weights: np.ndarray) -> np.ndarray:
    """Weights as percentages of 100 (they sum to 1 over the face frames)."""
    return 100.0 * np.asarray(weights, dtype=np.float64)


def equal_share(result: VideoResult) -> float:
    """Each face frame's share when all count the same, in percent."""
    return 100.0 / result.face_frames if result.face_frames else 0.0


def temperature_swing(result: VideoResult, measure: str = "margin") -> float:
    """The most any frame's share moves between the lowest and highest temperature, in percentage points.

    Small when every face frame is about equally sure: then weighting by certainty is a plain mean
    at any temperature.
    """
    low = apply_strategy("certainty_attention", result, LOWEST_TEMPERATURE, measure=measure)
    high = apply_strategy("certainty_attention", result, HIGHEST_TEMPERATURE, measure=measure)
    return float(np.max(np.abs(weight_shares(low.weights) - weight_shares(high.weights)), initial=0.0))


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
   reads the clip like a sentence and gives a raw probability.
5. **Calibration** comes last: the raw probability is adjusted by a fixed formula fitted on clips the
   model had not trained on, so that "70%" means that about 7 in 10 such clips were fake. The
   number on the Analyze page is this calibrated one. The simple rules (mean, maximum, confident)
   are not calibrated, so compare them with each other rather than with the full model.

Why bother? A blurry, turned-away or half-hidden face gives an unsure score. Averaging would let
those frames water down the clear evidence; certainty attention listens to the frames that show
something. The catch: a model can be sure *and wrong*, so certainty is not correctness.
"""
