"""The Account page's API tokens section, driven by AppTest: create (shown once), list, revoke."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.api_tokens import TokenStore
from dashboard.store import Store
from tests.dashboard.builders import fast_settings, make_user


def _section_script(database: str, user_id: int) -> None:
    from dashboard.store import Store
    from dashboard.ui.api_tokens import api_tokens_section
    from dashboard.ui.auth import CurrentUser

    api_tokens_section(CurrentUser(id=user_id, username="ada", name="Ada", email="ada@example.org"), Store(database))


def test_tokens_are_created_shown_once_listed_and_revoked(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path / "data")
    store = Store(settings.database_path)
    ada = make_user(store, settings)
    app = AppTest.from_function(_section_script, args=(str(settings.database_path), ada.id)).run()
    assert not app.exception
    app.text_input[0].input("CMS plug-in")
    app.button[0].click().run()
    shown = app.code[0].value
    tokens = TokenStore(store)
    assert tokens.authenticate(shown) == ada.id
    assert "CMS plug-in" in app.markdown[-1].value and "active" in app.markdown[-1].value
    revoke = next(b for b in app.button if b.label == "Revoke")
    revoke.click().run()
    assert not app.exception
    assert tokens.authenticate(shown) is None
    assert "revoked" in app.markdown[-1].value and not app.code
