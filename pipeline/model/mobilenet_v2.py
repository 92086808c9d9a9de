"""MobileNetV2 backbone in Keras 3, matching torchvision's ``mobilenet_v2`` layer for layer.

Why not ``keras.applications.MobileNetV2``: its ImageNet weights download at run
time (impossible offline) and its architecture differs from torchvision's
(asymmetric 'same' padding on stride-2 convs, BN epsilon 1e-3, rounded widths).
The committed weights in ``models/backbones/`` were converted from torchvision's
ImageNet checkpoint by ``tools/convert_mobilenet_v2.py``, so this graph must stay
identical to torchvision's for them to be valid.

Inputs are RGB images scaled to 0..1; ImageNet mean/std normalisation happens
inside the model (first layer), so callers feed 0..1 crops.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WEIGHTS_PATH = REPO_ROOT / "models" / "backbones" / "mobilenet_v2_imagenet.weights.h5"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
FEATURE_DIM = 1280
NUM_CLASSES = 1000

_BN_EPS = 1e-5  # torch BatchNorm2d default
_BN_MOMENTUM = 0.9  # keras momentum = 1 - torch momentum (0.1)
# torchvision inverted_residual_setting: expansion t, out channels c, repeats n, first stride s.
_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _blocks() -> list[tuple[int, int, int, int, int]]:
    """(torch feature index, in_ch, out_ch, stride, expansion) for features[1..17]."""
    out, in_ch, idx = [], 32, 1
    for t, c, n, s in _SETTINGS:
        for i in range(n):
            out.append((idx, in_ch, c, s if i == 0 else 1, t))
            in_ch, idx = c, idx + 1
    return out


def torch_layer_map(include_top: bool = True) -> dict[str, tuple[str, str]]:
    """Keras layer name -> (kind, torchvision state_dict prefix); the converter's single source of truth."""
    m: dict[str, tuple[str, str]] = {
        "stem_conv": ("conv", "features.0.0"),
        "stem_bn": ("bn", "features.0.1"),
    }
    for idx, _cin, _cout, _s, t in _blocks():
        p, j = f"features.{idx}.conv", 0
        if t != 1:
            m[f"block{idx}_expand_conv"] = ("conv", f"{p}.0.0")
            m[f"block{idx}_expand_bn"] = ("bn", f"{p}.0.1")
            j = 1
        m[f"block{idx}_dw_conv"] = ("dwconv", f"{p}.{j}.0")
        m[f"block{idx}_dw_bn"] = ("bn", f"{p}.{j}.1")
        m[f"block{idx}_project_conv"] = ("conv", f"{p}.{j + 1}")
        m[f"block{idx}_project_bn"] = ("bn", f"{p}.{j + 2}")
    m["last_conv"] = ("conv", "features.18.0")
    m["last_bn"] = ("bn", "features.18.1")
    if include_top:
        m["logits"] = ("dense", "classifier.1")
    return m


def _bn(name: str) -> layers.BatchNormalization:
    return layers.BatchNormalization(epsilon=_BN_EPS, momentum=_BN_MOMENTUM, name=name)


def _relu6(name: str) -> layers.ReLU:
    return layers.ReLU(max_value=6.0, name=name)


def _depthwise(x: keras.KerasTensor, stride: int, prefix: str) -> keras.KerasTensor:
    """3x3 depthwise conv with torch's symmetric padding 1.

    Explicit ZeroPadding2D + 'valid' for every stride: Keras 'same' pads (0, 1)
    on stride 2 with even inputs, torch pads (1, 1), which shifts the grid.
    """
    x = layers.ZeroPadding2D(1, name=f"{prefix}_pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, padding="valid", use_bias=False, name=f"{prefix}_conv")(x)
    x = _bn(f"{prefix}_bn")(x)
    return _relu6(f"{prefix}_relu")(x)


def build_mobilenet_v2(
    input_shape: tuple[int | None, int | None, int] = (224, 224, 3),
    *,
    include_top: bool = False,
    weights: str | None = "imagenet_offline",
    name: str = "mobilenet_v2",
) -> keras.Model:
    """Build torchvision-equivalent MobileNetV2 taking 0..1 RGB images.

    ``include_top=False`` returns the (None, 1280) globally pooled features;
    ``include_top=True`` adds dropout + Dense(1000) ImageNet logits (no softmax).
    ``weights="imagenet_offline"`` loads the committed converted weights (works for any
    input size, e.g. 160 or 128); ``None`` keeps the random initialisation.
    """
    if weights not in ("imagenet_offline", None):
        raise ValueError(f"weights must be 'imagenet_offline' or None, got {weights!r}")
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Normalization(
        mean=list(IMAGENET_MEAN),
        variance=[s * s for s in IMAGENET_STD],
        name="imagenet_norm",
    )(inputs)
    x = layers.ZeroPadding2D(1, name="stem_pad")(x)
    x = layers.Conv2D(32, 3, strides=2, padding="valid", use_bias=False, name="stem_conv")(x)
    x = _bn("stem_bn")(x)
    x = _relu6("stem_relu")(x)

    for idx, cin, cout, stride, t in _blocks():
        p = f"block{idx}"
        shortcut = x
        if t != 1:
            x = layers.Conv2D(cin * t, 1, use_bias=False, name=f"{p}_expand_conv")(x)
            x = _bn(f"{p}_expand_bn")(x)
            x = _relu6(f"{p}_expand_relu")(x)
        x = _depthwise(x, stride, f"{p}_dw")
        x = layers.Conv2D(cout, 1, use_bias=False, name=f"{p}_project_conv")(x)
        x = _bn(f"{p}_project_bn")(x)
        if stride == 1 and cin == cout:
            x = layers.Add(name=f"{p}_add")([shortcut, x])

    x = layers.Conv2D(FEATURE_DIM, 1, use_bias=False, name="last_conv")(x)
    x = _bn("last_bn")(x)
    x = _relu6("last_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if include_top:
        x = layers.Dropout(0.2, name="dropout")(x)
        x = layers.Dense(NUM_CLASSES, name="logits")(x)
    model = keras.Model(inputs, x, name=name)

    if weights == "imagenet_offline":
        load_imagenet_weights(model, input_shape=input_shape)
    return model


def load_imagenet_weights(model: keras.Model, *, input_shape: tuple[int | None, int | None, int]) -> None:
    """Load the committed weights (saved with the top) into ``model``, with or without top.

    The file is a standard Keras ``.weights.h5`` of the include_top=True graph.
    A headless model gets them via a temporary full model, copied layer by layer
    by name, so loading never depends on Keras' behaviour for partial files.
    """
    path = DEFAULT_WEIGHTS_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"MobileNetV2 ImageNet weights not found at {path}. They are committed to the repo; "
            "regenerate with `python -m tools.convert_mobilenet_v2` (see models/backbones/README.md), "
            "or pass weights=None for random init."
        )
    has_top = any(layer.name == "logits" for layer in model.layers)
    if has_top:
        model.load_weights(path)
        return
    full = build_mobilenet_v2(input_shape, include_top=True, weights=None, name=f"{model.name}_full")
    full.load_weights(path)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(full.get_layer(layer.name).get_weights())
