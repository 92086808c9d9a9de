"""Each headline figure is written once: the docs' metric regions match the model metadata.

`python -m tools.render_docs` fills `<!-- metrics:NAME -->` regions from models/detector.json and
models/detector_development.json; a stale figure, or a region edited by hand, fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.model_card import split_card_images, without_html_comments
from tools.render_docs import RENDERERS, DocsError, Metadata, doc_paths, render_text, stale_docs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The docs and the two metadata files, copied where a test may edit them."""
    for path in [*doc_paths(REPO), REPO / "models/detector.json", REPO / "models/detector_development.json"]:
        target = tmp_path / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return tmp_path


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.render_docs", "--check", "--root", str(root)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )


def test_the_docs_match_the_model_metadata() -> None:
    result = run_check(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_headline_regions_are_used() -> None:
    """The val AUC is generated where a reader meets it first: the README and the model card."""
    for name in ("README.md", "models/MODEL_CARD.md"):
        assert "<!-- metrics:val-auc -->" in (REPO / name).read_text(), name


def test_a_region_edited_by_hand_fails_the_check(repo_copy: Path) -> None:
    card = repo_copy / "models/MODEL_CARD.md"
    text = card.read_text()
    opening = "<!-- metrics:val-auc -->"
    start = text.index(opening) + len(opening)
    end = text.index("<!-- /metrics:val-auc -->", start)
    card.write_text(text[:start] + "0.999 (95% CI 0.990-1.000)" + text[end:])

    result = run_check(repo_copy)
    assert result.returncode == 1
    assert "models/MODEL_CARD.md: stale" in result.stdout


def test_new_metadata_makes_the_docs_stale_until_rendered(repo_copy: Path) -> None:
    meta_path = repo_copy / "models/detector_development.json"
    metadata = json.loads(meta_path.read_text())
    metadata["metrics"]["val"]["calibrated"]["auc"] = 0.801
    meta_path.write_text(json.dumps(metadata))
    assert run_check(repo_copy).returncode == 1

    rewritten = stale_docs(repo_copy, write=True)
    assert repo_copy / "README.md" in rewritten
    assert "<!-- metrics:val-auc -->0.801 (95% CI" in (repo_copy / "README.md").read_text()
    assert run_check(repo_copy).returncode == 0


def test_rendering_fills_only_the_regions() -> None:
    meta = Metadata.read(REPO)
    text = "before <!-- metrics:val-auc-point -->old<!-- /metrics:val-auc-point --> after\n"
    rendered = render_text(text, meta)
    point = f"{meta.val['auc']:.3f}"
    assert rendered == f"before <!-- metrics:val-auc-point -->{point}<!-- /metrics:val-auc-point --> after\n"
    assert render_text(rendered, meta) == rendered


def test_a_block_region_holds_a_table_on_its_own_lines() -> None:
    text = render_text("<!-- metrics:val-table --><!-- /metrics:val-table -->", Metadata.read(REPO))
    body = text.removeprefix("<!-- metrics:val-table -->").removesuffix("<!-- /metrics:val-table -->")
    assert body.startswith("\n") and body.endswith("\n")
    assert "| rows | AUC |" in body


@pytest.mark.parametrize(
    "text",
    [
        "<!-- metrics:no-such-figure -->x<!-- /metrics:no-such-figure -->",
        "<!-- metrics:val-auc -->0.7 and no closing marker",
    ],
)
def test_unknown_or_unclosed_regions_are_refused(text: str) -> None:
    with pytest.raises(DocsError):
        render_text(text, Metadata.read(REPO))


def test_every_renderer_runs_on_the_shipped_metadata() -> None:
    meta = Metadata.read(REPO)
    for name, renderer in RENDERERS.items():
        assert renderer(meta).strip(), name


def test_the_model_card_page_shows_the_figures_without_their_markers() -> None:
    card = (REPO / "models/MODEL_CARD.md").read_text()
    shown, _ = split_card_images(without_html_comments(card), REPO / "models")
    assert "<!--" not in shown and "-->" not in shown
    assert f"{Metadata.read(REPO).val['auc']:.3f} (95% CI" in shown
