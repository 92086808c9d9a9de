"""C2PA Content Credentials read with c2pa-python: present or not, valid or not, who signed, what was declared.

A failed validation is reported as "invalid" with each failure in plain words, never hidden; a
valid signature from a certificate outside the trust list is "valid, signer not trusted".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

# IPTC digital source types that declare generative AI.
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "algorithmicMedia")

# Validation codes in words a reader can weigh (c2pa spec, section 15).
PLAIN_CODES = {
    "signingCredential.untrusted": "the signing certificate is not on a trust list this app knows",
    "signingCredential.expired": "the signing certificate had expired when it signed",
    "signingCredential.revoked": "the signing certificate was revoked",
    "signingCredential.invalid": "the signing certificate is not valid for signing",
    "claimSignature.mismatch": "the signature does not match the manifest: the manifest was changed after signing",
    "claimSignature.missing": "the manifest has no signature",
    "assertion.dataHash.mismatch": "the file's content changed after it was signed",
    "assertion.bmffHash.mismatch": "the video's content changed after it was signed",
    "assertion.hashedURI.mismatch": "a statement in the manifest was changed after signing",
    "assertion.missing": "a statement the manifest lists is missing",
    "manifest.inaccessible": "the manifest could not be read",
    "timeStamp.mismatch": "the time stamp does not match the signature",
    "timeStamp.untrusted": "the time stamp comes from an authority this app does not trust",
}
# Codes that say the credential is unusable, as opposed to merely unverified.
NOT_FAILURES = {"signingCredential.untrusted", "timeStamp.untrusted"}


class CredentialState(StrEnum):
    ABSENT = "absent"
    TRUSTED = "valid_trusted"
    VALID_UNTRUSTED = "valid_signer_not_trusted"
    INVALID = "invalid"
    UNREADABLE = "unreadable"


STATE_WORDS = {
    CredentialState.ABSENT: "No Content Credentials: the file carries no C2PA manifest. Most footage has none; "
    "this says nothing either way.",
    CredentialState.TRUSTED: "Content Credentials present and valid, signed by a trusted signer.",
    CredentialState.VALID_UNTRUSTED: "Content Credentials present and intact, but the signer is not on a trust "
    "list: anyone can make such a certificate, so check who the signer is.",
    CredentialState.INVALID: "Content Credentials present but INVALID: the file or its manifest changed after "
    "signing, or the signature is broken.",
    CredentialState.UNREADABLE: "Content Credentials could not be read.",
}


@dataclass(frozen=True)
class ValidationIssue:
    code: str
    explanation: str
    plain: str


@dataclass(frozen=True)
class DeclaredAction:
    action: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    when: str | None = None

    @property
    def declares_ai(self) -> bool:
        source = self.digital_source_type or ""
        return any(source.endswith("/" + kind) or source == kind for kind in AI_SOURCE_TYPES)


@dataclass(frozen=True)
class ContentCredentials:
    state: CredentialState
    claim_generator: str | None = None
    signer: str | None = None
    issuer: str | None = None
    signed_at: str | None = None
    title: str | None = None
    actions: tuple[DeclaredAction, ...] = ()
    issues: tuple[ValidationIssue, ...] = ()
    error: str | None = None
    manifests: int = 0
    raw_state: str | None = field(default=None)  # the library's own word

    @property
    def present(self) -> bool:
        return self.state not in (CredentialState.ABSENT, CredentialState.UNREADABLE)

    @property
    def declares_ai(self) -> bool:
        return any(action.declares_ai for action in self.actions)

    @property
    def summary(self) -> str:
        words = STATE_WORDS[self.state]
        if self.declares_ai:
            words += " The manifest declares the content was made with generative AI (trainedAlgorithmicMedia)."
        return words

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = str(self.state)
        data["present"] = self.present
        data["declares_ai"] = self.declares_ai
        data["summary"] = self.summary
        return data


def credentials_from_json(data: dict[str, Any]) -> ContentCredentials:
    """The inverse of `ContentCredentials.to_json_dict` (for stored results)."""
    return ContentCredentials(
        state=CredentialState(data["state"]),
        claim_generator=data.get("claim_generator"),
        signer=data.get("signer"),
        issuer=data.get("issuer"),
        signed_at=data.get("signed_at"),
        title=data.get("title"),
        actions=tuple(DeclaredAction(**a) for a in data.get("actions") or []),
        issues=tuple(ValidationIssue(**i) for i in data.get("issues") or []),
        error=data.get("error"),
        manifests=int(data.get("manifests") or 0),
        raw_state=data.get("raw_state"),
    )


def read_content_credentials(path: str | Path) -> ContentCredentials:
    try:
        import c2pa
    except ImportError as error:  # the package is pinned; a broken install is still no crash
        return ContentCredentials(CredentialState.UNREADABLE, error=f"c2pa-python unavailable: {error}")
    try:
        with c2pa.Reader(str(path)) as reader:
            store = json.loads(reader.json())
            raw_state = str(reader.get_validation_state())
    except Exception as error:
        if "ManifestNotFound" in type(error).__name__ or "ManifestNotFound" in str(error):
            return ContentCredentials(CredentialState.ABSENT)
        if "NotSupported" in type(error).__name__ or "NotSupported" in str(error):
            return ContentCredentials(CredentialState.ABSENT, error=f"format not supported by C2PA: {error}")
        return ContentCredentials(CredentialState.UNREADABLE, error=f"{type(error).__name__}: {error}")
    return credentials_from_store(store, raw_state)


def credentials_from_store(store: dict[str, Any], raw_state: str | None = None) -> ContentCredentials:
    """Our summary of a c2pa manifest store (the Reader's JSON)."""
    manifests = store.get("manifests") or {}
    active = manifests.get(store.get("active_manifest") or "", {})
    statuses = store.get("validation_status") or []
    issues = tuple(
        ValidationIssue(
            code=str(s.get("code", "")),
            explanation=str(s.get("explanation", "")),
            plain=PLAIN_CODES.get(str(s.get("code", "")), str(s.get("explanation", "") or s.get("code", ""))),
        )
        for s in statuses
    )
    codes = {issue.code for issue in issues}
    if not active:
        state = CredentialState.INVALID if issues else CredentialState.ABSENT
    elif codes - NOT_FAILURES or (raw_state or "").lower() == "invalid":
        state = CredentialState.INVALID
    elif codes & NOT_FAILURES:
        state = CredentialState.VALID_UNTRUSTED
    else:
        state = CredentialState.TRUSTED
    signature = active.get("signature_info") or {}
    return ContentCredentials(
        state=state,
        claim_generator=_generator(active),
        signer=signature.get("common_name") or signature.get("issuer"),
        issuer=signature.get("issuer"),
        signed_at=signature.get("time"),
        title=active.get("title"),
        actions=_actions(active),
        issues=issues,
        manifests=len(manifests),
        raw_state=raw_state,
    )


def _generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info") or []
    if info:
        first = info[0]
        return " ".join(str(part) for part in (first.get("name"), first.get("version")) if part)
    return manifest.get("claim_generator")


def _actions(manifest: dict[str, Any]) -> tuple[DeclaredAction, ...]:
    found = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for action in (assertion.get("data") or {}).get("actions") or []:
            agent = action.get("softwareAgent")
            if isinstance(agent, dict):
                agent = " ".join(str(v) for v in (agent.get("name"), agent.get("version")) if v)
            found.append(
                DeclaredAction(
                    action=str(action.get("action", "")),
                    digital_source_type=action.get("digitalSourceType"),
                    software_agent=agent,
                    when=action.get("when"),
                )
            )
    return tuple(found)
