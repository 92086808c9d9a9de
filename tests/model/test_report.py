"""The training report's one JSON round trip, on the shipped models' own metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.model.config import ModelInfo
from pipeline.model.report import Metrics, TrainingReport

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize("name", ["detector.json", "detector_development.json"])
def test_shipped_metadata_round_trips_without_losing_a_field(name: str):
    stored = json.loads((MODELS / name).read_text())
    info = ModelInfo.from_json_dict(stored)
    assert isinstance(info.metrics, TrainingReport) and info.metrics.val is not None
    assert info.metrics.val.raw.auc == stored["metrics"]["val"]["raw"]["auc"]
    again = json.loads(json.dumps(info.to_json_dict()))
    assert {k: v for k, v in again["metrics"].items() if v is not None} == {
        k: v for k, v in stored["metrics"].items() if v is not None
    } | {"trained_on_splits": stored["metrics"]["trained_on_splits"]}
    assert ModelInfo.from_json_dict(json.loads(json.dumps(again))) == info


def test_a_calibration_fit_on_val_becomes_vals_calibrated_row():
    info = ModelInfo.from_json_dict(json.loads((MODELS / "detector_development.json").read_text()))
    fitted = Metrics(10, 5, 5, 0.9, (0.8, 1.0), 0.8, 0.4, 0.1, 0.05)
    report = info.metrics.with_calibration_fit("val", fitted)
    assert report.val is not None and report.val.calibrated == fitted and report.val.raw == info.metrics.val.raw
    assert report.calibration_fit == {"clips": 10, "split": "val", "metrics": fitted.to_dict()}
    assert info.metrics.with_calibration_fit("test", fitted).val == info.metrics.val


def test_unknown_keys_from_other_versions_are_kept():
    report = TrainingReport.from_dict({"train_clips": 3, "signals": {"texture": 0.7}})
    assert report.extra == {"signals": {"texture": 0.7}}
    assert report.to_dict()["signals"] == {"texture": 0.7}
