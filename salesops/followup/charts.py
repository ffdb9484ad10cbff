"""Altair charts of the follow-up (static SVG through `salesops.charts`' theme and renderer).

The frames hold fractions; the axes and tooltips show them as percentages. A chart with nothing to
draw yet is an info callout saying when it will appear.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts as base
from ..report import Callout, callout
from ._frames import TOTAL

__all__ = [
    "accuracy_chart",
    "adherence_chart",
    "bias_chart",
    "family_accuracy_chart",
    "stability_chart",
    "value_add_chart",
]

_MONTH_AXIS = alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %Y", tickCount="month"))


def _nothing(text: str) -> Callout:
    return callout(text, "info")


def accuracy_chart(trend: pd.DataFrame) -> alt.Chart | Callout:
    """Accuracy (1 - WAPE) by target month, one line per lag.

    Args:
        trend: The accuracy trend (`accuracy_trend`; `accuracy` a fraction).

    Returns:
        A line chart with a percentage axis, or a callout when nothing was scored yet.

    Example:
        >>> accuracy_chart(fu.trend)   # doctest: +SKIP
    """
    if trend.empty:
        return _nothing("No forecast has been scored yet: the accuracy chart appears after the first cycle.")
    data = trend.assign(lag=trend["lag"].map(lambda k: f"lag {k}"))
    return (
        alt.Chart(data, title="Forecast accuracy (1 - WAPE), all families")
        .mark_line(point=True)
        .encode(
            x=_MONTH_AXIS,
            y=alt.Y("accuracy:Q", axis=alt.Axis(format="%"), title="accuracy"),
            color=alt.Color("lag:N", title=None),
            tooltip=["month:T", "lag:N", alt.Tooltip("accuracy:Q", format=".1%")],
        )
        .properties(width=base.WIDTH)
    )


def bias_chart(bias: pd.DataFrame, limit: float) -> alt.LayerChart | Callout:
    """Tracking signal per family with the alert limits drawn as dashed rules.

    Args:
        bias: Bias and tracking signal per family (`bias_by_family`; `bias` a fraction).
        limit: The tracking-signal alert limit (`p.alerts.tracking_signal_limit`).

    Returns:
        A bar chart (bars beyond the limit highlighted), or a callout when nothing was scored yet.

    Example:
        >>> bias_chart(fu.bias, p.alerts.tracking_signal_limit)   # doctest: +SKIP
    """
    if bias.empty:
        return _nothing(
            "No lag-1 forecast has been scored yet: bias per family appears after the first cycle."
        )
    bars = (
        alt.Chart(bias, title="Tracking signal per family (lag 1)")
        .mark_bar()
        .encode(
            y=alt.Y("family:N", sort=None, title=None),
            x=alt.X("tracking_signal:Q", title="tracking signal"),
            color=alt.condition(
                f"abs(datum.tracking_signal) > {limit}",
                alt.value(base.PALETTE[3]),
                alt.value(base.PALETTE[0]),
            ),
            tooltip=[
                "family:N",
                alt.Tooltip("tracking_signal:Q", format="+.2f"),
                alt.Tooltip("bias:Q", format="+.1%"),
            ],
        )
    )
    limits = pd.DataFrame({"x": [-limit, limit]})
    rules = (
        alt.Chart(limits)
        .mark_rule(strokeDash=[4, 4], color="#555")
        .encode(x="x:Q", tooltip=[alt.Tooltip("x:Q", title="Alert limit (tracking signal)", format="+.1f")])
    )
    return (bars + rules).properties(width=base.WIDTH)


def value_add_chart(value_add_frame: pd.DataFrame, lag: int = 1) -> alt.Chart | Callout:
    """WAPE of the naive, statistical and consensus forecasts per cycle (lower is better).

    Args:
        value_add_frame: The value add (`value_add`; WAPEs as fractions).
        lag: The lag to show.

    Returns:
        Grouped bars with a percentage axis, or a callout when nothing was scored yet.

    Example:
        >>> value_add_chart(fu.value_add, lag=3)   # doctest: +SKIP
    """
    rows = value_add_frame[value_add_frame["lag"] == lag] if len(value_add_frame) else value_add_frame
    if rows.empty:
        return _nothing(
            f"No lag-{lag} forecast has been scored yet: value add appears after the first cycle."
        )
    long = rows.melt(
        id_vars=["period"],
        value_vars=["wape_naive", "wape_statistical", "wape_consensus"],
        var_name="forecast",
        value_name="wape",
    )
    long["forecast"] = long["forecast"].str.removeprefix("wape_")
    order = ["naive", "statistical", "consensus"]
    title = f"Forecast value add, lag {lag}: WAPE by cycle (lower is better)"
    return (
        alt.Chart(long, title=title)
        .mark_bar()
        .encode(
            x=alt.X("period:N", title=None),
            xOffset=alt.XOffset("forecast:N", sort=order),
            y=alt.Y("wape:Q", axis=alt.Axis(format="%"), title="WAPE"),
            color=alt.Color("forecast:N", title=None, sort=order),
            tooltip=["period:N", "forecast:N", alt.Tooltip("wape:Q", format=".1%")],
        )
        .properties(width=base.WIDTH)
    )


def adherence_chart(adherence: pd.DataFrame) -> alt.FacetChart | Callout:
    """Planned vs actual per month for each measure (all families).

    Args:
        adherence: The plan adherence (`plan_adherence`).

    Returns:
        One panel per measure (demand, supply, production), or a callout when nothing was compared.

    Example:
        >>> adherence_chart(fu.adherence)   # doctest: +SKIP
    """
    if adherence.empty:
        return _nothing("No planned month has actuals yet: plan adherence appears after the first cycle.")
    total = adherence.groupby(["measure", "month"], as_index=False)[["planned", "actual"]].sum()
    long = total.melt(
        id_vars=["measure", "month"], value_vars=["planned", "actual"], var_name="series", value_name="units"
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=_MONTH_AXIS,
            y=alt.Y("units:Q", title="units"),
            color=alt.Color("series:N", title=None),
            strokeDash=alt.StrokeDash("series:N", title=None),
            tooltip=["measure:N", "month:T", "series:N", alt.Tooltip("units:Q", format=",.0f")],
        )
        .properties(width=base.WIDTH, height=160)
        .facet(row=alt.Row("measure:N", title=None))
        .resolve_scale(y="independent")
    )


def family_accuracy_chart(accuracy: pd.DataFrame, lag: int = 1, months: int = 12) -> alt.Chart | Callout:
    """Heat map of the lag-`lag` accuracy (1 - WAPE) per family and target month.

    Args:
        accuracy: The accuracy by lag (`accuracy_by_lag`; fractions).
        lag: The lag to show.
        months: How many of the latest target months to show.

    Returns:
        A heat map with a percentage legend, or a callout when nothing was scored yet.

    Example:
        >>> family_accuracy_chart(fu.accuracy_by_lag, lag=3)   # doctest: +SKIP
    """
    rows = accuracy[(accuracy["lag"] == lag) & (accuracy["family"] != TOTAL)] if len(accuracy) else accuracy
    if rows.empty:
        return _nothing(
            f"No lag-{lag} forecast has been scored yet: accuracy per family appears after the first cycle."
        )
    rows = rows[rows["month"].isin(sorted(rows["month"].unique())[-months:])]
    data = rows.assign(
        month=pd.to_datetime(rows["month"]).dt.strftime("%Y-%m"), accuracy=(1 - rows["wape"]).clip(lower=0)
    )[["month", "family", "accuracy", "bias"]]
    return (
        alt.Chart(data, title=f"Accuracy per family, lag {lag}")
        .mark_rect()
        .encode(
            x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("family:N", title=None),
            color=alt.Color(
                "accuracy:Q",
                scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                "month:O",
                "family:N",
                alt.Tooltip("accuracy:Q", format=".1%"),
                alt.Tooltip("bias:Q", format="+.1%"),
            ],
        )
        .properties(width=base.WIDTH)
    )


def stability_chart(stability: pd.DataFrame) -> alt.Chart | Callout:
    """How much each cycle's plan moved against the one before, all families and per family.

    Args:
        stability: `stability_by_cycle` (`abs_change` and `net_change` fractions).

    Returns:
        A line chart of the nervousness (`abs_change`) by cycle, or a callout before the second cycle.

    Example:
        >>> stability_chart(fu.stability)   # doctest: +SKIP
    """
    if stability.empty:
        return _nothing("Plan stability needs two cycles' plans: the chart appears from the second cycle on.")
    data = stability.assign(cycle=pd.to_datetime(stability["period"] + "-01"))
    return (
        alt.Chart(data, title="Plan movement since the previous cycle (share of the previous plan)")
        .mark_line(point=True)
        .encode(
            x=alt.X("yearmonth(cycle):T", title="cycle", axis=alt.Axis(format="%b %Y", tickCount="month")),
            y=alt.Y("abs_change:Q", axis=alt.Axis(format="%"), title="moved (sum of |change|)"),
            color=alt.Color("family:N", title=None),
            strokeWidth=alt.condition(alt.datum.family == TOTAL, alt.value(3), alt.value(1)),
            tooltip=[
                alt.Tooltip("period:N", title="cycle"),
                "family:N",
                alt.Tooltip("abs_change:Q", format=".1%", title="moved"),
                alt.Tooltip("net_change:Q", format="+.1%", title="net change"),
            ],
        )
        .properties(width=base.WIDTH)
    )
