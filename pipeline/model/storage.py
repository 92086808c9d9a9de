"""Saving and loading a detector: the .keras file, its metadata and its verified TFLite copy."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from pathlib import Path

import keras

from pipeline.errors import ModelError
from pipeline.hashing import file_sha256
from pipeline.model.architecture import (
    SEQUENCE_HEAD,
    build_detector,
    drop_training_state,
    head_members,
    weights_sha256,
)
from pipeline.model.backbones import BACKBONES
from pipeline.model.config import ModelConfig, ModelInfo, metadata_path
from pipeline.model.fast_encoder import load_fast_encoder, sidecar_path
from pipeline.model.lite import LiteRecord, head_copy_path, write_copies
from pipeline.model.loader import info_from_metadata, read_metadata
from pipeline.model.runtime import ENCODE_BUCKET, LoadedModel
from pipeline.settings import DEFAULT_MODEL_PATH, Settings

logger = logging.getLogger(__name__)

UNTRAINED_SEED = 1234


def save_detector(model: keras.Model, path: str | Path, info: ModelInfo) -> ModelInfo:
    """Write the .keras file (weights and architecture, no optimizer state) and its metadata;
    returns the info with the file's sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    drop_training_state(model)
    model.save(path)
    copies = write_tflite_copies(model, path)
    info = replace(
        info,
        sha256=file_sha256(path),
        encoder_tflite_sha256=copies.encoder_sha256 if copies else None,
        tflite_copies=copies.to_json_dict() if copies else None,
    )
    metadata_path(path).write_text(json.dumps(info.to_json_dict(), indent=2) + "\n")
    return info


def write_tflite_copies(model: keras.Model, path: Path) -> LiteRecord | None:
    """Write the verified TFLite copies of encoder and head beside `path` (scoring then needs no
    TensorFlow); None when conversion or verification fails, and scoring uses Keras."""
    encoder = model.get_layer("frame_features").layer
    head = model.get_layer(SEQUENCE_HEAD)
    attention = [member.get_layer("certainty_attention") for member in head_members(head)]
    try:
        return write_copies(encoder, head, attention, path, ENCODE_BUCKET)
    except Exception as error:  # the copies are an optimisation; the .keras file is the model
        logger.warning("%s: no TFLite copies written (%s: %s); scoring uses Keras", path, type(error).__name__, error)
        sidecar_path(path).unlink(missing_ok=True)
        head_copy_path(path).unlink(missing_ok=True)
        return None


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
    encoder = model.get_layer("frame_features").layer
    info = info_from_metadata(path, read_metadata(path), int(encoder.input.shape[1]))
    loaded = LoadedModel(model, info)
    loaded.fast_encoder, loaded.encoder_status = load_fast_encoder(
        path, info.encoder_tflite_sha256, loaded.encode, ENCODE_BUCKET
    )
    return loaded
