"""The typed result of scoring one clip; it travels unchanged to the CLI, charts and reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from pipeline.faces.types import Box
from pipeline.model.detector import ModelInfo
from pipeline.video import VideoInfo


class Verdict(StrEnum):
    FAKE = "fake"
    REAL = "real"
    NO_FACE = "no_face"  # abstain: nothing to judge
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One sampled frame. Without a face, box/crop/scores are None and attention is 0."""

    index: int
    time_s: float
    face_box: Box | None
    crop: np.ndarray | None  # uint8 RGB, crop_size x crop_size
    p_fake: float | None
    certainty: float | None
    attention: float

    @property
    def has_face(self) -> bool:
        return self.face_box is not None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time_s": round(self.time_s, 4),
            "face_box": self.face_box.as_list() if self.face_box else None,
            "p_fake": _rounded(self.p_fake),
            "certainty": _rounded(self.certainty),
            "attention": round(self.attention, 6),
        }


@dataclass(frozen=True, slots=True)
class StageTimings:
    decode: float = 0.0
    detect: float = 0.0
    model: float = 0.0
    total: float = 0.0

    def to_json_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in ("decode", "detect", "model", "total")}


@dataclass(frozen=True)
class VideoResult:
    """Everything known about one scored clip."""

    file: str
    sha256: str
    video: VideoInfo
    frames: tuple[FrameRecord, ...]
    probability_fake: float | None
    verdict: Verdict
    threshold: float
    timings: StageTimings
    model: ModelInfo
    settings: dict[str, Any] = field(default_factory=dict)
    raw_probability_fake: float | None = None  # before calibration

    @property
    def face_frames(self) -> int:
        return sum(frame.has_face for frame in self.frames)

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's JSON line schema (and the downloadable report's core)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "verdict": str(self.verdict),
            "probability_fake": _rounded(self.probability_fake),
            "threshold": self.threshold,
            "frames": [frame.to_json_dict() for frame in self.frames],
            "timings_s": self.timings.to_json_dict(),
            "model": model_summary(self.model),
            "error": None,
            "video": {
                "width": self.video.width,
                "height": self.video.height,
                "fps": round(self.video.fps, 3),
                "frame_count": self.video.frame_count,
                "duration_s": round(self.video.duration_s, 3),
                "codec": self.video.codec,
                "size_bytes": self.video.size_bytes,
            },
        }


def model_summary(info: ModelInfo) -> dict[str, Any]:
    return {"name": info.name, "version": info.version, "sha256": info.sha256, "trained": info.trained}


def error_json(file: str, message: str, sha256: str | None = None) -> dict[str, Any]:
    """The JSON line for a clip that could not be scored: same keys, no made-up score."""
    return {
        "file": file,
        "sha256": sha256,
        "verdict": str(Verdict.ERROR),
        "probability_fake": None,
        "threshold": None,
        "frames": [],
        "timings_s": None,
        "model": None,
        "error": message,
    }


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)
