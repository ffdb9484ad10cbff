"""The supply planning step: what it reads (the demand plan, forecast error, the input tables) and `run`."""

from __future__ import annotations

import pandas as pd

from .planning import SupplyPlan, plan

TABLES = ("products", "inventory", "capacity", "supply")


def inputs(ctx) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    """What supply planning reads, from the step context.

    Args:
        ctx: The supply planning step's context.

    Returns:
        `(demand_plan, tables, error_stats)` for `plan`: `error_stats` is None when demand planning
        wrote none (safety stock then falls back, see `plan`); optional tables that are missing come
        back empty (`products` is required).

    Example:
        >>> demand_plan, tables, error_stats = inputs(ctx)   # doctest: +SKIP
    """
    demand_plan = ctx.read("demand_planning", "demand_plan")
    error_stats = ctx.read("demand_planning", "error_stats", default=None)
    tables = {"products": ctx.table("products")}
    for name in TABLES[1:]:
        tables[name] = ctx.table(name, default=pd.DataFrame())
    return demand_plan, tables, error_stats


def run(ctx) -> SupplyPlan:
    """Step 3: capacity load, the three production strategies and the SKU inventory projection.

    Args:
        ctx: The supply planning step's context.

    Returns:
        The `SupplyPlan`; `ctx.save(sp)` writes its products.

    Raises:
        PlanError: No plan can be made (names the resource and the month).

    Example:
        >>> sp = run(ctx)          # doctest: +SKIP
        >>> ctx.save(sp)           # doctest: +SKIP
    """
    demand_plan, tables, error_stats = inputs(ctx)
    backtest = ctx.read("demand_planning", "backtest", default=None)
    return plan(
        demand_plan, tables, ctx.p.supply, error_stats=error_stats, period=ctx.p.period, backtest=backtest
    )
