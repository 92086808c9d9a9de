"""Re-encode clips with H.264 (PyAV's bundled libx264): robustness copies and test clips.

The evaluation scores val again after low-bitrate re-encoding, 360p downscaling,
face-centred normalisation (one square size, one quality), so a model that reads
the format instead of the face shows up as a drop, and as a wide shot (the face a
tenth of a 720p frame's height), so the cost of small faces is measured too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from pipeline.faces.types import Box
from pipeline.video import iter_frames, probe_video, sample_indices

NORMALISED_SIZE = 256
NORMALISED_CRF = 26
NORMALISED_FPS = 25.0
NORMALISED_FACE_SCALE = 2.2  # the square is this many times the median face size
WIDE_SHOT_SIZE = (1280, 720)  # width, height
WIDE_SHOT_FACE_SHARE = 0.10  # the median face's height as a share of the frame height
WIDE_SHOT_BACKGROUND = 90  # the flat grey around the shrunk picture


@dataclass(frozen=True)
class Encoding:
    """How to write a clip: a constant bitrate or a quality (CRF), and an optional size cap."""

    bitrate: int | None = None
    crf: int | None = 23
    max_height: int | None = None


def write_h264(path: Path, frames: Iterable[np.ndarray], fps: float, encoding: Encoding = Encoding()) -> Path:
    """Write RGB frames as an H.264 .mp4, resizing to `max_height` (even dimensions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(path), mode="w")
    stream = None
    try:
        for rgb in frames:
            height, width = rgb.shape[:2]
            if encoding.max_height and height > encoding.max_height:
                width = round(width * encoding.max_height / height)
                height = encoding.max_height
            width, height = width - width % 2, height - height % 2
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                if encoding.bitrate:
                    stream.bit_rate = encoding.bitrate
                    stream.options = {"preset": "veryfast"}
                else:
                    stream.options = {"crf": str(encoding.crf), "preset": "veryfast"}
            if rgb.shape[:2] != (height, width):
                rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    finally:
        container.close()
    return path


def _all_frames(path: Path) -> tuple[float, Iterable[np.ndarray]]:
    info = probe_video(path)
    indices = sample_indices(info.frame_count, info.frame_count)
    return info.fps, (frame.rgb for frame in iter_frames(path, indices, info.fps))


def reencode(src: Path, dst: Path, encoding: Encoding) -> Path:
    fps, frames = _all_frames(src)
    return write_h264(dst, frames, fps, encoding)


def normalise_around_face(src: Path, dst: Path, face: Box) -> Path:
    """Crop a fixed square around the face, resize to one size, write at one quality and rate."""
    from pipeline.faces.track import crop_face

    fps, frames = _all_frames(src)
    step = max(fps / NORMALISED_FPS, 1.0)
    margin = NORMALISED_FACE_SCALE - 1.0
    picked = (
        crop_face(rgb, face, size=NORMALISED_SIZE, margin=margin)
        for i, rgb in enumerate(frames)
        if int(i / step) != int((i - 1) / step) or i == 0
    )
    return write_h264(dst, picked, min(fps, NORMALISED_FPS), Encoding(crf=NORMALISED_CRF))


def picture_in_picture(rgb: np.ndarray, scale: float, canvas_hw: tuple[int, int]) -> tuple[np.ndarray, int, int]:
    """`rgb` resized by `scale` and centred on a flat grey canvas; returns (canvas, x offset, y offset)."""
    height, width = rgb.shape[:2]
    size = (max(round(width * scale), 1), max(round(height * scale), 1))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.full((*canvas_hw, 3), WIDE_SHOT_BACKGROUND, np.uint8)
    x0, y0 = (canvas_hw[1] - size[0]) // 2, (canvas_hw[0] - size[1]) // 2
    canvas[y0 : y0 + size[1], x0 : x0 + size[0]] = small
    return canvas, x0, y0


def wide_shot(src: Path, dst: Path, face: Box) -> Path:
    """The clip shrunk so its face is WIDE_SHOT_FACE_SHARE of a 720p frame's height, centred on grey.

    Never enlarged: a clip whose face is already that small keeps its own pixels.
    """
    info = probe_video(src)
    width, height = WIDE_SHOT_SIZE
    scale = min(WIDE_SHOT_FACE_SHARE * height / max(face.h, 1.0), height / info.height, width / info.width, 1.0)
    fps, frames = _all_frames(src)
    return write_h264(dst, (picture_in_picture(rgb, scale, (height, width))[0] for rgb in frames), fps)


ROBUSTNESS_VARIANTS: dict[str, Encoding] = {
    "low_bitrate_150k": Encoding(bitrate=150_000, crf=None),
    "downscaled_360p": Encoding(crf=23, max_height=360),
}
# Copies that need the clip's median face box.
FACE_VARIANTS: dict[str, Callable[[Path, Path, Box], Path]] = {
    "normalised_256px_crf26": normalise_around_face,
    "wide_shot_720p_face10": wide_shot,
}


def median_box(boxes: Iterable[Box | None]) -> Box | None:
    """The median face box of a track: a stable crop for the normalised copy."""
    found = [b for b in boxes if b is not None]
    if not found:
        return None
    values = np.median(np.array([[b.x, b.y, b.w, b.h] for b in found]), axis=0)
    return Box(*map(float, values))
