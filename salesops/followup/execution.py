"""Was the plan carried out: plan adherence, estimated service, and stock on hand against target.

`deviation_pct`, `fill_rate` and `service_level` are fractions (0.95, not 95).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._frames import TOTAL, empty, period_start
from .past_plans import PastPlans

__all__ = [
    "ADHERENCE_COLUMNS",
    "INVENTORY_COLUMNS",
    "SERVICE_COLUMNS",
    "inventory_vs_target",
    "plan_adherence",
    "service_levels",
]

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


def _families(products: pd.DataFrame | None) -> pd.Series:
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
        return empty(columns)
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

    Args:
        plans: The earlier cycles' plans (`load_past_plans`).
        history: `unique_id, ds, y` monthly actuals.
        supply: The snapshot's supply table (`sku, month, quantity[, kind]`), or None.
        products: The snapshot's products table (`sku, family`), or None.
        period: The current period (`YYYY-MM`); months from it on are not compared.

    Returns:
        `ADHERENCE_COLUMNS`: `deviation` = actual - planned (units), `deviation_pct` = deviation /
        planned (a fraction).

    Example:
        >>> plan_adherence(plans, history, ctx.table("supply"), ctx.table("products"), "2026-11")  # doctest: +SKIP
    """
    start = period_start(period)
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
        return empty(ADHERENCE_COLUMNS)
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
    it records replace the planned `supply`. Then per SKU filled = min(actual demand, available);
    fill rate = sum filled / sum demand; service level = share of SKUs with demand served in full.

    Args:
        plans: The earlier cycles' plans (`load_past_plans`).
        history: `unique_id, ds, y` monthly actuals.
        supply: The snapshot's supply table (`sku, month, quantity`), or None.
        period: The current period (`YYYY-MM`); months from it on are not estimated.

    Returns:
        `SERVICE_COLUMNS`; `fill_rate` and `service_level` are fractions.

    Example:
        >>> service_levels(plans, history, ctx.table("supply"), "2026-11").query("family == 'Total'")  # doctest: +SKIP
    """
    start = period_start(period)
    projection = _lag1(plans.projection, "month")
    needed = {"unique_id", "month", "on_hand", "demand"}
    if projection.empty or history.empty or not needed <= set(projection.columns):
        return empty(SERVICE_COLUMNS)
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
        return empty(SERVICE_COLUMNS)
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
    cycle's projection planned for the month before `period`. `planned_on_hand` = the closing stock
    the previous cycle planned for that month.

    Args:
        inventory: The snapshot's inventory table (`sku, on_hand[, safety_stock]`), or None.
        products: The snapshot's products table (`sku, family`), or None.
        plans: The earlier cycles' plans (`load_past_plans`).
        period: The current period (`YYYY-MM`).

    Returns:
        `INVENTORY_COLUMNS`, one row per family and a `Total` row (units); empty without inventory.

    Example:
        >>> inventory_vs_target(ctx.table("inventory"), ctx.table("products"), plans, "2026-11")  # doctest: +SKIP
    """
    if inventory is None or inventory.empty or not {"sku", "on_hand"} <= set(inventory.columns):
        return empty(INVENTORY_COLUMNS)
    families = _families(products)
    sums = {"on_hand": ("on_hand", "sum")}
    if "safety_stock" in inventory.columns:
        sums["target"] = ("safety_stock", "sum")
    stock = (
        inventory.assign(unique_id=inventory["sku"].astype(str))
        .groupby("unique_id", as_index=False)
        .agg(**sums)
    )
    last_month = period_start(period) - pd.DateOffset(months=1)
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
