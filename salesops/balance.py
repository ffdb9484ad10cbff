"""Pre-S&OP: the balance of demand, supply and budget, exceptions, scenarios and recommendations.

Money follows one definition everywhere (`finance`):

* revenue   = shipped units x unit price (after price changes); shipped = demand + backlog served - new
  backlog (`shipments`); backlog left at the end of the horizon is a lost sale
* cogs      = shipped units x unit cost
* overtime  = overtime hours x hourly cost x overtime premium (regular labour is inside unit cost)
* holding   = on-hand units x unit cost x holding cost rate, each month
* margin    = revenue - cogs - overtime - holding

Scenarios change the inputs (demand plan, capacity, prices, new products), re-run supply through
`salesops.supply.plan` and finance through `finance`, and are compared with the baseline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd

from .exceptions import DataError, ParameterError, PlanError
from .params import Adjustment, Launch, Params, Scenario, SupplyParams

BASELINE = "baseline"
SUPPLY_TABLES = ("products", "inventory", "capacity", "supply")

GAP_COLUMNS = [
    "family",
    "month",
    "demand_units",
    "production_units",
    "shipped_units",
    "shortage_units",
    "budget_units",
    "demand_revenue",
    "revenue",
    "budget_revenue",
    "revenue_gap",
    "cogs",
    "overtime_cost",
    "holding_cost",
    "cost",
    "margin",
    "margin_pct",
    "inventory_value",
]
EXCEPTION_COLUMNS = ["kind", "subject", "month", "value_at_risk", "detail"]
COMPARISON_COLUMNS = [
    "scenario",
    "description",
    "revenue",
    "revenue_vs_baseline",
    "cost",
    "margin",
    "margin_vs_baseline",
    "margin_pct",
    "fill_rate",
    "inventory_value",
    "weeks_of_supply",
    "utilisation",
    "peak_utilisation",
    "overload_hours",
    "meets_service",
    "recommended",
    "verdict",
    "ran",
]
RECOMMENDATION_COLUMNS = [
    "id",
    "kind",
    "subject",
    "month",
    "value_at_risk",
    "title",
    "owner",
    "due",
    "options",
]

OWNERS = {
    "overload": "Head of Operations",
    "shortage": "Supply Planning Manager",
    "excess": "Supply Planning Manager",
    "budget_gap": "Sales Director",
    "bias": "Demand Planning Manager",
}


# ---------------------------------------------------------------- small helpers
def _month(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value).to_period("M").to_timestamp()


def _frames(supply_plan) -> dict[str, pd.DataFrame]:
    """The four frames of a `SupplyPlan` (or of a mapping holding them)."""
    names = ("capacity_load", "production_plan", "inventory_projection", "strategy_summary")
    if isinstance(supply_plan, Mapping):
        return {n: supply_plan[n] for n in names}
    return {n: getattr(supply_plan, n) for n in names}


def _chosen(production_plan: pd.DataFrame, strategy: str) -> pd.DataFrame:
    """The family production plan of the strategy in use (all rows when there is no strategy column)."""
    if "strategy" not in production_plan.columns:
        return production_plan
    chosen = production_plan[production_plan["strategy"] == strategy]
    if chosen.empty:
        known = ", ".join(sorted(production_plan["strategy"].astype(str).unique()))
        raise ParameterError(
            f"supply.strategy '{strategy}' is not in the production plan (strategies: {known}); "
            "set supply.strategy to one of them"
        )
    return chosen


def _family_of(demand_plan: pd.DataFrame, products: pd.DataFrame) -> pd.Series:
    """unique_id -> family, from the demand plan and the products table."""
    pairs = pd.concat(
        [
            demand_plan[["unique_id", "family"]],
            products[["sku", "family"]].rename(columns={"sku": "unique_id"}),
        ]
    )
    return pairs.drop_duplicates("unique_id").set_index("unique_id")["family"]


def _factor(
    keys: pd.DataFrame, adjustments: Sequence[Adjustment], month_col: str, match: Mapping[str, str]
) -> np.ndarray:
    """Multiplier per row of `keys` from percentage adjustments (each applies from its `from` month
    through its `until` month, both optional).

    `match` maps an Adjustment attribute (family, sku, resource) to the column of `keys` it selects.
    """
    factor = np.ones(len(keys))
    for adj in adjustments:
        mask = np.ones(len(keys), dtype=bool)
        for attr, column in match.items():
            wanted = getattr(adj, attr)
            if wanted is not None:
                mask &= (keys[column].astype(str) == str(wanted)).to_numpy()
        start, end = _month(adj.start), _month(adj.end)
        if start is not None:
            mask &= (keys[month_col] >= start).to_numpy()
        if end is not None:
            mask &= (keys[month_col] <= end).to_numpy()
        factor[mask] *= 1 + adj.pct / 100
    return factor


def sku_prices(
    products: pd.DataFrame, months: Sequence[pd.Timestamp], price_changes: Sequence[Adjustment] = ()
) -> pd.DataFrame:
    """Unit price and cost per SKU and month, with price changes applied from their month on.

    Example:
        >>> products = pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_price": [10.0], "unit_cost": [6.0]})
        >>> months = pd.to_datetime(["2026-11-01", "2026-12-01"])
        >>> sku_prices(products, months, [Adjustment(family="F", start="2026-12", pct=10)])["unit_price"].tolist()
        [10.0, 11.0]
    """
    grid = products[["sku", "family", "unit_price", "unit_cost"]].merge(
        pd.DataFrame({"month": pd.DatetimeIndex(months).unique()}), how="cross"
    )
    grid["unit_price"] = grid["unit_price"] * _factor(
        grid, price_changes, "month", {"family": "family", "sku": "sku"}
    )
    return grid.rename(columns={"sku": "unique_id"})[
        ["unique_id", "family", "month", "unit_price", "unit_cost"]
    ]


# ---------------------------------------------------------------- finance
def shipments(inventory_projection: pd.DataFrame) -> pd.DataFrame:
    """Units shipped and late per SKU and month from a projection whose `shortage` is the backlog.

    Backlog is served first when stock comes in, so shipped_t = demand_t + backlog_{t-1} - backlog_t;
    late_t = min(demand_t, backlog_t) is the part of month t's demand not met in month t (the fill
    rate's numerator), and the backlog left in the last month is lost.

    Example:
        >>> proj = pd.DataFrame({"unique_id": "A", "month": pd.to_datetime(["2026-11-01", "2026-12-01"]),
        ...                      "demand": [10.0, 10.0], "shortage": [4.0, 0.0]})
        >>> shipments(proj)[["shipped_units", "late_units"]].values.tolist()
        [[6.0, 4.0], [14.0, 0.0]]
    """
    proj = inventory_projection.copy()
    proj["month"] = pd.to_datetime(proj["month"])
    proj = proj.sort_values(["unique_id", "month"], ignore_index=True)
    backlog = (
        proj["shortage"].fillna(0).clip(lower=0) if "shortage" in proj else pd.Series(0.0, index=proj.index)
    )
    before = backlog.groupby(proj["unique_id"]).shift(fill_value=0.0)
    proj["shipped_units"] = (proj["demand"] + before - backlog).clip(lower=0)
    proj["late_units"] = np.minimum(proj["demand"], backlog)
    return proj


def finance(
    inventory_projection: pd.DataFrame,
    products: pd.DataFrame,
    production: pd.DataFrame,
    settings: SupplyParams,
    capacity: pd.DataFrame | None = None,
    price_changes: Sequence[Adjustment] = (),
) -> pd.DataFrame:
    """Revenue, cost and margin per family and month of one supply plan (definitions in the module doc).

    `production` is the plan of the strategy in use, per family (or per family and resource) and
    month, with `production` and `overtime_hours`; overtime is costed at the resource's
    `capacity.cost_per_hour` (else `settings.cost_per_hour`) times `settings.overtime_premium`.

    Example:
        >>> proj = pd.DataFrame({"unique_id": ["A"], "family": ["F"], "month": [pd.Timestamp("2026-11-01")],
        ...                      "demand": [10.0], "shortage": [2.0], "on_hand": [5.0]})
        >>> prod = pd.DataFrame({"family": ["F"], "month": [pd.Timestamp("2026-11-01")], "production": [8.0],
        ...                      "overtime_hours": [0.0]})
        >>> products = pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_price": [10.0], "unit_cost": [6.0]})
        >>> finance(proj, products, prod, SupplyParams(holding_cost_rate=0.1))[["revenue", "margin"]].iloc[0].tolist()
        [80.0, 29.0]
    """
    sku = shipments(inventory_projection)
    months = sorted(sku["month"].unique())
    prices = sku_prices(products, months, price_changes).drop(columns="family")
    sku = sku.merge(prices, on=["unique_id", "month"], how="left")
    missing = sku.loc[sku["unit_price"].isna(), "unique_id"].unique()
    if len(missing):
        raise ParameterError(
            f"products: no unit_price/unit_cost for SKU(s) {', '.join(map(str, missing[:5]))} "
            "in the inventory projection; add them to the products table"
        )
    sku["demand_revenue"] = sku["demand"] * sku["unit_price"]
    sku["revenue"] = sku["shipped_units"] * sku["unit_price"]
    sku["cogs"] = sku["shipped_units"] * sku["unit_cost"]
    sku["inventory_value"] = sku["on_hand"].clip(lower=0) * sku["unit_cost"]
    sku["holding_cost"] = sku["inventory_value"] * settings.holding_cost_rate
    money = (
        sku.groupby(["family", "month"], as_index=False)[
            [
                "demand",
                "shipped_units",
                "late_units",
                "demand_revenue",
                "revenue",
                "cogs",
                "holding_cost",
                "inventory_value",
            ]
        ]
        .sum()
        .rename(columns={"demand": "demand_units", "late_units": "shortage_units"})
    )

    plan = production.copy()
    plan["month"] = pd.to_datetime(plan["month"])
    overtime = plan["overtime_hours"] if "overtime_hours" in plan else pd.Series(0.0, index=plan.index)
    plan["overtime_cost"] = (
        overtime * _hourly_cost(plan, products, capacity, settings) * settings.overtime_premium
    )
    plan = plan.groupby(["family", "month"], as_index=False)[["production", "overtime_cost"]].sum()
    plan = plan.rename(columns={"production": "production_units"})
    money = money.merge(plan, on=["family", "month"], how="outer").fillna(
        {
            c: 0.0
            for c in (
                "production_units",
                "overtime_cost",
                "demand_units",
                "shipped_units",
                "shortage_units",
                "demand_revenue",
                "revenue",
                "cogs",
                "holding_cost",
                "inventory_value",
            )
        }
    )
    money["cost"] = money["cogs"] + money["overtime_cost"] + money["holding_cost"]
    money["margin"] = money["revenue"] - money["cost"]
    money["margin_pct"] = money["margin"] / money["revenue"].where(money["revenue"] != 0)
    return money.sort_values(["family", "month"], ignore_index=True)


def _hourly_cost(
    plan: pd.DataFrame, products: pd.DataFrame, capacity: pd.DataFrame | None, settings: SupplyParams
) -> np.ndarray:
    """Regular hourly cost per row of a plan: its resource's mean `cost_per_hour`, else the default.

    Rows without a resource column take the resource most of the family's products use.
    """
    if "resource" in plan.columns:
        resource = plan["resource"].astype(str)
    elif "resource" in products.columns:
        main = (
            products.dropna(subset=["resource"])
            .groupby("family")["resource"]
            .agg(lambda s: s.value_counts().index[0])
        )
        resource = plan["family"].map(main)
    else:
        return np.full(len(plan), settings.cost_per_hour)
    if capacity is None or "cost_per_hour" not in capacity.columns:
        return np.full(len(plan), settings.cost_per_hour)
    rate = (
        capacity.assign(resource=capacity["resource"].astype(str)).groupby("resource")["cost_per_hour"].mean()
    )
    return resource.map(rate).fillna(settings.cost_per_hour).to_numpy(dtype=float)


# ---------------------------------------------------------------- gaps
def gaps(money: pd.DataFrame, budget: pd.DataFrame | None) -> pd.DataFrame:
    """Demand vs supply vs budget per family and month, units and money (columns `GAP_COLUMNS`).

    `money` is the output of `finance`; `budget` the input table (`family, month, revenue[, units]`).
    `revenue_gap` = plan revenue (shipped) - budget revenue; NaN where the month has no budget.

    Example:
        >>> money = pd.DataFrame({"family": ["F"], "month": [pd.Timestamp("2026-11-01")], "revenue": [90.0]})
        >>> budget = pd.DataFrame({"family": ["F"], "month": [pd.Timestamp("2026-11-01")], "revenue": [100.0]})
        >>> gaps(money, budget)["revenue_gap"].tolist()
        [-10.0]
    """
    out = money.copy()
    if budget is not None and len(budget):
        b = budget.copy()
        b["month"] = pd.to_datetime(b["month"]).dt.to_period("M").dt.to_timestamp()
        agg = {"budget_revenue": ("revenue", "sum")}
        if "units" in b.columns:
            agg["budget_units"] = ("units", "sum")
        b = b.groupby(["family", "month"], as_index=False).agg(**agg)
        out = out.merge(b, on=["family", "month"], how="left")
    for col in GAP_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["revenue_gap"] = out["revenue"] - out["budget_revenue"]
    return out[GAP_COLUMNS].sort_values(["family", "month"], ignore_index=True)


def family_balance(gap: pd.DataFrame, months: int = 12) -> pd.DataFrame:
    """Revenue per family over the first `months` budgeted months (the first `months` months when
    there is no budget): demand plan, supply plan (shipped) and budget.

    Tidy: `family, measure, value, months` with measure in Demand plan, Supply plan, Budget.
    """
    budgeted = gap.dropna(subset=["budget_revenue"])
    source = budgeted if len(budgeted) else gap
    window = sorted(source["month"].unique())[:months]
    rows = gap[gap["month"].isin(window)]
    sums = rows.groupby("family")[["demand_revenue", "revenue", "budget_revenue"]].sum(min_count=1)
    sums.columns = ["Demand plan", "Supply plan", "Budget"]
    tidy = sums.reset_index().melt(id_vars="family", var_name="measure", value_name="value").dropna()
    tidy["months"] = len(window)
    return tidy


def balance_chart(gap: pd.DataFrame, currency: str = "USD", months: int = 12) -> alt.Chart:
    """Grouped bars per family: demand plan, supply plan (shipped) and budget revenue (`family_balance`)."""
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


# ---------------------------------------------------------------- exceptions
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
    """Exceptions ranked by value at risk: `kind, subject, month, value_at_risk, detail`.

    * overload: hours needed beyond regular + overtime capacity, valued at the resource's revenue
      per hour; one row per resource, month = first overloaded month.
    * shortage: units not served in their month (`shipments`) x unit price, per family.
    * excess: the peak month's excess units x unit cost, per family.
    * budget_gap: budget revenue - plan revenue over the budgeted months, per family, when the plan
      falls short of the budget by more than `budget_tolerance` (a fraction).
    * bias: families whose demand-weighted backtest bias exceeds `bias_limit` (a fraction);
      value = |bias| x the family's planned revenue.

    Example:
        >>> ex = exceptions(gap, supply_plan, products, demand_plan)  # doctest: +SKIP
        >>> ex.columns.tolist()
        ['kind', 'subject', 'month', 'value_at_risk', 'detail']
    """
    frames = _frames(supply_plan)
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


def _money(value: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:,.1f}{suffix}"
    return f"{value:,.0f}"


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
                "detail": f"plan {_money(plan)} vs budget {_money(target)} ({plan / target - 1:+.1%}) "
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


# ---------------------------------------------------------------- scenarios
@dataclass
class ScenarioResult:
    """One scenario: its inputs after the changes, the supply plan and the family finance."""

    scenario: Scenario
    demand_plan: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    supply: object
    money: pd.DataFrame
    production_plan: pd.DataFrame

    @property
    def name(self) -> str:
        return self.scenario.name


@dataclass
class Recommendation:
    """The recommended scenario, the rule that chose it and the reasons as sentences."""

    scenario: str
    rule: str
    reasons: list[str] = field(default_factory=list)


def apply_scenario(
    scenario: Scenario,
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    error_stats: pd.DataFrame | None = None,
    default_lead_time: float = 1.0,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The demand plan, tables and error stats with a scenario's demand, capacity and launch changes.

    Demand changes scale `consensus` (and its intervals); capacity changes scale `hours` and
    `overtime_hours`; launches add the SKU to products, a zero inventory row and a flat demand from
    their month. Price changes act in `finance`. Unknown families, SKUs or resources are errors.

    Example:
        >>> s = Scenario(name="push", demand=[Adjustment(family="F", start="2027-01", pct=15)])
        >>> dp, tables, _ = apply_scenario(s, demand_plan, tables)  # doctest: +SKIP
    """
    _check_scenario(scenario, demand_plan, tables)
    dp = demand_plan.copy()
    dp["ds"] = pd.to_datetime(dp["ds"])
    factor = _factor(dp, scenario.demand, "ds", {"family": "family", "sku": "unique_id"})
    for col in ("consensus", "yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95"):
        if col in dp.columns:
            dp[col] = dp[col] * factor
    out = {k: v.copy() for k, v in tables.items()}
    if scenario.capacity:
        cap = out["capacity"]
        cap["month"] = pd.to_datetime(cap["month"])
        factor = _factor(cap, scenario.capacity, "month", {"resource": "resource"})
        cap["hours"] = cap["hours"] * factor
        if "overtime_hours" in cap.columns:
            cap["overtime_hours"] = cap["overtime_hours"] * factor
    stats = None if error_stats is None else error_stats.copy()
    if scenario.launches:
        dp, out, stats = _launch(scenario.launches, dp, out, stats, default_lead_time)
    return dp, out, stats


