"""Follow-up (step 6): were past plans right, were decisions carried out, are the KPIs moving.

Everything here compares what earlier cycles planned with what has happened since:

* **Plans.** For each earlier period the plan of record (`OUT/plans/<PERIOD>/plan.parquet`, frozen at
  approval) is used; a period without one falls back to its proposed plan
  (`OUT/<PERIOD>/data/demand_planning/demand_plan.parquet`). `plan_sources` says which was used.
* **Lags.** *lag k* is the forecast for month M made in the cycle for period M-(k-1). The cycle for
  period P forecasts from P on (its history ends at P-1), so lag 1 is the first forecast month of a
  cycle (made in P for P) and lag 3 is the third (made in P-2 for P). A forecast for month M can only be
  scored once M is in the history, i.e. in a cycle after M.
* **Errors.** `error = forecast - actual`: positive bias means the plan was too high.
  WAPE = sum|error| / sum(actual); MAPE = mean |error| / actual over SKU-months with actual > 0;
  bias = sum(error) / sum(actual); tracking signal = sum(error) / mean|error| over the family's
  monthly lag-1 errors of the last `p.alerts.tracking_window` months.
* **Naive.** The seasonal naive forecast of cycle P repeats the same month of the last season observed
  before P (history truncated at P); a series with no such month repeats its last value before P,
  and a series with no history forecasts 0.

Example:
    >>> fu = review(ctx)             # in notebook 06
    >>> fu.alerts.columns.tolist()
    ['severity', 'kind', 'subject', 'message', 'value', 'threshold']
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
from pydantic import ValidationError

from . import charts, metrics
from .exceptions import DataError, ParameterError
from .params import PERIOD_RE, AlertParams, Decision, Params, explain, read_yaml
from .plan import plan_dir

TOTAL = "Total"
PLAN_OF_RECORD = "plan_of_record"
PROPOSED = "proposed"
REPORTED_LAGS = (1, 3)

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
SOURCE_COLUMNS = ["period", "source", "path", "rows", "skus", "first_month", "last_month"]
ADHERENCE_COLUMNS = [
    "month",
    "family",
    "measure",
    "period",
    "planned",
    "actual",
    "deviation",
    "deviation_pct",
]
SERVICE_COLUMNS = [
    "month",
    "family",
    "period",
    "demand",
    "available",
    "filled",
    "fill_rate",
    "skus",
    "skus_served",
    "service_level",
]
INVENTORY_COLUMNS = [
    "family",
    "skus",
    "on_hand",
    "target",
    "planned_on_hand",
    "vs_target",
    "vs_plan",
    "skus_below_target",
]
DECISION_COLUMNS = [
    "id",
    "title",
    "owner",
    "due",
    "status",
    "period",
    "overdue",
    "days_overdue",
    "state",
    "decision",
    "source",
]
ALERT_COLUMNS = ["severity", "kind", "subject", "message", "value", "threshold"]
SEVERITY_ORDER = {"error": 0, "warning": 1}
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


# ---------------------------------------------------------------- small helpers
def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _month_number(months) -> np.ndarray:
    """Months as consecutive integers (year*12 + month-1) so lags are plain differences."""
    stamps = pd.DatetimeIndex(pd.to_datetime(months))
    return np.asarray(stamps.year * 12 + stamps.month - 1, dtype="int64")


def _from_month_number(numbers) -> pd.DatetimeIndex:
    numbers = np.asarray(numbers, dtype="int64")
    return pd.DatetimeIndex(pd.to_datetime({"year": numbers // 12, "month": numbers % 12 + 1, "day": 1}))


def _period_start(period: str) -> pd.Timestamp:
    return pd.Timestamp(f"{period}-01")


# salesops.metrics returns percentages; the follow-up products hold fractions like the other steps'.
def _bias(forecast: pd.Series, actual: pd.Series) -> float:
    return metrics.bias_pct(actual, forecast) / 100


def _tracking_signal(forecast: pd.Series, actual: pd.Series) -> float:
    """Signed like the bias (positive = over-forecast); `metrics.tracking_signal` sums actual - forecast."""
    return -metrics.tracking_signal(actual, forecast) if len(actual) else math.nan


def _period_dirs(root: Path, before: str) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(
        d.name for d in root.iterdir() if d.is_dir() and PERIOD_RE.match(d.name) and d.name < before
    )


# ---------------------------------------------------------------- past plans
@dataclass
class PastPlans:
    """The plans of earlier cycles, one row per forecast (`period` = the cycle that made it).

    `demand`: `period, source, unique_id, family, ds, statistical, consensus`;
    `production`: `period, family, month, production`; `projection`: the cycles'
    `inventory_projection` with a `period` column; `sources`: which file each period's plan came from.
    """

    demand: pd.DataFrame
    production: pd.DataFrame
    projection: pd.DataFrame
    sources: pd.DataFrame

    @property
    def periods(self) -> list[str]:
        return sorted(self.demand["period"].unique().tolist()) if len(self.demand) else []


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(
            f"{path}: cannot read this plan file ({exc}); re-run that period or remove the file"
        ) from exc


def _demand_rows(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    missing = [c for c in ("unique_id", "ds", "consensus") if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: column(s) {', '.join(missing)} missing; a plan needs unique_id, ds and "
            "consensus (re-run that period's demand planning)"
        )
    rows = frame[frame["unique_id"].notna() & frame["ds"].notna() & frame["consensus"].notna()].copy()
    rows["ds"] = pd.to_datetime(rows["ds"])
    if "statistical" not in rows.columns:
        rows["statistical"] = rows["consensus"]
    if "family" not in rows.columns:
        rows["family"] = pd.NA
    rows["unique_id"] = rows["unique_id"].astype(str)
    return rows[["unique_id", "family", "ds", "statistical", "consensus"]]


def _production_rows(frame: pd.DataFrame, strategy: str | None) -> pd.DataFrame:
    if not {"family", "month", "production"} <= set(frame.columns):
        return _empty(["family", "month", "production"])
    rows = frame[frame["month"].notna() & frame["production"].notna() & frame["family"].notna()].copy()
    if "strategy" in rows.columns and rows["strategy"].nunique() > 1:
        chosen = strategy if strategy in set(rows["strategy"]) else min(rows["strategy"].unique())
        rows = rows[rows["strategy"] == chosen]
    rows["month"] = pd.to_datetime(rows["month"])
    return rows.groupby(["family", "month"], as_index=False)["production"].sum()


def load_past_plans(out: str | Path, period: str, strategy: str | None = None) -> PastPlans:
    """Read the plans of every period before `period` found under `out`.

    The plan of record (`out/plans/P/plan.parquet`) wins; without one the proposed
    `out/P/data/demand_planning/demand_plan.parquet` is used. Production comes from the plan of record
    when it holds a family production plan, else from `out/P/data/supply_planning/production_plan.parquet`
    (`strategy`, default the cheapest, when it holds several).

    Example:
        >>> load_past_plans("reports", "2026-11").sources[["period", "source"]]
    """
    out = Path(out)
    periods = sorted(set(_period_dirs(out, period)) | set(_period_dirs(out / "plans", period)))
    demand, production, projection, sources = [], [], [], []
    for past in periods:
        record = plan_dir(out, past) / "plan.parquet"
        proposed = out / past / "data" / "demand_planning" / "demand_plan.parquet"
        record_frame = _read_parquet(record) if record.exists() else None
        recorded = _demand_rows(record_frame, record) if record_frame is not None else None
        if recorded is not None and len(recorded):
            rows, source, path = recorded, PLAN_OF_RECORD, record
        elif proposed.exists():
            rows, source, path = _demand_rows(_read_parquet(proposed), proposed), PROPOSED, proposed
        else:
            continue
        rows.insert(0, "source", source)
        rows.insert(0, "period", past)
        demand.append(rows)
        sources.append(
            {
                "period": past,
                "source": source,
                "path": str(path),
                "rows": len(rows),
                "skus": rows["unique_id"].nunique(),
                "first_month": rows["ds"].min(),
                "last_month": rows["ds"].max(),
            }
        )
        supply_dir = out / past / "data" / "supply_planning"
        planned = _production_rows(record_frame, strategy) if record_frame is not None else None
        if (planned is None or planned.empty) and (supply_dir / "production_plan.parquet").exists():
            plan = _read_parquet(supply_dir / "production_plan.parquet")
            chosen = strategy
            if chosen is None and (supply_dir / "strategy_summary.parquet").exists():
                summary = _read_parquet(supply_dir / "strategy_summary.parquet")
                if {"strategy", "total_cost"} <= set(summary.columns) and len(summary):
                    chosen = str(summary.sort_values("total_cost")["strategy"].iloc[0])
            planned = _production_rows(plan, chosen)
        if planned is not None and len(planned):
            production.append(planned.assign(period=past))
        if (supply_dir / "inventory_projection.parquet").exists():
            proj = _read_parquet(supply_dir / "inventory_projection.parquet")
            proj["month"] = pd.to_datetime(proj["month"])
            projection.append(proj.assign(period=past))
    demand_columns = ["period", "source", "unique_id", "family", "ds", "statistical", "consensus"]
    return PastPlans(
        demand=pd.concat(demand, ignore_index=True) if demand else _empty(demand_columns),
        production=(
            pd.concat(production, ignore_index=True)[["period", "family", "month", "production"]]
            if production
            else _empty(["period", "family", "month", "production"])
        ),
        projection=pd.concat(projection, ignore_index=True)
        if projection
        else _empty(
            [
                "period",
                "unique_id",
                "family",
                "month",
                "demand",
                "supply",
                "on_hand",
                "safety_stock",
                "shortage",
            ]
        ),
        sources=pd.DataFrame(sources, columns=SOURCE_COLUMNS) if sources else _empty(SOURCE_COLUMNS),
    )


# ---------------------------------------------------------------- accuracy
def seasonal_naive(history: pd.DataFrame, plans: pd.DataFrame, season_length: int = 12) -> pd.Series:
    """The seasonal naive forecast each plan row's cycle could have made (aligned with `plans`).

    For a row made in cycle P for month M, the value is y at M - season_length*k for the smallest k
    that lands before P; else the series' last value before P; else 0.

    Example:
        >>> seasonal_naive(history, plans.assign(period="2026-03"))   # M=2026-05 -> y(2025-05)
    """
    if plans.empty:
        return pd.Series(dtype="float64", index=plans.index)
    made = _month_number(plans["period"].astype(str) + "-01")
    target = _month_number(plans["ds"])
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
            "m": _month_number(history["ds"]),
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
    """Every past forecast whose month has an actual: `period, month, lag, unique_id, family, source,
    actual, consensus, statistical, naive` (`period` = the cycle that made it, `month` = its target)."""
    columns = [
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
    start = _period_start(period)
    demand = plans.demand[(plans.demand["ds"] < start)] if len(plans.demand) else plans.demand
    if demand.empty or history.empty:
        return _empty(columns)
    demand = demand[pd.to_datetime(demand["ds"]) >= pd.to_datetime(demand["period"] + "-01")]
    hist = history.assign(unique_id=history["unique_id"].astype(str), ds=pd.to_datetime(history["ds"]))
    scored = demand.merge(hist[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
    if scored.empty:
        return _empty(columns)
    scored = scored.reset_index(drop=True)
    scored["naive"] = seasonal_naive(hist, scored, season_length)
    scored["lag"] = _month_number(scored["ds"]) - _month_number(scored["period"] + "-01") + 1
    scored = scored.rename(columns={"ds": "month", "y": "actual"})
    scored["family"] = scored["family"].fillna("(none)").astype(str)
    for col in ("actual", "consensus", "statistical", "naive"):
        scored[col] = scored[col].astype("float64")
    return scored[columns].sort_values(["period", "lag", "family", "unique_id"]).reset_index(drop=True)


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
    bias = sum(F-A) / sum|A|) or averaged (MAPE, over actuals other than 0), as in `salesops.metrics`
    (fractions here, not percentages). `wape_statistical` and `wape_naive` score the statistical and
    seasonal naive forecasts on the same SKU-months.

    Example:
        >>> accuracy_by_lag(scored_forecasts(plans, history, "2026-11")).query("lag == 1")
    """
    if scored.empty:
        return _empty(ACCURACY_COLUMNS)
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
    frame["month"] = _from_month_number(_month_number(frame["period"] + "-01") + frame["lag"].to_numpy() - 1)
    frame["lag"] = frame["lag"].astype("int64")
    frame["series"] = frame["series"].astype("int64")
    return frame[ACCURACY_COLUMNS].sort_values(["period", "lag", "family"]).reset_index(drop=True)


