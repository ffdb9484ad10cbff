"""Altair charts for the reports: interactive in the HTML reports, static vector graphics in the PDF.

Importing this module switches Altair to the `salesops` renderer: a displayed chart carries its
Vega-Lite spec (`VEGALITE_MIME`, drawn by vega-embed in the HTML report, see `salesops.html_charts`)
and the same chart as SVG drawn by vl-convert (the PDF pack and plain viewers use it). Before both,
`explorable` gives every chart what a reader explores with: a tooltip on every mark, a legend that
selects, and pan and zoom on time axes. Each chart function takes a tidy frame and returns an
`alt.Chart`; the notebook displays it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator

import altair as alt
import pandas as pd

from .labels import label

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
alt.data_transformers.disable_max_rows()

VEGALITE_MIME = "application/vnd.vegalite.v6+json"
"""The MIME type under which a displayed chart carries its Vega-Lite spec (the HTML report embeds it)."""

_TIME_FORMAT = "%b %Y"
_NUMBER_FORMAT = ",.2~f"
_FADED = 0.15
_CHANNELS = ("x", "y", "x2", "y2", "color", "strokeDash", "shape", "size", "text", "theta", "detail")


def _units(spec: dict, facets: tuple = ()) -> Iterator[tuple[dict, tuple]]:
    """Every single-mark view of `spec` with the facet fields (dicts) that split it."""
    if "mark" in spec:
        yield spec, facets
        return
    if isinstance(spec.get("facet"), dict) and isinstance(spec.get("spec"), dict):
        facet = spec["facet"]
        found = (facet,) if "field" in facet else tuple(v for v in facet.values() if isinstance(v, dict))
        yield from _units(spec["spec"], facets + found)
    elif isinstance(spec.get("spec"), dict):  # repeat
        yield from _units(spec["spec"], facets)
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(key, []) or []:
            if isinstance(sub, dict):
                yield from _units(sub, facets)


def _tooltip_entry(channel: str, definition: dict) -> dict | None:
    field = definition.get("field")
    if not isinstance(field, str) or "type" not in definition:
        return None
    entry = {"field": field, "type": definition["type"]}
    for key in ("aggregate", "timeUnit", "bin"):
        if key in definition:
            entry[key] = definition[key]
    axis = definition.get("axis") if isinstance(definition.get("axis"), dict) else {}
    title = definition.get("title") or axis.get("title")
    entry["title"] = title if isinstance(title, str) and title else label(field)
    if definition["type"] == "temporal":
        entry["format"] = _TIME_FORMAT
    elif definition["type"] == "quantitative" and not definition.get("bin"):
        fmt = axis.get("format") or (definition.get("legend") or {}).get("format") or ""
        entry["format"] = ".1%" if "%" in str(fmt) else _NUMBER_FORMAT
    return entry


def _label_tooltip(tooltip):
    """A chart's own tooltip with reader titles and number formats where it has none."""
    entries = tooltip if isinstance(tooltip, list) else [tooltip]
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            continue
        entry.setdefault("title", label(entry["field"]))
        if entry.get("type") == "temporal":
            entry.setdefault("format", _TIME_FORMAT)
        elif entry.get("type") == "quantitative":
            entry.setdefault("format", _NUMBER_FORMAT)
    return tooltip


def _add_tooltip(unit: dict, facets: tuple) -> None:
    encoding = unit.setdefault("encoding", {})
    mark = unit["mark"] if isinstance(unit["mark"], dict) else {"type": unit["mark"]}
    if "tooltip" in encoding:
        _label_tooltip(encoding["tooltip"])
        return
    if mark.get("tooltip") is not None:
        return
    entries, seen = [], set()
    for channel, definition in [("facet", f) for f in facets] + [
        (c, encoding[c]) for c in _CHANNELS if isinstance(encoding.get(c), dict)
    ]:
        entry = _tooltip_entry(channel, definition)
        if entry and (entry["field"], entry.get("aggregate")) not in seen:
            seen.add((entry["field"], entry.get("aggregate")))
            entries.append(entry)
    if entries:
        encoding["tooltip"] = entries
    if mark["type"] == "line" and not mark.get("point"):
        # a line is one mark: points give each month a mark of its own to hover
        unit["mark"] = {**mark, "point": {"filled": True, "size": 18}}


def _legend_field(unit: dict) -> str | None:
    color = unit.get("encoding", {}).get("color")
    if not isinstance(color, dict) or "condition" in color or color.get("legend", True) is None:
        return None
    if color.get("type") not in ("nominal", "ordinal") or not isinstance(color.get("field"), str):
        return None
    return color["field"]


