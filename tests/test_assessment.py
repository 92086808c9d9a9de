"""The three verdicts: band fitting, classification and out-of-range reasons."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.assessment import (
    Assessment,
    ClipEvidence,
    InputRange,
    VerdictBand,
    assess,
    bits_per_pixel,
    fit_band,
    measure_band,
)

BAND = VerdictBand(lower=0.2, upper=0.8, measured={"signs_right_rate": 0.93, "no_signs_right_rate": 0.91})
RANGE = InputRange(
    min_face_side_px=60, min_height_px=240, max_height_px=1080, min_bits_per_pixel=0.01, max_bits_per_pixel=1.0
)


def evidence(probability: float | None, **changes: object) -> ClipEvidence:
    values = dict(probability=probability, face_frames=32, face_side_px=150.0, height_px=720, bits_per_pixel=0.1)
    values.update(changes)
    return ClipEvidence(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("probability", "expected"),
    [
        (0.95, Assessment.SIGNS_OF_MANIPULATION),
        (0.8, Assessment.SIGNS_OF_MANIPULATION),
        (0.79, Assessment.INCONCLUSIVE),
        (0.51, Assessment.INCONCLUSIVE),
        (0.21, Assessment.INCONCLUSIVE),
        (0.2, Assessment.NO_SIGNS_FOUND),
        (0.01, Assessment.NO_SIGNS_FOUND),
    ],
)
def test_band_gives_each_probability_one_verdict(probability: float, expected: Assessment) -> None:
    assessment, reasons = assess(evidence(probability), BAND, RANGE, min_face_frames=8)
    assert assessment == expected
    assert len(reasons) == 1


def test_outer_reason_quotes_the_measured_rate() -> None:
    _, reasons = assess(evidence(0.9), BAND, RANGE, min_face_frames=8)
    assert "93%" in reasons[0] and "0.80" in reasons[0]


def test_no_probability_is_no_face() -> None:
    assert assess(evidence(None, face_frames=0), BAND, RANGE, 8)[0] == Assessment.NO_FACE


def test_a_model_without_band_is_always_inconclusive() -> None:
    assessment, reasons = assess(evidence(0.99), None, RANGE, 8)
    assert assessment == Assessment.INCONCLUSIVE
    assert "no fitted verdict band" in reasons[0]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"face_frames": 3}, "only 3 sampled frames"),
        ({"face_side_px": 30.0}, "face is smaller (30 px)"),
        ({"height_px": 144}, "below the training range"),
        ({"height_px": 2160}, "above the training range"),
        ({"bits_per_pixel": 0.001}, "more compressed"),
        ({"bits_per_pixel": 3.0}, "less compressed"),
    ],
)
def test_out_of_range_input_is_inconclusive_with_the_reason(changes: dict, words: str) -> None:
    for probability in (0.99, 0.01):
        assessment, reasons = assess(evidence(probability, **changes), BAND, RANGE, min_face_frames=8)
        assert assessment == Assessment.INCONCLUSIVE
        assert any(words in reason for reason in reasons), reasons


def test_several_range_problems_are_all_named() -> None:
    _, reasons = assess(evidence(0.99, face_frames=2, face_side_px=10.0), BAND, RANGE, 8)
    assert len(reasons) == 2


def test_fit_band_reaches_the_target_rate_on_each_side() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    probabilities = np.clip(0.5 + (labels - 0.5) * 0.5 + rng.normal(0, 0.25, 400), 0, 1)
    band = fit_band(labels, probabilities, target_rate=0.9, min_clips=5)
    assert band.lower is not None and band.upper is not None and band.lower < band.upper
    measured = band.measured
    assert measured["signs_right_rate"] >= 0.9 and measured["no_signs_right_rate"] >= 0.9
    assert measured["signs_clips"] + measured["no_signs_clips"] + measured["inconclusive_clips"] == 400
    # The widest verdicts: one step lower on the upper limit would miss the target.
    below = probabilities[probabilities < band.upper].max()
    assert labels[probabilities >= below].mean() < 0.9 or (probabilities >= below).sum() < 5


def test_fit_band_gives_no_outer_verdict_to_a_coin_flip() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 200)
    band = fit_band(labels, rng.random(200), target_rate=0.9, min_clips=20)
    assert band.upper is None and band.lower is None
    assert band.classify(0.999) == Assessment.INCONCLUSIVE
    assert band.measured["inconclusive_clips"] == 200


def test_fit_band_never_overlaps_for_a_perfect_model() -> None:
    labels = np.array([0] * 10 + [1] * 10)
    probabilities = np.linspace(0.0, 1.0, 20)
    band = fit_band(labels, probabilities, min_clips=5)
    assert band.lower is not None and band.upper is not None and band.lower < band.upper
    assert band.measured["signs_right_rate"] == 1.0 and band.measured["no_signs_right_rate"] == 1.0


def test_band_round_trips_through_json() -> None:
    band = fit_band([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [0.1, 0.2, 0.1, 0.15, 0.3, 0.7, 0.9, 0.8, 0.95, 0.85])
    assert VerdictBand.from_json_dict(band.to_json_dict()) == band
    assert VerdictBand.from_json_dict(None) is None
    assert InputRange.from_json_dict(RANGE.to_json_dict()) == RANGE


def test_measure_band_counts_each_verdict() -> None:
    measured = measure_band([1, 1, 0, 0, 1], [0.9, 0.85, 0.1, 0.5, 0.05], BAND)
    assert measured["signs_clips"] == 2 and measured["signs_right_rate"] == 1.0
    assert measured["no_signs_clips"] == 2 and measured["no_signs_right_rate"] == 0.5
    assert measured["inconclusive_clips"] == 1


def test_bits_per_pixel_ignores_resolution_and_length() -> None:
    small = bits_per_pixel(1_000_000, 10.0, 640, 360, 25.0)
    assert small == pytest.approx(bits_per_pixel(4_000_000, 20.0, 1280, 360, 25.0))
    assert bits_per_pixel(1000, 0.0, 640, 360, 25.0) is None
