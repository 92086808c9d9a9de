"""The Account page's API tokens section, driven by AppTest: create (shown once), list, revoke."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.api_tokens import TokenStore
from dashboard.settings import AppSettings
from dashboard.store import Store
from tests.app.apptest_helpers import logged_in, open_page, shows_login_only
from tests.dashboard.builders import fast_settings, make_user

pytest_plugins = ["tests.dashboard.support"]


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


def test_the_account_page_shows_the_tokens_section_to_its_user_only(app_env: AppSettings) -> None:
    store = Store(app_env.database_path)
    ada = make_user(store, fast_settings(app_env.data_dir), "ada")
    assert shows_login_only(open_page("pages/6_Account.py"))
    app = logged_in("ada", "pages/6_Account.py")
    assert not app.exception
    assert "API tokens" in [h.value for h in app.subheader]
    TokenStore(store).create(ada.id, "CMS plug-in")
    app = logged_in("ada", "pages/6_Account.py")
    assert any("CMS plug-in" in m.value for m in app.markdown)
