"""Server-side sessions, the lockout under concurrency, rate limits and account changes (no Streamlit)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dashboard import sessions
from dashboard.sessions import LOGIN_REFUSED, change_password, delete_account, log_in, log_out, login_limits
from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.dashboard.builders import PASSWORD, make_user

pytest_plugins = ["tests.dashboard.support"]

NEW_PASSWORD = "Violet-Harbour-Lantern-9"
KEY = "a" * 32 + "_" + "b" * 16


def test_a_login_opens_a_session_whose_token_is_stored_only_as_a_hash(store: Store, app_settings: AppSettings) -> None:
    user = make_user(store, app_settings)
    outcome = log_in(store, "ada", PASSWORD, "10.0.0.1", app_settings)
    assert outcome.token is not None and outcome.user == store.get_user("ada")
    assert len(outcome.token) >= 43  # 256 random bits
    wal = store.path.with_name(store.path.name + "-wal")
    raw = store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert outcome.token.encode() not in raw
    assert store.count_sessions(user.id) == 1


def test_logout_deletes_the_session(store: Store, app_settings: AppSettings) -> None:
    make_user(store, app_settings)
    token = log_in(store, "ada", PASSWORD, "10.0.0.1", app_settings).token
    log_out(store, token)
    assert token is not None and store.session_user(token) is None


def test_sessions_expire(store: Store, app_settings: AppSettings) -> None:
    user = make_user(store, app_settings)
    store.create_session(user.id, "t" * 43, lifetime_s=60, now=1000.0)
    assert store.session_user("t" * 43, now=1059.0) is not None
    assert store.session_user("t" * 43, now=1061.0) is None


def test_the_default_lifetime_is_shorter_and_set_from_the_environment() -> None:
    assert AppSettings().session_lifetime_s <= 24 * 3600
    assert AppSettings.from_env({"DFD_SESSION_HOURS": "2"}).session_lifetime_s == 7200
    assert AppSettings.from_env({"DFD_COOKIE_SECURE": "always"}).cookie_secure == "always"
    with pytest.raises(ValueError):
        AppSettings.from_env({"DFD_COOKIE_SECURE": "sometimes"})


def test_a_password_change_ends_every_other_session(store: Store, app_settings: AppSettings) -> None:
    make_user(store, app_settings)
    mine = log_in(store, "ada", PASSWORD, "10.0.0.1", app_settings)
    stolen = log_in(store, "ada", PASSWORD, "10.6.6.6", app_settings).token
    assert mine.user is not None and mine.token is not None and stolen is not None
    assert change_password(store, mine.user, mine.token, "wrong-Password-1", NEW_PASSWORD, NEW_PASSWORD, app_settings)
    assert store.session_user(stolen) is not None  # a wrong current password changes nothing
    assert change_password(store, mine.user, mine.token, PASSWORD, "Password123!", "Password123!", app_settings)
    assert change_password(store, mine.user, mine.token, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, app_settings) == []
    assert store.session_user(stolen) is None
    assert store.session_user(mine.token) is not None
    assert log_in(store, "ada", NEW_PASSWORD, "10.0.0.1", app_settings).token is not None


def test_deleting_an_account_takes_its_sessions_analyses_and_unshared_results(
    store: Store, app_settings: AppSettings
) -> None:
    ada, bob = make_user(store, app_settings, "ada"), make_user(store, app_settings, "bob")
    token = log_in(store, "ada", PASSWORD, "10.0.0.1", app_settings).token
    shared, own = KEY, "c" * 32 + "_" + "d" * 16
    for user_id, key in ((ada.id, shared), (ada.id, own), (bob.id, shared)):
        store.add_analysis(user_id, "clip.mp4", "f" * 64, key, "fake", 0.8, {})
    orphans: list[str] = []
    assert not delete_account(store, ada, "wrong-Password-1", app_settings, orphans.append)
    assert delete_account(store, ada, PASSWORD, app_settings, orphans.append)
    assert orphans == [own]
    assert store.get_user("ada") is None and token is not None and store.session_user(token) is None
    assert store.count_analyses(ada.id) == 0 and store.count_analyses(bob.id) == 1


def test_a_login_ticket_is_redeemed_once_and_expires(store: Store) -> None:
    store.add_login_ticket("ticket-1", "token-1", lifetime_s=60, now=1000.0)
    assert store.redeem_login_ticket("ticket-1", now=1001.0) == "token-1"
    assert store.redeem_login_ticket("ticket-1", now=1001.0) is None
    store.add_login_ticket("ticket-2", "token-2", lifetime_s=60, now=1000.0)
    assert store.redeem_login_ticket("ticket-2", now=1061.0) is None


def test_unknown_names_cost_a_bcrypt_check_of_the_same_rounds(
    store: Store, app_settings: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 4: without it a real name answered 0.8 s slower than an invented one."""
    make_user(store, app_settings)
    checked: list[bytes] = []
    real_check = sessions.bcrypt.checkpw
    monkeypatch.setattr(sessions.bcrypt, "checkpw", lambda p, h: checked.append(h) or real_check(p, h))
    for name in ("ada", "nobody-here"):
        assert log_in(store, name, "Wrong-password-1", "10.0.0.1", app_settings).message == LOGIN_REFUSED
    assert len(checked) == 2
    assert [h.split(b"$")[2] for h in checked] == [str(app_settings.password.bcrypt_rounds).zfill(2).encode()] * 2


