"""Every person in a clip: chain face detections into tracks, one per person, strongest first.

The main track (the one the per-frame evidence follows) is the strongest: the face seen in the
most sampled frames, then the largest. The others are scored separately, so a swapped face in the
background is not missed because someone else fills the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.faces.types import Box

# Two detections belong to one track when their centres are closer than this many face
# widths and their sizes differ by less than this factor.
MAX_CENTER_SHIFT = 1.5
MAX_SIZE_RATIO = 1.8
# A second detection overlapping a kept one this much is the same face found twice.
DUPLICATE_IOU = 0.3


@dataclass
class FaceTrack:
    """One person's boxes, keyed by the position of the sampled frame."""

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

    def per_frame(self, frames: int) -> list[Box | None]:
        return [self.boxes.get(i) for i in range(frames)]


def build_tracks(detections: Sequence[Sequence[Box]]) -> list[FaceTrack]:
    """All tracks, strongest first. Each frame's boxes join the nearest open track, largest box first."""
    tracks: list[FaceTrack] = []
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
                tracks.append(FaceTrack(boxes={frame_no: box}))
                taken.add(len(tracks) - 1)
    return sorted(tracks, key=FaceTrack.strength, reverse=True)


def other_people(
    detections: Sequence[Sequence[Box]], main: Sequence[Box | None], max_people: int, min_frames: int
) -> list[list[Box | None]]:
    """Per-frame boxes of up to `max_people` people besides the main face, strongest first.

    Boxes of the main face (overlapping its box in that frame, or its nearest box in time where
    it was missed) are left out; a person must be seen in at least `min_frames` sampled frames,
    so a face glimpsed once, or a detector's one-off mistake, is not reported as a person.
    """
    if max_people <= 0:
        return []
    seen = [i for i, box in enumerate(main) if box is not None]
    remaining = []
    for frame_no, boxes in enumerate(detections):
        reference = main[frame_no] if main[frame_no] is not None else _nearest(main, seen, frame_no)
        remaining.append([b for b in boxes if reference is None or b.iou(reference) < DUPLICATE_IOU])
    tracks = [t for t in build_tracks(remaining) if len(t.boxes) >= min_frames]
    return [track.per_frame(len(detections)) for track in tracks[:max_people]]


def _nearest(main: Sequence[Box | None], seen: list[int], frame_no: int) -> Box | None:
    if not seen:
        return None
    return main[min(seen, key=lambda i: abs(i - frame_no))]
