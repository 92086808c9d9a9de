"""The cookie-signing key: configured or generated, private, never a default, never committed."""

from __future__ import annotations

import stat
import subprocess
import threading
from pathlib import Path

import jwt
import pytest

from dashboard.cookie_key import (
    MIN_KEY_LENGTH,
    CookieKeyError,
    load_or_create_key_file,
    resolve_cookie_key,
    verify_cookie_token,
)
from dashboard.settings import AppSettings

pytest_plugins = ["tests.dashboard.support"]

REPO = Path(__file__).resolve().parents[2]


def test_secrets_win_over_environment(app_settings: AppSettings) -> None:
    key = resolve_cookie_key(app_settings, "s" * 40, {"DFD_COOKIE_KEY": "e" * 40})
    assert key == "s" * 40
    assert not app_settings.cookie_key_path.exists()


def test_environment_is_used_when_no_secret(app_settings: AppSettings) -> None:
    assert resolve_cookie_key(app_settings, None, {"DFD_COOKIE_KEY": "e" * 40}) == "e" * 40


def test_short_configured_keys_are_refused(app_settings: AppSettings) -> None:
    with pytest.raises(CookieKeyError):
        resolve_cookie_key(app_settings, None, {"DFD_COOKIE_KEY": "secret"})


def test_without_configuration_a_random_private_key_is_generated_once(app_settings: AppSettings) -> None:
    first = resolve_cookie_key(app_settings, None, {})
    path = app_settings.cookie_key_path
    assert len(first) >= MIN_KEY_LENGTH
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_cookie_key(app_settings, None, {}) == first
    other = AppSettings(data_dir=app_settings.data_dir.parent / "other")
    assert resolve_cookie_key(other, None, {}) != first  # random, not a default


def test_a_loosened_key_file_is_made_private_again(app_settings: AppSettings) -> None:
    key = resolve_cookie_key(app_settings, None, {})
    app_settings.cookie_key_path.chmod(0o644)
    assert resolve_cookie_key(app_settings, None, {}) == key
    assert stat.S_IMODE(app_settings.cookie_key_path.stat().st_mode) == 0o600


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "cookie_key"
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(load_or_create_key_file(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert [p.name for p in tmp_path.iterdir()] == ["cookie_key"]  # no temporary file left behind


def test_no_key_or_secrets_file_is_tracked_by_git() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    names = {Path(line).name for line in tracked.splitlines()}
    assert "cookie_key" not in names
    assert "secrets.toml" not in names
    for path in ("data/cookie_key", ".streamlit/secrets.toml"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=REPO, check=False)
        assert ignored.returncode == 0, f"{path} is not git-ignored"


KEY = "k" * 48


@pytest.mark.parametrize(
    ("claims", "key", "algorithm", "expected"),
    [
        ({"username": "ada", "exp_date": 2e9}, KEY, "HS256", "ada"),
        ({"username": "ada", "exp_date": 2e9}, "another-key-" + "z" * 40, "HS256", None),
        ({"username": "ada", "exp_date": 2e9}, None, "none", None),
        ({"username": "ada", "exp_date": 1.0}, KEY, "HS256", None),
        ({"username": "ada", "exp_date": "2099"}, KEY, "HS256", None),
        ({"username": ["ada"], "exp_date": 2e9}, KEY, "HS256", None),
        ({"exp_date": 2e9}, KEY, "HS256", None),
    ],
    ids=["valid", "wrong-key", "alg-none", "expired", "string-expiry", "list-name", "no-name"],
)
def test_verify_cookie_token(claims: dict, key: str | None, algorithm: str, expected: str | None) -> None:
    token = jwt.encode(claims, key, algorithm=algorithm)
    assert verify_cookie_token(token, KEY, now=1e9) == expected


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b.c"])
def test_verify_cookie_token_rejects_junk(token: str | None) -> None:
    assert verify_cookie_token(token, KEY) is None


def test_the_data_directory_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "shared-data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    AppSettings(data_dir=folder).ensure_data_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
