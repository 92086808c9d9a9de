"""The SQLite store behind the dashboard: users, profiles, sessions, login attempts, analyses and case notes.

SQLite, not the authenticator's YAML file, is the source of truth: YAML is rewritten whole on
every change, so two registrations at once can lose a user. Here every write is one short
`BEGIN IMMEDIATE` transaction, and uniqueness is enforced by the database, not by a check
followed by an insert.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until REAL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_state (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    pending INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions(user_id);
CREATE TABLE IF NOT EXISTS login_tickets (
    ticket_hash TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS throttle_events (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS throttle_by_key ON throttle_events(kind, key, at);
CREATE TABLE IF NOT EXISTS profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    full_name TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    gender TEXT NOT NULL,
    age INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS analyses (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    result_key TEXT NOT NULL,
    verdict TEXT NOT NULL,
    probability REAL,
    settings_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS analyses_by_user ON analyses(user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS analyses_by_result ON analyses(result_key);
CREATE TABLE IF NOT EXISTS case_notes (
    id INTEGER PRIMARY KEY,
    analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_notes_by_analysis ON case_notes(analysis_id, created_at);
"""


class DuplicateUserError(ValueError):
    """The user name or e-mail is taken; `field` says which, for the form."""

    def __init__(self, field: str):
        super().__init__(f"this {field.replace('_', ' ')} is already registered")
        self.field = field


@dataclass(frozen=True)
class NewUser:
    """A validated registration, ready to insert (the password is already a bcrypt hash)."""

    username: str
    email: str
    password_hash: str
    full_name: str
    address: str
    phone: str
    gender: str
    age: int


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    full_name: str
    failed_logins: int
    locked_until: float | None