def _launch(
    launches: Sequence[Launch],
    dp: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    stats: pd.DataFrame | None,
    default_lead_time: float,
):
    months = sorted(dp["ds"].unique())
    new_rows, products, inventory = [], [], []
    for launch in launches:
        start = _month(launch.start)
        for month in (m for m in months if m >= start):
            units = launch.units_per_month
            row = {
                "unique_id": launch.sku,
                "family": launch.family,
                "ds": month,
                "statistical": 0.0,
                "pipeline": 0.0,
                "consensus": units,
            }
            row.update(
                {c: units for c in ("yhat_lo_80", "yhat_hi_80", "yhat_lo_95", "yhat_hi_95") if c in dp}
            )
            new_rows.append(row)
        products.append(
            {
                "sku": launch.sku,
                "family": launch.family,
                "unit_price": launch.unit_price,
                "unit_cost": launch.unit_cost,
                "resource": launch.resource,
                "hours_per_unit": launch.hours_per_unit,
                "lead_time_months": default_lead_time,
                "status": "launch",
            }
        )
        inventory.append({"sku": launch.sku, "on_hand": 0.0, "safety_stock": 0.0})
    dp = pd.concat([dp, pd.DataFrame(new_rows)], ignore_index=True)
    tables["products"] = pd.concat(
        [
            tables["products"],
            pd.DataFrame(products)[
                [
                    c
                    for c in products[0]
                    if c in tables["products"].columns or c in ("sku", "family", "unit_price", "unit_cost")
                ]
            ],
        ],
        ignore_index=True,
    )
    if "inventory" in tables:
        tables["inventory"] = pd.concat(
            [
                tables["inventory"],
                pd.DataFrame(inventory)[[c for c in inventory[0] if c in tables["inventory"].columns]],
            ],
            ignore_index=True,
        )
    if stats is not None and len(stats):
        # a new product's forecast error is unknown: take the median relative error of the others
        rel = (
            stats["sigma"]
            / dp.groupby("unique_id")["consensus"].mean().reindex(stats["unique_id"]).to_numpy()
        )
        median_rel = float(np.nanmedian(rel.replace([np.inf, -np.inf], np.nan))) if len(rel) else 0.3
        extra = pd.DataFrame(
            [{"unique_id": la.sku, "sigma": median_rel * la.units_per_month} for la in launches]
        )
        stats = pd.concat([stats, extra], ignore_index=True)
    return dp, tables, stats


