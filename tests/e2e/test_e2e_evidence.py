"""The verification file in a real browser: a two-person clip and a C2PA-signed clip.

Uploads both, sees both people, the provenance panel and the assessment, downloads the PDF
and the keyframes ZIP; screenshots of the new panels go to artifacts/screenshots/evidence_*.png.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.e2e.test_e2e_browser import (  # noqa: F401 - browser and fresh_server are fixtures
    ARTIFACTS,
    SCREENSHOTS,
    VIEWPORT,
    Server,
    browser,
    expect,
    fresh_server,
    log_in,
    nav,
    register,
    wait_idle,
)
from tests.provenance.signing import sign_clip

from conftest import astronaut_frames, two_people_frames, write_video

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_person_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("e2e_evidence") / "two-people.mp4", two_people_frames(100))


@pytest.fixture(scope="module")
def signed_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e_signed")
    source = write_video(folder / "unsigned.mp4", astronaut_frames(75))
    return sign_clip(source, folder / "signed-by-newsroom.mp4")


def panel_shot(page, key: str, name: str) -> None:
    """A screenshot of one panel, without Streamlit's sticky header over its top."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.add_style_tag(content="[data-testid=stHeader] { display: none !important; }")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1600})  # tall panels fit whole
    page.wait_for_timeout(500)
    panel = page.locator(f".st-key-{key}").first
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(SCREENSHOTS / f"evidence_{name}.png"))
    page.set_viewport_size(VIEWPORT)


def upload(page, clip: Path) -> None:
    wait_idle(page, timeout=180_000)
    page.get_by_test_id("stFileUploader").first.locator("input[type=file]").set_input_files(str(clip))
    expect(page.get_by_text(f"{clip.name}: analysed in")).to_be_visible(timeout=180_000)
    expect(page.get_by_text("Assessment:").first).to_be_visible(timeout=60_000)
    wait_idle(page)


def test_two_people_and_a_signed_clip_with_pdf_and_keyframes(
    browser,  # noqa: F811 - the fixture
    fresh_server: Server,  # noqa: F811 - the fixture
    two_person_clip: Path,
    signed_clip: Path,
) -> None:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(fresh_server.url)
    register(page)
    log_in(page)
    nav(page, "Analyze")
    expect(page.get_by_text("Upload a video (mp4, avi, mov, mkv or webm)")).to_be_visible(timeout=180_000)

    upload(page, two_person_clip)
    expect(page.get_by_text("Person 1 (main face)").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Person 2").first).to_be_visible()
    panel_shot(page, "assessment_card", "assessment")
    panel_shot(page, "people_panel", "people")
    panel_shot(page, "keyframes_panel", "keyframes")

    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("button", name="Download keyframes (ZIP)").click()
    keyframes = ARTIFACTS / "e2e_keyframes.zip"
    download_info.value.save_as(str(keyframes))
    names = zipfile.ZipFile(keyframes).namelist()
    assert "index.csv" in names and any(name.endswith(".jpg") for name in names)

    upload(page, signed_clip)
    provenance = page.locator(".st-key-provenance_panel")
    expect(provenance.get_by_text("valid, signer not trusted")).to_be_visible(timeout=30_000)
    expect(provenance.get_by_text("Test Newsroom Signer").first).to_be_visible()
    expect(provenance.get_by_text("generative AI", exact=False).first).to_be_visible()
    panel_shot(page, "provenance_panel", "provenance")

    notes = page.locator(".st-key-case_notes")
    notes.get_by_role("textbox").fill("<script>alert(1)</script> Called the uploader")
    notes.get_by_role("button", name="Save note").click()
    wait_idle(page)
    expect(notes.get_by_text("<script>alert(1)</script> Called the uploader")).to_be_visible(timeout=30_000)
    wait_idle(page)  # the rest of the page (the reports) is drawn after the notes
    panel_shot(page, "case_notes", "notes")

    with page.expect_download(timeout=120_000) as download_info:
        page.get_by_role("button", name="Download evidence report (PDF)").click()
    pdf_path = ARTIFACTS / "e2e_evidence.pdf"
    download_info.value.save_as(str(pdf_path))
    text = "".join(page_.extract_text() for page_ in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    assert signed_clip.name in text and "Called the uploader" in text
    assert "Content Credentials present and intact" in text
    context.close()
