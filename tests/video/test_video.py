from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import EmptyVideoError, NotAFileError, ResolutionTooLargeError, UnreadableVideoError
from pipeline.settings import Settings
from pipeline.video import iter_frames, probe_video, read_sampled_frames, sample_indices


def test_even_sampling_spans_first_to_last_frame():
    assert sample_indices(100, 5) == [0, 25, 50, 74, 99]
    assert sample_indices(300, 32)[0] == 0 and sample_indices(300, 32)[-1] == 299
    assert len(sample_indices(300, 32)) == 32


def test_short_clip_gives_every_frame():
    assert sample_indices(7, 32) == list(range(7))
    assert sample_indices(0, 32) == []


def test_sampling_at_a_rate():
    assert sample_indices(100, 32, fps=25.0, sample_fps=5.0) == [
        0,
        5,
        10,
        15,
        20,
        25,
        30,
        35,
        40,
        45,
        50,
        55,
        60,
        65,
        70,
        75,
        80,
        85,
        90,
        95,
    ]
    assert len(sample_indices(10_000, 32, fps=25.0, sample_fps=25.0, max_frames=64)) == 64


def test_probe_reads_the_format(astronaut_clip: Path):
    info = probe_video(astronaut_clip)
    assert (info.width, info.height) == (640, 360)
    assert info.frame_count == 50
    assert info.fps == pytest.approx(25.0)
    assert info.duration_s == pytest.approx(2.0)
    assert info.codec.lower() in {"fmp4", "mp4v"}


def test_sequential_decode_returns_the_requested_frames(astronaut_clip: Path):
    frames = list(iter_frames(astronaut_clip, [0, 10, 49], 25.0))
    assert [f.index for f in frames] == [0, 10, 49]
    assert frames[1].time_s == pytest.approx(0.4)
    assert frames[0].rgb.shape == (360, 640, 3)
    # The portrait moves right, so frame 49 differs from frame 0.
    assert abs(frames[0].rgb.astype(int) - frames[2].rgb.astype(int)).mean() > 5


def test_bad_inputs_raise_clear_errors(
    tmp_path: Path, empty_clip: Path, text_file: Path, corrupted_clip: Path, truncated_clip: Path
):
    with pytest.raises(NotAFileError, match="no such file"):
        probe_video(tmp_path / "missing.mp4")
    with pytest.raises(NotAFileError, match="directory"):
        probe_video(tmp_path)
    with pytest.raises(EmptyVideoError, match="0 bytes"):
        probe_video(empty_clip)
    with pytest.raises(UnreadableVideoError, match=r"notes\.mp4"):
        probe_video(text_file)
    with pytest.raises(UnreadableVideoError):
        probe_video(corrupted_clip)
    with pytest.raises((UnreadableVideoError, EmptyVideoError)):
        info = probe_video(truncated_clip)
        read_sampled_frames(info, Settings())


def test_huge_resolution_is_refused(astronaut_clip: Path):
    with pytest.raises(ResolutionTooLargeError, match="640x360"):
        probe_video(astronaut_clip, Settings(max_frame_pixels=100_000))


def test_background_decoder_yields_in_order_and_passes_errors_on():
    from pipeline.video import BackgroundDecoder, SampledFrame

    frames = [SampledFrame(i, i / 25, np.zeros((2, 2, 3), np.uint8)) for i in range(10)]
    decoder = BackgroundDecoder(iter(frames), depth=2)
    assert [f.index for f in decoder] == list(range(10))

    def failing():
        yield frames[0]
        raise UnreadableVideoError("clip.mp4: decoder broke")

    with pytest.raises(UnreadableVideoError, match="decoder broke"):
        list(BackgroundDecoder(failing()))


def test_background_decoder_stops_when_the_consumer_stops():
    from pipeline.video import BackgroundDecoder, SampledFrame

    endless = (SampledFrame(i, 0.0, np.zeros((1, 1, 3), np.uint8)) for i in range(10**9))
    decoder = BackgroundDecoder(endless, depth=2)
    for frame in decoder:
        if frame.index == 3:
            break
    decoder.close()
    assert not decoder._thread.is_alive()
