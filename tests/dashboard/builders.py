"""Plain builders for the dashboard tests (no fixtures): users, registration forms, synthetic results."""

from __future__ import annotations

import tempfile
import types
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dashboard.accounts import RegistrationForm, register
from dashboard.engine import Engine
from dashboard.settings import AppSettings, PasswordRules
from dashboard.store import Store, User
from pipeline.assessment import Assessment, VerdictBand
from pipeline.faces.registry import create_detector
from pipeline.faces.types import Box
from pipeline.fetch import LinkSource
from pipeline.keyframes import Keyframe, KeyframeKind
from pipeline.model.config import ModelConfig, ModelInfo
from pipeline.model.storage import untrained_detector
from pipeline.provenance import Provenance
from pipeline.provenance.container import ContainerMetadata, StreamSummary
from pipeline.provenance.content_credentials import (
    ContentCredentials,
    CredentialState,
    DeclaredAction,
    ValidationIssue,
)
from pipeline.results import FrameRecord, PersonResult, StageTimings, Verdict, VideoResult
from pipeline.scoring.scorer import Scorer
from pipeline.settings import Settings
from pipeline.video import VideoInfo

TEST_COOKIE_KEY = "test-cookie-key-" + "x" * 40
PASSWORD = "Newsroom-2024!"
TINY_SIZE = 64

_ENGINE: Engine | None = None


def tiny_engine_factory() -> Engine:
    """A tiny untrained CNN and the Haar detector: builds in about a second, scores in well under one."""
    global _ENGINE
    if _ENGINE is None:
        model = untrained_detector(ModelConfig(backbone="tiny_cnn", input_size=TINY_SIZE, pretrained_backbone=False))
        # A model path that never exists: the Model card page then reads an empty folder, whatever
        # lands in models/ later.
        nowhere = Path(tempfile.gettempdir()) / "dfd-tests-no-model" / "detector.keras"
        settings = Settings().with_overrides(crop_size=TINY_SIZE, frames=16, detector="haar", model_path=nowhere)
        _ENGINE = Engine(Scorer(settings, model, create_detector("haar")))
    return _ENGINE


def fast_settings(data_dir: Path) -> AppSettings:
    """Real rules, cheap bcrypt: tests hash many passwords."""
    return AppSettings(data_dir=data_dir, password=replace(PasswordRules(), bcrypt_rounds=4))


def registration(username: str = "ada", email: str | None = None, **changes: object) -> RegistrationForm:
    form = RegistrationForm(
        full_name="Ada Reporter",
        address="1 Press Street, 10115 Berlin",
        email=f"{username}@example.org" if email is None else email,
        phone="+49 30 1234567",
        gender="Female",
        age=34,
        username=username,
        password=PASSWORD,
        confirm_password=PASSWORD,
    )
    return replace(form, **changes)


def make_user(store: Store, settings: AppSettings, username: str = "ada") -> User:
    user, errors = register(store, registration(username), settings)
    if user is None:
        raise ValueError(f"test user not created: {errors}")
    return user


def make_result(
    p: list[float | None],
    width: int = 1280,
    height: int = 720,
    fps: float = 25.0,
    size_bytes: int = 5_000_000,
    trained: bool = True,
    face_h: float = 200.0,
    file: str = "clip.mp4",
) -> VideoResult:
    """A synthetic result: one frame per entry of `p`, None meaning no face there."""
    count = len(p)
    duration = max(count / 2, 1.0)
    faces = [v is not None for v in p]
    certainty = [abs(2 * v - 1) if v is not None else None for v in p]
    logits = np.array([c / 0.2 if c is not None else -np.inf for c in certainty])
    weights = np.exp(logits - logits[np.isfinite(logits)].max()) if any(faces) else np.zeros(count)
    weights = weights / weights.sum() if any(faces) else weights
    rng = np.random.default_rng(0)
    frames = tuple(
        FrameRecord(
            index=i * 12,
            time_s=i * duration / count,
            face_box=Box(100.0, 80.0, face_h, face_h, 0.9) if faces[i] else None,
            crop=rng.integers(0, 256, (TINY_SIZE, TINY_SIZE, 3), dtype=np.uint8) if faces[i] else None,
            p_fake=p[i],
            certainty=certainty[i],
            attention=float(weights[i]),
        )
        for i in range(count)
    )
    face_p = [v for v in p if v is not None]
    probability = float(np.dot(weights, [v or 0.0 for v in p])) if face_p else None
    verdict = Verdict.NO_FACE if probability is None else Verdict.FAKE if probability >= 0.5 else Verdict.REAL
    info = ModelInfo(
        name="certainty-attention-test",
        version="1.2.3" if trained else "0.0.0-untrained",
        sha256="ab" * 32,
        trained=trained,
        backbone="tiny_cnn",
        input_size=TINY_SIZE,
        notes="" if trained else "UNTRAINED: test model",
    )
    return VideoResult(
        file=file,
        sha256="cd" * 32,
        video=VideoInfo(file, size_bytes, width, height, fps, int(duration * fps), duration, "avc1"),
        frames=frames,
        probability_fake=probability,
        verdict=verdict,
        threshold=0.5,
        timings=StageTimings(0.1, 0.2, 0.3, 0.6),
        model=info,
        settings=Settings(crop_size=TINY_SIZE),
        raw_probability_fake=probability,
        assessment=Assessment.NO_FACE if probability is None else Assessment.INCONCLUSIVE,
        assessment_reasons=("No face was found in the sampled frames.",) if probability is None else (),
        people=() if probability is None else (PersonResult(1, frames, probability, Assessment.INCONCLUSIVE),),
    )


