"""What a detector is made of and what a user is told about it: plain dataclasses, no TensorFlow.

`ModelConfig` rebuilds an identical, untrained network; `ModelInfo` is the metadata stored
beside the .keras file. Both are read by pages and reports that must not load Keras.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pipeline.assessment import InputRange, VerdictBand
from pipeline.model.report import TrainingReport
from pipeline.settings import ATTENTION_TEMPERATURE, CERTAINTY_MEASURE, MODEL_INPUT_SIZE, PAPER_BACKBONE


@dataclass(frozen=True)
class ModelConfig:
    """The architecture: enough to rebuild an identical, untrained network."""

    backbone: str = PAPER_BACKBONE
    input_size: int = MODEL_INPUT_SIZE
    pretrained_backbone: bool = True
    attention_temperature: float = ATTENTION_TEMPERATURE
    certainty_measure: str = CERTAINTY_MEASURE
    lstm_units: int = 64
    dropout: float = 0.3
    uniform_attention: bool = False  # the ablation: every face frame weighs the same
    # Temporal evidence beside the LSTM (both measured to help in group cross-validation
    # on the training split, docs/experiments.md): frame-to-frame feature differences
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
    # val AUC moves by +-0.04 with its seed alone (docs/experiments.md), the average less.
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
    metrics: TrainingReport = field(default_factory=TrainingReport)
    notes: str = ""
    architecture: dict[str, Any] = field(default_factory=dict)  # the ModelConfig it was built from
    encoder_tflite_sha256: str | None = None  # the verified fast copy of the encoder (fast_encoder.py)
    # Fitted by `python -m tools.fit_verdict_band`; None until then (every clip is then inconclusive).
    verdict_band: VerdictBand | None = None
    input_range: InputRange | None = None
    # The verified TFLite copies of encoder and head that score without TensorFlow (lite.LiteRecord).
    tflite_copies: dict[str, Any] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {**asdict(self), "metrics": self.metrics.to_dict()}

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> ModelInfo:
        """The inverse of `to_json_dict`; keys this version does not know are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["verdict_band"] = VerdictBand.from_json_dict(values.get("verdict_band"))
        values["input_range"] = InputRange.from_json_dict(values.get("input_range"))
        values["metrics"] = TrainingReport.from_dict(data.get("metrics"))
        return cls(**values)


def metadata_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")
