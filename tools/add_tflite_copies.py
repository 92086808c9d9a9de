"""Add the verified TFLite copies (encoder and head) to models saved before they existed, so that
they score without TensorFlow; rewrites their metadata.

    python -m tools.add_tflite_copies models/detector.keras models/detector_development.keras
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.model.config import metadata_path
from pipeline.model.lite import METADATA_KEY
from pipeline.model.loader import load_scoring_model
from pipeline.model.storage import load_detector, write_tflite_copies


def main(argv: list[str] | None = None) -> int:
    """Write both copies of each model, verified against its Keras network, and record them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for model_path in args.models:
        record = write_tflite_copies(load_detector(model_path).model, model_path)
        if record is None:
            print(f"{model_path}: the copies could not be made or verified; scoring stays on Keras")
            return 1
        meta_file = metadata_path(model_path)
        meta = json.loads(meta_file.read_text())
        meta["encoder_tflite_sha256"] = record.encoder_sha256
        meta[METADATA_KEY] = record.to_json_dict()
        meta_file.write_text(json.dumps(meta, indent=2) + "\n")
        model = load_scoring_model(model_path)
        print(
            f"{model_path}: encoder {record.encoder_sha256[:12]} (max diff {record.encoder_difference:.1e}), "
            f"head {record.head_sha256[:12]} (max diff {record.head_difference:.1e}); "
            f"scores with {type(model).__name__}: {model.encoder_status.reason}"
        )
        if type(model).__name__ != "LiteModel":
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
