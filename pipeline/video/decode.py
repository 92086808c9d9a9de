"""Open a clip, read its format, and decode a sample of its frames.

Frames are decoded sequentially (grab, and retrieve only the ones we keep):
seeking is slow and inexact on long-GOP codecs such as H.264.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from pipeline.errors import (
    EmptyVideoError,
    FileTooLargeError,
    NotAFileError,
    ResolutionTooLargeError,
    UnreadableVideoError,
)
from pipeline.settings import Settings

FALLBACK_FPS = 25.0


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the container says about a clip."""

    path: str
    size_bytes: int
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    codec: str

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True, slots=True)
class SampledFrame:
    """One decoded frame: its index in the stream, its time and RGB pixels."""

    index: int
    time_s: float
    rgb: np.ndarray


def _fourcc_to_text(value: float) -> str:
    code = int(value)
    chars = [chr((code >> (8 * i)) & 0xFF) for i in range(4)]
    text = "".join(chars).strip("\x00 ")
    return text if text.isprintable() and text else "unknown"


def _open_capture(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise UnreadableVideoError(f"{path}: not a readable video (unknown format or codec)")
    return capture


def probe_video(path: str | os.PathLike[str], settings: Settings | None = None) -> VideoInfo:
    """Read the clip's format and refuse files we cannot or should not decode."""
    settings = settings or Settings()
    path = Path(path)
    if not path.exists():
        raise NotAFileError(f"{path}: no such file")
    if not path.is_file():
        raise NotAFileError(f"{path}: is a directory, not a video file")
    size = path.stat().st_size
    if size == 0:
        raise EmptyVideoError(f"{path}: empty file (0 bytes)")
    if size > settings.max_file_bytes:
        raise FileTooLargeError(
            f"{path}: file is {size / 1024**2:.0f} MB, over the {settings.max_file_bytes / 1024**2:.0f} MB limit"
        )
    capture = _open_capture(path)
    try:
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        frame_count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        codec = _fourcc_to_text(capture.get(cv2.CAP_PROP_FOURCC))
    finally:
        capture.release()
    if width <= 0 or height <= 0:
        raise UnreadableVideoError(f"{path}: no video stream found")
    if width * height > settings.max_frame_pixels:
        raise ResolutionTooLargeError(
            f"{path}: resolution {width}x{height} is over the limit of "
            f"{settings.max_frame_pixels / 1e6:.1f} megapixels per frame"
        )
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        fps = FALLBACK_FPS
    frame_count = max(frame_count, 0)
    duration = frame_count / fps
    if duration > settings.max_duration_s:
        raise FileTooLargeError(
            f"{path}: clip is {duration / 60:.0f} min long, over the {settings.max_duration_s / 60:.0f} min limit"
        )
    return VideoInfo(
        path=str(path),
        size_bytes=size,
        width=width,
        height=height,
        fps=fps,
        frame_count=frame_count,
        duration_s=duration,
        codec=codec,
    )


def sample_indices(
    frame_count: int,
    frames: int,
    *,
    fps: float | None = None,
    sample_fps: float | None = None,
    max_frames: int = 256,
) -> list[int]:
    """Frame indices to decode: `frames` evenly spread, or one every 1/sample_fps s.

    Even spreading includes the first and the last frame, so the whole clip is seen.
    """
    if frame_count <= 0 or frames <= 0:
        return []
    if sample_fps is not None:
        if sample_fps <= 0 or not fps:
            raise ValueError("sample_fps and fps must both be positive")
        step = fps / sample_fps
        picks = np.rint(np.arange(0.0, frame_count, max(step, 1.0))).astype(int)
        return sorted({int(i) for i in picks if i < frame_count})[:max_frames]
    if frame_count <= frames:
        return list(range(frame_count))
    picks = np.rint(np.linspace(0, frame_count - 1, frames)).astype(int)
    return sorted({int(i) for i in picks})


def sampled_indices(info: VideoInfo, settings: Settings) -> list[int]:
    """The frame indices `settings` sample from the clip described by `info`."""
    return sample_indices(
        info.frame_count,
        settings.frames,
        fps=info.fps,
        sample_fps=settings.sample_fps,
        max_frames=settings.max_sampled_frames,
    )


def iter_frames(path: str | os.PathLike[str], indices: Sequence[int], fps: float) -> Iterator[SampledFrame]:
    """Decode the clip front to back and yield the frames at `indices` (sorted, unique).

    Stops at the last wanted index, or earlier when the stream ends (a truncated file).
    """
    wanted = sorted(set(indices))
    if not wanted:
        return
    capture = _open_capture(Path(path))
    try:
        position = 0
        for target in wanted:
            while position < target:
                if not capture.grab():
                    return
                position += 1
            if not capture.grab():
                return
            ok, bgr = capture.retrieve()
            position += 1
            if not ok or bgr is None:
                return
            yield SampledFrame(index=target, time_s=target / fps, rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()


def count_decodable_frames(path: str | os.PathLike[str]) -> int:
    """Grab every frame to count them; used only when the header's count proved wrong."""
    capture = _open_capture(Path(path))
    try:
        count = 0
        while capture.grab():
            count += 1
        return count
    finally:
        capture.release()


def read_sampled_frames(info: VideoInfo, settings: Settings) -> tuple[VideoInfo, list[SampledFrame]]:
    """Decode the frames the settings ask for; recount once if the header lied.

    Container headers (webm, truncated mp4) often misstate the frame count. If the stream
    ends before the last sampled index, the real count is measured and the sample redone,
    so the frames still span the whole clip; the returned info carries the true count.
    """
    indices = sampled_indices(info, settings)
    frames = list(iter_frames(info.path, indices, info.fps)) if indices else []
    if len(frames) < len(indices) or not indices:
        actual = count_decodable_frames(info.path)
        if actual == 0:
            raise EmptyVideoError(
                f"{info.path}: no decodable frames (truncated file or unsupported codec '{info.codec}')"
            )
        indices = sample_indices(
            actual,
            settings.frames,
            fps=info.fps,
            sample_fps=settings.sample_fps,
            max_frames=settings.max_sampled_frames,
        )
        frames = list(iter_frames(info.path, indices, info.fps))
        info = replace(info, frame_count=actual, duration_s=actual / info.fps)
    if not frames:
        raise EmptyVideoError(f"{info.path}: no decodable frames (codec '{info.codec}')")
    return info, frames


class BackgroundDecoder:
    """Decode frames on a worker thread while the caller works on the previous ones.

    FFmpeg decoding and OpenCV/TensorFlow work all release the GIL, so on two cores
    decoding overlaps face detection. `busy_s` is the decoder's own working time.
    """

    _END = object()

    def __init__(self, frames: Iterator[SampledFrame], depth: int = 4):
        self.busy_s = 0.0
        self._frames = frames
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="frame-decoder", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.perf_counter()
                frame = next(self._frames, None)
                self.busy_s += time.perf_counter() - started
                if frame is None:
                    break
                if not self._put(frame):
                    return
        except BaseException as error:  # handed to the consumer, raised there
            self._put(error)
            return
        finally:
            close = getattr(self._frames, "close", None)
            if close is not None:
                close()
        self._put(self._END)

    def __iter__(self) -> Iterator[SampledFrame]:
        try:
            while True:
                item = self._queue.get()
                if item is self._END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