@dataclass(frozen=True)
class Analysis:
    """One row of a user's history; the result itself lives in the results store under result_key."""

    id: int
    user_id: int
    created_at: float
    file_name: str
    sha256: str
    result_key: str
    verdict: str
    probability: float | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class CaseNote:
    """A note a user keeps with one analysis; plain text, escaped wherever it is shown."""

    id: int
    analysis_id: int
    created_at: float
    author: str
    text: str

    @property
    def created_utc(self) -> str:
        return datetime.fromtimestamp(self.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


class NoteError(ValueError):
    """A note that cannot be stored; the message says why."""


@dataclass(frozen=True)
class LoginLimits:
    """The lockout and the rate limits a login attempt is checked against."""

    attempts: int
    lockout_s: float
    per_address: int
    per_account: int
    window_s: float


@dataclass(frozen=True)
class Reservation:
    """A login attempt counted before its password is checked.

    `password_hash` is None for an unknown user name; `allowed` is False when a lock or a rate
    limit refuses the attempt (then no password is checked at all).
    """

    user_id: int | None
    password_hash: str | None
    allowed: bool
    finished_failures: int


def token_hash(token: str) -> str:
    """What the database keeps of a session token: a stolen database file holds no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def _count_events(connection: sqlite3.Connection, kind: str, key: str, since: float) -> int:
    row = connection.execute(
        "SELECT COUNT(*) FROM throttle_events WHERE kind = ? AND key = ? AND at >= ?", (kind, key, since)
    ).fetchone()
    return int(row[0])


def _add_event(connection: sqlite3.Connection, kind: str, key: str, now: float) -> None:
    connection.execute("INSERT INTO throttle_events (kind, key, at) VALUES (?, ?, ?)", (kind, key, now))


class Store:
    """All SQL of the dashboard. Safe to share between threads: each call opens its own connection."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        self.path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the lock up front, so concurrent writers queue, never interleave."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        finally:
            connection.close()

    def _read(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        connection = self._connect()
        try:
            return connection.execute(sql, params).fetchall()
        finally:
            connection.close()

    # Users ---------------------------------------------------------------------------------

    def create_user(self, user: NewUser, now: float | None = None) -> User:
        """Insert a user and profile in one transaction; raises DuplicateUserError for a taken name or e-mail."""
        now = time.time() if now is None else now
        try:
            with self._transaction() as connection:
                cursor = connection.execute(
                    "INSERT INTO users (username, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (user.username, user.email, user.password_hash, now),
                )
                user_id = int(cursor.lastrowid or 0)
                connection.execute(
                    "INSERT INTO profiles (user_id, full_name, address, phone, gender, age) VALUES (?, ?, ?, ?, ?, ?)",
                    (user_id, user.full_name, user.address, user.phone, user.gender, user.age),
                )
        except sqlite3.IntegrityError as error:
            field = "email" if "users.email" in str(error) else "user_name"
            raise DuplicateUserError(field) from error
        created = self.get_user(user.username)
        assert created is not None
        return created

    def get_user(self, username: str) -> User | None:
        rows = self._read(
            "SELECT u.id, u.username, u.email, u.failed_logins, u.locked_until, p.full_name "
            "FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.username = ?",
            (username.strip(),),
        )
        return _user(rows[0]) if rows else None

    def count_users(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM users")[0][0])

    def profile(self, user_id: int) -> dict[str, Any]:
        rows = self._read(
            "SELECT p.full_name, p.address, p.phone, p.gender, p.age, u.email, u.username "
            "FROM profiles p JOIN users u ON u.id = p.user_id WHERE p.user_id = ?",
            (user_id,),
        )
        return dict(rows[0]) if rows else {}

    def password_hash(self, user_id: int) -> str | None:
        rows = self._read("SELECT password_hash FROM users WHERE id = ?", (user_id,))
        return str(rows[0][0]) if rows else None

    # Login attempts: reserved before bcrypt, in one transaction ---------------------------

    def reserve_login(self, username: str, address: str, limits: LoginLimits, now: float | None = None) -> Reservation:
        """Check every limit and count this attempt as a failure up front, in one `BEGIN IMMEDIATE`.

        Concurrent attempts queue on the write lock, so the lockout is decided against the true
        count, never a snapshot: the 6th of 12 simultaneous attempts is refused before its bcrypt runs.
        An unknown user name is throttled like a real one, so refusals reveal nothing.
        """
        now = time.time() if now is None else now
        name = username.strip().lower()
        with self._transaction() as connection:
            connection.execute("DELETE FROM throttle_events WHERE at < ?", (now - limits.window_s,))
            by_address = _count_events(connection, "login-address", address, now - limits.window_s)
            by_account = _count_events(connection, "login-account", name, now - limits.window_s)
            _add_event(connection, "login-address", address, now)
            _add_event(connection, "login-account", name, now)
            row = connection.execute(
                "SELECT u.id, u.password_hash, u.failed_logins, u.locked_until, COALESCE(s.pending, 0) AS pending "
                "FROM users u LEFT JOIN login_state s ON s.user_id = u.id WHERE u.username = ?",
                (name,),
            ).fetchone()
            if by_address >= limits.per_address or by_account >= limits.per_account:
                return Reservation(None, None, allowed=False, finished_failures=0)
            if row is None:
                return Reservation(None, None, allowed=True, finished_failures=0)
            user_id = int(row["id"])
            failures, pending, locked_until = int(row["failed_logins"]), int(row["pending"]), row["locked_until"]
            if locked_until is not None and locked_until > now:
                return Reservation(user_id, None, allowed=False, finished_failures=0)
            if locked_until is not None:  # the lockout ran out: a clean slate
                failures = pending = 0
            finished = max(failures - pending, 0)
            failures += 1
            locked_until = now + limits.lockout_s if failures >= limits.attempts else None
            connection.execute(
                "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?", (failures, locked_until, user_id)
            )
            connection.execute(
                "INSERT INTO login_state (user_id, pending) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET pending = ?",
                (user_id, pending + 1, pending + 1),
            )
        return Reservation(user_id, str(row["password_hash"]), allowed=True, finished_failures=finished)

    def finish_login(self, reservation: Reservation, succeeded: bool) -> None:
        """Settle a reserved attempt. A failure stays counted; a success removes its own reservation
        and the failures that had finished before it began, never those made in parallel with it."""
        if reservation.user_id is None:
            return
        with self._transaction() as connection:
            connection.execute(
                "UPDATE login_state SET pending = MAX(pending - 1, 0) WHERE user_id = ?", (reservation.user_id,)
            )
            if succeeded:
                connection.execute(
                    "UPDATE users SET failed_logins = MAX(failed_logins - ?, 0) WHERE id = ?",
                    (reservation.finished_failures + 1, reservation.user_id),
                )

    def throttle(self, kind: str, key: str, limit: int, window_s: float, now: float | None = None) -> bool:
        """Count one event of `kind` for `key`; False when `limit` events already happened in the window."""
        now = time.time() if now is None else now
        with self._transaction() as connection:
            connection.execute("DELETE FROM throttle_events WHERE kind = ? AND at < ?", (kind, now - window_s))
            if _count_events(connection, kind, key, now - window_s) >= limit:
                return False
            _add_event(connection, kind, key, now)
        return True

    def locked_until(self, username: str, now: float | None = None) -> float | None:
        """When the account's lockout ends, or None when it is not locked."""
        now = time.time() if now is None else now
        rows = self._read("SELECT locked_until FROM users WHERE username = ?", (username,))
        if not rows or rows[0][0] is None or rows[0][0] <= now:
            return None
        return float(rows[0][0])

    # Sessions: the cookie holds a random token, the database only its hash ------------------

    def create_session(self, user_id: int, token: str, lifetime_s: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._transaction() as connection:
            connection.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            connection.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_hash(token), user_id, now, now + lifetime_s),
            )

    def session_user(self, token: str, now: float | None = None) -> User | None:
        """The user of a live session; None for an unknown, deleted or expired token, or a locked account.

        A lockout pauses the account's sessions too: whoever triggered it may be holding a copied cookie.
        """
        now = time.time() if now is None else now
        rows = self._read(
            "SELECT u.id, u.username, u.email, u.failed_logins, u.locked_until, p.full_name "
            "FROM sessions s JOIN users u ON u.id = s.user_id JOIN profiles p ON p.user_id = u.id "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND (u.locked_until IS NULL OR u.locked_until <= ?)",
            (token_hash(token), now, now),
        )
        return _user(rows[0]) if rows else None

    def delete_session(self, token: str) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash(token),))

    def delete_sessions(self, user_id: int, keep_token: str | None = None) -> int:
        """End every session of the user, except `keep_token`'s; returns how many ended."""
        keep = token_hash(keep_token) if keep_token else ""
        with self._transaction() as connection:
            cursor = connection.execute(
                "DELETE FROM sessions WHERE user_id = ? AND token_hash != ?", (user_id, keep)
            )
            return int(cursor.rowcount)

    def count_sessions(self, user_id: int) -> int:
        return int(self._read("SELECT COUNT(*) FROM sessions WHERE user_id = ?", (user_id,))[0][0])

    def add_login_ticket(self, ticket: str, token: str, lifetime_s: float, now: float | None = None) -> None:
        """A one-use ticket the browser trades for its HttpOnly cookie (the page itself cannot set one)."""
        now = time.time() if now is None else now
        with self._transaction() as connection:
            connection.execute("DELETE FROM login_tickets WHERE expires_at <= ?", (now,))
            connection.execute(
                "INSERT INTO login_tickets (ticket_hash, token, expires_at) VALUES (?, ?, ?)",
                (token_hash(ticket), token, now + lifetime_s),
            )

    def redeem_login_ticket(self, ticket: str, now: float | None = None) -> str | None:
        """The session token of a fresh ticket, once; None when unknown, used or expired."""
        now = time.time() if now is None else now
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT token, expires_at FROM login_tickets WHERE ticket_hash = ?", (token_hash(ticket),)
            ).fetchone()
            connection.execute("DELETE FROM login_tickets WHERE ticket_hash = ?", (token_hash(ticket),))
        if row is None or row["expires_at"] <= now:
            return None
        return str(row["token"])

    # Account changes ----------------------------------------------------------------------

    def set_password_hash(self, user_id: int, password_hash: str, keep_token: str | None = None) -> None:
        """Store a new hash and end every other session of the user, in one transaction."""
        keep = token_hash(keep_token) if keep_token else ""
        with self._transaction() as connection:
            connection.execute(
                "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL WHERE id = ?",
                (password_hash, user_id),
            )
            connection.execute("DELETE FROM sessions WHERE user_id = ? AND token_hash != ?", (user_id, keep))

    def delete_user(self, user_id: int, on_orphan: Callable[[str], None] | None = None) -> bool:
        """Delete the user, the profile, every session and analysis; results no one else uses go too."""
        with self._transaction() as connection:
            keys = [
                str(row[0])
                for row in connection.execute(
                    "SELECT DISTINCT result_key FROM analyses WHERE user_id = ?", (user_id,)
                ).fetchall()
            ]
            cursor = connection.execute("DELETE FROM users WHERE id = ?", (user_id,))
            if not cursor.rowcount:
                return False
            for key in keys:
                still_used = connection.execute("SELECT 1 FROM analyses WHERE result_key = ? LIMIT 1", (key,))
                if not still_used.fetchone() and on_orphan is not None:
                    on_orphan(key)
        return True

    # Analyses ------------------------------------------------------------------------------

    def add_analysis(
        self,
        user_id: int,
        file_name: str,
        sha256: str,
        result_key: str,
        verdict: str,
        probability: float | None,
        settings: dict[str, Any],
        now: float | None = None,
    ) -> int:
        now = time.time() if now is None else now
        with self._transaction() as connection:
            cursor = connection.execute(
                "INSERT INTO analyses (user_id, created_at, file_name, sha256, result_key, verdict, probability, "
                "settings_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, now, file_name, sha256, result_key, verdict, probability, json.dumps(settings, default=str)),
            )
            return int(cursor.lastrowid or 0)

    def list_analyses(self, user_id: int, limit: int = 100, offset: int = 0) -> list[Analysis]:
        """The user's own analyses, newest first. The user id is always part of the query."""
        rows = self._read(
            "SELECT * FROM analyses WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        return [_analysis(row) for row in rows]

    def count_analyses(self, user_id: int) -> int:
        return int(self._read("SELECT COUNT(*) FROM analyses WHERE user_id = ?", (user_id,))[0][0])

    def get_analysis(self, user_id: int, analysis_id: int) -> Analysis | None:
        """One analysis, only when it belongs to `user_id`."""
        rows = self._read("SELECT * FROM analyses WHERE id = ? AND user_id = ?", (analysis_id, user_id))
        return _analysis(rows[0]) if rows else None

    def find_analysis(self, user_id: int, result_key: str, file_name: str) -> Analysis | None:
        """The user's newest analysis of this file and result, so re-uploading a clip adds no duplicate row."""
        rows = self._read(
            "SELECT * FROM analyses WHERE user_id = ? AND result_key = ? AND file_name = ? "
            "ORDER BY created_at DESC LIMIT 1",
            (user_id, result_key, file_name),
        )
        return _analysis(rows[0]) if rows else None

    def delete_analysis(self, user_id: int, analysis_id: int, on_orphan: Callable[[str], None] | None = None) -> bool:
        """Delete one of the user's analyses; another user's row is never matched.

        When no row uses its result any more, `on_orphan(result_key)` runs inside the transaction,
        so the cached result is removed before anyone else can point a new row at it.
        """
        with self._transaction() as connection:
            row = connection.execute(
                "SELECT result_key FROM analyses WHERE id = ? AND user_id = ?", (analysis_id, user_id)
            ).fetchone()
            if row is None:
                return False
            connection.execute("DELETE FROM analyses WHERE id = ? AND user_id = ?", (analysis_id, user_id))
            still_used = connection.execute(
                "SELECT 1 FROM analyses WHERE result_key = ? LIMIT 1", (row["result_key"],)
            ).fetchone()
            if not still_used and on_orphan is not None:
                on_orphan(str(row["result_key"]))
        return True

    # Case notes ----------------------------------------------------------------------------

    def add_note(self, user_id: int, analysis_id: int, text: str, max_chars: int, now: float | None = None) -> CaseNote:
        """Keep a note with one of the user's analyses; refuses empty, overlong or foreign-analysis notes."""
        text = text.strip()
        if not text:
            raise NoteError("the note is empty")
        if len(text) > max_chars:
            raise NoteError(f"the note is {len(text)} characters long, over the limit of {max_chars}")
        now = time.time() if now is None else now
        with self._transaction() as connection:
            owner = connection.execute(
                "SELECT 1 FROM analyses WHERE id = ? AND user_id = ?", (analysis_id, user_id)
            ).fetchone()
            if owner is None:
                raise NoteError("this analysis is not in your history")
            cursor = connection.execute(
                "INSERT INTO case_notes (analysis_id, user_id, created_at, text) VALUES (?, ?, ?, ?)",
                (analysis_id, user_id, now, text),
            )
            note_id = int(cursor.lastrowid or 0)
        return self.list_notes(user_id, analysis_id, note_id=note_id)[0]

    def list_notes(self, user_id: int, analysis_id: int, note_id: int | None = None) -> list[CaseNote]:
        """The notes of one of the user's analyses, oldest first (another user's are never matched)."""
        rows = self._read(
            "SELECT n.id, n.analysis_id, n.created_at, n.text, u.username FROM case_notes n "
            "JOIN analyses a ON a.id = n.analysis_id JOIN users u ON u.id = n.user_id "
            "WHERE n.analysis_id = ? AND a.user_id = ? AND (? IS NULL OR n.id = ?) ORDER BY n.created_at, n.id",
            (analysis_id, user_id, note_id, note_id),
        )
        return [
            CaseNote(int(r["id"]), int(r["analysis_id"]), float(r["created_at"]), r["username"], r["text"])
            for r in rows
        ]


def _user(row: sqlite3.Row) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        email=row["email"],
        full_name=row["full_name"],
        failed_logins=int(row["failed_logins"]),
        locked_until=row["locked_until"],
    )


def _analysis(row: sqlite3.Row) -> Analysis:
    return Analysis(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        created_at=float(row["created_at"]),
        file_name=row["file_name"],
        sha256=row["sha256"],
        result_key=row["result_key"],
        verdict=row["verdict"],
        probability=None if row["probability"] is None else float(row["probability"]),
        settings=json.loads(row["settings_json"]),
    )
