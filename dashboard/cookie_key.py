"""The key that signs the login cookie: the one secret that protects every account.

Order: `st.secrets["cookie_key"]`, then the DFD_COOKIE_KEY environment variable, then a key file in
the data directory, generated on first start with mode 0600. There is no default value: a known
key would let anyone forge a cookie for any user.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Mapping
from pathlib import Path

import jwt

from dashboard.settings import COOKIE_KEY_ENV, AppSettings

MIN_KEY_LENGTH = 32  # characters; HS256 wants at least 256 bits of key


class CookieKeyError(RuntimeError):
    """A configured key is unusable; the app refuses to start rather than sign with a weak key."""


def resolve_cookie_key(
    settings: AppSettings, secret_value: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The configured key (secrets, then environment), else the data directory's key file."""
    environ = os.environ if environ is None else environ
    for source, value in (("st.secrets['cookie_key']", secret_value), (COOKIE_KEY_ENV, environ.get(COOKIE_KEY_ENV))):
        if value:
            if len(value) < MIN_KEY_LENGTH:
                raise CookieKeyError(f"{source} is shorter than {MIN_KEY_LENGTH} characters; use a random key")
            return value
    return load_or_create_key_file(settings.ensure_data_dir() / settings.cookie_key_path.name)


def load_or_create_key_file(path: Path) -> str:
    """Read the key file, creating it atomically (0600) when absent; two first starts agree on one key."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)  # atomic; fails when another process won the race
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # someone loosened it: a readable key is a forgeable cookie
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise CookieKeyError(f"{path} holds a key shorter than {MIN_KEY_LENGTH} characters; delete it to regenerate")
    return key


def verify_cookie_token(token: str | None, key: str, now: float | None = None) -> str | None:
    """The user name in a login cookie we signed and that has not expired; None for anything else.

    streamlit-authenticator only catches two of PyJWT's errors, so an unsigned (`alg: none`) token
    or a token with odd claim types would reach the user as a traceback. Checking here first
    lets the page treat every such cookie as what it is: no login.
    """
    if not token:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    username, expires = claims.get("username"), claims.get("exp_date")
    if not isinstance(username, str) or not isinstance(expires, int | float) or isinstance(expires, bool):
        return None
    return username if expires > (time.time() if now is None else now) else None
