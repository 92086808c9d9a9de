"""The GPU fine-tune's helpers that run without torch: crop bundles, frame picks, weights."""

from pathlib import Path

import numpy as np

from pipeline.training.datasets import Clip, family_weights
from tools.export_crop_bundle import MID_PREFIXES, decode_jpeg, encode_jpeg, pick_frames
from tools.finetune_backbone_torch import clip_weights, load_bundle, subset


def test_pick_frames_spans_the_clip_without_repeats():
    picks = pick_frames(32, 10)
    assert len(picks) == 10 and picks[0] == 0 and picks[-1] == 31 and len(set(picks)) == 10
    assert list(pick_frames(4, 10)) == [0, 1, 2, 3]


def test_jpeg_round_trip_keeps_colour_order_and_size():
    rng = np.random.default_rng(0)
    crop = np.zeros((64, 64, 3), np.uint8)
    crop[..., 0] = 200  # red: a swapped channel order would show up as blue
    crop += rng.integers(0, 10, crop.shape, dtype=np.uint8)
    back = decode_jpeg(encode_jpeg(crop, 95))
    assert back.shape == crop.shape and back[..., 0].mean() > 180 and back[..., 2].mean() < 30


def test_mid_prefixes_stop_at_block_14s_expansion():
    def mid(key: str) -> bool:
        return key.startswith(MID_PREFIXES)

    assert mid("features.0.0.weight") and mid("features.13.conv.3.running_var")
    assert mid("features.14.conv.0.1.weight") and not mid("features.14.conv.1.0.weight")
    assert not mid("features.15.conv.0.0.weight") and not mid("features.18.0.weight")
    assert mid("features.1.conv.0.0.weight") and not mid("features.1") and mid("features.10.conv.0.0.weight")


def _bundle(path: Path) -> Path:
    """A bundle in the exporter's format: 4 clips of 2 crops, clip i filled with grey level 40 i."""
    crops = [np.full((32, 32, 3), 40 * (i // 2), np.uint8) for i in range(8)]
    blobs = [encode_jpeg(c, 95) for c in crops]
    np.savez(
        path,
        jpeg=np.frombuffer(b"".join(blobs), np.uint8),
        offsets=np.cumsum([0] + [len(b) for b in blobs]),
        crop_clip=np.repeat(np.arange(4), 2).astype(np.int32),
        clip_label=np.array([0, 1, 1, 1], np.int32),
        clip_split=np.array(["train", "train", "val", "train"]),
        clip_group=np.array(["a", "b", "c", "d"]),
        clip_dataset=np.array(["x", "x", "x", "x"]),
        clip_method=np.array(["original", "m1", "m1", "m2"]),
        clip_sha256=np.array(["0", "1", "2", "3"]),
        reference_crops=np.array([5]),
        reference_features=np.ones((1, 576), np.float32),
        **{"w:features.0.0.weight": np.zeros((32, 3, 3, 3), np.float32)},
    )
    return path


def test_bundle_loads_crops_in_clip_order_with_their_weights(tmp_path: Path):
    bundle = load_bundle(_bundle(tmp_path / "b.npz"))
    assert bundle.crops.shape == (8, 32, 32, 3)
    assert [int(bundle.crops[i].mean() + 0.5) for i in (0, 2, 4, 6)] == [0, 40, 80, 120]
    assert list(bundle.weights) == ["features.0.0.weight"]
    # The fine-tune balances clips exactly as `pipeline train` does.
    rows = np.arange(4)
    clips = [Clip(Path(str(r)), int(bundle.label[r]), "train", "", str(bundle.method[r]), "x") for r in rows]
    np.testing.assert_allclose(clip_weights(bundle, rows), family_weights(clips))
    assert clip_weights(bundle, rows)[0] == 0.5  # the one real clip weighs as much as all fakes


def test_subset_keeps_the_reference_crops_clip_and_remaps_indices(tmp_path: Path):
    bundle = load_bundle(_bundle(tmp_path / "b.npz"))
    small = subset(bundle, every=3)  # clips 0 and 3, plus clip 2 that holds reference crop 5
    assert list(small.label) == [0, 1, 1] and len(small.crops) == 6
    assert list(small.crop_clip) == [0, 0, 1, 1, 2, 2]
    reference = small.crops[small.reference_crops[0]]
    np.testing.assert_array_equal(reference, bundle.crops[5])
