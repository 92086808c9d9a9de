"""The lab's rules: probabilities match the pipeline's aggregators; weights say who counted."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.lab import STRATEGIES, apply_strategy, effective_frames, frame_arrays
from pipeline.model.output import ModelOutput
from pipeline.scoring.aggregation import FULL_MODEL, aggregate
from tests.dashboard.builders import make_result

P = [0.9, 0.55, None, 0.1, 0.95, 0.5]


@pytest.mark.parametrize("strategy", [s for s in STRATEGIES if s != FULL_MODEL])
def test_weights_sum_to_one_on_face_frames_and_match_the_aggregator(strategy: str) -> None:
    result = make_result(P)
    outcome = apply_strategy(strategy, result, temperature=0.3)
    _, p, mask = frame_arrays(result)
    assert outcome.weights.sum() == pytest.approx(1.0)
    assert outcome.weights[2] == 0.0  # the frame without a face never counts
    expected = aggregate(strategy, p, mask, temperature=0.3)
    assert outcome.probability == pytest.approx(expected.probability)
    assert np.array_equal(outcome.weights, expected.weights)
    assert outcome.probability == pytest.approx(float(np.dot(outcome.weights, p)))
    assert outcome.verdict == ("fake" if outcome.probability >= 0.5 else "real")


def test_lower_temperature_listens_to_fewer_frames() -> None:
    result = make_result(P)
    sharp = apply_strategy("certainty_attention", result, temperature=0.05)
    flat = apply_strategy("certainty_attention", result, temperature=2.0)
    assert effective_frames(sharp.weights) < effective_frames(flat.weights)
    assert effective_frames(apply_strategy("mean", result, 0.2).weights) == pytest.approx(5.0)


def test_full_model_uses_the_model_output_and_its_calibration() -> None:
    result = make_result(P)
    output = ModelOutput(0.8, np.array(P, dtype=object), np.zeros(6), np.array([0.2, 0.2, 0.0, 0.2, 0.2, 0.2]))
    outcome = apply_strategy(FULL_MODEL, result, temperature=0.2, model_output=output)
    assert outcome.probability == pytest.approx(0.8)
    assert outcome.calibrated and outcome.verdict == "fake"
    with pytest.raises(ValueError):
        apply_strategy(FULL_MODEL, result, temperature=0.2)


def test_no_face_clip_has_nothing_to_weigh() -> None:
    outcome = apply_strategy("mean", make_result([None, None]), 0.2)
    assert outcome.probability is None and outcome.verdict == "no_face" and outcome.weights.sum() == 0


def test_temperature_cannot_matter_when_every_frame_is_equally_sure() -> None:
    from dashboard.lab import TEMPERATURE_MATTERS_POINTS, temperature_swing

    steady = make_result([0.8, 0.8, 0.8, 0.8])  # the same certainty everywhere
    mixed = make_result([0.98, 0.55, 0.5, 0.9])
    assert temperature_swing(steady) < TEMPERATURE_MATTERS_POINTS
    assert temperature_swing(mixed) > TEMPERATURE_MATTERS_POINTS


def test_lab_weights_sit_in_their_own_panel_as_shares_on_a_fixed_axis() -> None:
    from dashboard.charts import lab_figure
    from dashboard.lab import apply_strategy, equal_share, weight_shares

    result = make_result([0.98, 0.55, 0.5, 0.9])
    warm = apply_strategy("certainty_attention", result, 2.0)
    cold_outcome = apply_strategy("certainty_attention", result, 0.05)
    peak = float(weight_shares(cold_outcome.weights).max())  # what the page passes: the lowest temperature's peak
    figure = lab_figure(result, warm, share_top=peak)
    bars = next(t for t in figure.data if t.type == "bar")
    assert bars.yaxis == "y2"  # the lower panel, not a second axis over the probabilities
    assert abs(sum(bars.y) - 100.0) < 1e-6  # shares of 100%
    assert figure.layout.yaxis2.range[1] >= peak > max(bars.y)  # the axis the coldest needs, not this one's
    cold = lab_figure(result, cold_outcome, share_top=peak)
    assert list(cold.layout.yaxis2.range) == list(figure.layout.yaxis2.range)
    assert any(abs(shape.y0 - equal_share(result)) < 1e-9 for shape in figure.layout.shapes)