def _check_scenario(scenario: Scenario, demand_plan: pd.DataFrame, tables: Mapping[str, pd.DataFrame]):
    families = set(demand_plan["family"].astype(str))
    skus = set(demand_plan["unique_id"].astype(str))
    resources = set(tables["capacity"]["resource"].astype(str)) if "capacity" in tables else set()
    where = f"params scenarios '{scenario.name}'"

    def check(section: str, adj: Adjustment, i: int):
        for attr, known in (("family", families), ("sku", skus), ("resource", resources)):
            value = getattr(adj, attr)
            if value is not None and str(value) not in known:
                sample = ", ".join(sorted(known)[:8])
                raise ParameterError(
                    f"{where}: {section}[{i}].{attr} = '{value}' is not in the data "
                    f"(known: {sample}{', ...' if len(known) > 8 else ''}); fix the name"
                )
        if adj.pct < -100:
            raise ParameterError(
                f"{where}: {section}[{i}].pct = {adj.pct} would remove more than everything; "
                "use a percentage of -100 (all of it) or more"
            )
        if adj.start is not None and adj.end is not None and _month(adj.end) < _month(adj.start):
            raise ParameterError(
                f"{where}: {section}[{i}] runs from {adj.start} until {adj.end}; "
                "'until' must not come before 'from'"
            )
        if section == "capacity" and (adj.family is not None or adj.sku is not None):
            raise ParameterError(f"{where}: capacity[{i}] selects by resource only; remove family/sku")

    for section in ("demand", "capacity", "price"):
        for i, adj in enumerate(getattr(scenario, section)):
            check(section, adj, i)
    for i, launch in enumerate(scenario.launches):
        if launch.sku in skus:
            raise ParameterError(
                f"{where}: launches[{i}].sku = '{launch.sku}' already exists; a launch needs a new SKU code"
            )
        if launch.resource is not None and launch.resource not in resources:
            raise ParameterError(
                f"{where}: launches[{i}].resource = '{launch.resource}' is not a resource in "
                f"the capacity table ({', '.join(sorted(resources))})"
            )


