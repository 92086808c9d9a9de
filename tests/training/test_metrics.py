import numpy as np
import pytest

from pipeline.training.metrics import compute_metrics, expected_calibration_error


def test_perfect_ranking_has_auc_one_and_tight_ci():
    labels = np.array([0, 0, 0, 1, 1, 1] * 5)
    probs = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9] * 5)
    m = compute_metrics(labels, probs)
    assert m.auc == 1.0 and m.auc_ci95 == (1.0, 1.0)
    assert m.accuracy == 1.0
    assert m.brier == pytest.approx(np.mean((probs - labels) ** 2))


def test_ece_is_zero_when_calibrated_and_large_when_not():
    labels = np.array([1] * 8 + [0] * 2)
    assert expected_calibration_error(labels, np.full(10, 0.8)) == pytest.approx(0.0)
    assert expected_calibration_error(labels, np.full(10, 0.2)) == pytest.approx(0.6)


def test_single_class_has_no_auc():
    assert compute_metrics(np.array([1, 1]), np.array([0.6, 0.7])).auc is None
