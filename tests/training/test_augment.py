import numpy as np
from skimage import data as skdata

from pipeline.training.augment import AugmentSettings, ClipAugmentation, augment_clip


def test_augmentation_keeps_shape_dtype_and_changes_pixels():
    crop = np.ascontiguousarray(skdata.astronaut()[:224, 150:374])
    crops = np.stack([crop, crop])
    rng = np.random.default_rng(0)
    out = augment_clip(crops, rng)
    assert out.shape == crops.shape and out.dtype == np.uint8
    changed = [not np.array_equal(augment_clip(crops, np.random.default_rng(s)), crops) for s in range(5)]
    assert any(changed)


def test_one_draw_treats_every_frame_of_a_clip_alike():
    crop = np.ascontiguousarray(skdata.astronaut()[:224, 150:374])
    no_noise = AugmentSettings(noise_probability=0.0)
    out = augment_clip(np.stack([crop, crop, crop]), np.random.default_rng(3), no_noise)
    assert np.array_equal(out[0], out[1]) and np.array_equal(out[1], out[2])


def test_low_jpeg_quality_degrades_detail():
    crop = np.ascontiguousarray(skdata.astronaut()[:224, 150:374])
    harsh = ClipAugmentation(30, None, None, None, 1.0, 0.0, False, None).apply(crop, np.random.default_rng(0))
    mild = ClipAugmentation(95, None, None, None, 1.0, 0.0, False, None).apply(crop, np.random.default_rng(0))
    error = lambda x: np.abs(x.astype(int) - crop.astype(int)).mean()  # noqa: E731
    assert error(harsh) > error(mild) > 0
