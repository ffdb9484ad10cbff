"""How right past forecasts were: scored forecasts, accuracy by lag, value add, bias and the trend.

Every metric here is a fraction (0.25, not 25): WAPE, MAPE, bias, value add and accuracy. Reports
format them as percentages (`salesops.followup.tables.PERCENT_FORMATS`, the charts' `%` axes).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import metrics
from ._frames import TOTAL, empty, from_month_number, month_number, period_start
from .past_plans import PastPlans

__all__ = [
    "ACCURACY_COLUMNS",
    "BIAS_COLUMNS",
    "REPORTED_LAGS",
    "SCORED_COLUMNS",
    "TREND_COLUMNS",
    "VALUE_ADD_COLUMNS",
    "accuracy_by_lag",
    "accuracy_trend",
    "bias_by_family",
    "scored_forecasts",
    "seasonal_naive",
    "value_add",
]

REPORTED_LAGS = (1, 3)
SCORED_COLUMNS = [
    "period",
    "month",
    "lag",
    "unique_id",
    "family",
    "source",
    "actual",
    "consensus",
    "statistical",
    "naive",
]
ACCURACY_COLUMNS = [
    "period",
    "month",
    "lag",
    "family",
    "source",
    "series",
    "actual",
    "consensus",
    "statistical",
    "naive",
    "wape",
    "mape",
    "bias",
    "wape_statistical",
    "wape_naive",
]
VALUE_ADD_COLUMNS = [
    "period",
    "month",
    "lag",
    "source",
    "wape_naive",
    "wape_statistical",
    "wape_consensus",
    "statistical_vs_naive",
    "consensus_vs_statistical",
    "consensus_vs_naive",
]
BIAS_COLUMNS = [
    "family",
    "months",
    "first_month",
    "last_month",
    "actual",
    "forecast",
    "bias",
    "mad",
    "tracking_signal",
]
TREND_COLUMNS = ["month", "lag", "period", "wape", "accuracy", "bias"]


def seasonal_naive(history: pd.DataFrame, plans: pd.DataFrame, season_length: int = 12) -> pd.Series:
    """The seasonal naive forecast each plan row's cycle could have made (aligned with `plans`).

    For a row made in cycle P for month M, the value is y at M - season_length*k for the smallest k
    that lands before P; else the series' last value before P; else 0.

    Args:
        history: `unique_id, ds, y` monthly actuals.
        plans: Rows with `period` (the cycle, `YYYY-MM`), `unique_id` and `ds` (the target month).
        season_length: Months in a season.

    Returns:
        The naive forecast of each row of `plans`, on its index.

    Example:
        >>> seasonal_naive(history, plans.assign(period="2026-03"))   # doctest: +SKIP
    """
    if plans.empty:
        return pd.Series(dtype="float64", index=plans.index)
    made = month_number(plans["period"].astype(str) + "-01")
    target = month_number(plans["ds"])
    step = target - made  # 0 for lag 1
    source = target - season_length * (step // season_length + 1)
    rows = pd.DataFrame(
        {
            "unique_id": plans["unique_id"].astype(str).to_numpy(),
            "made": made,
            "m": source,
            "row": np.arange(len(plans)),
        }
    )
    hist = pd.DataFrame(
        {
            "unique_id": history["unique_id"].astype(str).to_numpy(),
            "m": month_number(history["ds"]),
            "y": history["y"].to_numpy(dtype="float64"),
        }
    )
    seasonal = rows.merge(hist, on=["unique_id", "m"], how="left").sort_values("row")["y"].to_numpy()
    # the last observation strictly before the cycle
    last = pd.merge_asof(
        rows.sort_values("made"),
        hist.sort_values("m").rename(columns={"m": "made"}),
        on="made",
        by="unique_id",
        allow_exact_matches=False,
        direction="backward",
    )
    last = last.sort_values("row")["y"].to_numpy()
    values = np.where(np.isnan(seasonal), np.nan_to_num(last, nan=0.0), seasonal)
    return pd.Series(values, index=plans.index, dtype="float64")


def scored_forecasts(
    plans: PastPlans, history: pd.DataFrame, period: str, season_length: int = 12
) -> pd.DataFrame:
    """Every past forecast whose month has an actual, with the seasonal naive forecast beside it.

    Args:
        plans: The earlier cycles' plans (`load_past_plans`).
        history: `unique_id, ds, y` monthly actuals through the month before `period`.
        period: The current period (`YYYY-MM`); months from it on are not scored.
        season_length: Months in a season (for the naive forecast).

    Returns:
        `SCORED_COLUMNS`: `period, month, lag, unique_id, family, source, actual, consensus,
        statistical, naive` (`period` = the cycle that made it, `month` = its target).

    Example:
        >>> scored_forecasts(load_past_plans("reports", "2026-11"), history, "2026-11")   # doctest: +SKIP
    """
    start = period_start(period)
    demand = plans.demand[(plans.demand["ds"] < start)] if len(plans.demand) else plans.demand
    if demand.empty or history.empty:
        return empty(SCORED_COLUMNS)
    demand = demand[pd.to_datetime(demand["ds"]) >= pd.to_datetime(demand["period"] + "-01")]
    hist = history.assign(unique_id=history["unique_id"].astype(str), ds=pd.to_datetime(history["ds"]))
    scored = demand.merge(hist[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
    if scored.empty:
        return empty(SCORED_COLUMNS)
    scored = scored.reset_index(drop=True)
    scored["naive"] = seasonal_naive(hist, scored, season_length)
    scored["lag"] = month_number(scored["ds"]) - month_number(scored["period"] + "-01") + 1
    scored = scored.rename(columns={"ds": "month", "y": "actual"})
    scored["family"] = scored["family"].fillna("(none)").astype(str)
    for col in ("actual", "consensus", "statistical", "naive"):
        scored[col] = scored[col].astype("float64")
    return scored[SCORED_COLUMNS].sort_values(["period", "lag", "family", "unique_id"]).reset_index(drop=True)


def _error_terms(scored: pd.DataFrame) -> pd.DataFrame:
    """Per SKU-month terms whose group sums give the metrics of `salesops.metrics` (same definitions,
    NaN pairs skipped), so thousands of groups are scored in one `groupby` instead of one call each."""
    actual = scored["actual"]
    terms = pd.DataFrame({"actual": actual})
    for name in ("consensus", "statistical", "naive"):
        forecast = scored[name]
        valid = forecast.notna() & actual.notna()
        terms[name] = forecast
        terms[f"abs_err_{name}"] = (forecast - actual).abs().where(valid)
        terms[f"scale_{name}"] = actual.abs().where(valid)
    valid = scored["consensus"].notna() & actual.notna()
    terms["err"] = (scored["consensus"] - actual).where(valid)
    nonzero = valid & (actual != 0)
    terms["ape"] = ((scored["consensus"] - actual) / actual).abs().where(nonzero)
    terms["ape_n"] = nonzero.astype("int64")
    return terms


def _scores(sums: pd.DataFrame, series: pd.Series) -> pd.DataFrame:
    def ratio(num: str, den: str) -> pd.Series:
        return sums[num] / sums[den].where(sums[den] > 0)

    return pd.DataFrame(
        {
            "series": series,
            "actual": sums["actual"],
            "consensus": sums["consensus"],
            "statistical": sums["statistical"],
            "naive": sums["naive"],
            "wape": ratio("abs_err_consensus", "scale_consensus"),
            "mape": ratio("ape", "ape_n"),
            "bias": ratio("err", "scale_consensus"),
            "wape_statistical": ratio("abs_err_statistical", "scale_statistical"),
            "wape_naive": ratio("abs_err_naive", "scale_naive"),
        }
    )


def accuracy_by_lag(scored: pd.DataFrame) -> pd.DataFrame:
    """Accuracy of the consensus plan per cycle, lag and family, plus a `Total` row per cycle and lag.

    Errors are taken per SKU-month, then summed within the family (WAPE = sum|F-A| / sum|A|,
    bias = sum(F-A) / sum|A|) or averaged (MAPE, over actuals other than 0), as in `salesops.metrics`.
    `wape_statistical` and `wape_naive` score the statistical and seasonal naive forecasts on the
    same SKU-months.

    Args:
        scored: The scored forecasts (`scored_forecasts`).

    Returns:
        `ACCURACY_COLUMNS`; `wape`, `mape`, `bias`, `wape_statistical` and `wape_naive` are fractions.

    Example:
        >>> accuracy_by_lag(scored_forecasts(plans, history, "2026-11")).query("lag == 1")   # doctest: +SKIP
    """
    if scored.empty:
        return empty(ACCURACY_COLUMNS)
    terms = _error_terms(scored)
    keys = scored[["period", "lag", "family"]]
    by_family = terms.groupby([keys["period"], keys["lag"], keys["family"]]).sum(min_count=1)
    by_total = terms.groupby([keys["period"], keys["lag"]]).sum(min_count=1)
    family_series = scored.groupby(["period", "lag", "family"])["unique_id"].nunique()
    total_series = scored.groupby(["period", "lag"])["unique_id"].nunique()
    frame = pd.concat(
        [
            _scores(by_family, family_series).reset_index(),
            _scores(by_total, total_series).reset_index().assign(family=TOTAL),
        ],
        ignore_index=True,
    )
    source = scored.groupby("period")["source"].first()
    frame["source"] = frame["period"].map(source)
    frame["month"] = from_month_number(month_number(frame["period"] + "-01") + frame["lag"].to_numpy() - 1)
    frame["lag"] = frame["lag"].astype("int64")
    frame["series"] = frame["series"].astype("int64")
    return frame[ACCURACY_COLUMNS].sort_values(["period", "lag", "family"]).reset_index(drop=True)


def value_add(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Forecast value add per cycle and lag (all families).

    The WAPE of the naive, statistical and consensus forecasts, and the WAPE each step gained
    (positive = the later step was more accurate), all as fractions.

    Args:
        accuracy: The accuracy by lag (`accuracy_by_lag`).

    Returns:
        `VALUE_ADD_COLUMNS`, one row per cycle and lag.

    Example:
        >>> value_add(acc).query("lag == 1")[["period", "consensus_vs_statistical"]]   # doctest: +SKIP
    """
    total = accuracy[accuracy["family"] == TOTAL] if len(accuracy) else accuracy
    if total.empty:
        return empty(VALUE_ADD_COLUMNS)
    out = total[["period", "month", "lag", "source", "wape_naive", "wape_statistical"]].copy()
    out["wape_consensus"] = total["wape"]
    out["statistical_vs_naive"] = out["wape_naive"] - out["wape_statistical"]
    out["consensus_vs_statistical"] = out["wape_statistical"] - out["wape_consensus"]
    out["consensus_vs_naive"] = out["wape_naive"] - out["wape_consensus"]
    return out[VALUE_ADD_COLUMNS].reset_index(drop=True)


