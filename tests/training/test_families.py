"""Leave-families-out folds and their statistics, on made-up manifests (never the shared clips)."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.training.datasets import Clip
from pipeline.training.families import (
    family_folds,
    format_baseline_scores,
    group_bootstrap_auc,
    paired_auc_difference,
)
from pipeline.training.family_eval import clip_statistics, ridge_scores


def manifest() -> list[Clip]:
    """Families A and B share group g1 (one unit); C has its own groups; reals in fake groups and
    in real-only groups; D and E are single-clip families."""
    rows = [
        ("g1", 0, "original"), ("g1", 1, "A"), ("g1", 1, "B"), ("g2", 1, "A"), ("g2", 0, "original"),
        ("g3", 1, "C"), ("g4", 1, "C"), ("g5", 1, "D"), ("g6", 1, "E"),
        ("r1", 0, "original"), ("r1", 0, "original"), ("r2", 0, "original"), ("r3", 0, "original"),
        ("r4", 0, "original"), ("r5", 0, "original"),
    ]  # fmt: skip
    return [Clip(Path(f"c{i}.mp4"), label, "train", group, method) for i, (group, label, method) in enumerate(rows)]


def test_families_and_groups_never_straddle_folds():
    clips = manifest()
    for seed in range(5):
        folds = family_folds(clips, folds=3, seed=seed)
        for key in ("group", "method"):
            for value in {getattr(c, key) for c in clips if c.label == 1 or key == "group"}:
                fold_set = {f for c, f in zip(clips, folds, strict=True) if getattr(c, key) == value}
                if key == "group" or value != "original":
                    assert len(fold_set) == 1, (key, value, fold_set)
        # A and B share a group, so they are held out together, with g1's and g2's reals
        assert len({f for c, f in zip(clips, folds, strict=True) if c.method in ("A", "B")}) == 1
        assert len({f for c, f in zip(clips, folds, strict=True) if c.group in ("g1", "g2")}) == 1
        assert set(folds) == {0, 1, 2}


def test_real_only_groups_are_spread_over_the_folds():
    folds = family_folds(manifest(), folds=3, seed=0)
    reals_per_fold = np.bincount(folds[[i for i, c in enumerate(manifest()) if c.label == 0]], minlength=3)
    assert reals_per_fold.min() >= 1


def test_group_bootstrap_interval_brackets_the_auc():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 40)
    groups = np.arange(80) // 2
    good = labels + rng.normal(0, 0.8, 80)
    auc = group_bootstrap_auc(labels, good, groups, rounds=300)
    assert 0.7 < auc.auc < 1.0 and auc.low < auc.auc < auc.high
    noise = rng.normal(0, 1, 80)
    diff = paired_auc_difference(labels, good, noise, groups, rounds=300)
    assert diff.low > 0  # a real signal beats noise beyond the noise
    same = paired_auc_difference(labels, good, good + 1e-9 * rng.normal(size=80), groups, rounds=300)
    assert same.low <= 0 <= same.high


def test_out_of_fold_ridge_finds_a_planted_direction_and_format_baselines_run():
    rng = np.random.default_rng(1)
    clips = [
        Clip(Path(f"c{i}.mp4"), i % 2, "train", f"g{i // 2 if i % 2 == 0 else i}", f"F{i % 10}") for i in range(80)
    ]
    labels = np.array([c.label for c in clips])
    folds = family_folds(clips, folds=4, seed=0)
    features = rng.normal(size=(80, 6, 5)) + labels[:, None, None] * np.array([1.0, 0, 0, 0, 0])
    masks = np.ones((80, 6))
    stats = clip_statistics(features, masks)
    assert stats.shape == (80, 15)
    scores = ridge_scores(stats[None], labels, np.ones(80), folds, alpha=1.0)
    assert group_bootstrap_auc(labels, scores, np.array([c.group for c in clips]), rounds=100).auc > 0.8
    # weights that sum to one (as family_weights returns them) must not inflate the penalty
    assert np.allclose(ridge_scores(stats[None], labels, np.full(80, 1 / 80), folds, alpha=1.0), scores)
    facts = rng.normal(size=(80, 6))
    baselines = format_baseline_scores(facts, labels, folds)
    assert set(baselines) >= {"duration only", "audio presence only"}
    assert all(not np.isnan(s).any() for s in baselines.values())


def test_a_single_fold_is_refused():
    with pytest.raises(ValueError):
        family_folds(manifest(), folds=1)
