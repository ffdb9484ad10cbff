"""Money of a supply plan, and the gaps between demand, supply and budget.

Money follows one definition everywhere (`finance`):

* revenue   = shipped units x unit price (after price changes); shipped = demand + backlog served - new
  backlog (`shipments`); backlog left at the end of the horizon is a lost sale
* cogs      = shipped units x unit cost
* overtime  = overtime hours x hourly cost x overtime premium (regular labour is inside unit cost)
* holding   = on-hand units x unit cost x holding cost rate, each month
* margin    = revenue - cogs - overtime - holding
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..exceptions import ParameterError
from ..params import Adjustment, SupplyParams
from ._common import adjustment_factor

__all__ = ["GAP_COLUMNS", "family_balance", "finance", "gaps", "shipments", "sku_prices"]

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


def sku_prices(
    products: pd.DataFrame, months: Sequence[pd.Timestamp], price_changes: Sequence[Adjustment] = ()
) -> pd.DataFrame:
    """Unit price and cost per SKU and month, with price changes applied from their month on.

    Args:
        products: The products table (`sku, family, unit_price, unit_cost`).
        months: The months to price.
        price_changes: Percentage price changes by family or SKU, each from/until a month.

    Returns:
        `unique_id, family, month, unit_price, unit_cost`, one row per SKU and month.

    Example:
        >>> products = pd.DataFrame({"sku": ["A"], "family": ["F"], "unit_price": [10.0], "unit_cost": [6.0]})
        >>> months = pd.to_datetime(["2026-11-01", "2026-12-01"])
        >>> sku_prices(products, months, [Adjustment(family="F", start="2026-12", pct=10)])["unit_price"].tolist()
        [10.0, 11.0]
    """
    grid = products[["sku", "family", "unit_price", "unit_cost"]].merge(
        pd.DataFrame({"month": pd.DatetimeIndex(months).unique()}), how="cross"
    )
    grid["unit_price"] = grid["unit_price"] * adjustment_factor(
        grid, price_changes, "month", {"family": "family", "sku": "sku"}
    )
    return grid.rename(columns={"sku": "unique_id"})[
        ["unique_id", "family", "month", "unit_price", "unit_cost"]
    ]


def shipments(inventory_projection: pd.DataFrame) -> pd.DataFrame:
    """Units shipped and late per SKU and month from a projection whose `shortage` is the backlog.

    Backlog is served first when stock comes in, so shipped_t = demand_t + backlog_{t-1} - backlog_t;
    late_t = min(demand_t, backlog_t) is the part of month t's demand not met in month t (the fill
    rate's numerator), and the backlog left in the last month is lost.

    Args:
        inventory_projection: `unique_id, month, demand` and optionally `shortage` (the backlog).

    Returns:
        The projection sorted by SKU and month, with `shipped_units` and `late_units` added.

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

    Overtime is costed at the resource's `capacity.cost_per_hour` (else `settings.cost_per_hour`)
    times `settings.overtime_premium`.

    Args:
        inventory_projection: The SKU projection of the plan (`unique_id, family, month, demand,
            shortage, on_hand`).
        products: The products table (`sku, family, unit_price, unit_cost[, resource]`).
        production: The plan of the strategy in use, per family (or per family and resource) and
            month, with `production` and `overtime_hours`.
        settings: The supply parameters (holding cost rate, overtime premium, default hourly cost).
        capacity: The capacity table, for each resource's `cost_per_hour`.
        price_changes: Percentage price changes (`sku_prices`).

    Returns:
        One row per family and month: units, revenue, cogs, overtime, holding, cost, margin,
        margin_pct and inventory value.

    Raises:
        ParameterError: A SKU of the projection has no price in the products table.

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
    if "overtime_cost" not in plan:  # a supply plan's own overtime cost (each resource-month's rate) wins
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


def gaps(money: pd.DataFrame, budget: pd.DataFrame | None) -> pd.DataFrame:
    """Demand vs supply vs budget per family and month, units and money.

    `revenue_gap` = plan revenue (shipped) - budget revenue; NaN where the month has no budget.

    Args:
        money: The output of `finance`.
        budget: The budget input table (`family, month, revenue[, units]`), or None.

    Returns:
        The columns `GAP_COLUMNS`, sorted by family and month.

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
    """Revenue per family of the demand plan, the supply plan (shipped) and the budget.

    Sums the first `months` budgeted months (the first `months` months when there is no budget).

    Args:
        gap: The output of `gaps`.
        months: How many months to sum.

    Returns:
        Tidy `family, measure, value, months`, with measure in Demand plan, Supply plan, Budget.
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
