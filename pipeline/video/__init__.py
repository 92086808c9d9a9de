"""Decode and sample: open a clip, read its format, decode the frames scoring looks at."""

from pipeline.video.decode import (
    FALLBACK_FPS,
    BackgroundDecoder,
    SampledFrame,
    VideoInfo,
    count_decodable_frames,
    iter_frames,
    probe_video,
    read_sampled_frames,
    sample_indices,
    sampled_indices,
)

__all__ = [
    "FALLBACK_FPS",
    "BackgroundDecoder",
    "SampledFrame",
    "VideoInfo",
    "count_decodable_frames",
    "iter_frames",
    "probe_video",
    "read_sampled_frames",
    "sample_indices",
    "sampled_indices",
]
