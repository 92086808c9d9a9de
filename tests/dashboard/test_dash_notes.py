"""Case notes: kept with an analysis, only the owner's, refused when empty or too long, gone with it."""

from __future__ import annotations

import pytest

from dashboard.store import NoteError, Store
from tests.dashboard.test_dash_store import new_user

pytest_plugins = ["tests.dashboard.support"]
LIMIT = 200


def analysis_of(store: Store, username: str) -> tuple[int, int]:
    user = store.create_user(new_user(username))
    return user.id, store.add_analysis(user.id, "clip.mp4", "a" * 64, "key1", "inconclusive", 0.5, {})


def test_notes_are_kept_in_order_with_author(store: Store) -> None:
    user_id, analysis_id = analysis_of(store, "ada")
    store.add_note(user_id, analysis_id, "Called the source", LIMIT, now=100.0)
    note = store.add_note(user_id, analysis_id, "  <b>Uploader</b> & 'first' seen 2024  ", LIMIT, now=200.0)
    assert note.text == "<b>Uploader</b> & 'first' seen 2024"  # stored as written, escaped when shown
    assert note.author == "ada" and note.created_utc == "1970-01-01 00:03 UTC"
    assert [n.text for n in store.list_notes(user_id, analysis_id)] == ["Called the source", note.text]


def test_another_user_can_neither_read_nor_add(store: Store) -> None:
    user_id, analysis_id = analysis_of(store, "ada")
    store.add_note(user_id, analysis_id, "private", LIMIT)
    other_id, _ = analysis_of(store, "bob")
    assert store.list_notes(other_id, analysis_id) == []
    with pytest.raises(NoteError, match="not in your history"):
        store.add_note(other_id, analysis_id, "sneaky", LIMIT)
    assert [n.text for n in store.list_notes(user_id, analysis_id)] == ["private"]


@pytest.mark.parametrize(("text", "words"), [("   ", "empty"), ("x" * (LIMIT + 1), "over the limit")])
def test_bad_notes_are_refused_and_leave_the_others(store: Store, text: str, words: str) -> None:
    user_id, analysis_id = analysis_of(store, "ada")
    store.add_note(user_id, analysis_id, "kept", LIMIT)
    with pytest.raises(NoteError, match=words):
        store.add_note(user_id, analysis_id, text, LIMIT)
    assert [n.text for n in store.list_notes(user_id, analysis_id)] == ["kept"]


def test_notes_go_with_their_analysis(store: Store) -> None:
    user_id, analysis_id = analysis_of(store, "ada")
    store.add_note(user_id, analysis_id, "gone soon", LIMIT)
    assert store.delete_analysis(user_id, analysis_id)
    assert store.list_notes(user_id, analysis_id) == []
