"""Which TensorFlow Lite interpreter this machine has, found once for every .tflite user.

Why: XNNPACK runs the small CNNs of scoring (BlazeFace, the frame encoder) 1.7-2.7x faster
than OpenCV's DNN module or Keras on a CPU. LiteRT (`ai-edge-litert`) is preferred when
installed; TensorFlow 2.21's deprecated `tf.lite.Interpreter` is the pinned fallback.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any, cast


@functools.cache
def interpreter_class() -> type | None:
    """The interpreter class, or None when neither runtime is importable."""
    try:
        from ai_edge_litert.interpreter import Interpreter

        return cast(type, Interpreter)
    except ImportError:
        pass
    try:
        import tensorflow as tf

        return cast(type, tf.lite.Interpreter)
    except (ImportError, AttributeError):
        return None


def default_threads() -> int:
    """The CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def make_interpreter(*, model_content: bytes | None = None, model_path: str | None = None, threads: int = 1) -> Any:
    """An interpreter for a flatbuffer or a file; raises RuntimeError when no runtime exists."""
    cls = interpreter_class()
    if cls is None:
        raise RuntimeError("no TensorFlow Lite interpreter is installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite's deprecation notice
        if model_content is not None:
            return cls(model_content=model_content, num_threads=threads)
        return cls(model_path=model_path, num_threads=threads)
