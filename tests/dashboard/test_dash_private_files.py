"""Secrets stay out of git and the data directory stays private to the server's user."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from dashboard.settings import AppSettings

REPO = Path(__file__).resolve().parents[2]


def test_no_key_or_secrets_file_is_tracked_by_git() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    names = {Path(line).name for line in tracked.splitlines()}
    assert "secrets.toml" not in names
    assert "dashboard.sqlite3" not in names
    for path in ("data/dashboard.sqlite3", ".streamlit/secrets.toml"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
        assert ignored.returncode == 0, f"{path} is not git-ignored"


def test_the_data_directory_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "shared-data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    AppSettings(data_dir=folder).ensure_data_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
