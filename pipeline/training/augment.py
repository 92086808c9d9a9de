"""Training-time augmentation that destroys format cues while keeping the face.

In the training data, resolution, bitrate and compression alone separate real from
fake surprisingly well; a model that learns them fails on other footage. Each clip
gets one random degradation (JPEG quality, rescaling, blur, noise, colour, flip,
small shift), applied identically to all its frames so temporal cues stay intact.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentSettings:
    jpeg_probability: float = 0.8
    jpeg_quality: tuple[int, int] = (30, 95)
    rescale_probability: float = 0.5
    rescale_factor: tuple[float, float] = (0.3, 1.0)
    blur_probability: float = 0.25
    blur_sigma: tuple[float, float] = (0.3, 1.5)
    noise_probability: float = 0.25
    noise_std: tuple[float, float] = (2.0, 10.0)
    color_probability: float = 0.5
    flip_probability: float = 0.5
    shift_probability: float = 0.5
    max_shift: float = 0.08  # of the crop side: mimics another detector's box


@dataclass(frozen=True)
class ClipAugmentation:
    """One draw of random parameters, applied identically to every frame of a clip."""

    jpeg_quality: int | None
    rescale: float | None
    blur_sigma: float | None
    noise_std: float | None
    gain: float
    bias: float
    flip: bool
    shift: tuple[float, float, float] | None  # dx, dy, zoom

    @classmethod
    def draw(cls, rng: np.random.Generator, s: AugmentSettings = AugmentSettings()) -> ClipAugmentation:
        def maybe(p: float) -> bool:
            return bool(rng.random() < p)

        color = maybe(s.color_probability)
        return cls(
            jpeg_quality=int(rng.integers(*s.jpeg_quality, endpoint=True)) if maybe(s.jpeg_probability) else None,
            rescale=float(rng.uniform(*s.rescale_factor)) if maybe(s.rescale_probability) else None,
            blur_sigma=float(rng.uniform(*s.blur_sigma)) if maybe(s.blur_probability) else None,
            noise_std=float(rng.uniform(*s.noise_std)) if maybe(s.noise_probability) else None,
            gain=float(rng.uniform(0.8, 1.2)) if color else 1.0,
            bias=float(rng.uniform(-20, 20)) if color else 0.0,
            flip=maybe(s.flip_probability),
            shift=(
                (
                    float(rng.uniform(-s.max_shift, s.max_shift)),
                    float(rng.uniform(-s.max_shift, s.max_shift)),
                    float(rng.uniform(0.9, 1.1)),
                )
                if maybe(s.shift_probability)
                else None
            ),
        )

    def apply(self, crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Degrade one uint8 RGB crop; returns a new uint8 crop of the same size."""
        size = crop.shape[0]
        out = crop
        if self.shift is not None:
            dx, dy, zoom = self.shift
            matrix = cv2.getRotationMatrix2D((size / 2, size / 2), 0.0, zoom)
            matrix[:, 2] += (dx * size, dy * size)
            out = cv2.warpAffine(out, matrix, (size, size), borderMode=cv2.BORDER_REFLECT)
        if self.flip:
            out = out[:, ::-1]
        if self.rescale is not None:
            small = max(int(size * self.rescale), 16)
            out = cv2.resize(out, (small, small), interpolation=cv2.INTER_AREA)
            out = cv2.resize(out, (size, size), interpolation=cv2.INTER_LINEAR)
        if self.blur_sigma is not None:
            out = cv2.GaussianBlur(out, (0, 0), self.blur_sigma)
        work = out.astype(np.float32)
        if self.gain != 1.0 or self.bias != 0.0:
            work = work * self.gain + self.bias
        if self.noise_std is not None:
            work = work + rng.normal(0.0, self.noise_std, work.shape).astype(np.float32)
        out = np.clip(work, 0, 255).astype(np.uint8)
        if self.jpeg_quality is not None:
            bgr = cv2.cvtColor(np.ascontiguousarray(out), cv2.COLOR_RGB2BGR)
            ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if ok:
                decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
                if decoded is not None:
                    out = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(out)


def augment_clip(
    crops: np.ndarray, rng: np.random.Generator, settings: AugmentSettings = AugmentSettings()
) -> np.ndarray:
    """Apply one random ClipAugmentation to all (T, S, S, 3) uint8 crops of a clip."""
    augmentation = ClipAugmentation.draw(rng, settings)
    return np.stack([augmentation.apply(crop, rng) for crop in crops]) if len(crops) else crops