def test_twelve_simultaneous_logins_check_at_most_the_lockout_number(
    store: Store, app_settings: AppSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 3: 11 wrong passwords at once, then the right one while they are still being checked.

    The old code checked all 11 and let the right one in, resetting the count to 0.
    """
    make_user(store, app_settings)
    checks: list[str] = []
    reserved = threading.Semaphore(0)
    release = threading.Event()
    real_reserve, real_check = store.reserve_login, sessions.check_password

    def reserve(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        outcome = real_reserve(*args, **kwargs)  # type: ignore[arg-type]
        reserved.release()
        return outcome

    def slow_check(password: str, password_hash: str | None, rounds: int) -> bool:
        if password_hash is not None:  # refusals only check a dummy hash, never the account's
            checks.append(password)
        release.wait(10)  # every bcrypt is still running when the last attempt arrives
        return real_check(password, password_hash, rounds)

    monkeypatch.setattr(store, "reserve_login", reserve)
    monkeypatch.setattr(sessions, "check_password", slow_check)
    with ThreadPoolExecutor(12) as pool:
        wrong = [pool.submit(log_in, store, "ada", f"Wrong-password-{i}", "10.0.0.1", app_settings) for i in range(11)]
        for _ in range(11):
            reserved.acquire(timeout=10)
        right = pool.submit(log_in, store, "ada", PASSWORD, "10.0.0.2", app_settings)
        reserved.acquire(timeout=10)
        release.set()
        outcomes = [f.result() for f in wrong] + [right.result()]
    assert len(checks) == app_settings.lockout_attempts
    assert PASSWORD not in checks
    assert all(o.token is None for o in outcomes)
    user = store.get_user("ada")
    assert user is not None and user.locked_until is not None and user.failed_logins == app_settings.lockout_attempts


def test_a_success_never_erases_failures_made_in_parallel(store: Store, app_settings: AppSettings) -> None:
    make_user(store, app_settings)
    limits = login_limits(app_settings)
    for _ in range(2):  # finished before: a success clears them
        store.finish_login(store.reserve_login("ada", "10.0.0.1", limits), succeeded=False)
    parallel = store.reserve_login("ada", "10.0.0.1", limits)
    success = store.reserve_login("ada", "10.0.0.1", limits)
    later = store.reserve_login("ada", "10.0.0.1", limits)
    store.finish_login(success, succeeded=True)
    store.finish_login(parallel, succeeded=False)
    store.finish_login(later, succeeded=False)
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 2  # the two made while the success was being checked


def test_failures_lock_the_account_then_the_lock_expires(store: Store, app_settings: AppSettings) -> None:
    make_user(store, app_settings)
    limits = login_limits(app_settings)
    for _ in range(5):
        assert store.reserve_login("ada", "10.0.0.1", limits, now=1000.0).allowed
    assert not store.reserve_login("ada", "10.0.0.1", limits, now=1001.0).allowed
    assert store.locked_until("ada", now=1001.0) == 1000.0 + limits.lockout_s
    again = store.reserve_login("ada", "10.0.0.1", limits, now=1000.0 + limits.lockout_s + 1)
    assert again.allowed
    user = store.get_user("ada")
    assert user is not None and user.failed_logins == 1


@pytest.mark.parametrize("limit_name", ["logins_per_address", "logins_per_account"])
def test_rate_limits_refuse_even_the_right_password(
    store: Store, app_settings: AppSettings, limit_name: str
) -> None:
    """Per client address (many names from one place) and per account (one name from many places)."""
    settings = app_settings.with_overrides(**{limit_name: 3}, lockout_attempts=100)
    make_user(store, settings, "ada")
    for number in range(3):
        name, address = ("nobody-" + str(number), "10.0.0.1") if limit_name == "logins_per_address" else (
            "ada",
            f"10.0.0.{number}",
        )
        log_in(store, name, "Wrong-password-1", address, settings)
    address = "10.0.0.1" if limit_name == "logins_per_address" else "10.0.0.99"
    assert log_in(store, "ada", PASSWORD, address, settings).message == LOGIN_REFUSED
    assert log_in(store, "ada", PASSWORD, "10.9.9.9", settings.with_overrides(logins_per_account=100)).token


def test_a_damaged_hash_refuses_instead_of_crashing() -> None:
    assert sessions.check_password("anything", "not-a-bcrypt-hash", 4) is False