def value_add(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Forecast value add per cycle and lag (all families): WAPE of naive, statistical and consensus, and
    the points each step gained (positive = the later step was more accurate).

    Example:
        >>> value_add(acc).query("lag == 1")[["period", "statistical_vs_naive", "consensus_vs_statistical"]]
    """
    total = accuracy[accuracy["family"] == TOTAL] if len(accuracy) else accuracy
    if total.empty:
        return _empty(VALUE_ADD_COLUMNS)
    out = total[["period", "month", "lag", "source", "wape_naive", "wape_statistical"]].copy()
    out["wape_consensus"] = total["wape"]
    out["statistical_vs_naive"] = out["wape_naive"] - out["wape_statistical"]
    out["consensus_vs_statistical"] = out["wape_statistical"] - out["wape_consensus"]
    out["consensus_vs_naive"] = out["wape_naive"] - out["wape_consensus"]
    return out[VALUE_ADD_COLUMNS].reset_index(drop=True)


def value_add_table(value_add_frame: pd.DataFrame, lags=REPORTED_LAGS) -> pd.DataFrame:
    """The value-add table of the report: one row per cycle and reported lag, WAPE of each forecast and
    the points gained by the statistical forecast over the naive one and by the consensus over the
    statistical one.
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


def accuracy_trend(accuracy: pd.DataFrame, months: int = 12, lags=REPORTED_LAGS) -> pd.DataFrame:
    """All-family accuracy by target month for `lags`, over the last `months` months scored.

    `accuracy` = 1 - WAPE (floored at 0).
    """
    if accuracy.empty:
        return _empty(TREND_COLUMNS)
    total = accuracy[(accuracy["family"] == TOTAL) & accuracy["lag"].isin(list(lags))]
    if total.empty:
        return _empty(TREND_COLUMNS)
    recent = sorted(total["month"].unique())[-months:]
    out = total[total["month"].isin(recent)].copy()
    out["accuracy"] = (1 - out["wape"]).clip(lower=0)
    return out[TREND_COLUMNS].sort_values(["lag", "month"]).reset_index(drop=True)


def trend_table(trend: pd.DataFrame) -> pd.DataFrame:
    """The trend as one row per target month: accuracy and bias at each reported lag side by side
    (`accuracy_lag1`, `accuracy_lag3`, `bias_lag1`, ...)."""
    if trend.empty:
        return pd.DataFrame(columns=["month"])
    wide = trend.pivot_table(index="month", columns="lag", values=["accuracy", "bias"], aggfunc="first")
    wide.columns = [f"{measure}_lag{lag}" for measure, lag in wide.columns]
    return wide.reset_index()


def bias_by_family(scored: pd.DataFrame, window: int = 12, lag: int = 1) -> pd.DataFrame:
    """Bias and tracking signal per family (and `Total`) from the lag-`lag` errors of the last `window`
    months scored: monthly family errors e = forecast - actual, bias = sum e / sum actual,
    MAD = mean |e|, tracking signal = sum e / MAD.

    Example:
        >>> bias_by_family(scored).set_index("family")["tracking_signal"]
    """
    rows = scored[scored["lag"] == lag] if len(scored) else scored
    if rows.empty:
        return _empty(BIAS_COLUMNS)
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
                "bias": _bias(g["consensus"], g["actual"]),
                "mad": metrics.mae(g["actual"], g["consensus"]),
                "tracking_signal": _tracking_signal(g["consensus"], g["actual"]),
            }
        )
    frame = pd.DataFrame(out, columns=BIAS_COLUMNS)
    frame["_total"] = frame["family"] == TOTAL
    return frame.sort_values(["_total", "family"]).drop(columns="_total").reset_index(drop=True)