def explorable(spec: dict) -> dict:
    """A copy of a Vega-Lite spec made to explore in a browser; the static drawing stays the same.

    Every mark without a tooltip gets one listing its encoded fields (and the facet's), titled with
    the reader labels of `salesops.labels` or the axis titles, numbers with thousands separators,
    fractions as percentages and months as "Nov 2026"; lines get a point per month to hover. A
    categorical colour legend selects: a click on an entry fades the others (shift-click adds
    entries). A time axis pans and zooms (drag, wheel; double-click resets).

    Args:
        spec: A Vega-Lite spec (`chart.to_dict()`).

    Returns:
        The spec with tooltips, legend selection and pan/zoom parameters added.

    Example:
        >>> frame = pd.DataFrame({"month": pd.to_datetime(["2026-01-01"]), "units": [3.0], "family": ["A"]})
        >>> spec = explorable(line(frame, "month", "units", color="family").to_dict())
        >>> [p["name"] for p in spec["params"]]
        ['legend_family', 'zoom']
    """
    spec = copy.deepcopy(spec)
    selections: dict[str, str] = {}
    zoom = False
    for unit, facets in _units(spec):
        _add_tooltip(unit, facets)
        params = unit.setdefault("params", [])
        field = _legend_field(unit)
        if field:
            name = selections.get(field)
            if name is None:
                name = selections[field] = "legend_" + re.sub(r"\W", "_", field)
                params.append(
                    {"name": name, "select": {"type": "point", "fields": [field]}, "bind": "legend"}
                )
            encoding = unit["encoding"]
            if "opacity" not in encoding:
                mark = unit["mark"] if isinstance(unit["mark"], dict) else {}
                shown = mark.get("opacity", 1)
                encoding["opacity"] = {
                    "condition": {"param": name, "value": shown},
                    "value": shown * _FADED,
                }
        x = unit.get("encoding", {}).get("x")
        if not zoom and isinstance(x, dict) and x.get("type") == "temporal" and not x.get("bin"):
            zoom = True
            params.append(
                {"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}
            )
        if not params:
            del unit["params"]
    return spec


def _render(spec: dict, **metadata) -> dict:
    """Altair renderer: the explorable Vega-Lite spec for the HTML report and its SVG for the PDF."""
    from altair.vegalite.v6.display import svg_renderer

    spec = explorable(spec)
    bundle = svg_renderer(spec, **metadata)
    title = spec.get("title")
    text = title.get("text", "") if isinstance(title, dict) else title or ""
    return {
        VEGALITE_MIME: spec,
        "image/svg+xml": bundle["image/svg+xml"],
        "text/plain": f"<chart: {text}>" if text else "<chart>",
    }


alt.renderers.register("salesops", _render)
alt.renderers.enable("salesops")


def line(
    frame: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    title: str = "",
    y_title: str | None = None,
    dash: str | None = None,
) -> alt.Chart:
    """A line chart of `y` over `x`, one line per `color`.

    Args:
        frame: The tidy data, one row per point.
        x: The column of dates on the x axis.
        y: The column of values on the y axis.
        color: The column whose values get one line each (default: one line).
        title: The chart's title.
        y_title: The y axis title (default: the `y` column's reader label, `salesops.labels`).
        dash: The column whose values get a dash pattern each (e.g. actual vs forecast).

    Returns:
        The chart.
    """
    enc = {"x": alt.X(f"{x}:T", title=None), "y": alt.Y(f"{y}:Q", title=y_title or label(y))}
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
    """A bar chart; `horizontal=True` puts categories on the y axis, sorted by value.

    Args:
        frame: The tidy data, one row per bar.
        x: The category column (vertical bars) or the value column (horizontal bars).
        y: The value column (vertical bars) or the category column (horizontal bars).
        color: The column that colours the bars (default: one colour).
        title: The chart's title.
        horizontal: Whether the bars run horizontally, categories on the y axis.
        sort: How horizontal bars are sorted (Altair's `sort`, default `-x`: the largest first).

    Returns:
        The chart.
    """
    if horizontal:
        enc = {"y": alt.Y(f"{y}:N", sort=sort, title=None), "x": alt.X(f"{x}:Q", title=label(x))}
    else:
        enc = {"x": alt.X(f"{x}:N", title=None, sort=None), "y": alt.Y(f"{y}:Q", title=label(y))}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    return alt.Chart(frame, title=title).mark_bar().encode(**enc).properties(width=WIDTH)


def band(frame: pd.DataFrame, x: str, lo: str, hi: str, color: str | None = None) -> alt.Chart:
    """A shaded interval between `lo` and `hi`.

    Args:
        frame: The tidy data, one row per point.
        x: The column of dates on the x axis.
        lo: The column of lower bounds.
        hi: The column of upper bounds.
        color: The column whose values get one band each (default: one band).

    Returns:
        The chart, to layer under a line chart (`band(...) + line(...)`).
    """
    enc = {"x": alt.X(f"{x}:T", title=None), "y": alt.Y(f"{lo}:Q"), "y2": alt.Y2(f"{hi}:Q")}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
    return alt.Chart(frame).mark_area(opacity=0.2).encode(**enc)


def heatmap(
    frame: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    title: str = "",
    scheme: str = "blues",
    value_title: str | None = None,
    value_format: str = ",.2~f",
) -> alt.Chart:
    """A heat map of `value` by `x` and `y`.

    Args:
        frame: The tidy data, one row per cell.
        x: The column of the columns (ordinal, e.g. months).
        y: The column of the rows (categories).
        value: The column that sets each cell's colour.
        title: The chart's title.
        scheme: The Vega colour scheme.
        value_title: The legend and tooltip title of `value`, with its unit (default: its label).
        value_format: The d3 format of `value` in the legend and tooltip (e.g. `.0%`).

    Returns:
        The chart.
    """
    value_title = value_title or label(value)
    return (
        alt.Chart(frame, title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:O", title=None),
            y=alt.Y(f"{y}:N", title=None),
            color=alt.Color(
                f"{value}:Q",
                scale=alt.Scale(scheme=scheme),
                title=value_title,
                legend=alt.Legend(format=value_format),
            ),
            tooltip=[
                alt.Tooltip(f"{x}:O", title=label(x)),
                alt.Tooltip(f"{y}:N", title=label(y)),
                alt.Tooltip(f"{value}:Q", title=value_title, format=value_format),
            ],
        )
        .properties(width=WIDTH)
    )
