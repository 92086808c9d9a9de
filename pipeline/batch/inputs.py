"""Which files a batch scores: folders (searched recursively), single files, and manifests."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import PipelineError

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"})
MANIFEST_SUFFIXES = frozenset({".txt", ".csv", ".lst"})
# The column a CSV manifest names its clips in (the training manifests use "path").
MANIFEST_PATH_COLUMNS = ("path", "file", "filename")


def read_manifest(path: Path) -> list[Path]:
    """Clips listed in a manifest: a text file with one path a line (blank lines and lines
    starting with # are skipped), or a CSV with a `path` column. Relative paths are read
    from the manifest's folder."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        column = next((c for c in MANIFEST_PATH_COLUMNS if rows and c in rows[0]), None)
        if column is None:
            columns = ", ".join(MANIFEST_PATH_COLUMNS)
            raise PipelineError(f"{path}: a CSV manifest needs a column named one of {columns}")
        names = [row[column] for row in rows if row[column]]
    else:
        names = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [p if p.is_absolute() else path.parent / p for p in map(Path, names)]


def collect_inputs(arguments: Iterable[str | Path]) -> list[Path]:
    """Every clip named by `arguments`, in a stable order and without duplicates.

    A folder gives its video files (by suffix, recursively); a manifest gives its entries; any
    other path is taken as a clip as it is, so a missing or broken file becomes an error line
    instead of vanishing from the results."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES))
        elif path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
            found.extend(read_manifest(path))
        else:
            found.append(path)
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(str(path.resolve()) if path.exists() else str(path), path)
    return list(unique.values())
