"""The typed result of scoring one clip; it travels unchanged to the CLI, charts and reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from pipeline.assessment import SUSPICION_ORDER, Assessment, VerdictBand
from pipeline.faces.types import Box
from pipeline.fetch import LinkSource
from pipeline.keyframes import Keyframe, decode_jpeg, jpeg_bytes
from pipeline.model.config import ModelInfo
from pipeline.provenance import Provenance
from pipeline.settings import Settings
from pipeline.signals.contract import SignalResult
from pipeline.video import VideoInfo

# The stored record's format (dashboard result store); bump when `to_record` changes shape.
# 2: adds "signals". 3: the assessment, every person, provenance, keyframes and the source link.
RECORD_FORMAT = 3


class Verdict(StrEnum):
    FAKE = "fake"
    REAL = "real"
    NO_FACE = "no_face"  # abstain: nothing to judge
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One sampled frame. Without a face, box/crop/scores are None and attention is 0."""

    index: int
    time_s: float
    face_box: Box | None
    crop: np.ndarray | None  # uint8 RGB, crop_size x crop_size
    p_fake: float | None
    certainty: float | None
    attention: float

    @property
    def has_face(self) -> bool:
        return self.face_box is not None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time_s": round(self.time_s, 4),
            "face_box": self.face_box.as_list() if self.face_box else None,
            "p_fake": _rounded(self.p_fake),
            "certainty": _rounded(self.certainty),
            "attention": round(self.attention, 6),
        }


@dataclass(frozen=True, slots=True)
class StageTimings:
    decode: float = 0.0
    detect: float = 0.0
    model: float = 0.0
    total: float = 0.0

    def to_json_dict(self) -> dict[str, float]:
        return {k: round(getattr(self, k), 4) for k in ("decode", "detect", "model", "total")}


@dataclass(frozen=True)
class PersonResult:
    """One tracked person: their frames, their own probability and assessment."""

    id: int  # 1 is the main face, the one the clip's per-frame fields follow
    records: tuple[FrameRecord, ...]
    probability_fake: float | None
    assessment: Assessment
    reasons: tuple[str, ...] = ()
    raw_probability_fake: float | None = None

    @property
    def face_records(self) -> tuple[FrameRecord, ...]:
        return tuple(r for r in self.records if r.has_face)

    @property
    def frame_count(self) -> int:
        return len(self.face_records)

    @property
    def first_s(self) -> float:
        faces = self.face_records
        return faces[0].time_s if faces else 0.0

    @property
    def last_s(self) -> float:
        faces = self.face_records
        return faces[-1].time_s if faces else 0.0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_s": round(self.first_s, 4),
            "last_s": round(self.last_s, 4),
            "frames": self.frame_count,
            "probability_fake": _rounded(self.probability_fake),
            "assessment": str(self.assessment),
            "assessment_reasons": list(self.reasons),
        }


def most_suspicious(people: tuple[PersonResult, ...]) -> PersonResult | None:
    """The person whose assessment is the most suspicious (then the higher probability, then the main face)."""
    if not people:
        return None
    return max(people, key=lambda p: (SUSPICION_ORDER[p.assessment], p.probability_fake or 0.0, -p.id))


