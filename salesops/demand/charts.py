"""Charts of the demand planning report (Altair, static SVG through salesops.charts' renderer)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts as base

__all__ = ["accuracy_chart", "family_chart", "model_mix_chart"]


def family_chart(view: pd.DataFrame, history_months: int = 24, columns: int = 2) -> alt.FacetChart:
    """History and consensus plan by family with the 80% interval; one panel per family.

    Args:
        view: `DemandPlan.family_view()`: `family, ds, units, lo_80, hi_80, series`.
        history_months: The months of history shown before the plan.
        columns: The number of panels per row.

    Returns:
        The faceted Altair chart.

    Example:
        >>> family_chart(dp.family_view())  # doctest: +SKIP
    """
    start = view.loc[view["series"] != "history", "ds"].min() - pd.DateOffset(months=history_months)
    frame = view[view["ds"] >= start]
    band = (
        alt.Chart()
        .mark_area(opacity=0.2, color=base.PALETTE[1])
        .encode(
            x=alt.X("ds:T", title=None),
            y=alt.Y("lo_80:Q", title="Units"),
            y2="hi_80:Q",
            tooltip=[
                alt.Tooltip("family:N", title="Family"),
                alt.Tooltip("ds:T", title="Month", format="%b %Y"),
                alt.Tooltip("lo_80:Q", title="80% interval, low (units)", format=",.0f"),
                alt.Tooltip("hi_80:Q", title="80% interval, high (units)", format=",.0f"),
            ],
        )
    )
    line = (
        alt.Chart()
        .mark_line()
        .encode(
            x=alt.X("ds:T", title=None),
            y=alt.Y("units:Q", title="Units"),
            color=alt.Color(
                "series:N", title=None, scale=alt.Scale(range=[base.PALETTE[1], base.PALETTE[0]])
            ),
        )
    )
    return (
        alt.layer(band, line, data=frame)
        .properties(width=280, height=140)
        .facet(facet=alt.Facet("family:N", title=None), columns=columns)
        .resolve_scale(y="independent")
    )


def model_mix_chart(mix: pd.DataFrame) -> alt.Chart:
    """SKUs per model (`DemandPlan.model_mix()`), as horizontal bars.

    Args:
        mix: `DemandPlan.model_mix()`: `model, skus`.

    Returns:
        The Altair chart.
    """
    return base.bar(mix, x="skus", y="model", horizontal=True, title="Model chosen per SKU")


def accuracy_chart(accuracy: pd.DataFrame) -> alt.Chart:
    """Backtest WAPE by model, the statistical forecast highlighted.

    Args:
        accuracy: The backtest accuracy by model (`model, wape`, as `DemandPlan` holds it).

    Returns:
        The Altair chart: one horizontal bar per model.
    """
    frame = accuracy.assign(
        kind=accuracy["model"].map(
            lambda m: (
                "default" if m == "statistical" else ("benchmark" if m == "seasonal naive" else "member")
            )
        )
    )
    return (
        alt.Chart(frame, title="Backtest WAPE by model (lower is better)")
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort="x", title=None),
            x=alt.X("wape:Q", title="WAPE (%)", axis=alt.Axis(format="%")),
            color=alt.Color("kind:N", title=None),
        )
        .properties(width=base.WIDTH)
    )
