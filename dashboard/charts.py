"""Plotly figures and their text descriptions (the alt text a screen reader reads instead).

Figures are built from the typed `VideoResult`; each point carries its frame's position in
`customdata`, so a click on the chart can show that frame's face crop.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.lab import STRATEGIES, LabOutcome, effective_frames, equal_share, frame_arrays, weight_shares
from dashboard.theme import FAKE_TEXT_COLOR, FONT_FAMILY, PLOTLY_TEMPLATE, TEXT_COLOR
from dashboard.wording import ATTENTION, CERTAINTY, FRAME_PROBABILITY, THRESHOLD, TIMELINE_TITLE, VIDEO_PROBABILITY
from pipeline.results import VideoResult

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
FAKE_COLOR = "#D55E00"
CERTAINTY_COLOR = "#555555"
ATTENTION_COLOR = "#0072B2"
NO_FACE_COLOR = "#999999"
# Charts draw without Plotly's toolbar: on a phone it covered the titles, and it added unlabelled Tab stops.
CHART_CONFIG = {"displaylogo": False, "displayModeBar": False}
FONT = {"family": FONT_FAMILY, "size": 13, "color": TEXT_COLOR}


def _frame_values(result: VideoResult) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    times, p, mask = frame_arrays(result)
    p = np.where(mask > 0, p, np.nan)
    certainty = np.array([f.certainty if f.certainty is not None else np.nan for f in result.frames])
    attention = np.array([f.attention for f in result.frames], dtype=np.float64)
    return times, p, certainty, attention, mask


def timeline_figure(
    result: VideoResult,
    title: str = TIMELINE_TITLE,
    x_range: tuple[float, float] | None = None,
    attention_max: float | None = None,
    height: int = 480,
    share_of_clip: bool = False,
) -> go.Figure:
    """Top: probability and certainty lines, attention bars; bottom: the attention strip.

    With `share_of_clip` the x axis is the position in the clip (0-100%) instead of seconds, so a 3-s
    clip and a 15-s clip line up from start to end.
    """
    times, p, certainty, attention, mask = _frame_values(result)
    if share_of_clip:
        times = 100.0 * times / max(result.video.duration_s, 1e-6)
        x_range = (0.0, 100.0)
    positions = np.arange(len(times))
    hover_x = "%{x:.0f}% of the clip<br>" if share_of_clip else "t=%{x:.2f} s<br>"
    figure = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.8, 0.2],
        vertical_spacing=0.06,
        specs=[[{"secondary_y": True}], [{}]],
    )
    figure.add_trace(
        go.Bar(
            x=times,
            y=attention,
            name=ATTENTION,
            marker_color=ATTENTION_COLOR,
            opacity=0.35,
            customdata=positions,
            hovertemplate=hover_x + ATTENTION.lower() + " %{y:.3f}<extra></extra>",
        ),
        row=1,
        col=1,
        secondary_y=True,
    )
    figure.add_trace(
        go.Scatter(
            x=times,
            y=p,
            name=FRAME_PROBABILITY,
            mode="lines+markers",
            line={"color": FAKE_COLOR, "width": 2},
            marker={"size": 7},
            customdata=positions,
            hovertemplate=hover_x + FRAME_PROBABILITY.lower() + " %{y:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=times,
            y=certainty,
            name=CERTAINTY,
            mode="lines",
            line={"color": CERTAINTY_COLOR, "width": 1.5, "dash": "dot"},
            customdata=positions,
            hovertemplate=hover_x + CERTAINTY.lower() + " %{y:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    no_face = mask == 0
    # Always drawn (maybe empty), so two charts side by side get the same legend and plot height.
    figure.add_trace(
        go.Scatter(
            x=times[no_face],
            y=np.zeros(int(no_face.sum())),
            name="No face",
            mode="markers",
            marker={"symbol": "x", "color": NO_FACE_COLOR, "size": 8},
            customdata=positions[no_face],
            hovertemplate=hover_x + "no face<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_hline(
        y=result.threshold,
        line={"color": FAKE_COLOR, "dash": "dash", "width": 1},
        annotation_text=f"{THRESHOLD.lower()} {result.threshold:.2f}",
        annotation_position="top left",
        annotation_font_color=FAKE_TEXT_COLOR,
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Heatmap(
            x=times,
            y=["attention"],
            z=[attention],
            colorscale="Blues",
            zmin=0,
            zmax=attention_max or max(float(attention.max()), 1e-6),
            showscale=False,
            customdata=[positions],
            hovertemplate=hover_x + ATTENTION.lower() + " %{z:.3f}<extra></extra>",
            name="Attention strip",
        ),
        row=2,
        col=1,
    )
    top = attention_max or max(float(attention.max()), 1e-6)
    figure.update_yaxes(
        title_text=f"Probability / {CERTAINTY.lower()}", range=[-0.03, 1.03], row=1, col=1, secondary_y=False
    )
    figure.update_yaxes(
        title_text=ATTENTION,
        range=[0, top * 1.15],
        row=1,
        col=1,
        secondary_y=True,
        showgrid=False,
        tickmode="auto",
        nticks=4,
        tickformat=".2f",
    )
    figure.update_yaxes(showticklabels=True, row=2, col=1)
    figure.update_xaxes(title_text="Share of the clip (%)" if share_of_clip else "Time (s)", row=2, col=1)
    if x_range is not None:
        figure.update_xaxes(range=list(x_range))
    figure.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 90},
        legend={"orientation": "h", "y": -0.18, "x": 0, "yanchor": "top"},
        font=FONT,
        template=PLOTLY_TEMPLATE,
        bargap=0.3,
        hovermode="closest",
        clickmode="event+select",
    )
    return figure


def describe_timeline(result: VideoResult) -> str:
    """The chart in words, for screen readers and for anyone who prefers numbers to lines."""
    times, p, _, attention, mask = _frame_values(result)
    if not len(times):
        return "Timeline: no frames were sampled."
    text = (
        f"Timeline of {len(times)} sampled frames from {times[0]:.1f} s to {times[-1]:.1f} s; "
        f"{int(mask.sum())} show a face."
    )
    if mask.any():
        top_p = int(np.nanargmax(p))
        top_a = int(np.argmax(attention))
        text += (
            f" {FRAME_PROBABILITY} ranges from {np.nanmin(p):.2f} to {np.nanmax(p):.2f}, highest at "
            f"{times[top_p]:.1f} s. {ATTENTION} is highest at {times[top_a]:.1f} s "
            f"({attention[top_a]:.3f}). {THRESHOLD} {result.threshold:.2f}."
        )
    return text


def lab_figure(
    result: VideoResult, outcome: LabOutcome, share_top: float | None = None, height: int = 520
) -> go.Figure:
    """Top: frame probabilities and the video probability. Bottom, in its own panel: each frame's share
    of the verdict in percent, on an axis that stays put while the temperature moves (`share_top`),
    with a line at the share every face frame would get if all counted the same."""
    times, _, _ = frame_arrays(result)
    shares = weight_shares(outcome.weights)
    top = max(share_top or 0.0, float(shares.max(initial=0.0)), 2 * equal_share(result), 1.0) * 1.1
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.5, 0.5], vertical_spacing=0.1)
    figure.add_trace(
        go.Scatter(
            x=times,
            y=outcome.frame_probability,
            name=FRAME_PROBABILITY,
            mode="markers+lines",
            line={"color": FAKE_COLOR, "width": 1.5},
            hovertemplate="t=%{x:.2f} s<br>" + FRAME_PROBABILITY.lower() + " %{y:.2f}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    if outcome.probability is not None:
        figure.add_hline(
            y=outcome.probability,
            line={"color": "#000000", "dash": "dot", "width": 1.5},
            annotation_text=f"{VIDEO_PROBABILITY.lower()} {outcome.probability:.2f}",
            annotation_position="bottom right",
            annotation_font_color=TEXT_COLOR,
            row=1,
            col=1,
        )
    figure.add_trace(
        go.Bar(
            x=times,
            y=shares,
            name=f"{ATTENTION} (share of the verdict, %)",
            marker_color=ATTENTION_COLOR,
            hovertemplate="t=%{x:.2f} s<br>share %{y:.1f}%<extra></extra>",
        ),
        row=2,
        col=1,
    )
    figure.add_hline(
        y=equal_share(result),
        line={"color": TEXT_COLOR, "dash": "dash", "width": 1},
        annotation_text=f"equal share {equal_share(result):.1f}%",
        annotation_position="top left",
        annotation_font_color=TEXT_COLOR,
        row=2,
        col=1,
    )
    figure.update_yaxes(title_text="Probability", range=[-0.03, 1.03], row=1, col=1)
    figure.update_yaxes(title_text="Share (%)", range=[0, top], row=2, col=1)
    figure.update_xaxes(title_text="Time (s)", row=2, col=1)
    figure.update_layout(
        title={"text": f"{ATTENTION} of each frame: {STRATEGIES[outcome.strategy]}", "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 90},
        legend={"orientation": "h", "y": -0.15, "x": 0, "yanchor": "top"},
        font=FONT,
        template=PLOTLY_TEMPLATE,
        bargap=0.3,
    )
    return figure


def describe_lab(outcome: LabOutcome) -> str:
    if outcome.probability is None:
        return "No frame shows a face, so there is nothing to weigh."
    return (
        f"{STRATEGIES[outcome.strategy]}: {VIDEO_PROBABILITY.lower()} {outcome.probability:.2f}; "
        f"the weights spread over about {effective_frames(outcome.weights):.1f} frames "
        f"(largest weight {outcome.weights.max():.3f})."
    )
