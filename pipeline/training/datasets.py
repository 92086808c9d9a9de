"""Read labelled clips from a manifest CSV or the FaceForensics++ / DFDC folder layouts."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import DataError

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm"}
LABELS = {"REAL": 0, "FAKE": 1, "0": 0, "1": 1, "real": 0, "fake": 1}
DEFAULT_VAL_FRACTION = 0.2


@dataclass(frozen=True)
class Clip:
    path: Path
    label: int  # 1 = fake
    split: str
    group: str
    method: str = ""
    dataset: str = ""


def family_weights(clips: Sequence[Clip]) -> np.ndarray:
    """Sampling weights: fakes and reals weigh the same in total, and so does every
    generator family within the fakes and every dataset within the reals, so the many
    clips of one family cannot drown the rare ones."""
    keys = [(c.label, c.method if c.label else c.dataset) for c in clips]
    families_per_label = {label: {k for k in keys if k[0] == label} for label in (0, 1)}
    counts = {k: keys.count(k) for k in set(keys)}
    weights = np.array([1.0 / (counts[k] * len(families_per_label[k[0]])) for k in keys])
    normalised: np.ndarray = weights / weights.sum()
    return normalised


def _split_for_group(group: str, val_fraction: float) -> str:
    """A stable split from the group name alone, so no group straddles train and val."""
    bucket = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "val" if bucket < val_fraction else "train"


def _parse_label(value: str, where: str) -> int:
    if value.strip() not in LABELS:
        raise DataError(f"{where}: label {value!r} is not REAL/FAKE/0/1")
    return LABELS[value.strip()]


def read_manifest(path: Path, val_fraction: float = DEFAULT_VAL_FRACTION) -> list[Clip]:
    """CSV with file,label[,split,group,method,dataset]; files relative to the CSV or its clips/."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"file", "label"} <= set(rows[0]):
        raise DataError(f"{path}: a manifest needs the columns file,label")
    clips = []
    for number, row in enumerate(rows, start=2):
        candidates = [path.parent / row["file"], path.parent / "clips" / row["file"]]
        file = next((c for c in candidates if c.exists()), candidates[0])
        group = row.get("group") or Path(row["file"]).stem
        clips.append(
            Clip(
                path=file,
                label=_parse_label(row["label"], f"{path}:{number}"),
                split=row.get("split") or _split_for_group(group, val_fraction),
                group=group,
                method=row.get("method") or ("original" if row["label"].strip().upper() == "REAL" else "unknown"),
                dataset=row.get("dataset", ""),
            )
        )
    return clips


class UnionFind:
    """Union-find over names: which groups, people or families end up joined."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def read_faceforensics(root: Path, val_fraction: float = DEFAULT_VAL_FRACTION) -> list[Clip]:
    """original_sequences/**/videos/X.mp4 are real; manipulated_sequences/<method>/**/A_B.mp4 fake.

    A fake A_B shows A's video with B's face: A and B are joined in one group.
    """
    entries: list[tuple[Path, int, str, list[str]]] = []
    for video in sorted(root.glob("original_sequences/**/*")):
        if video.suffix.lower() in VIDEO_SUFFIXES:
            entries.append((video, 0, "original", [video.stem]))
    for video in sorted(root.glob("manipulated_sequences/*/**/*")):
        if video.suffix.lower() in VIDEO_SUFFIXES:
            method = video.relative_to(root / "manipulated_sequences").parts[0]
            entries.append((video, 1, method, video.stem.split("_")))
    groups = UnionFind()
    for _, _, _, ids in entries:
        for other in ids[1:]:
            groups.union(ids[0], other)
    clips = []
    for video, label, method, ids in entries:
        group = "ffpp_" + groups.find(ids[0])
        split = _split_for_group(group, val_fraction)
        clips.append(Clip(video, label, split, group, method, "FaceForensics++"))
    return clips


def read_dfdc(root: Path, val_fraction: float = DEFAULT_VAL_FRACTION) -> list[Clip]:
    """Every metadata.json under root: {"x.mp4": {"label": "FAKE", "original": "y.mp4"}}."""
    clips = []
    for meta_file in sorted(root.rglob("metadata.json")):
        try:
            meta = json.loads(meta_file.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise DataError(f"{meta_file}: unreadable DFDC metadata ({error})") from error
        for name, entry in sorted(meta.items()):
            label = _parse_label(str(entry.get("label", "")), f"{meta_file}:{name}")
            group = "dfdc_" + Path(entry.get("original") or name).stem
            clips.append(
                Clip(
                    path=meta_file.parent / name,
                    label=label,
                    split=_split_for_group(group, val_fraction),
                    group=group,
                    method="DFDC" if label else "original",
                    dataset="DFDC",
                )
            )
    return clips


def load_clips(data: str | Path, val_fraction: float = DEFAULT_VAL_FRACTION) -> list[Clip]:
    """Clips from a manifest CSV, a folder holding manifest.csv, or a FF++/DFDC folder."""
    data = Path(data)
    if not data.exists():
        raise DataError(f"{data}: no such file or folder")
    if data.is_file():
        return read_manifest(data, val_fraction)
    if (data / "manifest.csv").exists():
        return read_manifest(data / "manifest.csv", val_fraction)
    clips = []
    if (data / "original_sequences").exists() or (data / "manipulated_sequences").exists():
        clips += read_faceforensics(data, val_fraction)
    clips += read_dfdc(data, val_fraction)
    if not clips:
        raise DataError(f"{data}: no manifest.csv, FaceForensics++ folders or DFDC metadata.json found")
    return clips


def check_group_split(clips: list[Clip]) -> None:
    """Refuse a split where one group is in both train and val (the score would leak)."""
    splits: dict[str, set[str]] = {}
    for clip in clips:
        splits.setdefault(clip.group, set()).add(clip.split)
    leaking = sorted(g for g, s in splits.items() if {"train", "val"} <= s)
    if leaking:
        raise DataError(f"groups in both train and val: {', '.join(leaking[:5])}")