def run_scenario(
    scenario: Scenario,
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    p: Params,
    error_stats: pd.DataFrame | None = None,
) -> ScenarioResult:
    """Apply a scenario, re-run supply (`salesops.supply.plan`) and finance on it."""
    from . import supply

    dp, scn_tables, stats = apply_scenario(
        scenario, demand_plan, tables, error_stats, p.supply.default_lead_time_months
    )
    plan = supply.plan(dp, scn_tables, p.supply, error_stats=stats, period=p.period)
    frames = _frames(plan)
    production = _chosen(frames["production_plan"], p.supply.strategy)
    detail = getattr(plan, "groups", None)
    detail = _chosen(detail, p.supply.strategy) if detail is not None else production
    money = finance(
        frames["inventory_projection"],
        scn_tables["products"],
        detail,
        p.supply,
        scn_tables.get("capacity"),
        scenario.price,
    )
    return ScenarioResult(scenario, dp, scn_tables, plan, money, production)


def run_scenarios(
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    p: Params,
    error_stats: pd.DataFrame | None = None,
    scenarios: Sequence[Scenario] | None = None,
) -> dict[str, ScenarioResult]:
    """The baseline and every scenario (default `p.scenarios`), each re-running supply and finance.

    Raises `ParameterError` when a scenario names a family, SKU or resource the data lacks.

    Example:
        >>> results = run_scenarios(demand_plan, tables, p, error_stats)  # doctest: +SKIP
        >>> list(results)[0]
        'baseline'
    """
    scenarios = list(p.scenarios if scenarios is None else scenarios)
    names = [s.name for s in scenarios]
    clash = {BASELINE} & set(names) or {n for n in names if names.count(n) > 1}
    if clash:
        raise ParameterError(
            f"params scenarios: name '{min(clash)}' is used twice or is reserved for the "
            "baseline; give each scenario its own name"
        )
    supply_tables = {k: tables[k] for k in SUPPLY_TABLES if k in tables}
    everything = [Scenario(name=BASELINE, description="the demand plan and capacity as they are")] + scenarios
    return {s.name: run_scenario(s, demand_plan, supply_tables, p, error_stats) for s in everything}


