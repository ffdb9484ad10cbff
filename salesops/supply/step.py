"""What the supply planning step reads: the demand plan, forecast error and the input tables."""

from __future__ import annotations

import pandas as pd

from ..exceptions import DataError

TABLES = ("products", "inventory", "capacity", "supply")


def inputs(ctx) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], pd.DataFrame | None]:
    """`(demand_plan, tables, error_stats)` for `plan`, from the step context.

    `error_stats` is None when demand planning wrote none (safety stock then falls back, see `plan`);
    optional tables that are missing come back empty.

    Example:
        >>> demand_plan, tables, error_stats = inputs(ctx)   # doctest: +SKIP
    """
    demand_plan = ctx.read("demand_planning", "demand_plan")
    try:
        error_stats = ctx.read("demand_planning", "error_stats")
    except DataError:
        error_stats = None
    tables = {}
    for name in TABLES:
        try:
            tables[name] = ctx.table(name)
        except DataError:
            if name == "products":
                raise
            tables[name] = pd.DataFrame()
    return demand_plan, tables, error_stats
