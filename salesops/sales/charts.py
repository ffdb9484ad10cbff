"""Charts of the sales performance report (Altair, drawn as static SVG by `salesops.charts`)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import charts as base

ROW_HEIGHT = 16


def attainment_chart(attainment: pd.DataFrame, window: str = "quarter") -> alt.Chart:
    """Forecast attainment per rep for `window` (bars coloured by team), the share of quota already won
    (black tick) and the 100% line.

    Args:
        attainment: Attainment by level and window (`salesops.sales.performance.attainment`).
        window: The quota window shown: `month`, `quarter` or `year`.

    Returns:
        The Altair chart, one bar per rep with a quota.

    Example:
        >>> attainment_chart(sp.attainment, "quarter")  # doctest: +SKIP
    """
    reps = attainment.loc[(attainment["level"] == "rep") & (attainment["window"] == window)].copy()
    reps = reps.loc[reps["quota"] > 0]
    reps["won_share"] = reps["won"] / reps["quota"]
    order = reps.sort_values("forecast_attainment", ascending=False)["name"].tolist()
    y = alt.Y("name:N", sort=order, title=None)
    base_chart = alt.Chart(reps)
    bars = base_chart.mark_bar(opacity=0.85).encode(
        y=y,
        x=alt.X("forecast_attainment:Q", axis=alt.Axis(format="%"), title=f"forecast attainment ({window})"),
        color=alt.Color("team:N", title="team"),
        tooltip=[
            "name",
            "team",
            alt.Tooltip("forecast_attainment:Q", format=".0%"),
            alt.Tooltip("won_share:Q", format=".0%"),
            "status",
        ],
    )
    ticks = base_chart.mark_tick(color="black", thickness=2, size=ROW_HEIGHT - 4).encode(
        y=y,
        x="won_share:Q",
        tooltip=["name", "team", alt.Tooltip("won_share:Q", format=".0%")],
    )
    target = (
        alt.Chart(pd.DataFrame({"x": [1.0]}))
        .mark_rule(color="#b3261e", strokeDash=[4, 3])
        .encode(x="x:Q", tooltip=[alt.Tooltip("x:Q", title="Quota (100%)", format=".0%")])
    )
    return (bars + ticks + target).properties(
        width=base.WIDTH - 120,
        height=max(ROW_HEIGHT * len(reps), 60),
        title=f"Forecast quota attainment by rep, {window} (tick: already won)",
    )


def funnel_chart(funnel: pd.DataFrame) -> alt.Chart:
    """Deals that reached each stage, labelled with the conversion to the next stage.

    Args:
        funnel: The stage funnel (`salesops.sales.pipeline.funnel`).

    Returns:
        The Altair chart, one bar per open stage and won.

    Example:
        >>> funnel_chart(sp.funnel)  # doctest: +SKIP
    """
    frame = funnel.loc[funnel["stage"] != "lost"].copy()
    frame["label"] = [
        f"{r:,.0f}" + (f"  → {c:.0%}" if pd.notna(c) else "")
        for r, c in zip(frame["reached"], frame["conversion_to_next"])
    ]
    y = alt.Y("stage:N", sort=frame["stage"].tolist(), title=None)
    bars = (
        alt.Chart(frame)
        .mark_bar(color=base.PALETTE[0])
        .encode(y=y, x=alt.X("reached:Q", title="Deals that reached the stage"))
    )
    text = alt.Chart(frame).mark_text(align="left", dx=4).encode(y=y, x="reached:Q", text="label:N")
    return (bars + text).properties(
        width=base.WIDTH - 160,
        height=ROW_HEIGHT * 2 * len(frame),
        title="Stage funnel (label: conversion to the next stage)",
    )


def pipeline_forecast_chart(forecast: pd.DataFrame, months: int = 12) -> alt.Chart:
    """Expected won amount by expected close month, stacked by product family (first `months` months).

    Args:
        forecast: The pipeline forecast `ds, sku, family, units, amount` (`pipeline_forecast`).
        months: The number of close months shown, from the first.

    Returns:
        The Altair chart.

    Example:
        >>> pipeline_forecast_chart(sp.pipeline_forecast)  # doctest: +SKIP
    """
    frame = forecast.copy()
    frame["family"] = frame["family"].astype("string").fillna("no SKU")
    frame = frame.groupby(["ds", "family"], as_index=False)["amount"].sum()
    first = sorted(frame["ds"].unique())[:months]
    frame = frame.loc[frame["ds"].isin(first)]
    return (
        alt.Chart(frame, title="Pipeline forecast: expected won amount by close month")
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(ds):O", title=None),
            y=alt.Y("sum(amount):Q", title="expected amount"),
            color=alt.Color("family:N", title="family"),
            tooltip=[
                alt.Tooltip("yearmonth(ds):T", title="Close month", format="%b %Y"),
                "family",
                alt.Tooltip("sum(amount):Q", title="Expected amount (money)", format=",.0f"),
            ],
        )
        .properties(width=base.WIDTH)
    )


def enps_chart(enps: pd.DataFrame, months: int = 24) -> alt.Chart:
    """eNPS by month per team over the last `months` months (suppressed months left blank), the company
    line in black.

    Args:
        enps: eNPS per team and month (`salesops.sales.enps.enps`).
        months: The number of months shown, up to the latest.

    Returns:
        The Altair chart.

    Example:
        >>> enps_chart(sp.enps)  # doctest: +SKIP
    """
    frame = enps.loc[:, ["team", "month", "enps"]].copy()
    frame["enps"] = frame["enps"].astype(float)
    if len(frame):
        frame = frame.loc[frame["month"] > frame["month"].max() - pd.DateOffset(months=months)]
    teams = frame.loc[frame["team"] != "All"]
    company = frame.loc[frame["team"] == "All"]
    lines = (
        alt.Chart(teams)
        .mark_line(point=True, opacity=0.7)
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("enps:Q", title="eNPS", scale=alt.Scale(domain=[-100, 100])),
            color=alt.Color("team:N", title="team"),
        )
    )
    total = alt.Chart(company).mark_line(color="black", strokeWidth=3).encode(x="month:T", y="enps:Q")
    zero = (
        alt.Chart(pd.DataFrame({"y": [0]}))
        .mark_rule(color="#999")
        .encode(y="y:Q", tooltip=[alt.Tooltip("y:Q", title="eNPS zero line (points)")])
    )
    return (zero + lines + total).properties(width=base.WIDTH, title="eNPS by team (black: company)")


def calibration_chart(calibration: pd.DataFrame) -> alt.Chart:
    """The pipeline backtest: per month, what the pipeline at the month's start expected to win in the
    month (bars) against what those deals won (line) and all deals won (dashed).

    Args:
        calibration: The backtest (`salesops.sales.pointintime.calibration`).

    Returns:
        The Altair chart.

    Example:
        >>> calibration_chart(sp.pipeline_calibration)  # doctest: +SKIP
    """
    frame = calibration.melt(
        id_vars="month", value_vars=["expected", "won", "won_all"], var_name="measure", value_name="amount"
    )
    frame["measure"] = frame["measure"].map(
        {"expected": "expected (pipeline)", "won": "won (those deals)", "won_all": "won (all deals)"}
    )
    bars = (
        alt.Chart(frame.loc[frame["measure"] == "expected (pipeline)"])
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("yearmonth(month):T", title=None),
            y=alt.Y("amount:Q", title="amount"),
            color=alt.Color("measure:N", title=None),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="month"),
                "measure",
                alt.Tooltip("amount:Q", format=",.0f"),
            ],
        )
    )
    lines = (
        alt.Chart(frame.loc[frame["measure"] != "expected (pipeline)"])
        .mark_line(point=True)
        .encode(
            x="yearmonth(month):T",
            y="amount:Q",
            color="measure:N",
            strokeDash=alt.StrokeDash("measure:N", legend=None),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="month"),
                "measure",
                alt.Tooltip("amount:Q", format=",.0f"),
            ],
        )
    )
    return (bars + lines).properties(
        width=base.WIDTH - 120, height=220, title="Pipeline backtest: expected vs won in each month"
    )


def territory_chart(territories: pd.DataFrame) -> alt.Chart:
    """Leads received per rep against the fair share by capacity and tenure (tick), coloured by region.

    Args:
        territories: The `territories` table (`salesops.sales.territories.territories`).

    Returns:
        The Altair chart, one bar per rep.

    Example:
        >>> territory_chart(sp.territories)  # doctest: +SKIP
    """
    reps = territories.loc[territories["level"] == "rep"]
    order = reps.sort_values("leads", ascending=False)["name"].tolist()
    y = alt.Y("name:N", sort=order, title=None)
    chart = alt.Chart(reps)
    bars = chart.mark_bar(opacity=0.85).encode(
        y=y,
        x=alt.X("leads:Q", title="leads received"),
        color=alt.Color("region:N", title="region"),
        tooltip=[
            "name",
            "region",
            "leads",
            alt.Tooltip("fair_leads:Q", format=",.0f"),
            alt.Tooltip("win_rate:Q", format=".0%"),
        ],
    )
    ticks = chart.mark_tick(color="black", thickness=2, size=ROW_HEIGHT - 4).encode(
        y=y, x="fair_leads:Q", tooltip=["name", alt.Tooltip("fair_leads:Q", format=",.0f")]
    )
    return (bars + ticks).properties(
        width=base.WIDTH - 120,
        height=max(ROW_HEIGHT * len(reps), 60),
        title="Leads per rep (tick: fair share by capacity and tenure)",
    )
