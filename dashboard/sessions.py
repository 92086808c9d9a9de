"""Logging in and out with server-side sessions, and the account changes that end them.

The browser's cookie holds a random session token; SQLite holds its hash, the user and an expiry.
Deleting the row (log out, "sign out everywhere", a password change, account deletion) makes the
cookie worthless at once, wherever a copy of it went.

Pure Python (no Streamlit): the pages, the web routes and the tests share these functions.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import bcrypt

from dashboard.accounts import hash_password, password_problems
from dashboard.settings import AppSettings
from dashboard.store import LoginLimits, Store, User

# One answer for a wrong user name, a wrong password, a locked account and a rate limit:
# whoever tries names learns nothing about which exist.
LOGIN_REFUSED = (
    "Login failed: the user name or password is wrong, or this account is paused for a while after "
    "too many attempts."
)


@dataclass(frozen=True)
class LoginOutcome:
    """`token` is the new session's secret (for the cookie); None when refused, with `message`."""

    user: User | None
    token: str | None
    message: str = ""


def new_token() -> str:
    """256 random bits, URL-safe: what the cookie carries."""
    return secrets.token_urlsafe(32)


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    """A hash to check unknown user names against, so they cost the same bcrypt time as real ones."""
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds))


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """bcrypt's check; for an unknown user a dummy hash of the same cost, which never matches."""
    candidate = password.encode()[:72]  # bcrypt 5 refuses longer input; registration forbids it anyway
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash(rounds))
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode())
    except ValueError:  # a damaged hash in the database: refuse, never crash
        return False


def login_limits(settings: AppSettings) -> LoginLimits:
    window = settings.lockout_minutes * 60.0
    return LoginLimits(
        attempts=settings.lockout_attempts,
        lockout_s=window,
        per_address=settings.logins_per_address,
        per_account=settings.logins_per_account,
        window_s=window,
    )


def log_in(store: Store, username: str, password: str, address: str, settings: AppSettings) -> LoginOutcome:
    """Reserve the attempt (lock and rate limits checked first), check the password, open a session."""
    reservation = store.reserve_login(username, address or "unknown", login_limits(settings))
    if not reservation.allowed:
        # Same cost as a real check: a refusal must not answer faster than a wrong password.
        check_password(password, None, settings.password.bcrypt_rounds)
        return LoginOutcome(None, None, LOGIN_REFUSED)
    succeeded = check_password(password, reservation.password_hash, settings.password.bcrypt_rounds)
    store.finish_login(reservation, succeeded)
    if not succeeded or reservation.user_id is None:
        return LoginOutcome(None, None, LOGIN_REFUSED)
    token = new_token()
    store.create_session(reservation.user_id, token, settings.session_lifetime_s)
    user = store.session_user(token)
    return LoginOutcome(user, token) if user is not None else LoginOutcome(None, None, LOGIN_REFUSED)


def log_out(store: Store, token: str | None) -> None:
    if token:
        store.delete_session(token)


def change_password(
    store: Store, user: User, token: str, old: str, new: str, confirm: str, settings: AppSettings
) -> list[str]:
    """Check the old password, apply the rules to the new one, store it and end every other session.

    Returns the problems in words; an empty list means the password was changed.
    """
    if not check_password(old, store.password_hash(user.id), settings.password.bcrypt_rounds):
        return ["The current password is not right."]
    problems = password_problems(new, user.username, user.email, settings)
    if problems:
        return ["The new password " + "; ".join(problems) + "."]
    if new != confirm:
        return ["The two new passwords differ."]
    if new == old:
        return ["The new password is the same as the current one."]
    store.set_password_hash(user.id, hash_password(new, settings.password.bcrypt_rounds), keep_token=token)
    return []


def delete_account(
    store: Store, user: User, password: str, settings: AppSettings, on_orphan: Callable[[str], None] | None = None
) -> bool:
    """Delete the user with every session and analysis, after checking the password once more."""
    if not check_password(password, store.password_hash(user.id), settings.password.bcrypt_rounds):
        return False
    return store.delete_user(user.id, on_orphan=on_orphan)
