"""A training recipe: a small TOML file of `dfd train` options laid over the CLI's defaults.

The shipped model's recipe lives in configs/, not in a Makefile string; flags given on the
command line still win, so a run can vary one thing at a time.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from pipeline.errors import DataError


def recipe_defaults(path: Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The recipe's options as `parser` destinations; unknown keys are refused, naming the known ones."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(f"{path}: recipe file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{path}: not a valid TOML recipe ({error})") from None
    known = {action.dest for action in parser._actions if action.dest not in ("help", "data", "recipe")}
    values = {key.replace("-", "_"): value for key, value in raw.items()}
    unknown = sorted(set(values) - known)
    if unknown:
        raise DataError(f"{path}: unknown recipe keys {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    paths = {action.dest for action in parser._actions if action.type is Path}
    return {key: Path(value) if key in paths else value for key, value in values.items()}


def with_recipe(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    """`parser` with the defaults of the recipe named by `--recipe` in `argv` (if any)."""
    probe = argparse.ArgumentParser(add_help=False)
    probe.add_argument("--recipe", type=Path)
    known, _ = probe.parse_known_args(argv)
    if known.recipe is not None:
        parser.set_defaults(**recipe_defaults(known.recipe, parser))
    return parser
