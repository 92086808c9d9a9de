"""The classic detectors: OpenCV's Haar cascade (the paper's), MTCNN and dlib (heavier references)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import cv2
import numpy as np

from pipeline.faces.base import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_FACE_FRACTION,
    DetectorUnavailableError,
    FaceDetector,
    _importable,
    _module_dir,
    _require,
    register_detector,
)
from pipeline.faces.types import Box

# ---------------------------------------------------------------------------
# Haar cascade (OpenCV): the paper's detector, always available.
# ---------------------------------------------------------------------------

HAAR_CASCADE = "haarcascade_frontalface_default.xml"


@register_detector("haar")
class HaarDetector(FaceDetector):
    """OpenCV Viola-Jones frontal cascade on an equalised grey image.

    ``min_neighbors=5`` keeps background hits rare; ``scale_factor=1.1`` is the
    usual pyramid step. The score is the neighbour count (merged hits), which
    ranks the real face above stray hits.
    """

    name = "haar"

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        cascade_path: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(max_side=max_side, min_face_fraction=min_face_fraction)
        haar_dir = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        path = Path(cascade_path) if cascade_path else haar_dir / HAAR_CASCADE
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise DetectorUnavailableError(f"could not load the Haar cascade {path}")
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        small, scale = self._downscale(frame_rgb)
        grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        min_px = max(24, math.ceil(self._min_face_px(frame_rgb.shape) * scale))
        if min_px > min(grey.shape):
            return []
        rects, neighbours = self._cascade.detectMultiScale2(
            grey,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(min_px, min_px),
        )
        raw = [
            (float(x), float(y), float(w), float(h), float(n))
            for (x, y, w, h), n in zip(rects, np.ravel(neighbours), strict=True)
        ]
        return self._finish(raw, scale, frame_rgb.shape)


# ---------------------------------------------------------------------------
# BlazeFace (MediaPipe models), run by a TFLite interpreter or OpenCV's TFLite importer.
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# MTCNN (TensorFlow), dlib HOG and dlib CNN: heavier references.
# ---------------------------------------------------------------------------

MTCNN_PIP = "mtcnn==1.0.0"
DLIB_PIP = "dlib-bin==20.0.1.post1"
DLIB_MODELS_PIP = "face-recognition-models==0.3.0"


@register_detector("mtcnn", available=lambda: _importable(["mtcnn", "tensorflow", "lz4"]))
class MTCNNDetector(FaceDetector):
    """MTCNN (P/R/O-Net cascade); accurate on small and turned faces but slow."""

    name = "mtcnn"

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
        min_score: float = 0.9,
        device: str = "CPU:0",
    ) -> None:
        super().__init__(max_side=max_side, min_face_fraction=min_face_fraction)
        _require("tensorflow", "tensorflow-cpu", self.name)
        mtcnn = _require("mtcnn", MTCNN_PIP, self.name)
        self._mtcnn = mtcnn.MTCNN(device=device)
        self.min_score = float(min_score)

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        small, scale = self._downscale(frame_rgb)
        # mtcnn 1.0.0 sizes its pyramid for min_face_size=20 whatever is passed, so a
        # larger value drives the last levels below 12 px and it silently finds nothing;
        # keep the default and let _finish drop small faces.
        faces = self._mtcnn.detect_faces(small)
        raw = [
            (float(x), float(y), float(w), float(h), float(f["confidence"]))
            for f in faces
            for x, y, w, h in [f["box"][:4]]
            if float(f["confidence"]) >= self.min_score
        ]
        return self._finish(raw, scale, frame_rgb.shape)


@register_detector("dlib_hog", available=lambda: _importable(["dlib"]))
class DlibHogDetector(FaceDetector):
    """dlib's HOG + linear SVM frontal detector; finds faces >= ~80 px unless upsampled."""

    name = "dlib_hog"

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
        upsample: int = 0,
        adjust_threshold: float = 0.0,
    ) -> None:
        super().__init__(max_side=max_side, min_face_fraction=min_face_fraction)
        dlib = _require("dlib", DLIB_PIP, self.name)
        self._detector = dlib.get_frontal_face_detector()
        self.upsample = int(upsample)
        self.adjust_threshold = float(adjust_threshold)

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        small, scale = self._downscale(frame_rgb)
        rects, scores, _ = self._detector.run(small, self.upsample, self.adjust_threshold)
        raw = [
            (float(r.left()), float(r.top()), float(r.width()), float(r.height()), float(s))
            for r, s in zip(rects, scores, strict=True)
        ]
        return self._finish(raw, scale, frame_rgb.shape)


def _dlib_cnn_model() -> Path | None:
    pkg = _module_dir("face_recognition_models")  # its __init__ needs pkg_resources
    if pkg is None:
        return None
    path = pkg / "models" / "mmod_human_face_detector.dat"
    return path if path.is_file() else None


@register_detector("dlib_cnn", available=lambda: _importable(["dlib"]) and _dlib_cnn_model() is not None)
class DlibCnnDetector(FaceDetector):
    """dlib's CNN (MMOD) detector: robust to pose, very slow on CPU."""

    name = "dlib_cnn"

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
        upsample: int = 0,
        model_path: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(max_side=max_side, min_face_fraction=min_face_fraction)
        dlib = _require("dlib", DLIB_PIP, self.name)
        path = Path(model_path) if model_path else _dlib_cnn_model()
        if path is None or not path.is_file():
            raise DetectorUnavailableError(
                f"face detector {self.name!r} needs mmod_human_face_detector.dat from the "
                f"optional package {DLIB_MODELS_PIP!r}: pip install {DLIB_MODELS_PIP}"
            )
        self._detector = dlib.cnn_face_detection_model_v1(str(path))
        self.upsample = int(upsample)

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        small, scale = self._downscale(frame_rgb)
        dets = self._detector(small, self.upsample)
        raw = [
            (
                float(d.rect.left()),
                float(d.rect.top()),
                float(d.rect.width()),
                float(d.rect.height()),
                float(d.confidence),
            )
            for d in dets
        ]
        return self._finish(raw, scale, frame_rgb.shape)
