"""Keyframes for reverse image search: one per shot, plus the frames the model looked at hardest.

Shots are found from frame differences (the distance between colour histograms of consecutive
sampled frames); each keyframe carries its time and a perceptual hash (DCT pHash), so copies of
the same picture elsewhere can be matched even after resizing or recompression. Nothing here
touches the network: the user takes the JPEGs to a reverse image search.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.video import VideoInfo, iter_frames, sample_indices

REVERSE_SEARCH_HOWTO = (
    "How to use these keyframes: open a reverse image search (Google Lens, Bing Visual Search, TinEye, "
    "Yandex Images) in your browser and upload one JPEG at a time, starting with the first frame of each shot. "
    "Look for earlier copies of the same picture: an older upload, another caption, a different face in the "
    "same scene. The perceptual hash in index.csv matches near-identical copies you already hold. "
    "This app makes no network calls: nothing is searched until you upload a frame yourself."
)


class KeyframeKind(StrEnum):
    SHOT = "shot"
    ATTENTION = "attention"


@dataclass(frozen=True)
class Keyframe:
    index: int
    time_s: float
    kind: KeyframeKind
    phash: str  # 64-bit DCT perceptual hash, hex
    shot: int  # the shot it belongs to, from 1
    rgb: np.ndarray  # the full frame, uint8 RGB
    attention: float | None = None

    @property
    def file_name(self) -> str:
        return f"{self.kind.value}_{self.shot:02d}_{self.time_s:08.2f}s.jpg"

    @classmethod
    def from_json_dict(cls, data: dict[str, Any], rgb: np.ndarray) -> Keyframe:
        """The inverse of `to_json_dict`, given the pixels stored beside it."""
        return cls(
            index=int(data["index"]),
            time_s=float(data["time_s"]),
            kind=KeyframeKind(data["kind"]),
            phash=str(data["phash"]),
            shot=int(data["shot"]),
            rgb=rgb,
            attention=data.get("attention"),
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "file": self.file_name,
            "index": self.index,
            "time_s": round(self.time_s, 3),
            "kind": str(self.kind),
            "shot": self.shot,
            "phash": self.phash,
            "attention": None if self.attention is None else round(self.attention, 6),
        }


def perceptual_hash(rgb: np.ndarray) -> str:
    """pHash: the signs of the 8x8 lowest DCT frequencies of a 32x32 grey copy, against their median."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def hash_distance(first: str, second: str) -> int:
    """Differing bits of two pHashes: under about 10 of 64 means the same picture."""
    return (int(first, 16) ^ int(second, 16)).bit_count()


def frame_distance(first: np.ndarray, second: np.ndarray) -> float:
    """0 for the same picture, near 1 for unrelated ones (Bhattacharyya distance of HSV histograms)."""
    hists = []
    for rgb in (first, second):
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
        hists.append(cv2.normalize(hist, hist).flatten())
    return float(cv2.compareHist(hists[0], hists[1], cv2.HISTCMP_BHATTACHARYYA))


def shot_starts(frames: Sequence[np.ndarray], threshold: float) -> list[int]:
    """Positions in `frames` where a new shot begins (the first frame always does)."""
    if not len(frames):
        return []
    starts = [0]
    for position in range(1, len(frames)):
        if frame_distance(frames[position - 1], frames[position]) > threshold:
            starts.append(position)
    return starts


def extract_keyframes(
    info: VideoInfo,
    *,
    sample_fps: float,
    max_samples: int,
    shot_threshold: float,
    attention_frames: Sequence[tuple[int, float]] = (),
) -> list[Keyframe]:
    """One keyframe per shot (its middle sampled frame) and the given (frame index, attention) frames."""
    indices = sample_indices(info.frame_count, max_samples, fps=info.fps, sample_fps=sample_fps, max_frames=max_samples)
    wanted = sorted(set(indices) | {index for index, _ in attention_frames})
    decoded = {frame.index: frame.rgb for frame in iter_frames(info.path, wanted, info.fps)}
    sampled = [i for i in indices if i in decoded]
    starts = shot_starts([decoded[i] for i in sampled], shot_threshold)
    bounds = [*starts, len(sampled)]
    keyframes = []
    for shot, (begin, end) in enumerate(itertools.pairwise(bounds), start=1):
        index = sampled[(begin + end - 1) // 2]
        keyframes.append(_keyframe(index, info.fps, KeyframeKind.SHOT, shot, decoded[index]))
    shot_first_index = [sampled[s] for s in starts]
    for index, attention in attention_frames:
        if index not in decoded:
            continue
        shot = sum(first <= index for first in shot_first_index) or 1
        keyframes.append(_keyframe(index, info.fps, KeyframeKind.ATTENTION, shot, decoded[index], attention))
    return sorted(keyframes, key=lambda k: (k.time_s, k.kind))


def _keyframe(
    index: int, fps: float, kind: KeyframeKind, shot: int, rgb: np.ndarray, attention: float | None = None
) -> Keyframe:
    return Keyframe(index, index / fps, kind, perceptual_hash(rgb), shot, rgb, attention)


def jpeg_bytes(rgb: np.ndarray, quality: int = 92) -> bytes:
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode a keyframe as JPEG")
    return encoded.tobytes()


def decode_jpeg(data: np.ndarray) -> np.ndarray:
    """RGB pixels of JPEG bytes (a uint8 array, as stored with a result)."""
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("a stored keyframe is not a readable JPEG")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def keyframes_zip(keyframes: Sequence[Keyframe], source_name: str, sha256: str) -> bytes:
    """A ZIP of the JPEGs with index.csv, index.json and a README on reverse image search."""
    buffer = io.BytesIO()
    rows = [k.to_json_dict() for k in keyframes]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for keyframe in keyframes:
            archive.writestr(keyframe.file_name, jpeg_bytes(keyframe.rgb))
        table = io.StringIO()
        writer = csv.DictWriter(table, fieldnames=list(rows[0]) if rows else ["file"])
        writer.writeheader()
        writer.writerows(rows)
        archive.writestr("index.csv", table.getvalue())
        archive.writestr(
            "index.json", json.dumps({"source": Path(source_name).name, "sha256": sha256, "keyframes": rows}, indent=2)
        )
        archive.writestr(
            "README.txt", f"Keyframes of {Path(source_name).name} (SHA-256 {sha256})\n\n{REVERSE_SEARCH_HOWTO}\n"
        )
    return buffer.getvalue()
