"""Scored clips on disk, keyed by the clip's sha256 and the settings, so reopening one is instant.

Each result is a JSON file (every field of `VideoResult`, full precision) and an `.npz` with the
face crops: no pickle, so a tampered file cannot run code. Loading gives back the same typed
`VideoResult` the pipeline produced; nobody downstream works from a loose dict.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.faces.types import Box
from pipeline.model.detector import ModelInfo
from pipeline.results import FrameRecord, StageTimings, Verdict, VideoResult
from pipeline.settings import Settings
from pipeline.video import VideoInfo

FORMAT_VERSION = 1
KEY_RE = re.compile(r"^[0-9a-f]{32}_[0-9a-f]{16}$")


def result_key(sha256: str, settings: Settings, model_sha256: str) -> str:
    """The cache key: same bytes, same settings and same model give the same result."""
    payload = {"settings": settings.to_dict(), "model": model_sha256, "format": FORMAT_VERSION}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{sha256[:32]}_{digest}"


def _number(value: Any) -> float | None:
    """Plain floats for JSON: detectors and models hand out numpy scalars."""
    return None if value is None else float(value)


def _box(box: Box | None) -> list[float] | None:
    return None if box is None else [float(v) for v in (box.x, box.y, box.w, box.h, box.score)]


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)  # paths and the like


def result_to_record(result: VideoResult) -> dict[str, Any]:
    """Every field of the result except the crop pixels, as JSON-ready values."""
    return {
        "format": FORMAT_VERSION,
        "file": result.file,
        "sha256": result.sha256,
        "video": asdict(result.video),
        "frames": [
            {
                "index": int(frame.index),
                "time_s": float(frame.time_s),
                "face_box": None
                if frame.face_box is None
                else [
                    float(v)
                    for v in (
                        frame.face_box.x,
                        frame.face_box.y,
                        frame.face_box.w,
                        frame.face_box.h,
                        frame.face_box.score,
                    )
                ],
                "p_fake": _number(frame.p_fake),
                "certainty": _number(frame.certainty),
                "attention": float(frame.attention),
            }
            for frame in result.frames
        ],
        "probability_fake": _number(result.probability_fake),
        "verdict": str(result.verdict),
        "threshold": float(result.threshold),
        "timings": asdict(result.timings),
        "model": result.model.to_json_dict(),
        "settings": result.settings,
        "raw_probability_fake": _number(result.raw_probability_fake),
    }


def record_to_result(record: dict[str, Any], crops: np.ndarray) -> VideoResult:
    """Rebuild the typed result; `crops` holds one crop per frame with a face, in frame order."""
    if record.get("format") != FORMAT_VERSION:
        raise ValueError(f"unknown result format {record.get('format')!r}")
    crop_iter = iter(crops)
    frames = []
    for item in record["frames"]:
        box = None if item["face_box"] is None else Box(*item["face_box"][:4], score=item["face_box"][4])
        frames.append(
            FrameRecord(
                index=int(item["index"]),
                time_s=float(item["time_s"]),
                face_box=box,
                crop=next(crop_iter) if box is not None else None,
                p_fake=item["p_fake"],
                certainty=item["certainty"],
                attention=float(item["attention"]),
            )
        )
    model_fields = {f.name for f in fields(ModelInfo)}
    return VideoResult(
        file=record["file"],
        sha256=record["sha256"],
        video=VideoInfo(**record["video"]),
        frames=tuple(frames),
        probability_fake=record["probability_fake"],
        verdict=Verdict(record["verdict"]),
        threshold=float(record["threshold"]),
        timings=StageTimings(**record["timings"]),
        model=ModelInfo(**{k: v for k, v in record["model"].items() if k in model_fields}),
        settings=record["settings"],
        raw_probability_fake=record["raw_probability_fake"],
    )


def with_display_name(result: VideoResult, name: str) -> VideoResult:
    """The result as the user knows it: the uploaded file's name, not the server's temporary path."""
    return replace(result, file=name, video=replace(result.video, path=name))


class ResultStore:
    """A folder of results; writes are atomic (temporary file, then rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not KEY_RE.match(key):
            raise ValueError(f"not a result key: {key!r}")  # never let a key walk out of the folder
        return self.root / f"{key}.json", self.root / f"{key}.npz"

    def exists(self, key: str) -> bool:
        return all(path.exists() for path in self._paths(key))

    def save(self, key: str, result: VideoResult) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        json_path, npz_path = self._paths(key)
        crops = [frame.crop for frame in result.frames if frame.crop is not None]
        size = int(result.settings.get("crop_size", 224))
        array = np.stack(crops).astype(np.uint8) if crops else np.zeros((0, size, size, 3), np.uint8)
        suffix = f".{os.getpid()}.tmp"
        tmp_npz = npz_path.with_name(npz_path.name + suffix)
        with open(tmp_npz, "wb") as handle:
            np.savez_compressed(handle, crops=array)
        os.replace(tmp_npz, npz_path)
        tmp_json = json_path.with_name(json_path.name + suffix)
        tmp_json.write_text(json.dumps(result_to_record(result), default=_json_default))
        os.replace(tmp_json, json_path)  # the JSON last: its presence means the entry is complete

    def load(self, key: str) -> VideoResult | None:
        """The stored result, or None when it is missing or damaged (then it is simply re-analysed)."""
        json_path, npz_path = self._paths(key)
        try:
            record = json.loads(json_path.read_text())
            with np.load(npz_path, allow_pickle=False) as data:
                crops = data["crops"]
            return record_to_result(record, crops)
        except (OSError, ValueError, KeyError, TypeError, StopIteration):
            return None

    def delete(self, key: str) -> None:
        for path in self._paths(key):
            path.unlink(missing_ok=True)
