"""What the app says about verdicts and limits, written once for the pages and the reports."""

from __future__ import annotations

from pipeline.assessment import Assessment, VerdictBand
from pipeline.model.config import ModelInfo
from pipeline.model.report import Metrics
from pipeline.provenance.content_credentials import CredentialState
from pipeline.results import PersonResult, Verdict, VideoResult

# One name for each number, on every page, chart, table, JSON label and report.
VIDEO_PROBABILITY = "Probability of manipulation"
FRAME_PROBABILITY = "Frame probability of manipulation"
RAW_PROBABILITY = "Probability before calibration"
CERTAINTY = "Certainty"
ATTENTION = "Attention weight"
THRESHOLD = "Decision threshold"
TIMELINE_TITLE = f"{FRAME_PROBABILITY}, {CERTAINTY.lower()} and {ATTENTION.lower()} over time"
# The JSON report's keys (the CLI schema) with the names people read on the pages.
JSON_LABELS = {
    "probability_fake": VIDEO_PROBABILITY,
    "raw_probability_fake": RAW_PROBABILITY,
    "threshold": THRESHOLD,
    "frames[].p_fake": FRAME_PROBABILITY,
    "frames[].certainty": CERTAINTY,
    "frames[].attention": ATTENTION,
}

VERDICT_LABELS = {
    Verdict.FAKE: "Likely manipulated",
    Verdict.REAL: "No manipulation detected",
    Verdict.NO_FACE: "No face found: no verdict",
    Verdict.ERROR: "Could not be analysed",
}

LIMITATIONS = (
    "This is a probability from a statistical model, not proof. Treat it as one signal next to "
    "provenance checks: the source, the upload history, reverse image search, metadata.",
    "The model only judges the main face it tracks through the clip. Other faces, the background, "
    "the audio and lip-sync are not analysed.",
    "It learned from specific manipulation methods; new generators, heavy compression, low resolution, "
    "small, turned or covered faces can all fool it in either direction.",
    "'No face found' is an abstention, not a 'real' verdict.",
    "The probability is calibrated on the model's validation data; on very different footage it may be "
    "over- or under-confident.",
)

UNTRAINED_WARNING = (
    "UNTRAINED MODEL: no trained detector is installed (models/detector.keras is missing or has no "
    "metadata saying it was trained). The scores below come from random weights and carry NO evidence "
    "about this clip. Do not use them to judge a video."
)


UNTRAINED_MODEL_CARD = (
    "No trained model is installed: models/detector.keras is missing (or its metadata does not say it was "
    "trained), so the app runs an untrained network with random weights. Every score it gives carries no "
    "evidence until a trained model is shipped."
)


def verdict_label(verdict: Verdict) -> str:
    return VERDICT_LABELS[verdict]


def verdict_sentence(result: VideoResult) -> str:
    """One sentence a journalist could quote, with the number and the threshold."""
    if result.verdict == Verdict.NO_FACE or result.probability_fake is None:
        return (
            f"No face was found in the {len(result.frames)} sampled frames, so the model abstains: "
            "this says nothing about whether the clip is real."
        )
    side = "at or above" if result.verdict == Verdict.FAKE else "below"
    return (
        f"The model estimates a {100 * result.probability_fake:.0f}% probability that the main face was "
        f"manipulated, {side} its decision threshold of {100 * result.threshold:.0f}%."
    )


def model_summary_line(info: ModelInfo) -> str:
    trained = "trained" if info.trained else "UNTRAINED"
    return f"{info.name} {info.version} ({trained}; backbone {info.backbone}, input {info.input_size} px)"


