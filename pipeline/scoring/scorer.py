"""From a video file to a verdict with per-frame evidence: `score_video(path, settings)`.

Loading the model is separate (`Scorer.load`), so a server or a CLI call over many
clips loads it once. Nothing here knows about Streamlit; progress is reported
through a plain callback.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from pipeline.faces.base import FaceDetector
from pipeline.faces.registry import create_detector
from pipeline.hashing import file_sha256
from pipeline.model.runtime import LoadedModel
from pipeline.model.storage import load_detector
from pipeline.results import FrameRecord, StageTimings, Verdict, VideoResult
from pipeline.scoring.extraction import FaceExtraction, ProgressCallback, extract_faces, no_progress
from pipeline.settings import Settings
from pipeline.signals.cnn_lstm import CnnLstmSignal
from pipeline.signals.contract import ClipInput
from pipeline.signals.fusion import FusionWeights, fuse
from pipeline.video import probe_video


class Scorer:
    """A loaded model and face detector, ready to score many clips."""

    def __init__(self, settings: Settings, model: LoadedModel, detector: FaceDetector):
        self.settings = settings
        self.model = model
        self.detector = detector
        self.cnn_lstm = CnnLstmSignal(model, settings.signal_window_s)
        # One signal today: the fused probability is the CNN-LSTM's own.
        self.fusion = FusionWeights.single(self.cnn_lstm.name)

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

    def score(self, path: str | Path, on_progress: ProgressCallback = no_progress) -> VideoResult:
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
        on_progress: ProgressCallback = no_progress,
    ) -> VideoResult:
        """Run the model on extracted faces (fresh or from the crop cache) and build the result."""
        started = time.perf_counter() if started is None else started
        on_progress("model", 0.0)
        model_started = time.perf_counter()
        clip = clip_input(faces)
        signal, output = self.cnn_lstm.run(clip)
        probability = fuse([signal], self.fusion)
        raw = output.video_probability if output is not None else None
        if probability is None:
            verdict = Verdict.NO_FACE
        else:
            verdict = Verdict.FAKE if probability >= self.threshold else Verdict.REAL
        model_s = time.perf_counter() - model_started
        on_progress("model", 1.0)
        frames = []
        crop_iter = iter(faces.crops)
        for t, (index, time_s, box) in enumerate(zip(faces.indices, faces.times_s, faces.boxes, strict=True)):
            judged = output if box is not None else None
            frames.append(
                FrameRecord(
                    index=index,
                    time_s=time_s,
                    face_box=box,
                    crop=next(crop_iter) if box is not None else None,
                    p_fake=float(judged.frame_probability[t]) if judged else None,
                    certainty=float(judged.certainty[t]) if judged else None,
                    attention=float(judged.attention[t]) if judged else 0.0,
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
            settings=self.settings,
            raw_probability_fake=raw,
            signals=(signal,),
        )


def clip_input(faces: FaceExtraction) -> ClipInput:
    """The signals' view of an extracted clip (no audio is decoded yet: no signal reads it)."""
    return ClipInput(
        times_s=faces.times_s,
        boxes=faces.boxes,
        crops=faces.crops,
        fps=faces.info.fps,
        duration_s=faces.info.duration_s,
    )


def score_video(path: str | Path, settings: Settings | None = None, scorer: Scorer | None = None) -> VideoResult:
    """Score one clip; pass a `Scorer` to reuse a loaded model across calls."""
    scorer = scorer or Scorer.load(settings)
    return scorer.score(path)
