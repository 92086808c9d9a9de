"""The web server around the pages (`app.py` mounts it with `st.App`): cookie routes and a media guard.

- `/auth/session?ticket=…` trades a one-use login ticket for the session cookie, set by the server
  so that it can be `HttpOnly` (scripts cannot read it), `SameSite=Strict` and, over HTTPS, `Secure`.
- `/auth/logout` clears the cookie (the page has already deleted the session).
- Streamlit serves images and downloads under `/media/<id>`; `MediaGuard` answers those only to the
  signed-in user whose page holds the file, so a copied crop or report URL shows nothing to anyone else.
"""

from __future__ import annotations

import threading
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from dashboard.settings import AppSettings
from dashboard.store import Store

SESSION_PATH = "/auth/session"
LOGOUT_PATH = "/auth/logout"
SIGNED_OUT_PARAM = "signed_out"
MEDIA_PREFIX = "/media/"

_active = threading.Event()
_owners_lock = threading.Lock()
_streamlit_session_users: dict[str, int] = {}
_stores: dict[str, Store] = {}


def routes_active() -> bool:
    """Whether this process serves the cookie routes (started from app.py, not Home.py alone)."""
    return _active.is_set()


def remember_streamlit_session(session_id: str | None, user_id: int) -> None:
    """Which user a browser tab (a Streamlit session) belongs to, for the media guard."""
    if session_id:
        with _owners_lock:
            _streamlit_session_users[session_id] = user_id


def forget_streamlit_session(session_id: str | None) -> None:
    if session_id:
        with _owners_lock:
            _streamlit_session_users.pop(session_id, None)


def _store(settings: AppSettings) -> Store:
    key = str(settings.database_path)
    if key not in _stores:
        settings.ensure_data_dir()
        _stores[key] = Store(settings.database_path)
    return _stores[key]


def _is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def cookie_secure(settings: AppSettings, request: Request) -> bool:
    """The `Secure` flag: always, never, or (auto) when this request came over HTTPS."""
    if settings.cookie_secure == "always":
        return True
    if settings.cookie_secure == "never":
        return False
    return _is_https(request)


def _local_path(value: str | None) -> str:
    """A path on this server only: an open redirect would hand the cookie flow to another site."""
    path = value or "/"
    if not path.startswith("/") or path.startswith("//") or "\\" in path or path.startswith("/auth/"):
        return "/"
    return URL(path).path or "/"


async def start_session(request: Request) -> Response:
    settings = AppSettings.from_env()
    ticket = request.query_params.get("ticket", "")
    response = RedirectResponse(_local_path(request.query_params.get("next")), status_code=303)
    token = _store(settings).redeem_login_ticket(ticket) if ticket else None
    if token is not None:
        response.set_cookie(
            settings.cookie_name,
            token,
            max_age=int(settings.session_lifetime_s),
            path="/",
            httponly=True,
            samesite="strict",
            secure=cookie_secure(settings, request),
        )
    response.headers["Cache-Control"] = "no-store"
    return response


async def end_session(request: Request) -> Response:
    settings = AppSettings.from_env()
    token = request.cookies.get(settings.cookie_name)
    if token:
        _store(settings).delete_session(token)
    response = RedirectResponse(f"/?{SIGNED_OUT_PARAM}=1", status_code=303)
    response.delete_cookie(
        settings.cookie_name, path="/", httponly=True, samesite="strict", secure=cookie_secure(settings, request)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


ROUTES = [Route(SESSION_PATH, start_session, methods=["GET"]), Route(LOGOUT_PATH, end_session, methods=["GET"])]


def media_owners(file_id: str, files_by_session: dict[str, dict[Any, str]]) -> set[int]:
    """The users whose open pages show the media file `file_id`."""
    with _owners_lock:
        return {
            _streamlit_session_users[session_id]
            for session_id, files in files_by_session.items()
            if session_id in _streamlit_session_users and file_id in files.values()
        }


def _files_by_session() -> dict[str, dict[Any, str]]:
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return {}
    manager = Runtime.instance().media_file_mgr
    with manager._lock:  # a snapshot: Streamlit adds and drops files while we look
        return {sid: dict(files) for sid, files in manager._files_by_session_and_coord.items()}


class MediaGuard:
    """ASGI middleware: `/media/…` only for the signed-in user whose page holds that file."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(MEDIA_PREFIX):
            request = Request(scope)
            settings = AppSettings.from_env()
            token = request.cookies.get(settings.cookie_name)
            user = _store(settings).session_user(token) if token else None
            file_id = scope["path"][len(MEDIA_PREFIX) :].split("/")[0].split(".")[0]
            if user is None or user.id not in media_owners(file_id, _files_by_session()):
                await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def activate() -> None:
    """Called by app.py: the pages may now rely on the cookie routes."""
    _active.set()
