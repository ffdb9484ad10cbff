"""The pre-S&OP chart (Altair, drawn as static SVG in the reports)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .financials import family_balance

__all__ = ["balance_chart"]


def balance_chart(gap: pd.DataFrame, currency: str = "USD", months: int = 12) -> alt.Chart:
    """Grouped bars per family: demand plan, supply plan (shipped) and budget revenue.

    Args:
        gap: The gaps (`gaps`).
        currency: The currency named on the axis.
        months: How many budgeted months to sum (`family_balance`).

    Returns:
        The Altair chart.
    """
    tidy = family_balance(gap, months)
    tidy["value_m"] = tidy["value"] / 1e6
    months = int(tidy["months"].iloc[0]) if len(tidy) else 0
    order = ["Demand plan", "Supply plan", "Budget"]
    return (
        alt.Chart(tidy, title=f"Revenue by family, next {months} months")
        .mark_bar()
        .encode(
            y=alt.Y(
                "family:N", title=None, sort=alt.EncodingSortField("value", op="max", order="descending")
            ),
            yOffset=alt.YOffset("measure:N", sort=order),
            x=alt.X("value_m:Q", title=f"{currency} millions"),
            color=alt.Color(
                "measure:N",
                sort=order,
                title=None,
                scale=alt.Scale(domain=order, range=["#1f4e79", "#3f8f5f", "#c9a227"]),
                legend=alt.Legend(orient="top"),
            ),
        )
        .properties(width=560, height=alt.Step(5))
    )
