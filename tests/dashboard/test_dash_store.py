"""The SQLite store: uniqueness, concurrent writes, lockout bookkeeping, per-user analyses."""

from __future__ import annotations

import threading
from pathlib import Path

import bcrypt
import pytest

from dashboard.settings import AppSettings
from dashboard.store import DuplicateUserError, NewUser, Store

pytest_plugins = ["tests.dashboard.support"]


def new_user(username: str, email: str | None = None) -> NewUser:
    return NewUser(
        username=username,
        email=email or f"{username}@example.org",
        password_hash=bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode(),
        full_name=f"User {username}",
        address="Somewhere 1",
        phone="+1 555 0100",
        gender="Another",
        age=40,
    )


def test_create_and_read_user(store: Store) -> None:
    user = store.create_user(new_user("ada"))
    assert store.get_user("ada") == user
    assert user.full_name == "User ada"
    assert store.profile(user.id)["phone"] == "+1 555 0100"


def test_user_names_and_emails_are_unique_ignoring_case(store: Store) -> None:
    store.create_user(new_user("ada", "ada@example.org"))
    with pytest.raises(DuplicateUserError) as name_clash:
        store.create_user(new_user("ADA", "other@example.org"))
    assert name_clash.value.field == "user_name"
    with pytest.raises(DuplicateUserError) as email_clash:
        store.create_user(new_user("bob", "ADA@example.org"))
    assert email_clash.value.field == "email"
    assert store.count_users() == 1


def test_concurrent_registrations_lose_no_user(store: Store) -> None:
    errors: list[BaseException] = []

    def register_many(worker: int) -> None:
        try:
            for i in range(10):
                Store(store.path).create_user(new_user(f"user{worker}_{i}"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=register_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count_users() == 80


def test_a_race_for_one_user_name_has_exactly_one_winner(store: Store) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            store.create_user(new_user("same", f"same{i}@example.org"))
            outcomes.append("ok")
        except DuplicateUserError:
            outcomes.append("taken")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["taken"] * 5
    assert store.count_users() == 1


def add(store: Store, user_id: int, name: str, key: str = "a" * 32 + "_" + "b" * 16) -> int:
    return store.add_analysis(user_id, name, "f" * 64, key, "fake", 0.8, {"frames": 32})


def test_analyses_belong_to_their_user(store: Store) -> None:
    ada = store.create_user(new_user("ada"))
    bob = store.create_user(new_user("bob"))
    mine = add(store, ada.id, "mine.mp4")
    add(store, bob.id, "theirs.mp4")
    assert [a.file_name for a in store.list_analyses(ada.id)] == ["mine.mp4"]
    assert store.get_analysis(bob.id, mine) is None
    assert store.get_analysis(ada.id, mine) is not None
    assert store.find_analysis(ada.id, "a" * 32 + "_" + "b" * 16, "mine.mp4") is not None
    assert store.find_analysis(ada.id, "a" * 32 + "_" + "b" * 16, "other.mp4") is None


def test_deleting_never_touches_another_users_analysis(store: Store) -> None:
    ada = store.create_user(new_user("ada"))
    bob = store.create_user(new_user("bob"))
    shared_key = "c" * 32 + "_" + "d" * 16
    ada_row = add(store, ada.id, "clip.mp4", shared_key)
    bob_row = add(store, bob.id, "clip.mp4", shared_key)
    orphans: list[str] = []
    assert store.delete_analysis(bob.id, ada_row, on_orphan=orphans.append) is False  # not bob's
    assert store.get_analysis(ada.id, ada_row) is not None
    assert store.delete_analysis(ada.id, ada_row, on_orphan=orphans.append) is True
    assert orphans == []  # bob still uses the stored result
    assert store.get_analysis(bob.id, bob_row) is not None
    assert store.delete_analysis(bob.id, bob_row, on_orphan=orphans.append) is True
    assert orphans == [shared_key]


def test_a_failing_orphan_cleanup_rolls_the_delete_back(store: Store) -> None:
    ada = store.create_user(new_user("ada"))
    row = add(store, ada.id, "clip.mp4")

    def broken(key: str) -> None:
        raise OSError("disk gone")

    with pytest.raises(OSError):
        store.delete_analysis(ada.id, row, on_orphan=broken)
    assert store.get_analysis(ada.id, row) is not None


def test_database_file_is_private(app_settings: AppSettings) -> None:
    store = Store(app_settings.database_path)
    assert Path(store.path).stat().st_mode & 0o077 == 0


def test_140_concurrent_counter_updates_lose_nothing(store: Store) -> None:
    """Throttle counters (sign-ups, logins per address) are read-and-written in one transaction."""
    barrier = threading.Barrier(14)

    def count_ten() -> None:
        barrier.wait()
        for _ in range(10):
            assert Store(store.path).throttle("test", "desk", limit=10_000, window_s=3600)

    threads = [threading.Thread(target=count_ten) for _ in range(14)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.throttle("test", "desk", limit=140, window_s=3600) is False  # exactly 140 were counted
    assert store.throttle("test", "desk", limit=141, window_s=3600) is True


def test_the_database_survives_kill_9_in_the_middle_of_writes(store: Store) -> None:
    """A server killed while it registers users leaves a consistent database with every committed user."""
    import signal
    import subprocess
    import sys
    import time

    code = (
        "import sys, bcrypt\n"
        "from dashboard.store import NewUser, Store\n"
        "store = Store(sys.argv[1]); pw = bcrypt.hashpw(b'pw', bcrypt.gensalt(rounds=4)).decode()\n"
        "for i in range(100000):\n"
        "    store.create_user(NewUser(f'k{i}', f'k{i}@example.org', pw, 'K', 'A', '+1 555 0100', 'Another', 40))\n"
        "    print(i + 1, flush=True)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", code, str(store.path)], cwd=repo, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    committed = 0
    deadline = time.monotonic() + 60
    while committed < 30 and time.monotonic() < deadline:
        committed = int(child.stdout.readline() or committed)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert committed >= 30
    reopened = Store(store.path)
    assert reopened._read("PRAGMA integrity_check")[0][0] == "ok"
    assert reopened.count_users() >= committed  # nothing the child saw committed was lost
    assert reopened.get_user("k0") is not None
