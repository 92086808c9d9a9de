"""Three honest verdicts instead of a bare probability and a 0.5 threshold.

A probability becomes "signs of manipulation" only above a band's upper limit and "no signs of
manipulation found" only below its lower limit; in between, and whenever the clip lies outside
what the model was trained on, the answer is "inconclusive" with the reasons. The band is fitted
on out-of-sample predictions (`fit_band`, run by `python -m tools.fit_verdict_band`) so that each
outer verdict was right at least a target share of the time there, and stored in the model's
metadata beside the measured rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

# The share of out-of-sample clips each outer verdict must get right.
DEFAULT_TARGET_RATE = 0.9
# An outer verdict needs at least this many out-of-sample clips behind it, or it is never given.
DEFAULT_MIN_CLIPS = 5


class Assessment(StrEnum):
    SIGNS_OF_MANIPULATION = "signs_of_manipulation"
    INCONCLUSIVE = "inconclusive"
    NO_SIGNS_FOUND = "no_signs_found"
    NO_FACE = "no_face"
    ERROR = "error"


# How suspicious an assessment is, for picking the most suspicious person of a clip.
SUSPICION_ORDER = {
    Assessment.SIGNS_OF_MANIPULATION: 3,
    Assessment.INCONCLUSIVE: 2,
    Assessment.NO_SIGNS_FOUND: 1,
    Assessment.NO_FACE: 0,
    Assessment.ERROR: 0,
}


@dataclass(frozen=True)
class VerdictBand:
    """Probabilities at or below `lower` find no signs; at or above `upper` show signs.

    A limit of None means that verdict is never given: no threshold reached the target rate
    on enough out-of-sample clips.
    """

    lower: float | None
    upper: float | None
    target_rate: float = DEFAULT_TARGET_RATE
    measured: dict[str, Any] = field(default_factory=dict)  # rates and counts where it was fitted

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict[str, Any] | None) -> VerdictBand | None:
        if not data:
            return None
        return cls(
            lower=_optional_float(data.get("lower")),
            upper=_optional_float(data.get("upper")),
            target_rate=float(data.get("target_rate", DEFAULT_TARGET_RATE)),
            measured=dict(data.get("measured") or {}),
        )

    def classify(self, probability: float) -> Assessment:
        if self.upper is not None and probability >= self.upper:
            return Assessment.SIGNS_OF_MANIPULATION
        if self.lower is not None and probability <= self.lower:
            return Assessment.NO_SIGNS_FOUND
        return Assessment.INCONCLUSIVE


@dataclass(frozen=True)
class InputRange:
    """What the model saw in training: inputs outside this range get no outer verdict."""

    min_face_side_px: float | None = None  # the smallest median face (longer box side) of a training clip
    min_height_px: int | None = None
    max_height_px: int | None = None
    min_bits_per_pixel: float | None = None  # the file's bitrate per pixel per frame
    max_bits_per_pixel: float | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict[str, Any] | None) -> InputRange | None:
        if not data:
            return None
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ClipEvidence:
    """What the assessment needs to know about one scored clip (or one person in it)."""

    probability: float | None
    face_frames: int
    face_side_px: float | None  # median longer side of the face box, in source pixels
    height_px: int
    bits_per_pixel: float | None


def bits_per_pixel(size_bytes: int, duration_s: float, width: int, height: int, fps: float) -> float | None:
    """The file's average bitrate spread over every pixel of every frame: a compression measure
    that does not depend on resolution or length."""
    if duration_s <= 0 or width <= 0 or height <= 0 or fps <= 0:
        return None
    return size_bytes * 8.0 / duration_s / (width * height * fps)


def median_face_side(sides: Sequence[float]) -> float | None:
    return float(np.median(sides)) if len(sides) else None


def assess(
    evidence: ClipEvidence,
    band: VerdictBand | None,
    input_range: InputRange | None,
    min_face_frames: int,
) -> tuple[Assessment, tuple[str, ...]]:
    """The verdict a journalist can stand behind, and why it is that one."""
    if evidence.probability is None:
        return Assessment.NO_FACE, ("No face was found in the sampled frames, so there is nothing to judge.",)
    reasons = out_of_range_reasons(evidence, input_range, min_face_frames)
    if band is None:
        reasons.append("This model has no fitted verdict band, so its probability cannot be turned into a verdict.")
        return Assessment.INCONCLUSIVE, tuple(reasons)
    in_band = band.classify(evidence.probability)
    if reasons:
        return Assessment.INCONCLUSIVE, tuple(reasons)
    return in_band, (band_reason(evidence.probability, band, in_band),)


def out_of_range_reasons(evidence: ClipEvidence, input_range: InputRange | None, min_face_frames: int) -> list[str]:
    """Why this clip is too far from the training data for a verdict (empty when it is not)."""
    reasons = []
    if evidence.face_frames < min_face_frames:
        reasons.append(
            f"A face was found in only {evidence.face_frames} sampled frames; a verdict needs at least "
            f"{min_face_frames}."
        )
    if input_range is None:
        return reasons
    side, floor = evidence.face_side_px, input_range.min_face_side_px
    if side is not None and floor is not None and side < floor:
        reasons.append(
            f"The face is smaller ({side:.0f} px) than any the model was trained on (at least {floor:.0f} px)."
        )
    low, high = input_range.min_height_px, input_range.max_height_px
    if low is not None and evidence.height_px < low:
        reasons.append(f"The resolution ({evidence.height_px} px high) is below the training range ({low} px).")
    if high is not None and evidence.height_px > high:
        reasons.append(f"The resolution ({evidence.height_px} px high) is above the training range ({high} px).")
    bpp = evidence.bits_per_pixel
    low_bpp, high_bpp = input_range.min_bits_per_pixel, input_range.max_bits_per_pixel
    if bpp is not None and low_bpp is not None and bpp < low_bpp:
        reasons.append(
            f"The file is more compressed ({bpp:.3g} bits per pixel) than any training clip ({low_bpp:.3g})."
        )
    if bpp is not None and high_bpp is not None and bpp > high_bpp:
        reasons.append(
            f"The file is less compressed ({bpp:.3g} bits per pixel) than any training clip ({high_bpp:.3g})."
        )
    return reasons


def band_reason(probability: float, band: VerdictBand, assessment: Assessment) -> str:
    rate = band.measured.get(
        "signs_right_rate" if assessment == Assessment.SIGNS_OF_MANIPULATION else "no_signs_right_rate"
    )
    measured = ""
    if rate:
        measured = f" On clips the model had not seen, this verdict was right {100 * rate:.0f}% of the time."
    if assessment == Assessment.SIGNS_OF_MANIPULATION:
        return f"The probability {probability:.2f} is at or above the band's upper limit {band.upper:.2f}.{measured}"
    if assessment == Assessment.NO_SIGNS_FOUND:
        return f"The probability {probability:.2f} is at or below the band's lower limit {band.lower:.2f}.{measured}"
    return (
        f"The probability {probability:.2f} lies inside the band ({_limit(band.lower)} to {_limit(band.upper)}) "
        f"where, on clips the model had not seen, neither verdict was right at least "
        f"{100 * band.target_rate:.0f}% of the time."
    )


def _limit(value: float | None) -> str:
    return "none" if value is None else f"{value:.2f}"


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def fit_band(
    labels: Sequence[int],
    probabilities: Sequence[float],
    target_rate: float = DEFAULT_TARGET_RATE,
    min_clips: int = DEFAULT_MIN_CLIPS,
) -> VerdictBand:
    """The widest outer verdicts that were each right at least `target_rate` of the time.

    The upper limit is the lowest observed probability u such that, of the clips at or above u
    (at least `min_clips` of them), at least `target_rate` are fake; the lower limit, mirrored, the
    highest l such that of the clips at or below l at least `target_rate` are real. When the two
    would overlap (a strong model), the overlap goes to the inconclusive verdict's neighbours by a
    cut halfway, so one probability never gets two verdicts.
    """
    y = np.asarray(labels, dtype=int)
    p = np.asarray(probabilities, dtype=float)
    if len(y) != len(p):
        raise ValueError("labels and probabilities differ in length")
    upper = _lowest_upper(y, p, target_rate, min_clips)
    lower = _highest_lower(y, p, target_rate, min_clips)
    if upper is not None and lower is not None and lower >= upper:
        middle = (lower + upper) / 2.0
        lower, upper = float(np.nextafter(middle, -np.inf)), middle
    band = VerdictBand(lower=lower, upper=upper, target_rate=target_rate)
    return VerdictBand(lower, upper, target_rate, measure_band(y, p, band))


def _lowest_upper(y: np.ndarray, p: np.ndarray, target: float, min_clips: int) -> float | None:
    for candidate in np.unique(p):  # ascending: the first that works is the widest verdict
        chosen = p >= candidate
        if chosen.sum() >= min_clips and y[chosen].mean() >= target:
            return float(candidate)
    return None


def _highest_lower(y: np.ndarray, p: np.ndarray, target: float, min_clips: int) -> float | None:
    for candidate in np.unique(p)[::-1]:
        chosen = p <= candidate
        if chosen.sum() >= min_clips and (1 - y[chosen]).mean() >= target:
            return float(candidate)
    return None


def measure_band(
    labels: Sequence[int] | np.ndarray, probabilities: Sequence[float] | np.ndarray, band: VerdictBand
) -> dict[str, Any]:
    """How often each outer verdict is right on these clips, and how many clips get each verdict."""
    y = np.asarray(labels, dtype=int)
    verdicts = [band.classify(float(q)) for q in probabilities]
    signs = np.array([v == Assessment.SIGNS_OF_MANIPULATION for v in verdicts], dtype=bool)
    none_found = np.array([v == Assessment.NO_SIGNS_FOUND for v in verdicts], dtype=bool)
    return {
        "clips": len(y),
        "fake_clips": int(y.sum()),
        "signs_clips": int(signs.sum()),
        "signs_right_rate": float(y[signs].mean()) if signs.any() else None,
        "no_signs_clips": int(none_found.sum()),
        "no_signs_right_rate": float((1 - y[none_found]).mean()) if none_found.any() else None,
        "inconclusive_clips": int(len(y) - signs.sum() - none_found.sum()),
    }


def clip_evidence(
    probability: float | None,
    face_sides: Sequence[float],
    *,
    size_bytes: int,
    duration_s: float,
    width: int,
    height: int,
    fps: float,
) -> ClipEvidence:
    """The evidence of one clip (or one person in it) from its face boxes' sides and its file."""
    return ClipEvidence(
        probability=probability,
        face_frames=len(face_sides),
        face_side_px=median_face_side(face_sides),
        height_px=height,
        bits_per_pixel=bits_per_pixel(size_bytes, duration_s, width, height, fps),
    )


def training_range(evidence: Sequence[ClipEvidence]) -> InputRange:
    """The range of the training clips' faces, resolutions and compression."""
    sides = [e.face_side_px for e in evidence if e.face_side_px is not None]
    heights = [e.height_px for e in evidence if e.height_px > 0]
    rates = [e.bits_per_pixel for e in evidence if e.bits_per_pixel is not None]
    return InputRange(
        min_face_side_px=round(min(sides), 1) if sides else None,
        min_height_px=min(heights) if heights else None,
        max_height_px=max(heights) if heights else None,
        min_bits_per_pixel=round(min(rates), 5) if rates else None,
        max_bits_per_pixel=round(max(rates), 5) if rates else None,
    )
