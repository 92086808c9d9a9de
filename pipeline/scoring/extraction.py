"""Decode the sampled frames, find and follow the main face (and the other people), crop them: the
part of scoring that training caches. Nothing here knows about the model or Streamlit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.faces.base import FaceDetector
from pipeline.faces.people import other_people
from pipeline.faces.track import crop_face, select_main_track
from pipeline.faces.types import Box
from pipeline.settings import Settings
from pipeline.video import (
    BackgroundDecoder,
    SampledFrame,
    VideoInfo,
    iter_frames,
    probe_video,
    read_sampled_frames,
    sampled_indices,
)

# Candidate faces kept per frame before the tracker picks the main one.
MAX_CANDIDATES_PER_FRAME = 4
# Every this many sampled frames, detection scans the whole frame instead of near the last face.
FULL_FRAME_SCAN_EVERY = 8

ProgressCallback = Callable[[str, float], None]
STAGES = ("decoding", "faces", "model")


@dataclass(frozen=True)
class PersonFaces:
    """Another person's boxes (one per sampled frame, None where unseen) and crops."""

    boxes: tuple[Box | None, ...]
    crops: np.ndarray  # (faces, S, S, 3) uint8, one per frame with a box, in frame order


@dataclass(frozen=True)
class FaceExtraction:
    """Decoded and tracked faces of one clip: the part of scoring that training caches.

    `boxes` and `crops` are the main face's; `others` holds the other people (never cached).
    """

    info: VideoInfo
    indices: tuple[int, ...]
    times_s: tuple[float, ...]
    boxes: tuple[Box | None, ...]
    crops: np.ndarray  # (faces, S, S, 3) uint8, one per frame with a box, in frame order
    decode_s: float
    detect_s: float
    others: tuple[PersonFaces, ...] = ()

    @property
    def mask(self) -> np.ndarray:
        return np.array([box is not None for box in self.boxes], dtype=np.float32)


def no_progress(stage: str, fraction: float) -> None:
    """The default progress callback: report nothing."""
    del stage, fraction


def extract_faces(
    path: str | Path,
    settings: Settings,
    detector: FaceDetector,
    on_progress: ProgressCallback = no_progress,
    info: VideoInfo | None = None,
) -> FaceExtraction:
    """Decode the sampled frames, detect faces as they arrive, follow the main face, crop it.

    Decoding runs on a background thread, overlapping detection. Full frames are dropped
    as soon as their candidate faces are cut out, so memory stays flat even for long 4K clips.
    """
    info = info or probe_video(path, settings)
    indices = sampled_indices(info, settings)
    decode_s = detect_s = 0.0
    candidates: list[list[Box]] = []
    candidate_crops: list[list[np.ndarray]] = []
    whole_frame: list[list[Box]] = []
    whole_crops: list[list[np.ndarray]] = []
    kept_indices: list[int] = []
    on_progress("decoding", 0.0)

    def run(frames: Iterable[SampledFrame]) -> None:
        nonlocal detect_s
        total = max(len(indices), 1)
        hint: Box | None = None
        for number, frame in enumerate(frames):
            started = time.perf_counter()
            # Search near the last face, but scan whole frames regularly so no face is missed for long.
            near = hint if number % FULL_FRAME_SCAN_EVERY else None
            boxes = detector.detect_near(frame.rgb, near)[:MAX_CANDIDATES_PER_FRAME]
            hint = max(boxes, key=lambda b: b.area) if boxes else None
            crops = [crop_face(frame.rgb, b, size=settings.crop_size, margin=settings.crop_margin) for b in boxes]
            # Other people: whole-frame detection in every frame (the search near the main face misses them).
            whole = (boxes if near is None else detector.detect(frame.rgb)) if settings.max_people > 1 else []
            whole = whole[: settings.max_people + 1]
            detect_s += time.perf_counter() - started
            candidates.append(boxes)
            candidate_crops.append(crops)
            whole_frame.append(whole)
            whole_crops.append(
                [crop_face(frame.rgb, b, size=settings.crop_size, margin=settings.crop_margin) for b in whole]
            )
            kept_indices.append(frame.index)
            on_progress("faces", len(kept_indices) / total)

    if indices:
        decoder = BackgroundDecoder(iter_frames(info.path, indices, info.fps))
        run(decoder)
        decode_s += decoder.busy_s
    if len(kept_indices) < len(indices) or not indices:
        # The header misstated the frame count (truncated file, some webm): recount, redo.
        started = time.perf_counter()
        info, frames = read_sampled_frames(info, settings)
        decode_s += time.perf_counter() - started
        for collected in (candidates, candidate_crops, whole_frame, whole_crops, kept_indices):
            collected.clear()
        indices = [f.index for f in frames]
        run(frames)

    main = select_main_track(candidates)
    others = other_people(whole_frame, main, settings.max_people - 1, settings.person_min_frames)
    size = settings.crop_size

    def crops_of(chosen: list[Box | None], boxes: list[list[Box]], crops: list[list[np.ndarray]]) -> np.ndarray:
        picked = [crops[i][boxes[i].index(box)] for i, box in enumerate(chosen) if box is not None]
        return np.stack(picked) if picked else np.zeros((0, size, size, 3), dtype=np.uint8)

    return FaceExtraction(
        info=info,
        indices=tuple(kept_indices),
        times_s=tuple(i / info.fps for i in kept_indices),
        boxes=tuple(main),
        crops=crops_of(main, candidates, candidate_crops),
        decode_s=decode_s,
        detect_s=detect_s,
        others=tuple(PersonFaces(tuple(person), crops_of(person, whole_frame, whole_crops)) for person in others),
    )
