"""A disk cache of decoded face crops, so training and evaluation decode each clip once.

Entries are keyed by the clip's sha256 and the extraction settings, so a changed
file or a changed detector/crop setting never reuses stale crops.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.faces.base import FaceDetector
from pipeline.faces.types import Box
from pipeline.hashing import file_sha256
from pipeline.scoring.extraction import FaceExtraction, extract_faces
from pipeline.settings import Settings
from pipeline.video import VideoInfo, probe_video


def cache_file(cache_dir: Path, sha256: str, settings: Settings) -> Path:
    return cache_dir / "crops" / f"{sha256[:32]}_{settings.extraction_key()}.npz"


def _save(path: Path, faces: FaceExtraction) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    boxes = np.array([[*b.as_list(), b.score] if b else [np.nan] * 5 for b in faces.boxes], dtype=np.float64)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        crops=faces.crops,
        boxes=boxes.reshape(-1, 5),
        indices=np.array(faces.indices, dtype=np.int64),
        times_s=np.array(faces.times_s, dtype=np.float64),
    )
    os.replace(tmp, path)  # atomic: a crash never leaves a half-written entry


def _load(path: Path, info: VideoInfo) -> FaceExtraction:
    with np.load(path) as data:
        boxes = tuple(None if np.isnan(row[0]) else Box(*(float(v) for v in row[:5])) for row in data["boxes"])
        return FaceExtraction(
            info=info,
            indices=tuple(int(i) for i in data["indices"]),
            times_s=tuple(float(t) for t in data["times_s"]),
            boxes=boxes,
            crops=data["crops"],
            decode_s=0.0,
            detect_s=0.0,
        )


def cached_extract_faces(
    path: str | Path, settings: Settings, detector: FaceDetector, cache_dir: Path
) -> tuple[str, FaceExtraction]:
    """(sha256, faces) of a clip, decoding it only when no cache entry exists."""
    sha256 = file_sha256(path)
    info = probe_video(path, settings)
    entry = cache_file(cache_dir, sha256, settings)
    if entry.exists():
        try:
            return sha256, _load(entry, info)
        except (OSError, ValueError, KeyError):
            entry.unlink(missing_ok=True)  # a damaged entry: rebuild it
    # The main face only: cached crops feed training and evaluation, which judge one face per clip.
    faces = extract_faces(path, replace(settings, max_people=1), detector, info=info)
    _save(entry, faces)
    return sha256, faces
