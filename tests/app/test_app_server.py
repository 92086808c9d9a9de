"""The server's own routes (cookie flags, one-use tickets, no open redirect) and the media guard."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from dashboard.sessions import new_token
from dashboard.settings import AppSettings
from dashboard.store import Store
from dashboard.ui import server
from tests.dashboard.builders import fast_settings, make_user

pytest_plugins = ["tests.dashboard.support"]


async def _media(request):  # type: ignore[no-untyped-def]
    return PlainTextResponse("crop bytes")


@pytest.fixture
def client(app_env: AppSettings) -> TestClient:
    app = Starlette(
        routes=[*server.ROUTES, Route("/media/{file_id}", _media)], middleware=[Middleware(server.MediaGuard)]
    )
    return TestClient(app, base_url="http://testserver", follow_redirects=False)


@pytest.fixture
def store(app_env: AppSettings) -> Store:
    store = Store(app_env.database_path)
    make_user(store, fast_settings(app_env.data_dir), "ada")
    make_user(store, fast_settings(app_env.data_dir), "bob")
    return store


def session_for(store: Store, username: str) -> tuple[int, str]:
    user = store.get_user(username)
    assert user is not None
    token = new_token()
    store.create_session(user.id, token, 3600)
    return user.id, token


def ticket_for(store: Store, token: str) -> str:
    ticket = new_token()
    store.add_login_ticket(ticket, token, 60)
    return ticket


def test_the_ticket_route_sets_an_httponly_strict_cookie_once(client: TestClient, store: Store) -> None:
    """Row 1: the cookie is out of scripts' reach, never sent cross-site, and lives hours, not days."""
    _, token = session_for(store, "ada")
    ticket = ticket_for(store, token)
    response = client.get(server.SESSION_PATH, params={"ticket": ticket, "next": "/Analyze"})
    assert response.status_code == 303 and response.headers["location"] == "/Analyze"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"dfd_session={token};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert f"Max-Age={int(AppSettings().session_lifetime_s)}" in cookie
    again = client.get(server.SESSION_PATH, params={"ticket": ticket})
    assert "set-cookie" not in again.headers


def test_the_cookie_is_secure_over_https(app_env: AppSettings, store: Store) -> None:
    _, token = session_for(store, "ada")
    app = Starlette(routes=server.ROUTES)
    https = TestClient(app, base_url="https://testserver", follow_redirects=False)
    assert "Secure" in https.get(server.SESSION_PATH, params={"ticket": ticket_for(store, token)}).headers["set-cookie"]
    proxied = TestClient(app, base_url="http://testserver", follow_redirects=False)
    response = proxied.get(
        server.SESSION_PATH, params={"ticket": ticket_for(store, token)}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in response.headers["set-cookie"]


def test_the_secure_flag_can_be_forced(client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DFD_COOKIE_SECURE", "always")
    _, token = session_for(store, "ada")
    response = client.get(server.SESSION_PATH, params={"ticket": ticket_for(store, token)})
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/auth/logout"])
def test_no_redirect_leaves_the_site(client: TestClient, store: Store, target: str) -> None:
    _, token = session_for(store, "ada")
    response = client.get(server.SESSION_PATH, params={"ticket": ticket_for(store, token), "next": target})
    assert response.headers["location"] == "/"


def test_logout_route_clears_the_cookie_and_the_session(client: TestClient, store: Store) -> None:
    _, token = session_for(store, "ada")
    client.cookies.set("dfd_session", token)
    response = client.get(server.LOGOUT_PATH)
    assert response.status_code == 303 and response.headers["location"].startswith("/?signed_out")
    assert 'dfd_session="";' in response.headers["set-cookie"] or "dfd_session=;" in response.headers["set-cookie"]
    assert store.session_user(token) is None


def test_media_is_served_only_to_the_user_whose_page_holds_it(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row 6: a crop or report URL fetched with no cookie, or by another user, is not found."""
    ada_id, ada_token = session_for(store, "ada")
    _, bob_token = session_for(store, "bob")
    monkeypatch.setattr(server, "_files_by_session", lambda: {"tab-of-ada": {"coord": "f00d"}})
    server.remember_streamlit_session("tab-of-ada", ada_id)
    try:
        assert client.get("/media/f00d.png").status_code == 404
        client.cookies.set("dfd_session", bob_token)
        assert client.get("/media/f00d.png").status_code == 404
        client.cookies.set("dfd_session", ada_token)
        assert client.get("/media/f00d.png").text == "crop bytes"
        assert client.get("/media/beef.png").status_code == 404  # not on any of her pages
        store.delete_session(ada_token)
        assert client.get("/media/f00d.png").status_code == 404
    finally:
        server.forget_streamlit_session("tab-of-ada")