def accuracy_trend(accuracy: pd.DataFrame, months: int = 12, lags=REPORTED_LAGS) -> pd.DataFrame:
    """All-family accuracy by target month for `lags`, over the last `months` months scored.

    Args:
        accuracy: The accuracy by lag (`accuracy_by_lag`).
        months: How many of the latest target months to keep.
        lags: The lags to keep.

    Returns:
        `TREND_COLUMNS`; `accuracy` = 1 - WAPE (floored at 0), a fraction like `wape` and `bias`.

    Example:
        >>> accuracy_trend(acc, months=6)   # doctest: +SKIP
    """
    if accuracy.empty:
        return empty(TREND_COLUMNS)
    total = accuracy[(accuracy["family"] == TOTAL) & accuracy["lag"].isin(list(lags))]
    if total.empty:
        return empty(TREND_COLUMNS)
    recent = sorted(total["month"].unique())[-months:]
    out = total[total["month"].isin(recent)].copy()
    out["accuracy"] = (1 - out["wape"]).clip(lower=0)
    return out[TREND_COLUMNS].sort_values(["lag", "month"]).reset_index(drop=True)


def _tracking_signal(forecast: pd.Series, actual: pd.Series) -> float:
    """Signed like the bias (positive = over-forecast); `metrics.tracking_signal` sums actual - forecast."""
    return -metrics.tracking_signal(actual, forecast) if len(actual) else math.nan


