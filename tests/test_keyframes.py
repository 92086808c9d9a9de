"""Keyframes: one per shot of a generated two-shot clip, attention frames, hashes, the ZIP."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from pipeline.keyframes import (
    REVERSE_SEARCH_HOWTO,
    KeyframeKind,
    extract_keyframes,
    frame_distance,
    hash_distance,
    keyframes_zip,
    perceptual_hash,
    shot_starts,
)
from pipeline.video import probe_video
from tests.conftest import astronaut_frames, write_video

SHOT_THRESHOLD = 0.5


@pytest.fixture(scope="module")
def two_shot_clip(clip_dir: Path) -> Path:
    """2 s of the astronaut, then 2 s of a cat: one cut at 2.0 s."""
    cat = cv2.resize(skdata.chelsea(), (640, 360))
    frames = astronaut_frames(50) + [np.roll(cat, shift, axis=1) for shift in range(0, 100, 2)]
    return write_video(clip_dir / "two_shots.mp4", frames)


def test_phash_matches_copies_and_tells_pictures_apart() -> None:
    astronaut = skdata.astronaut()
    smaller = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)
    assert hash_distance(perceptual_hash(astronaut), perceptual_hash(smaller)) <= 4
    assert hash_distance(perceptual_hash(astronaut), perceptual_hash(skdata.chelsea())) >= 16
    assert len(perceptual_hash(astronaut)) == 16


def test_shot_starts_at_a_cut_only() -> None:
    a, b = skdata.astronaut(), cv2.resize(skdata.chelsea(), (512, 512))
    assert frame_distance(a, a) < 0.01
    assert shot_starts([a, a, a, b, b], SHOT_THRESHOLD) == [0, 3]
    assert shot_starts([], SHOT_THRESHOLD) == []


def test_one_keyframe_per_shot_plus_attention_frames(two_shot_clip: Path) -> None:
    info = probe_video(two_shot_clip)
    keyframes = extract_keyframes(
        info, sample_fps=4.0, max_samples=64, shot_threshold=SHOT_THRESHOLD, attention_frames=[(10, 0.3)]
    )
    shots = [k for k in keyframes if k.kind == KeyframeKind.SHOT]
    assert [k.shot for k in shots] == [1, 2]
    assert shots[0].time_s < 2.0 <= shots[1].time_s
    attention = [k for k in keyframes if k.kind == KeyframeKind.ATTENTION]
    assert [(k.index, k.shot, k.attention) for k in attention] == [(10, 1, 0.3)]
    assert hash_distance(shots[0].phash, shots[1].phash) >= 16


def test_zip_holds_every_jpeg_and_an_index(two_shot_clip: Path) -> None:
    info = probe_video(two_shot_clip)
    keyframes = extract_keyframes(info, sample_fps=4.0, max_samples=64, shot_threshold=SHOT_THRESHOLD)
    archive = zipfile.ZipFile(io.BytesIO(keyframes_zip(keyframes, "/tmp/x/two_shots.mp4", "ab" * 32)))
    names = set(archive.namelist())
    rows = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
    assert {row["file"] for row in rows} == names - {"index.csv", "index.json", "README.txt"}
    assert len(rows) == 2 and {row["kind"] for row in rows} == {"shot"}
    image = cv2.imdecode(np.frombuffer(archive.read(rows[0]["file"]), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360, 640, 3)
    index = json.loads(archive.read("index.json"))
    assert index["source"] == "two_shots.mp4" and index["sha256"] == "ab" * 32
    assert REVERSE_SEARCH_HOWTO in archive.read("README.txt").decode()
