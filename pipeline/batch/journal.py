"""The results file of a batch and what a rerun may skip.

Each line of `results.jsonl` is exactly what `score --json` prints for the clip. Beside it,
`results.jsonl.done` lists `sha256 settings-key` for each clip scored without error, so a rerun
with the same settings skips those clips (even when they were renamed or moved) and retries
failures; a change of settings or model scores everything again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pipeline.hashing import file_sha256
from pipeline.settings import Settings

DONE_SUFFIX = ".done"


def settings_key(settings: Settings) -> str:
    """A short hash of everything that can change a clip's result: the settings and the model file."""
    model = Path(settings.model_path)
    model_sha256 = file_sha256(model) if model.is_file() else "untrained"
    payload = json.dumps({"settings": settings.to_dict(), "model": model_sha256}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def done_path(out: Path) -> Path:
    return out.with_name(out.name + DONE_SUFFIX)


@dataclass
class Summary:
    """Counts of one run, printed at the end."""

    verdicts: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    seconds: float = 0.0

    @property
    def scored(self) -> int:
        return sum(self.verdicts.values())

    def line(self) -> str:
        counts = ", ".join(f"{verdict} {count}" for verdict, count in sorted(self.verdicts.items())) or "nothing scored"
        rate = f"{self.scored / self.seconds:.2f} clips/s" if self.seconds > 0 and self.scored else "n/a"
        return f"{self.scored} scored ({counts}), {self.skipped} already done, {self.seconds:.1f} s, {rate}"


class Journal:
    """Appends result lines and done keys as clips finish; one writer (the driving process)."""

    def __init__(self, out: Path, key: str):
        self.out = out
        self.key = key
        self.summary = Summary()
        self._done = self._read_done()
        out.parent.mkdir(parents=True, exist_ok=True)
        self._results: TextIO = out.open("a", encoding="utf-8")
        self._done_file: TextIO = done_path(out).open("a", encoding="utf-8")

    def _read_done(self) -> set[str]:
        """sha256s done with this key, that also have a line in the results file."""
        marks = done_path(self.out)
        if not (marks.is_file() and self.out.is_file()):
            return set()
        written = set()
        for line in self.out.read_text(encoding="utf-8").splitlines():
            try:
                written.add(json.loads(line).get("sha256"))
            except json.JSONDecodeError:  # a line cut by a crash: that clip is scored again
                continue
        done = set()
        for line in marks.read_text(encoding="utf-8").splitlines():
            sha256, _, key = line.partition(" ")
            if key == self.key and sha256 in written:
                done.add(sha256)
        return done

    def is_done(self, sha256: str) -> bool:
        return sha256 in self._done

    def skip(self) -> None:
        self.summary.skipped += 1

    def write(self, record: dict[str, Any]) -> None:
        """One clip's line, flushed at once so that an interrupted run keeps what it finished."""
        self._results.write(json.dumps(record) + "\n")
        self._results.flush()
        self.summary.verdicts[str(record["verdict"])] += 1
        sha256 = record.get("sha256")
        if record.get("verdict") != "error" and sha256:
            self._done.add(sha256)
            self._done_file.write(f"{sha256} {self.key}\n")
            self._done_file.flush()

    def close(self) -> None:
        self._results.close()
        self._done_file.close()
