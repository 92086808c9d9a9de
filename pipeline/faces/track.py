"""Follow the main face across the sampled frames and cut out square crops.

A clip can show several people, and detectors sometimes box background. Detections are
chained into tracks by position and size (`pipeline.faces.people`); the main face is the
track seen most and largest; frames where that face is absent are marked, never filled in.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.faces.people import build_tracks
from pipeline.faces.types import Box


def select_main_track(detections: Sequence[Sequence[Box]]) -> list[Box | None]:
    """For each frame, the box of the main face or None when that face is not found."""
    tracks = build_tracks(detections)
    if not tracks:
        return [None] * len(detections)
    return tracks[0].per_frame(len(detections))


def square_crop_box(box: Box, margin: float) -> tuple[int, int, int]:
    """A square (x, y, side) centred on the face, `margin` wider than its longer side."""
    side = max(box.w, box.h) * (1.0 + margin)
    cx, cy = box.center
    return round(cx - side / 2), round(cy - side / 2), max(round(side), 1)


def crop_face(frame_rgb: np.ndarray, box: Box, *, size: int = 224, margin: float = 0.3) -> np.ndarray:
    """A `size`x`size` uint8 RGB crop around the face; parts outside the frame are black."""
    x, y, side = square_crop_box(box, margin)
    height, width = frame_rgb.shape[:2]
    canvas = np.zeros((side, side, 3), dtype=np.uint8)
    sx0, sy0 = max(x, 0), max(y, 0)
    sx1, sy1 = min(x + side, width), min(y + side, height)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y : sy1 - y, sx0 - x : sx1 - x] = frame_rgb[sy0:sy1, sx0:sx1]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(canvas, (size, size), interpolation=interpolation)


def to_model_input(crops: np.ndarray) -> np.ndarray:
    """uint8 crops to float32 in 0..1, the scale the model expects."""
    return crops.astype(np.float32) / 255.0
