import numpy as np
import pytest

from pipeline.aggregation import AGGREGATORS, aggregate, certainty_attention_weights


def test_registry_has_the_rules_the_lab_offers():
    assert {"mean", "max", "confident", "certainty_attention"} <= set(AGGREGATORS)


def test_rules_ignore_frames_without_a_face():
    p = np.array([0.9, 0.1, 0.99, 0.5])
    mask = np.array([1, 1, 0, 1])
    assert aggregate("mean", p, mask) == pytest.approx(0.5)
    assert aggregate("max", p, mask) == pytest.approx(0.9)


def test_confident_strategy_uses_only_confident_fakes_when_enough_agree():
    p = np.array([0.95, 0.9, 0.85, 0.4, 0.3])
    assert aggregate("confident", p, np.ones(5)) == pytest.approx(0.9)
    too_few = np.array([0.95, 0.9, 0.5, 0.4, 0.3])  # 2 of 5 is not more than 5 / 2.5
    assert aggregate("confident", too_few, np.ones(5)) == pytest.approx(too_few.mean())


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
