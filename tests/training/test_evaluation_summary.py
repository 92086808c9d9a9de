"""`evaluate --json-out` writes a typed summary that reads back unchanged."""

from __future__ import annotations

import json

from pipeline.model.report import Metrics
from pipeline.training.evaluate import ClipScore, EvaluationSummary


def test_summary_round_trips_through_json():
    metrics = Metrics(4, 2, 2, 0.75, (0.5, 1.0), 0.75, 0.5, 0.2, 0.1)
    summary = EvaluationSummary(
        model="m",
        version="1.2.0",
        threshold=0.5,
        in_sample=False,
        rows={"all clips": metrics},
        extra_rows={"(b) mean": metrics},
        no_face=["a.mp4"],
        clips=[ClipScore("b.mp4", 1, "Wav2Lip", "talking-head", 0.8, 0.7)],
        errors=[],
    )
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["rows"]["all clips"]["auc_ci95"] == [0.5, 1.0]
    assert EvaluationSummary.from_dict(data) == summary
