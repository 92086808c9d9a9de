"""score_video's evidence beyond the main face: every person, the assessment, provenance, keyframes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.assessment import Assessment, InputRange, VerdictBand
from pipeline.faces.registry import create_detector
from pipeline.model.config import ModelConfig
from pipeline.model.storage import untrained_detector
from pipeline.results import error_json
from pipeline.scoring.scorer import Scorer
from pipeline.settings import Settings

SETTINGS = Settings(frames=8, crop_size=64, min_face_frames=4, person_min_frames=3, keyframe_fps=2.0)


def scorer_with(band: VerdictBand | None, input_range: InputRange | None = None, **changes: object) -> Scorer:
    model = untrained_detector(ModelConfig(backbone="tiny_cnn", input_size=64, pretrained_backbone=False))
    model.info = replace(model.info, verdict_band=band, input_range=input_range)
    settings = replace(SETTINGS, **changes)
    return Scorer(settings, model, create_detector(settings.detector))


@pytest.fixture(scope="module")
def always_signs() -> Scorer:
    return scorer_with(VerdictBand(lower=None, upper=0.0, measured={"signs_right_rate": 0.95}))


def test_two_people_are_tracked_and_scored_separately(two_person_clip: Path, always_signs: Scorer) -> None:
    result = always_signs.score(two_person_clip)
    assert [p.id for p in result.people] == [1, 2]
    main, other = result.people
    assert main.records == result.frames  # the per-frame fields stay the main face's
    assert main.probability_fake == result.probability_fake
    assert other.frame_count >= 4 and other.probability_fake is not None
    centres = [[r.face_box.center[0] for r in p.face_records] for p in result.people]  # type: ignore[union-attr]
    assert max(centres[0]) < 320 < min(centres[1]) or max(centres[1]) < 320 < min(centres[0])
    data = json.loads(json.dumps(result.to_json_dict()))
    assert [set(p) >= {"id", "first_s", "last_s", "frames", "probability_fake", "assessment"} for p in data["people"]]
    assert data["people"][1]["first_s"] <= data["people"][1]["last_s"]


def test_one_person_when_max_people_is_one(two_person_clip: Path) -> None:
    result = scorer_with(None, max_people=1).score(two_person_clip)
    assert len(result.people) == 1


def test_clip_assessment_is_the_most_suspicious_persons(two_person_clip: Path) -> None:
    scorer = scorer_with(VerdictBand(lower=0.0, upper=1.0))
    base = scorer.score(two_person_clip)
    probabilities = sorted(p.probability_fake for p in base.people)  # type: ignore[type-var]
    cut = (probabilities[0] + probabilities[1]) / 2  # only the more suspicious person reaches it
    result = scorer_with(VerdictBand(lower=None, upper=cut)).score(two_person_clip)
    suspicious = result.most_suspicious_person
    assert suspicious is not None and suspicious.assessment == Assessment.SIGNS_OF_MANIPULATION
    assert result.assessment == Assessment.SIGNS_OF_MANIPULATION
    assert f"person {suspicious.id}" in result.assessment_reasons[0]
    assert sum(p.assessment == Assessment.INCONCLUSIVE for p in result.people) == 1


def test_without_a_band_everything_is_inconclusive(astronaut_clip: Path) -> None:
    result = scorer_with(None).score(astronaut_clip)
    assert result.assessment == Assessment.INCONCLUSIVE
    assert any("no fitted verdict band" in reason for reason in result.assessment_reasons)
    data = result.to_json_dict()
    assert data["assessment"] == "inconclusive" and data["band"] is None
    assert data["verdict"] in ("fake", "real")  # every earlier field stays


def test_small_faces_are_inconclusive_with_the_reason(astronaut_clip: Path, always_signs: Scorer) -> None:
    assert always_signs.score(astronaut_clip).assessment == Assessment.SIGNS_OF_MANIPULATION
    strict = scorer_with(always_signs.model.info.verdict_band, InputRange(min_face_side_px=10_000))
    result = strict.score(astronaut_clip)
    assert result.assessment == Assessment.INCONCLUSIVE
    assert any("face is smaller" in reason for reason in result.assessment_reasons)
    data = result.to_json_dict()
    assert data["band"]["upper"] == 0.0 and data["band"]["lower"] is None


def test_no_face_is_no_face(blank_clip: Path, always_signs: Scorer) -> None:
    result = always_signs.score(blank_clip)
    assert result.assessment == Assessment.NO_FACE and result.people == ()


def test_provenance_and_keyframes_travel_in_the_result(astronaut_clip: Path, always_signs: Scorer) -> None:
    result = always_signs.score(astronaut_clip)
    assert result.provenance is not None and result.provenance.c2pa.state.value == "absent"
    assert result.keyframes and result.keyframes[0].shot == 1
    data = json.loads(json.dumps(result.to_json_dict()))
    assert data["provenance"]["container"]["readable"] is True
    assert {k["kind"] for k in data["keyframes"]} == {"shot", "attention"}
    assert data["analysed_at"].endswith("+00:00")


def test_error_line_has_the_new_keys() -> None:
    data = error_json("x.mp4", "x.mp4: not a video")
    assert data["assessment"] == "error" and data["assessment_reasons"] == ["x.mp4: not a video"]
    assert data["people"] == [] and data["provenance"] is None
