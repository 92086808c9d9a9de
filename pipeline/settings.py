"""Every tunable number of the pipeline, in one place.

Pages, the CLI, the benchmark and the tests all start from `Settings()` and
override fields with `dataclasses.replace`, so no magic number lives anywhere else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

# Bump when face extraction changes in a way the settings do not show, to invalidate cached crops.
EXTRACTION_VERSION = 3
REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
DEFAULT_MODEL_PATH = MODELS_DIR / "detector.keras"
DEFAULT_CACHE_DIR = REPO_ROOT / "cache"


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
    crop_size: int = 224
    crop_margin: float = 0.3

    # Model and verdict.
    model_path: Path = DEFAULT_MODEL_PATH
    backbone: str = "mobilenet_v2_mid"
    attention_temperature: float | None = None  # None: the temperature the model was trained with
    threshold: float | None = None  # None: the threshold stored with the model

    # Input limits: refuse what would exhaust memory instead of crashing.
    max_file_bytes: int = 2 * 1024**3
    max_frame_pixels: int = 4096 * 2304
    max_duration_s: float = 4 * 3600.0

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the non-None `changes` applied (CLI flags left unset stay default)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

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
