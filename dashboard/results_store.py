"""Scored clips on disk, keyed by the clip's sha256 and the settings, so reopening one is instant.

Each result is a JSON file (every field of `VideoResult`, full precision) and an `.npz` with the
face crops: no pickle, so a tampered file cannot run code. Loading gives back the same typed
`VideoResult` the pipeline produced; nobody downstream works from a loose dict.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipeline.results import RECORD_FORMAT, VideoResult
from pipeline.settings import Settings

KEY_RE = re.compile(r"^[0-9a-f]{32}_[0-9a-f]{16}$")


def result_key(sha256: str, settings: Settings, model_sha256: str, owner: int = 0) -> str:
    """The cache key: same bytes, settings, model and owner give the same result.

    The owner is part of it, so a result is only ever reused for the user who produced it: another
    user's upload of the same clip is analysed afresh and learns nothing (no message, no speed-up, no
    timings or file name of someone else).
    """
    payload = {"settings": settings.to_dict(), "model": model_sha256, "format": RECORD_FORMAT, "owner": owner}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{sha256[:32]}_{digest}"


def with_display_name(result: VideoResult, name: str) -> VideoResult:
    """The result as the user knows it: the uploaded file's name, not the server's temporary path."""
    return replace(result, file=name, video=replace(result.video, path=name))


class ResultStore:
    """A folder of results; writes are atomic (temporary file, then rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _paths(self, key: str) -> tuple[Path, Path]:
        if not KEY_RE.match(key):
            raise ValueError(f"not a result key: {key!r}")  # never let a key walk out of the folder
        return self.root / f"{key}.json", self.root / f"{key}.npz"

    def exists(self, key: str) -> bool:
        return all(path.exists() for path in self._paths(key))

    def save(self, key: str, result: VideoResult) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        json_path, npz_path = self._paths(key)
        suffix = f".{os.getpid()}.{secrets.token_hex(8)}.tmp"  # unique per write: concurrent saves never collide
        tmp_npz = npz_path.with_name(npz_path.name + suffix)
        tmp_json = json_path.with_name(json_path.name + suffix)
        try:
            with open(tmp_npz, "xb") as handle:
                np.savez_compressed(handle, allow_pickle=False, **result.to_arrays())
            os.replace(tmp_npz, npz_path)
            with open(tmp_json, "x") as text:
                text.write(json.dumps(result.to_record()))
            os.replace(tmp_json, json_path)  # the JSON last: its presence means the entry is complete
        finally:
            tmp_npz.unlink(missing_ok=True)
            tmp_json.unlink(missing_ok=True)

    def load(self, key: str) -> VideoResult | None:
        """The stored result, or None when it is missing or damaged (then it is simply re-analysed)."""
        json_path, npz_path = self._paths(key)
        try:
            record = json.loads(json_path.read_text())
            with np.load(npz_path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            return VideoResult.from_record(record, arrays)
        except (OSError, ValueError, KeyError, TypeError, StopIteration):
            return None

    def delete(self, key: str) -> None:
        for path in self._paths(key):
            path.unlink(missing_ok=True)
