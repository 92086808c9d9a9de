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
import json
import logging
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from pipeline.errors import ModelError
from pipeline.model.backbones import BACKBONES, build_backbone
from pipeline.model.fast_encoder import (
    FastEncoderStatus,
    TFLiteEncoder,
    encode_in_batches,
    load_fast_encoder,
    sidecar_path,
    write_sidecar,
)
from pipeline.model.layers import (
    AttentionPooling,
    AttentionWeighting,
    CertaintyAttention,
    FaceMaskToBool,
    MaskedBinaryCrossentropy,
    MaskFrames,
    TemporalDifference,
)
from pipeline.settings import DEFAULT_MODEL_PATH, Settings

logger = logging.getLogger(__name__)

FRAME_ENCODER = "frame_encoder"
SEQUENCE_HEAD = "sequence_head"
OUTPUT_NAMES = ("video", "frame_p", "certainty", "attention")
UNTRAINED_SEED = 1234
MEMBER_PREFIX = "member_"
ENCODE_BUCKET = 8
HEAD_BUCKET = 32


@dataclass(frozen=True)
class ModelConfig:
    """The architecture: enough to rebuild an identical, untrained network."""

    backbone: str = "mobilenet_v2"
    input_size: int = 224
    pretrained_backbone: bool = True
    attention_temperature: float = 0.2
    certainty_measure: str = "margin"
    lstm_units: int = 64
    dropout: float = 0.3
    uniform_attention: bool = False  # the ablation: every face frame weighs the same
    # Temporal evidence beside the LSTM (both measured to help in group cross-validation
    # on the training split, docs/training_runs.md): frame-to-frame feature differences
    # as extra LSTM inputs, and the attention-weighted mean and spread of the features.
    temporal_differences: bool = True
    pooled_statistics: bool = True
    # Standardise backbone features with statistics adapted on the training frames.
    normalise_features: bool = True
    l2: float = 1e-3
    # Where p_t (and so the certainty) comes from: "frame" = each frame alone (the paper);
    # "temporal" = each frame read in the context of its neighbours (a bidirectional GRU).
    certainty_source: str = "frame"
    context_units: int = 32
    # Independently initialised and trained heads whose outputs are averaged: one head's
    # val AUC moves by +-0.04 with its seed alone (docs/training_runs.md), the average less.
    members: int = 1


def config_from_architecture(architecture: dict[str, Any]) -> ModelConfig:
    """The ModelConfig stored in a model's metadata (unknown keys from newer files are ignored)."""
    known = {f.name for f in fields(ModelConfig)}
    return ModelConfig(**{k: v for k, v in architecture.items() if k in known})


@dataclass(frozen=True)
class ModelInfo:
    """What a user is told about the model behind a verdict (stored beside the .keras file)."""

    name: str
    version: str
    sha256: str
    trained: bool
    backbone: str
    input_size: int
    threshold: float = 0.5
    calibration_temperature: float = 1.0
    calibration_bias: float = 0.0  # Platt scaling: sigmoid(logit / temperature + bias)
    created: str | None = None
    training_data_sha256: str | None = None
    weights_source: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    architecture: dict[str, Any] = field(default_factory=dict)  # the ModelConfig it was built from
    encoder_tflite_sha256: str | None = None  # the verified fast copy of the encoder (fast_encoder.py)

    def to_json_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ModelOutput:
    """Per-clip outputs of the network, as numpy arrays over the T sampled frames."""

    video_probability: float
    frame_probability: np.ndarray
    certainty: np.ndarray
    attention: np.ndarray


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


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


