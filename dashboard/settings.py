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
ALLOW_LOOPBACK_LINKS_ENV = "DFD_ALLOW_LOOPBACK_LINKS"  # "1" only in tests: links may then reach this machine
# Deployment settings read from the environment (README, "Running on a shared server").
SESSION_HOURS_ENV = "DFD_SESSION_HOURS"
COOKIE_SECURE_ENV = "DFD_COOKIE_SECURE"  # auto (Secure when the request came over HTTPS), always, never
LOGINS_PER_ADDRESS_ENV = "DFD_LOGINS_PER_ADDRESS"
SIGNUPS_PER_ADDRESS_ENV = "DFD_SIGNUPS_PER_ADDRESS"
SIGNUPS_PER_HOUR_ENV = "DFD_SIGNUPS_PER_HOUR"
COOKIE_SECURE_CHOICES = ("auto", "always", "never")
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
    min_strength: int = 3  # zxcvbn score 0-4; 3 is "safely unguessable" (about 10^8 guesses)
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
    cookie_name: str = "dfd_session"
    session_hours: float = 12.0  # one working day; DFD_SESSION_HOURS changes it
    cookie_secure: str = "auto"  # DFD_COOKIE_SECURE: auto, always or never
    login_ticket_s: float = 60.0  # the page hands the browser a one-use ticket for its HttpOnly cookie
    lockout_attempts: int = 5
    lockout_minutes: float = 15.0
    # Rate limits over the lockout window; one newsroom often shares one address, hence the room.
    logins_per_address: int = 100
    logins_per_account: int = 20
    signups_per_address: int = 20  # per hour
    signups_per_hour: int = 200  # the whole server
    # Analyses: one at a time per user, a few at a time per server, and a length limit for uploads.
    analyses_per_user: int = 1
    analysis_slots: int = 2
    max_duration_s: float = 600.0
    min_age: int = 13
    max_age: int = 120
    phone_region: str | None = None  # None: numbers need their +country code; "DE" would accept 030 1234567
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
        """Settings with the deployment values (data directory, session length, limits) from the environment."""
        environ = dict(os.environ) if environ is None else environ
        changes: dict[str, object] = {}
        if environ.get(DATA_DIR_ENV):
            changes["data_dir"] = Path(environ[DATA_DIR_ENV]).expanduser().resolve()
        if environ.get(SESSION_HOURS_ENV):
            changes["session_hours"] = float(environ[SESSION_HOURS_ENV])
        secure = environ.get(COOKIE_SECURE_ENV, "").strip().lower()
        if secure:
            if secure not in COOKIE_SECURE_CHOICES:
                raise ValueError(f"{COOKIE_SECURE_ENV} must be one of {', '.join(COOKIE_SECURE_CHOICES)}")
            changes["cookie_secure"] = secure
        for name, variable in (
            ("logins_per_address", LOGINS_PER_ADDRESS_ENV),
            ("signups_per_address", SIGNUPS_PER_ADDRESS_ENV),
            ("signups_per_hour", SIGNUPS_PER_HOUR_ENV),
        ):
            if environ.get(variable):
                changes[name] = int(environ[variable])
        if environ.get(ALLOW_LOOPBACK_LINKS_ENV) == "1":
            changes["allow_loopback_links"] = True
        return cls(**changes)  # type: ignore[arg-type]

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
    def session_lifetime_s(self) -> float:
        return self.session_hours * 3600.0

    def ensure_data_dir(self) -> Path:
        """Create the data directory readable by its owner only: it holds password hashes and sessions.

        An existing directory that others can read is tightened too (SQLite's journal files
        inherit the umask, so the directory is what keeps them private).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.data_dir.stat().st_mode & 0o077 and self.data_dir.stat().st_uid == os.getuid():
            self.data_dir.chmod(0o700)
        return self.data_dir
