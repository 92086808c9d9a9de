"""Load test: a local server on loopback, many users signing up, logging in and analysing at once.

    python -m tools.loadtest                    # 50 sign-ups + logins, 10 analyses (make loadtest)
    python -m tools.loadtest --users 6 --analyses 3 --tiny-model

It starts `streamlit run app.py` on 127.0.0.1 with a fresh data directory and speaks Streamlit's own
websocket protocol (the protobuf messages the browser sends), so every request goes through the real
pages: the registration form, the login form, the `/auth/session` cookie route, the upload route and
the Analyze page. Each user uploads a different generated clip. It prints the requests and analyses
done, the errors, p50/p95 latency, the server's peak memory, and checks that every user's History
shows their own clip and nobody else's (and the database agrees). Bounded: a fixed number of users
and a time limit for the whole run.
"""

from __future__ import annotations

import argparse
import http.cookies
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage import data as skimage_data
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string
from websockets.sync.client import connect

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Harbour-Lantern-Violet-42"
TINY_ENGINE = "tests.dashboard.builders:tiny_engine_factory"


@dataclass
class Stats:
    """What every client measured, shared between threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, started: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(time.perf_counter() - started)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`streamlit run app.py` on loopback with its own data directory."""

    def __init__(self, data_dir: Path, tiny_model: bool, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        env = {
            **os.environ,
            "DFD_DATA_DIR": str(data_dir),
            "DFD_LOGINS_PER_ADDRESS": "100000",  # every client comes from 127.0.0.1
            "DFD_SIGNUPS_PER_ADDRESS": "100000",
            "DFD_SIGNUPS_PER_HOUR": "100000",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        if tiny_model:
            env["DFD_ENGINE_FACTORY"] = TINY_ENGINE
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the server did not answer within 120 s; see {log}")

    def peak_memory_mb(self) -> float:
        """The server process's peak resident memory (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


class Browser:
    """One user's browser tab, as Streamlit's frontend would talk to the server."""

    def __init__(self, base_url: str, stats: Stats, timeout: float):
        self.base_url = base_url
        self.stats = stats
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._get("/")  # the page itself
        if "_streamlit_xsrf" not in self.cookies:  # double-submit token, as the frontend keeps it
            self.cookies["_streamlit_xsrf"] = generate_xsrf_token_string(os.urandom(32))
        self.ws: Any = None
        self.session_id = ""
        self.pages: dict[str, str] = {}
        self.paths: dict[str, str] = {}
        self.elements: list[Any] = []

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def _remember(self, headers: Any) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def _get(self, path: str) -> int:
        request = urllib.request.Request(self.base_url + path, headers={"Cookie": self._cookie_header()})

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None

        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                self._remember(response.headers)
                return int(response.status)
        except urllib.error.HTTPError as error:
            self._remember(error.headers)
            return int(error.code)

    def open(self, page: str = "") -> None:
        """Open the websocket (with this browser's cookies) and run a page (the home page by default)."""
        xsrf = self.cookies.get("_streamlit_xsrf", "")
        self.ws = connect(  # closed in close()
            self.base_url.replace("http", "ws") + "/_stcore/stream",
            subprotocols=["streamlit", xsrf] if xsrf else ["streamlit"],  # type: ignore[list-item]
            additional_headers={"Cookie": self._cookie_header(), "Origin": self.base_url},
            open_timeout=self.timeout,
            max_size=None,
        )
        self.run(page)

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def run(self, page: str, widgets: list[WidgetState] | None = None, kind: str = "page") -> list[Any]:
        """One script run (a page view or a form submit); returns the elements it drew."""
        message = BackMsg()
        message.rerun_script.query_string = ""
        # The page by its URL path, as a browser opening /Analyze does.
        message.rerun_script.page_name = self.paths.get(self.pages.get(page, ""), "")
        message.rerun_script.widget_states.widgets.extend(widgets or [])
        started = time.perf_counter()
        self.ws.send(message.SerializeToString())
        self.elements = []
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{kind}: no answer within {self.timeout:.0f} s")
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=remaining))
            kind_of = forward.WhichOneof("type")
            if kind_of == "new_session":
                self.session_id = forward.new_session.initialize.session_id
                for app_page in forward.new_session.app_pages:
                    self.pages[app_page.page_name] = app_page.page_script_hash
                    self.paths[app_page.page_script_hash] = app_page.url_pathname
            elif kind_of == "delta" and forward.delta.WhichOneof("type") == "new_element":
                self.elements.append(forward.delta.new_element)
            elif kind_of == "delta" and forward.delta.WhichOneof("type") == "add_block":
                self.elements.append(forward.delta.add_block)
            elif kind_of == "script_finished":
                break
        self.stats.timed(kind, started)
        exceptions = [e.exception.message for e in self.elements if _is(e, "exception")]
        if exceptions:
            raise RuntimeError(f"{kind}: the page raised {exceptions[0]}")
        return self.elements

    def widget(self, kind: str, label: str, form: str | None = None) -> Any:
        for element in self.elements:
            if _is(element, kind):
                proto = getattr(element, kind)
                if proto.label == label and (form is None or proto.form_id == form):
                    return proto
        raise LookupError(f"no {kind} '{label}' on the page")

    def texts(self) -> str:
        """Every alert, markdown and block label the last run drew."""
        parts = []
        for element in self.elements:
            for name in ("alert", "markdown", "text", "heading", "html"):
                if _is(element, name):
                    parts.append(getattr(getattr(element, name), "body", ""))
            if hasattr(element, "expandable") and element.HasField("expandable"):
                parts.append(element.expandable.label)
        return "\n".join(parts)

    def submit(self, form: str, button: str, values: dict[tuple[str, str], Any], kind: str) -> list[Any]:
        states = []
        for (widget_kind, label), value in values.items():
            proto = self.widget(widget_kind, label, form)
            state = WidgetState(id=proto.id)
            if isinstance(value, str):
                state.string_value = value
            else:
                state.double_value = float(value)
            states.append(state)
        states.append(WidgetState(id=self.widget("button", button, form).id, trigger_value=True))
        return self.run("", states, kind)

    def upload(self, page: str, path: Path, kind: str = "analysis") -> list[Any]:
        """Upload a file to the page's uploader as the frontend does, and run the page with it."""
        uploader = self.widget(
            "file_uploader", next(e.file_uploader.label for e in self.elements if _is(e, "file_uploader"))
        )
        request = BackMsg()
        request_id = uuid.uuid4().hex
        request.file_urls_request.request_id = request_id
        request.file_urls_request.file_names.append(path.name)
        request.file_urls_request.session_id = self.session_id
        self.ws.send(request.SerializeToString())
        urls = None
        while urls is None:
            forward = ForwardMsg()
            forward.ParseFromString(self.ws.recv(timeout=self.timeout))
            if (
                forward.WhichOneof("type") == "file_urls_response"
                and forward.file_urls_response.response_id == request_id
            ):
                urls = forward.file_urls_response.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
                "Content-Type: video/mp4\r\n\r\n"
            ).encode()
            + path.read_bytes()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        upload_url = urls.upload_url if urls.upload_url.startswith("http") else self.base_url + urls.upload_url
        put = urllib.request.Request(
            upload_url,
            data=body,
            method="PUT",
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": self._cookie_header(),
                "X-Xsrftoken": self.cookies.get("_streamlit_xsrf", ""),
            },
        )
        with urllib.request.urlopen(put, timeout=self.timeout) as response:
            if response.status not in (200, 204):
                raise RuntimeError(f"upload answered {response.status}")
        state = WidgetState(id=uploader.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id = urls.file_id
        info.name = path.name
        info.size = path.stat().st_size
        info.file_urls.CopyFrom(urls)
        return self.run(page, [state], kind)


def _is(element: Any, kind: str) -> bool:
    try:
        return bool(element.WhichOneof("type") == kind)
    except ValueError:
        return False


def registration_values(number: int) -> dict[tuple[str, str], Any]:
    return {
        ("text_input", "Full name"): f"Load Tester {number}",
        ("text_input", "E-mail"): f"load{number}@example.org",
        ("text_area", "Address"): f"{number} Press Street, Berlin",
        ("text_input", "Phone number"): "+49 30 1234567",
        ("selectbox", "Gender"): "Prefer not to say",
        ("number_input", "Age"): 30 + number % 40,
        ("text_input", "User name"): f"load{number:03d}",
        ("text_input", "Password"): PASSWORD,
        ("text_input", "Confirm password"): PASSWORD,
    }


def sign_up_and_log_in(base_url: str, number: int, stats: Stats, timeout: float) -> Browser | None:
    """Register through the form, log in through the form, trade the ticket for the session cookie."""
    browser = Browser(base_url, stats, timeout)
    try:
        browser.open()
        browser.submit("register", "Create account", registration_values(number), "sign-up")
        if "your account is ready" not in browser.texts():
            raise RuntimeError("sign-up: no confirmation")
        values = {("text_input", "User name"): f"load{number:03d}", ("text_input", "Password"): PASSWORD}
        browser.submit("login", "Log in", values, "login")
        match = re.search(r"/auth/session\?ticket=[^\"']+", browser.texts())
        if match is None:
            raise RuntimeError(f"login: refused ({browser.texts()[:120]!r})")
        started = time.perf_counter()
        status = browser._get(match.group(0).replace("&amp;", "&"))
        stats.timed("cookie", started)
        if status != 303 or "dfd_session" not in browser.cookies:
            raise RuntimeError(f"cookie route answered {status} without a session cookie")
        browser.close()
        return browser
    except Exception as error:
        stats.error(f"user {number}: {error}")
        browser.close()
        return None


def make_clip(path: Path, number: int) -> Path:
    """A different clip per user: the portrait at its own size, place and grey level, 2 s at 10 fps."""
    size = 96 + 8 * (number % 8)
    face = cv2.resize(skimage_data.astronaut(), (size, size))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (320, 240))
    for frame_number in range(20):
        canvas = np.full((240, 320, 3), 40 + 9 * number, np.uint8)
        x = (number * 13 + frame_number * 3) % (320 - size)
        canvas[20 : 20 + size, x : x + size] = face
        writer.write(cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def analyse(base_url: str, browser: Browser, clip: Path, stats: Stats, timeout: float) -> bool:
    """Open the Analyze page with the session cookie only, upload the clip, wait for the verdict."""
    fresh = Browser(base_url, stats, timeout)
    fresh.cookies.update({"dfd_session": browser.cookies["dfd_session"]})
    fresh.pages, fresh.paths = browser.pages, browser.paths  # learnt at sign-up: the first run opens the page
    try:
        fresh.open("Analyze")
        fresh.upload("Analyze", clip)
        text = fresh.texts()
        if "Assessment:" not in text:
            raise RuntimeError(f"no assessment ({text[:160]!r})")
        return True
    except Exception as error:
        stats.error(f"analysis of {clip.name}: {type(error).__name__} {error}")
        return False
    finally:
        fresh.close()


def history_of(base_url: str, browser: Browser, stats: Stats, timeout: float) -> str:
    fresh = Browser(base_url, stats, timeout)
    fresh.cookies.update({"dfd_session": browser.cookies["dfd_session"]})
    fresh.pages, fresh.paths = browser.pages, browser.paths
    try:
        fresh.open("History")
        return fresh.texts() + "\n" + "\n".join(str(e.button.label) for e in fresh.elements if _is(e, "button"))
    finally:
        fresh.close()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def run_load(users: int, analyses: int, tiny_model: bool, time_limit: float, timeout: float) -> dict[str, Any]:
    """Start the server, run the load, check ownership; returns the figures (also printed)."""
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="dfd-loadtest-") as folder:
        root = Path(folder)
        server = Server(root / "data", tiny_model, root / "server.log")
        deadline = time.monotonic() + time_limit
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(users) as pool:
                browsers = list(pool.map(lambda n: sign_up_and_log_in(server.url, n, stats, timeout), range(users)))
            signed_in = [b for b in browsers if b is not None]
            sign_in_s = time.perf_counter() - started
            if time.monotonic() > deadline:
                raise TimeoutError("time limit reached after the sign-ups")
            clips = [make_clip(root / f"clip-of-user-{n:03d}.mp4", n) for n in range(min(analyses, len(signed_in)))]
            # Warm the model once (a page view), so the analyses measure analysing, not loading.
            warm = Browser(server.url, stats, timeout)
            warm.cookies["dfd_session"] = signed_in[0].cookies["dfd_session"]
            warm.pages, warm.paths = signed_in[0].pages, signed_in[0].paths
            warm.open("Analyze")
            warm.close()
            started = time.perf_counter()
            with ThreadPoolExecutor(max(len(clips), 1)) as pool:
                done = list(
                    pool.map(
                        lambda pair: analyse(server.url, pair[0], pair[1], stats, timeout),
                        zip(signed_in, clips, strict=False),
                    )
                )
            analyses_s = time.perf_counter() - started
            wrong = check_ownership(server, signed_in, clips, stats, timeout)
            peak = server.peak_memory_mb()
        finally:
            server.stop()
        log_tail = (root / "server.log").read_text()[-2000:]
    all_latencies = [v for kind, values in stats.latencies.items() if kind != "model load" for v in values]
    figures = {
        "users": users,
        "signed_up_and_logged_in": len(signed_in),
        "analyses_requested": len(clips),
        "analyses_done": sum(done),
        "requests": len(all_latencies),
        "errors": len(stats.errors),
        "error_samples": stats.errors[:5],
        "results_shown_to_the_wrong_user": wrong,
        "p50_s": round(percentile(all_latencies, 50), 3),
        "p95_s": round(percentile(all_latencies, 95), 3),
        "by_kind": {
            kind: {"n": len(v), "p50_s": round(percentile(v, 50), 3), "p95_s": round(percentile(v, 95), 3)}
            for kind, v in sorted(stats.latencies.items())
        },
        "sign_ups_and_logins_wall_s": round(sign_in_s, 1),
        "analyses_wall_s": round(analyses_s, 1),
        "server_peak_memory_mb": round(peak, 1),
        "model": "tiny test model" if tiny_model else "the shipped model",
    }
    if stats.errors:
        figures["server_log_tail"] = log_tail
    return figures


