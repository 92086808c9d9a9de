"""The input-quality panel: what the clip gives the model to work with, and when to distrust it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dashboard.settings import QualityThresholds
from dashboard.wording import file_size
from pipeline.results import VideoResult


@dataclass(frozen=True)
class QualityReport:
    resolution: str
    duration_s: float
    fps: float
    frames_sampled: int
    frames_with_face: int
    median_face_px: float | None  # face box height
    median_face_fraction: float | None  # face height / frame height
    bits_per_pixel: float | None  # compressed bits per pixel per frame: lower means heavier compression
    codec: str
    size_bytes: int
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def face_share(self) -> float:
        return self.frames_with_face / self.frames_sampled if self.frames_sampled else 0.0

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) pairs for a table, in the order a reviewer reads them."""
        face_size = (
            "—"
            if self.median_face_px is None
            else f"{self.median_face_px:.0f} px ({100 * (self.median_face_fraction or 0):.0f}% of frame height)"
        )
        return [
            ("Resolution", self.resolution),
            ("Duration", f"{self.duration_s:.1f} s"),
            ("Frame rate", f"{self.fps:.2f} fps"),
            ("Frames with a face", f"{self.frames_with_face} of {self.frames_sampled} sampled"),
            ("Median face size", face_size),
            ("Compression", "—" if self.bits_per_pixel is None else f"{self.bits_per_pixel:.3f} bits per pixel"),
            ("Codec, file size", f"{self.codec}, {file_size(self.size_bytes)}"),
        ]

    def to_json_dict(self) -> dict[str, object]:
        return {
            "resolution": self.resolution,
            "duration_s": round(self.duration_s, 3),
            "fps": round(self.fps, 3),
            "frames_sampled": self.frames_sampled,
            "frames_with_face": self.frames_with_face,
            "median_face_px": None if self.median_face_px is None else round(self.median_face_px, 1),
            "median_face_fraction": None if self.median_face_fraction is None else round(self.median_face_fraction, 4),
            "bits_per_pixel": None if self.bits_per_pixel is None else round(self.bits_per_pixel, 5),
            "warnings": list(self.warnings),
        }


def assess_quality(result: VideoResult, thresholds: QualityThresholds) -> QualityReport:
    """Measure the clip and list the reasons the verdict may be weaker than usual."""
    video = result.video
    heights = [f.face_box.h for f in result.frames if f.face_box is not None]
    face_px = float(np.median(heights)) if heights else None
    face_fraction = face_px / video.height if face_px is not None and video.height else None
    pixels_per_s = video.width * video.height * video.fps
    bpp = video.size_bytes * 8 / (pixels_per_s * video.duration_s) if pixels_per_s and video.duration_s > 0 else None
    sampled = len(result.frames)
    with_face = result.face_frames

    warnings = []
    if min(video.width, video.height) < thresholds.min_short_side_px:
        warnings.append(
            f"Low resolution ({video.width}x{video.height}): below {thresholds.min_short_side_px}p the "
            "traces of face manipulation are often lost."
        )
    if bpp is not None and bpp < thresholds.min_bits_per_pixel:
        warnings.append(
            f"Heavy compression ({bpp:.3f} bits per pixel): re-encoded or messaging-app copies lose detail "
            "the model relies on. Ask for the original file."
        )
    if sampled and with_face / sampled < thresholds.min_face_fraction:
        warnings.append(
            f"Few faces: only {with_face} of {sampled} sampled frames show a face, so the verdict rests on "
            "little evidence."
        )
    if face_px is not None and face_px < thresholds.min_face_px:
        warnings.append(
            f"Small faces (median {face_px:.0f} px high): faces under {thresholds.min_face_px} px carry little detail."
        )
    return QualityReport(
        resolution=video.resolution,
        duration_s=video.duration_s,
        fps=video.fps,
        frames_sampled=sampled,
        frames_with_face=with_face,
        median_face_px=face_px,
        median_face_fraction=face_fraction,
        bits_per_pixel=bpp,
        codec=video.codec,
        size_bytes=video.size_bytes,
        warnings=tuple(warnings),
    )