@dataclass(frozen=True)
class VideoResult:
    """Everything known about one scored clip."""

    file: str
    sha256: str
    video: VideoInfo
    frames: tuple[FrameRecord, ...]
    probability_fake: float | None
    verdict: Verdict
    threshold: float
    timings: StageTimings
    model: ModelInfo
    settings: Settings = field(default_factory=Settings)
    raw_probability_fake: float | None = None  # before calibration
    # Every signal's own verdict, the ones that abstained included (with their reason).
    signals: tuple[SignalResult, ...] = ()
    # The verdict a journalist can stand behind: the most suspicious person's, with the reasons.
    assessment: Assessment = Assessment.INCONCLUSIVE
    assessment_reasons: tuple[str, ...] = ()
    band: VerdictBand | None = None
    people: tuple[PersonResult, ...] = ()
    provenance: Provenance | None = None
    keyframes: tuple[Keyframe, ...] = ()
    source: LinkSource | None = None  # set when the clip was fetched from a link
    analysed_at: str | None = None  # ISO 8601, UTC

    @property
    def most_suspicious_person(self) -> PersonResult | None:
        return most_suspicious(self.people)

    @property
    def face_frames(self) -> int:
        return sum(frame.has_face for frame in self.frames)

    def to_json_dict(self) -> dict[str, Any]:
        """The CLI's JSON line schema (and the downloadable report's core)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "verdict": str(self.verdict),
            "probability_fake": _rounded(self.probability_fake),
            "threshold": self.threshold,
            "assessment": str(self.assessment),
            "assessment_reasons": list(self.assessment_reasons),
            "band": band_limits(self.band),
            "people": [person.to_json_dict() for person in self.people],
            "frames": [frame.to_json_dict() for frame in self.frames],
            "timings_s": self.timings.to_json_dict(),
            "model": model_summary(self.model),
            "error": None,
            "video": {
                "width": self.video.width,
                "height": self.video.height,
                "fps": round(self.video.fps, 3),
                "frame_count": self.video.frame_count,
                "duration_s": round(self.video.duration_s, 3),
                "codec": self.video.codec,
                "size_bytes": self.video.size_bytes,
            },
            "signals": [signal.to_json_dict() for signal in self.signals],
            "provenance": self.provenance.to_json_dict() if self.provenance else None,
            "keyframes": [keyframe.to_json_dict() for keyframe in self.keyframes],
            "source": self.source.to_json_dict() if self.source else None,
            "analysed_at": self.analysed_at,
        }

    def to_record(self) -> dict[str, Any]:
        """Every field except the crop pixels, at full precision: the one round trip to JSON
        (`from_record` reverses it). The CLI's `to_json_dict` is the rounded public view."""
        return {
            "format": RECORD_FORMAT,
            "file": self.file,
            "sha256": self.sha256,
            "video": asdict(self.video),
            "frames": _frames_record(self.frames),
            "probability_fake": _plain(self.probability_fake),
            "verdict": str(self.verdict),
            "threshold": float(self.threshold),
            "timings": asdict(self.timings),
            "model": self.model.to_json_dict(),
            "settings": self.settings.to_dict(),
            "raw_probability_fake": _plain(self.raw_probability_fake),
            "signals": [signal.to_record() for signal in self.signals],
            "assessment": str(self.assessment),
            "assessment_reasons": list(self.assessment_reasons),
            "band": None if self.band is None else self.band.to_json_dict(),
            "people": [
                {
                    "id": person.id,
                    "frames": None if index == 0 else _frames_record(person.records),  # the first's are the clip's
                    "probability_fake": _plain(person.probability_fake),
                    "raw_probability_fake": _plain(person.raw_probability_fake),
                    "assessment": str(person.assessment),
                    "reasons": list(person.reasons),
                }
                for index, person in enumerate(self.people)
            ],
            "provenance": None if self.provenance is None else self.provenance.to_json_dict(),
            "keyframes": [keyframe.to_json_dict() for keyframe in self.keyframes],
            "source": None if self.source is None else self.source.to_json_dict(),
            "analysed_at": self.analysed_at,
        }

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The pixels `to_record` leaves out: the clip's crops, each other person's, keyframes as JPEG bytes."""
        size = self.settings.crop_size

        def stacked(frames: tuple[FrameRecord, ...]) -> np.ndarray:
            crops = [frame.crop for frame in frames if frame.crop is not None]
            return np.stack(crops).astype(np.uint8) if crops else np.zeros((0, size, size, 3), np.uint8)

        arrays = {"crops": stacked(self.frames)}
        for person in self.people[1:]:
            arrays[f"person{person.id}"] = stacked(person.records)
        for number, keyframe in enumerate(self.keyframes):
            arrays[f"keyframe{number}"] = np.frombuffer(jpeg_bytes(keyframe.rgb), dtype=np.uint8)
        return arrays

    @classmethod
    def from_record(cls, record: dict[str, Any], arrays: Mapping[str, np.ndarray] | np.ndarray) -> VideoResult:
        """Rebuild the typed result from `to_record` and `to_arrays` (or just the clip's crops, when the
        result has no other person and no keyframe)."""
        if isinstance(arrays, np.ndarray):
            arrays = {"crops": arrays}
        if record.get("format") != RECORD_FORMAT:
            raise ValueError(f"unknown result format {record.get('format')!r}")
        frames = _frames_from(record["frames"], arrays["crops"])
        people = tuple(
            PersonResult(
                id=int(item["id"]),
                records=frames
                if item["frames"] is None
                else _frames_from(item["frames"], arrays[f"person{item['id']}"]),
                probability_fake=item["probability_fake"],
                assessment=Assessment(item["assessment"]),
                reasons=tuple(item["reasons"]),
                raw_probability_fake=item["raw_probability_fake"],
            )
            for item in record["people"]
        )
        keyframes = tuple(
            Keyframe.from_json_dict(item, decode_jpeg(arrays[f"keyframe{number}"]))
            for number, item in enumerate(record["keyframes"])
        )
        return cls(
            file=record["file"],
            sha256=record["sha256"],
            video=VideoInfo(**record["video"]),
            frames=tuple(frames),
            probability_fake=record["probability_fake"],
            verdict=Verdict(record["verdict"]),
            threshold=float(record["threshold"]),
            timings=StageTimings(**record["timings"]),
            model=ModelInfo.from_json_dict(record["model"]),
            settings=Settings.from_dict(record["settings"]),
            raw_probability_fake=record["raw_probability_fake"],
            signals=tuple(SignalResult.from_record(item) for item in record["signals"]),
            assessment=Assessment(record["assessment"]),
            assessment_reasons=tuple(record["assessment_reasons"]),
            band=VerdictBand.from_json_dict(record["band"]),
            people=people,
            provenance=None if record["provenance"] is None else Provenance.from_json_dict(record["provenance"]),
            keyframes=keyframes,
            source=LinkSource.from_json_dict(record["source"]),
            analysed_at=record["analysed_at"],
        )


def _frames_record(frames: tuple[FrameRecord, ...]) -> list[dict[str, Any]]:
    return [
        {
            "index": int(frame.index),
            "time_s": float(frame.time_s),
            "face_box": _box_list(frame.face_box),
            "p_fake": _plain(frame.p_fake),
            "certainty": _plain(frame.certainty),
            "attention": float(frame.attention),
        }
        for frame in frames
    ]


def _frames_from(items: list[dict[str, Any]], crops: np.ndarray) -> tuple[FrameRecord, ...]:
    crop_iter = iter(crops)
    frames = []
    for item in items:
        box = None if item["face_box"] is None else Box(*item["face_box"])
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
    return tuple(frames)


def band_limits(band: VerdictBand | None) -> dict[str, Any] | None:
    """The band's limits and the rates measured where it was fitted, for the JSON line."""
    if band is None:
        return None
    keys = ("clips", "signs_right_rate", "signs_clips", "no_signs_right_rate", "no_signs_clips", "split")
    return {
        "lower": band.lower,
        "upper": band.upper,
        "target_rate": band.target_rate,
        "measured": {k: band.measured.get(k) for k in keys},
    }


def _plain(value: float | None) -> float | None:
    """Plain floats for JSON: detectors and models hand out numpy scalars."""
    return None if value is None else float(value)


def _box_list(box: Box | None) -> list[float] | None:
    return None if box is None else [float(v) for v in (box.x, box.y, box.w, box.h, box.score)]


def model_summary(info: ModelInfo) -> dict[str, Any]:
    return {"name": info.name, "version": info.version, "sha256": info.sha256, "trained": info.trained}


def error_json(file: str, message: str, sha256: str | None = None) -> dict[str, Any]:
    """The JSON line for a clip that could not be scored: same keys, no made-up score."""
    return {
        "file": file,
        "sha256": sha256,
        "verdict": str(Verdict.ERROR),
        "probability_fake": None,
        "threshold": None,
        "assessment": str(Assessment.ERROR),
        "assessment_reasons": [message],
        "band": None,
        "people": [],
        "frames": [],
        "timings_s": None,
        "model": None,
        "error": message,
        "signals": [],
        "provenance": None,
        "keyframes": [],
        "source": None,
        "analysed_at": None,
    }


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)
