"""Which runtime scores a model: LiteRT alone when its TFLite copies are verified, else Keras.

Why: TensorFlow is most of a fresh scoring process's start-up time and memory. A model saved
with both copies (`model/lite.py`) is scored without importing TensorFlow at all; Keras is
imported only when a copy is missing, foreign or no longer reproduces its recorded probe, and
for the untrained fallback model. Training always uses Keras.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from pipeline.assessment import InputRange, VerdictBand
from pipeline.hashing import file_sha256
from pipeline.model.config import ModelInfo, metadata_path
from pipeline.model.lite import METADATA_KEY, load_lite_model
from pipeline.model.output import ScoringModel
from pipeline.model.report import TrainingReport
from pipeline.settings import Settings

logger = logging.getLogger(__name__)


def import_tensorflow_quietly() -> None:
    """TensorFlow's C++ start-up banner bypasses its log level; hide stderr while it loads."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


def read_metadata(model_path: Path) -> dict[str, Any]:
    path = metadata_path(model_path)
    return json.loads(path.read_text()) if path.is_file() else {}


def info_from_metadata(model_path: Path, meta: dict[str, Any], input_size: int) -> ModelInfo:
    """The ModelInfo of the model at `model_path` from its metadata (the file's own sha256)."""
    return ModelInfo(
        name=meta.get("name", model_path.stem),
        version=meta.get("version", "unknown"),
        sha256=file_sha256(model_path),
        trained=bool(meta.get("trained", False)),
        backbone=meta.get("backbone", "unknown"),
        input_size=input_size,
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
        tflite_copies=meta.get(METADATA_KEY),
        verdict_band=VerdictBand.from_json_dict(meta.get("verdict_band")),
        input_range=InputRange.from_json_dict(meta.get("input_range")),
    )


def load_scoring_model(path: str | Path | None = None, settings: Settings | None = None) -> ScoringModel:
    """The model at `path` (default: the settings'), in LiteRT when its copies are verified,
    else in Keras (`storage.load_detector`, which also handles missing and corrupt files)."""
    settings = settings or Settings()
    path = Path(path or settings.model_path)
    if path.is_file():
        meta = read_metadata(path)
        if METADATA_KEY in meta:
            input_size = int(meta[METADATA_KEY].get("input_size", meta.get("input_size", 0)))
            model, reason = load_lite_model(path, info_from_metadata(path, meta, input_size), meta)
            if model is not None:
                return model
            logger.warning("%s: scoring with Keras: %s", path.name, reason)
    import_tensorflow_quietly()
    from pipeline.model.storage import load_detector

    return load_detector(path, settings)