# ---------------------------------------------------------------- adherence and service
def _families(products: pd.DataFrame) -> pd.Series:
    if products is None or products.empty or not {"sku", "family"} <= set(products.columns):
        return pd.Series(dtype="object")
    unique = products.drop_duplicates("sku")
    return pd.Series(unique["family"].to_numpy(), index=unique["sku"].astype(str))


def _lag1(frame: pd.DataFrame, month_column: str) -> pd.DataFrame:
    """Keep the rows each cycle planned for its own first month (lag 1)."""
    if frame.empty:
        return frame
    return frame[pd.to_datetime(frame[month_column]) == pd.to_datetime(frame["period"].astype(str) + "-01")]


def _actual_supply(supply: pd.DataFrame | None, families: pd.Series, start: pd.Timestamp) -> pd.DataFrame:
    columns = ["unique_id", "family", "month", "kind", "quantity"]
    if supply is None or supply.empty or not {"sku", "month", "quantity"} <= set(supply.columns):
        return _empty(columns)
    rows = supply.assign(unique_id=supply["sku"].astype(str), month=pd.to_datetime(supply["month"]))
    rows = rows[rows["month"] < start]
    rows["kind"] = rows["kind"].astype(str).str.lower() if "kind" in rows.columns else "purchase"
    rows["family"] = rows["unique_id"].map(families).fillna("(none)").astype(str)
    return rows[columns]


