"""Stored results: a lossless, pickle-free round trip keyed by bytes, settings and model."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest

from dashboard.results_store import ResultStore, result_key, with_display_name
from pipeline.settings import Settings
from tests.dashboard.builders import make_evidence_result, make_result

pytest_plugins = ["tests.dashboard.support"]

KEY = "0" * 32 + "_" + "1" * 16


def assert_same(a, b) -> None:
    for field in fields(a):
        if field.name not in ("frames", "people", "keyframes"):  # pixels: compared below or by the caller
            assert getattr(a, field.name) == getattr(b, field.name), field.name
    assert len(a.frames) == len(b.frames)
    for x, y in zip(a.frames, b.frames, strict=True):
        assert (x.index, x.time_s, x.face_box, x.p_fake, x.certainty, x.attention) == (
            y.index,
            y.time_s,
            y.face_box,
            y.p_fake,
            y.certainty,
            y.attention,
        )
        assert (x.crop is None and y.crop is None) or np.array_equal(x.crop, y.crop)


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    result = make_result([0.9, None, 0.2, 0.7])
    store = ResultStore(tmp_path)
    store.save(KEY, result)
    assert store.exists(KEY)
    assert_same(store.load(KEY), result)


def test_round_trip_without_any_face(tmp_path: Path) -> None:
    result = make_result([None, None])
    store = ResultStore(tmp_path)
    store.save(KEY, result)
    loaded = store.load(KEY)
    assert loaded is not None and loaded.probability_fake is None and loaded.face_frames == 0


def test_the_key_changes_with_settings_and_model() -> None:
    base = result_key("a" * 64, Settings(), "m1")
    assert base == result_key("a" * 64, Settings(), "m1")
    assert base != result_key("a" * 64, Settings().with_overrides(frames=16), "m1")
    assert base != result_key("a" * 64, Settings(), "m2")
    assert base != result_key("b" * 64, Settings(), "m1")


@pytest.mark.parametrize("key", ["../etc/passwd", "a" * 32, "", "A" * 32 + "_" + "1" * 16])
def test_keys_cannot_escape_the_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        ResultStore(tmp_path).exists(key)


def test_damaged_entries_read_as_missing(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(KEY, make_result([0.9]))
    (tmp_path / f"{KEY}.json").write_text("{not json")
    assert store.load(KEY) is None
    store.save(KEY, make_result([0.9]))
    record = json.loads((tmp_path / f"{KEY}.json").read_text())
    record["format"] = 999
    (tmp_path / f"{KEY}.json").write_text(json.dumps(record))
    assert store.load(KEY) is None


def test_no_pickle_is_stored(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(KEY, make_result([0.9, 0.1]))
    with np.load(tmp_path / f"{KEY}.npz", allow_pickle=False) as data:
        assert data["crops"].dtype == np.uint8


def test_delete_removes_both_files(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    store.save(KEY, make_result([0.9]))
    store.delete(KEY)
    assert list(tmp_path.iterdir()) == []


def test_display_name_replaces_the_server_path() -> None:
    result = with_display_name(make_result([0.5], file="/tmp/xyz/upload.mp4"), "interview.mp4")
    assert result.file == "interview.mp4" and result.video.path == "interview.mp4"


def test_numpy_scalars_from_detectors_are_stored_as_plain_numbers(tmp_path: Path) -> None:
    result = make_result([0.9, 0.2])
    frames = tuple(
        replace(
            f,
            face_box=replace(f.face_box, x=np.float32(f.face_box.x), score=np.float32(0.75)),
            p_fake=np.float32(f.p_fake),
        )
        for f in result.frames
    )
    result = replace(result, frames=frames, threshold=np.float64(0.5))
    store = ResultStore(tmp_path)
    store.save(KEY, result)
    loaded = store.load(KEY)
    assert loaded is not None
    assert loaded.frames[0].face_box.score == 0.75 and isinstance(loaded.frames[0].p_fake, float)


def test_round_trip_keeps_people_provenance_keyframes_and_source(tmp_path: Path) -> None:
    result = make_evidence_result()
    store = ResultStore(tmp_path)
    store.save(KEY, result)
    loaded = store.load(KEY)
    assert loaded is not None
    assert_same(loaded, result)
    assert (loaded.assessment, loaded.assessment_reasons, loaded.band) == (
        result.assessment,
        result.assessment_reasons,
        result.band,
    )
    assert [p.to_json_dict() for p in loaded.people] == [p.to_json_dict() for p in result.people]
    second, original = loaded.people[1], result.people[1]
    assert all(
        (a.crop is None and b.crop is None) or np.array_equal(a.crop, b.crop)
        for a, b in zip(second.records, original.records, strict=True)
    )
    assert loaded.provenance == result.provenance and loaded.source == result.source
    assert [k.to_json_dict() for k in loaded.keyframes] == [k.to_json_dict() for k in result.keyframes]
    assert loaded.keyframes[0].rgb.shape == result.keyframes[0].rgb.shape  # JPEG: same size, close pixels
    assert loaded.to_json_dict() == result.to_json_dict()
