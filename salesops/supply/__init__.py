"""Supply planning (step 3): rough-cut capacity, chase / level / cost-optimal production plans, and the
SKU inventory projection with safety stock. `plan` is pure and fast: the pre-S&OP scenarios re-run it.

The step's entry point is `run(ctx)`; `plan(...)` is the pure function behind it.

Example:
    >>> import salesops as so
    >>> sp = so.supply.plan(demand_plan, tables, p.supply, error_stats, period=p.period)   # doctest: +SKIP
    >>> sp.strategy_summary                                                                  # doctest: +SKIP
"""

from .planning import (
    STRATEGIES,
    SupplyPlan,
    excess,
    fill_rate,
    forward_demand,
    lead_time_errors,
    net_positions,
    net_requirements,
    overload_drivers,
    plan,
    risk_by_sku,
    safety_stock,
    shortages,
    weeks_of_supply,
)
from .sku import Problem, Solution, chase, evaluate, fit_hours, level, optimal, solve_optimal, to_lots
from .step import inputs, run

__all__ = [
    "STRATEGIES",
    "Problem",
    "Solution",
    "SupplyPlan",
    "chase",
    "evaluate",
    "excess",
    "fill_rate",
    "fit_hours",
    "forward_demand",
    "inputs",
    "lead_time_errors",
    "level",
    "net_positions",
    "net_requirements",
    "optimal",
    "overload_drivers",
    "plan",
    "risk_by_sku",
    "run",
    "safety_stock",
    "shortages",
    "solve_optimal",
    "to_lots",
    "weeks_of_supply",
]


def __getattr__(name: str):
    # report helpers load on first use, so `plan` stays free of Altair
    if name in ("charts", "views"):
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'salesops.supply' has no attribute '{name}'")
