"""A recipe file sets `dfd train`'s defaults; flags still win; bad recipes get one clear message."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from pipeline.cli import build_parser, main
from pipeline.errors import DataError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "configs" / "detector-1.2.0.toml"
# The flags 1.2.0 was trained with, as the Makefile spelled them before the recipe file existed.
FLAGS_1_2_0 = (
    "--backbone mobilenet_v2_mid_ft --development-backbone mobilenet_v2_mid_ft_train --fine-tune-layers 0 "
    "--augment-copies 3 --epochs 50 --batch-size 32 --lr 1e-4 --validation-freq 5 --members 3 --refit-all "
    "--folds 0 --version 1.2.0"
)


def parse(*argv: str):
    return build_parser(list(argv)).parse_args(list(argv))


def test_the_shipped_recipe_is_the_flags_1_2_0_was_trained_with():
    from_recipe = vars(parse("train", "m.csv", "--recipe", str(SHIPPED)))
    from_flags = vars(parse("train", "m.csv", *shlex.split(FLAGS_1_2_0)))
    from_recipe.pop("recipe")
    from_flags.pop("recipe")
    assert from_recipe == from_flags
    assert from_recipe["epochs"] == 50 and from_recipe["refit_all"] is True  # not just the defaults


def test_a_flag_on_the_command_line_beats_the_recipe(tmp_path: Path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('epochs = 7\nbatch-size = 4\ncache_dir = "elsewhere"\n')
    args = parse("train", "m.csv", "--recipe", str(recipe), "--epochs", "3")
    assert (args.epochs, args.batch_size, args.cache_dir) == (3, 4, Path("elsewhere"))


def test_unknown_keys_and_broken_files_are_refused_in_one_line(tmp_path: Path, capsys):
    recipe = tmp_path / "r.toml"
    recipe.write_text("epochs = 7\nlearning_rate = 0.1\n")
    with pytest.raises(DataError, match="unknown recipe keys learning_rate"):
        parse("train", "m.csv", "--recipe", str(recipe))
    recipe.write_text("epochs = = 7\n")
    assert main(["train", "m.csv", "--recipe", str(recipe)]) == 2
    assert "not a valid TOML recipe" in capsys.readouterr().err
    assert main(["train", "m.csv", "--recipe", str(tmp_path / "missing.toml")]) == 2
