"""The server's one loaded model, shared by every session, and the analyses it runs.

Streamlit runs each browser session in its own thread. The Keras model and OpenCV's cascade
detector are not documented as thread-safe, and the Attention lab changes the model's attention
temperature for a moment, so every use of the model goes through one lock. On a small CPU server
a second analysis would only slow the first one down anyway.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from dashboard.results_store import ResultStore, result_key, with_display_name
from pipeline.errors import PipelineError
from pipeline.faces.base import FaceDetector
from pipeline.faces.registry import create_detector
from pipeline.faces.track import to_model_input
from pipeline.fetch import FetchError, fetch_video
from pipeline.model.output import ModelOutput
from pipeline.results import VideoResult
from pipeline.scoring.extraction import ProgressCallback
from pipeline.scoring.scorer import Scorer
from pipeline.settings import Settings

FEATURE_CACHE_SIZE = 8
SAFE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- ")


class AnalysisError(Exception):
    """A clip could not be analysed; the message is one line a user can act on."""


@dataclass(frozen=True)
class Analysed:
    """A result, its cache key, and whether it came from the cache."""

    result: VideoResult
    key: str
    reused: bool


def safe_file_name(name: str) -> str:
    """The uploaded name without any path or odd characters (it lands in a temp folder and in reports)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = "".join(c if c in SAFE_NAME_CHARS else "_" for c in base).strip(" .")
    return cleaned[:120] or "upload"


def _noop(stage: str, fraction: float) -> None:
    del stage, fraction


class Engine:
    """A loaded `Scorer` plus the lock, the extra face detectors and the lab's feature cache."""

    def __init__(self, scorer: Scorer):
        self.scorer = scorer
        self._lock = threading.Lock()
        self._detectors: dict[str, FaceDetector] = {scorer.settings.detector: scorer.detector}
        self._features: OrderedDict[str, np.ndarray] = OrderedDict()
        self.model_temperature = scorer.model.attention_temperature
        self.certainty_measure = scorer.model.certainty_measure

    @property
    def settings(self) -> Settings:
        return self.scorer.settings

    @property
    def model_sha256(self) -> str:
        return self.scorer.model.info.sha256

    def settings_for(self, frames: int | None = None, detector: str | None = None) -> Settings:
        """The server's settings with the user's choices; crop size always stays the model's."""
        return self.settings.with_overrides(frames=frames, detector=detector)

    def _detector(self, settings: Settings) -> FaceDetector:
        if settings.detector not in self._detectors:
            self._detectors[settings.detector] = create_detector(
                settings.detector, max_side=settings.detector_max_side, min_face_fraction=settings.min_face_fraction
            )
        return self._detectors[settings.detector]

    def analyse(
        self,
        data: bytes,
        name: str,
        settings: Settings,
        results: ResultStore,
        on_progress: ProgressCallback = _noop,
        work_dir: Path | None = None,
    ) -> Analysed:
        """Score uploaded bytes, or reuse the stored result for the same bytes and settings.

        Raises AnalysisError with a one-line message for anything wrong with the file.
        """
        name = safe_file_name(name)
        sha256 = hashlib.sha256(data).hexdigest()
        key = result_key(sha256, settings, self.model_sha256)
        cached = results.load(key)
        if cached is not None:
            return Analysed(with_display_name(cached, name), key, reused=True)
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=work_dir) as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            if not self._lock.acquire(blocking=False):
                on_progress("queued", 0.0)
                self._lock.acquire()
            try:
                scorer = Scorer(settings, self.scorer.model, self._detector(settings))
                result = scorer.score(path, on_progress=on_progress)
            except PipelineError as error:
                raise AnalysisError(str(error).replace(str(path), name)) from error
            except cv2.error as error:
                detail = error.err or "OpenCV error"
                raise AnalysisError(f"{name}: the video decoder failed on this file ({detail})") from error
            finally:
                self._lock.release()
        result = with_display_name(result, name)
        results.save(key, result)
        return Analysed(result, key, reused=False)

    def analyse_link(
        self,
        url: str,
        settings: Settings,
        results: ResultStore,
        *,
        max_bytes: int,
        max_duration_s: float,
        allow_loopback: bool = False,
        on_progress: ProgressCallback = _noop,
        work_dir: Path | None = None,
    ) -> Analysed:
        """Fetch the clip behind a link (within the caps, public addresses only) and analyse it;
        the link and the fetch time are recorded in the result."""
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(dir=work_dir) as folder:
            try:
                fetched = fetch_video(
                    url,
                    Path(folder),
                    max_bytes=max_bytes,
                    max_duration_s=max_duration_s,
                    allow_loopback=allow_loopback,
                )
            except FetchError as error:
                raise AnalysisError(str(error)) from error
            data = fetched.path.read_bytes()
            name = fetched.path.name
        analysed = self.analyse(data, name, settings, results, on_progress=on_progress, work_dir=work_dir)
        result = replace(analysed.result, source=fetched.source)
        results.save(analysed.key, result)
        return Analysed(result, analysed.key, analysed.reused)

    def can_rerun(self, result: VideoResult) -> bool:
        """Whether the loaded model is the one that produced `result` (else the lab's full model is not comparable)."""
        return result.model.sha256 == self.model_sha256

    def full_model(self, key: str, result: VideoResult, temperature: float) -> ModelOutput:
        """Re-run the network's head on the stored crops at another attention temperature.

        The backbone features do not depend on the temperature, so they are computed once per
        result and kept (a few per server); only the fast attention+LSTM head runs per slider move.
        The temperature is restored before the lock is released.
        """
        mask = np.array([frame.has_face for frame in result.frames], dtype=np.float32)
        model = self.scorer.model
        with self._lock:
            features = self._features.get(key)
            if features is None:
                crops = to_model_input(np.stack([f.crop for f in result.frames if f.crop is not None]))
                features = model.frame_features(crops, mask)
                self._features[key] = features
                while len(self._features) > FEATURE_CACHE_SIZE:
                    self._features.popitem(last=False)
            self._features.move_to_end(key)
            return model.predict_at_temperature(features, mask, temperature)


EngineFactory = Callable[[], Engine]


def load_engine(settings: Settings | None = None) -> Engine:
    """The default engine: the shipped model (or the untrained one) and the default detector."""
    return Engine(Scorer.load(settings or Settings()))


STAGE_SPANS = {"queued": (0.0, 0.0), "decoding": (0.0, 0.05), "faces": (0.05, 0.85), "model": (0.85, 1.0)}
STAGE_TEXT = {
    "queued": "Waiting for another analysis to finish…",
    "decoding": "Decoding the video…",
    "faces": "Finding faces",
    "model": "Running the model…",
}


def progress_text(stage: str, fraction: float) -> tuple[float, str]:
    """(overall 0..1, label) for a pipeline progress callback; the face stage shows its percentage."""
    start, end = STAGE_SPANS.get(stage, (0.0, 1.0))
    fraction = min(max(fraction, 0.0), 1.0)
    text = STAGE_TEXT.get(stage, stage)
    if stage == "faces":
        text = f"{text}: {100 * fraction:.0f}% of the sampled frames"
    return start + (end - start) * fraction, text
