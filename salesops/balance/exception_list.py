"""The pre-S&OP exceptions: overloads, shortages, excess stock, budget gaps and forecast bias, ranked
by the money at risk."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..params import Adjustment
from ..report import money
from ._common import supply_frames
from .financials import shipments, sku_prices

__all__ = ["EXCEPTION_COLUMNS", "exceptions"]

EXCEPTION_COLUMNS = ["kind", "subject", "month", "value_at_risk", "detail"]


def exceptions(
    gap: pd.DataFrame,
    supply_plan,
    products: pd.DataFrame,
    demand_plan: pd.DataFrame,
    error_stats: pd.DataFrame | None = None,
    bias_limit: float = 0.1,
    price_changes: Sequence[Adjustment] = (),
    budget_tolerance: float = 0.0,
) -> pd.DataFrame:
    """Exceptions ranked by value at risk.

    * overload: hours needed beyond regular + overtime capacity, valued at the resource's revenue
      per hour; one row per resource, month = first overloaded month.
    * shortage: units not served in their month (`shipments`) x unit price, per family.
    * excess: the peak month's excess units x unit cost, per family.
    * budget_gap: budget revenue - plan revenue over the budgeted months, per family, when the plan
      falls short of the budget by more than `budget_tolerance`.
    * bias: families whose demand-weighted backtest bias exceeds `bias_limit`;
      value = |bias| x the family's planned revenue.

    Args:
        gap: The output of `gaps`.
        supply_plan: A `salesops.supply.SupplyPlan`, or a mapping holding its frames.
        products: The products table (prices, costs, resources, hours per unit).
        demand_plan: The demand plan (`unique_id, family, ds, consensus`).
        error_stats: The backtest's error statistics (`unique_id, bias`), or None for no bias rows.
        bias_limit: The bias (a fraction) beyond which a family is an exception.
        price_changes: Percentage price changes (`sku_prices`).
        budget_tolerance: The shortfall against budget (a fraction) a family may have unflagged.

    Returns:
        `kind, subject, month, value_at_risk, detail` with a positive value at risk, largest first.

    Example:
        >>> ex = exceptions(gap, supply_plan, products, demand_plan)  # doctest: +SKIP
        >>> ex.columns.tolist()  # doctest: +SKIP
        ['kind', 'subject', 'month', 'value_at_risk', 'detail']
    """
    frames = supply_frames(supply_plan)
    rows: list[dict] = []
    rows += _overloads(frames["capacity_load"], products, demand_plan, price_changes)
    proj = frames["inventory_projection"].copy()
    proj["month"] = pd.to_datetime(proj["month"])
    prices = sku_prices(products, sorted(proj["month"].unique()), price_changes).drop(columns="family")
    proj = proj.merge(prices, on=["unique_id", "month"], how="left")
    rows += _shortages(proj)
    rows += _excess(proj)
    rows += _budget_gaps(gap, budget_tolerance)
    if error_stats is not None and len(error_stats):
        rows += _bias(error_stats, gap, demand_plan, bias_limit)
    out = pd.DataFrame(rows, columns=EXCEPTION_COLUMNS)
    out = out[out["value_at_risk"] > 0]
    out["month"] = pd.to_datetime(out["month"])
    return out.sort_values(
        ["value_at_risk", "kind", "subject"], ascending=[False, True, True], ignore_index=True
    )


def _overloads(
    load: pd.DataFrame, products: pd.DataFrame, demand_plan: pd.DataFrame, price_changes: Sequence[Adjustment]
) -> list[dict]:
    if load.empty or "resource" not in products.columns:
        return []
    load = load.copy()
    load["month"] = pd.to_datetime(load["month"])
    cap = load["available_hours"] + load["overtime_hours"].fillna(0)
    load["over_hours"] = (load["required_hours"] - cap).clip(lower=0)
    rate = _revenue_per_hour(products, demand_plan, price_changes)
    rows = []
    for resource, grp in load[load["over_hours"] > 0].groupby("resource"):
        peak = grp.loc[grp["utilisation"].idxmax()]
        hours = grp["over_hours"].sum()
        rows.append(
            {
                "kind": "overload",
                "subject": str(resource),
                "month": grp["month"].min(),
                "value_at_risk": hours * rate.get(resource, 0.0),
                "detail": f"{hours:,.0f} h beyond capacity incl. overtime in {len(grp)} month(s); "
                + (
                    f"peak {peak['utilisation']:.0%} in {peak['month']:%Y-%m}"
                    if np.isfinite(peak["utilisation"])
                    else f"closed in {peak['month']:%Y-%m}"
                ),
            }
        )
    return rows


def _revenue_per_hour(
    products: pd.DataFrame, demand_plan: pd.DataFrame, price_changes: Sequence[Adjustment]
) -> dict:
    dp = demand_plan[["unique_id", "ds", "consensus"]].rename(columns={"ds": "month"})
    prices = sku_prices(products, sorted(dp["month"].unique()), price_changes)
    dp = dp.merge(prices, on=["unique_id", "month"]).merge(
        products[["sku", "resource", "hours_per_unit"]].rename(columns={"sku": "unique_id"}), on="unique_id"
    )
    dp["revenue"] = dp["consensus"] * dp["unit_price"]
    dp["hours"] = dp["consensus"] * dp["hours_per_unit"].fillna(0)
    sums = dp.groupby("resource")[["revenue", "hours"]].sum()
    return (sums["revenue"] / sums["hours"].where(sums["hours"] > 0)).fillna(0).to_dict()


def _shortages(proj: pd.DataFrame) -> list[dict]:
    if "shortage" not in proj.columns:
        return []
    proj = shipments(proj)
    short = proj[proj["late_units"] > 0].copy()
    short["value"] = short["late_units"] * short["unit_price"]
    rows = []
    for family, grp in short.groupby("family"):
        worst = grp.groupby("unique_id")["value"].sum().sort_values(ascending=False)
        rows.append(
            {
                "kind": "shortage",
                "subject": str(family),
                "month": grp["month"].min(),
                "value_at_risk": grp["value"].sum(),
                "detail": f"{grp['late_units'].sum():,.0f} units late on {grp['unique_id'].nunique()} SKU(s), "
                f"first in {grp['month'].min():%Y-%m}; worst {', '.join(map(str, worst.index[:3]))}",
            }
        )
    return rows


def _excess(proj: pd.DataFrame) -> list[dict]:
    if "excess" not in proj.columns:
        return []
    proj = proj.assign(value=proj["excess"].clip(lower=0) * proj["unit_cost"])
    by_month = proj.groupby(["family", "month"], as_index=False)[["value", "excess"]].sum()
    rows = []
    for family, grp in by_month[by_month["value"] > 0].groupby("family"):
        peak = grp.loc[grp["value"].idxmax()]
        skus = proj[(proj["family"] == family) & (proj["month"] == peak["month"]) & (proj["excess"] > 0)]
        rows.append(
            {
                "kind": "excess",
                "subject": str(family),
                "month": peak["month"],
                "value_at_risk": peak["value"],
                "detail": f"{peak['excess']:,.0f} units above target stock at peak ({peak['month']:%Y-%m}) "
                f"on {skus['unique_id'].nunique()} SKU(s), valued at cost",
            }
        )
    return rows


def _budget_gaps(gap: pd.DataFrame, tolerance: float = 0.0) -> list[dict]:
    budgeted = gap.dropna(subset=["budget_revenue"])
    rows = []
    for family, grp in budgeted.groupby("family"):
        plan, target = grp["revenue"].sum(), grp["budget_revenue"].sum()
        if target <= plan * (1 + 1e-12) or plan >= target * (1 - tolerance):
            continue
        behind = grp[grp["revenue_gap"] < 0]
        rows.append(
            {
                "kind": "budget_gap",
                "subject": str(family),
                "month": behind["month"].min() if len(behind) else grp["month"].min(),
                "value_at_risk": target - plan,
                "detail": f"plan {money(plan)} vs budget {money(target)} ({plan / target - 1:+.1%}) "
                f"over the next {grp['month'].nunique()} months",
            }
        )
    return rows


def _bias(
    error_stats: pd.DataFrame, gap: pd.DataFrame, demand_plan: pd.DataFrame, limit: float
) -> list[dict]:
    stats = error_stats.dropna(subset=["bias"])
    weights = demand_plan.groupby(["unique_id", "family"], as_index=False)["consensus"].sum()
    stats = stats.merge(weights, on="unique_id")
    rows = []
    revenue = gap.groupby("family")["demand_revenue"].sum()
    first_month = gap["month"].min()
    for family, grp in stats.groupby("family"):
        total = grp["consensus"].sum()
        bias = (
            float((grp["bias"] * grp["consensus"]).sum() / total) if total > 0 else float(grp["bias"].mean())
        )
        if abs(bias) <= limit:
            continue
        beyond = int((grp["bias"].abs() > limit).sum())
        direction = "high (over-forecast)" if bias > 0 else "low (under-forecast)"
        rows.append(
            {
                "kind": "bias",
                "subject": str(family),
                "month": first_month,
                "value_at_risk": abs(bias) * revenue.get(family, 0.0),
                "detail": f"forecast ran {abs(bias):.0%} {direction} in the backtest; "
                f"{beyond} of {len(grp)} SKU(s) beyond ±{limit:.0%}",
            }
        )
    return rows
