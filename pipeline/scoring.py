"""From a video file to a verdict with per-frame evidence: `score_video(path, settings)`.

Loading the model is separate (`Scorer.load`), so a server or a CLI call over many
clips loads it once. Nothing here knows about Streamlit; progress is reported
through a plain callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.calibration import calibrate
from pipeline.faces.detectors import FaceDetector, create_detector
from pipeline.faces.track import crop_face, select_main_track, to_model_input
from pipeline.faces.types import Box
from pipeline.model.detector import LoadedModel, file_sha256, load_detector
from pipeline.results import FrameRecord, StageTimings, Verdict, VideoResult
from pipeline.settings import Settings
from pipeline.video import (
    BackgroundDecoder,
    SampledFrame,
    VideoInfo,
    iter_frames,
    probe_video,
    read_sampled_frames,
    sample_indices,
)

# Candidate faces kept per frame before the tracker picks the main one.
MAX_CANDIDATES_PER_FRAME = 4
# Every this many sampled frames, detection scans the whole frame instead of near the last face.
FULL_FRAME_SCAN_EVERY = 8

ProgressCallback = Callable[[str, float], None]
STAGES = ("decoding", "faces", "model")


@dataclass(frozen=True)
class FaceExtraction:
    """Decoded and tracked faces of one clip: the part of scoring that training caches."""

    info: VideoInfo
    indices: tuple[int, ...]
    times_s: tuple[float, ...]
    boxes: tuple[Box | None, ...]
    crops: np.ndarray  # (faces, S, S, 3) uint8, one per frame with a box, in frame order
    decode_s: float
    detect_s: float

    @property
    def mask(self) -> np.ndarray:
        return np.array([box is not None for box in self.boxes], dtype=np.float32)


def _noop(stage: str, fraction: float) -> None:
    del stage, fraction


def extract_faces(
    path: str | Path,
    settings: Settings,
    detector: FaceDetector,
    on_progress: ProgressCallback = _noop,
    info: VideoInfo | None = None,
) -> FaceExtraction:
    """Decode the sampled frames, detect faces as they arrive, follow the main face, crop it.

    Decoding runs on a background thread, overlapping detection. Full frames are dropped
    as soon as their candidate faces are cut out, so memory stays flat even for long 4K clips.
    """
    info = info or probe_video(path, settings)
    indices = sample_indices(
        info.frame_count,
        settings.frames,
        fps=info.fps,
        sample_fps=settings.sample_fps,
        max_frames=settings.max_sampled_frames,
    )
    decode_s = detect_s = 0.0
    candidates: list[list[Box]] = []
    candidate_crops: list[list[np.ndarray]] = []
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
            detect_s += time.perf_counter() - started
            candidates.append(boxes)
            candidate_crops.append(crops)
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
        candidates.clear()
        candidate_crops.clear()
        kept_indices.clear()
        indices = [f.index for f in frames]
        run(frames)

    chosen = select_main_track(candidates)
    crops = [candidate_crops[i][candidates[i].index(box)] for i, box in enumerate(chosen) if box is not None]
    size = settings.crop_size
    return FaceExtraction(
        info=info,
        indices=tuple(kept_indices),
        times_s=tuple(i / info.fps for i in kept_indices),
        boxes=tuple(chosen),
        crops=np.stack(crops) if crops else np.zeros((0, size, size, 3), dtype=np.uint8),
        decode_s=decode_s,
        detect_s=detect_s,
    )


class Scorer:
    """A loaded model and face detector, ready to score many clips."""

    def __init__(self, settings: Settings, model: LoadedModel, detector: FaceDetector):
        self.settings = settings
        self.model = model
        self.detector = detector

    @classmethod
    def load(cls, settings: Settings | None = None) -> Scorer:
        settings = settings or Settings()
        model = load_detector(settings.model_path, settings)
        if model.input_size != settings.crop_size:
            settings = settings.with_overrides(crop_size=model.input_size)
        if settings.attention_temperature is not None:
            model.set_attention_temperature(settings.attention_temperature)
        # Record the effective values, so every result says what produced it.
        settings = settings.with_overrides(attention_temperature=model.attention_temperature)
        detector = create_detector(
            settings.detector, max_side=settings.detector_max_side, min_face_fraction=settings.min_face_fraction
        )
        scorer = cls(settings, model, detector)
        scorer.warm_up()
        return scorer

    def warm_up(self) -> None:
        """One tiny forward pass, so the first real clip does not pay for graph set-up."""
        size = self.model.input_size
        self.model.predict(np.zeros((1, size, size, 3), dtype=np.float32), np.ones(1, dtype=np.float32))

    @property
    def threshold(self) -> float:
        return self.settings.threshold if self.settings.threshold is not None else self.model.info.threshold

    def score(self, path: str | Path, on_progress: ProgressCallback = _noop) -> VideoResult:
        started = time.perf_counter()
        path = Path(path)
        info = probe_video(path, self.settings)
        sha256 = file_sha256(path)
        faces = extract_faces(path, self.settings, self.detector, on_progress, info=info)
        return self.judge(path, sha256, faces, started=started, on_progress=on_progress)

    def judge(
        self,
        path: str | Path,
        sha256: str,
        faces: FaceExtraction,
        started: float | None = None,
        on_progress: ProgressCallback = _noop,
    ) -> VideoResult:
        """Run the model on extracted faces (fresh or from the crop cache) and build the result."""
        started = time.perf_counter() if started is None else started
        on_progress("model", 0.0)
        model_started = time.perf_counter()
        mask = faces.mask
        if mask.sum() > 0:
            output = self.model.predict(to_model_input(faces.crops), mask)
            raw = output.video_probability
            probability: float | None = calibrate(
                raw, self.model.info.calibration_temperature, self.model.info.calibration_bias
            )
            verdict = Verdict.FAKE if probability >= self.threshold else Verdict.REAL
        else:
            output, raw, probability, verdict = None, None, None, Verdict.NO_FACE
        model_s = time.perf_counter() - model_started
        on_progress("model", 1.0)
        frames = []
        crop_iter = iter(faces.crops)
        for t, (index, time_s, box) in enumerate(zip(faces.indices, faces.times_s, faces.boxes, strict=True)):
            has_face = box is not None and output is not None
            frames.append(
                FrameRecord(
                    index=index,
                    time_s=time_s,
                    face_box=box,
                    crop=next(crop_iter) if box is not None else None,
                    p_fake=float(output.frame_probability[t]) if has_face else None,
                    certainty=float(output.certainty[t]) if has_face else None,
                    attention=float(output.attention[t]) if has_face else 0.0,
                )
            )
        return VideoResult(
            file=str(path),
            sha256=sha256,
            video=faces.info,
            frames=tuple(frames),
            probability_fake=probability,
            verdict=verdict,
            threshold=self.threshold,
            timings=StageTimings(
                decode=faces.decode_s, detect=faces.detect_s, model=model_s, total=time.perf_counter() - started
            ),
            model=self.model.info,
            settings=self.settings.to_dict(),
            raw_probability_fake=raw,
        )


def score_video(path: str | Path, settings: Settings | None = None, scorer: Scorer | None = None) -> VideoResult:
    """Score one clip; pass a `Scorer` to reuse a loaded model across calls."""
    scorer = scorer or Scorer.load(settings)
    return scorer.score(path)