def plan_adherence(
    plans: PastPlans,
    history: pd.DataFrame,
    supply: pd.DataFrame | None,
    products: pd.DataFrame | None,
    period: str,
) -> pd.DataFrame:
    """Planned (lag 1: each cycle's plan for its own first month) vs actual per month, family and measure.

    Measures: `demand` (consensus vs demand history), `supply` (the projection's receipts vs the supply
    table's rows for that month), `production` (the production plan vs supply rows of kind production,
    when the supply table has a `kind` column). Supply and production are compared from the first month
    the supply table records on (a month it records nothing for a family counts as 0 received).
    `deviation` = actual - planned.

    Example:
        >>> plan_adherence(plans, history, ctx.table("supply"), ctx.table("products"), "2026-11")
    """
    start = _period_start(period)
    families = _families(products)
    parts = []
    demand = _lag1(plans.demand, "ds")
    demand = demand[demand["ds"] < start] if len(demand) else demand
    if len(demand) and len(history):
        hist = history.assign(unique_id=history["unique_id"].astype(str), ds=pd.to_datetime(history["ds"]))
        joined = demand.merge(hist[["unique_id", "ds", "y"]], on=["unique_id", "ds"], how="inner")
        joined["family"] = joined["family"].fillna("(none)").astype(str)
        parts.append(
            joined.groupby(["period", "ds", "family"], as_index=False)
            .agg(planned=("consensus", "sum"), actual=("y", "sum"))
            .rename(columns={"ds": "month"})
            .assign(measure="demand")
        )
    actual = _actual_supply(supply, families, start)
    projection = _lag1(plans.projection, "month")
    projection = projection[projection["month"] < start] if len(projection) else projection
    if len(projection) and "supply" in projection.columns and len(actual):
        planned = (
            projection.assign(family=projection["family"].fillna("(none)").astype(str))
            .groupby(["period", "month", "family"], as_index=False)["supply"]
            .sum()
            .rename(columns={"supply": "planned"})
        )
        arrived = (
            actual.groupby(["month", "family"], as_index=False)["quantity"]
            .sum()
            .rename(columns={"quantity": "actual"})
        )
        planned = planned[planned["month"] >= actual["month"].min()]  # months the supply table records
        parts.append(
            planned.merge(arrived, on=["month", "family"], how="left")
            .fillna({"actual": 0.0})
            .assign(measure="supply")
        )
    production = _lag1(plans.production, "month")
    production = production[production["month"] < start] if len(production) else production
    if len(production) and len(actual) and (actual["kind"] == "production").any():
        made = (
            actual[actual["kind"] == "production"]
            .groupby(["month", "family"], as_index=False)["quantity"]
            .sum()
            .rename(columns={"quantity": "actual"})
        )
        production = production[production["month"] >= actual["month"].min()]
        parts.append(
            production.merge(made, on=["month", "family"], how="left")
            .rename(columns={"production": "planned"})
            .fillna({"actual": 0.0})
            .assign(measure="production")
        )
    if not parts:
        return _empty(ADHERENCE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["planned"] = out["planned"].astype("float64")
    out["actual"] = out["actual"].astype("float64")
    out["deviation"] = out["actual"] - out["planned"]
    out["deviation_pct"] = out["deviation"] / out["planned"].where(out["planned"] != 0)
    return out[ADHERENCE_COLUMNS].sort_values(["measure", "month", "family"]).reset_index(drop=True)


def service_levels(
    plans: PastPlans, history: pd.DataFrame, supply: pd.DataFrame | None, period: str
) -> pd.DataFrame:
    """Estimated fill rate and service level per past month and family (plus `Total`).

    For month M the stock available to serve demand is taken from the cycle-M inventory projection
    (its first month, where the net position starts at the stock on hand): opening stock + open supply
    + planned production = on_hand - shortage + demand (planned), since on_hand - shortage is the
    month's closing net position. Where the supply table has rows for that SKU and month, the receipts
    it records replace the planned `supply`. Then per SKU
    filled = min(actual demand, available); fill rate = sum filled / sum demand; service level = share
    of SKUs with demand that were served in full.

    Example:
        >>> service_levels(plans, history, ctx.table("supply"), "2026-11").query("family == 'Total'")
    """
    start = _period_start(period)
    projection = _lag1(plans.projection, "month")
    needed = {"unique_id", "month", "on_hand", "demand"}
    if projection.empty or history.empty or not needed <= set(projection.columns):
        return _empty(SERVICE_COLUMNS)
    proj = projection[projection["month"] < start].copy()
    proj["unique_id"] = proj["unique_id"].astype(str)
    shortage = proj["shortage"] if "shortage" in proj.columns else 0.0
    proj["available"] = (proj["on_hand"] - shortage + proj["demand"]).astype("float64")
    has_supply = supply is not None and {"sku", "month", "quantity"} <= set(supply.columns)
    if has_supply and len(supply) and "supply" in proj.columns:
        arrived = (
            supply.assign(unique_id=supply["sku"].astype(str), month=pd.to_datetime(supply["month"]))
            .groupby(["unique_id", "month"], as_index=False)["quantity"]
            .sum()
        )
        proj = proj.merge(arrived, on=["unique_id", "month"], how="left")
        has_actual = proj["quantity"].notna()
        proj.loc[has_actual, "available"] += proj.loc[has_actual, "quantity"] - proj.loc[has_actual, "supply"]
    proj["available"] = proj["available"].clip(lower=0)
    hist = history.assign(unique_id=history["unique_id"].astype(str), month=pd.to_datetime(history["ds"]))
    rows = proj.merge(hist[["unique_id", "month", "y"]], on=["unique_id", "month"], how="inner")
    if rows.empty:
        return _empty(SERVICE_COLUMNS)
    rows["family"] = rows["family"].fillna("(none)").astype(str)
    rows["filled"] = np.minimum(rows["y"], rows["available"])
    rows["with_demand"] = rows["y"] > 0
    rows["served"] = rows["with_demand"] & (rows["y"] <= rows["available"])
    sums = {
        "period": ("period", "first"),
        "demand": ("y", "sum"),
        "available": ("available", "sum"),
        "filled": ("filled", "sum"),
        "skus": ("with_demand", "sum"),
        "skus_served": ("served", "sum"),
    }
    by_family = rows.groupby(["month", "family"], as_index=False).agg(**sums)
    by_total = rows.groupby("month", as_index=False).agg(**sums).assign(family=TOTAL)
    frame = pd.concat([by_family, by_total], ignore_index=True)
    frame["fill_rate"] = frame["filled"] / frame["demand"].where(frame["demand"] > 0)
    frame["service_level"] = frame["skus_served"] / frame["skus"].where(frame["skus"] > 0)
    frame = frame[SERVICE_COLUMNS]
    frame["_total"] = frame["family"] == TOTAL
    return frame.sort_values(["month", "_total", "family"]).drop(columns="_total").reset_index(drop=True)


def inventory_vs_target(
    inventory: pd.DataFrame | None, products: pd.DataFrame | None, plans: PastPlans, period: str
) -> pd.DataFrame:
    """On-hand stock now (the snapshot's inventory) per family vs its target and vs the last plan.

    Target = the inventory table's `safety_stock` when present, else the safety stock the previous
    cycle's projection planned for its first month. `planned_on_hand` = the closing stock the previous
    cycle planned for the month before `period`.

    Example:
        >>> inventory_vs_target(ctx.table("inventory"), ctx.table("products"), plans, "2026-11")
    """
    if inventory is None or inventory.empty or not {"sku", "on_hand"} <= set(inventory.columns):
        return _empty(INVENTORY_COLUMNS)
    families = _families(products)
    sums = {"on_hand": ("on_hand", "sum")}
    if "safety_stock" in inventory.columns:
        sums["target"] = ("safety_stock", "sum")
    stock = (
        inventory.assign(unique_id=inventory["sku"].astype(str))
        .groupby("unique_id", as_index=False)
        .agg(**sums)
    )
    last_month = _period_start(period) - pd.DateOffset(months=1)
    proj = plans.projection
    planned = proj[(proj["month"] == last_month)] if len(proj) else proj
    if len(planned):
        planned = planned[planned["period"] == planned["period"].max()]
        planned = (
            planned.assign(unique_id=planned["unique_id"].astype(str))
            .groupby("unique_id", as_index=False)
            .agg(planned_on_hand=("on_hand", "sum"), planned_target=("safety_stock", "sum"))
        )
        stock = stock.merge(planned, on="unique_id", how="left")
    else:
        stock["planned_on_hand"] = np.nan
        stock["planned_target"] = np.nan
    if "target" not in stock.columns:
        stock["target"] = stock["planned_target"]
    stock["family"] = stock["unique_id"].map(families).fillna("(none)").astype(str)
    stock["below"] = stock["on_hand"] < stock["target"]
    out = stock.groupby("family", as_index=False).agg(
        skus=("unique_id", "nunique"),
        on_hand=("on_hand", "sum"),
        target=("target", lambda s: s.sum(min_count=1)),
        planned_on_hand=("planned_on_hand", lambda s: s.sum(min_count=1)),
        skus_below_target=("below", "sum"),
    )
    total = pd.DataFrame(
        [
            {
                "family": TOTAL,
                "skus": out["skus"].sum(),
                "on_hand": out["on_hand"].sum(),
                "target": out["target"].sum(min_count=1),
                "planned_on_hand": out["planned_on_hand"].sum(min_count=1),
                "skus_below_target": out["skus_below_target"].sum(),
            }
        ]
    )
    out = pd.concat([out, total], ignore_index=True)
    out["vs_target"] = out["on_hand"] - out["target"]
    out["vs_plan"] = out["on_hand"] - out["planned_on_hand"]
    out["skus_below_target"] = out["skus_below_target"].astype("int64")
    return out[INVENTORY_COLUMNS]


# ---------------------------------------------------------------- decisions
def _decision(entry, source: str) -> Decision:
    try:
        return Decision.model_validate(entry)
    except ValidationError as exc:
        raise ParameterError(explain(exc, f"{source} (decisions)")) from None


def collect_decisions(p: Params) -> list[tuple[Decision, str]]:
    """Every decision known to period `p.period`, with where it was last recorded.

    Sources, oldest first so that later ones win for the same `id`: the decisions in earlier plans of
    record (`OUT/plans/P/plan.json`), then in earlier `params/P.yaml` files, then `p.decisions` (the
    current period's params). A decision with no `period` gets the period of the first file it was found in.
    """
    period = str(p.period)
    found: list[tuple[str, int, Decision, str]] = []
    plans_dir = Path(p.out) / "plans"
    for past in _period_dirs(plans_dir, period):
        path = plans_dir / past / "plan.json"
        if path.exists():
            try:
                content = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise DataError(
                    f"{path}: not readable JSON ({exc}); restore it from the plan's history (plan.vN.json)"
                ) from exc
            for entry in content.get("decisions") or []:
                found.append((past, 0, _decision(entry, str(path)), str(path)))
    params_dir = Path(p.params_files[0]).parent if p.params_files else Path("params")
    if params_dir.is_dir():
        for path in sorted(params_dir.glob("*.yaml")):
            if PERIOD_RE.match(path.stem) and path.stem < period:
                for entry in read_yaml(path).get("decisions") or []:
                    found.append((path.stem, 1, _decision(entry, str(path)), str(path)))
    for decision in p.decisions:
        found.append((period, 2, decision, "params"))
    latest: dict[str, tuple[Decision, str]] = {}
    first_period: dict[str, str] = {}
    for past, _, decision, source in sorted(found, key=lambda f: (f[0], f[1])):
        first_period.setdefault(decision.id, decision.period or past)
        latest[decision.id] = (decision, source)
    return [(d.model_copy(update={"period": d.period or first_period[d.id]}), s) for d, s in latest.values()]


def decision_log(decisions: list[Decision] | list[tuple[Decision, str]], period: str) -> pd.DataFrame:
    """One row per decision: `overdue` = still open and due before the first day of `period`;
    `state` = overdue, open, done or dropped.

    Example:
        >>> d = Decision(id="D1", title="Add a shift", owner="Ops", due="2026-10-15")
        >>> decision_log([d], "2026-11")[["id", "state", "days_overdue"]].values.tolist()
        [['D1', 'overdue', 17]]
    """
    if not decisions:
        return _empty(DECISION_COLUMNS)
    start = _period_start(period)
    rows = []
    for item in decisions:
        decision, source = item if isinstance(item, tuple) else (item, "params")
        due = pd.Timestamp(decision.due)
        overdue = decision.status == "open" and due < start
        rows.append(
            {
                "id": decision.id,
                "title": decision.title,
                "owner": decision.owner,
                "due": due,
                "status": decision.status,
                "period": decision.period,
                "overdue": overdue,
                "days_overdue": int((start - due).days) if overdue else 0,
                "state": "overdue" if overdue else decision.status,
                "decision": decision.decision,
                "source": source,
            }
        )
    frame = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    order = {"overdue": 0, "open": 1, "done": 2, "dropped": 3}
    return frame.sort_values(
        ["state", "due", "id"], key=lambda s: s.map(order) if s.name == "state" else s
    ).reset_index(drop=True)


# ---------------------------------------------------------------- alerts
def alerts(
    accuracy: pd.DataFrame,
    bias: pd.DataFrame,
    service: pd.DataFrame,
    decisions: pd.DataFrame,
    limits: AlertParams,
) -> pd.DataFrame:
    """Alerts for the report and `run.json`, most severe first.

    * `tracking_signal` (warning): |tracking signal| of a family > `tracking_signal_limit`.
    * `accuracy_drop` (warning): the latest month's lag-1 WAPE of a family is more than
      `accuracy_drop_pct` points above its mean over the previous `baseline_cycles` months
      (accuracy = 1 - WAPE dropped by more than that many points).
    * `service` (error): the latest month's fill rate of a family < `service_target`.
    * `overdue_decision` (warning): an open decision due before the period (when `overdue_decisions`).

    Example:
        >>> alerts(acc, bias, service, log, AlertParams(tracking_signal_limit=4))
    """
    found = []
    for row in bias.itertuples(index=False):
        if pd.notna(row.tracking_signal) and abs(row.tracking_signal) > limits.tracking_signal_limit:
            direction = "over" if row.tracking_signal > 0 else "under"
            found.append(
                (
                    "warning",
                    "tracking_signal",
                    row.family,
                    (
                        f"{row.family}: tracking signal {row.tracking_signal:+.1f} over {row.months} "
                        f"months is beyond ±{limits.tracking_signal_limit:g}; the plan is consistently "
                        f"{direction}-forecasting (bias {row.bias:+.0%})"
                    ),
                    float(row.tracking_signal),
                    float(limits.tracking_signal_limit),
                )
            )
    lag1 = accuracy[accuracy["lag"] == 1] if len(accuracy) else accuracy
    for family, g in lag1.groupby("family", sort=True) if len(lag1) else []:
        g = g.sort_values("month")
        if len(g) < 2 or pd.isna(g["wape"].iloc[-1]):
            continue
        baseline = g["wape"].iloc[-1 - limits.baseline_cycles : -1].mean()
        drop = (g["wape"].iloc[-1] - baseline) * 100
        if pd.notna(drop) and drop > limits.accuracy_drop_pct:
            month = pd.Timestamp(g["month"].iloc[-1]).strftime("%Y-%m")
            found.append(
                (
                    "warning",
                    "accuracy_drop",
                    family,
                    (
                        f"{family}: lag-1 WAPE for {month} is {g['wape'].iloc[-1]:.0%}, {drop:.1f} points "
                        f"worse than the {min(len(g) - 1, limits.baseline_cycles)} previous month(s)' "
                        f"{baseline:.0%}"
                    ),
                    float(drop),
                    float(limits.accuracy_drop_pct),
                )
            )
    if len(service):
        latest = service[service["month"] == service["month"].max()]
        for row in latest.itertuples(index=False):
            if pd.notna(row.fill_rate) and row.fill_rate < limits.service_target:
                found.append(
                    (
                        "error",
                        "service",
                        row.family,
                        (
                            f"{row.family}: estimated fill rate {row.fill_rate:.1%} in "
                            f"{pd.Timestamp(row.month):%Y-%m} is below the "
                            f"{limits.service_target:.0%} target"
                        ),
                        float(row.fill_rate),
                        float(limits.service_target),
                    )
                )
    if limits.overdue_decisions and len(decisions):
        for row in decisions[decisions["overdue"].astype(bool)].itertuples(index=False):
            found.append(
                (
                    "warning",
                    "overdue_decision",
                    row.id,
                    (
                        f"decision {row.id} '{row.title}' ({row.owner}) was due {row.due:%Y-%m-%d} and is "
                        f"still open ({row.days_overdue} days overdue)"
                    ),
                    float(row.days_overdue),
                    0.0,
                )
            )
    if not found:
        return _empty(ALERT_COLUMNS).astype({"value": "float64", "threshold": "float64"})
    frame = pd.DataFrame(found, columns=ALERT_COLUMNS)
    return frame.sort_values(
        ["severity", "kind", "subject"], key=lambda s: s.map(SEVERITY_ORDER) if s.name == "severity" else s
    ).reset_index(drop=True)


# ---------------------------------------------------------------- the whole step
@dataclass
class FollowUp:
    """Everything notebook 06 shows; `products` are written by its last cell."""

    period: str
    sources: pd.DataFrame
    scored: pd.DataFrame
    accuracy_by_lag: pd.DataFrame
    value_add: pd.DataFrame
    trend: pd.DataFrame
    bias: pd.DataFrame
    adherence: pd.DataFrame
    service: pd.DataFrame
    inventory: pd.DataFrame
    decision_log: pd.DataFrame
    alerts: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    service_target: float = 0.95

    @property
    def first_run(self) -> bool:
        return self.sources.empty

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        return {
            "alerts": self.alerts,
            "accuracy_by_lag": self.accuracy_by_lag,
            "decision_log": self.decision_log,
            "value_add": self.value_add,
            "bias": self.bias,
            "plan_adherence": self.adherence,
            "service": self.service,
            "inventory_vs_target": self.inventory,
            "plan_sources": self.sources,
        }


def _table_or_none(ctx, name: str) -> pd.DataFrame | None:
    return ctx.table(name) if ctx.store.exists("data_collection", name) else None


def review(ctx) -> FollowUp:
    """Run the whole follow-up for the context's period (what notebook 06 calls).

    Example:
        >>> fu = review(so.steps.context("follow_up", p))
        >>> fu.alerts
    """
    p = ctx.p
    period = str(p.period)
    history = ctx.read("data_collection", "demand_history")
    products = _table_or_none(ctx, "products")
    supply = _table_or_none(ctx, "supply")
    inventory = _table_or_none(ctx, "inventory")
    plans = load_past_plans(p.out, period, p.supply.strategy)
    scored = scored_forecasts(plans, history, period, p.demand.season_length)
    accuracy = accuracy_by_lag(scored)
    bias = bias_by_family(scored, p.alerts.tracking_window)
    service = service_levels(plans, history, supply, period)
    log = decision_log(collect_decisions(p), period)
    notes = []
    if plans.sources.empty:
        notes.append(
            f"No earlier cycle was found under {p.out}: follow-up starts after the first cycle. "
            "Run earlier periods (salesops backfill FROM TO) to see accuracy and adherence now."
        )
    elif scored.empty:
        notes.append(
            "Earlier plans exist but none of their months has an actual yet: accuracy starts when "
            "the first planned month is in the history."
        )
    proposed = plans.sources.loc[plans.sources["source"] == PROPOSED, "period"].tolist()
    if proposed:
        notes.append(
            f"No approved plan of record for {', '.join(proposed)}: the proposed plan is scored instead."
        )
    return FollowUp(
        period=period,
        sources=plans.sources,
        scored=scored,
        accuracy_by_lag=accuracy,
        value_add=value_add(accuracy),
        trend=accuracy_trend(accuracy, p.alerts.tracking_window),
        bias=bias,
        adherence=plan_adherence(plans, history, supply, products, period),
        service=service,
        inventory=inventory_vs_target(inventory, products, plans, period),
        decision_log=log,
        alerts=alerts(accuracy, bias, service, log, p.alerts),
        notes=notes,
        service_target=p.alerts.service_target,
    )


# ---------------------------------------------------------------- report pieces
def status_callout(fu: FollowUp):
    """One sentence on the state of follow-up: first run, alerts, or all clear."""
    from .report import callout

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


def summary_tiles(fu: FollowUp):
    """KPI tiles: alerts, latest lag-1 and lag-3 accuracy, latest fill rate, open and overdue decisions."""
    from .report import tiles

    def latest(frame: pd.DataFrame, column: str, **where) -> tuple[float, str]:
        rows = frame
        for key, value in where.items():
            rows = rows[rows[key] == value] if len(rows) else rows
        if rows.empty:
            return math.nan, "no data yet"
        row = rows.sort_values("month").iloc[-1]
        return float(row[column]), f"{pd.Timestamp(row['month']):%Y-%m}"

    def pct(value: float) -> str:
        return "–" if math.isnan(value) else f"{value:.0%}"

    lag1, m1 = latest(fu.accuracy_by_lag, "wape", family=TOTAL, lag=1)
    lag3, m3 = latest(fu.accuracy_by_lag, "wape", family=TOTAL, lag=3)
    fill, mf = latest(fu.service, "fill_rate", family=TOTAL)
    open_ = int((fu.decision_log["state"].isin(["open", "overdue"])).sum()) if len(fu.decision_log) else 0
    overdue = int(fu.decision_log["overdue"].astype(bool).sum()) if len(fu.decision_log) else 0
    return tiles(
        [
            ("Alerts", str(len(fu.alerts)), "fired this cycle", "bad" if len(fu.alerts) else "good"),
            ("Accuracy, lag 1", pct(1 - lag1), m1, "info"),
            ("Accuracy, lag 3", pct(1 - lag3), m3, "info"),
            (
                "Fill rate (est.)",
                pct(fill),
                mf,
                "info" if math.isnan(fill) else "good" if fill >= fu.service_target else "warn",
            ),
            ("Decisions open", str(open_), f"{overdue} overdue", "bad" if overdue else "good"),
        ]
    )


_MONTH_AXIS = alt.X("yearmonth(month):T", title=None, axis=alt.Axis(format="%b %Y", tickCount="month"))


def _nothing(text: str):
    from .report import callout

    return callout(text, "info")


def accuracy_chart(trend: pd.DataFrame):
    """Accuracy (1 - WAPE) by target month, one line per lag."""
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
        .properties(width=charts.WIDTH)
    )


