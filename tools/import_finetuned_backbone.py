"""Turn fine-tuned torch weights (tools/finetune_backbone_torch.py) into a Keras backbone.

Why: the fine-tune runs in torch on a GPU machine; this project runs Keras without
torch. The .npz holds the torchvision tensors of the mid-level network (stem to block
14's expansion). They replace the ImageNet ones in the full state, go through the
same tensor mapping as the ImageNet conversion (tools/convert_mobilenet_v2.py), and
the mid-level Keras model is saved. Before saving, the Keras features of the bundle's
reference crops must match the torch features stored beside the weights.

    python -m tools.import_finetuned_backbone --weights dev.npz --bundle .gpu/bundle.npz \\
        --name mobilenet_v2_mid_ft_train
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

TOLERANCE = 1e-3


def main(argv: list[str] | None = None) -> int:
    from pipeline.model.backbones import FINETUNED_DIR, mid_level
    from pipeline.model.mobilenet_v2 import build_mobilenet_v2
    from tools.convert_mobilenet_v2 import find_installed_pth, load_torch_state_dict, sha256_of, torch_to_keras
    from tools.export_crop_bundle import MID_PREFIXES, bundle_crops

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, required=True, help="dev.npz or final.npz from the fine-tune")
    parser.add_argument("--bundle", type=Path, required=True, help="the bundle the fine-tune read")
    parser.add_argument("--name", required=True, help="backbone name; writes models/backbones/<name>.weights.h5")
    parser.add_argument("--pth", type=Path, help="torchvision MobileNetV2 checkpoint (default: installed package)")
    args = parser.parse_args(argv)

    finetuned = np.load(args.weights)
    tuned = {k[2:]: finetuned[k] for k in finetuned.files if k.startswith("w:")}
    state = load_torch_state_dict(args.pth or find_installed_pth())
    stale = sorted(k for k in state if k.startswith(MID_PREFIXES) and "num_batches" not in k and k not in tuned)
    foreign = sorted(set(tuned) - set(state))
    if stale or foreign:
        raise SystemExit(f"weights do not cover the mid-level network: missing {stale[:3]}, unknown {foreign[:3]}")
    state.update(tuned)

    full = build_mobilenet_v2(include_top=True, weights=None)
    torch_to_keras(state, full)
    model = mid_level(full, args.name)

    bundle = np.load(args.bundle)
    images = bundle_crops(bundle, bundle["reference_crops"]).astype(np.float32)
    keras_features = model.predict(images / 255.0, verbose=0)
    diff = float(np.abs(keras_features - finetuned["reference_features"]).max())
    print(f"max |keras - torch| on {len(images)} reference crops: {diff:.2e}")
    if diff > TOLERANCE:
        raise SystemExit("the Keras backbone does not reproduce the fine-tuned torch features")

    out = FINETUNED_DIR / f"{args.name}.weights.h5"
    model.save_weights(out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes) sha256 {sha256_of(out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
