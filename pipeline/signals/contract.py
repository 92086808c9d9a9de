"""The signal contract: what every signal reads, what it returns, and the registry.

A signal reads the decoded clip (sampled frames with their times, the main face track and its
crops, the audio when there is any) and returns a clip-level probability with per-window scores,
or `available=False` and a reason when it cannot judge (no face, too few frames, no audio). The
fusion leaves an unavailable signal out instead of reading it as 0.5.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pipeline.faces.types import Box


@dataclass(frozen=True, slots=True)
class SignalWindow:
    """A signal's score for one stretch of the clip, in seconds from its start."""

    start_s: float
    end_s: float
    score: float

    def to_json_dict(self) -> dict[str, float]:
        return {"start_s": round(self.start_s, 4), "end_s": round(self.end_s, 4), "score": round(self.score, 6)}

    def to_record(self) -> dict[str, float]:
        return {"start_s": float(self.start_s), "end_s": float(self.end_s), "score": float(self.score)}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> SignalWindow:
        return cls(float(data["start_s"]), float(data["end_s"]), float(data["score"]))


@dataclass(frozen=True, slots=True)
class SignalResult:
    """One signal's verdict on one clip: a probability and per-window scores, or why it abstains."""

    name: str
    available: bool
    reason: str
    probability_fake: float | None
    windows: tuple[SignalWindow, ...] = ()

    def __post_init__(self) -> None:
        if self.available != (self.probability_fake is not None):
            raise ValueError(f"signal {self.name!r}: a probability exactly when it is available")

    @classmethod
    def unavailable(cls, name: str, reason: str) -> SignalResult:
        return cls(name=name, available=False, reason=reason, probability_fake=None)

    def to_json_dict(self) -> dict[str, Any]:
        """The rounded public view (`score --json`)."""
        return {
            "name": self.name,
            "available": self.available,
            "reason": self.reason,
            "probability_fake": None if self.probability_fake is None else round(float(self.probability_fake), 6),
            "windows": [window.to_json_dict() for window in self.windows],
        }

    def to_record(self) -> dict[str, Any]:
        """Full precision, for the stored result (`from_record` reverses it)."""
        return {
            "name": self.name,
            "available": self.available,
            "reason": self.reason,
            "probability_fake": None if self.probability_fake is None else float(self.probability_fake),
            "windows": [window.to_record() for window in self.windows],
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> SignalResult:
        probability = data["probability_fake"]
        return cls(
            name=str(data["name"]),
            available=bool(data["available"]),
            reason=str(data["reason"]),
            probability_fake=None if probability is None else float(probability),
            windows=tuple(SignalWindow.from_record(window) for window in data["windows"]),
        )


@dataclass(frozen=True)
class AudioTrack:
    """A clip's sound, mono."""

    samples: np.ndarray  # float32 in -1..1
    sample_rate: int


@dataclass(frozen=True)
class ClipInput:
    """What every signal reads: the sampled frames' times, the main face track with one crop per
    frame that has a face, the clip's frame rate and length, and its audio when it has any."""

    times_s: tuple[float, ...]
    boxes: tuple[Box | None, ...]
    crops: np.ndarray  # (frames with a face, S, S, 3) uint8, in frame order
    fps: float
    duration_s: float
    audio: AudioTrack | None = None

    @property
    def mask(self) -> np.ndarray:
        return np.array([box is not None for box in self.boxes], dtype=np.float32)


class Signal(Protocol):
    """A registered piece of evidence about a clip."""

    name: str

    def evaluate(self, clip: ClipInput) -> SignalResult: ...


SignalFactory = Callable[..., Signal]
SIGNALS: dict[str, SignalFactory] = {}


def register_signal(name: str) -> Callable[[SignalFactory], SignalFactory]:
    """Add a signal factory to `SIGNALS` under `name`; a second signal of the same name is refused."""

    def decorator(factory: SignalFactory) -> SignalFactory:
        if name in SIGNALS:
            raise ValueError(f"signal {name!r} is registered twice")
        SIGNALS[name] = factory
        return factory

    return decorator


def windows_of(
    times_s: tuple[float, ...], scores: np.ndarray, mask: np.ndarray, window_s: float
) -> tuple[SignalWindow, ...]:
    """Per-frame scores grouped into consecutive windows of `window_s` seconds: each window's
    score is the mean over its frames with a face; windows without one are left out."""
    if window_s <= 0:
        raise ValueError("window_s must be positive")
    bins: dict[int, list[float]] = {}
    for time_s, score, has_face in zip(times_s, scores, mask, strict=True):
        if has_face > 0:
            bins.setdefault(int(time_s // window_s), []).append(float(score))
    return tuple(
        SignalWindow(start_s=k * window_s, end_s=(k + 1) * window_s, score=float(np.mean(values)))
        for k, values in sorted(bins.items())
    )
