"""The demand planning step: statistical forecast, backtest, hierarchy, pipeline blend, overrides.

`run(ctx)` (or `run(history=..., products=..., ...)`) returns a `DemandPlan` holding the step's
products (`forecast, demand_plan, error_stats, backtest, accuracy, overrides_audit`) and the tables
the report shows (history and forecast by family, model mix, value add, changes since last cycle).
Accuracy figures are fractions (0.25 is 25%); the report formats them as percentages.

Example:
    >>> dp = run(ctx)                                    # doctest: +SKIP
    >>> ctx.save(dp)                                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import metrics
from ..exceptions import DataError
from ..params import DemandParams
from ..steps import StepResult
from ..store import ReportsStore
from . import consensus as cons
from .cache import ForecastCache
from .engine import backtest as run_backtest
from .engine import forecast as run_forecast
from .engine import prepare
from .hierarchy import aggregate, reconcile
from .intervals import calibrate as calibrate_intervals
from .intervals import cross_calibrate, interval_scales, sum_bands

__all__ = [
    "PLAN_COLUMNS",
    "STABILITY_COLUMNS",
    "DemandPlan",
    "accuracy",
    "changes",
    "error_stats",
    "forecast_cache",
    "model_mix",
    "plan_history",
    "plan_stability",
    "run",
    "statistical_forecast",
]

STABILITY_COLUMNS = ["family", "months", "previous", "current", "net_change", "abs_change"]
TOTAL = "Total"


PLAN_COLUMNS = [
    "unique_id",
    "family",
    "ds",
    "statistical",
    "pipeline",
    "consensus",
    "yhat_lo_80",
    "yhat_hi_80",
    "yhat_lo_95",
    "yhat_hi_95",
]
MEMBER_COLUMNS = ("ETS", "Theta", "ARIMA", "DampedETS", "STLETS", "SBA", "TSB")


Z_80 = metrics.normal_quantile(80)


@dataclass
class DemandPlan(StepResult):
    """Everything step 2 produces; `products` is what `ctx.save` writes.

    Attributes:
        forecast: The statistical forecast per SKU and month, with intervals and member models.
        demand_plan: The consensus plan per SKU and month: statistical, pipeline, consensus, bounds.
        error_stats: Backtest errors per SKU (`error_stats`).
        backtest: The rolling-origin backtest (`salesops.demand.backtest`).
        accuracy: Backtest accuracy by model (`accuracy`).
        overrides_audit: One row per override applied or refused (`apply_overrides`).
        history: The demand history `unique_id, ds, y`.
        hierarchy: The reconciled forecast by level (`level, unique_id, ds, yhat`).
        blend: The learned pipeline blend (`BlendWeight`).
        value_add: Forecast value add of each stage (`salesops.metrics.forecast_value_add`).
        changes: The largest changes since the previous plan (`changes`).
        override_scores: Earlier cycles' overrides scored against the actuals since.
        stability: How much the plan moved since the last cycle (`plan_stability`).
        reconciliation: The reconciliation method used.
        notes: Sentences for the report about what was done.
        family_bands: Coherent bands of the consensus plan for each family and the total, from the
            distribution of the sum of the SKUs' errors (`intervals.sum_bands`: `level, unique_id, ds,
            consensus, rho, lo_L, hi_L`).
    """

    forecast: pd.DataFrame
    demand_plan: pd.DataFrame
    error_stats: pd.DataFrame
    backtest: pd.DataFrame
    accuracy: pd.DataFrame
    overrides_audit: pd.DataFrame
    history: pd.DataFrame
    hierarchy: pd.DataFrame
    blend: cons.BlendWeight
    value_add: pd.DataFrame
    changes: pd.DataFrame
    override_scores: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=cons.OVERRIDE_SCORE_COLUMNS)
    )
    stability: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STABILITY_COLUMNS))
    reconciliation: str = "bottom_up"
    notes: list[str] = field(default_factory=list)
    family_bands: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def products(self) -> dict[str, pd.DataFrame]:
        """The step's products by name."""
        return {
            "forecast": self.forecast,
            "demand_plan": self.demand_plan,
            "error_stats": self.error_stats,
            "backtest": self.backtest,
            "accuracy": self.accuracy,
            "overrides_audit": self.overrides_audit,
        }

    def model_mix(self) -> pd.DataFrame:
        """How many SKUs each model family forecasts (`model, skus, share`).

        Returns:
            `model_mix` of the forecast.
        """
        return model_mix(self.forecast)

    def family_view(self) -> pd.DataFrame:
        """History and plan by family for the chart: `family, ds, units, lo_80, hi_80, series`.

        Returns:
            The family history (`series` = history) then the consensus plan (`series` = consensus
            plan, with its 80% bounds).
        """
        hist = self.hierarchy_history()
        fam_hist = hist[hist["level"] == "family"].rename(columns={"unique_id": "family", "y": "units"})
        fam_hist = fam_hist.assign(series="history")[["family", "ds", "units", "series"]]
        bands = self.family_bands
        if bands is not None and not bands.empty and "lo_80" in bands.columns:  # the sum's distribution
            fut = bands[bands["level"] == "family"].rename(columns={"unique_id": "family"})
            fut = fut.rename(columns={"consensus": "units"})
        else:  # no backtest: the sum of the SKUs' bounds (as if every SKU erred the same way at once)
            fut = self.demand_plan.groupby(["family", "ds"], as_index=False)[
                ["consensus", "statistical", "yhat_lo_80", "yhat_hi_80"]
            ].sum()
            fut = fut.rename(columns={"consensus": "units", "yhat_lo_80": "lo_80", "yhat_hi_80": "hi_80"})
        fut["series"] = "consensus plan"
        return pd.concat(
            [fam_hist, fut[["family", "ds", "units", "lo_80", "hi_80", "series"]]], ignore_index=True
        )

    def hierarchy_history(self) -> pd.DataFrame:
        """The history summed up the hierarchy.

        Returns:
            `level, unique_id, ds, y` for the total, each family and each SKU (`aggregate`).
        """
        tags = self.demand_plan[["unique_id", "family"]].drop_duplicates("unique_id")
        return aggregate(self.history, tags, "y")

    def level_summary(self, months: int = 12) -> pd.DataFrame:
        """Coherent statistical forecast by level for the first `months`: `level, unique_id, units`
        (total and families; SKUs add up to their family, families to the total).

        Args:
            months: The number of months summed, from the first month planned.

        Returns:
            One row per node above SKU: `level, unique_id, units_next_<months>m`.
        """
        first = self.hierarchy["ds"].min()
        part = self.hierarchy[
            (self.hierarchy["ds"] < first + pd.DateOffset(months=months)) & (self.hierarchy["level"] != "sku")
        ]
        out = part.groupby(["level", "unique_id"], as_index=False, sort=False)["yhat"].sum()
        return out.rename(columns={"yhat": f"units_next_{months}m"})

    def tiles(self):
        """KPI tiles for the top of the report.

        Returns:
            The `Tiles` the notebook displays.
        """
        from ..report import Tile, tiles

        s = self.summary()
        better = s["wape"] < s["wape_naive"]
        return tiles(
            [
                Tile(
                    "SKUs planned", f"{s['skus']:,}", f"{len(self.demand_plan['ds'].unique())} months ahead"
                ),
                Tile("Plan, next 12 months", f"{s['units_12m']:,.0f} units", "consensus"),
                Tile(
                    "Backtest WAPE",
                    f"{s['wape']:.1%}",
                    f"seasonal naive {s['wape_naive']:.1%}",
                    "good" if better else "warn",
                ),
                Tile(
                    "80% interval coverage",
                    f"{s['coverage_80']:.0%}",
                    "target 80%",
                    "good" if 0.7 <= s["coverage_80"] <= 0.9 else "warn",
                ),
                Tile("Overrides applied", f"{s['overrides']}", f"pipeline weight {s['blend_weight']:.2f}"),
            ]
        )

    def accuracy_sentence(self) -> str:
        """One sentence comparing the statistical forecast with the seasonal naive benchmark.

        Returns:
            The sentence for the report (WAPE of both, coverage of the 80% intervals).
        """
        s = self.summary()
        if not np.isfinite(s["wape"]):
            return "No backtest: the history is too short to score the forecast yet."
        verb = "beats" if s["wape"] < s["wape_naive"] else "does not beat"
        return (
            f"Over the backtest the statistical forecast {verb} the seasonal naive benchmark: WAPE "
            f"{s['wape']:.1%} against {s['wape_naive']:.1%}; its 80% intervals held "
            f"{s['coverage_80']:.0%} of the actuals."
        )

    def pipeline_table(self, months: int = 6) -> pd.DataFrame:
        """Statistical, pipeline and consensus units by family for the first `months`.

        Args:
            months: The number of months summed, from the first month planned.

        Returns:
            One row per family: `family, statistical, pipeline, consensus`.
        """
        first = self.demand_plan["ds"].min()
        part = self.demand_plan[self.demand_plan["ds"] < first + pd.DateOffset(months=months)]
        return part.groupby("family", as_index=False)[["statistical", "pipeline", "consensus"]].sum(
            min_count=1
        )

    def summary(self) -> dict:
        """Headline figures for the tiles.

        Returns:
            `skus, units_12m, wape, wape_naive, coverage_80, overrides, blend_weight` (fractions for
            wape and coverage; NaN without a backtest).
        """
        acc = self.accuracy.set_index("model")
        stat = acc.loc["statistical"] if "statistical" in acc.index else None
        naive = acc.loc["seasonal naive"] if "seasonal naive" in acc.index else None
        first12 = self.demand_plan[
            self.demand_plan["ds"] < self.demand_plan["ds"].min() + pd.DateOffset(months=12)
        ]
        return {
            "skus": int(self.demand_plan["unique_id"].nunique()),
            "units_12m": float(first12["consensus"].sum()),
            "wape": float(stat["wape"]) if stat is not None else np.nan,
            "wape_naive": float(naive["wape"]) if naive is not None else np.nan,
            "coverage_80": float(stat["coverage_80"]) if stat is not None else np.nan,
            "overrides": int((self.overrides_audit["status"] == "applied").sum()),
            "blend_weight": self.blend.weight,
        }


# ---------------------------------------------------------------- pieces
def _family_tags(history: pd.DataFrame, products: pd.DataFrame | None) -> pd.DataFrame:
    ids = pd.DataFrame({"unique_id": history["unique_id"].astype(str).unique()})
    if products is None or products.empty or "sku" not in products.columns:
        return ids.assign(family="(no family)")
    fam = products.assign(unique_id=products["sku"].astype(str))[["unique_id", "family"]].drop_duplicates(
        "unique_id"
    )
    out = ids.merge(fam, on="unique_id", how="left")
    out["family"] = out["family"].fillna("(no family)").astype(str)
    return out


def _seasonal_naive(bt: pd.DataFrame, history: pd.DataFrame, season_length: int) -> pd.Series:
    """Seasonal naive forecast for each backtest row: the actual one season before, if known at the cutoff."""
    lookup = history.set_index(["unique_id", "ds"])["y"]
    back = bt["ds"] - pd.DateOffset(months=season_length)
    while True:
        late = back > bt["cutoff"]
        if not late.any():
            break
        back = back.where(~late, back - pd.DateOffset(months=season_length))
    keys = pd.MultiIndex.from_arrays([bt["unique_id"], back])
    seasonal = pd.Series(lookup.reindex(keys).to_numpy(), index=bt.index)
    last = pd.Series(
        lookup.reindex(pd.MultiIndex.from_arrays([bt["unique_id"], bt["cutoff"]])).to_numpy(), index=bt.index
    )
    return seasonal.fillna(last)


def error_stats(bt: pd.DataFrame, history: pd.DataFrame, season_length: int = 12) -> pd.DataFrame:
    """Per SKU from the backtest: `unique_id, sigma, mase, wape, bias`.

    `sigma` is the standard deviation about zero (root mean square) of the 1-step-ahead backtest
    errors in units (feeds safety stock); with fewer than two 1-step errors it comes from the width
    of the 80% interval at step 1 instead. `mase`, `wape` and `bias` cover every backtest step;
    `wape` and `bias` are fractions (0.25 = 25 %), as every metric: wape = sum|F - A| / sum|A|, bias = sum(F - A) / sum|A|
    (positive = over-forecast). The executive pack and the pre-S&OP exceptions read them as fractions.

    Args:
        bt: The backtest (`salesops.demand.backtest`).
        history: The demand history `unique_id, ds, y` (for MASE's scale).
        season_length: The season length (12 for monthly data).

    Returns:
        One row per SKU of the backtest: `unique_id, sigma, mase, wape, bias`.
    """
    rows = []
    histories = {uid: g["y"].to_numpy() for uid, g in history.groupby("unique_id", sort=False)}
    for uid, g in bt.groupby("unique_id", sort=False):
        one = g[g["step"] == 1]
        err = (one["y"] - one["yhat"]).to_numpy()
        if err.size >= 2:
            sigma = float(np.sqrt(np.mean(err**2)))
        elif {"yhat_lo_80", "yhat_hi_80"} <= set(g.columns) and len(one):
            sigma = float((one["yhat_hi_80"] - one["yhat_lo_80"]).mean() / (2 * Z_80))
        else:
            sigma = np.nan
        train = histories.get(uid, np.array([]))
        rows.append(
            {
                "unique_id": uid,
                "sigma": sigma,
                "mase": metrics.mase(g["y"], g["yhat"], train[train != np.inf], season_length),
                "wape": metrics.wape(g["y"], g["yhat"]),
                "bias": metrics.relative_bias(g["y"], g["yhat"]),
            }
        )
    return pd.DataFrame(rows, columns=["unique_id", "sigma", "mase", "wape", "bias"])


def accuracy(
    bt: pd.DataFrame, history: pd.DataFrame, season_length: int = 12, levels=(80, 95)
) -> pd.DataFrame:
    """Backtest accuracy by model: `model, series, wape, smape, mase, bias, coverage_80, coverage_95`.

    MASE is the mean over series.

    Args:
        bt: The backtest (`salesops.demand.backtest`).
        history: The demand history `unique_id, ds, y` (for the naive benchmark and MASE's scale).
        season_length: The season length (12 for monthly data).
        levels: The interval levels whose coverage is scored.

    Returns:
        One row per model: the seasonal naive benchmark, the statistical (default) forecast and each
        member model (scored on the series it forecast).
    """
    bt = bt.copy()
    bt["seasonal naive"] = _seasonal_naive(bt, history, season_length)
    bt["statistical"] = bt["yhat"]
    cols = ["seasonal naive", "statistical"] + [c for c in MEMBER_COLUMNS if c in bt.columns]
    histories = {uid: g["y"].to_numpy() for uid, g in history.groupby("unique_id", sort=False)}
    rows = []
    for col in cols:
        part = bt.dropna(subset=[col])
        if part.empty:
            continue
        per_series = [
            metrics.mase(
                g["y"], g[col], histories[uid][: int((history["unique_id"] == uid).sum())], season_length
            )
            for uid, g in part.groupby("unique_id", sort=False)
        ]
        row = {
            "model": col,
            "series": int(part["unique_id"].nunique()),
            "wape": metrics.wape(part["y"], part[col]),
            "smape": metrics.smape(part["y"], part[col]),
            "mase": float(np.nanmean(per_series)),
            "bias": metrics.relative_bias(part["y"], part[col]),
        }
        for lv in levels:
            row[f"coverage_{lv}"] = (
                metrics.coverage(part["y"], part[f"yhat_lo_{lv}"], part[f"yhat_hi_{lv}"])
                if col == "statistical" and f"yhat_lo_{lv}" in part
                else np.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def model_mix(fc: pd.DataFrame) -> pd.DataFrame:
    """SKUs per model family (`model, skus, share`); fallbacks are grouped under their model, forecasts
    fitted on a recent regime only (after a restart or a collapse of demand) under `... (recent regime)`.

    Args:
        fc: The forecast, with the `model` that ran for each SKU.

    Returns:
        One row per model family, the most frequent first; `share` is a fraction.

    Example:
        >>> fc = pd.DataFrame({"unique_id": ["a", "b"], "model": ["ETS(A,N,N)", "Naive (fallback: 2 points)"]})
        >>> model_mix(fc)["model"].tolist()
        ['ETS', 'Naive (fallback)']
    """
    models = (
        fc.groupby("unique_id")["model"].first().str.replace(r"\s*\(fallback:.*", " (fallback)", regex=True)
    )
    models = models.str.replace(r"^ETS\([^)]*\)", "ETS", regex=True).str.replace(
        r"^ARIMA\([^)]*\)(\+season)?", "ARIMA", regex=True
    )
    models = models.str.replace(r"\s*\(recent regime: \d+ months\)", " (recent regime)", regex=True)
    out = models.value_counts().rename_axis("model").reset_index(name="skus")
    out["share"] = out["skus"] / out["skus"].sum()
    return out


def _earlier_audits(out_dir: Path, period: str) -> dict[str, pd.DataFrame]:
    """Earlier periods' published `overrides_audit` products, by period."""
    return ReportsStore(out_dir).collect("demand_planning", "overrides_audit", before=period)


def _earlier_plans(out_dir: Path, period: str) -> dict[str, pd.DataFrame]:
    """Earlier periods' published `demand_plan` products, by period."""
    plans = ReportsStore(out_dir).collect("demand_planning", "demand_plan", before=period)
    return {name: frame.assign(ds=pd.to_datetime(frame["ds"])) for name, frame in plans.items()}


def plan_stability(
    current: pd.DataFrame, previous: pd.DataFrame | None, column: str = "consensus"
) -> pd.DataFrame:
    """How much the plan moved since the last cycle, per family and in total (planners' "nervousness").

    Compares the two plans over the SKU-months both cover. `net_change` is the change of the total
    (sum current / sum previous - 1); `abs_change` is the nervousness: the sum of every SKU-month's
    absolute change over the previous plan's total, so moves that cancel out in a family still count.

    Args:
        current: This cycle's plan (`unique_id, family, ds` and `column`).
        previous: The last cycle's plan, same columns (None or empty: nothing to compare).
        column: The plan column compared.

    Returns:
        `STABILITY_COLUMNS`, one row per family then a `Total` row (fractions; empty without a
        previous plan).

    Example:
        >>> ds = pd.to_datetime(["2026-11-01", "2026-12-01"])
        >>> old = pd.DataFrame({"unique_id": ["a", "a"], "family": "F", "ds": ds, "consensus": [100.0, 100.0]})
        >>> new = old.assign(consensus=[110.0, 90.0])
        >>> plan_stability(new, old)[["family", "net_change", "abs_change"]].values.tolist()
        [['F', 0.0, 0.1], ['Total', 0.0, 0.1]]
    """
    if previous is None or previous.empty:
        return pd.DataFrame(columns=STABILITY_COLUMNS)
    both = current[["unique_id", "family", "ds", column]].merge(
        previous[["unique_id", "ds", column]].rename(columns={column: "previous"}), on=["unique_id", "ds"]
    )
    if both.empty:
        return pd.DataFrame(columns=STABILITY_COLUMNS)
    both = both.rename(columns={column: "current"}).assign(
        moved=lambda f: (f["current"] - f["previous"]).abs()
    )
    rows = []
    for family, part in [*both.groupby("family", sort=True), (TOTAL, both)]:
        prev, cur = part["previous"].sum(), part["current"].sum()
        rows.append(
            {
                "family": family,
                "months": int(part["ds"].nunique()),
                "previous": prev,
                "current": cur,
                "net_change": cur / prev - 1 if prev else np.nan,
                "abs_change": part["moved"].sum() / prev if prev else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=STABILITY_COLUMNS)


def changes(new: pd.DataFrame, old: pd.DataFrame | None, n: int = 10) -> pd.DataFrame:
    """Largest changes of the consensus plan by SKU over the months both plans cover:
    `unique_id, family, previous, current, change, change_pct` (largest absolute change first).

    Args:
        new: This cycle's demand plan (`unique_id, family, ds, consensus`).
        old: The previous cycle's demand plan, or None.
        n: How many SKUs to keep.

    Returns:
        The `n` largest changes; empty without a previous plan or common months.
    """
    cols = ["unique_id", "family", "previous", "current", "change", "change_pct"]
    if old is None or old.empty:
        return pd.DataFrame(columns=cols)
    both = new.merge(
        old[["unique_id", "ds", "consensus"]].rename(columns={"consensus": "previous"}),
        on=["unique_id", "ds"],
        how="inner",
    )
    if both.empty:
        return pd.DataFrame(columns=cols)
    out = both.groupby(["unique_id", "family"], as_index=False).agg(
        previous=("previous", "sum"), current=("consensus", "sum")
    )
    out["change"] = out["current"] - out["previous"]
    out["change_pct"] = out["change"] / out["previous"].where(out["previous"] != 0)
    return (
        out.reindex(out["change"].abs().sort_values(ascending=False).index)
        .head(n)[cols]
        .reset_index(drop=True)
    )


def _value_add(
    bt: pd.DataFrame, history: pd.DataFrame, earlier: dict[str, pd.DataFrame], season_length: int
) -> pd.DataFrame:
    """Forecast value add: seasonal naive -> statistical (backtest) and, where earlier plans have
    actuals now, statistical -> consensus (pipeline and overrides) on those plans."""
    bt = bt.assign(naive=_seasonal_naive(bt, history, season_length))
    fva = metrics.forecast_value_add(bt["y"], {"seasonal naive": bt["naive"], "statistical": bt["yhat"]})
    fva["evidence"] = f"backtest, {len(bt):,} SKU-months"
    if earlier:
        past = pd.concat([f.assign(plan_period=k) for k, f in earlier.items()], ignore_index=True)
        scored = past[["unique_id", "ds", "statistical", "consensus"]].merge(
            history, on=["unique_id", "ds"], how="inner"
        )
        if not scored.empty:
            plan_fva = metrics.forecast_value_add(
                scored["y"], {"statistical": scored["statistical"], "consensus": scored["consensus"]}
            )
            plan_fva = plan_fva.iloc[1:].assign(evidence=f"earlier plans, {len(scored):,} SKU-months")
            fva = pd.concat([fva, plan_fva], ignore_index=True)
    return fva.rename(columns={"error": "wape"})


# ---------------------------------------------------------------- the step
def plan_history(history: pd.DataFrame, period: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The history the plan of `period` is fitted on: months before the period, every series padded
    with zeros through the month before it (no sales since = zeros).

    The demand step and the backfill's forecast warm-up both use it, so their forecasts of the same
    history share cache entries.

    Args:
        history: Monthly demand, `unique_id, ds, y`.
        period: The first month planned (`YYYY-MM`); None = the month after the last in the history.

    Returns:
        The prepared history and notes for the report.

    Raises:
        DataError: No month of history before the period.
    """
    notes: list[str] = []
    hist = prepare(history)
    start = pd.Timestamp(f"{period}-01") if period else hist["ds"].max() + pd.DateOffset(months=1)
    hist = hist[hist["ds"] < start]
    if hist.empty:
        raise DataError(
            f"demand_history has no months before {start:%Y-%m}; the plan needs history up to the "
            "month before the period"
        )
    # every series runs through the month before the period (no sales since = zeros)
    last = start - pd.DateOffset(months=1)
    ends = hist.groupby("unique_id")["ds"].max()
    stale = ends[ends < last].index
    if len(stale):
        pad = [
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "ds": pd.date_range(ends[uid] + pd.DateOffset(months=1), last, freq="MS"),
                    "y": 0.0,
                }
            )
            for uid in stale
        ]
        hist = pd.concat([hist, *pad], ignore_index=True).sort_values(["unique_id", "ds"], ignore_index=True)
        notes.append(
            f"{len(stale)} SKUs had no sales recorded in the last months; those months count as zero."
        )
    return hist, notes


def _levels(params: DemandParams) -> tuple[int, ...]:
    return tuple(sorted(set(params.levels) | {80, 95}))


def forecast_cache(params: DemandParams, out: str | Path | None) -> ForecastCache | None:
    """The forecast cache of the reports folder `out` for these settings (None without a folder).

    Args:
        params: The `demand:` parameters (horizon, season length, levels).
        out: The reports folder.

    Returns:
        The cache under `OUT/.cache/forecasts`, or None.
    """
    if not out:
        return None
    return ForecastCache(
        Path(out) / ".cache" / "forecasts", params.horizon, params.season_length, _levels(params)
    )


def statistical_forecast(
    hist: pd.DataFrame, params: DemandParams, cache: ForecastCache | None, **engine_args
) -> pd.DataFrame:
    """The plan's statistical forecast of a prepared history (`plan_history`), through the cache.

    The demand step and the backfill's warm-up both call it, so they share cache entries. Intervals
    are calibrated later, on the step's own backtest.

    Args:
        hist: The prepared history.
        params: The `demand:` parameters.
        cache: The forecast cache, or None.
        **engine_args: `engine`, `workers`, `scheduler`, `progress` for `salesops.demand.forecast`.

    Returns:
        The forecast frame (`salesops.demand.forecast`).
    """
    return run_forecast(
        hist,
        params.horizon,
        params.season_length,
        _levels(params),
        cache=cache,
        calibrate=False,
        **engine_args,
    )


def run(
    ctx=None,
    *,
    history: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    pipeline: pd.DataFrame | None = None,
    params: DemandParams | None = None,
    period: str | None = None,
    out: str | Path | None = None,
    progress=None,
) -> DemandPlan:
    """Runs demand planning for a period: from a step context, or from explicit frames.

    With `ctx`, reads `data_collection/demand_history`, the `products` table and (when present)
    `sales_performance/pipeline_forecast`; parameters come from `ctx.p.demand`. Explicit arguments
    win. History is cut at the month before the period; the plan starts at the period.

    Args:
        ctx: The demand planning step's context (or None with explicit frames).
        history: Monthly demand, `unique_id, ds, y`.
        products: The products table (`sku, family`), for the hierarchy.
        pipeline: The sales pipeline forecast (`ds, sku, family, units, amount`).
        params: The `demand:` parameters.
        period: The first month planned (`YYYY-MM`).
        out: The reports folder, where earlier periods' plans are read.
        progress: A callback for forecasting progress.

    Returns:
        The `DemandPlan`; `ctx.save(dp)` writes its products.

    Raises:
        DataError: No history, or none before the period.

    Example:
        >>> dp = run(history=hist, products=prods, params=DemandParams(horizon=12), period="2026-11")  # doctest: +SKIP
        >>> dp.demand_plan.columns.tolist()[:6]                                                        # doctest: +SKIP
        ['unique_id', 'family', 'ds', 'statistical', 'pipeline', 'consensus']
    """
    if ctx is not None:
        params = params or ctx.p.demand
        period = period or ctx.period
        out = out or ctx.p.out
        history = history if history is not None else ctx.read("data_collection", "demand_history")
        if products is None:
            products = ctx.table("products", default=None)
        if pipeline is None:
            pipeline = ctx.read("sales_performance", "pipeline_forecast", default=None)
    params = params or DemandParams()
    if history is None:
        raise DataError("demand planning needs a demand history (unique_id, ds, y); run step data_collection")
    hist, notes = plan_history(history, period)
    levels = _levels(params)
    m, h = params.season_length, params.horizon
    cache = forecast_cache(params, out)
    engine_args = {"engine": params.engine, "workers": params.workers, "scheduler": params.dask_scheduler}

    fc = statistical_forecast(hist, params, cache, progress=progress, **engine_args)
    tags = _family_tags(hist, products)
    bt = pd.DataFrame()
    if params.backtest_windows > 0:
        # the windows are the forecasts of the last cycles (origins 1..windows months back, same
        # horizon), scored on the months that have actuals now; the cache holds those made before
        try:
            bt = run_backtest(
                hist,
                h,
                windows=params.backtest_windows,
                step=1,
                season_length=m,
                level=levels,
                min_train=max(12, 2 * m),
                partial=True,
                cache=cache,
                **engine_args,
            )
        except DataError as exc:
            notes.append(f"No backtest: {exc}")
    if not bt.empty:  # calibrated intervals: conformal multipliers per step from the backtest errors
        nonneg = hist.groupby("unique_id")["y"].min() >= 0
        fc = calibrate_intervals(fc, interval_scales(bt, levels), levels, nonneg)
        bt = cross_calibrate(bt, levels, nonneg)  # each origin with the others' multipliers
    # hierarchy
    method = params.reconciliation
    stat = fc[["unique_id", "ds", "yhat"]]
    if method in ("mint_wls", "ols"):
        agg_hist = aggregate(hist, tags, "y")
        upper = agg_hist[agg_hist["level"] != "sku"].assign(
            unique_id=lambda f: f["level"] + ":" + f["unique_id"]
        )[["unique_id", "ds", "y"]]
        upper_fc = run_forecast(upper, h, m, levels, cache=cache, **engine_args)
        upper_fc[["level", "unique_id"]] = upper_fc["unique_id"].str.split(":", n=1, expand=True)
        base = pd.concat(
            [stat.assign(level="sku"), upper_fc[["level", "unique_id", "ds", "yhat"]]], ignore_index=True
        )
        sd1 = (
            pd.concat([fc, upper_fc.drop(columns="level")])
            .groupby("unique_id")
            .apply(
                lambda g: ((g["yhat_hi_80"] - g["yhat_lo_80"]).iloc[0] / (2 * Z_80)) ** 2,
                include_groups=False,
            )
        )
        hier = reconcile(base, tags, method, variances=sd1)
    else:
        hier = reconcile(stat, tags, "bottom_up")
    sku_rec = hier[hier["level"] == "sku"][["unique_id", "ds", "yhat"]].rename(
        columns={"yhat": "statistical"}
    )
    frame = fc.merge(sku_rec, on=["unique_id", "ds"], how="left").merge(tags, on="unique_id", how="left")
    delta = frame["statistical"] - frame["yhat"]
    for lv in levels:
        for side in ("lo", "hi"):
            frame[f"yhat_{side}_{lv}"] = frame[f"yhat_{side}_{lv}"] + delta
    if (frame["yhat"] >= 0).all():
        frame["statistical"] = frame["statistical"].clip(lower=0)
    # sales input
    earlier = _earlier_plans(Path(out), str(period)) if out and period else {}
    pipe = cons.pipeline_units(pipeline, frame[["unique_id", "ds", "statistical"]], tags)
    if pipeline is None or pipeline.empty:
        notes.append(
            "The sales pipeline forecast is empty: the consensus starts from the statistical forecast."
        )
    evidence = pd.DataFrame()
    if earlier:
        past = pd.concat(earlier.values(), ignore_index=True)
        if "pipeline" in past.columns:
            evidence = past[["unique_id", "ds", "statistical", "pipeline"]].merge(
                hist, on=["unique_id", "ds"], how="inner"
            )
    weight = cons.blend_weight(evidence) if params.pipeline_blend else cons.BlendWeight(0.0, 0)
    blended = cons.blend(frame[["unique_id", "ds", "statistical"]], pipe, weight.weight)
    frame = frame.merge(
        blended[["unique_id", "ds", "pipeline", "blended"]], on=["unique_id", "ds"], how="left"
    )
    frame["consensus"] = frame["blended"]
    bounds = tuple(f"yhat_{s}_{lv}" for lv in levels for s in ("lo", "hi"))
    frame, audit = cons.apply_overrides(frame, params.overrides, "consensus", scale=bounds)
    demand_plan = frame[PLAN_COLUMNS].sort_values(["unique_id", "ds"], ignore_index=True)
    # family and total bands from the distribution of the sum (intervals.sum_bands), not sums of bounds
    bands = sum_bands(
        demand_plan[["unique_id", "ds", "consensus"]].merge(fc, on=["unique_id", "ds"], how="left"),
        tags.set_index("unique_id")["family"],
        levels,
        bt=bt if not bt.empty else None,
        center="consensus",
    )
    # backtest products
    if not bt.empty:
        stats = error_stats(bt, hist, m)
        acc = accuracy(bt, hist, m, levels)
        fva = _value_add(bt, hist, earlier, m)
    else:
        one = fc[fc["ds"] == fc["ds"].min()]
        stats = pd.DataFrame(
            {
                "unique_id": one["unique_id"],
                "sigma": (one["yhat_hi_80"] - one["yhat_lo_80"]) / (2 * Z_80),
                "mase": np.nan,
                "wape": np.nan,
                "bias": np.nan,
            }
        )
        acc = pd.DataFrame(
            columns=["model", "series", "wape", "smape", "mase", "bias", "coverage_80", "coverage_95"]
        )
        fva = pd.DataFrame(columns=["forecast", "wape", "value_add", "vs_baseline", "evidence"])
    previous = earlier[max(earlier)] if earlier else None
    return DemandPlan(
        forecast=fc,
        demand_plan=demand_plan,
        error_stats=stats,
        backtest=bt,
        accuracy=acc,
        overrides_audit=audit,
        history=hist,
        hierarchy=hier,
        blend=weight,
        value_add=fva,
        changes=changes(demand_plan, previous),
        stability=plan_stability(demand_plan, previous),
        override_scores=cons.override_value_add(
            _earlier_audits(Path(out), str(period)) if out and period else {}, hist
        ),
        reconciliation=method,
        notes=notes,
        family_bands=bands,
    )