def measured_skill(info: ModelInfo) -> str | None:
    """How well this model (or, for a model retrained on every clip, its recipe) did on clips
    it had not seen, in words a reader can weigh."""
    if not info.trained:
        return None
    report = info.metrics
    val = report.val.best() if report.val is not None else None
    cross = report.cross_validation.raw if report.cross_validation is not None else None
    if cross is not None and cross.auc is not None and report.cross_validation is not None:
        folds = report.cross_validation.details.get("folds", "?")
        return (
            f"Measured skill: its recipe, trained {folds} times with "
            f"a different fifth of the {cross.clips} labelled clips held out (by person and source), "
            f"ranked a held-out fake above a held-out real {100 * cross.auc:.0f}% of the time "
            f"(AUC {cross.auc:.2f}{_interval(cross)}; 50% is a coin flip)"
            + (
                f"; trained without the {val.clips} validation clips, whose generators are "
                f"mostly absent from the rest, it scored AUC {val.auc:.2f}{_interval(val)} on them"
                if val is not None and val.auc is not None
                else ""
            )
            + ". This model was then retrained on all of them. Weak evidence: see the Model card."
        )
    if val is None or val.auc is None:
        return None
    auc = val.auc
    if "val" in report.trained_on_splits:
        return (
            f"Measured skill: its recipe, trained without the {val.clips} validation clips, "
            f"whose generators are mostly absent from the rest, ranked a fake above a real among them "
            f"{100 * auc:.0f}% of the time (AUC {auc:.2f}{_interval(val)}; 50% is a coin flip). "
            "This model was then retrained on all of them. Weak evidence: see the Model card."
        )
    return (
        f"Measured skill: on {val.clips} validation clips, mostly from generators it never saw "
        f"in training, it ranks a fake above a real {100 * auc:.0f}% of the time (AUC {auc:.2f}"
        f"{_interval(val)}; 50% is a coin flip). Weak evidence: see the Model card."
    )


def _interval(metrics: Metrics) -> str:
    ci = metrics.auc_ci95
    return f", 95% CI {ci[0]:.2f}-{ci[1]:.2f}" if ci else ""


def model_limits(info: ModelInfo) -> list[str]:
    """Known limits of this model: its measured skill and its own notes first, then the general ones."""
    skill = measured_skill(info)
    notes = [info.notes] if info.notes else []
    return [*([skill] if skill else []), *notes, *LIMITATIONS]


ASSESSMENT_LABELS = {
    Assessment.SIGNS_OF_MANIPULATION: "Signs of manipulation",
    Assessment.INCONCLUSIVE: "Inconclusive",
    Assessment.NO_SIGNS_FOUND: "No signs of manipulation found",
    Assessment.NO_FACE: "No face found: no assessment",
    Assessment.ERROR: "Could not be analysed",
}
# Text only: an icon inside a badge leaks its name ("check_circle") into copied text and screen readers.
ASSESSMENT_BADGES = {
    Assessment.SIGNS_OF_MANIPULATION: ":red-badge[{}]",
    Assessment.INCONCLUSIVE: ":orange-badge[{}]",
    Assessment.NO_SIGNS_FOUND: ":blue-badge[{}]",
    Assessment.NO_FACE: ":gray-badge[{}]",
    Assessment.ERROR: ":gray-badge[{}]",
}
CREDENTIAL_BADGES = {
    CredentialState.ABSENT: ":gray-badge[none]",
    CredentialState.TRUSTED: ":green-badge[valid, trusted signer]",
    CredentialState.VALID_UNTRUSTED: ":orange-badge[valid, signer not trusted]",
    CredentialState.INVALID: ":red-badge[invalid]",
    CredentialState.UNREADABLE: ":gray-badge[unreadable]",
}
WHY_MOSTLY_INCONCLUSIVE = (
    "Most clips come out inconclusive, and that is the honest answer: on clips it had not seen, the model's "
    "probabilities in the middle range were right about as often as a coin, so only the ends of the range, "
    "where it was right at least {target:.0f}% of the time, give a verdict. A clip unlike the training data "
    "(small faces, unusual compression or resolution, few frames with a face) is inconclusive too."
)


def assessment_label(assessment: Assessment) -> str:
    return ASSESSMENT_LABELS[assessment]


