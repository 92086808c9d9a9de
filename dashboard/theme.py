"""Colours every page, chart and report shares, chosen for a contrast of at least 4.5:1 on white.

`.streamlit/config.toml` sets the same text colour for Streamlit's own widgets; the Plotly
template below gives chart text (titles, ticks, legends, annotations) the same colours, instead
of the Streamlit chart theme's light grey ticks (about 3.7:1).
"""

from __future__ import annotations

import plotly.graph_objects as go

BACKGROUND = "#ffffff"
TEXT_COLOR = "#1e2028"  # body text: also `textColor` in .streamlit/config.toml
MUTED_TEXT = "#4a4c55"  # ticks, captions, axis titles
GRID_COLOR = "#e3e3e6"  # lines only, never text
FOCUS_COLOR = "#1f5fa8"  # the keyboard focus outline (the theme's primary colour)
FAKE_TEXT_COLOR = "#a33b00"  # the fake colour, darkened for text such as the threshold label
FONT_FAMILY = "Source Sans Pro, Arial, sans-serif"
MIN_TEXT_CONTRAST = 4.5  # WCAG 2.1 AA for normal-size text


def relative_luminance(color: str) -> float:
    """WCAG's relative luminance of a #rrggbb colour."""
    value = color.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str = BACKGROUND) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def plotly_template() -> go.layout.Template:
    """Dark chart text on white; the pages draw charts with `theme=None` so this template applies."""
    axis = {
        "color": MUTED_TEXT,
        "tickfont": {"color": MUTED_TEXT},
        "title": {"font": {"color": MUTED_TEXT}},
        "gridcolor": GRID_COLOR,
        "linecolor": GRID_COLOR,
        "zerolinecolor": GRID_COLOR,
    }
    return go.layout.Template(
        layout={
            "font": {"family": FONT_FAMILY, "size": 13, "color": TEXT_COLOR},
            "title": {"font": {"color": TEXT_COLOR}},
            "paper_bgcolor": BACKGROUND,
            "plot_bgcolor": BACKGROUND,
            "legend": {"font": {"color": TEXT_COLOR}},
            "xaxis": axis,
            "yaxis": axis,
            "hoverlabel": {"font": {"color": TEXT_COLOR}, "bgcolor": BACKGROUND},
        }
    )


PLOTLY_TEMPLATE = plotly_template()

# The keyboard focus outline and a few layout rules that Streamlit's theme options cannot express.
ACCESSIBLE_CSS = f"""
<style>
:focus-visible {{ outline: 3px solid {FOCUS_COLOR} !important; outline-offset: 2px !important; }}
/* The authenticator's cookie component is an invisible iframe: keep it out of the Tab order. */
iframe[title*="CookieManager"], iframe[title*="cookie_manager"] {{ visibility: hidden; }}
/* Captions and hints in the muted text colour, fully opaque (Streamlit fades captions to about 3:1). */
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] small, [data-testid="stFileUploaderDropzoneInstructions"] span {{
  color: {MUTED_TEXT} !important; opacity: 1 !important; }}
/* The heading link icons are one invisible Tab stop per heading: keyboard users got three before the login. */
[data-testid="stHeaderActionElements"] {{ display: none !important; }}
/* Section headings (h2) sized between the page title and body text. */
[data-testid="stMain"] h2 {{ font-size: 1.5rem !important; }}
/* Long values wrap instead of scrolling, so no scroll box needs a keyboard focus. */
[data-testid="stTableStyledTable"] td div, pre, pre code {{ white-space: pre-wrap !important;
  overflow-wrap: anywhere; overflow: visible !important; }}
</style>
"""
