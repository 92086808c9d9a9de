"""The app in a real browser: Debian's Chromium driven by Playwright against a fresh `streamlit run`.

Covers what AppTest cannot: the HttpOnly session cookie set by the server's route, file upload over
HTTP, the Plotly chart and images actually drawn (and refused to anyone else), a real download.
Screenshots (1280x800, plus a tall full-page one) go to artifacts/screenshots/; the upload-to-verdict
time to artifacts/e2e_timings.json.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import jwt
import numpy as np
import pytest

from dashboard.accounts import REGISTRATION_DONE
from tests.dashboard.builders import TEST_COOKIE_KEY

from conftest import astronaut_frames, write_video

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("DFD_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VIEWPORT = {"width": 1280, "height": 800}
PAGE_PATHS = {"Home": "", "Analyze": "Analyze", "Compare": "Compare", "Attention lab": "Attention_lab"}
PAGE_PATHS |= {"History": "History", "Model card": "Model_card", "Account": "Account"}
PAGE_HEADINGS = {
    "Analyze": "Analyze a clip",
    "Compare": "Compare two clips",
    "Attention lab": "Attention lab",
    "History": "Your analyses",
    "Model card": "Model card",
    "Account": "Your account",
}
USER = {"name": "Ada Reporter", "username": "ada", "email": "ada@example.org", "password": "Newsroom-2024!"}

if not CHROMIUM.exists():
    if os.environ.get("DFD_REQUIRE_E2E") == "1":
        pytest.fail(f"{CHROMIUM} is missing; `make test` installs it (apt-get install chromium)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`streamlit run app.py` (as `make run`) on a free port with its own data directory; stopped on close."""

    def __init__(self, data_dir: Path, log_name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115 - closed in stop()
        env = {
            **os.environ,
            "DFD_DATA_DIR": str(data_dir),
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port)]
        command += ["--server.headless", "true", "--server.address", "127.0.0.1"]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.process.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not answer within {timeout:.0f} s; see {self.log.name}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def fresh_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    server = Server(tmp_path / "data", f"e2e_server_{request.node.name}.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ten_second_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s at 25 fps, 640x360: the astronaut portrait sliding across the frame."""
    return write_video(tmp_path_factory.mktemp("e2e") / "press-clip.mp4", astronaut_frames(250))


@pytest.fixture(scope="module")
def faceless_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = [np.full((360, 640, 3), 40 + i, np.uint8) for i in range(50)]
    return write_video(tmp_path_factory.mktemp("e2e") / "street-no-face.mp4", frames)


def shoot(page, name: str, full: bool = False) -> None:
    """A 1280x800 screenshot; with `full`, also one tall enough for the whole page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    if full:
        height = page.evaluate(
            "() => { const m = document.querySelector('[data-testid=stMain]');"
            " return m ? m.scrollHeight : document.body.scrollHeight }"
        )
        page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(int(height), 800), 6000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / f"{name}_full.png"))
        page.set_viewport_size(VIEWPORT)
        page.wait_for_timeout(300)


def wait_idle(page, timeout: float = 120_000) -> None:
    """Until Streamlit has finished the current run: no running indicator, no stale (faded) element.

    Streamlit shows its running indicator only after a short delay, hence the pause first.
    """
    page.wait_for_timeout(1000)
    running = page.locator(
        "[data-testid=stStatusWidgetRunningIcon], [data-testid=stStatusWidgetRunningManIcon], [data-stale=true]"
    )
    expect(running).to_have_count(0, timeout=timeout)


def expect_one_login_form(page) -> None:
    """One visible login button once the run has finished (while a rerun draws, the old form can still
    be in the page beside the new one)."""
    wait_idle(page)
    login = page.get_by_role("button", name="Log in")
    expect(login).to_have_count(1, timeout=30_000)
    expect(login).to_be_visible()


def expect_login_only(page, heading: str | None) -> None:
    expect_one_login_form(page)
    expect(page.get_by_role("tab", name="Create an account")).to_be_visible()
    assert page.locator("input[type=file]").count() == 0
    assert page.get_by_test_id("stPlotlyChart").count() == 0
    assert page.get_by_test_id("stSidebarUserContent").get_by_role("button", name="Log out").count() == 0
    if heading:
        assert page.get_by_role("heading", name=heading).count() == 0


def test_fresh_server_shows_only_the_login_on_every_page(browser, fresh_server: Server) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    for label, path in PAGE_PATHS.items():
        page.goto(f"{fresh_server.url}/{path}")
        expect_login_only(page, PAGE_HEADINGS.get(label))
        shoot(page, f"anonymous_{path or 'Home'}")
    context.close()


def test_forged_cookie_gets_only_the_login(browser, fresh_server: Server) -> None:
    forged = jwt.encode({"username": "ada", "exp_date": time.time() + 3600}, TEST_COOKIE_KEY, "HS256")
    unsigned = jwt.encode({"username": "ada", "exp_date": time.time() + 3600}, None, algorithm="none")
    for name, value in (("dfd_auth", forged), ("dfd_session", unsigned), ("dfd_session", "guessed-session-id")):
        context = browser.new_context(viewport=VIEWPORT)
        context.add_cookies([{"name": name, "value": value, "url": fresh_server.url}])
        page = context.new_page()
        page.goto(f"{fresh_server.url}/Analyze")
        expect_login_only(page, PAGE_HEADINGS["Analyze"])
        assert page.get_by_text("Traceback").count() == 0
        context.close()


def report_frame_time(page, position: int) -> float:
    """The time of the `position`-th sampled frame, as the chart holds it."""
    return float(
        page.evaluate(
            "(i) => document.querySelector('.js-plotly-plot')._fullData"
            ".find(t => t.name === 'Frame probability of manipulation').x[i]",
            position,
        )
    )


def nav(page, label: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=label).first.click()


def register(page) -> None:
    page.get_by_role("tab", name="Create an account").click()
    form = page.get_by_test_id("stForm").filter(has_text="Create an account")
    form.get_by_role("textbox", name="Full name").fill(USER["name"])
    form.get_by_role("textbox", name="E-mail").fill(USER["email"])
    form.get_by_role("textbox", name="Address").fill("1 Press Street, 10115 Berlin")
    form.get_by_role("textbox", name="Phone number").fill("+49 30 1234567")
    form.get_by_label("Gender").click()
    page.get_by_role("option", name="Female").click()
    form.get_by_role("spinbutton", name="Age").fill("34")
    form.get_by_role("textbox", name="User name").fill(USER["username"])
    form.get_by_role("textbox", name="Password", exact=True).fill(USER["password"])
    form.get_by_role("textbox", name="Confirm password").fill(USER["password"])
    shoot(page, "register_form")
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_text(REGISTRATION_DONE.split(":")[0])).to_be_visible(timeout=30_000)


def log_in(page) -> None:
    page.get_by_role("tab", name="Log in").click()
    form = page.get_by_test_id("stForm").filter(has_text="Log in")
    form.get_by_role("textbox", name="User name").fill(USER["username"])
    form.get_by_role("textbox", name="Password", exact=True).fill(USER["password"])
    form.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"Welcome, {USER['name']}")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("tab", name="Create an account")).to_have_count(0, timeout=30_000)


def test_register_log_in_analyse_download_and_every_page(
    browser, fresh_server: Server, ten_second_clip: Path, faceless_clip: Path
) -> None:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(fresh_server.url)
    register(page)
    log_in(page)
    # Row 1: the session cookie came from the server: out of scripts' reach, never sent cross-site.
    session = next(c for c in context.cookies() if c["name"] == "dfd_session")
    assert session["httpOnly"] is True and session["sameSite"] == "Strict" and session["secure"] is False
    assert 0 < session["expires"] - time.time() <= 12 * 3600 + 60
    assert "dfd_session" not in page.evaluate("document.cookie")
    wait_idle(page)
    # Row 13: a viewer's toolbar, no Deploy button or developer menu.
    assert page.get_by_role("button", name="Deploy").count() == 0
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    if page.get_by_test_id("stMainMenu").count():  # "minimal" shows no menu at all; "viewer" a reduced one
        page.get_by_test_id("stMainMenu").click()
        expect(page.get_by_test_id("stMainMenuList")).to_be_visible(timeout=10_000)
        for developer_item in ("Rerun", "Clear cache", "Deploy this app", "Developer options"):
            assert page.get_by_test_id("stMainMenuList").get_by_text(developer_item).count() == 0
        page.keyboard.press("Escape")
    shoot(page, "home")

    # Analyze: the model loads once when the page first opens; then upload and wait for the verdict.
    nav(page, "Analyze")
    expect(page.get_by_text("Upload a video (mp4, avi, mov, mkv or webm)")).to_be_visible(timeout=180_000)
    wait_idle(page, timeout=180_000)
    started = time.perf_counter()
    page.locator("input[type=file]").set_input_files(str(ten_second_clip))
    expect(page.get_by_text("Assessment:").first).to_be_visible(timeout=180_000)
    upload_to_verdict_s = time.perf_counter() - started
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible(timeout=30_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
    face_crops = page.get_by_role("img", name="Face crop at")
    expect(face_crops.first).to_be_visible(timeout=30_000)
    assert face_crops.count() >= 2  # the selected frame and the gallery
    wait_idle(page)
    shoot(page, "analyze", full=True)
    # Row 6: the crop's URL answers the owner's browser, and nobody without her session.
    crop_url = urljoin(fresh_server.url + "/", face_crops.first.get_attribute("src"))
    assert "/media/" in crop_url
    assert context.request.get(crop_url).status == 200
    stranger = browser.new_context()
    assert stranger.request.get(crop_url).status == 404
    stranger.close()

    # A click on a point of the timeline shows that frame's face crop.
    points = page.locator(".js-plotly-plot .scatterlayer .trace").first.locator("path.point")
    expect(points).to_have_count(32)
    points.nth(3).click(force=True)
    wait_idle(page)
    third_time = f"{report_frame_time(page, 3):.2f} s"
    expect(page.get_by_role("img", name=f"Face crop at {third_time}").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("slider", name="Frame shown")).to_have_attribute("aria-valuetext", third_time)

    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download JSON report").click()
    report_path = ARTIFACTS / "e2e_report.json"
    download_info.value.save_as(str(report_path))
    report = json.loads(report_path.read_text())
    assert report["file"] == ten_second_clip.name
    assert report["verdict"] in ("fake", "real")
    assert 0.0 <= report["probability_fake"] <= 1.0
    assert len(report["frames"]) == 32 and isinstance(report["model"]["trained"], bool)
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download printable report (HTML)").click()
    download_info.value.save_as(str(ARTIFACTS / "e2e_report.html"))
    assert ten_second_clip.name in (ARTIFACTS / "e2e_report.html").read_text()

    # Compare: clip A is the analysed one; upload a faceless clip as B.
    nav(page, "Compare")
    expect(page.get_by_text("Upload clip B")).to_be_visible(timeout=60_000)
    wait_idle(page)  # an upload into a page that is still drawing can be dropped
    page.get_by_role("region", name="Upload clip B").locator("input[type=file]").set_input_files(str(faceless_clip))
    expect(page.get_by_text(f"{faceless_clip.name}: analysed in")).to_be_visible(timeout=120_000)
    expect(page.get_by_role("heading", name="Side by side")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(2, timeout=30_000)
    wait_idle(page)
    shoot(page, "compare", full=True)

    # Attention lab: switch to the full model and a low temperature.
    nav(page, "Attention lab")
    expect(page.get_by_text("All rules at this temperature")).to_be_visible(timeout=60_000)
    wait_idle(page)
    page.get_by_test_id("stRadioGroup").get_by_text("Full model (attention + LSTM)").click()
    wait_idle(page)
    expect(page.get_by_test_id("stTable")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Probability of manipulation").first).to_be_visible()
    shoot(page, "attention_lab", full=True)

    nav(page, "History")
    expect(page.get_by_text("Only you can see them")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name=f"Open {ten_second_clip.name}")).to_be_visible()
    expect(page.get_by_role("link", name=f"Open {faceless_clip.name}")).to_be_visible()
    wait_idle(page)
    shoot(page, "history")

    # A History row opens its analysis with a link that survives a reload.
    page.get_by_role("link", name=f"Open {ten_second_clip.name}").click()
    expect(page.get_by_text(f"Showing {ten_second_clip.name} from your history")).to_be_visible(timeout=60_000)
    assert "analysis=" in page.url
    page.reload()
    expect(page.get_by_text(f"Showing {ten_second_clip.name} from your history")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Assessment:").first).to_be_visible(timeout=60_000)
    wait_idle(page)

    nav(page, "Model card")
    expect(page.get_by_role("heading", name="Limitations")).to_be_visible(timeout=30_000)
    wait_idle(page)
    shoot(page, "model_card", full=True)

    nav(page, "Account")
    expect(page.get_by_role("heading", name="Change password")).to_be_visible(timeout=30_000)
    wait_idle(page)
    shoot(page, "account", full=True)

    # A new tab opened from the cookie alone is logged in, and so is another browser holding a copy.
    second = context.new_page()
    second.goto(f"{fresh_server.url}/History")
    expect(second.get_by_role("heading", name="Your analyses")).to_be_visible(timeout=30_000)
    second.close()
    copied = browser.new_context(viewport=VIEWPORT)
    copied.add_cookies([{"name": "dfd_session", "value": session["value"], "url": fresh_server.url}])
    replay = copied.new_page()
    replay.goto(f"{fresh_server.url}/History")
    expect(replay.get_by_role("heading", name="Your analyses")).to_be_visible(timeout=30_000)
    # Log out: the session ends on the server and the browser's cookie is cleared.
    page.get_by_test_id("stSidebarUserContent").get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible(timeout=30_000)
    expect_one_login_form(page)
    assert not any(c["name"] == "dfd_session" for c in context.cookies())
    page.goto(f"{fresh_server.url}/History")
    expect_login_only(page, PAGE_HEADINGS["History"])
    # Row 1: the copy replayed in the other browser after the logout opens nothing.
    replay.goto(f"{fresh_server.url}/History")
    expect_login_only(replay, PAGE_HEADINGS["History"])
    assert context.request.get(crop_url).status == 404
    copied.close()
    context.close()

    timings = {"upload_to_verdict_s": round(upload_to_verdict_s, 2), "clip": "10 s, 640x360, 25 fps, mp4v"}
    timings["server_timings_s"] = report["timings_s"]
    (ARTIFACTS / "e2e_timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print(f"\nupload -> verdict for a 10-s clip in the browser: {upload_to_verdict_s:.1f} s")