def any_verdict_label(value: str) -> str:
    """The label of a stored verdict: an assessment, or an older fake/real verdict."""
    if value in {a.value for a in Assessment}:
        return ASSESSMENT_LABELS[Assessment(value)]
    return VERDICT_LABELS[Verdict(value)]


def band_summary(band: VerdictBand | None) -> str:
    """The band behind every verdict, with the rates measured where it was fitted."""
    if band is None:
        return "This model has no fitted verdict band: every clip it scores is inconclusive."
    measured = band.measured
    parts = [
        f"Band: signs of manipulation at or above {_limit(band.upper)}, no signs found at or below "
        f"{_limit(band.lower)}, inconclusive in between."
    ]
    if measured.get("clips"):
        parts.append(
            f"Fitted on {measured['clips']} clips the model had not seen ({measured.get('split', 'held out')} "
            f"split, scored by {measured.get('predicted_by', 'the development model')}): "
            + _rate("signs of manipulation", measured.get("signs_right_rate"), measured.get("signs_clips"))
            + "; "
            + _rate("no signs found", measured.get("no_signs_right_rate"), measured.get("no_signs_clips"))
            + f"; {measured.get('inconclusive_clips', 0)} clips inconclusive."
        )
    parts.append(WHY_MOSTLY_INCONCLUSIVE.format(target=100 * band.target_rate))
    return " ".join(parts)


def _rate(name: str, rate: float | None, clips: int | None) -> str:
    if not clips or rate is None:
        return f"'{name}' was never reached (no limit was right often enough on enough clips)"
    return f"'{name}' right {100 * rate:.0f}% of the time on {clips} clips"


def _limit(value: float | None) -> str:
    return "— (never given)" if value is None else f"{value:.3f}"


def person_label(person: PersonResult) -> str:
    return f"Person {person.id}" + (" (main face)" if person.id == 1 else "")


def person_sentence(person: PersonResult) -> str:
    """Who, when, and what the model says about them."""
    probability = (
        "no score" if person.probability_fake is None else f"{VIDEO_PROBABILITY.lower()} {person.probability_fake:.2f}"
    )
    return (
        f"{person_label(person)}, seen from {person.first_s:.1f} s to {person.last_s:.1f} s in "
        f"{person.frame_count} sampled frames: {probability}, {assessment_label(person.assessment).lower()}."
    )


def plain_skill(info: ModelInfo) -> str | None:
    """How often the model was right on clips it had never seen, in words anyone can weigh."""
    if not info.trained or info.metrics.val is None:
        return None
    measured = info.metrics.val.best()
    return (
        f"On {measured.clips} clips it had never seen, most of them made with methods it was not trained on, "
        f"it was right about {round(10 * measured.accuracy)} times in 10. Expect mistakes in both directions."
    )


def plain_limits(info: ModelInfo) -> list[str]:
    """What a reader of a verdict needs to know, without developer detail (that stays on the Model card)."""
    skill = plain_skill(info)
    return [*([skill] if skill else []), *LIMITATIONS]


def percent(probability: float | None, digits: int = 1) -> str:
    """A probability as a percentage; a dash where the model abstained."""
    return "—" if probability is None else f"{100 * probability:.{digits}f}%"


def file_size(size_bytes: int) -> str:
    """Bytes as a reader says them: KB below 1 MB (a 26 KB clip is not "0.0 MB"), MB above."""
    if size_bytes < 1_000_000:
        return f"{max(size_bytes, 0) / 1000:.0f} KB" if size_bytes >= 1000 else f"{max(size_bytes, 0)} bytes"
    return f"{size_bytes / 1e6:.1f} MB"


_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~$:")


def plain_markdown(text: str) -> str:
    """`text` as literal characters inside Markdown: a name or file name can carry no image
    (which the browser would fetch), link, emphasis or Streamlit colour/icon syntax."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in text)
