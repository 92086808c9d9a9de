"""Plotly figures, their text descriptions, and reading the model's documentation files."""

from __future__ import annotations

import json
from pathlib import Path

from dashboard.charts import describe_lab, describe_timeline, lab_figure, timeline_figure
from dashboard.lab import apply_strategy
from dashboard.model_card import metric_rows, read_model_files
from dashboard.wording import ATTENTION, CERTAINTY, FRAME_PROBABILITY
from tests.dashboard.builders import make_result


def test_timeline_has_the_three_series_and_the_attention_strip() -> None:
    result = make_result([0.9, None, 0.2, 0.7])
    figure = timeline_figure(result)
    names = [trace.name for trace in figure.data]
    assert {FRAME_PROBABILITY, CERTAINTY, ATTENTION, "No face", "Attention strip"} <= set(names)
    probability = next(t for t in figure.data if t.name == FRAME_PROBABILITY)
    assert list(probability.customdata) == [0, 1, 2, 3]  # a click maps back to the frame
    assert figure.layout.title.text
    assert figure.layout.xaxis2.title.text == "Time (s)"


def test_shared_scale_for_comparison() -> None:
    figure = timeline_figure(make_result([0.5, 0.6]), x_range=(0.0, 12.0), attention_max=0.9)
    assert list(figure.layout.xaxis.range) == [0.0, 12.0]
    assert figure.layout.yaxis2.range[1] > 0.9


def test_descriptions_give_the_numbers() -> None:
    result = make_result([0.9, None, 0.2, 0.7])
    text = describe_timeline(result)
    assert "4 sampled frames" in text and "3 show a face" in text and "0.90" in text
    assert "no frames" in describe_timeline(make_result([]))
    lab = apply_strategy("mean", result, 0.2)
    assert "0.60" in describe_lab(lab)
    assert lab_figure(result, lab).layout.title.text.startswith(ATTENTION)


def test_model_files_absent(tmp_path: Path) -> None:
    files = read_model_files(tmp_path / "detector.keras")
    assert not files.model_exists and files.metadata is None and files.card_markdown is None
    assert len(files.missing) == 4


def test_model_files_present(tmp_path: Path) -> None:
    (tmp_path / "detector.keras").write_bytes(b"x")
    (tmp_path / "detector.json").write_text(json.dumps({"metrics": {"val": {"auc": 0.91}}}))
    (tmp_path / "MODEL_CARD.md").write_text("# Card\n")
    (tmp_path / "reliability_val.png").write_bytes(b"png")
    files = read_model_files(tmp_path / "detector.keras")
    assert files.missing == [] and files.metadata == {"metrics": {"val": {"auc": 0.91}}}
    assert [p.name for p in files.diagrams] == ["reliability_val.png"]


def test_broken_metadata_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "detector.json").write_text("{oops")
    files = read_model_files(tmp_path / "detector.keras")
    assert files.metadata is None and files.metadata_error and "detector.json" in files.metadata_error


def test_metric_rows_flatten_nested_metrics() -> None:
    rows = metric_rows({"val": {"auc": 0.912345, "n": 10}, "bins": [0.1, 0.2]})
    assert ("val · auc", "0.9123") in rows and ("val · n", "10") in rows and ("bins", "0.100, 0.200") in rows
    cross = {"cross_validation": {"raw": {"auc": 0.7}, "clip_probabilities": {f"c{i}.mp4": 0.5 for i in range(364)}}}
    assert metric_rows(cross) == [("cross_validation · raw · auc", "0.7000")]  # per-clip records stay out
    assert metric_rows({"cross_validation": None}) == [("cross_validation", "not measured")]


def test_measured_skill_is_stated_for_a_trained_model_and_absent_otherwise():
    from dashboard.wording import model_limits
    from pipeline.model.config import ModelInfo
    from pipeline.model.report import TrainingReport

    def measured(clips: int, auc: float, ci: list[float]) -> dict[str, object]:
        return {
            "clips": clips,
            "fakes": 1,
            "reals": 1,
            "auc": auc,
            "auc_ci95": ci,
            "accuracy": 0.6,
            "log_loss": 0.6,
            "brier": 0.2,
            "ece": 0.1,
        }

    def report(data: dict[str, object]) -> TrainingReport:
        return TrainingReport.from_dict(data)

    metrics = report({"val": {"raw": measured(106, 0.5, [0.4, 0.6]), "calibrated": measured(106, 0.687, [0.58, 0.78])}})
    trained = ModelInfo("m", "1", "x", True, "b", 224, metrics=metrics)
    first = model_limits(trained)[0]
    assert "69%" in first and "0.58-0.78" in first and "106 validation clips" in first
    untrained = ModelInfo("m", "0", "x", False, "b", 224, metrics=metrics)
    assert not any("Measured skill" in line for line in model_limits(untrained))
    refit = report({**metrics.to_dict(), "cross_validation": {"folds": 5, "raw": measured(364, 0.712, [0.66, 0.76])}})
    first = model_limits(ModelInfo("m", "1", "x", True, "b", 224, metrics=refit))[0]
    assert "71%" in first and "364 labelled clips" in first and "0.66-0.76" in first
    assert "AUC 0.69" in first and "retrained on all of them" in first
    # Retrained on every clip without cross-validation: val speaks for the recipe, not this model.
    no_cv = report({**metrics.to_dict(), "trained_on_splits": ["train", "val"], "cross_validation": None})
    first = model_limits(ModelInfo("m", "1", "x", True, "b", 224, metrics=no_cv))[0]
    assert "trained without the 106 validation clips" in first and "69%" in first
    assert "retrained on all of them" in first


