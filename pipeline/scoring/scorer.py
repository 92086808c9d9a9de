"""From a video file to an assessment with per-person, per-frame evidence: `score_video(path, settings)`.

Loading the model is separate (`Scorer.load`), so a server or a CLI call over many
clips loads it once. Nothing here knows about Streamlit; progress is reported
through a plain callback.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pipeline.assessment import ClipEvidence, assess, clip_evidence
from pipeline.faces.base import FaceDetector
from pipeline.faces.registry import create_detector
from pipeline.faces.types import Box
from pipeline.hashing import file_sha256
from pipeline.keyframes import Keyframe, extract_keyframes
from pipeline.model.loader import load_scoring_model
from pipeline.model.output import ScoringModel
from pipeline.provenance import read_provenance
from pipeline.results import FrameRecord, PersonResult, StageTimings, Verdict, VideoResult, most_suspicious
from pipeline.scoring.extraction import FaceExtraction, ProgressCallback, extract_faces, no_progress
from pipeline.settings import Settings
from pipeline.signals.cnn_lstm import CnnLstmSignal
from pipeline.signals.contract import ClipInput, SignalResult
from pipeline.signals.fusion import FusionWeights, fuse
from pipeline.video import probe_video


class Scorer:
    """A loaded model and face detector, ready to score many clips."""

    def __init__(self, settings: Settings, model: ScoringModel, detector: FaceDetector):
        self.settings = settings
        self.model = model
        self.detector = detector
        self.cnn_lstm = CnnLstmSignal(model, settings.signal_window_s)
        # One signal today: the fused probability is the CNN-LSTM's own.
        self.fusion = FusionWeights.single(self.cnn_lstm.name)

    @classmethod
    def load(cls, settings: Settings | None = None) -> Scorer:
        settings = settings or Settings()
        model = load_scoring_model(settings.model_path, settings)
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
        result = self.judge(path, sha256, faces, started=started, on_progress=on_progress)
        return self.add_evidence(path, result)

    def add_evidence(self, path: Path, result: VideoResult) -> VideoResult:
        """Provenance and keyframes: they need the file itself, so they are read while it is here."""
        provenance = read_provenance(path) if self.settings.provenance else None
        keyframes: tuple[Keyframe, ...] = ()
        if self.settings.keyframes:
            attended = sorted((f for f in result.frames if f.has_face), key=lambda f: -f.attention)
            keyframes = tuple(
                extract_keyframes(
                    result.video,
                    sample_fps=self.settings.keyframe_fps,
                    max_samples=self.settings.keyframe_max_samples,
                    shot_threshold=self.settings.shot_threshold,
                    attention_frames=[(f.index, f.attention) for f in attended[: self.settings.attention_keyframes]],
                )
            )
        return replace(result, provenance=provenance, keyframes=keyframes)

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
        tracks = [(faces.boxes, faces.crops), *((p.boxes, p.crops) for p in faces.others)]
        people = [
            self._person(number, faces, boxes, crops)
            for number, (boxes, crops) in enumerate(tracks, start=1)
            if number == 1 or any(box is not None for box in boxes)
        ]
        model_s = time.perf_counter() - model_started
        on_progress("model", 1.0)
        main, main_signal = people[0]
        probability, raw = main.probability_fake, main.raw_probability_fake
        if probability is None:
            verdict = Verdict.NO_FACE
        else:
            verdict = Verdict.FAKE if probability >= self.threshold else Verdict.REAL
        with_faces = tuple(p for p, _ in people if p.probability_fake is not None)
        chosen = most_suspicious(with_faces)
        if chosen is None:
            assessment, reasons = main.assessment, main.reasons
        elif len(with_faces) > 1:
            assessment = chosen.assessment
            reasons = (f"The most suspicious of {len(with_faces)} people is person {chosen.id}.", *chosen.reasons)
        else:
            assessment, reasons = chosen.assessment, chosen.reasons
        frames = main.records
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
            signals=(main_signal,),
            assessment=assessment,
            assessment_reasons=tuple(reasons),
            band=self.model.info.verdict_band,
            people=with_faces,
            analysed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )

    def _person(
        self, number: int, faces: FaceExtraction, boxes: tuple[Box | None, ...], crops: np.ndarray
    ) -> tuple[PersonResult, SignalResult]:
        """Score one person's track with the signals, and assess it against the band and the training range."""
        signal, output = self.cnn_lstm.run(clip_input(faces, boxes, crops))
        probability = fuse([signal], self.fusion)
        raw = output.video_probability if output is not None else None
        records = []
        crop_iter = iter(crops)
        for t, (index, time_s, box) in enumerate(zip(faces.indices, faces.times_s, boxes, strict=True)):
            judged = output if box is not None else None
            records.append(
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
        assessment, reasons = assess(
            self.evidence(faces, boxes, probability),
            self.model.info.verdict_band,
            self.model.info.input_range,
            self.settings.min_face_frames,
        )
        return PersonResult(number, tuple(records), probability, assessment, reasons, raw), signal

    @staticmethod
    def evidence(faces: FaceExtraction, boxes: tuple[Box | None, ...], probability: float | None) -> ClipEvidence:
        """What the assessment weighs for one person: the probability, their face sizes and the file."""
        info = faces.info
        return clip_evidence(
            probability,
            [max(b.w, b.h) for b in boxes if b is not None],
            size_bytes=info.size_bytes,
            duration_s=info.duration_s,
            width=info.width,
            height=info.height,
            fps=info.fps,
        )


def clip_input(
    faces: FaceExtraction, boxes: tuple[Box | None, ...] | None = None, crops: np.ndarray | None = None
) -> ClipInput:
    """The signals' view of an extracted clip, following the main face or the given person's track
    (no audio is decoded yet: no signal reads it)."""
    return ClipInput(
        times_s=faces.times_s,
        boxes=faces.boxes if boxes is None else boxes,
        crops=faces.crops if crops is None else crops,
        fps=faces.info.fps,
        duration_s=faces.info.duration_s,
    )


def score_video(path: str | Path, settings: Settings | None = None, scorer: Scorer | None = None) -> VideoResult:
    """Score one clip; pass a `Scorer` to reuse a loaded model across calls."""
    scorer = scorer or Scorer.load(settings)
    return scorer.score(path)
