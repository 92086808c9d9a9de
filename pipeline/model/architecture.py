"""The paper's CNN -> certainty attention -> LSTM detector, and its save/load.

The network is two nested models so a server can run the costly CNN only on the
frames that show a face:
- `frame_encoder`: one 0..1 RGB crop -> a feature vector (the backbone);
- `sequence_head`: features (T, D) + face mask (T) -> per-frame p_t, certainty c_t,
  attention a_t and the video probability (frame head, attention, LSTM, sigmoid).
The full `detector` applies the encoder to every frame (TimeDistributed) and then the head.
"""

from __future__ import annotations

import hashlib

import keras
import numpy as np

from pipeline.model.backbones import build_backbone
from pipeline.model.config import ModelConfig
from pipeline.model.layers import (
    AttentionPooling,
    AttentionWeighting,
    CertaintyAttention,
    FaceMaskToBool,
    MaskedBinaryCrossentropy,
    MaskFrames,
    TemporalDifference,
)

FRAME_ENCODER = "frame_encoder"
SEQUENCE_HEAD = "sequence_head"
OUTPUT_NAMES = ("video", "frame_p", "certainty", "attention")
MEMBER_PREFIX = "member_"


def build_sequence_head(feature_dim: int, config: ModelConfig, name: str = SEQUENCE_HEAD) -> keras.Model:
    """features (T, D) + face mask (T) -> frame head p_t -> certainty attention -> LSTM -> sigmoid.

    With `temporal_differences` the LSTM also reads |f_t - f_(t-1)|; with `pooled_statistics`
    the video head also reads the attention-weighted mean and spread of the features, so the
    attention shapes the verdict through both paths.
    """
    features = keras.Input((None, feature_dim), name="features")
    mask = keras.Input((None,), name="face_mask")
    regulariser = keras.regularizers.L2(config.l2) if config.l2 > 0 else None
    x = features
    if config.normalise_features:
        x = keras.layers.Normalization(axis=-1, name="feature_norm")(x)
        x = MaskFrames(name="masked_features")([x, mask])
    dropped = keras.layers.Dropout(config.dropout, name="feature_dropout")(x)
    frame_input = dropped
    if config.certainty_source == "temporal":
        context = keras.layers.Bidirectional(
            keras.layers.GRU(config.context_units, return_sequences=True, kernel_regularizer=regulariser),
            name="frame_context",
        )(dropped, mask=FaceMaskToBool(name="context_mask")(mask))
        frame_input = keras.layers.Concatenate(name="frame_in_context")([dropped, context])
    elif config.certainty_source != "frame":
        raise ValueError(f"unknown certainty source {config.certainty_source!r}: use 'frame' or 'temporal'")
    frame_p = keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regulariser, name="frame_head")(
        frame_input
    )
    frame_p = keras.layers.Reshape((-1,), name="frame_p")(frame_p)
    certainty, attention = CertaintyAttention(
        config.attention_temperature,
        config.certainty_measure,
        uniform=config.uniform_attention,
        name="certainty_attention",
    )([frame_p, mask])
    sequence_input = dropped
    if config.temporal_differences:
        differences = TemporalDifference(name="temporal_difference")([x, mask])
        differences = keras.layers.Dropout(config.dropout, name="difference_dropout")(differences)
        sequence_input = keras.layers.Concatenate(name="frame_and_motion")([dropped, differences])
    weighted = AttentionWeighting(name="attention_weighting")([sequence_input, attention, mask])
    bool_mask = FaceMaskToBool(name="bool_mask")(mask)
    summary = keras.layers.LSTM(config.lstm_units, kernel_regularizer=regulariser, name="lstm")(
        weighted, mask=bool_mask
    )
    if config.pooled_statistics:
        pooled = AttentionPooling(name="attention_pooling")([sequence_input, attention])
        pooled = keras.layers.Dropout(config.dropout, name="pooled_dropout")(pooled)
        summary = keras.layers.Concatenate(name="lstm_and_pooled")([summary, pooled])
    video = keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=regulariser, name="video_head")(summary)
    video = keras.layers.Reshape((), name="video")(video)
    outputs = {
        "video": video,
        "frame_p": keras.layers.Identity(name="frame_p_out")(frame_p),
        "certainty": keras.layers.Identity(name="certainty")(certainty),
        "attention": keras.layers.Identity(name="attention")(attention),
    }
    return keras.Model([features, mask], outputs, name=name)