def test_card_images_are_taken_out_of_the_markdown_and_kept_when_present(tmp_path: Path):
    from dashboard.model_card import split_card_images

    (tmp_path / "curve.png").write_bytes(b"\x89PNG")
    text, images = split_card_images(
        "Intro\n![training curve](curve.png)\n![gone](missing.png)\n![escape](../secret.png)\n", tmp_path
    )
    assert "![" not in text and "training curve: shown below the card" in text
    assert "gone: image not available" in text and "escape: image not available" in text
    assert images == [((tmp_path / "curve.png").resolve(), "training curve")]


def test_runtime_rows_say_which_cnn_runtime_scores_and_why() -> None:
    from dashboard.model_card import runtime_rows
    from pipeline.model.fast_encoder import FastEncoderStatus

    fast = dict(runtime_rows(FastEncoderStatus("tflite", "ok", 1.6e-7), "blazeface_auto", "tflite"))
    assert "TensorFlow Lite" in fast["CNN runs on"] and "1.6e-07" in fast["CNN runs on"]
    assert fast["Face detector"] == "blazeface_auto on tflite"
    slow = dict(runtime_rows(FastEncoderStatus("keras", "no .tflite encoder beside the model"), "haar", "opencv"))
    assert slow["CNN runs on"] == "Keras (no .tflite encoder beside the model)"


def test_verdict_band_rows_state_the_measured_rates() -> None:
    import json

    from dashboard.model_card import verdict_band_rows
    from pipeline.assessment import InputRange, VerdictBand
    from pipeline.settings import MODELS_DIR

    rows = dict(
        verdict_band_rows(
            VerdictBand(
                None,
                0.855,
                measured={
                    "clips": 127,
                    "signs_clips": 12,
                    "signs_right_rate": 11 / 12,
                    "no_signs_clips": 0,
                    "no_signs_right_rate": None,
                    "inconclusive_clips": 115,
                    "split": "val",
                    "assessed_clips": {"signs_of_manipulation": 12, "inconclusive": 121},
                },
            ),
            InputRange(min_face_side_px=69.0),
        )
    )
    assert rows["'Signs of manipulation' was right"] == "91.7% of 12 clips"
    assert rows["'No signs of manipulation found' at or below"] == "never"
    assert rows["'No signs of manipulation found' was right"].startswith("never given")
    assert "signs of manipulation 12, inconclusive 121" in rows["All 133 val clips, range checks included"]
    assert "inconclusive" in verdict_band_rows(None, None)[0][1]
    shipped = json.loads((MODELS_DIR / "detector.json").read_text())  # the shipped model carries its band
    assert VerdictBand.from_json_dict(shipped.get("verdict_band")) is not None


def test_timeline_can_use_the_share_of_the_clip() -> None:
    result = make_result([0.5, 0.6, 0.7, 0.8])
    seconds = timeline_figure(result)
    share = timeline_figure(result, share_of_clip=True, x_range=(0.0, 15.0))
    probability = next(t for t in share.data if t.name == FRAME_PROBABILITY)
    assert max(probability.x) <= 100.0 and list(share.layout.xaxis.range) == [0.0, 100.0]
    assert share.layout.xaxis2.title.text == "Share of the clip (%)"
    assert seconds.layout.xaxis2.title.text == "Time (s)"


def test_plain_markdown_leaves_no_markdown_syntax():
    from dashboard.wording import plain_markdown

    assert plain_markdown("a_b*c") == "a\\_b\\*c"
    assert plain_markdown("![x](http://h/p.png)") == "\\!\\[x\\]\\(http\\://h/p\\.png\\)"
    assert plain_markdown(":red[alert]") == "\\:red\\[alert\\]"
    assert plain_markdown("plain name") == "plain name"
