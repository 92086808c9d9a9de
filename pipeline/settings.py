"""Every tunable number of the pipeline, in one place.

Pages, the CLI, the benchmark and the tests all start from `Settings()` and
override fields with `dataclasses.replace`, so no magic number lives anywhere else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

# Bump when face extraction changes in a way the settings do not show, to invalidate cached crops.
EXTRACTION_VERSION = 3
REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL_PATH = MODELS_DIR / "detector.keras"
DEFAULT_CACHE_DIR = REPO_ROOT / "cache"

# The network's defaults (pipeline/model/config.py builds on them; a trained model stores its own).
PAPER_BACKBONE = "mobilenet_v2"  # the paper's CNN, the architecture's default
MODEL_INPUT_SIZE = 224  # face crops, 224x224 scaled 0..1 (the paper)
ATTENTION_TEMPERATURE = 0.2  # softmax temperature of the certainty attention
CERTAINTY_MEASURE = "margin"  # |2p - 1|; "entropy" is the alternative


@dataclass(frozen=True)
class Settings:
    """How a clip is turned into a verdict."""

    # Sampling: `frames` evenly spaced frames, or every 1/sample_fps seconds when set.
    frames: int = 32
    sample_fps: float | None = None
    max_sampled_frames: int = 256

    # Faces.
    detector: str = "blazeface_auto"
    detector_max_side: int = 640
    min_face_fraction: float = 0.06
    crop_size: int = MODEL_INPUT_SIZE
    crop_margin: float = 0.3

    # Model and verdict.
    model_path: Path = DEFAULT_MODEL_PATH
    backbone: str = "mobilenet_v2_mid"  # of the untrained stand-in when no model file is shipped
    attention_temperature: float | None = None  # None: the temperature the model was trained with
    threshold: float | None = None  # None: the threshold stored with the model
    # Signals report per-window scores over stretches of this many seconds (charts, JSON).
    signal_window_s: float = 1.0

    # Every person: up to `max_people` face tracks are scored, each seen in `person_min_frames` frames.
    max_people: int = 5
    person_min_frames: int = 3
    # Assessment: fewer sampled frames with a face than this is inconclusive.
    min_face_frames: int = 8

    # Evidence beyond the model: provenance, and keyframes (one per shot plus the most attended faces).
    provenance: bool = True
    keyframes: bool = True
    keyframe_fps: float = 2.0
    keyframe_max_samples: int = 240
    shot_threshold: float = 0.4
    attention_keyframes: int = 3

    # Input limits: refuse what would exhaust memory instead of crashing.
    max_file_bytes: int = 2 * 1024**3
    max_frame_pixels: int = 4096 * 2304
    max_duration_s: float = 4 * 3600.0

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the non-None `changes` applied (CLI flags left unset stay default)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    def extraction_key(self) -> str:
        """A short hash of everything that changes which face crops come out of a clip."""
        fields = {
            k: v
            for k, v in asdict(self).items()
            if k
            in {
                "frames",
                "sample_fps",
                "max_sampled_frames",
                "detector",
                "detector_max_side",
                "min_face_fraction",
                "crop_size",
                "crop_margin",
            }
        }
        fields["version"] = EXTRACTION_VERSION
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["model_path"] = str(self.model_path)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Settings:
        """The inverse of `to_dict`; keys this version does not know (from newer files) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "model_path" in values:
            values["model_path"] = Path(values["model_path"])
        return cls(**values)
