from pathlib import Path

from pipeline.faces.types import Box
from pipeline.training.transcode import (
    ROBUSTNESS_VARIANTS,
    WIDE_SHOT_FACE_SHARE,
    median_box,
    normalise_around_face,
    picture_in_picture,
    reencode,
    wide_shot,
)
from pipeline.video import probe_video


def test_robustness_copies_are_h264_and_smaller(astronaut_clip: Path, tmp_path: Path):
    low = reencode(astronaut_clip, tmp_path / "low.mp4", ROBUSTNESS_VARIANTS["low_bitrate_150k"])
    small = reencode(astronaut_clip, tmp_path / "small.mp4", ROBUSTNESS_VARIANTS["downscaled_360p"])
    info = probe_video(low)
    assert info.codec == "h264" and info.frame_count == 50
    assert probe_video(small).height == 360  # already 360 high: kept
    assert low.stat().st_size < astronaut_clip.stat().st_size


def test_normalised_copy_is_one_square_size(astronaut_clip: Path, tmp_path: Path):
    out = normalise_around_face(astronaut_clip, tmp_path / "norm.mp4", Box(100, 60, 80, 80))
    info = probe_video(out)
    assert (info.width, info.height) == (256, 256)
    assert info.fps == 25.0


def test_median_box():
    assert median_box([None, Box(0, 0, 10, 10), Box(2, 2, 20, 20), Box(4, 4, 30, 30)]) == Box(2, 2, 20, 20)
    assert median_box([None]) is None


def test_wide_shot_shrinks_the_face_to_its_share_of_a_720p_frame(astronaut_clip: Path, tmp_path: Path):
    face = Box(100, 60, 200, 200)  # a large face: the copy must shrink the picture
    out = wide_shot(astronaut_clip, tmp_path / "wide.mp4", face)
    info = probe_video(out)
    assert (info.width, info.height) == (1280, 720) and info.frame_count == 50


def test_picture_in_picture_centres_the_scaled_frame():
    import numpy as np

    frame = np.full((100, 200, 3), 255, np.uint8)
    canvas, x0, y0 = picture_in_picture(frame, 0.5, (720, 1280))
    assert canvas.shape == (720, 1280, 3) and (x0, y0) == (590, 335)
    assert canvas[y0 : y0 + 50, x0 : x0 + 100].min() == 255
    assert canvas[:y0].max() < 255 and canvas[:, : x0].max() < 255
    assert 0 < WIDE_SHOT_FACE_SHARE < 1
