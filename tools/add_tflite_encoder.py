"""Add the verified TFLite encoder to models saved before it existed (rewrites their metadata).

    python -m tools.add_tflite_encoder models/detector.keras
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.model.config import metadata_path
from pipeline.model.fast_encoder import sidecar_path, write_sidecar
from pipeline.model.storage import load_detector


def main(argv: list[str] | None = None) -> int:
    """Write the TFLite copy of each model's encoder and record its sha256."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for model_path in args.models:
        loaded = load_detector(model_path)
        sha256 = write_sidecar(loaded.encoder, model_path)
        meta_file = metadata_path(model_path)
        meta = json.loads(meta_file.read_text())
        meta["encoder_tflite_sha256"] = sha256
        meta_file.write_text(json.dumps(meta, indent=2) + "\n")
        status = load_detector(model_path).encoder_status
        print(f"{model_path}: {sidecar_path(model_path).name} sha256 {sha256[:12]}; {status.runtime}: {status.reason}")
        if status.runtime != "tflite":
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