def check_scenarios(
    scenarios: Sequence[Scenario], demand_plan: pd.DataFrame, tables: Mapping[str, pd.DataFrame]
) -> tuple[list[Scenario], dict[str, str]]:
    """Split scenarios into those the data can run and those it cannot (name -> the reason).

    `params/<PERIOD>.yaml` belongs to a period, not to a data set: a scenario about a family the data
    does not have is reported and left out rather than stopping the whole cycle.
    """
    runnable, skipped = [], {}
    for scenario in scenarios:
        try:
            _check_scenario(scenario, demand_plan, tables)
        except ParameterError as exc:
            skipped[scenario.name] = str(exc)
        else:
            runnable.append(scenario)
    return runnable, skipped


def summarise(result: ScenarioResult) -> dict:
    """Totals of one scenario over the horizon: revenue, cost, margin, fill rate, inventory, utilisation."""
    money = result.money
    frames = _frames(result.supply)
    load = frames["capacity_load"]
    proj = frames["inventory_projection"]
    demand = money["demand_units"].sum()
    capacity = load["available_hours"].sum()
    months = max(money["month"].nunique(), 1)
    wos = proj["weeks_of_supply"].replace([np.inf, -np.inf], np.nan) if "weeks_of_supply" in proj else None
    over = (load["required_hours"] - load["available_hours"] - load["overtime_hours"].fillna(0)).clip(lower=0)
    open_ = load[
        load["available_hours"] > 0
    ]  # a closed month (0 hours) has no utilisation; its load is overload
    return {
        "scenario": result.name,
        "description": result.scenario.description,
        "revenue": money["revenue"].sum(),
        "cost": money["cost"].sum(),
        "margin": money["margin"].sum(),
        "margin_pct": money["margin"].sum() / money["revenue"].sum() if money["revenue"].sum() else np.nan,
        "fill_rate": 1 - money["shortage_units"].sum() / demand if demand else np.nan,
        "inventory_value": money["inventory_value"].sum() / months,
        "weeks_of_supply": float(wos.median()) if wos is not None and wos.notna().any() else np.nan,
        "utilisation": load["required_hours"].sum() / capacity if capacity else np.nan,
        "peak_utilisation": float(open_["required_hours"].div(open_["available_hours"]).max())
        if len(open_)
        else np.nan,
        "overload_hours": float(over.sum()),
    }


