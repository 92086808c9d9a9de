"""Command line: score clips, batch-score an archive, serve the REST API, train, evaluate.

Scoring imports no TensorFlow when the model's TFLite copies are verified (model/loader.py);
the train and evaluate commands, and their options, are loaded only when asked for.

Exit codes of `score`: 0 when every clip was processed (no_face included), 1 when any
clip failed, 2 for usage errors. User errors are one line each, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2

from pipeline.errors import PipelineError
from pipeline.results import VideoResult
from pipeline.settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The CLI; the train and evaluate options are added only when `argv` runs that command."""
    defaults = Settings()
    parser = argparse.ArgumentParser(prog="dfd", description="Deepfake video verification pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)

    score = commands.add_parser("score", help="score one or more video files")
    score.add_argument("paths", nargs="+", metavar="PATH")
    score.add_argument("--json", action="store_true", help="one JSON object per clip, one per line")
    score.add_argument("--frames", type=_positive_int, help=f"frames to sample (default {defaults.frames})")
    score.add_argument("--fps", type=_positive_float, dest="sample_fps", help="sample at this rate instead")
    score.add_argument("--detector", help=f"face detector (default {defaults.detector})")
    score.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    score.add_argument("--threshold", type=float, help="decision threshold (default: the model's)")
    score.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")

    batch = commands.add_parser("batch", help="score an archive (folders, files, manifests) into JSON lines")
    from pipeline.batch.command import add_batch_arguments

    add_batch_arguments(batch)
    batch.add_argument("--frames", type=_positive_int, help=f"frames to sample (default {defaults.frames})")
    batch.add_argument("--fps", type=_positive_float, dest="sample_fps", help="sample at this rate instead")
    batch.add_argument("--detector", help=f"face detector (default {defaults.detector})")
    batch.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    batch.add_argument("--threshold", type=float, help="decision threshold (default: the model's)")

    serve = commands.add_parser("serve", help="serve the REST API (FastAPI on uvicorn)", add_help=False)
    serve.add_argument("serve_args", nargs=argparse.REMAINDER)

    train = commands.add_parser("train", help="train a detector on a manifest CSV or a FF++/DFDC folder")
    evaluate = commands.add_parser("evaluate", help="video-level metrics of a model on a manifest")
    if argv and argv[0] == "train":  # training's options (and Keras) load only for training
        from pipeline.training.recipe import with_recipe
        from pipeline.training.train import add_train_arguments

        add_train_arguments(train)
        with_recipe(train, list(argv[1:]))
    elif argv and argv[0] == "evaluate":
        from pipeline.training.evaluate import add_evaluate_arguments

        add_evaluate_arguments(evaluate)
    return parser


def _settings_from(args: argparse.Namespace) -> Settings:
    return Settings().with_overrides(
        frames=args.frames,
        sample_fps=args.sample_fps,
        detector=args.detector,
        model_path=args.model,
        threshold=args.threshold,
    )


def _human_line(result: VideoResult) -> str:
    faces = f"{result.face_frames}/{len(result.frames)} frames with a face"
    if result.probability_fake is None:
        return f"{result.file}: no face found ({faces}); no verdict"
    people = f", {len(result.people)} people" if len(result.people) > 1 else ""
    return (
        f"{result.file}: {result.assessment.value.upper()} p(fake)={result.probability_fake:.3f} "
        f"({result.verdict.value} at threshold {result.threshold:.2f}), {faces}{people}, "
        f"{result.timings.total:.2f} s; {' '.join(result.assessment_reasons)}"
    )


def run_score(args: argparse.Namespace) -> int:
    from pipeline.results import error_json
    from pipeline.scoring.scorer import Scorer

    try:
        scorer = Scorer.load(_settings_from(args))
    except (PipelineError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not scorer.model.info.trained:
        print(
            f"warning: model {scorer.model.info.name} {scorer.model.info.version} is UNTRAINED; "
            "its probabilities carry no evidence",
            file=sys.stderr,
        )
    failed = False
    for path in args.paths:
        try:
            result = scorer.score(path)
        except (PipelineError, cv2.error, OSError) as error:
            message = str(error) if isinstance(error, PipelineError) else f"{path}: {error}"
            failed = True
            if args.json:
                print(json.dumps(error_json(path, message)), flush=True)
            print(f"error: {message}", file=sys.stderr)
            continue
        except Exception as error:  # a bug: still finish the other clips, report in one line
            if args.debug:
                raise
            failed = True
            message = f"{path}: internal error ({type(error).__name__}: {error})"
            if args.json:
                print(json.dumps(error_json(path, message)), flush=True)
            print(f"error: {message}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(result.to_json_dict()), flush=True)
        else:
            print(_human_line(result), flush=True)
    return EXIT_FAILED if failed else EXIT_OK


TRAINING_COMMANDS = ("train", "evaluate")


def run() -> int:
    """The console script `dfd` and `python -m pipeline`: quiet logs, then `main`.

    TensorFlow is imported (quietly, its banner hidden) only by the commands that need it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    return main()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv else None
    if command in TRAINING_COMMANDS:
        from pipeline.model.loader import import_tensorflow_quietly

        import_tensorflow_quietly()
    if command == "serve":
        from api.app import serve

        return serve(argv[1:])
    try:
        parser = build_parser(argv)
    except PipelineError as error:  # a bad recipe file
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    if args.command == "score":
        return run_score(args)
    if args.command == "batch":
        from pipeline.batch.command import run_batch

        return run_batch(args, _settings_from(args))
    try:
        if args.command == "train":
            from pipeline.training.train import run_train

            return run_train(args)
        from pipeline.training.evaluate import run_evaluate

        return run_evaluate(args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
