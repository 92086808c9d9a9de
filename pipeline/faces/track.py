"""Follow the main face across the sampled frames and cut out square crops.

A clip can show several people, and detectors sometimes box background. We chain
detections into tracks by position and size, then keep the track that is largest
and most consistent; frames where that face is absent are marked, never filled in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.faces.types import Box

# Two detections belong to one track when their centres are closer than this many face
# widths and their sizes differ by less than this factor.
MAX_CENTER_SHIFT = 1.5
MAX_SIZE_RATIO = 1.8


@dataclass
class _Track:
    boxes: dict[int, Box] = field(default_factory=dict)

    @property
    def last(self) -> Box:
        return self.boxes[max(self.boxes)]

    def accepts(self, box: Box) -> bool:
        last = self.last
        (cx, cy), (lx, ly) = box.center, last.center
        scale = max(last.w, last.h, 1.0)
        shift = ((cx - lx) ** 2 + (cy - ly) ** 2) ** 0.5 / scale
        ratio = max(box.w, last.w) / max(min(box.w, last.w), 1.0)
        return shift <= MAX_CENTER_SHIFT and ratio <= MAX_SIZE_RATIO

    def strength(self) -> float:
        """More frames first, then a larger median face: the subject, not a passer-by."""
        areas = sorted(b.area for b in self.boxes.values())
        return len(self.boxes) * 1e9 + areas[len(areas) // 2]


def select_main_track(detections: Sequence[Sequence[Box]]) -> list[Box | None]:
    """For each frame, the box of the main face or None when that face is not found."""
    tracks: list[_Track] = []
    for frame_no, boxes in enumerate(detections):
        taken: set[int] = set()
        for box in sorted(boxes, key=lambda b: b.area, reverse=True):
            candidates = [
                (i, t) for i, t in enumerate(tracks) if i not in taken and max(t.boxes) < frame_no and t.accepts(box)
            ]
            if candidates:
                index, track = min(candidates, key=lambda it: 1.0 - it[1].last.iou(box))
                track.boxes[frame_no] = box
                taken.add(index)
            else:
                tracks.append(_Track(boxes={frame_no: box}))
                taken.add(len(tracks) - 1)
    if not tracks:
        return [None] * len(detections)
    main = max(tracks, key=_Track.strength)
    return [main.boxes.get(i) for i in range(len(detections))]


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
