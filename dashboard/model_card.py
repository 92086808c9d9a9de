"""What `models/` says about the shipped detector: metadata, model card and reliability diagram.

Every file is optional: until a trained model lands, the page must say plainly what is missing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.assessment import InputRange, VerdictBand
from pipeline.model.config import metadata_path
from pipeline.model.fast_encoder import FastEncoderStatus

MODEL_CARD_NAME = "MODEL_CARD.md"
DIAGRAM_PATTERNS = ("*reliability*.png", "*calibration*.png")


@dataclass(frozen=True)
class ModelFiles:
    model_path: Path
    model_exists: bool
    metadata: dict[str, Any] | None
    metadata_error: str | None
    card_markdown: str | None
    diagrams: tuple[Path, ...] = field(default_factory=tuple)

    @property
    def missing(self) -> list[str]:
        """The files a complete model card needs that are not there, named for the user."""
        names = []
        if not self.model_exists:
            names.append(self.model_path.name)
        if self.metadata is None:
            names.append(metadata_path(self.model_path).name)
        if self.card_markdown is None:
            names.append(MODEL_CARD_NAME)
        if not self.diagrams:
            names.append("a reliability diagram (a PNG named *reliability*)")
        return names


def read_model_files(model_path: Path) -> ModelFiles:
    """Read whatever of the model's documentation exists next to the model file."""
    folder = model_path.parent
    meta_file = metadata_path(model_path)
    metadata, error = None, None
    if meta_file.exists():
        try:
            loaded = json.loads(meta_file.read_text())
            metadata = loaded if isinstance(loaded, dict) else None
            error = None if metadata is not None else "the metadata file is not a JSON object"
        except (OSError, ValueError) as exc:
            error = f"{meta_file.name} cannot be read: {exc}"
    card = folder / MODEL_CARD_NAME
    diagrams = sorted({p for pattern in DIAGRAM_PATTERNS for p in folder.glob(pattern)})
    return ModelFiles(
        model_path=model_path,
        model_exists=model_path.exists(),
        metadata=metadata,
        metadata_error=error,
        card_markdown=card.read_text() if card.exists() else None,
        diagrams=tuple(diagrams),
    )


_IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def without_html_comments(markdown: str) -> str:
    """Drop HTML comments (the card's generated-figure markers): Streamlit would print them as text."""
    return _HTML_COMMENT.sub("", markdown)


def split_card_images(markdown: str, folder: Path) -> tuple[str, list[tuple[Path, str]]]:
    """Take the image links out of the model card: Streamlit's markdown cannot show local files.

    Returns the text with each image replaced by a short note, and the (path, alt text) of the
    images that exist in `folder`, for the page to draw with `st.image`.
    """
    images: list[tuple[Path, str]] = []

    def replace(match: re.Match[str]) -> str:
        alt, target = match.group(1), match.group(2)
        path = (folder / target).resolve()
        if path.parent == folder.resolve() and path.exists():
            images.append((path, alt))
            return f"*({alt or path.name}: shown below the card)*"
        return f"*({alt or target}: image not available)*"

    return _IMAGE_LINK.sub(replace, markdown), images


# Per-clip and per-epoch records: kept in the metadata for audits, too long for a table a reader scans.
BULKY_METRICS = frozenset({"clip_probabilities", "history", "member_histories"})


def metric_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """Flatten the metrics dict (possibly nested by split) into (name, value) rows."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key not in BULKY_METRICS:
                    walk(f"{prefix} · {key}" if prefix else str(key), inner)
        elif value is None:
            rows.append((prefix, "not measured"))
        elif isinstance(value, float):
            rows.append((prefix, f"{value:.4f}"))
        elif isinstance(value, list):
            if len(value) <= 12:
                rows.append((prefix, ", ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in value)))
            else:
                rows.append((prefix, f"{len(value)} values"))
        else:
            rows.append((prefix, str(value)))

    walk("", metrics)
    return rows


def runtime_rows(encoder_status: FastEncoderStatus, detector_name: str, detector_runtime: str) -> list[tuple[str, str]]:
    """How the loaded model runs: a reviewer can see that the fast path is the verified one."""
    if encoder_status.runtime == "tflite":
        difference = encoder_status.max_difference
        encoder = "TensorFlow Lite copy, checked against Keras at load" + (
            f" (largest feature difference {difference:.1e})" if difference is not None else ""
        )
    else:
        encoder = f"Keras ({encoder_status.reason})"
    return [("CNN runs on", encoder), ("Face detector", f"{detector_name} on {detector_runtime}")]


def verdict_band_rows(band: VerdictBand | None, input_range: InputRange | None) -> list[tuple[str, str]]:
    """The band behind the three verdicts and how often each was right where it was fitted."""
    if band is None:
        return [("Verdict band", "none fitted: every clip is inconclusive (run python -m tools.fit_verdict_band)")]
    measured = band.measured
    counts = measured.get("assessed_clips") or {}

    def rate(key: str, clips_key: str) -> str:
        value, clips = measured.get(key), measured.get(clips_key) or 0
        return "never given (no limit reached the target)" if value is None else f"{100 * value:.1f}% of {clips} clips"

    rows = [
        ("Target: each outer verdict right at least", f"{100 * band.target_rate:.0f}% of the time"),
        ("'Signs of manipulation' at or above", "never" if band.upper is None else f"{band.upper:.3f}"),
        ("'No signs of manipulation found' at or below", "never" if band.lower is None else f"{band.lower:.3f}"),
        (
            "Fitted on",
            f"{measured.get('clips', '?')} in-range {measured.get('split', '?')} clips, scored by "
            f"{measured.get('predicted_by', '?')} (never trained on them)",
        ),
        ("'Signs of manipulation' was right", rate("signs_right_rate", "signs_clips")),
        ("'No signs of manipulation found' was right", rate("no_signs_right_rate", "no_signs_clips")),
        ("Inconclusive (inside the band)", f"{measured.get('inconclusive_clips', '?')} clips"),
    ]
    if counts:
        rows.append(
            (
                f"All {sum(counts.values())} {measured.get('split', '')} clips, range checks included",
                ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in counts.items()),
            )
        )
    if input_range is not None:
        rows.append(
            (
                "Training range (outside it: inconclusive)",
                f"faces at least {input_range.min_face_side_px} px; {input_range.min_height_px}-"
                f"{input_range.max_height_px} px high; {input_range.min_bits_per_pixel}-"
                f"{input_range.max_bits_per_pixel} bits per pixel",
            )
        )
    if measured.get("fitted"):
        rows.append(("Fitted", str(measured["fitted"])))
    return rows
