"""`python -m pipeline ...`: see pipeline/cli.py."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")


def _import_tensorflow_quietly() -> None:
    """TensorFlow's C++ start-up banner bypasses its log level; hide stderr while it loads."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


_import_tensorflow_quietly()

from pipeline.cli import main  # noqa: E402  (TensorFlow must load quietly first)

sys.exit(main())
