import numpy as np
import pytest

from pipeline.model.output import ModelOutput
from pipeline.scoring.aggregation import AGGREGATORS, aggregate, certainty_attention_weights, full_model


def test_registry_has_the_rules_the_lab_offers():
    assert {"mean", "max", "confident", "certainty_attention"} <= set(AGGREGATORS)


def test_rules_ignore_frames_without_a_face():
    p = np.array([0.9, 0.1, 0.99, 0.5])
    mask = np.array([1, 1, 0, 1])
    assert aggregate("mean", p, mask).probability == pytest.approx(0.5)
    assert aggregate("max", p, mask).probability == pytest.approx(0.9)


def test_confident_strategy_uses_only_confident_fakes_when_enough_agree():
    p = np.array([0.95, 0.9, 0.85, 0.4, 0.3])
    assert aggregate("confident", p, np.ones(5)).probability == pytest.approx(0.9)
    too_few = np.array([0.95, 0.9, 0.5, 0.4, 0.3])  # 2 of 5 is not more than 5 / 2.5
    assert aggregate("confident", too_few, np.ones(5)).probability == pytest.approx(too_few.mean())


def test_attention_weights_sum_to_one_and_favour_certain_frames():
    p = np.array([0.5, 0.95, 0.7, 0.99])
    mask = np.array([1, 1, 1, 0])
    weights = certainty_attention_weights(p, mask, temperature=0.2)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[3] == 0.0
    assert weights[1] > weights[2] > weights[0]


def test_no_face_cannot_be_aggregated():
    with pytest.raises(ValueError):
        aggregate("mean", np.array([0.5]), np.array([0]))


@pytest.mark.parametrize("rule", sorted(AGGREGATORS))
def test_every_rule_returns_weights_that_explain_its_probability(rule):
    p = np.array([0.9, 0.55, 0.3, 0.1, 0.95, 0.5])
    mask = np.array([1, 1, 0, 1, 1, 1])
    answer = aggregate(rule, p, mask, temperature=0.3)
    assert answer.weights.shape == p.shape
    assert answer.weights.sum() == pytest.approx(1.0)
    assert answer.weights[2] == 0.0  # the frame without a face never counts
    assert answer.probability == pytest.approx(float(np.dot(answer.weights, p)))


def test_mean_is_uniform_and_max_picks_one_frame():
    p = np.array([0.9, 0.55, 0.0, 0.1, 0.95, 0.5])
    mask = np.array([1, 1, 0, 1, 1, 1])
    assert np.allclose(aggregate("mean", p, mask).weights[mask > 0], 0.2)
    assert aggregate("max", p, mask).weights.tolist() == [0, 0, 0, 0, 1, 0]


def test_confident_strategy_weighs_only_confident_fakes_when_enough_agree():
    weights = aggregate("confident", np.array([0.9, 0.85, 0.5, 0.4]), np.ones(4)).weights
    assert weights.tolist() == [0.5, 0.5, 0.0, 0.0]


def test_full_model_adapter_reports_the_network_output_unchanged():
    output = ModelOutput(0.7, np.array([0.9, 0.2, 0.0]), np.zeros(3), np.array([0.6, 0.4, 0.0]))
    answer = full_model(output, np.array([1, 1, 0]))
    assert answer.probability == pytest.approx(0.7)
    assert answer.weights.tolist() == [0.6, 0.4, 0.0]
