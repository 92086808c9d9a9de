"""Every tunable number of the dashboard, in one place (pipeline numbers live in `pipeline.settings`).

Pages, the store, validation and the tests all start from `AppSettings.from_env()`, so a rule such as
"lock an account after 5 failed logins" is written once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.settings import REPO_ROOT

DATA_DIR_ENV = "DFD_DATA_DIR"
COOKIE_KEY_ENV = "DFD_COOKIE_KEY"
ALLOW_LOOPBACK_LINKS_ENV = "DFD_ALLOW_LOOPBACK_LINKS"  # "1" only in tests: links may then reach this machine
DEFAULT_DATA_DIR = REPO_ROOT / "data"

APP_NAME = "Deepfake video verification"
REPORT_VERSION = 1

# The containers the uploader accepts; the size limit is server.maxUploadSize in .streamlit/config.toml.
VIDEO_TYPES = ("mp4", "avi", "mov", "mkv", "webm")


@dataclass(frozen=True)
class PasswordRules:
    """NIST-style: length matters most, plus a little variety and no obvious choices."""

    min_length: int = 10
    max_bytes: int = 72  # bcrypt ignores (bcrypt 5 refuses) anything past 72 bytes
    min_character_classes: int = 3  # of: lower case, upper case, digit, symbol
    bcrypt_rounds: int = 12  # about 0.25 s per hash: slow for guessing, quick enough for a login


@dataclass(frozen=True)
class QualityThresholds:
    """When the input-quality panel warns; below these the model's evidence gets weaker."""

    min_short_side_px: int = 360  # below 360p faces are too small to show blending artefacts
    min_bits_per_pixel: float = 0.03  # heavy compression smooths away the artefacts the model uses
    min_face_fraction: float = 0.5  # share of sampled frames that show a face
    min_face_px: int = 80  # median face height in pixels


@dataclass(frozen=True)
class AppSettings:
    """How the dashboard stores users and results and what it accepts from them."""

    data_dir: Path = DEFAULT_DATA_DIR
    cookie_name: str = "dfd_auth"
    cookie_expiry_days: float = 7.0
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    min_age: int = 13
    max_age: int = 120
    min_phone_digits: int = 7
    max_phone_digits: int = 15  # E.164
    username_min: int = 3
    username_max: int = 32
    genders: tuple[str, ...] = ("Female", "Male", "Non-binary", "Another", "Prefer not to say")
    password: PasswordRules = field(default_factory=PasswordRules)
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    frame_choices: tuple[int, ...] = (8, 16, 32, 48, 64)
    gallery_faces: int = 8
    report_faces: int = 6
    history_page_size: int = 25
    # Analyse a link: caps on what is fetched; loopback addresses only when a test allows them.
    link_max_bytes: int = 200 * 1024**2
    link_max_duration_s: float = 15 * 60.0
    allow_loopback_links: bool = False
    note_max_chars: int = 4000

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> AppSettings:
        """Settings with the data directory taken from DFD_DATA_DIR when it is set."""
        environ = dict(os.environ) if environ is None else environ
        data_dir = environ.get(DATA_DIR_ENV)
        settings = cls(data_dir=Path(data_dir).expanduser().resolve()) if data_dir else cls()
        if environ.get(ALLOW_LOOPBACK_LINKS_ENV) == "1":
            settings = replace(settings, allow_loopback_links=True)
        return settings

    def with_overrides(self, **changes: object) -> AppSettings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def database_path(self) -> Path:
        return self.data_dir / "dashboard.sqlite3"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def cookie_key_path(self) -> Path:
        return self.data_dir / "cookie_key"

    def ensure_data_dir(self) -> Path:
        """Create the data directory readable by its owner only: it holds password hashes and the cookie key.

        An existing directory that others can read is tightened too (SQLite's journal files
        inherit the umask, so the directory is what keeps them private).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.data_dir.stat().st_mode & 0o077 and self.data_dir.stat().st_uid == os.getuid():
            self.data_dir.chmod(0o700)
        return self.data_dir
