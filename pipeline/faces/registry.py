"""Face detectors by name: every adapter registered, for the CLI, the pages and the benchmarks."""

from __future__ import annotations

from typing import Any

from pipeline.faces import base, blazeface, classic  # noqa: F401  (importing them registers their detectors)
from pipeline.faces.base import DEFAULT_MAX_SIDE, DEFAULT_MIN_FACE_FRACTION, FaceDetector, UnknownDetectorError


def create_detector(
    name: str,
    *,
    max_side: int = DEFAULT_MAX_SIDE,
    min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
    **kwargs: Any,
) -> FaceDetector:
    """Build the detector registered as ``name``.

    Raises UnknownDetectorError for unknown names and DetectorUnavailableError
    when its optional package or model file is missing.
    """
    try:
        factory = base.DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(base.DETECTORS))
        raise UnknownDetectorError(f"unknown face detector {name!r}; known detectors: {known}") from None
    return factory(max_side=max_side, min_face_fraction=min_face_fraction, **kwargs)


def available_detectors() -> list[str]:
    """Registered names whose optional dependencies look installed."""
    return [name for name in sorted(base.DETECTORS) if base._REQUIRES[name]()]