def compare(
    results: Mapping[str, ScenarioResult],
    service_target: float,
    skipped: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Side-by-side comparison (columns `COMPARISON_COLUMNS`), baseline first, recommended flagged.

    `fill_rate` is the share of demand served in its month (1 - late / demand, as
    `salesops.supply.fill_rate` at SKU level); `inventory_value` the average month-end stock at cost;
    `weeks_of_supply` the median over SKU-months; `utilisation` required / regular hours over all
    resources and months; `peak_utilisation` the highest resource-month. Scenarios in `skipped`
    (name -> reason) get a row with no figures (`ran` False) and the reason as verdict.
    """
    rows = pd.DataFrame([summarise(r) for r in results.values()])
    base = rows.iloc[0]
    rows["revenue_vs_baseline"] = rows["revenue"] - base["revenue"]
    rows["margin_vs_baseline"] = rows["margin"] - base["margin"]
    rows["meets_service"] = rows["fill_rate"] >= service_target - 1e-9
    rec = recommend(rows, service_target)
    rows["recommended"] = rows["scenario"] == rec.scenario
    rows["verdict"] = [_verdict(row, service_target) for row in rows.itertuples()]
    rows["ran"] = True
    if skipped:
        extra = pd.DataFrame(
            [
                {
                    "scenario": name,
                    "description": (descriptions or {}).get(name, ""),
                    "meets_service": False,
                    "recommended": False,
                    "ran": False,
                    "verdict": f"Not run: {reason}",
                }
                for name, reason in skipped.items()
            ]
        )
        rows = pd.concat([rows, extra], ignore_index=True)
    return rows[COMPARISON_COLUMNS]


def _verdict(row, target: float) -> str:
    service = (
        f"fill rate {row.fill_rate:.1%} meets the {target:.0%} target"
        if row.meets_service
        else f"fill rate {row.fill_rate:.1%} misses the {target:.0%} target"
    )
    if row.scenario == BASELINE:
        return f"Baseline: margin {_money(row.margin)}; {service}."
    return (
        f"Margin {row.margin_vs_baseline:+,.0f} vs baseline ({_money(row.margin)}); {service}; "
        f"peak utilisation {row.peak_utilisation:.0%}."
    )


RULE = (
    "the scenario with the highest margin among those whose fill rate meets the service target; "
    "if none meets it, the one with the highest fill rate"
)


def recommend(comparison: pd.DataFrame, service_target: float) -> Recommendation:
    """Pick a scenario by the stated rule (`RULE`) and give the reasons as sentences.

    Example:
        >>> frame = pd.DataFrame({"scenario": ["baseline", "push"], "margin": [10.0, 12.0],
        ...                       "fill_rate": [0.97, 0.96], "revenue": [50.0, 60.0]})
        >>> recommend(frame, 0.95).scenario
        'push'
    """
    if "ran" in comparison.columns:
        comparison = comparison[comparison["ran"].astype(bool)]
    meets = comparison[comparison["fill_rate"] >= service_target - 1e-9]
    base = comparison.iloc[0]
    if len(meets):
        best = meets.sort_values(["margin", "fill_rate"], ascending=False, kind="stable").iloc[0]
        reasons = [
            (
                f"{best['scenario']} has the highest margin ({_money(best['margin'])}) of the "
                f"{len(meets)} scenario(s) that meet the {service_target:.0%} service target "
                f"(fill rate {best['fill_rate']:.1%})."
            )
        ]
        if best["scenario"] != base["scenario"]:
            reasons.append(
                f"It adds {_money(best['margin'] - base['margin'])} margin and "
                f"{_money(best['revenue'] - base['revenue'])} revenue to the baseline."
            )
        failing = comparison[comparison["fill_rate"] < service_target - 1e-9]
        better = failing[failing["margin"] > best["margin"]]
        for row in better.itertuples():
            reasons.append(
                f"{row.scenario} would earn more ({_money(row.margin)}) but its fill rate "
                f"{row.fill_rate:.1%} misses the target."
            )
    else:
        best = comparison.sort_values(["fill_rate", "margin"], ascending=False, kind="stable").iloc[0]
        reasons = [
            (
                f"No scenario meets the {service_target:.0%} service target; {best['scenario']} comes "
                f"closest with a fill rate of {best['fill_rate']:.1%} (margin {_money(best['margin'])})."
            ),
            "Supply needs more capacity or stock to reach the target: see the exceptions.",
        ]
    return Recommendation(str(best["scenario"]), RULE, reasons)


def scenario_plans(results: Mapping[str, ScenarioResult]) -> pd.DataFrame:
    """Family plan of every scenario: `scenario, family, month, demand, production, inventory, backlog,
    revenue, cost, margin` (the approved one becomes the plan of record)."""
    parts = []
    for name, res in results.items():
        plan = res.production_plan.copy()
        plan["month"] = pd.to_datetime(plan["month"])
        keep = [c for c in ("family", "month", "demand", "production", "inventory", "backlog") if c in plan]
        plan = plan[keep].merge(
            res.money[["family", "month", "revenue", "cost", "margin"]], on=["family", "month"], how="left"
        )
        plan.insert(0, "scenario", name)
        parts.append(plan)
    return pd.concat(parts, ignore_index=True)


def scenario_demand(results: Mapping[str, ScenarioResult]) -> pd.DataFrame:
    """SKU demand plan of every scenario: `scenario, unique_id, family, ds, consensus`."""
    return pd.concat(
        [
            r.demand_plan[["unique_id", "family", "ds", "consensus"]].assign(scenario=name)
            for name, r in results.items()
        ],
        ignore_index=True,
    )[["scenario", "unique_id", "family", "ds", "consensus"]]


def comparison_table(comparison: pd.DataFrame, currency: str = "USD"):
    """The comparison as a report table (`salesops.report.table`): money in millions, rates in percent."""
    from .report import table

    c = comparison[comparison["ran"].astype(bool)] if "ran" in comparison.columns else comparison
    frame = pd.DataFrame(
        {
            "Scenario": c["scenario"] + np.where(c["recommended"], " (recommended)", ""),
            f"Revenue ({currency} m)": c["revenue"] / 1e6,
            "vs base": c["revenue_vs_baseline"] / 1e6,
            f"Margin ({currency} m)": c["margin"] / 1e6,
            "vs base ": c["margin_vs_baseline"] / 1e6,
            "Margin %": c["margin_pct"],
            "Fill rate": c["fill_rate"],
            f"Avg stock ({currency} m)": c["inventory_value"] / 1e6,
            "Peak load": c["peak_utilisation"],
            "Meets target": np.where(c["meets_service"], "yes", "no"),
        }
    )
    pct = {"Margin %": ".1%", "Fill rate": ".1%", "Peak load": ".0%"}
    money = {col: ",.2f" for col in frame.columns if "m)" in col}
    return table(frame, formats={**pct, **money, "vs base": "+,.2f", "vs base ": "+,.2f"})


def scenario_notes(comparison: pd.DataFrame) -> list[str]:
    """One sentence per scenario: its name and what it changes."""
    notes = []
    for row in comparison.itertuples():
        if row.scenario == BASELINE:
            continue
        text = f"{row.scenario}: {row.description.rstrip('.')}." if row.description else f"{row.scenario}."
        if not getattr(row, "ran", True):
            text += f" {row.verdict}"
        notes.append(text)
    return notes


# ---------------------------------------------------------------- recommendations
OPTIONS = {
    "overload": [
        "approve overtime or an extra shift",
        "move volume to months with spare capacity",
        "outsource",
        "accept the backlog",
    ],
    "shortage": ["expedite supply", "allocate stock to key customers", "accept late or lost sales"],
    "excess": ["slow production or purchases", "promote to sell through", "keep as a buffer"],
    "budget_gap": ["sales push or promotion", "revise the budget to the plan", "accept and report the gap"],
    "bias": ["correct the forecast", "review the overrides", "watch the tracking signal"],
}


def _title(ex) -> str:
    """A one-line statement of the problem a decision is about, with its size."""
    at_risk = _money(ex.value_at_risk)
    month = f"{pd.Timestamp(ex.month):%Y-%m}"
    return {
        "overload": f"{ex.subject} over capacity from {month} ({at_risk} of sales at risk)",
        "shortage": f"{ex.subject} short of stock from {month} ({at_risk} of sales late)",
        "excess": f"{ex.subject} excess stock peaks in {month} ({at_risk} at cost)",
        "budget_gap": f"{ex.subject} plan below budget ({at_risk} short)",
        "bias": f"{ex.subject} forecast biased ({at_risk} of planned sales)",
    }[ex.kind]


URGENT = {"overload", "shortage"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def decision_id(kind: str, subject: str) -> str:
    """A stable id for the decision an exception needs, e.g. `overload-assembly`."""
    return f"{kind.replace('_', '-')}-{_slug(subject)}"


def recommendations(
    exceptions_frame: pd.DataFrame,
    period_start: pd.Timestamp,
    top: int = 8,
    due_days: int = 14,
    owners: Mapping[str, str] | None = None,
    per_kind: int | None = 3,
) -> pd.DataFrame:
    """Decisions needed: one per exception among the `top` by value at risk (at most `per_kind` of a
    kind, so one kind does not crowd out the others), with owner, due date and options.

    Due `due_days` after the period starts; one week for overloads and shortages that hit in the
    first two months.

    Example:
        >>> ex = pd.DataFrame({"kind": ["overload"], "subject": ["Assembly"], "month": [pd.Timestamp("2027-01-01")],
        ...                    "value_at_risk": [5e5], "detail": ["..."]})
        >>> recommendations(ex, pd.Timestamp("2026-11-01"))[["id", "owner"]].iloc[0].tolist()
        ['overload-assembly', 'Head of Operations']
    """
    owners = {**OWNERS, **(owners or {})}
    ranked = exceptions_frame.sort_values("value_at_risk", ascending=False, kind="stable")
    if per_kind:
        ranked = ranked[ranked.groupby("kind").cumcount() < per_kind]
    head = ranked.head(top)
    rows = []
    for ex in head.itertuples():
        urgent = ex.kind in URGENT and pd.Timestamp(ex.month) <= period_start + pd.DateOffset(months=1)
        due = (period_start + pd.Timedelta(days=7 if urgent else due_days)).date()
        rows.append(
            {
                "id": decision_id(ex.kind, ex.subject),
                "kind": ex.kind,
                "subject": ex.subject,
                "month": ex.month,
                "value_at_risk": ex.value_at_risk,
                "title": _title(ex),
                "owner": owners.get(ex.kind, "S&OP lead"),
                "due": due,
                "options": "; ".join(OPTIONS[ex.kind]),
            }
        )
    out = pd.DataFrame(rows, columns=RECOMMENDATION_COLUMNS)
    out["due"] = pd.to_datetime(out["due"])
    return out


def exceptions_table(exceptions_frame: pd.DataFrame, currency: str = "USD", top: int = 12) -> pd.DataFrame:
    """The top exceptions with readable headings, for the reports."""
    e = exceptions_frame.head(top)
    return pd.DataFrame(
        {
            "Kind": e["kind"].str.replace("_", " "),
            "Subject": e["subject"],
            "From": e["month"].dt.strftime("%Y-%m"),
            f"At risk ({currency})": e["value_at_risk"].map(_money),
            "Detail": e["detail"],
        }
    )


# ---------------------------------------------------------------- the pre-S&OP review
@dataclass
class PreSop:
    """Everything the pre-S&OP review shows and writes; built by `review`."""

    results: dict[str, ScenarioResult]
    gaps: pd.DataFrame
    exceptions: pd.DataFrame
    scenarios: pd.DataFrame
    recommendation: Recommendation
    recommendations: pd.DataFrame
    currency: str = "USD"

    @property
    def scenario_plans(self) -> pd.DataFrame:
        return scenario_plans(self.results)

    @property
    def scenario_demand(self) -> pd.DataFrame:
        return scenario_demand(self.results)

    def by_family(self) -> pd.DataFrame:
        """Horizon totals per family: demand, shipped, budget revenue, gap, margin."""
        g = self.gaps
        budgeted = g["budget_revenue"].notna()
        out = g.groupby("family").agg(
            demand_units=("demand_units", "sum"),
            shipped_units=("shipped_units", "sum"),
            shortage_units=("shortage_units", "sum"),
            revenue=("revenue", "sum"),
            margin=("margin", "sum"),
        )
        out["budget_revenue"] = g[budgeted].groupby("family")["budget_revenue"].sum()
        out["plan_vs_budget"] = g[budgeted].groupby("family")["revenue"].sum() - out["budget_revenue"]
        out["margin_pct"] = out["margin"] / out["revenue"]
        return out.reset_index().sort_values("revenue", ascending=False, ignore_index=True)

    @property
    def skipped(self) -> dict[str, str]:
        """Scenarios the data could not run, with the reason."""
        s = self.scenarios
        return dict(zip(s.loc[~s["ran"], "scenario"], s.loc[~s["ran"], "verdict"])) if "ran" in s else {}

    def headline(self) -> str:
        """One paragraph: the size of the gaps and what is recommended."""
        g = self.gaps
        budgeted = g.dropna(subset=["budget_revenue"])
        fill = (
            1 - g["shortage_units"].sum() / g["demand_units"].sum()
            if g["demand_units"].sum()
            else float("nan")
        )
        parts = [f"Over the next {g['month'].nunique()} months the plan serves {fill:.1%} of demand on time"]
        if len(budgeted):
            plan, target = budgeted["revenue"].sum(), budgeted["budget_revenue"].sum()
            parts.append(
                f"and earns {_money(plan)} {self.currency} against a budget of {_money(target)} "
                f"({plan / target - 1:+.1%}) over the {budgeted['month'].nunique()} budgeted months"
            )
        text = " ".join(parts) + "."
        if len(self.exceptions):
            top = self.exceptions.iloc[0]
            text += (
                f" {len(self.exceptions)} exceptions put {_money(self.exceptions['value_at_risk'].sum())} "
                f"{self.currency} at risk; the largest is {top['kind'].replace('_', ' ')} on {top['subject']} "
                f"({_money(top['value_at_risk'])})."
            )
        text += f" Recommended scenario: {self.recommendation.scenario}."
        if self.skipped:
            text += f" {len(self.skipped)} scenario(s) could not run on this data: {'; '.join(self.skipped.values())}"
        return text


def inputs(ctx) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    """The demand plan, input tables and error stats a pre-S&OP review starts from (from a StepContext)."""
    demand_plan = ctx.read("demand_planning", "demand_plan")
    tables = {name: ctx.table(name) for name in SUPPLY_TABLES}
    try:
        tables["budget"] = ctx.table("budget")
    except DataError:  # no financial plan: gaps and KPIs say "no budget"
        pass
    try:
        error_stats = ctx.read("demand_planning", "error_stats")
    except DataError:  # a run without the backtest: no bias alerts
        error_stats = None
    return demand_plan, tables, error_stats


def review(
    demand_plan: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    p: Params,
    error_stats: pd.DataFrame | None = None,
) -> PreSop:
    """The whole pre-S&OP review: scenarios (baseline first), gaps and exceptions of the baseline,
    the recommended scenario and the decisions needed.

    Example:
        >>> pre = review(*inputs(ctx), p=ctx.p)  # doctest: +SKIP
        >>> pre.recommendation.scenario
        'baseline'
    """
    runnable, skipped = check_scenarios(p.scenarios, demand_plan, tables)
    results = run_scenarios(demand_plan, tables, p, error_stats, [])
    supply_tables = {k: tables[k] for k in SUPPLY_TABLES if k in tables}
    for scenario in runnable:
        try:
            results[scenario.name] = run_scenario(scenario, demand_plan, supply_tables, p, error_stats)
        except PlanError as exc:  # e.g. capacity cut below open production orders: report, keep the others
            skipped[scenario.name] = f"supply planning cannot plan it: {exc}"
    base = results[BASELINE]
    gap = gaps(base.money, tables.get("budget"))
    ex = exceptions(
        gap,
        base.supply,
        base.tables["products"],
        base.demand_plan,
        error_stats,
        p.executive.bias_limit,
        budget_tolerance=p.executive.budget_tolerance,
    )
    comparison = compare(
        results, p.supply.service_level, skipped, {s.name: s.description for s in p.scenarios}
    )
    rec = recommend(comparison, p.supply.service_level)
    recs = recommendations(
        ex, p.period_start, p.executive.top_decisions, p.executive.decision_due_days, p.executive.owners
    )
    return PreSop(results, gap, ex, comparison, rec, recs, p.currency)


def review_context(ctx) -> PreSop:
    """`review` on the inputs of a step context (what notebook 04 calls)."""
    demand_plan, tables, error_stats = inputs(ctx)
    return review(demand_plan, tables, ctx.p, error_stats)


def family_table(by_family: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """`PreSop.by_family()` with readable headings, for the reports."""
    f = by_family
    return pd.DataFrame(
        {
            "Family": f["family"],
            "Demand (units)": f["demand_units"].round(0),
            "Late (units)": f["shortage_units"].round(0),
            f"Revenue ({currency})": f["revenue"].map(_money),
            f"Budget ({currency})": f["budget_revenue"].map(lambda v: "–" if pd.isna(v) else _money(v)),
            "Plan vs budget": (f["plan_vs_budget"] / f["budget_revenue"]).map(
                lambda v: "–" if pd.isna(v) else f"{v:+.1%}"
            ),
            "Margin %": f["margin_pct"].map(lambda v: "–" if pd.isna(v) else f"{v:.1%}"),
        }
    )


def recommendations_table(recs: pd.DataFrame, currency: str = "USD") -> pd.DataFrame:
    """The decisions needed with readable headings, for the reports."""
    return pd.DataFrame(
        {
            "Id": recs["id"],
            "Decision needed": recs["title"],
            "Owner": recs["owner"],
            "Due": pd.to_datetime(recs["due"]).dt.strftime("%Y-%m-%d"),
            "Options": recs["options"],
        }
    )


def monthly_table(gap: pd.DataFrame, currency: str = "USD"):
    """The monthly gaps, main columns only, as a report table (all columns stay in the product)."""
    from .report import table

    frame = gap[
        [
            "family",
            "month",
            "demand_units",
            "shipped_units",
            "budget_units",
            "revenue",
            "budget_revenue",
            "revenue_gap",
            "margin",
        ]
    ].rename(
        columns={
            "family": "Family",
            "month": "Month",
            "demand_units": "Demand",
            "shipped_units": "Shipped",
            "budget_units": "Budget units",
            "revenue": f"Revenue ({currency})",
            "budget_revenue": f"Budget ({currency})",
            "revenue_gap": "vs budget",
            "margin": f"Margin ({currency})",
        }
    )
    return table(frame, formats={c: ",.0f" for c in frame.columns[2:]}, max_rows=36)
