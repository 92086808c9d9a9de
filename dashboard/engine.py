"""The server's one loaded model, shared by every session, and the analyses it runs.

Streamlit runs each browser session in its own thread. The Keras model is not documented as
thread-safe, and the Attention lab changes the model's attention temperature for a moment, so every
use of the model goes through one lock. Everything before the model (writing the upload to disk,
checking its type, decoding, finding faces) runs outside that lock, each analysis with its own face
detector, so one long clip never holds up another user's model step. A few analyses run at once
(`analysis_slots`), and each user one at a time (`analyses_per_user`).
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import shutil
import tempfile
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from dashboard.results_store import ResultStore, result_key, with_display_name
from dashboard.settings import VIDEO_TYPES, AppSettings
from pipeline.errors import PipelineError
from pipeline.faces.base import FaceDetector
from pipeline.faces.registry import create_detector
from pipeline.faces.track import to_model_input
from pipeline.fetch import FetchError, fetch_video
from pipeline.model.output import ModelOutput
from pipeline.results import VideoResult
from pipeline.scoring.extraction import ProgressCallback, extract_faces
from pipeline.scoring.scorer import Scorer
from pipeline.settings import Settings
from pipeline.video import probe_video

FEATURE_CACHE_SIZE = 8
SAFE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- ")
COPY_CHUNK = 1 << 20  # uploads go to disk a megabyte at a time
UPLOAD_PREFIX = "upload-"
STALE_UPLOAD_S = 6 * 3600.0  # older than any analysis can run
SNIFF_BYTES = 64

# What a file is, by its first bytes (for the message when it is not a video we accept).
_NOT_VIDEO_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"BM", "a BMP image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or office document"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg file"),
    (b"fLaC", "a FLAC audio file"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
)


class AnalysisError(Exception):
    """A clip could not be analysed; the message is one line a user can act on."""


class AnalysisBusyError(AnalysisError):
    """The user already has as many analyses running as allowed."""


@dataclass(frozen=True)
class Analysed:
    """A result, its cache key, and whether it was this user's stored result for the same bytes."""

    result: VideoResult
    key: str
    reused: bool


def sniff_container(head: bytes) -> str | None:
    """The container a file's first bytes announce (mp4/mov, mkv/webm, avi), or None.

    Decoders guess formats generously (a PNG opens as a one-frame "video"), so the type is decided
    by the content before any decoder sees the file.
    """
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):
        return "mp4"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    return None


def describe_content(head: bytes) -> str:
    """Words for what a non-video file seems to be."""
    if not head:
        return "an empty file"
    for signature, words in _NOT_VIDEO_SIGNATURES:
        if head.startswith(signature):
            return words
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "a WAV audio file"
    if head.startswith(b"<") or all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return "text"
    return "in no video format we know"


def check_video_type(path: Path, name: str) -> None:
    """Refuse a file whose content is not an mp4/mov, mkv/webm or avi container, in one line."""
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head:
        raise AnalysisError(f"{name}: the file is empty (0 bytes).")
    if sniff_container(head) is None:
        raise AnalysisError(
            f"{name}: this is not a video file (its content is {describe_content(head)}); "
            f"upload a video ({', '.join(VIDEO_TYPES[:-1])} or {VIDEO_TYPES[-1]})."
        )


def copy_to_disk(source: bytes | BinaryIO, folder: Path, name: str) -> tuple[Path, str]:
    """Write an upload to a new private file in `folder`, a chunk at a time; returns (path, sha256)."""
    stream: BinaryIO = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    if hasattr(stream, "seek"):
        stream.seek(0)
    path = folder / name
    digest = hashlib.sha256()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        while block := stream.read(COPY_CHUNK):
            digest.update(block)
            handle.write(block)
    return path, digest.hexdigest()


def clear_stale_uploads(folder: Path, now: float | None = None) -> int:
    """Remove what analyses left in the upload folder when their server died (kill -9, power cut).

    Each analysis works in `upload-<pid>-…`; a folder whose process is gone, or that is older than any
    analysis can run, is stale. Returns how many entries were removed.
    """
    if not folder.is_dir():
        return 0
    now = time.time() if now is None else now
    removed = 0
    for entry in folder.iterdir():
        if _upload_in_use(entry, now):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def _upload_in_use(entry: Path, now: float) -> bool:
    try:
        age = now - entry.lstat().st_mtime
    except FileNotFoundError:
        return True  # someone else just removed it
    parts = entry.name.split("-")
    if not entry.name.startswith(UPLOAD_PREFIX) or len(parts) < 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if age > STALE_UPLOAD_S:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _count_frames_up_to(path: Path, limit: int) -> int:
    """Grab frames until the stream ends or `limit` is passed; bounds the time a header-less clip can take."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        count = 0
        while count <= limit and capture.grab():
            count += 1
        return count
    finally:
        capture.release()


def safe_file_name(name: str) -> str:
    """The uploaded name without any path or odd characters (it lands in a temp folder and in reports)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = "".join(c if c in SAFE_NAME_CHARS else "_" for c in base).strip(" .")
    return cleaned[:120] or "upload"


