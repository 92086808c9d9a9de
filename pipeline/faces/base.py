"""The face detector interface and its name-to-factory registry.

Every adapter downscales the frame (longer side <= ``max_side``) because
detection cost grows with pixel count while faces in our clips are large,
then maps boxes back to full-frame pixels so callers never see the scale.
Optional packages are imported inside the factories only, so importing the
detectors never pulls in TensorFlow, dlib or mtcnn.
"""

from __future__ import annotations

import abc
import importlib
import importlib.util
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TypeVar

import cv2
import numpy as np

from pipeline.errors import PipelineError
from pipeline.faces.types import Box
from pipeline.settings import Settings

# The defaults are Settings' (every default lives there once).
DEFAULT_MAX_SIDE: int = Settings.detector_max_side
DEFAULT_MIN_FACE_FRACTION: float = Settings.min_face_fraction
REQUIREMENTS_FILE = "requirements-detectors.txt"


class UnknownDetectorError(PipelineError, ValueError):
    """Raised for a detector name that is not in the registry."""


class DetectorUnavailableError(PipelineError, RuntimeError):
    """Raised when a detector's optional package or model file is missing."""


def _require(module: str, pip_spec: str, detector: str) -> ModuleType:
    """Import an optional module, turning ImportError into an actionable message."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise DetectorUnavailableError(
            f"face detector {detector!r} needs the optional package {pip_spec!r}: "
            f"pip install {pip_spec}  (pinned versions: {REQUIREMENTS_FILE})"
        ) from exc


def _module_dir(module: str) -> Path | None:
    """Folder of an installed package, found without importing (running) it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _importable(modules: Iterable[str]) -> bool:
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


class FaceDetector(abc.ABC):
    """Finds faces in one RGB frame; boxes are full-frame pixels, best first."""

    name: str = "base"

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
    ) -> None:
        if max_side < 32:
            raise ValueError(f"max_side must be >= 32, got {max_side}")
        if not 0.0 <= min_face_fraction < 1.0:
            raise ValueError(f"min_face_fraction must be in [0, 1), got {min_face_fraction}")
        self.max_side = int(max_side)
        self.min_face_fraction = float(min_face_fraction)

    @abc.abstractmethod
    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        """Return face boxes in ``frame_rgb`` pixel coordinates, best first."""

    def detect_near(self, frame_rgb: np.ndarray, hint: Box | None) -> list[Box]:
        """Detect, knowing where a face was in the previous sampled frame.

        Adapters that can search a small region first (much cheaper for a fixed-input
        model on a wide frame) override this; the default ignores the hint.
        """
        del hint
        return self.detect(frame_rgb)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, max_side={self.max_side}, "
            f"min_face_fraction={self.min_face_fraction})"
        )

    # -- helpers shared by the adapters ------------------------------------

    @staticmethod
    def _check_frame(frame_rgb: np.ndarray) -> None:
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got shape {frame_rgb.shape} dtype {frame_rgb.dtype}")

    def _downscale(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, float]:
        """Shrink so the longer side is <= max_side; returns (image, scale)."""
        self._check_frame(frame_rgb)
        h, w = frame_rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if scale >= 1.0:
            return np.ascontiguousarray(frame_rgb), 1.0
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        return cv2.resize(frame_rgb, size, interpolation=cv2.INTER_AREA), scale

    def _min_face_px(self, frame_shape: Sequence[int]) -> float:
        """Smallest accepted face side in full-frame pixels."""
        return self.min_face_fraction * min(frame_shape[0], frame_shape[1])

    def _finish(
        self,
        raw: Iterable[tuple[float, float, float, float, float]],
        scale: float,
        frame_shape: Sequence[int],
    ) -> list[Box]:
        """Map (x, y, w, h, score) from the scaled image back, clip, filter, sort."""
        fh, fw = float(frame_shape[0]), float(frame_shape[1])
        min_side = self._min_face_px(frame_shape)
        boxes: list[Box] = []
        for x, y, w, h, score in raw:
            x0 = min(max(x / scale, 0.0), fw)
            y0 = min(max(y / scale, 0.0), fh)
            x1 = min(max((x + w) / scale, 0.0), fw)
            y1 = min(max((y + h) / scale, 0.0), fh)
            bw, bh = x1 - x0, y1 - y0
            if bw <= 0 or bh <= 0 or min(bw, bh) < min_side:
                continue
            boxes.append(Box(float(x0), float(y0), float(bw), float(bh), float(score)))
        boxes.sort(key=lambda b: (b.score, b.area), reverse=True)
        return boxes


FactoryT = TypeVar("FactoryT", bound=Callable[..., FaceDetector])

DETECTORS: dict[str, Callable[..., FaceDetector]] = {}
_REQUIRES: dict[str, Callable[[], bool]] = {}


def register_detector(name: str, *, available: Callable[[], bool] | None = None) -> Callable[[FactoryT], FactoryT]:
    """Register a factory (or class) under ``name``.

    ``available`` is a cheap check, without importing heavy packages, used by
    :func:`available_detectors`; it defaults to "always available".
    """

    def decorator(factory: FactoryT) -> FactoryT:
        if name in DETECTORS:
            raise ValueError(f"face detector {name!r} is already registered")
        DETECTORS[name] = factory
        _REQUIRES[name] = available or (lambda: True)
        return factory

    return decorator