class LoadedModel:
    """A detector ready to score: load once (slow), then call `predict` per clip (fast)."""

    def __init__(self, model: keras.Model, info: ModelInfo):
        self.model = model
        self.info = info
        # Keras encodes until `load_detector` has verified a TFLite copy (fast_encoder.py).
        self.fast_encoder: TFLiteEncoder | None = None
        self.encoder_status = FastEncoderStatus("keras", "no .tflite encoder beside the model")
        self.encoder: keras.Model = model.get_layer("frame_features").layer
        self.head: keras.Model = model.get_layer(SEQUENCE_HEAD)
        self.input_size = int(self.encoder.input.shape[1])
        self.feature_dim = int(self.encoder.output.shape[-1])
        self._traced_temperature = self.attention_temperature

    def use_keras_encoder(self) -> None:
        """Score with the Keras encoder even when a verified TFLite copy exists (the reference)."""
        self.fast_encoder = None
        self.encoder_status = FastEncoderStatus("keras", "the Keras encoder was asked for")

    @property
    def attention_layers(self) -> list[CertaintyAttention]:
        """The certainty attention of every member head (one unless the head is an ensemble)."""
        return [member.get_layer("certainty_attention") for member in head_members(self.head)]

    @property
    def attention_temperature(self) -> float:
        return float(self.attention_layers[0].temperature)

    @property
    def certainty_measure(self) -> str:
        return str(self.attention_layers[0].measure)

    def set_attention_temperature(self, temperature: float) -> None:
        """Change the attention temperature at inference (the Attention lab's slider)."""
        if temperature <= 0:
            raise ValueError("attention temperature must be positive")
        for layer in self.attention_layers:
            layer.temperature = float(temperature)

    def encode(self, crops: np.ndarray) -> np.ndarray:
        """Backbone features for (N, S, S, 3) crops in 0..1.

        The verified TFLite copy when there is one (about 2x faster on a CPU), else Keras's
        `predict_on_batch`, a traced graph (about twice as fast as an eager call).
        """
        if len(crops) == 0:
            return np.zeros((0, self.feature_dim), dtype=np.float32)
        # Fixed batches of ENCODE_BUCKET crops (the last one padded): one traced graph for
        # every clip, and activation memory bounded by the batch, not by the clip.
        return encode_in_batches(self.fast_encoder or self.encoder.predict_on_batch, crops, ENCODE_BUCKET)

    def predict_features(self, features: np.ndarray, mask: np.ndarray) -> ModelOutput:
        """Run the head on (T, D) features (zeros where mask is 0).

        At the model's own attention temperature the head runs as a traced graph (8 ms
        instead of 90 ms per head on a CPU), on frames padded with masked-out ones to a
        multiple of HEAD_BUCKET so that few graphs are traced; masked frames change nothing.
        At any other temperature (the Attention lab) it runs eagerly, because a traced graph
        keeps the temperature it was traced with.
        """
        frames = len(mask)
        if self.attention_temperature == self._traced_temperature:
            padded = -(-frames // HEAD_BUCKET) * HEAD_BUCKET
            padded_features = np.zeros((1, padded, features.shape[1]), np.float32)
            padded_mask = np.zeros((1, padded), np.float32)
            padded_features[0, :frames], padded_mask[0, :frames] = features, mask
            outputs = self.head.predict_on_batch([padded_features, padded_mask])
        else:
            outputs = self.head([features[None].astype(np.float32), mask[None].astype(np.float32)], training=False)
        return ModelOutput(
            video_probability=float(np.asarray(outputs["video"]).reshape(-1)[0]),
            frame_probability=np.asarray(outputs["frame_p"])[0, :frames].astype(np.float64),
            certainty=np.asarray(outputs["certainty"])[0, :frames].astype(np.float64),
            attention=np.asarray(outputs["attention"])[0, :frames].astype(np.float64),
        )

    def predict(self, face_crops: np.ndarray, mask: np.ndarray) -> ModelOutput:
        """Score one clip: `face_crops` holds a crop for each frame where mask is 1, in order."""
        mask = np.asarray(mask, dtype=np.float32)
        if int(mask.sum()) != len(face_crops):
            raise ValueError("one crop is needed for each masked-in frame")
        features = np.zeros((len(mask), self.feature_dim), dtype=np.float32)
        features[mask > 0] = self.encode(face_crops)
        return self.predict_features(features, mask)


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


def save_detector(model: keras.Model, path: str | Path, info: ModelInfo) -> ModelInfo:
    """Write the .keras file (weights and architecture, no optimizer state) and its metadata;
    returns the info with the file's sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    drop_training_state(model)
    model.save(path)
    try:
        tflite_sha256: str | None = write_sidecar(model.get_layer("frame_features").layer, path)
    except Exception as error:  # the fast copy is an optimisation; the .keras file is the model
        logger.warning("%s: no TFLite encoder written (%s: %s); scoring uses Keras", path, type(error).__name__, error)
        sidecar_path(path).unlink(missing_ok=True)
        tflite_sha256 = None
    info = replace(info, sha256=file_sha256(path), encoder_tflite_sha256=tflite_sha256)
    metadata_path(path).write_text(json.dumps(info.to_json_dict(), indent=2) + "\n")
    return info


def untrained_detector(config: ModelConfig | None = None) -> LoadedModel:
    """A seeded, untrained network for when no model file exists: it says so in its info."""
    config = config or ModelConfig()
    model = build_detector(config, seed=UNTRAINED_SEED)
    info = ModelInfo(
        name=f"certainty-attention-{config.backbone}",
        version="0.0.0-untrained",
        sha256=weights_sha256(model),
        trained=False,
        backbone=config.backbone,
        input_size=config.input_size,
        weights_source=BACKBONES[config.backbone].weights_source,
        notes="UNTRAINED: no trained model file was found; its probabilities carry no evidence.",
        architecture=asdict(config),
    )
    return LoadedModel(model, info)


def load_detector(path: str | Path | None = None, settings: Settings | None = None) -> LoadedModel:
    """Load the detector at `path` (default: the shipped model); untrained if none is shipped."""
    settings = settings or Settings()
    path = Path(path or settings.model_path)
    if not path.exists():
        if path == DEFAULT_MODEL_PATH:
            return untrained_detector(ModelConfig(backbone=settings.backbone))
        raise ModelError(f"{path}: model file not found")
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:  # a corrupt or foreign file: report it, don't crash
        raise ModelError(f"{path}: cannot load model ({type(error).__name__}: {error})") from error
    meta_file = metadata_path(path)
    meta: dict[str, Any] = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    encoder = model.get_layer("frame_features").layer
    info = ModelInfo(
        name=meta.get("name", path.stem),
        version=meta.get("version", "unknown"),
        sha256=file_sha256(path),
        trained=bool(meta.get("trained", False)),
        backbone=meta.get("backbone", "unknown"),
        input_size=int(encoder.input.shape[1]),
        threshold=float(meta.get("threshold", 0.5)),
        calibration_temperature=float(meta.get("calibration_temperature", 1.0)),
        calibration_bias=float(meta.get("calibration_bias", 0.0)),
        created=meta.get("created"),
        training_data_sha256=meta.get("training_data_sha256"),
        weights_source=meta.get("weights_source", ""),
        metrics=meta.get("metrics", {}),
        notes=meta.get("notes", "" if meta else "no metadata file: treat as untrained"),
        architecture=meta.get("architecture", {}),
        encoder_tflite_sha256=meta.get("encoder_tflite_sha256"),
    )
    loaded = LoadedModel(model, info)
    loaded.fast_encoder, loaded.encoder_status = load_fast_encoder(
        path, info.encoder_tflite_sha256, loaded.encode, ENCODE_BUCKET
    )
    return loaded
