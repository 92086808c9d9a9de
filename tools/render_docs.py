"""Fill the docs' metric regions from the model metadata, so that each headline figure is written once.

A region is `<!-- metrics:NAME -->...<!-- /metrics:NAME -->` in README.md, models/*.md, models/*/README.md or
docs/*.md. Its content is generated from models/detector.json (the shipped model) and
models/detector_development.json (the same recipe trained on the train split only, whose val
metrics are the held-out ones); it must not be edited by hand. A region may sit inside a sentence or
a table cell (one line) or hold a whole table (its content then starts and ends with a blank line).

    python -m tools.render_docs            # rewrite the stale regions
    python -m tools.render_docs --check    # exit 1 and name the stale docs, write nothing

`make test` runs the check (tests/test_docs.py), so a figure that no longer matches the metadata,
or a region edited by hand, fails the tests.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHIPPED_METADATA = Path("models/detector.json")
DEVELOPMENT_METADATA = Path("models/detector_development.json")
DOC_GLOBS = ("README.md", "models/*.md", "models/*/README.md", "docs/*.md")

_REGION = re.compile(
    r"<!-- metrics:(?P<name>[a-z0-9-]+) -->(?P<body>.*?)<!-- /metrics:(?P=name) -->",
    re.DOTALL,
)
_OPENING = re.compile(r"<!-- metrics:([a-z0-9-]+) -->")


class DocsError(ValueError):
    """A doc's markers cannot be rendered: an unknown region name or a region left open."""


@dataclass(frozen=True)
class Metadata:
    """The two model metadata files, as written by `dfd train` and `dfd evaluate --fit-calibration`."""

    shipped: dict[str, Any]
    development: dict[str, Any]

    @classmethod
    def read(cls, root: Path) -> Metadata:
        return cls(
            shipped=json.loads((root / SHIPPED_METADATA).read_text()),
            development=json.loads((root / DEVELOPMENT_METADATA).read_text()),
        )

    @property
    def val(self) -> dict[str, Any]:
        """The held-out val metrics after calibration (the development model never saw val)."""
        calibrated: dict[str, Any] = self.development["metrics"]["val"]["calibrated"]
        return calibrated

    @property
    def val_raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = self.development["metrics"]["val"]["raw"]
        return raw


def _f3(value: float) -> str:
    return f"{value:.3f}"


def _ci(metrics: dict[str, Any]) -> str:
    low, high = metrics["auc_ci95"]
    return f"{low:.3f}-{high:.3f}"


def _block(lines: list[str]) -> str:
    """A region that holds whole blocks: blank lines keep its markers out of the table's rows."""
    return "\n\n" + "\n".join(lines) + "\n\n"


def _val_auc(meta: Metadata) -> str:
    return f"{_f3(meta.val['auc'])} (95% CI {_ci(meta.val)})"


def _val_clips(meta: Metadata) -> str:
    val = meta.val
    return f"{val['clips']} val clips ({val['fakes']} fake, {val['reals']} real)"


def _heads_val_auc(meta: Metadata) -> str:
    histories = meta.development["metrics"].get("member_histories") or [meta.development["metrics"]["history"]]
    return ", ".join(_f3(history["val_video_auc"][-1]) for history in histories)


def _calibration(meta: Metadata) -> str:
    info = meta.shipped
    bias = info["calibration_bias"]
    sign = "+" if bias >= 0 else "-"
    return f"sigmoid(logit(p) / {info['calibration_temperature']:.3f} {sign} {abs(bias):.3f})"


def _val_table(meta: Metadata) -> str:
    def row(label: str, metrics: dict[str, Any]) -> str:
        cells = [_f3(metrics[key]) for key in ("accuracy", "log_loss", "brier", "ece")]
        return f"| {label} | {_f3(metrics['auc'])} | {_ci(metrics)} | " + " | ".join(cells) + " |"

    development = meta.development
    lines = [
        f"{development['name']} {development['version']} on {_val_clips(meta)}, "
        f"threshold {development['threshold']}:",
        "",
        "| rows | AUC | AUC 95% CI | accuracy | log loss | Brier | ECE |",
        "|---|---|---|---|---|---|---|",
        row("(a) three heads, certainty attention + LSTM, calibrated (in-sample)", meta.val),
        row("(a) before calibration", meta.val_raw),
    ]
    return _block(lines)


