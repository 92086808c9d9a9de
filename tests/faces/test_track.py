import numpy as np

from pipeline.faces.track import crop_face, select_main_track, to_model_input
from pipeline.faces.types import Box


def test_main_track_prefers_the_consistent_face_and_marks_gaps():
    subject = [Box(100 + 5 * i, 50, 80, 80) for i in range(6)]
    passer_by = Box(400, 300, 120, 120)  # large but seen once
    detections = [[subject[0]], [subject[1], passer_by], [], [subject[3]], [subject[4]], [subject[5]]]
    chosen = select_main_track(detections)
    assert chosen == [subject[0], subject[1], None, subject[3], subject[4], subject[5]]


def test_no_detections_gives_all_none():
    assert select_main_track([[], [], []]) == [None, None, None]


def test_crop_is_square_224_and_scaled_to_unit_range():
    frame = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    crop = crop_face(frame, Box(600, 300, 100, 100), size=224, margin=0.3)  # partly outside the frame
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    assert crop[-1, -1].sum() == 0  # padding outside the frame is black
    scaled = to_model_input(crop[None])
    assert scaled.dtype == np.float32
    assert scaled.min() >= 0.0 and scaled.max() <= 1.0 and scaled.max() > 0.5
