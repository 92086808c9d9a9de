"""Test clips made on the fly: CI never needs ../shared/data."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

FRAME_SIZE = (640, 360)  # width, height
FPS = 25.0


# The keys every `score --json` line has had since 1.0 (the CLI, batch and API share the schema).
SCORE_JSON_KEYS = {
    "file",
    "sha256",
    "verdict",
    "probability_fake",
    "threshold",
    "frames",
    "timings_s",
    "model",
    "error",
}


def write_video(path: Path, frames: list[np.ndarray], fps: float = FPS) -> Path:
    """Write RGB frames as an MPEG-4 Part 2 .mp4 (OpenCV's built-in encoder)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def astronaut_frames(count: int, size: tuple[int, int] = FRAME_SIZE, face_px: int = 300) -> list[np.ndarray]:
    """The astronaut portrait sliding left to right across a grey canvas."""
    width, height = size
    portrait = cv2.resize(skdata.astronaut(), (face_px, face_px), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(count):
        canvas = np.full((height, width, 3), 90, dtype=np.uint8)
        x = int((width - face_px) * i / max(count - 1, 1))
        y = (height - face_px) // 2
        canvas[y : y + face_px, x : x + face_px] = portrait
        frames.append(canvas)
    return frames


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def astronaut_clip(clip_dir: Path) -> Path:
    return write_video(clip_dir / "astronaut.mp4", astronaut_frames(50))


@pytest.fixture(scope="session")
def blank_clip(clip_dir: Path) -> Path:
    return write_video(clip_dir / "blank.mp4", [np.full((360, 640, 3), 40, np.uint8) for _ in range(30)])


@pytest.fixture(scope="session")
def truncated_clip(clip_dir: Path, astronaut_clip: Path) -> Path:
    """The first 2 KB of a valid clip: a header with no decodable frame."""
    path = clip_dir / "truncated.mp4"
    path.write_bytes(astronaut_clip.read_bytes()[:2048])
    return path


@pytest.fixture(scope="session")
def corrupted_clip(clip_dir: Path) -> Path:
    path = clip_dir / "corrupted.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return path


@pytest.fixture(scope="session")
def empty_clip(clip_dir: Path) -> Path:
    path = clip_dir / "empty.mp4"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def text_file(clip_dir: Path) -> Path:
    path = clip_dir / "notes.mp4"
    path.write_text("this is not a video\n" * 100)
    return path


def two_people_frames(count: int) -> list[np.ndarray]:
    """Two head-and-shoulders portraits side by side (the second mirrored), swaying a little."""
    portrait = cv2.resize(skdata.astronaut()[0:336, 90:370], (280, 280), interpolation=cv2.INTER_AREA)
    mirrored = np.ascontiguousarray(portrait[:, ::-1])
    frames = []
    for i in range(count):
        canvas = np.full((360, 640, 3), 90, dtype=np.uint8)
        sway = (i % 10) // 2
        canvas[40:320, 20 + sway : 300 + sway] = portrait
        canvas[40:320, 340 - sway : 620 - sway] = mirrored
        frames.append(canvas)
    return frames


@pytest.fixture(scope="session")
def two_person_clip(clip_dir: Path) -> Path:
    return write_video(clip_dir / "two_people.mp4", two_people_frames(50))


@pytest.fixture(autouse=True)
def _keep_the_main_module() -> Iterator[None]:
    """Streamlit's AppTest runs a page as `__main__` and leaves it there; a process pool spawned by a
    later test would then re-run that page in every worker. Put pytest's own `__main__` back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
