"""Display pieces of the follow-up report: tables shaped for reading, their formats, callout and tiles.

The products hold fractions; `PERCENT_FORMATS` shows them as percentages in `salesops.report.table`.
"""

from __future__ import annotations

import math

import pandas as pd

from ..report import Callout, Tiles, callout, tiles
from ._frames import TOTAL
from .accuracy import REPORTED_LAGS
from .step import FollowUp

__all__ = [
    "PERCENT_FORMATS",
    "status_callout",
    "summary_tiles",
    "trend_table",
    "value_add_table",
]

PERCENT_FORMATS = {
    "wape": ".1%",
    "mape": ".1%",
    "bias": "+.1%",
    "accuracy": ".1%",
    "wape_statistical": ".1%",
    "wape_naive": ".1%",
    "wape_consensus": ".1%",
    "statistical_vs_naive": "+.1%",
    "consensus_vs_statistical": "+.1%",
    "consensus_vs_naive": "+.1%",
    "fill_rate": ".1%",
    "service_level": ".1%",
    "deviation_pct": "+.1%",
    "tracking_signal": "+.2f",
    **{f"accuracy_lag{k}": ".1%" for k in range(1, 25)},
    **{f"bias_lag{k}": "+.1%" for k in range(1, 25)},
}
"""Column formats for `salesops.report.table`: the fractions of the products as percentages."""


def value_add_table(value_add_frame: pd.DataFrame, lags=REPORTED_LAGS) -> pd.DataFrame:
    """The value-add table of the report, one row per cycle and reported lag.

    Args:
        value_add_frame: The value add (`value_add`).
        lags: The lags to show.

    Returns:
        `period, lag`, the WAPE of each forecast and the WAPE gained by the statistical forecast over
        the naive one and by the consensus over the statistical one (fractions; format with
        `PERCENT_FORMATS`).

    Example:
        >>> table(value_add_table(fu.value_add), formats=PERCENT_FORMATS)   # doctest: +SKIP
    """
    rows = value_add_frame[value_add_frame["lag"].isin(list(lags))]
    columns = [
        "period",
        "lag",
        "wape_naive",
        "wape_statistical",
        "wape_consensus",
        "statistical_vs_naive",
        "consensus_vs_statistical",
    ]
    return rows[columns].sort_values(["lag", "period"]).reset_index(drop=True)


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend as one row per target month, the reported lags side by side.

    Args:
        trend: The accuracy trend (`accuracy_trend`).

    Returns:
        `month, accuracy_lag1, accuracy_lag3, bias_lag1, bias_lag3` (one column per lag in `trend`;
        fractions, format with `PERCENT_FORMATS`); only `month` when nothing was scored.

    Example:
        >>> table(trend_table(fu.trend), formats=PERCENT_FORMATS)   # doctest: +SKIP
    """
    if trend.empty:
        return pd.DataFrame(columns=["month"])
    wide = trend.pivot_table(index="month", columns="lag", values=["accuracy", "bias"], aggfunc="first")
    wide.columns = [f"{measure}_lag{lag}" for measure, lag in wide.columns]
    return wide.reset_index()


def status_callout(fu: FollowUp) -> Callout:
    """One sentence on the state of follow-up: first run, alerts, or all clear.

    Args:
        fu: The follow-up (`run`).

    Returns:
        A callout: info on a first run, bad or warn when alerts fired, else good.

    Example:
        >>> status_callout(so.followup.run(ctx))   # doctest: +SKIP
    """
    if fu.first_run:
        return callout(" ".join(fu.notes), "info")
    if len(fu.alerts):
        errors = int((fu.alerts["severity"] == "error").sum())
        return callout(
            f"{len(fu.alerts)} alert(s) fired ({errors} error(s)); they are listed first below. "
            + " ".join(fu.notes),
            "bad" if errors else "warn",
        )
    return callout(
        "No alert fired: accuracy, bias, service and decisions are within the thresholds. "
        + " ".join(fu.notes),
        "good",
    )


def _latest(frame: pd.DataFrame, column: str, **where) -> tuple[float, str]:
    rows = frame
    for key, value in where.items():
        rows = rows[rows[key] == value] if len(rows) else rows
    if rows.empty:
        return math.nan, "no data yet"
    row = rows.sort_values("month").iloc[-1]
    return float(row[column]), f"{pd.Timestamp(row['month']):%Y-%m}"


def _pct(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.0%}"


def summary_tiles(fu: FollowUp) -> Tiles:
    """KPI tiles: alerts, latest lag-1 and lag-3 accuracy, latest fill rate, open and overdue decisions.

    Args:
        fu: The follow-up (`run`).

    Returns:
        Five tiles; the fractions are shown as percentages.

    Example:
        >>> summary_tiles(so.followup.run(ctx))   # doctest: +SKIP
    """
    lag1, m1 = _latest(fu.accuracy_by_lag, "wape", family=TOTAL, lag=1)
    lag3, m3 = _latest(fu.accuracy_by_lag, "wape", family=TOTAL, lag=3)
    fill, mf = _latest(fu.service, "fill_rate", family=TOTAL)
    open_ = int((fu.decision_log["state"].isin(["open", "overdue"])).sum()) if len(fu.decision_log) else 0
    overdue = int(fu.decision_log["overdue"].astype(bool).sum()) if len(fu.decision_log) else 0
    return tiles(
        [
            ("Alerts", str(len(fu.alerts)), "fired this cycle", "bad" if len(fu.alerts) else "good"),
            ("Accuracy, lag 1", _pct(1 - lag1), m1, "info"),
            ("Accuracy, lag 3", _pct(1 - lag3), m3, "info"),
            (
                "Fill rate (est.)",
                _pct(fill),
                mf,
                "info" if math.isnan(fill) else "good" if fill >= fu.service_target else "warn",
            ),
            ("Decisions open", str(open_), f"{overdue} overdue", "bad" if overdue else "good"),
        ]
    )
