"""Per-user API tokens for the REST API, kept in the dashboard's SQLite database.

A token is shown once, when it is created; only its SHA-256 is stored (a token is 256 random
bits, so a plain hash cannot be reversed by guessing, and lookup by hash needs no per-row salt).
A revoked token stays listed, marked revoked, and never authenticates again.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass

from dashboard.store import Store

TOKEN_PREFIX = "dfd_"
MAX_NAME_LENGTH = 60
SCHEMA = """
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);
CREATE INDEX IF NOT EXISTS api_tokens_by_user ON api_tokens(user_id, created_at DESC);
"""


@dataclass(frozen=True)
class ApiToken:
    """What the Account page lists: never the token itself, only its first characters."""

    id: int
    user_id: int
    name: str
    hint: str
    created_at: float
    last_used_at: float | None
    revoked_at: float | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenStore:
    """Create, list, revoke and check tokens; every query that reads a user's tokens names the user."""

    def __init__(self, store: Store):
        self.path = store.path
        with self._connect() as connection:
            connection.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    def create(self, user_id: int, name: str, now: float | None = None) -> tuple[ApiToken, str]:
        """A new token for `user_id`; returns its record and the token text (shown once, not stored)."""
        name = " ".join(name.split())[:MAX_NAME_LENGTH] or "API token"
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = time.time() if now is None else now
        connection = self._connect()
        try:
            cursor = connection.execute(
                "INSERT INTO api_tokens (user_id, name, token_hash, hint, created_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, name, hash_token(token), token[: len(TOKEN_PREFIX) + 4], now),
            )
            token_id = int(cursor.lastrowid or 0)
        finally:
            connection.close()
        return ApiToken(token_id, user_id, name, token[: len(TOKEN_PREFIX) + 4], now, None, None), token

    def list(self, user_id: int) -> list[ApiToken]:
        connection = self._connect()
        try:
            rows = connection.execute(
                "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC", (user_id,)
            ).fetchall()
        finally:
            connection.close()
        return [_token(row) for row in rows]

    def revoke(self, user_id: int, token_id: int, now: float | None = None) -> bool:
        """Revoke one of `user_id`'s tokens; another user's token is never matched."""
        now = time.time() if now is None else now
        connection = self._connect()
        try:
            cursor = connection.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                (now, token_id, user_id),
            )
            return cursor.rowcount == 1
        finally:
            connection.close()

    def authenticate(self, token: str, now: float | None = None) -> int | None:
        """The user id of an active token, else None (unknown, malformed or revoked)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        now = time.time() if now is None else now
        connection = self._connect()
        try:
            row = connection.execute(
                "SELECT id, user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", (hash_token(token),)
            ).fetchone()
            if row is None:
                return None
            connection.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, row["id"]))
            return int(row["user_id"])
        finally:
            connection.close()


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        name=str(row["name"]),
        hint=str(row["hint"]),
        created_at=float(row["created_at"]),
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
