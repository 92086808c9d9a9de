"""Pack the training clips' face crops into one small file for fine-tuning elsewhere.

Why: the backbone fine-tune (tools/finetune_backbone_torch.py) runs on a GPU machine
that has neither the clips nor this project's TensorFlow. It needs only the crops,
their labels and groups, and the ImageNet starting weights, so they travel as JPEG
bytes in one .npz (about 25 MB for 364 clips at 10 crops each). The crops come from
the same cache `python -m pipeline train` fills, so both see identical faces.

The bundle also holds reference features: this project's Keras backbone run on a few
of the bundled crops. The fine-tune script recomputes them with its torch copy of the
network and stops if they differ, so a wrong weight mapping costs seconds, not a run.

    python -m tools.export_crop_bundle --data ../shared/data --out .gpu/bundle.npz
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# torchvision state_dict prefixes of the mid-level backbone (mobilenet_v2_mid): the stem,
# blocks 1-13 and block 14's expansion, whose ReLU6 output is pooled into the features.
MID_PREFIXES = (*(f"features.{i}." for i in range(14)), "features.14.conv.0.")


def pick_frames(count: int, wanted: int) -> np.ndarray:
    """Evenly spaced frame indices, so a clip's crops span its whole length."""
    if count <= wanted:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, wanted).round().astype(int))


def encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return data.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray:
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def bundle_crops(bundle: np.lib.npyio.NpzFile, indices: np.ndarray) -> np.ndarray:
    """(len(indices), S, S, 3) uint8 RGB crops decoded from a bundle's JPEG bytes."""
    jpeg, offsets = bundle["jpeg"], bundle["offsets"]
    return np.stack([decode_jpeg(jpeg[offsets[i] : offsets[i + 1]].tobytes()) for i in indices])


def main(argv: list[str] | None = None) -> int:
    from pipeline.model.backbones import build_backbone
    from pipeline.settings import DEFAULT_CACHE_DIR, Settings
    from pipeline.training.datasets import load_clips
    from pipeline.training.train import extract_all
    from tools.convert_mobilenet_v2 import find_installed_pth, load_torch_state_dict

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / ".gpu" / "bundle.npz")
    parser.add_argument("--frames", type=int, default=10, help="crops per clip")
    parser.add_argument("--quality", type=int, default=85, help="JPEG quality of the stored crops")
    parser.add_argument("--references", type=int, default=16, help="crops with reference Keras features")
    parser.add_argument("--pth", type=Path, help="torchvision MobileNetV2 checkpoint (default: installed package)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="face-crop cache (shared with train)")
    args = parser.parse_args(argv)

    settings = Settings()
    clips = load_clips(args.data)
    kept = extract_all(clips, settings, args.cache_dir)
    blobs: list[bytes] = []
    crop_clip: list[int] = []
    for index, (_clip, _sha, faces) in enumerate(kept):
        for frame in pick_frames(len(faces.crops), args.frames):
            blobs.append(encode_jpeg(faces.crops[frame], args.quality))
            crop_clip.append(index)
    offsets = np.cumsum([0] + [len(b) for b in blobs]).astype(np.int64)

    state = load_torch_state_dict(args.pth or find_installed_pth())
    weights = {f"w:{k}": v.astype(np.float32) for k, v in state.items() if k.startswith(MID_PREFIXES)}

    rng = np.random.default_rng(0)
    references = np.sort(rng.choice(len(blobs), size=min(args.references, len(blobs)), replace=False))
    images = np.stack([decode_jpeg(blobs[i]) for i in references]).astype(np.float32) / 255.0
    encoder = build_backbone("mobilenet_v2_mid", settings.crop_size, pretrained=True)
    reference_features = encoder.predict(images, verbose=0)

    def column(name: str) -> np.ndarray:
        return np.array([str(getattr(clip, name)) for clip, _, _ in kept])

    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        jpeg=np.frombuffer(b"".join(blobs), np.uint8),
        offsets=offsets,
        crop_clip=np.array(crop_clip, np.int32),
        clip_label=np.array([clip.label for clip, _, _ in kept], np.int32),
        clip_split=column("split"),
        clip_group=column("group"),
        clip_dataset=column("dataset"),
        clip_method=column("method"),
        clip_sha256=np.array([sha for _, sha, _ in kept]),
        reference_crops=references,
        reference_features=reference_features.astype(np.float32),
        **weights,
    )
    size = args.out.stat().st_size
    print(f"{args.out}: {len(kept)} clips, {len(blobs)} crops, {len(weights)} weight tensors, {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
