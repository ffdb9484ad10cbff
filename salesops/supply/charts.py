"""Altair charts of the supply plan (static SVG through `salesops.charts`' theme and renderer)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts as base
from .planning import SupplyPlan
from .views import STRATEGY_NAMES

STATUS_COLOURS = alt.Scale(
    domain=["ok", "needs overtime", "over capacity"], range=["#1f4e79", "#e07b39", "#b3261e"]
)


def capacity_load_chart(sp: SupplyPlan) -> alt.FacetChart | alt.Chart:
    """Required hours per resource and month (bars coloured by status) against regular hours (line)
    and regular + overtime hours (dashed line), one panel per resource.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The faceted Altair chart, or a chart with one sentence when no resource has capacity limits.
    """
    load = sp.capacity_load.copy()
    if load.empty:
        return (
            alt.Chart(pd.DataFrame({"text": ["No resource has capacity limits."]}))
            .mark_text()
            .encode(text="text")
        )
    load["ceiling"] = load["available_hours"] + load["overtime_hours"]
    bar_width = max(4, int(0.6 * base.WIDTH / max(load["month"].nunique(), 1)))
    bars = (
        alt.Chart()
        .mark_bar(opacity=0.85, size=bar_width)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %y")),
            y=alt.Y("required_hours:Q", title="Hours"),
            color=alt.Color("status:N", scale=STATUS_COLOURS, title="demand plan load"),
            tooltip=[
                "resource",
                alt.Tooltip("month:T", format="%Y-%m"),
                alt.Tooltip("required_hours:Q", format=",.0f"),
                alt.Tooltip("available_hours:Q", format=",.0f"),
                alt.Tooltip("utilisation:Q", format=".0%"),
            ],
        )
    )
    regular = alt.Chart().mark_line(color="#222", strokeWidth=2).encode(x="month:T", y="available_hours:Q")
    ceiling = alt.Chart().mark_line(color="#222", strokeDash=[4, 3]).encode(x="month:T", y="ceiling:Q")
    return (
        alt.layer(bars, regular, ceiling, data=load)
        .properties(width=base.WIDTH, height=150)
        .facet(
            row=alt.Row(
                "resource:N",
                title=None,
                header=alt.Header(labelAngle=0, labelAlign="left", labelFontWeight="bold"),
            ),
        )
        .properties(
            title="Capacity load: demand plan hours vs regular (solid) and regular + overtime (dashed)"
        )
    )


def strategy_cost_chart(sp: SupplyPlan) -> alt.Chart:
    """Costs that differ between strategies (overtime, holding, backlog, lost sales), stacked.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The Altair chart: one stacked bar per strategy.
    """
    s = sp.strategy_summary
    parts = {
        "overtime_cost": "Overtime",
        "holding_cost": "Holding",
        "backlog_cost": "Backlog",
        "lost_sales_cost": "Lost sales",
    }
    long = s.melt(
        id_vars=["strategy", "fill_rate"], value_vars=list(parts), var_name="part", value_name="cost"
    )
    long["part"] = long["part"].map(parts)
    long["strategy"] = long["strategy"].map(STRATEGY_NAMES)
    order = [STRATEGY_NAMES[k] for k in s["strategy"]]
    return (
        alt.Chart(long, title="Controllable costs by strategy (production at standard cost excluded)")
        .mark_bar()
        .encode(
            y=alt.Y("strategy:N", sort=order, title=None),
            x=alt.X("sum(cost):Q", title="Cost over the horizon (money)"),
            color=alt.Color("part:N", title=None, sort=list(parts.values())),
            tooltip=["strategy", "part", alt.Tooltip("cost:Q", format=",.0f")],
        )
        .properties(width=base.WIDTH, height=110)
    )


def strategy_production_chart(sp: SupplyPlan) -> alt.Chart:
    """Total production per month under each strategy, against the demand plan.

    Args:
        sp: The supply plan (`SupplyPlan`).

    Returns:
        The Altair chart: one line per strategy and one for the demand plan.
    """
    p = sp.production_plan.groupby(["strategy", "month"], as_index=False)[["production", "demand"]].sum()
    demand = p[p["strategy"] == p["strategy"].iloc[0]].assign(
        series="Demand plan", units=lambda f: f["demand"]
    )
    made = p.assign(series=p["strategy"].map(STRATEGY_NAMES), units=p["production"])
    frame = pd.concat([demand, made])[["series", "month", "units"]]
    order = ["Demand plan", *STRATEGY_NAMES.values()]
    return (
        alt.Chart(frame, title="Units made per month by strategy, all families")
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, axis=alt.Axis(format="%b %y")),
            y=alt.Y("units:Q", title="Units"),
            color=alt.Color(
                "series:N",
                sort=order,
                title=None,
                scale=alt.Scale(domain=order, range=["#999999", "#e07b39", "#3f8f5f", "#1f4e79"]),
            ),
            strokeDash=alt.condition(alt.datum.series == "Demand plan", alt.value([5, 3]), alt.value([1, 0])),
        )
        .properties(width=base.WIDTH, height=220)
    )


def projection_chart(sp: SupplyPlan, skus: list[str], columns: int = 2) -> alt.FacetChart | alt.Chart:
    """Projected stock (line) against safety stock (dashed) and shortages (red bars below zero), per SKU.

    Args:
        sp: The supply plan (`SupplyPlan`).
        skus: The SKUs shown, one panel each (e.g. `top_risk_skus`).
        columns: The number of panels per row.

    Returns:
        The faceted Altair chart, or a chart with one sentence when `skus` has no projection.
    """
    p = sp.inventory_projection[sp.inventory_projection["unique_id"].isin(skus)].copy()
    if p.empty:
        return alt.Chart(pd.DataFrame({"text": ["No SKU at risk."]})).mark_text().encode(text="text")
    p["short"] = -p["shortage"]
    x = alt.X("month:T", title=None, axis=alt.Axis(format="%b %y"))
    tip = [
        alt.Tooltip("unique_id:N", title="SKU"),
        alt.Tooltip("month:T", title="Month", format="%b %Y"),
        alt.Tooltip("on_hand:Q", title="On hand (units)", format=",.0f"),
        alt.Tooltip("safety_stock:Q", title="Safety stock (units)", format=",.0f"),
        alt.Tooltip("demand:Q", title="Demand (units)", format=",.0f"),
        alt.Tooltip("shortage:Q", title="Shortage (units)", format=",.0f"),
    ]
    stock = (
        alt.Chart()
        .mark_area(opacity=0.35, line={"color": "#1f4e79"}, color="#5b8fb9")
        .encode(x=x, y=alt.Y("on_hand:Q", title="Units"), tooltip=tip)
    )
    safety = (
        alt.Chart().mark_line(color="#3f8f5f", strokeDash=[4, 3]).encode(x=x, y="safety_stock:Q", tooltip=tip)
    )
    demand = alt.Chart().mark_line(color="#777", strokeWidth=1).encode(x=x, y="demand:Q", tooltip=tip)
    short = alt.Chart().mark_bar(color="#b3261e").encode(x=x, y="short:Q", tooltip=tip)
    return (
        alt.layer(stock, safety, demand, short, data=p)
        .properties(width=290, height=140)
        .facet(
            facet=alt.Facet("unique_id:N", title=None, sort=skus),
            columns=columns,
        )
        .resolve_scale(y="independent")
        .properties(
            title="On hand (blue), safety stock (green dashed), demand (grey), shortage (red, below zero)"
        )
    )
