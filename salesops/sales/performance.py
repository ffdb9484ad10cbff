"""Quota attainment, deal metrics, rep comparison with robust outliers, top and bottom performers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frames
from ._frames import WON
from .pipeline import closed_deals, velocity

RUN_RATE_DAYS = 90
DAYS_PER_MONTH = 365.25 / 12
METRICS = {  # column: (label, format, higher is better)
    "attainment": ("attainment", "pct", True),
    "win_rate": ("win rate", "pct", True),
    "avg_deal": ("average deal", "money", True),
    "cycle_days": ("sales cycle (median, won)", "days", False),
    "coverage": ("pipeline coverage", "times", True),
    "activity_trend": ("new-deal trend", "pct", True),
    "closed": ("deals closed", "count", True),
}
MIN_REASON_Z = 0.5  # a metric closer than this to the median does not explain a performer
EXPLAIN_METRICS = ("win_rate", "avg_deal", "cycle_days", "closed")
OUTLIER_METRICS = ("attainment", "win_rate", "avg_deal", "cycle_days", "coverage")


def windows(as_of: pd.Timestamp) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """The month, quarter and year containing `as_of`: `(name, first day, last day)`.

    Args:
        as_of: The day the windows contain.

    Returns:
        `(name, first day, last day)` for the month, the quarter and the year.

    Example:
        >>> [(n, s.strftime("%Y-%m-%d")) for n, s, _ in windows(pd.Timestamp("2026-10-31"))]
        [('month', '2026-10-01'), ('quarter', '2026-10-01'), ('year', '2026-01-01')]
    """
    out = []
    for name, freq in (("month", "M"), ("quarter", "Q"), ("year", "Y")):
        period = as_of.to_period(freq)
        out.append((name, period.start_time.normalize(), period.end_time.normalize()))
    return out


def deal_metrics(
    opportunities: pd.DataFrame,
    as_of: pd.Timestamp,
    lookback_months: int | None = None,
    by: str | list[str] = "rep",
    reps: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Win rate, average won deal and sales cycle per group, from deals closed in the lookback window.

    Columns: the `by` columns, `closed, won, lost, win_rate, won_amount, avg_deal, cycle_days,
    cycle_days_all` with `win_rate = won / (won + lost)`, `avg_deal` the mean amount of won deals,
    `cycle_days` the sales cycle: the median days from engagement (`created_date`) to close of won
    deals, and `cycle_days_all` the same median over every closed deal (lost deals often close faster).
    Groups other than `rep` come from `reps` (team, region).

    Args:
        opportunities: The opportunities table.
        as_of: The last day counted.
        lookback_months: The months before `as_of` counted (default: all history).
        by: The column or columns to group by (`rep`, `team`, `region`).
        reps: The reps table, for groups other than `rep`.

    Returns:
        One row per group, with the columns above.

    Example:
        >>> deal_metrics(opps, pd.Timestamp("2026-10-31"), 12, by="team", reps=reps)  # doctest: +SKIP
    """
    by = [by] if isinstance(by, str) else list(by)
    opps = _frames.opportunities(opportunities)
    closed = closed_deals(opps, as_of, lookback_months).copy()
    if any(c != "rep" for c in by):
        roster = _frames.reps(reps, opps).loc[:, ["rep", "team", "region"]]
        closed = closed.merge(roster, on="rep", how="left")
    closed["is_won"] = closed["stage"] == WON
    closed["won_amount"] = closed["amount"].where(closed["is_won"])
    closed["cycle_days_all"] = (closed["close_date"] - closed["created_date"]).dt.days.astype(float)
    closed["cycle_days"] = closed["cycle_days_all"].where(closed["is_won"])
    out = (
        closed.groupby(by)
        .agg(
            closed=("stage", "size"),
            won=("is_won", "sum"),
            won_amount=("won_amount", "sum"),
            avg_deal=("won_amount", "mean"),
            cycle_days=("cycle_days", "median"),
            cycle_days_all=("cycle_days_all", "median"),
        )
        .reset_index()
    )
    out["lost"] = out["closed"] - out["won"]
    out["win_rate"] = (out["won"] / out["closed"]).astype(float)
    out["avg_deal"] = out["avg_deal"].astype(float)
    out["cycle_days"] = out["cycle_days"].astype(float)
    out["cycle_days_all"] = out["cycle_days_all"].astype(float)
    columns = ["closed", "won", "lost", "win_rate", "won_amount", "avg_deal", "cycle_days", "cycle_days_all"]
    return out.loc[:, by + columns]


