"""axe-core on every page, logged out and logged in with a result shown, and on the HTML report.

Fails on any serious or critical violation. axe-core comes from npm, pinned by
tests/e2e/axe/package-lock.json; `make test` installs it. Every page's findings (all impacts)
go to artifacts/axe_results.json, so a run also says what minor issues remain.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_e2e_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_PATHS,
    USER,
    Server,
    expect_one_login_form,
    log_in,
    nav,
    register,
    wait_idle,
)

from conftest import astronaut_frames, write_video

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# Moderate rules the app also keeps clean: headings in order, alt text, the report's landmarks.
ALSO_BLOCKING = frozenset({"heading-order", "image-alt", "landmark-one-main", "region"})
NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 800}

if not AXE.exists():
    if os.environ.get("DFD_REQUIRE_E2E") == "1":
        pytest.fail(f"{AXE} is missing; `make test` installs it (npm ci in tests/e2e/axe)", pytrace=False)
    pytest.skip(f"{AXE} is missing: run `make axe`", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now (WCAG 2.x A and AA rules plus best practices)."""
    # Streamlit fades elements while a run is pending and back in afterwards: measure colours once settled.
    with contextlib.suppress(sync_api.TimeoutError):
        page.wait_for_function(
            "() => !document.querySelector('[data-stale=true]')"
            " && document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getTiming().iterations"
            " === Infinity)",
            timeout=5_000,
        )
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))
            }));
        }"""
    )
    return list(found)


def blocking(violations: list[dict]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['help']}: {v['nodes'][0]['target']}"
        for v in violations
        if v["impact"] in BLOCKING or v["id"] in ALSO_BLOCKING
    ]


class Findings:
    """Violations per page, written to artifacts/axe_results.json as the test goes."""

    def __init__(self) -> None:
        self.path = ARTIFACTS / "axe_results.json"
        ARTIFACTS.mkdir(exist_ok=True)
        self.pages: dict[str, list[dict]] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def check(self, page, name: str) -> list[str]:
        violations = axe_violations(page)
        self.pages[name] = violations
        self.path.write_text(json.dumps(self.pages, indent=2) + "\n")
        return [f"{name}: {line}" for line in blocking(violations)]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("axe") / "data", "e2e_server_axe.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def findings() -> Findings:
    return Findings()


def test_every_page_logged_out_has_no_serious_violation(browser, server: Server, findings: Findings) -> None:
    problems: list[str] = []
    for viewport in (WIDE, NARROW):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        for label, path in PAGE_PATHS.items():
            page.goto(f"{server.url}/{path}")
            expect_one_login_form(page)
            problems += findings.check(page, f"logged out {viewport['width']} px: {label}")
            # No menu before login: its links would only lead back to this form.
            assert page.get_by_test_id("stSidebar").get_by_role("link").count() == 0, label
        context.close()
    assert not problems, "\n".join(problems)


def test_keyboard_reaches_the_login_quickly_with_a_visible_focus(browser, server: Server) -> None:
    """From the top of the page, a few Tab presses reach "User name" (15 did before), each with an outline."""
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.goto(server.url)
    expect_one_login_form(page)
    expect(page.get_by_role("textbox", name="User name").first).to_be_visible(timeout=30_000)
    presses = 0
    for presses in range(1, 16):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return {label: e.getAttribute('aria-label') || '',"
            " tag: e.tagName, outline: getComputedStyle(e).outlineStyle, width: getComputedStyle(e).outlineWidth} }"
        )
        assert focused["tag"] != "IFRAME", f"Tab stop {presses} is an invisible iframe"
        if focused["label"] == "User name":
            break
    else:
        pytest.fail("15 Tab presses did not reach the User name field")
    context.close()
    assert presses <= 4, f"{presses} Tab presses to reach User name"
    assert focused["outline"] != "none" and focused["width"] != "0px", focused


def test_every_page_logged_in_with_a_result_and_the_report(
    browser, server: Server, findings: Findings, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "interview.mp4", astronaut_frames(100))
    context = browser.new_context(viewport=WIDE, accept_downloads=True)
    page = context.new_page()
    page.goto(server.url)
    register(page)
    log_in(page)
    expect(page.get_by_text(f"Welcome, {USER['name']}")).to_be_visible(timeout=30_000)
    wait_idle(page)
    problems = findings.check(page, "logged in: Home")

    nav(page, "Analyze")
    expect(page.locator("input[type=file]")).to_have_count(1, timeout=180_000)
    wait_idle(page, timeout=180_000)
    page.locator("input[type=file]").set_input_files(str(clip))
    expect(page.get_by_text("Assessment:").first).to_be_visible(timeout=180_000)
    expect(page.get_by_role("img", name="Face crop at").first).to_be_visible(timeout=30_000)
    wait_idle(page)
    problems += findings.check(page, "logged in: Analyze (result shown)")
    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("button", name="Download printable report (HTML)").click()
    report = tmp_path / "report.html"
    download_info.value.save_as(str(report))

    for label in ("Compare", "Attention lab", "History", "Model card"):
        nav(page, label)
        wait_idle(page, timeout=60_000)
        page.wait_for_timeout(1500)  # charts draw after the run ends
        problems += findings.check(page, f"logged in: {label}")

    page.set_viewport_size(NARROW)
    nav_open = page.get_by_test_id("stExpandSidebarButton")
    for label in ("Analyze", "History"):
        if nav_open.count():
            nav_open.first.click()
        nav(page, label)
        wait_idle(page, timeout=60_000)
        problems += findings.check(page, f"logged in 390 px: {label}")

    report_page = context.new_page()
    report_page.goto(report.as_uri())
    problems += findings.check(report_page, "HTML report")
    context.close()
    assert not problems, "\n".join(problems)


def test_axe_finds_a_planted_violation(browser) -> None:
    """The check itself works: a low-contrast paragraph and an image without alt text are caught."""
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.set_content(
        "<html lang='en'><head><title>t</title></head><body><main><h1>Probe</h1>"
        "<p style='color:#aaaaaa;background:#ffffff'>faint text</p><img src='data:,'></main></body></html>"
    )
    ids = {line.split(" ")[0] for line in blocking(axe_violations(page))}
    context.close()
    assert {"color-contrast", "image-alt"} <= ids
