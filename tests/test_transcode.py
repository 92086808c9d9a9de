from pathlib import Path

from pipeline.faces.types import Box
from pipeline.transcode import ROBUSTNESS_VARIANTS, median_box, normalise_around_face, reencode
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
