"""Saving and loading a detector: the .keras file, its metadata and its verified TFLite copy."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import keras

from pipeline.assessment import InputRange, VerdictBand
from pipeline.errors import ModelError
from pipeline.hashing import file_sha256
from pipeline.model.architecture import build_detector, drop_training_state, weights_sha256
from pipeline.model.backbones import BACKBONES
from pipeline.model.config import ModelConfig, ModelInfo, metadata_path
from pipeline.model.fast_encoder import load_fast_encoder, sidecar_path, write_sidecar
from pipeline.model.report import TrainingReport
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
        metrics=TrainingReport.from_dict(meta.get("metrics")),
        notes=meta.get("notes", "" if meta else "no metadata file: treat as untrained"),
        architecture=meta.get("architecture", {}),
        encoder_tflite_sha256=meta.get("encoder_tflite_sha256"),
        verdict_band=VerdictBand.from_json_dict(meta.get("verdict_band")),
        input_range=InputRange.from_json_dict(meta.get("input_range")),
    )
    loaded = LoadedModel(model, info)
    loaded.fast_encoder, loaded.encoder_status = load_fast_encoder(
        path, info.encoder_tflite_sha256, loaded.encode, ENCODE_BUCKET
    )
    return loaded