def bias_chart(bias: pd.DataFrame, limit: float):
    """Tracking signal per family with the alert limits drawn as dashed rules."""
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
                alt.value(charts.PALETTE[3]),
                alt.value(charts.PALETTE[0]),
            ),
            tooltip=[
                "family:N",
                alt.Tooltip("tracking_signal:Q", format="+.2f"),
                alt.Tooltip("bias:Q", format="+.1%"),
            ],
        )
    )
    limits = pd.DataFrame({"x": [-limit, limit]})
    rules = alt.Chart(limits).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    return (bars + rules).properties(width=charts.WIDTH)


def value_add_chart(value_add_frame: pd.DataFrame, lag: int = 1):
    """WAPE of the naive, statistical and consensus forecasts per cycle (lower is better)."""
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
        .properties(width=charts.WIDTH)
    )


def adherence_chart(adherence: pd.DataFrame):
    """Planned vs actual per month for each measure (all families)."""
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
        .properties(width=charts.WIDTH, height=160)
        .facet(row=alt.Row("measure:N", title=None))
        .resolve_scale(y="independent")
    )


def family_accuracy_chart(accuracy: pd.DataFrame, lag: int = 1, months: int = 12):
    """Heat map of the lag-`lag` accuracy (1 - WAPE) per family and target month."""
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
        .properties(width=charts.WIDTH)
    )
