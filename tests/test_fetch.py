"""Analyse a link: a local HTTP server on 127.0.0.1 serves a generated clip."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.fetch import FetchError, LinkSource, check_url, fetch_video, refused_address

BIG = 50 * 1024**2


@pytest.fixture(scope="module")
def served(astronaut_clip: Path) -> Iterator[str]:
    """The folder of the generated clips over HTTP on 127.0.0.1, on a free port."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(astronaut_clip.parent))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.5", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "not a public"),
    ],
)
def test_internal_addresses_are_refused(address: str, words: str) -> None:
    reason = refused_address(address, allow_loopback=False)
    assert reason is not None and words in reason


def test_loopback_only_is_allowed_by_the_setting() -> None:
    assert refused_address("127.0.0.1", allow_loopback=True) is None
    assert refused_address("10.0.0.1", allow_loopback=True) is not None
    assert refused_address("169.254.169.254", allow_loopback=True) is not None
    assert refused_address("0.0.0.0", allow_loopback=True) is not None
    assert refused_address("93.184.215.14", allow_loopback=False) is None


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x.mp4", "javascript:alert(1)", "x.mp4"])
def test_only_http_links(url: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        check_url(url, allow_loopback=True)


def test_local_server_is_refused_by_default(served: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="loopback"):
        fetch_video(f"{served}/astronaut.mp4", tmp_path, max_bytes=BIG, max_duration_s=600)
    assert not any(tmp_path.iterdir())


def test_localhost_name_is_refused_too(served: str, tmp_path: Path) -> None:
    port = served.rsplit(":", 1)[1]
    with pytest.raises(FetchError, match="loopback"):
        fetch_video(f"http://localhost:{port}/astronaut.mp4", tmp_path, max_bytes=BIG, max_duration_s=600)


def test_fetch_from_local_server_when_allowed(served: str, astronaut_clip: Path, tmp_path: Path) -> None:
    fetched = fetch_video(f"{served}/astronaut.mp4", tmp_path, max_bytes=BIG, max_duration_s=600, allow_loopback=True)
    assert hashlib.sha256(fetched.path.read_bytes()).digest() == hashlib.sha256(astronaut_clip.read_bytes()).digest()
    assert fetched.source.url.endswith("/astronaut.mp4")
    assert fetched.source.fetched_at.endswith("+00:00")
    assert LinkSource.from_json_dict(fetched.source.to_json_dict()) == fetched.source


def test_size_cap(served: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="cap"):
        fetch_video(f"{served}/astronaut.mp4", tmp_path, max_bytes=1000, max_duration_s=600, allow_loopback=True)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".mp4"]


def test_duration_cap(served: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="over the 1 s cap"):
        fetch_video(f"{served}/astronaut.mp4", tmp_path, max_bytes=BIG, max_duration_s=1.0, allow_loopback=True)
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".mp4"]


def test_missing_file_is_one_clear_error(served: str, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="could not fetch"):
        fetch_video(f"{served}/nothing.mp4", tmp_path, max_bytes=BIG, max_duration_s=600, allow_loopback=True)
