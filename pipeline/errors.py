"""User-facing errors: each carries a one-line reason that names the problem.

Anything raised from here is a user error (bad file, bad flag) and is reported
without a traceback; every other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class for errors a user can act on."""


class VideoError(PipelineError):
    """The file cannot be used as a video."""


class NotAFileError(VideoError):
    pass


class FileTooLargeError(VideoError):
    pass


class UnreadableVideoError(VideoError):
    pass


class EmptyVideoError(VideoError):
    pass


class ResolutionTooLargeError(VideoError):
    pass


class ModelError(PipelineError):
    """The model file is missing, corrupt or incompatible."""


class DataError(PipelineError):
    """A training or evaluation dataset cannot be read."""
