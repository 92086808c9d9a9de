"""The Analyze page's evidence panels: assessment, every person, provenance, keyframes, case notes, links.

Streamlit parts only; the words come from `dashboard.wording`, the data from the typed result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.pdf_report import pdf_report
from dashboard.quality import QualityReport
from dashboard.settings import AppSettings
from dashboard.store import CaseNote
from dashboard.wording import (
    ASSESSMENT_BADGES,
    CREDENTIAL_BADGES,
    VIDEO_PROBABILITY,
    assessment_label,
    band_summary,
    percent,
    person_label,
    person_sentence,
)
from pipeline.keyframes import REVERSE_SEARCH_HOWTO, KeyframeKind, keyframes_zip
from pipeline.results import PersonResult, VideoResult


def assessment_card(result: VideoResult, key: str | None = None) -> None:
    """The three-level verdict with its reasons and the band behind it."""
    badge = ASSESSMENT_BADGES[result.assessment].format(assessment_label(result.assessment))
    with st.container(border=True, key=key):
        st.markdown(f"## Assessment: {badge}")
        for reason in result.assessment_reasons:
            st.markdown(f"- {_md(reason)}")
        suspicious = result.most_suspicious_person
        if suspicious is not None and len(result.people) > 1:
            st.markdown(
                f"This is the assessment of **{_md(person_label(suspicious))}**: {_md(person_sentence(suspicious))}"
            )
        st.caption(band_summary(result.band))


def person_view(result: VideoResult, person: PersonResult) -> VideoResult:
    """The result seen through one person: the timeline and gallery widgets then draw that person."""
    return replace(result, frames=person.records, probability_fake=person.probability_fake)


def people_panel(
    result: VideoResult,
    key: str,
    timeline: Callable[..., None],
    gallery: Callable[[VideoResult, int], None],
    gallery_faces: int,
) -> None:
    """One row per person, then each other person's own timeline and faces (drawn by the page's widgets)."""
    if not result.people:
        st.info("No person: no face was found in the sampled frames.")
        return
    table = pd.DataFrame(
        [
            {
                "Person": person_label(p),
                "Appears": f"{p.first_s:.1f}–{p.last_s:.1f} s",
                "Frames": p.frame_count,
                VIDEO_PROBABILITY: percent(p.probability_fake),
                "Assessment": assessment_label(p.assessment),
            }
            for p in result.people
        ]
    )
    st.table(table.set_index("Person"))
    for person in result.people:
        with st.expander(f"{person_label(person)}: {assessment_label(person.assessment)}", expanded=person.id == 1):
            st.markdown(_md(person_sentence(person)))
            for reason in person.reasons:
                st.caption(reason)
            if person.id == 1:
                st.caption("The main face's timeline and faces are shown above.")
                continue
            view = person_view(result, person)
            timeline(view, f"{key}_person{person.id}", frame_viewer=False, height=320)
            gallery(view, gallery_faces)


def provenance_panel(result: VideoResult) -> None:
    """Content Credentials and container metadata, failures shown, never hidden."""
    with st.container(border=True, key="provenance_panel"):
        st.header("Provenance")
        if result.provenance is None:
            st.info("Provenance was not checked for this analysis (analysed before this check existed).")
            return
        c2pa, container = result.provenance.c2pa, result.provenance.container
        badge = CREDENTIAL_BADGES[c2pa.state]
        st.markdown(f"**Content Credentials (C2PA):** {badge}")
        (st.error if c2pa.state.value == "invalid" else st.markdown)(_md(c2pa.summary))
        rows = [
            ("Claim generator", c2pa.claim_generator),
            ("Signer", c2pa.signer),
            ("Issuer", c2pa.issuer),
            ("Signed at", c2pa.signed_at),
            *[
                ("Declared action", f"{a.action}" + (f" ({a.digital_source_type})" if a.digital_source_type else ""))
                for a in c2pa.actions
            ],
            *[("Validation", f"{i.code}: {i.plain}") for i in c2pa.issues],
        ]
        shown = [(label, value) for label, value in rows if value]
        if shown:
            st.table(pd.DataFrame(shown, columns=["Field", "Value"]).set_index("Field"))
        st.markdown("**Container metadata**")
        meta_rows = [
            ("Format", container.format_name or "unreadable"),
            ("Encoder", container.encoder or "none recorded"),
            ("Creation time", container.creation_time or "none recorded"),
            ("Handlers", ", ".join(container.handler_names) or "none"),
            ("Streams", ", ".join(f"{s.kind} ({s.codec})" for s in container.streams) or "none"),
            ("Audio", "yes" if container.has_audio else "no"),
        ]
        st.table(pd.DataFrame(meta_rows, columns=["Field", "Value"]).set_index("Field"))
        for hint in container.hints:
            st.markdown(f"- {_md(hint)}")
        st.caption("Metadata can be stripped or forged: treat it as leads for questions to the source.")


def keyframes_panel(result: VideoResult, key: str) -> None:
    """Thumbnails with time and hash, the ZIP download and how to search with them."""
    with st.container(border=True, key="keyframes_panel"):
        st.header("Keyframes for reverse image search")
        if not result.keyframes:
            st.info("No keyframes were kept for this analysis.")
            return
        st.markdown(REVERSE_SEARCH_HOWTO)
        columns = st.columns(4)
        for position, frame in enumerate(result.keyframes):
            kind = "shot" if frame.kind == KeyframeKind.SHOT else "face the model weighed most"
            with columns[position % 4]:
                st.image(
                    frame.rgb,
                    caption=f"{frame.time_s:.2f} s · {kind} · pHash {frame.phash}",
                    alt=f"Keyframe at {frame.time_s:.2f} s ({kind}) for reverse image search",
                    width=180,
                )
        st.download_button(
            "Download keyframes (ZIP)",
            keyframes_zip(result.keyframes, result.file, result.sha256),
            file_name=f"{Path(result.file).stem or 'clip'}.keyframes.zip",
            mime="application/zip",
            on_click="ignore",
            icon=":material/photo_library:",
            key=f"keyframes_{key}",
        )


def pdf_download(
    result: VideoResult, key: str, quality: QualityReport, notes: list[CaseNote], app: AppSettings
) -> None:
    st.download_button(
        "Download evidence report (PDF)",
        pdf_report(
            result, key, quality, datetime.now(UTC), keyframes=result.keyframes, notes=notes, faces=app.report_faces
        ),
        file_name=f"{Path(result.file).stem or 'clip'}.evidence.pdf",
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        key=f"pdf_{key}",
    )


def notes_panel(notes: list[CaseNote], add: Callable[[str], object], error_type: type[Exception], key: str) -> None:
    """The case notes kept with this analysis (shown as plain text) and a form to add one."""
    with st.container(border=True, key="case_notes"):
        st.header("Case notes")
        for note in notes:
            st.caption(f"{note.created_utc} · {note.author}")
            st.text(note.text)
        if not notes:
            st.caption("No case notes yet. Notes are stored with this analysis and printed in the reports.")
        with st.form(f"note_form_{key}", clear_on_submit=True):
            text = st.text_area("Add a note (who you called, what the source said, where else the clip appeared)")
            if st.form_submit_button("Save note"):
                try:
                    add(text)
                except error_type as error:
                    st.error(f"The note was not saved: {error}")
                else:
                    st.rerun()


def _md(text: str) -> str:
    """User or file text shown through st.markdown without being read as markdown or HTML."""
    specials = "\\`*_{}[]<>()#+-.!|~$"
    return "".join("\\" + c if c in specials else c for c in text)