def set_browser_cookies(monkeypatch: pytest.MonkeyPatch, cookies: dict[str, str]) -> None:
    """What `st.context.cookies` returns: AppTest has no browser, so the client context is faked."""
    import streamlit.runtime.context as context

    monkeypatch.setattr(context, "_get_client_context", lambda: types.SimpleNamespace(cookies=dict(cookies)))


def make_evidence_result(file: str = "two-people.mp4") -> VideoResult:
    """A synthetic result with everything the verification file holds: a band, two people (the second
    more suspicious), signed-but-untrusted Content Credentials, keyframes and a source link."""
    base = make_result([0.4, 0.45, None, 0.5, 0.42, 0.47], file=file)
    band = VerdictBand(
        lower=None,
        upper=0.855,
        measured={
            "clips": 127,
            "signs_clips": 12,
            "signs_right_rate": 11 / 12,
            "no_signs_clips": 0,
            "no_signs_right_rate": None,
            "inconclusive_clips": 115,
            "split": "val",
            "predicted_by": "certainty-attention-test 1.2.3-development",
        },
    )
    other_records = tuple(
        replace(frame, face_box=Box(700.0, 90.0, 150.0, 150.0, 0.8), p_fake=0.93, attention=1 / 3)
        if frame.face_box is not None and i < 4
        else replace(frame, face_box=None, crop=None, p_fake=None, certainty=None, attention=0.0)
        for i, frame in enumerate(base.frames)
    )
    main = PersonResult(1, base.frames, base.probability_fake, Assessment.INCONCLUSIVE, ("inside the band",), 0.44)
    other = PersonResult(2, other_records, 0.91, Assessment.SIGNS_OF_MANIPULATION, ("above the limit",), 0.9)
    credentials = ContentCredentials(
        CredentialState.VALID_UNTRUSTED,
        claim_generator="evidence-tests 1.0",
        signer="Test Newsroom Signer",
        issuer="Test Newsroom",
        actions=(
            DeclaredAction("c2pa.created", "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"),
        ),
        issues=(ValidationIssue("signingCredential.untrusted", "untrusted", "the signing certificate is not trusted"),),
        manifests=1,
    )
    container = ContainerMetadata(
        readable=True,
        format_name="mov,mp4",
        encoder="Lavf62.12.102",
        streams=(StreamSummary("video", "h264", "VideoHandler", 1280, 720, 25.0),),
    )
    rng = np.random.default_rng(1)
    keyframes = tuple(
        Keyframe(
            index, index / 25.0, kind, f"{index:016x}", 1, rng.integers(0, 256, (72, 128, 3), dtype=np.uint8), attention
        )
        for index, kind, attention in ((12, KeyframeKind.SHOT, None), (36, KeyframeKind.ATTENTION, 0.4))
    )
    return replace(
        base,
        assessment=Assessment.SIGNS_OF_MANIPULATION,
        assessment_reasons=("The most suspicious of 2 people is person 2.", "above the limit"),
        band=band,
        people=(main, other),
        provenance=Provenance(credentials, container),
        keyframes=keyframes,
        source=LinkSource("https://example.org/watch?v=1", "2026-12-03T17:00:00+00:00", "A clip"),
        analysed_at="2026-12-03T17:01:00+00:00",
    )
