"""The REST API through FastAPI's test client: tokens, isolation, upload and link jobs, reports."""

from __future__ import annotations

import functools
import http.server
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from dashboard.api_tokens import TokenStore
from dashboard.settings import AppSettings
from tests.dashboard.builders import fast_settings, make_user, tiny_engine_factory

from conftest import SCORE_JSON_KEYS, astronaut_frames, write_video

pytest_plugins = ["tests.dashboard.support"]



@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, AppSettings]]:
    settings = fast_settings(tmp_path / "data")
    with TestClient(create_app(settings, tiny_engine_factory)) as client:
        yield client, settings


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("api") / "portrait.mp4", astronaut_frames(20))


def token_for(client: TestClient, settings: AppSettings, username: str) -> tuple[int, str]:
    services = client.app.state.services  # type: ignore[attr-defined]
    user = make_user(services.store, settings, username)
    _, token = services.tokens.create(user.id, f"{username}'s desk")
    return user.id, token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def finished(client: TestClient, job: dict, token: str) -> dict:
    client.app.state.services.jobs.wait()  # type: ignore[attr-defined]
    response = client.get(f"/v1/jobs/{job['id']}", headers=bearer(token))
    assert response.status_code == 200
    return response.json()


def test_requests_without_a_valid_token_are_refused(api, clip: Path) -> None:
    client, settings = api
    user_id, token = token_for(client, settings, "ada")
    assert client.get("/v1/analyses").status_code == 401
    assert client.get("/v1/analyses", headers=bearer("dfd_not-a-real-token")).status_code == 401
    assert client.get("/v1/analyses", headers=bearer(token[:-1])).status_code == 401
    assert client.get("/v1/analyses", headers=bearer(token)).status_code == 200
    tokens: TokenStore = client.app.state.services.tokens  # type: ignore[attr-defined]
    assert tokens.revoke(user_id, tokens.list(user_id)[0].id)
    response = client.post("/v1/jobs", headers=bearer(token), files={"file": ("a.mp4", clip.read_bytes())})
    assert response.status_code == 401
    assert client.get("/v1/analyses", headers=bearer(token)).status_code == 401


def test_upload_job_gives_the_score_json_result_and_reports(api, clip: Path) -> None:
    client, settings = api
    _, token = token_for(client, settings, "ada")
    response = client.post(
        "/v1/jobs", headers=bearer(token), files={"file": ("../../etc/portrait.mp4", clip.read_bytes())}
    )
    assert response.status_code == 202
    job = finished(client, response.json(), token)
    assert job["status"] == "done", job
    assert job["file_name"] == "portrait.mp4"
    result = client.get(f"/v1/analyses/{job['analysis_id']}", headers=bearer(token)).json()
    assert set(result) >= SCORE_JSON_KEYS
    assert result["verdict"] in {"fake", "real", "no_face"}
    assert result["file"] == "portrait.mp4"
    assert len(result["frames"]) == 16
    listed = client.get("/v1/analyses", headers=bearer(token)).json()
    assert [a["id"] for a in listed] == [job["analysis_id"]]
    report = client.get(f"/v1/analyses/{job['analysis_id']}/report.json", headers=bearer(token))
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    page = client.get(f"/v1/analyses/{job['analysis_id']}/report.html", headers=bearer(token))
    assert page.status_code == 200 and "portrait.mp4" in page.text


def test_a_token_sees_only_its_own_users_jobs_and_analyses(api, clip: Path) -> None:
    client, settings = api
    _, ada = token_for(client, settings, "ada")
    _, bob = token_for(client, settings, "bob")
    job = client.post("/v1/jobs", headers=bearer(ada), files={"file": ("a.mp4", clip.read_bytes())}).json()
    done = finished(client, job, ada)
    assert client.get(f"/v1/jobs/{job['id']}", headers=bearer(bob)).status_code == 404
    assert client.get(f"/v1/analyses/{done['analysis_id']}", headers=bearer(bob)).status_code == 404
    assert client.get(f"/v1/analyses/{done['analysis_id']}/report.html", headers=bearer(bob)).status_code == 404
    assert client.get("/v1/analyses", headers=bearer(bob)).json() == []


def test_a_bad_file_ends_as_an_error_job_with_its_reason(api) -> None:
    client, settings = api
    _, token = token_for(client, settings, "ada")
    job = client.post("/v1/jobs", headers=bearer(token), files={"file": ("notes.mp4", b"not a video" * 100)}).json()
    done = finished(client, job, token)
    assert done["status"] == "error" and done["error"] and done["analysis_id"] is None
    assert client.get("/v1/analyses", headers=bearer(token)).json() == []


def serve_folder(folder: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_link_jobs_fetch_http_links_only(tmp_path: Path, clip: Path) -> None:
    settings = fast_settings(tmp_path / "data").with_overrides(allow_loopback_links=True)  # as in the tests only
    with TestClient(create_app(settings, tiny_engine_factory)) as client:
        _, token = token_for(client, settings, "ada")
        refused = client.post("/v1/jobs/link", headers=bearer(token), json={"url": f"file://{clip}"})
        assert refused.status_code == 422
        server = serve_folder(clip.parent)
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/{clip.name}"
            job = client.post("/v1/jobs/link", headers=bearer(token), json={"url": url}).json()
            done = finished(client, job, token)
        finally:
            server.shutdown()
    assert done["status"] == "done", done
    assert done["file_name"] == clip.name


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "192.168.1.1"])
def test_link_jobs_never_reach_this_server_or_its_network(api, host: str) -> None:
    """The API refuses what the dashboard refuses: a newsroom server is not a way into its own network.
    Nothing listens at these addresses; the refusal comes before any connection."""
    client, settings = api
    _, token = token_for(client, settings, "ada")
    job = client.post("/v1/jobs/link", headers=bearer(token), json={"url": f"http://{host}/clip.mp4"}).json()
    done = finished(client, job, token)
    assert done["status"] == "error" and "refused" in done["error"], done


def test_openapi_schema_documents_the_routes(api) -> None:
    client, _ = api
    schema = client.get("/openapi.json").json()
    assert {"/v1/jobs", "/v1/jobs/link", "/v1/jobs/{job_id}", "/v1/analyses/{analysis_id}"} <= set(schema["paths"])
    assert "ResultOut" in schema["components"]["schemas"]


def test_tokens_are_stored_hashed_and_revoked_only_by_their_owner(store, app_settings) -> None:
    tokens = TokenStore(store)
    ada = make_user(store, app_settings, "ada")
    bob = make_user(store, app_settings, "bob")
    record, token = tokens.create(ada.id, "  CMS   plug-in ")
    assert record.name == "CMS plug-in" and token.startswith(record.hint)
    with sqlite3.connect(store.path) as connection:
        stored = [row[0] for row in connection.execute("SELECT token_hash FROM api_tokens")]
    assert stored and token not in stored and all(token not in value for value in stored)
    assert tokens.authenticate(token) == ada.id
    assert not tokens.revoke(bob.id, record.id)
    assert tokens.authenticate(token) == ada.id
    assert tokens.revoke(ada.id, record.id)
    assert tokens.authenticate(token) is None
    assert not tokens.list(ada.id)[0].active and tokens.list(bob.id) == []
