"""Content Credentials and container metadata of generated clips: signed, unsigned, tampered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.provenance import read_provenance
from pipeline.provenance.container import ContainerMetadata, StreamSummary, container_hints, read_container
from pipeline.provenance.content_credentials import CredentialState, credentials_from_store, read_content_credentials
from tests.provenance.signing import GENERATOR, SIGNER_NAME, sign_clip, tamper


@pytest.fixture(scope="module")
def signed_clip(astronaut_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sign_clip(astronaut_clip, tmp_path_factory.mktemp("c2pa") / "signed.mp4")


def test_unsigned_clip_has_no_credentials(astronaut_clip: Path) -> None:
    credentials = read_content_credentials(astronaut_clip)
    assert credentials.state == CredentialState.ABSENT
    assert not credentials.present and "says nothing either way" in credentials.summary


def test_signed_clip_is_valid_but_its_test_signer_untrusted(signed_clip: Path) -> None:
    credentials = read_content_credentials(signed_clip)
    assert credentials.state == CredentialState.VALID_UNTRUSTED
    assert credentials.signer == SIGNER_NAME
    assert credentials.claim_generator and credentials.claim_generator.startswith(GENERATOR)
    assert [a.action for a in credentials.actions] == ["c2pa.created"]
    assert credentials.declares_ai and "generative AI" in credentials.summary
    assert [issue.code for issue in credentials.issues] == ["signingCredential.untrusted"]


def test_tampered_clip_is_reported_invalid_with_the_reason(signed_clip: Path, tmp_path: Path) -> None:
    credentials = read_content_credentials(tamper(signed_clip, tmp_path / "tampered.mp4"))
    assert credentials.state == CredentialState.INVALID
    assert "INVALID" in credentials.summary
    plain = " ".join(issue.plain for issue in credentials.issues)
    assert "changed after it was signed" in plain
    assert credentials.signer == SIGNER_NAME  # what it claims is still shown, next to the failure


def test_garbage_is_unreadable_or_absent_never_a_crash(corrupted_clip: Path) -> None:
    provenance = read_provenance(corrupted_clip)
    assert provenance.c2pa.state in (CredentialState.ABSENT, CredentialState.UNREADABLE)
    assert not provenance.container.readable
    assert provenance.container.hints == ("The container could not be read, so no metadata is available.",)


def test_a_trusted_store_without_failures_is_trusted() -> None:
    store = {"active_manifest": "m", "manifests": {"m": {"title": "x", "signature_info": {"issuer": "CA"}}}}
    assert credentials_from_store(store, "Trusted").state == CredentialState.TRUSTED
    store["validation_status"] = [{"code": "claimSignature.mismatch", "explanation": "bad"}]
    assert credentials_from_store(store, "Invalid").state == CredentialState.INVALID


def test_container_of_an_opencv_clip(astronaut_clip: Path) -> None:
    meta = read_container(astronaut_clip)
    assert meta.readable and meta.format_name and "mp4" in meta.format_name
    assert [s.kind for s in meta.streams] == ["video"]
    assert meta.streams[0].width == 640 and meta.streams[0].height == 360
    assert not meta.has_audio
    hints = " ".join(meta.hints)
    assert "No audio track" in hints
    if meta.encoder and meta.encoder.lower().startswith("lavf"):
        assert "FFmpeg" in hints


def test_container_hints_in_plain_words() -> None:
    video = StreamSummary(kind="video", codec="h264", handler_name="ISO Media file produced by Google Inc.")
    audio = StreamSummary(kind="audio", codec="aac", handler_name="SoundHandler")
    meta = ContainerMetadata(
        readable=True,
        encoder="Lavf60.3.100",
        handler_names=(video.handler_name or "",),
        streams=(video, audio),
        creation_time="1970-01-01T00:00:00.000000Z",
    )
    hints = " ".join(container_hints(meta))
    assert "re-encoded or re-packaged" in hints
    assert "Google/YouTube" in hints
    assert "zero date" in hints
    assert "No audio" not in hints
    assert "No creation time" in " ".join(container_hints(ContainerMetadata(readable=True)))


def test_provenance_json_has_both_parts(signed_clip: Path) -> None:
    data = json.loads(json.dumps(read_provenance(signed_clip).to_json_dict()))
    assert data["c2pa"]["state"] == "valid_signer_not_trusted" and data["c2pa"]["declares_ai"] is True
    assert data["container"]["readable"] is True and isinstance(data["container"]["hints"], list)


def test_provenance_round_trips_through_json(signed_clip: Path, tmp_path: Path) -> None:
    from pipeline.provenance import Provenance

    for path in (signed_clip, tamper(signed_clip, tmp_path / "t.mp4")):
        provenance = read_provenance(path)
        assert Provenance.from_json_dict(json.loads(json.dumps(provenance.to_json_dict()))) == provenance