def _model_summary(meta: Metadata) -> str:
    shipped, metrics = meta.shipped, meta.shipped["metrics"]
    development_metrics = meta.development["metrics"]
    rows = [
        ("shipped model", f"`models/detector.keras`: {shipped['name']} {shipped['version']}"),
        ("trained on", f"{metrics['train_clips']} clips ({', '.join(metrics['trained_on_splits'])})"),
        ("held-out twin", f"`models/detector_development.keras`: {development_metrics['train_clips']} train clips"),
        ("val AUC (held-out twin)", _val_auc(meta)),
        ("val accuracy / ECE, calibrated in-sample", f"{_f3(meta.val['accuracy'])} / {_f3(meta.val['ece'])}"),
        ("calibration (Platt)", _calibration(meta)),
        ("decision threshold", f"{shipped['threshold']}"),
        ("created", str(shipped.get("created") or "-")[:10]),
    ]
    return _block(["| what | value |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


RENDERERS: dict[str, Callable[[Metadata], str]] = {
    "val-auc": _val_auc,
    "val-auc-point": lambda meta: _f3(meta.val["auc"]),
    "val-clips": _val_clips,
    "val-accuracy": lambda meta: _f3(meta.val["accuracy"]),
    "val-ece": lambda meta: _f3(meta.val["ece"]),
    "val-ece-raw": lambda meta: _f3(meta.val_raw["ece"]),
    "val-log-loss-raw": lambda meta: _f3(meta.val_raw["log_loss"]),
    "heads-val-auc": _heads_val_auc,
    "train-clips": lambda meta: str(meta.shipped["metrics"]["train_clips"]),
    "calibration": _calibration,
    "val-table": _val_table,
    "model-summary": _model_summary,
}


def render_text(text: str, meta: Metadata) -> str:
    """`text` with every metric region's content regenerated; the rest is left byte for byte."""

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in RENDERERS:
            raise DocsError(f"unknown metrics region {name!r} (known: {', '.join(sorted(RENDERERS))})")
        return f"<!-- metrics:{name} -->{RENDERERS[name](meta)}<!-- /metrics:{name} -->"

    rendered = _REGION.sub(fill, text)
    opened = _OPENING.findall(text)
    closed = [m.group("name") for m in _REGION.finditer(text)]
    if len(opened) != len(closed):
        unclosed = sorted(set(opened) - set(closed)) or sorted(set(opened))
        raise DocsError(f"metrics region without its closing marker: {', '.join(unclosed)}")
    return rendered


def doc_paths(root: Path) -> list[Path]:
    return sorted({path for pattern in DOC_GLOBS for path in root.glob(pattern)})


def stale_docs(root: Path, write: bool = False) -> list[Path]:
    """The docs whose regions differ from the metadata (rewritten in place when `write`)."""
    meta = Metadata.read(root)
    stale = []
    for path in doc_paths(root):
        text = path.read_text()
        try:
            rendered = render_text(text, meta)
        except DocsError as error:
            raise DocsError(f"{path.relative_to(root)}: {error}") from None
        if rendered != text:
            stale.append(path)
            if write:
                path.write_text(rendered)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when a doc is stale; write nothing")
    parser.add_argument("--root", type=Path, default=REPO, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)
    try:
        stale = stale_docs(args.root, write=not args.check)
    except DocsError as error:
        print(f"render_docs: {error}", file=sys.stderr)
        return 2
    for path in stale:
        name = path.relative_to(args.root)
        print(f"{name}: stale, run `python -m tools.render_docs`" if args.check else f"{name}: updated")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