def member_name(index: int) -> str:
    return f"{MEMBER_PREFIX}{index}"


def build_head(feature_dim: int, config: ModelConfig) -> keras.Model:
    """The sequence head, or with `members` > 1 an ensemble of them with averaged outputs.

    Every member sees the same features and mask; the ensemble's video probability,
    frame probabilities, certainties and attention are the members' means (a mean of
    attention distributions is still one, so the charts read the same).
    """
    if config.members <= 1:
        return build_sequence_head(feature_dim, config)
    features = keras.Input((None, feature_dim), name="features")
    mask = keras.Input((None,), name="face_mask")
    member_outputs = [
        build_sequence_head(feature_dim, config, name=member_name(i))([features, mask]) for i in range(config.members)
    ]
    outputs = {
        key: keras.layers.Average(name=f"mean_{key}")([out[key] for out in member_outputs]) for key in OUTPUT_NAMES
    }
    return keras.Model([features, mask], outputs, name=SEQUENCE_HEAD)


def head_members(head: keras.Model) -> list[keras.Model]:
    """The separately trained heads inside `head` (the head itself when it is not an ensemble)."""
    members = [layer for layer in head.layers if layer.name.startswith(MEMBER_PREFIX)]
    return members or [head]


def build_detector(config: ModelConfig | None = None, seed: int | None = None) -> keras.Model:
    """The full network: frames (B, T, S, S, 3) in 0..1 and mask (B, T) -> output dict."""
    config = config or ModelConfig()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    encoder_core = build_backbone(config.backbone, config.input_size, config.pretrained_backbone)
    crop = keras.Input((config.input_size, config.input_size, 3), name="crop")
    encoder = keras.Model(crop, encoder_core(crop), name=FRAME_ENCODER)
    return assemble_detector(encoder, build_head(int(encoder.output.shape[-1]), config))


def assemble_detector(encoder: keras.Model, head: keras.Model) -> keras.Model:
    """frames (B, T, S, S, 3) + mask -> `encoder` on every frame -> `head` (weights are shared, not copied)."""
    size = int(encoder.input.shape[1])
    frames = keras.Input((None, size, size, 3), name="frames")
    mask = keras.Input((None,), name="face_mask")
    features = keras.layers.TimeDistributed(encoder, name="frame_features")(frames)
    return keras.Model([frames, mask], head([features, mask]), name="certainty_attention_detector")


def compile_detector(model: keras.Model, learning_rate: float = 1e-4, frame_loss_weight: float = 0.5) -> None:
    """The paper's recipe: Adam + binary cross-entropy on the video, plus a masked frame loss.

    The frame loss trains the frame head, whose confidence is the certainty the attention uses.
    """
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={"video": keras.losses.BinaryCrossentropy(), "frame_p": MaskedBinaryCrossentropy()},
        loss_weights={"video": 1.0, "frame_p": frame_loss_weight},
        metrics={"video": [keras.metrics.AUC(name="auc"), keras.metrics.BinaryAccuracy(name="accuracy")]},
    )


def weights_sha256(model: keras.Model) -> str:
    digest = hashlib.sha256()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def drop_training_state(model: keras.Model) -> None:
    """Forget the optimizers of `model` and its sub-models before saving: Adam's moments are needed
    only to go on training, and for an ensemble they more than doubled the shipped file."""
    pending: list[keras.layers.Layer] = [model]
    while pending:
        layer = pending.pop()
        if isinstance(layer, keras.layers.Wrapper):
            pending.append(layer.layer)
        if isinstance(layer, keras.Model):
            layer.optimizer = None
            layer.compiled = False
            pending.extend(layer.layers)
