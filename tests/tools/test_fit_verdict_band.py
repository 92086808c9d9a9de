"""The band-fitting tool: the range comes from training clips, the band from in-range scored clips."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.assessment import ClipEvidence, VerdictBand
from tools.fit_verdict_band import LabelledEvidence, fit, write_band


def clip(probability: float | None, label: int, side: float = 120.0, frames: int = 32) -> LabelledEvidence:
    return LabelledEvidence(
        "x.mp4", label, ClipEvidence(probability, frames, side if frames else None, 720, 0.1 if frames else None)
    )


def test_fit_leaves_out_of_range_clips_and_counts_every_verdict() -> None:
    training = [ClipEvidence(0.5, 32, side, 720, 0.1) for side in (80.0, 150.0, 300.0)]
    reals = [clip(0.05 + 0.01 * i, 0) for i in range(10)]
    fakes = [clip(0.9 + 0.005 * i, 1) for i in range(10)]
    # Tiny faces scored confidently wrong: if the fit used them, the upper limit would move.
    tiny = [clip(0.95, 0, side=20.0) for _ in range(5)]
    no_face = [clip(None, 1, frames=0)]
    band, input_range, counts = fit(reals + fakes + tiny + no_face, training, min_clips=5, min_face_frames=8)
    assert input_range.min_face_side_px == 80.0
    assert band.measured["clips"] == 20
    assert band.measured["signs_right_rate"] == 1.0 and band.measured["no_signs_right_rate"] == 1.0
    assert counts == {
        "signs_of_manipulation": 10,
        "inconclusive": 5,
        "no_signs_found": 10,
        "no_face": 1,
        "error": 0,
    }


def test_write_band_keeps_the_other_metadata(tmp_path: Path) -> None:
    meta = tmp_path / "detector.json"
    meta.write_text(json.dumps({"name": "m", "version": "1", "verdict_band": {"lower": 0.0, "upper": 1.0}}))
    band, input_range, _ = fit(
        [clip(0.1, 0)] * 6 + [clip(0.9, 1)] * 6, [ClipEvidence(0.5, 32, 50.0, 480, 0.2)], min_face_frames=8
    )
    write_band(meta, band, input_range)
    stored = json.loads(meta.read_text())
    assert stored["name"] == "m" and stored["version"] == "1"
    assert VerdictBand.from_json_dict(stored["verdict_band"]) == band
    assert stored["input_range"]["min_height_px"] == 480
