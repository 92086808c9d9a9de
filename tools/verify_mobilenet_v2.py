"""Check the converted Keras MobileNetV2 against torchvision's, logit for logit.

Why two steps: torch must never enter the project venv, so torchvision's
outputs are computed in a throwaway venv and saved as .npy; the comparison
then runs in the project venv.

    # 1. throwaway venv (x86_64: pip install torch==2.14.1 torchvision==0.29.1 scikit-image)
    /tmp/torchvenv/bin/python -m tools.verify_mobilenet_v2 torch --pth .../mobilenet_v2-b0353104.pth
    # 2. project venv
    .venv/bin/python -m tools.verify_mobilenet_v2 compare

Inputs: skimage's astronaut, chelsea (a cat) and coffee, resized to 224x224
(plus 160x160 and an odd 199x199 to exercise stride-2 padding), scaled 0..1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = Path("/tmp/mobilenet_v2_verify")
IMAGE_NAMES = ("astronaut", "chelsea", "coffee")
SIZES = (224, 160, 199)
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
CAT_CLASSES = range(281, 286)  # ImageNet tabby .. Egyptian cat
TOLERANCE = 1e-3


def make_images(size: int) -> np.ndarray:
    """(3, size, size, 3) float32 RGB in 0..1, the same on both sides of the check."""
    import skimage.data
    from skimage.transform import resize

    imgs = [resize(getattr(skimage.data, n)(), (size, size), order=1, anti_aliasing=True) for n in IMAGE_NAMES]
    return np.stack(imgs).astype(np.float32)


def run_torch(pth: Path) -> None:
    """torchvision reference logits -> OUT_DIR/torch_logits_{size}.npy (needs torch + torchvision)."""
    import torch
    import torchvision

    torch.set_num_threads(2)
    model = torchvision.models.mobilenet_v2()
    model.load_state_dict(torch.load(pth, map_location="cpu", weights_only=True))
    model.eval()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        x = make_images(size)
        np.save(OUT_DIR / f"images_{size}.npy", x)
        nchw = torch.from_numpy(((x - MEAN) / STD).transpose(0, 3, 1, 2).copy())
        with torch.no_grad():
            logits = model(nchw).numpy()
        np.save(OUT_DIR / f"torch_logits_{size}.npy", logits)
        print(size, "top-1", logits.argmax(1).tolist())
    print(f"saved to {OUT_DIR} (torch {torch.__version__}, torchvision {torchvision.__version__})")


def compare() -> int:
    """Keras (include_top=True, committed weights) vs saved torch logits; non-zero exit on mismatch."""
    from pipeline.model.mobilenet_v2 import build_mobilenet_v2

    ok = True
    for size in SIZES:
        x = np.load(OUT_DIR / f"images_{size}.npy")
        if not np.array_equal(x, make_images(size)):
            print(f"warning: {size}px images differ between venvs (skimage versions?)")
        ref = np.load(OUT_DIR / f"torch_logits_{size}.npy")
        model = build_mobilenet_v2((size, size, 3), include_top=True, weights="imagenet_offline")
        got = np.asarray(model(x, training=False))
        diff = float(np.abs(got - ref).max())
        top5_ref = np.argsort(-ref, axis=1)[:, :5]
        top5_got = np.argsort(-got, axis=1)[:, :5]
        same5 = bool((top5_ref == top5_got).all())
        print(f"{size}px: max|dlogit|={diff:.3e} top-5 identical={same5}")
        for name, r, g, t in zip(IMAGE_NAMES, ref, got, top5_got, strict=True):
            print(f"  {name:9s} top-5 {t.tolist()} top-1 logit torch={r.max():.6f} keras={g.max():.6f}")
        ok &= diff < TOLERANCE and same5
        if size == 224:
            cat = int(top5_got[IMAGE_NAMES.index("chelsea"), 0])
            print(f"  chelsea top-1 = {cat} ({'cat' if cat in CAT_CLASSES else 'NOT a cat'})")
            ok &= cat in CAT_CLASSES
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    """CLI entry: ``torch`` to make the reference, ``compare`` to check against it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("torch", help="compute torchvision reference logits (torch venv)")
    t.add_argument("--pth", type=Path, required=True)
    sub.add_parser("compare", help="compare the Keras model with the reference (project venv)")
    args = ap.parse_args(argv)
    if args.cmd == "torch":
        run_torch(args.pth)
        return 0
    return compare()


if __name__ == "__main__":
    raise SystemExit(main())