def bias_by_family(scored: pd.DataFrame, window: int = 12, lag: int = 1) -> pd.DataFrame:
    """Bias and tracking signal per family (and `Total`) from the lag-`lag` errors of the last months.

    Monthly family errors e = forecast - actual; bias = sum e / sum actual (a fraction),
    MAD = mean |e| (units), tracking signal = sum e / MAD.

    Args:
        scored: The scored forecasts (`scored_forecasts`).
        window: How many of the latest target months to use.
        lag: The lag whose forecasts are judged.

    Returns:
        `BIAS_COLUMNS`, one row per family, `Total` last.

    Example:
        >>> bias_by_family(scored).set_index("family")["tracking_signal"]   # doctest: +SKIP
    """
    rows = scored[scored["lag"] == lag] if len(scored) else scored
    if rows.empty:
        return empty(BIAS_COLUMNS)
    recent = sorted(rows["month"].unique())[-window:]
    rows = rows[rows["month"].isin(recent)]
    by_family = rows.groupby(["family", "month"], as_index=False)[["actual", "consensus"]].sum()
    by_total = rows.groupby("month", as_index=False)[["actual", "consensus"]].sum().assign(family=TOTAL)
    out = []
    for family, g in pd.concat([by_family, by_total]).groupby("family", sort=True):
        out.append(
            {
                "family": family,
                "months": len(g),
                "first_month": g["month"].min(),
                "last_month": g["month"].max(),
                "actual": g["actual"].sum(),
                "forecast": g["consensus"].sum(),
                "bias": metrics.relative_bias(g["actual"], g["consensus"]),  # a fraction
                "mad": metrics.mae(g["actual"], g["consensus"]),
                "tracking_signal": _tracking_signal(g["consensus"], g["actual"]),
            }
        )
    frame = pd.DataFrame(out, columns=BIAS_COLUMNS)
    frame["_total"] = frame["family"] == TOTAL
    return frame.sort_values(["_total", "family"]).drop(columns="_total").reset_index(drop=True)