def _noop(stage: str, fraction: float) -> None:
    del stage, fraction


class Engine:
    """A loaded `Scorer` plus the lock, the extra face detectors and the lab's feature cache."""

    def __init__(self, scorer: Scorer, analyses_per_user: int | None = None, analysis_slots: int | None = None):
        defaults = AppSettings()
        self.scorer = scorer
        self._lock = threading.Lock()
        self._detectors: dict[str, queue.SimpleQueue[FaceDetector]] = {}
        self._detectors_lock = threading.Lock()
        self._features: OrderedDict[str, np.ndarray] = OrderedDict()
        self.analyses_per_user = analyses_per_user or defaults.analyses_per_user
        self.max_duration_s = min(scorer.settings.max_duration_s, defaults.max_duration_s)
        self._slots = threading.BoundedSemaphore(analysis_slots or defaults.analysis_slots)
        self._running: Counter[int] = Counter()
        self._running_lock = threading.Lock()
        self.model_temperature = scorer.model.attention_temperature
        self.certainty_measure = scorer.model.certainty_measure

    @property
    def settings(self) -> Settings:
        return self.scorer.settings

    @property
    def model_sha256(self) -> str:
        return self.scorer.model.info.sha256

    def settings_for(self, frames: int | None = None, detector: str | None = None) -> Settings:
        """The server's settings, the user's choices and the dashboard's length limit; crop size stays the model's."""
        return self.settings.with_overrides(frames=frames, detector=detector, max_duration_s=self.max_duration_s)

    @contextmanager
    def _detector(self, settings: Settings) -> Iterator[FaceDetector]:
        """A face detector of the settings' kind for this analysis alone (detectors keep per-call state)."""
        with self._detectors_lock:
            pool = self._detectors.setdefault(settings.detector, queue.SimpleQueue())
        try:
            detector = pool.get_nowait()
        except queue.Empty:
            detector = create_detector(
                settings.detector, max_side=settings.detector_max_side, min_face_fraction=settings.min_face_fraction
            )
        try:
            yield detector
        finally:
            pool.put(detector)

    @contextmanager
    def _user_slot(self, owner: int) -> Iterator[None]:
        with self._running_lock:
            if self._running[owner] >= self.analyses_per_user:
                raise AnalysisBusyError(
                    "You already have an analysis running; wait for it to finish, then upload this clip again."
                )
            self._running[owner] += 1
        try:
            yield
        finally:
            with self._running_lock:
                self._running[owner] -= 1

    def analyse(
        self,
        source: bytes | BinaryIO,
        name: str,
        settings: Settings,
        results: ResultStore,
        on_progress: ProgressCallback = _noop,
        work_dir: Path | None = None,
        owner: int = 0,
    ) -> Analysed:
        """Score an upload for `owner`, or reuse that owner's stored result for the same bytes and settings.

        The upload is streamed to a private temporary folder (removed afterwards, also on errors),
        its type checked by content, decoded and searched for faces outside the model lock; only the
        model step takes the lock. Raises AnalysisError with a one-line message for anything wrong
        with the file, and AnalysisBusyError when the owner already has an analysis running.
        """
        name = safe_file_name(name)
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._user_slot(owner), tempfile.TemporaryDirectory(
            prefix=f"{UPLOAD_PREFIX}{os.getpid()}-", dir=work_dir
        ) as folder:
            path, sha256 = copy_to_disk(source, Path(folder), name)
            key = result_key(sha256, settings, self.model_sha256, owner=owner)
            cached = results.load(key)
            if cached is not None:
                return Analysed(with_display_name(cached, name), key, reused=True)
            check_video_type(path, name)
            if not self._slots.acquire(blocking=False):
                on_progress("queued", 0.0)
                self._slots.acquire()
            try:
                result = self._score(path, name, sha256, settings, on_progress)
            finally:
                self._slots.release()
        result = with_display_name(result, name)
        results.save(key, result)
        return Analysed(result, key, reused=False)

    def _score(
        self, path: Path, name: str, sha256: str, settings: Settings, on_progress: ProgressCallback
    ) -> VideoResult:
        started = time.perf_counter()
        try:
            info = probe_video(path, settings)
            if info.frame_count <= 0:  # no count in the header: measure, but never past the length limit
                limit = int(settings.max_duration_s * info.fps)
                if _count_frames_up_to(path, limit) > limit:
                    raise AnalysisError(
                        f"{name}: clip is longer than the {settings.max_duration_s / 60:.0f} min limit"
                    )
            with self._detector(settings) as detector:
                faces = extract_faces(path, settings, detector, on_progress, info=info)
                scorer = Scorer(settings, self.scorer.model, detector)
                with self._lock:
                    result = scorer.judge(path, sha256, faces, started=started, on_progress=on_progress)
            return scorer.add_evidence(path, result)  # provenance and keyframes read the file: no lock needed
        except PipelineError as error:
            raise AnalysisError(str(error).replace(str(path), name)) from error
        except cv2.error as error:
            detail = error.err or "OpenCV error"
            raise AnalysisError(f"{name}: the video decoder failed on this file ({detail})") from error

    def analyse_link(
        self,
        url: str,
        settings: Settings,
        results: ResultStore,
        *,
        max_bytes: int,
        max_duration_s: float,
        allow_loopback: bool = False,
        on_progress: ProgressCallback = _noop,
        work_dir: Path | None = None,
        owner: int = 0,
    ) -> Analysed:
        """Fetch the clip behind a link (within the caps, public addresses only) and analyse it for `owner`;
        the link and the fetch time are recorded in the result."""
        if work_dir is not None:
            work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryDirectory(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-", dir=work_dir) as folder:
            try:
                fetched = fetch_video(
                    url,
                    Path(folder),
                    max_bytes=max_bytes,
                    max_duration_s=max_duration_s,
                    allow_loopback=allow_loopback,
                )
            except FetchError as error:
                raise AnalysisError(str(error)) from error
            with open(fetched.path, "rb") as stream:
                name = fetched.path.name
                analysed = self.analyse(
                    stream, name, settings, results, on_progress=on_progress, work_dir=work_dir, owner=owner
                )
        result = replace(analysed.result, source=fetched.source)
        results.save(analysed.key, result)
        return Analysed(result, analysed.key, analysed.reused)

    def can_rerun(self, result: VideoResult) -> bool:
        """Whether the loaded model is the one that produced `result` (else the lab's full model is not comparable)."""
        return result.model.sha256 == self.model_sha256

    def full_model(self, key: str, result: VideoResult, temperature: float) -> ModelOutput:
        """Re-run the network's head on the stored crops at another attention temperature.

        The backbone features do not depend on the temperature, so they are computed once per
        result and kept (a few per server); only the fast attention+LSTM head runs per slider move.
        The temperature is restored before the lock is released.
        """
        mask = np.array([frame.has_face for frame in result.frames], dtype=np.float32)
        model = self.scorer.model
        with self._lock:
            features = self._features.get(key)
            if features is None:
                crops = to_model_input(np.stack([f.crop for f in result.frames if f.crop is not None]))
                features = model.frame_features(crops, mask)
                self._features[key] = features
                while len(self._features) > FEATURE_CACHE_SIZE:
                    self._features.popitem(last=False)
            self._features.move_to_end(key)
            return model.predict_at_temperature(features, mask, temperature)


EngineFactory = Callable[[], Engine]


def load_engine(settings: Settings | None = None) -> Engine:
    """The default engine: the shipped model (or the untrained one) and the default detector."""
    return Engine(Scorer.load(settings or Settings()))



STAGE_SPANS = {"queued": (0.0, 0.0), "decoding": (0.0, 0.05), "faces": (0.05, 0.85), "model": (0.85, 1.0)}
STAGE_TEXT = {
    "queued": "Waiting for another analysis to finish…",
    "decoding": "Decoding the video…",
    "faces": "Finding faces",
    "model": "Running the model…",
}


def progress_text(stage: str, fraction: float) -> tuple[float, str]:
    """(overall 0..1, label) for a pipeline progress callback; the face stage shows its percentage."""
    start, end = STAGE_SPANS.get(stage, (0.0, 1.0))
    fraction = min(max(fraction, 0.0), 1.0)
    text = STAGE_TEXT.get(stage, stage)
    if stage == "faces":
        text = f"{text}: {100 * fraction:.0f}% of the sampled frames"
    return start + (end - start) * fraction, text