def check_ownership(server: Server, browsers: list[Browser], clips: list[Path], stats: Stats, timeout: float) -> int:
    """Each analysing user's History lists their clip and no other's; the database agrees."""
    wrong = 0
    names = [clip.name for clip in clips]
    for number, (browser, clip) in enumerate(zip(browsers, clips, strict=False)):
        shown = history_of(server.url, browser, stats, timeout)
        others = [name for name in names if name != clip.name and name in shown]
        if clip.name not in shown or others:
            wrong += 1
            stats.error(f"user {number}: History shows {others or 'not their clip'}")
    connection = sqlite3.connect(server.data_dir / "dashboard.sqlite3")
    try:
        rows = connection.execute(
            "SELECT u.username, a.file_name FROM analyses a JOIN users u ON u.id = a.user_id"
        ).fetchall()
    finally:
        connection.close()
    for username, file_name in rows:
        if file_name != f"clip-of-user-{int(username[4:]):03d}.mp4":
            wrong += 1
            stats.error(f"{username} owns {file_name}")
    return wrong


def main(argv: list[str] | None = None, run: Callable[..., dict[str, Any]] = run_load) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=50, help="concurrent sign-ups and logins (default 50)")
    parser.add_argument("--analyses", type=int, default=10, help="concurrent analyses by different users (default 10)")
    parser.add_argument("--tiny-model", action="store_true", help="the tests' tiny model instead of the shipped one")
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds for the whole run (default 900)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take (default 300)")
    parser.add_argument("--json-out", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not 1 <= args.analyses <= args.users <= 200:
        parser.error("need 1 <= analyses <= users <= 200")
    figures = run(args.users, args.analyses, args.tiny_model, args.time_limit, args.timeout)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"users signed up and logged in: {figures['signed_up_and_logged_in']}/{figures['users']}; "
        f"analyses done: {figures['analyses_done']}/{figures['analyses_requested']}; "
        f"requests: {figures['requests']}; errors: {figures['errors']}; "
        f"latency p50 {figures['p50_s']} s, p95 {figures['p95_s']} s; "
        f"server peak memory {figures['server_peak_memory_mb']} MB; "
        f"results shown to the wrong user: {figures['results_shown_to_the_wrong_user']}"
    )
    for kind, row in figures["by_kind"].items():
        print(f"  {kind}: {row['n']} requests, p50 {row['p50_s']} s, p95 {row['p95_s']} s")
    for sample in figures["error_samples"]:
        print(f"  error: {sample}")
    ok = figures["errors"] == 0 and figures["results_shown_to_the_wrong_user"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