def _won_deals(opps: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    won = opps.loc[(opps["stage"] == WON) & opps["close_date"].notna() & (opps["close_date"] <= as_of)]
    return won.loc[:, ["rep", "close_date", "amount"]]


def _quota_between(quotas: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.Series:
    """Quota per rep for the days from `start` to `end` inclusive (a partly covered month pro rata)."""
    q = quotas.copy()
    month_end = q["month"] + pd.offsets.MonthEnd(0)
    days = q["month"].dt.days_in_month
    first = q["month"].where(q["month"] > start, start)
    last = month_end.where(month_end < end, end)
    covered = ((last - first).dt.days + 1).clip(lower=0)
    return (q["quota"] * covered / days).groupby(q["rep"]).sum()


def _status(forecast_attainment: pd.Series, at_risk: float) -> pd.Series:
    status = np.select(
        [forecast_attainment.isna(), forecast_attainment >= 1.0, forecast_attainment >= at_risk],
        ["no quota", "on track", "at risk"],
        "behind",
    )
    return pd.Series(status, index=forecast_attainment.index)


def attainment(
    opportunities: pd.DataFrame,
    quotas: pd.DataFrame,
    reps: pd.DataFrame,
    pipeline: pd.DataFrame,
    as_of: pd.Timestamp,
    at_risk: float = 0.85,
) -> pd.DataFrame:
    """Quota attainment by rep, team, region and company for the month, quarter and year containing `as_of`.

    Columns: `level` (rep, team, region, company), `name, team, region, window, window_start,
    window_end, quota, quota_to_date, won, attainment, run_rate_remaining, pipeline_remaining, forecast,
    forecast_attainment, status`. `won` is won amount from the window start to `as_of`;
    `attainment = won / quota_to_date` (quota pro rata to `as_of`). The forecast to the window end
    is `won` plus the mean of two views of the remaining days: the run rate (won amount of the last
    90 days per day x remaining days) and the weighted open pipeline expected to close before the
    window end. `status` from `forecast / quota`: on track (>= 100%), at risk (>= `at_risk`), behind.

    Args:
        opportunities: The opportunities table.
        quotas: The quotas table (`rep, month, quota`).
        reps: The reps table (`rep, team, region`).
        pipeline: The open pipeline (`salesops.sales.pipeline.open_pipeline`).
        as_of: The day attainment is measured at.
        at_risk: The forecast attainment below which a rep on course to miss is `at risk` rather
            than `behind`.

    Returns:
        One row per level, name and window, with the columns above.

    Example:
        >>> attainment(opps, quotas, reps, open_pipeline(opps, as_of, probs), as_of)  # doctest: +SKIP
    """
    opps = _frames.opportunities(opportunities)
    roster = _frames.reps(reps, opps).loc[:, ["rep", "team", "region"]]
    q = _frames.quotas(quotas)
    roster = pd.concat(
        [
            roster,
            pd.DataFrame(
                {
                    "rep": sorted(set(q["rep"]) - set(roster["rep"])),
                    "team": _frames.UNKNOWN,
                    "region": _frames.UNKNOWN,
                }
            ),
        ],
        ignore_index=True,
    ).set_index("rep")
    columns = [
        "level",
        "name",
        "team",
        "region",
        "window",
        "window_start",
        "window_end",
        "quota",
        "quota_to_date",
        "won",
        "attainment",
        "run_rate_remaining",
        "pipeline_remaining",
        "forecast",
        "forecast_attainment",
        "status",
    ]
    if roster.empty:
        return pd.DataFrame(columns=columns)
    won = _won_deals(opps, as_of)
    recent = won.loc[won["close_date"] > as_of - pd.Timedelta(days=RUN_RATE_DAYS)]
    daily_rate = recent.groupby("rep")["amount"].sum().reindex(roster.index, fill_value=0.0) / RUN_RATE_DAYS
    frames = []
    for name, start, end in windows(as_of):
        remaining_days = max((end - as_of).days, 0)
        in_window = won.loc[won["close_date"] >= start]
        ahead = pipeline.loc[(pipeline["expected_close"] > as_of) & (pipeline["expected_close"] <= end)]
        rep_rows = (
            roster.assign(
                quota=_quota_between(q, start, end).reindex(roster.index),
                quota_to_date=_quota_between(q, start, min(as_of, end)).reindex(roster.index),
                won=in_window.groupby("rep")["amount"].sum().reindex(roster.index, fill_value=0.0),
                run_rate_remaining=daily_rate * remaining_days,
                pipeline_remaining=ahead.groupby("rep")["expected_amount"]
                .sum()
                .reindex(roster.index, fill_value=0.0),
            )
            .reset_index()
            .rename(columns={"index": "rep"})
        )
        rep_rows["forecast"] = (
            rep_rows["won"] + (rep_rows["run_rate_remaining"] + rep_rows["pipeline_remaining"]) / 2
        )
        levels = [rep_rows.assign(level="rep", name=rep_rows["rep"])]
        sums = ["quota", "quota_to_date", "won", "run_rate_remaining", "pipeline_remaining", "forecast"]
        for level, keys in (("team", ["team", "region"]), ("region", ["region"])):
            grouped = rep_rows.groupby(keys, dropna=False)[sums].sum(min_count=1).reset_index()
            levels.append(grouped.assign(level=level, name=grouped[level]))
        company = rep_rows[sums].sum(min_count=1).to_frame().T.assign(level="company", name="All")
        levels.append(company)
        frame = pd.concat(levels, ignore_index=True)
        frame["window"], frame["window_start"], frame["window_end"] = name, start, end
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    quota = out["quota"].where(out["quota"] > 0)
    out["attainment"] = out["won"] / out["quota_to_date"].where(out["quota_to_date"] > 0)
    out["forecast_attainment"] = out["forecast"] / quota
    out["status"] = _status(out["forecast_attainment"], at_risk)
    for col in sums:
        out[col] = out[col].astype(float)
    return out.loc[:, columns]


def robust_z(values: pd.Series) -> pd.Series:
    """Robust z-score: (x - median) / (1.4826 x MAD); when MAD is 0, 1.2533 x the mean absolute deviation
    from the median is the scale (Iglewicz & Hoaglin). Fewer than 3 values or no spread give NaN.

    Args:
        values: The values (NaN values are left out of the median and scale, and stay NaN).

    Returns:
        The robust z-score of each value, aligned with `values`.

    Example:
        >>> robust_z(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0])).round(2).tolist()
        [-1.35, -0.67, 0.0, 0.67, 65.43]
    """
    x = values.astype(float)
    valid = x.dropna()
    if len(valid) < 3:
        return pd.Series(np.nan, index=values.index)
    median = valid.median()
    scale = 1.4826 * (valid - median).abs().median()
    if scale == 0:
        scale = 1.2533 * (valid - median).abs().mean()
    if scale == 0:
        return pd.Series(np.nan, index=values.index)
    return (x - median) / scale


def _format(value: float, kind: str, currency: str = "") -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if kind == "pct":
        return f"{value:.0%}"
    if kind == "money":
        return f"{currency}{value:,.0f}".strip()
    if kind == "days":
        return f"{value:.0f} days"
    if kind == "count":
        return f"{value:,.0f}"
    return f"{value:.1f}x"


def rep_comparison(
    opportunities: pd.DataFrame,
    quotas: pd.DataFrame,
    reps: pd.DataFrame,
    pipeline: pd.DataFrame,
    as_of: pd.Timestamp,
    lookback_months: int = 12,
    outlier_z: float = 2.0,
) -> pd.DataFrame:
    """One row per rep: deal metrics, attainment, coverage, activity and velocity, with outliers vs the team.

    Over the `lookback_months` to `as_of`: `win_rate, avg_deal, cycle_days` (see `deal_metrics`),
    `won_amount, quota, attainment`. Forward: `open_deals, weighted_pipeline` (open pipeline x learned
    stage probability), `coverage` = weighted pipeline expected to close by the end of the next quarter
    in progress ÷ the quota still to win in it (`remaining_quota`); `velocity_per_month`. Activity:
    deals created in the last 3 months vs the 3 before (`activity_trend`). For each of attainment, win
    rate, average deal, cycle and coverage a robust z-score against the rep's team (`z_<metric>`);
    `outlier` when any |z| exceeds `outlier_z`, explained in `outlier_note`.

    Args:
        opportunities: The opportunities table.
        quotas: The quotas table (`rep, month, quota`).
        reps: The reps table (`rep, team, region`).
        pipeline: The open pipeline (`salesops.sales.pipeline.open_pipeline`).
        as_of: The day compared at.
        lookback_months: The months before `as_of` the deal metrics cover.
        outlier_z: The robust z-score beyond which a rep is an outlier against the team.

    Returns:
        One row per rep with the columns above.

    Example:
        >>> rep_comparison(opps, quotas, reps, pipe, pd.Timestamp("2026-10-31"))  # doctest: +SKIP
    """
    opps = _frames.opportunities(opportunities)
    roster = _frames.reps(reps, opps).loc[:, ["rep", "team", "region"]]
    q = _frames.quotas(quotas)
    metrics = deal_metrics(opps, as_of, lookback_months)
    out = roster.merge(metrics, on="rep", how="left")
    for col in ("closed", "won", "lost", "won_amount"):
        out[col] = out[col].fillna(0)
    start = (as_of - pd.DateOffset(months=lookback_months)) + pd.Timedelta(days=1)
    out["quota"] = out["rep"].map(_quota_between(q, start, as_of))
    out["attainment"] = out["won_amount"] / out["quota"].where(out["quota"] > 0)

    out["open_deals"] = out["rep"].map(pipeline.groupby("rep").size()).fillna(0).astype(int)
    out["weighted_pipeline"] = out["rep"].map(pipeline.groupby("rep")["expected_amount"].sum()).fillna(0.0)
    quarter = (as_of + pd.Timedelta(days=1)).to_period("Q")
    q_start, q_end = quarter.start_time.normalize(), quarter.end_time.normalize()
    won = _won_deals(opps, as_of)
    won_in_quarter = won.loc[won["close_date"] >= q_start].groupby("rep")["amount"].sum()
    quarter_quota = out["rep"].map(_quota_between(q, q_start, q_end))
    out["remaining_quota"] = (quarter_quota - out["rep"].map(won_in_quarter).fillna(0.0)).clip(lower=0)
    closing = pipeline.loc[pipeline["expected_close"] <= q_end].groupby("rep")["expected_amount"].sum()
    out["coverage"] = out["rep"].map(closing).fillna(0.0) / out["remaining_quota"].where(
        out["remaining_quota"] > 0
    )

    created = opps.loc[opps["created_date"].notna()]
    last = created.loc[
        created["created_date"].between(as_of - pd.DateOffset(months=3), as_of, inclusive="right")
    ]
    prev = created.loc[
        created["created_date"].between(
            as_of - pd.DateOffset(months=6), as_of - pd.DateOffset(months=3), inclusive="right"
        )
    ]
    out["activity_last_3m"] = out["rep"].map(last.groupby("rep").size()).fillna(0).astype(int)
    out["activity_prev_3m"] = out["rep"].map(prev.groupby("rep").size()).fillna(0).astype(int)
    out["activity_trend"] = (out["activity_last_3m"] - out["activity_prev_3m"]) / out[
        "activity_prev_3m"
    ].where(out["activity_prev_3m"] > 0)
    out["velocity_per_month"] = [
        velocity(n, w, a, c) * DAYS_PER_MONTH
        for n, w, a, c in zip(out["open_deals"], out["win_rate"], out["avg_deal"], out["cycle_days"])
    ]

    notes = pd.Series([[] for _ in range(len(out))], index=out.index)
    for metric in OUTLIER_METRICS:
        z = out.groupby("team")[metric].transform(robust_z)
        out[f"z_{metric}"] = z
        team_median = out.groupby("team")[metric].transform("median")
        label, kind, _ = METRICS[metric]
        for i in out.index[z.abs() > outlier_z]:
            side = "above" if z[i] > 0 else "below"
            notes[i].append(
                f"{label} {_format(out.at[i, metric], kind)} {side} team median "
                f"{_format(team_median[i], kind)} (z {z[i]:+.1f})"
            )
    out["outlier"] = notes.map(bool)
    out["outlier_note"] = notes.map("; ".join)
    return out.sort_values(["team", "rep"]).reset_index(drop=True)


def performers(comparison: pd.DataFrame, n: int = 3, currency: str = "", span: str = "") -> pd.DataFrame:
    """The `n` top and `n` bottom reps by attainment (won amount when no rep has a quota), each with a
    sentence on what sets them apart: of win rate, average deal, cycle and deals closed, the two furthest
    from the sales force's median (robust z) in the performer's direction.

    Columns `group, rank, rep, team, attainment, won_amount, why`; `span` (e.g. "over 12 months") is
    added to the sentence after the attainment.

    Args:
        comparison: One row per rep (`rep_comparison`).
        n: How many top and bottom reps.
        currency: The currency symbol of amounts in the sentences.
        span: The period the attainment covers, for the sentence (e.g. "over 12 months").

    Returns:
        `group, rank, rep, team, attainment, won_amount, why`: the top reps, then the bottom ones.

    Example:
        >>> performers(rep_comparison(...), n=2)  # doctest: +SKIP
    """
    columns = ["group", "rank", "rep", "team", "attainment", "won_amount", "why"]
    if comparison.empty:
        return pd.DataFrame(columns=columns)
    key = "attainment" if comparison["attainment"].notna().any() else "won_amount"
    ranked = comparison.loc[comparison[key].notna()].sort_values(key, ascending=False).reset_index(drop=True)
    top = ranked.head(n)
    bottom = ranked.iloc[len(top) :].tail(n).iloc[::-1]
    explain = list(EXPLAIN_METRICS)
    z = pd.DataFrame({m: robust_z(comparison[m]) for m in explain}).set_axis(comparison["rep"])
    medians = comparison[explain].median()
    rows = []
    for group, frame in (("top", top), ("bottom", bottom)):
        for rank, row in enumerate(frame.itertuples(index=False), start=1):
            scores = z.loc[row.rep].dropna()
            wanted = scores if group == "top" else -scores
            signed = pd.Series({m: wanted[m] * (1 if METRICS[m][2] else -1) for m in wanted.index})
            reasons = signed.sort_values(ascending=False).head(2)
            reasons = reasons[reasons >= MIN_REASON_Z].index
            parts = [
                f"{METRICS[m][0]} {_format(getattr(row, m), METRICS[m][1], currency)} vs median "
                f"{_format(medians[m], METRICS[m][1], currency)}"
                for m in reasons
            ]
            headline = (
                f"{_format(row.attainment, 'pct')} of quota"
                if key == "attainment"
                else f"{_format(row.won_amount, 'money', currency)} won"
            )
            why = f"{row.rep} ({row.team}) is at {headline}" + (f" {span}" if span else "")
            why += (": " + ", ".join(parts) + ".") if parts else "; no single metric stands out."
            rows.append(
                {
                    "group": group,
                    "rank": rank,
                    "rep": row.rep,
                    "team": row.team,
                    "attainment": row.attainment,
                    "won_amount": row.won_amount,
                    "why": why,
                }
            )
    return pd.DataFrame(rows, columns=columns)
