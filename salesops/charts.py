"""Altair charts for the reports, drawn as static SVG (vl-convert) so they show offline in HTML and PDF.

Importing this module switches Altair to its `svg` renderer. Each chart function takes a tidy frame
and returns an `alt.Chart`; the notebook displays it.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

PALETTE = ["#1f4e79", "#e07b39", "#3f8f5f", "#b3261e", "#7b5ea7", "#8c6d31", "#5b8fb9", "#c9a227"]
WIDTH = 620


def _theme():
    return alt.theme.ThemeConfig(
        {
            "config": {
                "font": "Helvetica, Arial, sans-serif",
                "view": {"stroke": None, "continuousWidth": WIDTH, "continuousHeight": 240},
                "axis": {"labelFontSize": 11, "titleFontSize": 12, "gridColor": "#e6e6e6"},
                "legend": {"labelFontSize": 11, "titleFontSize": 12},
                "title": {"fontSize": 14, "anchor": "start"},
                "range": {"category": PALETTE},
            }
        }
    )


alt.theme.register("salesops", enable=True)(_theme)
alt.renderers.enable("svg")
alt.data_transformers.disable_max_rows()


def line(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    title: str = "",
    y_title: str | None = None,
    dash: str | None = None,
) -> alt.Chart:
    """A line chart of `y` over `x`, one line per `color`."""
    enc = {"x": alt.X(f"{x}:T", title=None), "y": alt.Y(f"{y}:Q", title=y_title or y)}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    if dash:
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", title=None)
    return alt.Chart(frame, title=title).mark_line(point=False).encode(**enc).properties(width=WIDTH)


def bar(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    title: str = "",
    horizontal: bool = False,
    sort: str | None = "-x",
) -> alt.Chart:
    """A bar chart; `horizontal=True` puts categories on the y axis, sorted by value."""
    if horizontal:
        enc = {"y": alt.Y(f"{y}:N", sort=sort, title=None), "x": alt.X(f"{x}:Q")}
    else:
        enc = {"x": alt.X(f"{x}:N", title=None, sort=None), "y": alt.Y(f"{y}:Q")}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    return alt.Chart(frame, title=title).mark_bar().encode(**enc).properties(width=WIDTH)


def band(frame: pd.DataFrame, x: str, lo: str, hi: str, color: str | None = None) -> alt.Chart:
    """A shaded interval between `lo` and `hi`."""
    enc = {"x": alt.X(f"{x}:T", title=None), "y": alt.Y(f"{lo}:Q"), "y2": alt.Y2(f"{hi}:Q")}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    return alt.Chart(frame).mark_area(opacity=0.2).encode(**enc)


def heatmap(
    frame: pd.DataFrame, x: str, y: str, value: str, title: str = "", scheme: str = "blues"
) -> alt.Chart:
    """A heat map of `value` by `x` and `y`."""
    return (
        alt.Chart(frame, title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:O", title=None),
            y=alt.Y(f"{y}:N", title=None),
            color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme=scheme)),
            tooltip=[x, y, value],
        )
        .properties(width=WIDTH)
    )
